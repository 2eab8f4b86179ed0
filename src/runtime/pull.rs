//! Pulling images: one clear message per image that cannot be had.

use futures::StreamExt;

use super::engine::{Engine, EngineError, ErrorKind};
use super::progress::{event, Reporter, Status};

/// Pulls `image`, reporting progress as `Image <name>`.
pub(super) async fn pull(
    engine: &dyn Engine,
    report: &Reporter,
    image: &str,
) -> Result<(), EngineError> {
    let res = format!("Image {image}");
    report(event(&res, Status::Working, "Pulling"));
    let (name, tag) = split(image);
    let mut stream = engine.pull_image(name, tag);
    while let Some(item) = stream.next().await {
        if let Err(why) = item {
            report(event(&res, Status::Error, "Error"));
            return Err(EngineError::new(
                ErrorKind::NotFound,
                format!("pulling image `{image}` failed: {why}"),
            ));
        }
    }
    report(event(&res, Status::Done, "Pulled"));
    Ok(())
}

/// Pushes `image`, reporting progress as the reference does (`Pushing`, `Pushed`).
pub(super) async fn push(
    engine: &dyn Engine,
    report: &Reporter,
    image: &str,
) -> Result<(), EngineError> {
    let res = format!("Image {image}");
    report(event(&res, Status::Working, "Pushing"));
    let (name, tag) = split(image);
    let mut stream = engine.push_image(name, tag);
    while let Some(item) = stream.next().await {
        if let Err(why) = item {
            report(event(&res, Status::Error, "Error"));
            return Err(EngineError::new(
                why.kind,
                format!("pushing image `{image}` failed: {why}"),
            ));
        }
    }
    report(event(&res, Status::Done, "Pushed"));
    Ok(())
}

/// `name[:tag]` (or `name@digest`) into the name and the tag the engine wants.
pub(super) fn split(image: &str) -> (&str, &str) {
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
