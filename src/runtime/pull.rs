//! Pulling images: one clear message per image that cannot be had.

use bollard::query_parameters::CreateImageOptionsBuilder;
use bollard::Docker;
use futures::StreamExt;

use super::engine::{EngineError, ErrorKind};
use super::progress::{event, Reporter, Status};

/// Pulls `image`, reporting progress as `Image <name>`.
pub async fn pull(docker: &Docker, report: &Reporter, image: &str) -> Result<(), EngineError> {
    let res = format!("Image {image}");
    report(event(&res, Status::Working, "Pulling"));
    let (name, tag) = split(image);
    let opts = CreateImageOptionsBuilder::default()
        .from_image(name)
        .tag(tag)
        .build();
    let mut stream = docker.create_image(Some(opts), None, None);
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            let why = EngineError::from_bollard("pull", e).message;
            report(event(&res, Status::Error, "Error"));
            return Err(EngineError::new(
                ErrorKind::NotFound,
                format!(
                    "pulling image `{image}` failed: {}",
                    why.trim_start_matches("pull: ")
                ),
            ));
        }
    }
    report(event(&res, Status::Done, "Pulled"));
    Ok(())
}

/// `name[:tag]` (or `name@digest`) into the name and the tag the engine wants.
fn split(image: &str) -> (&str, &str) {
    if image.contains('@') {
        return (image, "");
    }
    match image.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (image, "latest"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_tags() {
        assert_eq!(super::split("busybox"), ("busybox", "latest"));
        assert_eq!(
            super::split("127.0.0.1:5000/x"),
            ("127.0.0.1:5000/x", "latest")
        );
        assert_eq!(
            super::split("127.0.0.1:5000/x:1.2"),
            ("127.0.0.1:5000/x", "1.2")
        );
    }
}
