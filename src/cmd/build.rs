//! `rcompose build [SERVICE...]`: build the images of services that have a `build` section.

use clap::Args;

use super::{CliError, Context};
use crate::runtime::BuildOptions;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Do not use the build cache
    #[arg(long)]
    pub no_cache: bool,
    /// Always try to pull newer versions of the base images
    #[arg(long)]
    pub pull: bool,
    /// Set a build argument (repeatable; `KEY` alone takes it from the environment)
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Do not show the build output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Services to build; all with a `build` section when none
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub(super) async fn run(ctx: &Context, args: BuildArgs) -> Result<(), CliError> {
    let project = ctx.load(&args.services)?;
    for s in &args.services {
        if !project.services.contains_key(s) {
            return Err(CliError::NoSuchService(s.clone()));
        }
    }
    let build_args = args
        .build_args
        .iter()
        .filter_map(|a| match a.split_once('=') {
            Some((k, v)) => Some((k.to_string(), v.to_string())),
            None => std::env::var(a).ok().map(|v| (a.clone(), v)),
        })
        .collect();
    let opts = BuildOptions {
        no_cache: args.no_cache,
        pull: args.pull,
        args: build_args,
        verbose: !args.quiet,
    };
    let (rt, renderer) = ctx.runtime().await?;
    let out = rt.build(&project, &args.services, false, &opts).await;
    renderer.finish();
    Ok(out?)
}
