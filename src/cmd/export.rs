//! `rcompose export SERVICE`: a service container's filesystem as a tar archive.

use clap::Args;
use futures::StreamExt;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use super::{CliError, Context};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The container number of the service when it has several
    #[arg(long, default_value_t = 1)]
    pub index: u64,
    /// Write to a file, instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    pub service: String,
}

fn write_error(e: std::io::Error) -> CliError {
    CliError::new(format!("writing the archive: {e}"))
}

pub(super) async fn run(ctx: &Context, args: ExportArgs) -> Result<(), CliError> {
    let (project, _) = ctx.project_or_name()?;
    if args.output.is_none() && std::io::stdout().is_terminal() {
        return Err(CliError::new(
            "refusing to write a tar archive to a terminal: use -o FILE or redirect the output",
        ));
    }
    let (rt, renderer) = ctx.runtime().await?;
    let container =
        Context::service_container(&rt, &project.name, &args.service, args.index).await?;
    let to = args
        .output
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut stream = rt.export(&container, &to);
    // A file is written beside its target and renamed once complete: never half an archive.
    let partial = args.output.as_ref().map(|p| {
        let mut name = p.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        p.with_file_name(name)
    });
    let mut file = match &partial {
        Some(path) => Some(
            std::fs::File::create(path)
                .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let result: Result<(), CliError> = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            match file.as_mut() {
                Some(f) => f.write_all(&chunk).map_err(write_error)?,
                None => super::out::write_bytes(&chunk)?,
            }
        }
        Ok(())
    }
    .await;
    renderer.finish();
    if let (Some(partial), Some(path)) = (&partial, &args.output) {
        if result.is_err() {
            let _ = std::fs::remove_file(partial);
        } else {
            std::fs::rename(partial, path)
                .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
        }
    }
    result
}
