//! `rcompose up`: converge, then (attached) stream logs until the containers exit or Ctrl-C.

use clap::Args;
use std::sync::Arc;

use super::out::out;
use super::{CliError, Context};
use crate::graph::reconcile::UpPlanOptions;
use crate::graph::{Cycle, ServiceGraph};
use crate::parse::path::Path;
use crate::parse::Project;
use crate::runtime::ProjectLock;
use crate::runtime::{Error, Runtime, UpOptions};

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Detached mode: run containers in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Remove containers of services not in the file [env: COMPOSE_REMOVE_ORPHANS]
    #[arg(long, env = "COMPOSE_REMOVE_ORPHANS", hide_env = true, value_parser = clap::builder::FalseyValueParser::new())]
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
    /// Build images before starting containers
    #[arg(long)]
    pub build: bool,
    /// Do not build images, even missing ones
    #[arg(long, conflicts_with = "build")]
    pub no_build: bool,
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
    /// Attached: show timestamps
    #[arg(long)]
    pub timestamps: bool,
    /// Stop all containers if any container exits; exit with its code
    #[arg(long, conflicts_with_all = ["detach", "wait"])]
    pub abort_on_container_exit: bool,
    /// Stop all containers if any container exits with a non-zero code; exit with it
    #[arg(long, conflicts_with_all = ["detach", "wait", "abort_on_container_exit"])]
    pub abort_on_container_failure: bool,
    /// Return the exit code of this service's container (implies --abort-on-container-exit)
    #[arg(long, value_name = "SERVICE", conflicts_with_all = ["detach", "wait"])]
    pub exit_code_from: Option<String>,
    /// Show the logs of these services only (repeatable)
    #[arg(long, value_name = "SERVICE", conflicts_with_all = ["detach", "wait"])]
    pub attach: Vec<String>,
    /// Do not show the logs of these services (repeatable)
    #[arg(long, value_name = "SERVICE", conflicts_with_all = ["detach", "wait"])]
    pub no_attach: Vec<String>,
    /// Also show the logs of the dependencies of the services named
    #[arg(long, conflicts_with_all = ["detach", "wait"])]
    pub attach_dependencies: bool,
    #[command(flatten)]
    pub images: ImageFlags,
    /// Assume "yes" to every question (rcompose asks none)
    #[arg(short = 'y', long, hide = true)]
    pub yes: bool,
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
    #[arg(long, env = "COMPOSE_REMOVE_ORPHANS", hide_env = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances (overrides `scale` and `deploy.replicas`)
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Build images before creating containers
    #[arg(long)]
    pub build: bool,
    /// Do not build images, even missing ones
    #[arg(long, conflicts_with = "build")]
    pub no_build: bool,
    #[command(flatten)]
    pub images: ImageFlags,
    /// Assume "yes" to every question (rcompose asks none)
    #[arg(short = 'y', long, hide = true)]
    pub yes: bool,
    /// Services to create (with their dependencies); all when none
    pub services: Vec<String>,
}

/// Image flags shared by `up`, `create` and `run`.
#[derive(Debug, Clone, Default, Args)]
pub struct ImageFlags {
    /// Pull images first: always, missing, never, build, or policy (each service's pull_policy)
    #[arg(long, value_name = "POLICY", value_parser = ["always", "missing", "never", "build", "policy"])]
    pub pull: Option<String>,
    /// Pull without printing progress
    #[arg(long)]
    pub quiet_pull: bool,
    /// Build without printing progress
    #[arg(long)]
    pub quiet_build: bool,
}

impl ImageFlags {
    /// `--pull POLICY` replaces every service's `pull_policy`.
    pub fn apply(&self, project: &mut Project) {
        if let Some(p) = self.pull.as_deref().filter(|p| *p != "policy") {
            for svc in project.services.values_mut() {
                svc.pull_policy = Some(p.to_string());
            }
        }
    }

    /// Pulls what the pull policies ask for, then builds what is missing (`always_build`: all).
    pub async fn prepare(
        &self,
        rt: &Runtime,
        project: &Project,
        services: &[String],
        build: Option<bool>,
    ) -> Result<(), CliError> {
        let puller = if self.quiet_pull {
            rt.quiet()
        } else {
            rt.clone()
        };
        puller.pull_by_policy(project, services).await?;
        if let Some(always_build) = build {
            let builder = if self.quiet_build {
                rt.quiet()
            } else {
                rt.clone()
            };
            builder
                .build(project, services, !always_build, &Default::default())
                .await?;
        }
        Ok(())
    }
}

/// `create`: `up --no-start`.
pub(super) async fn create(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    let up = UpArgs {
        detach: true,
        remove_orphans: args.remove_orphans,
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        always_recreate_deps: false,
        renew_anon_volumes: false,
        no_deps: false,
        scale: args.scale,
        build: args.build,
        no_build: args.no_build,
        no_start: true,
        wait: false,
        wait_timeout: None,
        timeout: None,
        no_color: false,
        no_log_prefix: false,
        timestamps: false,
        abort_on_container_exit: false,
        abort_on_container_failure: false,
        exit_code_from: None,
        attach: vec![],
        no_attach: vec![],
        attach_dependencies: false,
        images: args.images,
        yes: args.yes,
        services: args.services,
    };
    run(ctx, up).await
}

/// Applies `--scale SERVICE=NUM` to the model.
pub(super) fn apply_scale(project: &mut Project, scale: &[String]) -> Result<(), CliError> {
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
            return Err(CliError::NoSuchService(name.to_string()));
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
pub(super) fn cycle_error(project: &Project, cycle: &Cycle) -> CliError {
    let (a, b) = (&cycle.0[0], &cycle.0[1]);
    let path = Path::root().key("services").key(a).key("depends_on").key(b);
    let e = project
        .error_at(&path, cycle.to_string())
        .hint("remove one of these dependencies");
    CliError::Load(e)
}

pub(super) async fn run(ctx: &Context, args: UpArgs) -> Result<(), CliError> {
    let mut project = ctx.load(&args.services)?;
    crate::parse::validate::runnable(&project).map_err(CliError::new)?;
    apply_scale(&mut project, &args.scale)?;
    args.images.apply(&mut project);
    if let Err(c) = ServiceGraph::of(&project) {
        return Err(cycle_error(&project, &c));
    }
    let project = Arc::new(project);
    let remove_orphans = args.remove_orphans;
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
            ..Default::default()
        },
        timeout: args.timeout,
        dry_run: ctx.args.dry_run,
        wait: args.wait,
        wait_timeout: args.wait_timeout.map(std::time::Duration::from_secs),
    };
    let (rt, renderer) = ctx.runtime().await?;
    let lock = ProjectLock::acquire(&project.name).await?;
    let selected = if args.services.is_empty() || args.no_deps {
        args.services.clone()
    } else {
        ServiceGraph::of(&project)
            .map(|g| g.with_dependencies(&args.services))
            .unwrap_or_default()
    };
    if !ctx.args.dry_run {
        let build = (!args.no_build).then_some(args.build);
        if let Err(e) = args.images.prepare(&rt, &project, &selected, build).await {
            renderer.finish();
            return Err(e);
        }
    }
    if let Some(w) = crate::runtime::swarm_only_warning(&project) {
        eprintln!("WARN[0000] {w}");
    }
    let result = rt.up(project.clone(), &opts).await;
    drop(lock);
    renderer.finish();
    let plan = match result {
        Ok(p) => p,
        Err(Error::Cycle(c)) => return Err(cycle_error(&project, &c)),
        Err(e) => return Err(e.into()),
    };
    let ignore_orphans = std::env::var("COMPOSE_IGNORE_ORPHANS")
        .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    for w in &plan.warnings {
        if !ignore_orphans {
            eprintln!("WARN[0000] {w}");
        }
    }
    if ctx.args.dry_run {
        out!("{plan}")?;
        return Ok(());
    }
    if args.detach || args.no_start || args.wait {
        return Ok(());
    }
    super::attach::attach(ctx, &rt, project, &args).await
}
