//! `rcompose watch` (and the watch of `up --watch`): bring the services up, then act on file
//! changes as their `develop.watch` rules say, until Ctrl-C (exit 130, the stack left running).

use clap::Args;
use std::sync::Arc;

use super::{warn, CliError, Context, ProgressMode};
use crate::graph::reconcile::UpPlanOptions;
use crate::graph::{self, ServiceGraph};
use crate::parse::develop::{self, Develop};
use crate::parse::Project;
use crate::runtime::{
    Error, ProjectLock, Runtime, UpOptions, WatchEvent, WatchLock, WatchOptions, WatchReporter,
};

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Do not build & start services before watching
    #[arg(long)]
    pub no_up: bool,
    /// Prune dangling images on rebuild
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "BOOL")]
    pub prune: bool,
    /// Hide build output
    #[arg(long)]
    pub quiet: bool,
    /// Services to watch (with their dependencies brought up); all with a `develop` section when none
    pub services: Vec<String>,
}

/// One line on standard output (a closed pipe is ignored: watching goes on).
fn line(text: &str) {
    let _ = super::out::write(&format!("{text}\n"));
}

/// What watch prints: its lines on standard output as the reference's, warnings and failures
/// on standard error.
pub(super) fn reporter() -> WatchReporter {
    Arc::new(|e| match e {
        WatchEvent::Enabled => line("Watch enabled"),
        WatchEvent::Syncing { service, changes } => line(&format!(
            "Syncing service {service:?} after {changes} changes were detected"
        )),
        WatchEvent::Rebuilding { services } => line(&format!(
            "Rebuilding service(s) {services:?} after changes were detected..."
        )),
        WatchEvent::Restarted { service } => line(&format!("service(s) [{service:?}] restarted")),
        WatchEvent::Warning(w) => warn::warn(&w),
        WatchEvent::Failed(f) => eprintln!("watch: {f}"),
    })
}

/// The rules to watch, or the reference's error when no selected service has any.
pub(super) fn rules(
    project: &Project,
    services: &[String],
) -> Result<Vec<(String, Develop)>, CliError> {
    develop::watched(project, services).map_err(CliError::new)
}

/// A runtime for the watch phase: progress one line per event (a rebuild's build and
/// recreation), whatever the terminal, so it mixes with the watch's own lines.
pub(super) fn watch_runtime(ctx: &Context, rt: &Runtime) -> Runtime {
    let mode = match ctx.progress {
        ProgressMode::Quiet | ProgressMode::Json => ctx.progress,
        _ => ProgressMode::Plain,
    };
    let mut rt = rt.clone();
    rt.report = super::progress::Renderer::new(mode).reporter();
    rt
}

pub(super) async fn run(ctx: &Context, args: WatchArgs) -> Result<(), CliError> {
    let project = ctx.load(&args.services)?;
    crate::parse::validate::runnable(&project).map_err(CliError::new)?;
    if let Err(c) = ServiceGraph::of(&project) {
        return Err(super::up::cycle_error(&project, &c));
    }
    let develop = rules(&project, &args.services)?;
    let project = Arc::new(project);
    let _watching = WatchLock::try_acquire(&project.name)?;
    let (rt, renderer) = ctx.runtime().await?;
    if !args.no_up {
        let lock = ProjectLock::acquire(&project.name).await?;
        let selected = graph::select(&project, &args.services, true).unwrap_or_default();
        if !ctx.args.dry_run {
            let builder = if args.quiet { rt.quiet() } else { rt.clone() };
            let built = builder
                .build(&project, &selected, true, &Default::default())
                .await;
            if let Err(e) = built {
                renderer.finish();
                return Err(e.into());
            }
        }
        let opts = UpOptions {
            plan: UpPlanOptions {
                services: args.services.clone(),
                ..Default::default()
            },
            dry_run: ctx.args.dry_run,
            ..Default::default()
        };
        let up = rt.up_locked(project.clone(), &opts, Some(lock)).await;
        renderer.finish();
        match up {
            Ok(plan) => {
                for w in &plan.warnings {
                    warn::warn(w);
                }
            }
            Err(Error::Cycle(c)) => return Err(super::up::cycle_error(&project, &c)),
            Err(e) => return Err(e.into()),
        }
    }
    renderer.finish();
    let wrt = watch_runtime(ctx, &rt);
    let opts = WatchOptions {
        prune: args.prune,
        quiet_build: args.quiet,
        ..Default::default()
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::new(format!("cannot listen for SIGTERM: {e}")))?;
    tokio::select! {
        r = wrt.watch(project.clone(), develop, opts, reporter()) => r.map_err(CliError::from),
        _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
        _ = term.recv() => Err(CliError::Interrupted),
    }
}
