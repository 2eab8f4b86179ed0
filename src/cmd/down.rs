//! `rcompose down`.

use clap::Args;

use super::{CliError, Context};
use crate::runtime::ProjectLock;
use crate::runtime::{DownOptions, RemoveImages};

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Remove named volumes declared in the file and anonymous volumes of the containers
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Seconds to wait for each container to stop before killing it
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<i64>,
    /// Also remove containers of services not in the file, and one-off containers
    /// [env: COMPOSE_REMOVE_ORPHANS]
    #[arg(long, env = "COMPOSE_REMOVE_ORPHANS", hide_env = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub remove_orphans: bool,
    /// Remove images used by services: "local" only those without a custom tag, or "all"
    #[arg(long, value_name = "TYPE", value_parser = ["local", "all"])]
    pub rmi: Option<String>,
}

pub(super) async fn run(ctx: &Context, args: DownArgs) -> Result<(), CliError> {
    let (project, has_model) = ctx.project_or_name()?;
    let remove_orphans = args.remove_orphans;
    let (rt, renderer) = ctx.runtime().await?;
    let opts = DownOptions {
        volumes: args.volumes,
        remove_orphans,
        timeout: args.timeout,
        stop_only: false,
        images: match args.rmi.as_deref() {
            Some("all") => Some(RemoveImages::All),
            Some(_) => Some(RemoveImages::Local),
            None => None,
        },
        dry_run: false,
    };
    let _lock = ProjectLock::acquire(&project.name).await?;
    let out = rt.down(project, has_model, &opts).await;
    renderer.finish();
    out?;
    Ok(())
}
