//! `rcompose up`: converge, then (attached) stream logs until the containers exit or Ctrl-C.

use clap::Args;
use std::collections::HashMap;
use std::sync::Arc;

use super::{CliError, Context};
use crate::graph::reconcile::{Recreate, UpPlanOptions};
use crate::graph::{self, Cycle, ServiceGraph};
use crate::parse::path::Path;
use crate::parse::{self, Project};
use crate::runtime::ProjectLock;
use crate::runtime::{Error, Prefetch, Runtime, UpOptions};

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Detached mode: run containers in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Flags shared with `create`
    #[command(flatten)]
    pub create: CreateFlags,
    /// Recreate dependent containers (the dependencies of the services named)
    #[arg(long, conflicts_with = "no_recreate")]
    pub always_recreate_deps: bool,
    /// Recreate anonymous volumes instead of keeping them from the previous containers
    #[arg(short = 'V', long, conflicts_with = "no_recreate")]
    pub renew_anon_volumes: bool,
    /// Do not start the services the named services depend on
    #[arg(long)]
    pub no_deps: bool,
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
    /// Build without printing progress
    #[arg(long)]
    pub quiet_build: bool,
    /// Watch source code and rebuild/refresh containers when files are updated
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Enable interactive shortcuts when running attached. Incompatible with --detach. Can also
    /// be enable/disable by setting COMPOSE_MENU environment var.
    #[arg(
        long,
        num_args = 0..=1,
        default_missing_value = "true",
        require_equals = true,
        value_name = "BOOL"
    )]
    pub menu: Option<bool>,
    /// Services to start (with their dependencies); all when none
    pub services: Vec<String>,
}

/// `create`'s flags (as the reference's `docker compose create`), which `up` shares.
#[derive(Debug, Clone, Default, Args)]
pub struct CreateFlags {
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
    /// Build images before starting containers
    #[arg(long)]
    pub build: bool,
    /// Do not build images, even missing ones
    #[arg(long, conflicts_with = "build")]
    pub no_build: bool,
    #[command(flatten)]
    pub pull: PullFlags,
    /// Assume "yes" to every question (rcompose asks none)
    #[arg(short = 'y', long, hide = true)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub create: CreateFlags,
    /// Services to create (with their dependencies); all when none
    pub services: Vec<String>,
}

/// `--pull` and `--quiet-pull`: `up`, `create` and `run`.
#[derive(Debug, Clone, Default, Args)]
pub struct PullFlags {
    /// Pull images first: always, missing, never, build, or policy (each service's pull_policy)
    #[arg(long, value_name = "POLICY", value_parser = ["always", "missing", "never", "build", "policy"])]
    pub pull: Option<String>,
    /// Pull without printing progress
    #[arg(long)]
    pub quiet_pull: bool,
}

/// `run`'s image flags.
#[derive(Debug, Clone, Default, Args)]
pub struct ImageFlags {
    #[command(flatten)]
    pub pull: PullFlags,
    /// Build without printing progress
    #[arg(long)]
    pub quiet_build: bool,
}

impl PullFlags {
    /// `--pull POLICY` replaces every service's `pull_policy`.
    pub fn apply(&self, project: &mut Project) {
        let policy = self.pull.as_deref().filter(|p| *p != "policy");
        if let Some(p) = policy.and_then(|p| parse::canonical::pull_policy(p).ok()) {
            for svc in project.services.values_mut() {
                svc.pull_policy = Some(p.clone());
            }
        }
    }

    /// Pulls what the pull policies ask for, then builds what is missing (`always_build`: all).
    /// Returns the services' image ids when nothing was pulled or built (they still hold).
    pub async fn prepare(
        &self,
        rt: &Runtime,
        project: &Project,
        services: &[String],
        build: Option<bool>,
        quiet_build: bool,
    ) -> Result<Option<HashMap<String, String>>, CliError> {
        let puller = if self.quiet_pull {
            rt.quiet()
        } else {
            rt.clone()
        };
        let have = puller.pull_by_policy(project, services).await?;
        let Some(always_build) = build else {
            return Ok(have);
        };
        let builder = if quiet_build { rt.quiet() } else { rt.clone() };
        let have = match (always_build, have) {
            (false, Some(have)) => have,
            (false, None) => rt.image_ids(project).await,
            (true, _) => {
                builder
                    .build_with(project, services, None, &Default::default())
                    .await?;
                return Ok(None);
            }
        };
        let built = builder
            .build_with(project, services, Some(&have), &Default::default())
            .await?;
        Ok((built == 0).then_some(have))
    }
}

/// `create`: `up --no-start`.
pub(super) async fn create(ctx: &Context, args: CreateArgs) -> Result<(), CliError> {
    let up = UpArgs {
        detach: true,
        create: args.create,
        always_recreate_deps: false,
        renew_anon_volumes: false,
        no_deps: false,
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
        quiet_build: false,
        watch: false,
        menu: None,
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

/// `--watch` with the flags the reference refuses it with, in its words.
fn check_watch(args: &UpArgs) -> Result<(), CliError> {
    if !args.watch {
        return Ok(());
    }
    if args.detach {
        return Err(CliError::new("--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch"));
    }
    if args.wait {
        return Err(CliError::new("--wait cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch"));
    }
    if args.create.no_build {
        return Err(CliError::new("--no-build and --watch are incompatible"));
    }
    Ok(())
}

pub(super) async fn run(ctx: &Context, args: UpArgs) -> Result<(), CliError> {
    check_watch(&args)?;
    // Ctrl-C before the logs are attached ends `up` with 130; attached, it stops the stack.
    let Some(Attach {
        rt,
        renderer,
        project,
        watching,
    }) = super::interruptible(converge(ctx, &args)).await?
    else {
        return Ok(());
    };
    let watcher = watching.map(|(develop, lock)| {
        let wrt = super::watch::watch_runtime(ctx, &rt);
        let project = project.clone();
        let opts = crate::runtime::WatchOptions {
            quiet_build: args.quiet_build,
            ..Default::default()
        };
        tokio::spawn(async move {
            let _lock = lock;
            if let Err(e) = wrt
                .watch(project, develop, opts, super::watch::reporter())
                .await
            {
                eprintln!("watch: {e}");
            }
        })
    });
    let attached = super::attach::attach(ctx, &rt, &renderer, project, &args).await;
    if let Some(w) = watcher {
        w.abort();
    }
    attached
}

/// What attached `up` goes on with once the stack has converged.
struct Attach {
    rt: crate::runtime::Runtime,
    renderer: super::progress::Renderer,
    project: Arc<Project>,
    /// `--watch`: the rules and the watch lock.
    watching: Option<(
        Vec<(String, crate::parse::develop::Develop)>,
        crate::runtime::WatchLock,
    )>,
}

/// `up` up to the attachment of the logs: what attaching needs, when the logs are to be attached.
async fn converge(ctx: &Context, args: &UpArgs) -> Result<Option<Attach>, CliError> {
    // While the files are parsed, the engine is asked for the project's state under the name
    // they most likely give: only when that project's lock is free now, and with the lock held
    // from then on, so that no other command changes the project between the lists and the plan.
    let guess = ctx.guess();
    let early_lock = guess.name.as_deref().and_then(ProjectLock::try_now);
    let early = ctx.connect_early(
        guess.name.clone().filter(|_| early_lock.is_some()),
        Prefetch::Everything,
    );
    let guessed = guess.name.clone();
    let mut project = ctx.load_guessed(guess, &args.services)?;
    crate::parse::validate::runnable(&project).map_err(CliError::new)?;
    apply_scale(&mut project, &args.create.scale)?;
    args.create.pull.apply(&mut project);
    if let Err(c) = ServiceGraph::of(&project) {
        return Err(cycle_error(&project, &c));
    }
    // `--watch`: the rules are checked (and the watch lock taken) before anything changes.
    let watching = if args.watch {
        let develop = super::watch::rules(&project, &args.services)?;
        Some((
            develop,
            crate::runtime::WatchLock::try_acquire(&project.name)?,
        ))
    } else {
        None
    };
    let project = Arc::new(project);
    let remove_orphans = args.create.remove_orphans;
    let mut opts = UpOptions {
        plan: UpPlanOptions {
            services: args.services.clone(),
            remove_orphans,
            recreate: Recreate::from_flags(
                args.create.force_recreate,
                args.create.no_recreate,
                args.always_recreate_deps,
            ),
            renew_anon_volumes: args.renew_anon_volumes,
            no_deps: args.no_deps,
            no_start: args.no_start,
            early_probe: super::early_probe(),
            ..Default::default()
        },
        timeout: args.timeout,
        dry_run: false,
        wait: args.wait,
        wait_timeout: args.wait_timeout.map(std::time::Duration::from_secs),
        known_images: None,
    };
    let (rt, renderer) = early.runtime().await?;
    if args.no_start && args.detach {
        // `create` (which is `up -d --no-start` here): the reference's header says so.
        renderer.title("Creating");
    }
    let lock = match early_lock {
        Some(lock) if guessed.as_deref() == Some(project.name.as_str()) => lock,
        other => {
            drop(other);
            ProjectLock::acquire(&project.name).await?
        }
    };
    // No cycle here: checked above.
    let selected = graph::select(&project, &args.services, !args.no_deps).unwrap_or_default();
    if !ctx.args.dry_run {
        let build = (!args.create.no_build).then_some(args.create.build);
        let prepared = args
            .create
            .pull
            .prepare(&rt, &project, &selected, build, args.quiet_build);
        match prepared.await {
            Ok(known) => opts.known_images = known,
            Err(e) => {
                renderer.finish();
                return Err(e);
            }
        }
    }
    if let Some(w) = crate::runtime::swarm_only_warning(&project) {
        super::warn::warn(&w);
    }
    let attached = !(ctx.args.dry_run || args.detach || args.no_start || args.wait);
    renderer.creation_only(attached);
    let result = rt.up_locked(project.clone(), &opts, Some(lock)).await;
    renderer.creation_only(false);
    renderer.finish();
    let plan = match result {
        Ok(p) => p,
        Err(Error::Cycle(c)) => return Err(cycle_error(&project, &c)),
        Err(e) => return Err(e.into()),
    };
    let ignore_orphans = std::env::var("COMPOSE_IGNORE_ORPHANS")
        .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    for w in &plan.warnings {
        if !(ignore_orphans && w.starts_with("Found orphan containers")) {
            super::warn::warn(w);
        }
    }
    if !attached {
        return Ok(None);
    }
    Ok(Some(Attach {
        rt,
        renderer,
        project,
        watching,
    }))
}
