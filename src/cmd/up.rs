//! `rcompose up`: converge, then (attached) stream logs until the containers exit or Ctrl-C.

use clap::Args;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use super::{CliError, Context};
use crate::graph::reconcile::{container_name, UpPlanOptions};
use crate::graph::{Cycle, ServiceGraph};
use crate::parse::path::Path;
use crate::parse::Project;
use crate::runtime::lock::ProjectLock;
use crate::runtime::logs::{self, LogEvent, Stream};
use crate::runtime::{DownOptions, Error, UpOptions};

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Detached mode: run containers in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Remove containers of services not in the file [env: COMPOSE_REMOVE_ORPHANS]
    #[arg(long)]
    pub remove_orphans: bool,
    /// Recreate containers even if their configuration has not changed
    #[arg(long)]
    pub force_recreate: bool,
    /// Keep existing containers even if their configuration changed
    #[arg(long, conflicts_with = "force_recreate")]
    pub no_recreate: bool,
    /// Recreate dependent containers (the dependencies of the services named)
    #[arg(long, conflicts_with = "no_recreate")]
    pub always_recreate_deps: bool,
    /// Recreate anonymous volumes instead of keeping them from the previous containers
    #[arg(short = 'V', long, conflicts_with = "no_recreate")]
    pub renew_anon_volumes: bool,
    /// Do not start the services the named services depend on
    #[arg(long)]
    pub no_deps: bool,
    /// Scale SERVICE to NUM instances (overrides `scale` and `deploy.replicas`)
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Create containers but do not start them
    #[arg(long)]
    pub no_start: bool,
    /// Wait for services to be running or healthy (implies detached mode)
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds (0: never)
    #[arg(long, value_name = "SECONDS", requires = "wait")]
    pub wait_timeout: Option<u64>,
    /// Seconds to wait for containers to stop when recreating or on Ctrl-C
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<i64>,
    /// Attached: do not colour the log prefixes
    #[arg(long)]
    pub no_color: bool,
    /// Attached: do not prefix log lines with the container name
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Services to start (with their dependencies); all when none
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Recreate containers even if their configuration has not changed
    #[arg(long)]
    pub force_recreate: bool,
    /// Keep existing containers even if their configuration changed
    #[arg(long, conflicts_with = "force_recreate")]
    pub no_recreate: bool,
    /// Remove containers of services not in the file [env: COMPOSE_REMOVE_ORPHANS]
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances (overrides `scale` and `deploy.replicas`)
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Services to create (with their dependencies); all when none
    pub services: Vec<String>,
}

/// `create`: `up --no-start`.
pub async fn create(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    let up = UpArgs {
        detach: true,
        remove_orphans: args.remove_orphans,
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        always_recreate_deps: false,
        renew_anon_volumes: false,
        no_deps: false,
        scale: args.scale,
        no_start: true,
        wait: false,
        wait_timeout: None,
        timeout: None,
        no_color: false,
        no_log_prefix: false,
        services: args.services,
    };
    run(ctx, up).await
}

/// Applies `--scale SERVICE=NUM` to the model.
pub fn apply_scale(project: &mut Project, scale: &[String]) -> Result<(), CliError> {
    for s in scale {
        let parsed = s
            .split_once('=')
            .and_then(|(svc, n)| Some((svc, n.trim().parse::<u64>().ok()?)));
        let Some((name, n)) = parsed else {
            return Err(CliError::new(format!(
                "invalid --scale `{s}`: expected SERVICE=NUM, e.g. --scale web=3"
            )));
        };
        let Some(svc) = project.services.get_mut(name) else {
            return Err(CliError::new(format!("no such service: {name}")));
        };
        if n > 1 && svc.container_name.is_some() {
            return Err(CliError::new(format!(
                "services.{name}: container_name `{}` is set, so it cannot be scaled to {n}",
                svc.container_name.as_deref().unwrap_or_default()
            )));
        }
        svc.scale = Some(n);
        if let Some(d) = svc.deploy.as_mut() {
            d.replicas = Some(n);
        }
    }
    Ok(())
}

/// A cycle error pointing at the `depends_on` entry that closes it.
pub fn cycle_error(project: &Project, cycle: &Cycle) -> CliError {
    let (a, b) = (&cycle.0[0], &cycle.0[1]);
    let path = Path::root().key("services").key(a).key("depends_on").key(b);
    let e = project
        .error_at(&path, cycle.to_string())
        .hint("remove one of these dependencies");
    CliError::new(e)
}

pub async fn run(ctx: &Context, args: UpArgs) -> Result<(), CliError> {
    let mut project = ctx.load(&args.services)?;
    apply_scale(&mut project, &args.scale)?;
    if let Err(c) = ServiceGraph::of(&project) {
        return Err(cycle_error(&project, &c));
    }
    let project = Arc::new(project);
    let remove_orphans = args.remove_orphans
        || std::env::var("COMPOSE_REMOVE_ORPHANS")
            .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    let opts = UpOptions {
        plan: UpPlanOptions {
            services: args.services.clone(),
            remove_orphans,
            force_recreate: args.force_recreate,
            no_recreate: args.no_recreate,
            always_recreate_deps: args.always_recreate_deps,
            renew_anon_volumes: args.renew_anon_volumes,
            no_deps: args.no_deps,
            no_start: args.no_start,
        },
        timeout: args.timeout,
        dry_run: ctx.args.dry_run,
        wait: args.wait,
        wait_timeout: args.wait_timeout.map(std::time::Duration::from_secs),
    };
    let (rt, renderer) = ctx.runtime().await?;
    let lock = ProjectLock::acquire(&project.name).await?;
    let result = rt.up(project.clone(), &opts).await;
    drop(lock);
    renderer.finish();
    let plan = match result {
        Ok(p) => p,
        Err(Error::Cycle(c)) => return Err(cycle_error(&project, &c)),
        Err(e) => return Err(CliError::new(e)),
    };
    let ignore_orphans = std::env::var("COMPOSE_IGNORE_ORPHANS")
        .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    for w in &plan.warnings {
        if !ignore_orphans {
            eprintln!("WARN[0000] {w}");
        }
    }
    if ctx.args.dry_run {
        print!("{plan}");
        return Ok(());
    }
    if args.detach || args.no_start || args.wait {
        return Ok(());
    }
    attach(ctx, &rt, project, &args).await
}

/// Streams the logs of the project's containers until all exit; Ctrl-C stops the project.
async fn attach(
    ctx: &Context,
    rt: &crate::runtime::Runtime,
    project: Arc<Project>,
    args: &UpArgs,
) -> Result<(), CliError> {
    let selected: Vec<&crate::parse::Service> = project
        .services
        .values()
        .filter(|s| args.services.is_empty() || args.services.contains(&s.name))
        .filter(|s| s.attach != Some(false))
        .collect();
    let mut names = Vec::new();
    let mut colour_of = HashMap::new();
    for (i, s) in selected.iter().enumerate() {
        for n in 1..=s.replicas() {
            let name = container_name(&project.name, s, n);
            colour_of.insert(name.clone(), i);
            names.push(name);
        }
    }
    let short = |n: &str| {
        n.strip_prefix(&format!("{}-", project.name))
            .unwrap_or(n)
            .to_string()
    };
    println!(
        "Attaching to {}",
        names
            .iter()
            .map(|n| short(n))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let colour = ctx.colour && !args.no_color;
    let palette = [
        console::Style::new().cyan(),
        console::Style::new().yellow(),
        console::Style::new().green(),
        console::Style::new().magenta(),
        console::Style::new().blue(),
        console::Style::new().cyan().bold(),
        console::Style::new().yellow().bold(),
        console::Style::new().green().bold(),
        console::Style::new().magenta().bold(),
        console::Style::new().blue().bold(),
    ];
    let prefix = |name: &str| -> String {
        if args.no_log_prefix {
            return String::new();
        }
        let p = format!("{}  | ", short(name));
        if colour {
            palette[colour_of.get(name).copied().unwrap_or(0) % palette.len()]
                .apply_to(p)
                .force_styling(true)
                .to_string()
        } else {
            p
        }
    };
    let mut rx = logs::follow(&rt.docker, names.clone(), "all");
    let mut running = names.len();
    let mut interrupts = 0;
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(LogEvent::Line { container, stream, text }) => {
                    let mut line = prefix(&container).into_bytes();
                    line.extend_from_slice(&text);
                    line.push(b'\n');
                    let _ = match stream {
                        Stream::Stdout => std::io::stdout().lock().write_all(&line),
                        Stream::Stderr => std::io::stderr().lock().write_all(&line),
                    };
                }
                Some(LogEvent::Exited { container, code }) => {
                    println!("{} exited with code {code}", short(&container));
                    running -= 1;
                    if running == 0 {
                        return if interrupts > 0 { Err(CliError::exit(130)) } else { Ok(()) };
                    }
                }
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => {
                interrupts += 1;
                if interrupts == 1 {
                    eprintln!("Gracefully Stopping... press Ctrl+C again to force");
                    let rt2 = rt.clone();
                    let project = project.clone();
                    let timeout = args.timeout;
                    tokio::spawn(async move {
                        let opts = DownOptions { stop_only: true, timeout, ..Default::default() };
                        let _ = rt2.down(project, true, &opts).await;
                    });
                } else {
                    let opts = DownOptions { stop_only: true, timeout: Some(0), ..Default::default() };
                    let _ = rt.down(project.clone(), true, &opts).await;
                    return Err(CliError::exit(130));
                }
            }
        }
    }
}
