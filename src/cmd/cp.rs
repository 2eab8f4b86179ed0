//! `rcompose cp`: files between a service container and this machine.

use clap::Args;
use futures::StreamExt;
use std::io::Read;
use std::path::PathBuf;

use super::{CliError, Context};

#[derive(Debug, Args)]
pub struct CpArgs {
    /// The container number of the service when it has several
    #[arg(long, default_value_t = 1)]
    pub index: u64,
    /// Copy to or from every container of the service
    #[arg(long)]
    pub all: bool,
    /// Accepted for compatibility
    #[arg(short = 'L', long, hide = true)]
    pub follow_link: bool,
    /// Accepted for compatibility
    #[arg(short = 'a', long, hide = true)]
    pub archive: bool,
    /// `SERVICE:SRC_PATH` or a local path
    pub source: String,
    /// A local path or `SERVICE:DEST_PATH`
    pub destination: String,
}

/// `service:/path` split, when the part before the colon is not a local path.
fn remote(spec: &str) -> Option<(&str, &str)> {
    let (svc, path) = spec.split_once(':')?;
    (!svc.is_empty() && !svc.contains('/') && !svc.starts_with('.')).then_some((svc, path))
}

pub(super) async fn run(ctx: &Context, args: CpArgs) -> Result<(), CliError> {
    let (project, _) = ctx.project_or_name()?;
    let (from, to) = (remote(&args.source), remote(&args.destination));
    let (service, container_path) = match (from, to) {
        (Some(f), None) => f,
        (None, Some(t)) => t,
        _ => {
            return Err(CliError::new(
                "cp copies between a service and this machine: one of SOURCE and DESTINATION must be SERVICE:PATH, the other a local path",
            ))
        }
    };
    let (rt, _) = ctx.runtime().await?;
    let rows = rt.ps(&project.name, true).await?;
    let targets: Vec<_> = rows
        .iter()
        .filter(|r| r.service == service && (args.all || r.number == args.index))
        .collect();
    if targets.is_empty() {
        return Err(CliError::new(format!(
            "no container found for service \"{service}\""
        )));
    }
    // `cp - SERVICE:PATH`: a tar stream from standard input, read once for every target.
    let stdin_tar = match args.source.as_str() {
        "-" => {
            let mut tar = Vec::new();
            std::io::stdin().read_to_end(&mut tar).map_err(|e| {
                CliError::new(format!("reading a tar stream from standard input: {e}"))
            })?;
            Some(tar)
        }
        _ => None,
    };
    for c in targets {
        if from.is_some() && args.destination == "-" {
            // A tar stream to standard output, as `docker cp CONTAINER:PATH -` writes it.
            let mut tar = rt.copy_out_tar(&c.name, container_path);
            while let Some(chunk) = tar.next().await {
                super::out::write_bytes(&chunk?)?;
            }
        } else if let Some(tar) = &stdin_tar {
            rt.copy_in_tar(&c.name, container_path, tar.clone()).await?;
        } else if from.is_some() {
            let dest = PathBuf::from(&args.destination);
            rt.copy_from(&c.name, container_path, &dest).await?;
        } else {
            let src = PathBuf::from(&args.source);
            if !src.exists() {
                return Err(CliError::new(format!(
                    "cannot copy {}: no such file or folder",
                    src.display()
                )));
            }
            rt.copy_to(&c.name, &src, container_path).await?;
        }
    }
    Ok(())
}
