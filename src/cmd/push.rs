//! `rcompose push [SERVICE...]`: the images of services that build one, to their registries.

use clap::Args;

use super::{CliError, Context};

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Push what can be pushed; report the images that could not be
    #[arg(long)]
    pub ignore_push_failures: bool,
    /// Also push the images of the services these depend on
    #[arg(long)]
    pub include_deps: bool,
    /// Push without printing progress
    #[arg(short = 'q', long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

pub(super) async fn run(ctx: &Context, args: PushArgs) -> Result<(), CliError> {
    let project = ctx.load(&args.services)?;
    let (rt, renderer) = ctx.runtime().await?;
    let rt = if args.quiet { rt.quiet() } else { rt };
    let mut services = args.services.clone();
    if args.include_deps && !services.is_empty() {
        if let Ok(g) = crate::graph::ServiceGraph::of(&project) {
            services = g.with_dependencies(&services);
        }
    }
    let out = rt
        .push(&project, &services, args.ignore_push_failures)
        .await;
    renderer.finish();
    out?;
    Ok(())
}
