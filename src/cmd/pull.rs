//! `rcompose pull [SERVICE...]`: pull the services' images.

use clap::Args;

use super::{CliError, Context};

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Do not show progress
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Report images that cannot be pulled, and go on
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// Skip services that have a `build` section
    #[arg(long)]
    pub ignore_buildable: bool,
    /// Also pull the images of the services' dependencies
    #[arg(long)]
    pub include_deps: bool,
    /// Pull "always", or only the "missing" images
    #[arg(long, value_name = "POLICY", value_parser = ["missing", "always"])]
    pub policy: Option<String>,
    /// Services whose images to pull; all when none
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub(super) async fn run(ctx: &Context, args: PullArgs) -> Result<(), CliError> {
    let project = ctx.load(&args.services)?;
    let mut services = crate::graph::select(&project, &args.services, args.include_deps)
        .map_err(|c| super::up::cycle_error(&project, &c))?;
    let (rt, renderer) = ctx.runtime().await?;
    let rt = if args.quiet { rt.quiet() } else { rt };
    if args.policy.as_deref() == Some("missing") {
        let have = rt.image_ids(&project).await;
        if services.is_empty() {
            services = project.services.keys().cloned().collect();
        }
        services.retain(|s| !have.contains_key(s));
        if services.is_empty() {
            renderer.finish();
            return Ok(());
        }
    }
    let out = rt
        .pull(
            &project,
            &services,
            args.ignore_buildable,
            args.ignore_pull_failures,
        )
        .await;
    renderer.finish();
    for warning in out? {
        super::warn::warn(&warning);
    }
    Ok(())
}
