//! `rcompose wait SERVICE...`: block until the services' containers stop; exit with the code of
//! the one that stopped last.

use clap::Args;
use futures::stream::{FuturesUnordered, StreamExt};

use super::out::outln;
use super::{CliError, Context};
use crate::runtime::DownOptions;

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Take the project down when the containers have stopped
    #[arg(long)]
    pub down_project: bool,
    #[arg(required = true, value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub(super) async fn run(ctx: &Context, args: WaitArgs) -> Result<(), CliError> {
    let (project, has_model) = ctx.project_or_name()?;
    if has_model {
        for s in &args.services {
            if !project.services.contains_key(s) {
                return Err(CliError::NoSuchService(s.clone()));
            }
        }
    }
    let (rt, renderer) = ctx.runtime().await?;
    let rows = rt.ps(&project.name, true).await?;
    let mut waits: FuturesUnordered<_> = rows
        .iter()
        .filter(|r| args.services.contains(&r.service))
        .map(|r| {
            let rt = rt.clone();
            let id = r.id.clone();
            async move {
                let code = rt.exit_code(&id).await;
                (id, code)
            }
        })
        .collect();
    let mut last = 0;
    while let Some((id, code)) = waits.next().await {
        outln!("container \"{id}\" exited with status code {code}")?;
        last = code;
    }
    if args.down_project {
        let out = rt.down(project, has_model, &DownOptions::default()).await;
        renderer.finish();
        out?;
    }
    match last {
        0 => Ok(()),
        c => Err(CliError::Exit(c as i32)),
    }
}
