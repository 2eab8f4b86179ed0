//! `create`, `start`, `stop`, `restart`, `kill`, `rm`, `pause`, `unpause`: one plan each over the
//! containers that exist, in dependency order.

use clap::Args;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use super::{CliError, Context};
use crate::graph::lifecycle::Action;
use crate::graph::plan::Op;
use crate::runtime::LifecycleOptions;
use crate::runtime::ProjectLock;

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Wait for services to be running or healthy
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds (0: never)
    #[arg(long, value_name = "SECONDS", requires = "wait")]
    pub wait_timeout: Option<u64>,
    /// Services to start; all when none
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait for each container to stop before killing it
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<i64>,
    /// Services to stop; all when none
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Seconds to wait for each container to stop before killing it
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<i64>,
    /// Do not restart the services that depend on the named ones
    #[arg(long)]
    pub no_deps: bool,
    /// Services to restart; all when none
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send
    #[arg(short = 's', long, default_value = "SIGKILL")]
    pub signal: String,
    /// Also kill containers of services not in the file [env: COMPOSE_REMOVE_ORPHANS]
    #[arg(long)]
    pub remove_orphans: bool,
    /// Services to kill; all when none
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    #[command(flatten)]
    pub global_long: super::LongFileOnly,
    /// Do not ask for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Stop the containers first if they are running
    #[arg(short = 's', long)]
    pub stop: bool,
    /// Also remove the anonymous volumes of the containers
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Services whose containers to remove; all when none
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ServicesArgs {
    /// Services; all when none
    pub services: Vec<String>,
}

/// Runs `action` with the project loaded from its files, or found by its labels with `-p`.
async fn apply(
    ctx: &Context,
    action: Action,
    services: &[String],
    opts: LifecycleOptions,
) -> Result<crate::graph::plan::Plan, CliError> {
    let (project, has_model) = ctx.project_or_name()?;
    if has_model {
        for s in services {
            if !project.services.contains_key(s) && !project.disabled_services.contains_key(s) {
                return Err(CliError::NoSuchService(s.clone()));
            }
        }
    }
    let (rt, renderer) = ctx.runtime().await?;
    // The header of the view, as the reference titles each command's.
    renderer.title(match action {
        Action::Stop => "Stopping",
        Action::Restart { .. } => "Restarting",
        Action::Kill { .. } => "Killing",
        Action::Remove { .. } => "Removing",
        _ => "Running",
    });
    let _lock = ProjectLock::acquire(&project.name).await?;
    let out = rt
        .lifecycle(Arc::clone(&project), &action, services, &opts)
        .await;
    renderer.finish();
    Ok(out?)
}

fn options(timeout: Option<i64>) -> LifecycleOptions {
    LifecycleOptions {
        timeout,
        ..Default::default()
    }
}

pub(super) async fn start(ctx: &Context, args: StartArgs) -> Result<(), CliError> {
    let mut opts = options(None);
    opts.wait = args.wait;
    opts.wait_timeout = args.wait_timeout.map(std::time::Duration::from_secs);
    apply(ctx, Action::Start, &args.services, opts).await?;
    Ok(())
}

pub(super) async fn stop(ctx: &Context, args: StopArgs) -> Result<(), CliError> {
    let opts = options(args.timeout);
    apply(ctx, Action::Stop, &args.services, opts).await?;
    Ok(())
}

pub(super) async fn restart(ctx: &Context, args: RestartArgs) -> Result<(), CliError> {
    let action = Action::Restart {
        dependents: !args.no_deps,
    };
    let opts = options(args.timeout);
    apply(ctx, action, &args.services, opts).await?;
    Ok(())
}

pub(super) async fn kill(ctx: &Context, args: KillArgs) -> Result<(), CliError> {
    let action = Action::Kill {
        signal: args.signal.clone(),
    };
    apply(ctx, action, &args.services, options(None)).await?;
    Ok(())
}

pub(super) async fn pause(ctx: &Context, args: ServicesArgs) -> Result<(), CliError> {
    apply(ctx, Action::Pause, &args.services, options(None)).await?;
    Ok(())
}

pub(super) async fn unpause(ctx: &Context, args: ServicesArgs) -> Result<(), CliError> {
    apply(ctx, Action::Unpause, &args.services, options(None)).await?;
    Ok(())
}

/// `rm`, in the reference's order: with `--stop` every selected container is stopped first;
/// then the stopped ones are named (on stdout with `-f`, else in the question) and removed.
pub(super) async fn rm(ctx: &Context, args: RmArgs) -> Result<(), CliError> {
    if args.stop && !ctx.args.dry_run {
        apply(ctx, Action::Stop, &args.services, options(None)).await?;
    }
    let action = Action::Remove {
        // In a dry run nothing was stopped: the running ones are named as if they had been.
        stop: args.stop && ctx.args.dry_run,
        volumes: args.volumes,
    };
    let mut dry = options(None);
    dry.dry_run = true;
    let (project, _) = ctx.project_or_name()?;
    let (rt, _renderer) = ctx.runtime().await?;
    let plan = rt.lifecycle(project, &action, &args.services, &dry).await?;
    let names: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.op {
            Op::RemoveContainer { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    if names.is_empty() {
        eprintln!("No stopped containers");
        return Ok(());
    }
    let going = format!("Going to remove {}", names.join(", "));
    if args.force {
        super::out::write(&format!("{going}\n"))?;
    } else {
        eprintln!("{going}");
        if ctx.args.dry_run || !confirm("Are you sure?") {
            return Ok(());
        }
    }
    apply(ctx, action, &args.services, options(None)).await?;
    Ok(())
}

/// Asks a yes/no question on stderr; no answer (end of input) is no.
fn confirm(question: &str) -> bool {
    eprint!("? {question} (y/N) ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let stdin = std::io::stdin();
    if !stdin.is_terminal() && stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
        eprintln!();
        return false;
    }
    if stdin.is_terminal() {
        let _ = stdin.lock().read_line(&mut line);
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "Yes")
}
