//! The only code that speaks to the engine (bollard): observe, then execute plans made by
//! [`crate::graph`], and read state back for `ps` and logs.

pub mod convert;
pub mod engine;
pub mod events;
pub mod execute;
pub mod labels;
pub mod lock;
pub mod logs;
pub mod observe;
pub mod progress;
pub mod wait;

use bollard::Docker;
use std::fmt;
use std::sync::Arc;

use crate::graph::lifecycle;
use crate::graph::plan::{Op, Plan};
use crate::graph::reconcile::{self, DownTarget, UpPlanOptions};
use crate::graph::Cycle;
use crate::parse::{Condition, Project};
pub use engine::{EngineError, ErrorKind};
use progress::Reporter;

/// Why a runtime operation failed.
#[derive(Debug)]
pub enum Error {
    Cycle(Cycle),
    Engine(EngineError),
    /// Steps of a plan that failed (the rest of the plan ran).
    Failed(Vec<EngineError>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Cycle(c) => write!(f, "{c}"),
            Error::Engine(e) => write!(f, "{e}"),
            Error::Failed(errs) => {
                let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
                f.write_str(&msgs.join("\n"))
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        Error::Engine(e)
    }
}

impl From<Cycle> for Error {
    fn from(c: Cycle) -> Self {
        Error::Cycle(c)
    }
}

/// A connected engine and where progress goes.
#[derive(Clone)]
pub struct Runtime {
    pub docker: Docker,
    pub report: Reporter,
    /// Bound on concurrent engine calls (`--parallel`, `COMPOSE_PARALLEL_LIMIT`).
    pub parallel: Option<usize>,
}

/// Options of `up` that reach the engine.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    pub plan: UpPlanOptions,
    pub timeout: Option<i64>,
    pub dry_run: bool,
    /// `--wait`: after converging, wait for the services to be running or healthy.
    pub wait: bool,
    /// `--wait-timeout`: give up waiting after this long.
    pub wait_timeout: Option<std::time::Duration>,
}

/// Options of the lifecycle commands.
#[derive(Debug, Clone, Default)]
pub struct LifecycleOptions {
    pub timeout: Option<i64>,
    pub dry_run: bool,
    pub wait: bool,
    pub wait_timeout: Option<std::time::Duration>,
}

/// Options of `down`.
#[derive(Debug, Clone, Default)]
pub struct DownOptions {
    /// Stop the containers and remove nothing.
    pub stop_only: bool,
    pub volumes: bool,
    pub remove_orphans: bool,
    pub timeout: Option<i64>,
    /// Plan only.
    pub dry_run: bool,
}

impl Runtime {
    pub async fn connect(report: Reporter, parallel: Option<usize>) -> Result<Self, EngineError> {
        Ok(Runtime {
            docker: engine::connect().await?,
            report,
            parallel,
        })
    }

    /// Converges the engine to the project: returns the plan that was run and its warnings.
    pub async fn up(&self, project: Arc<Project>, opts: &UpOptions) -> Result<Plan, Error> {
        let external_nets: Vec<String> = project
            .networks
            .values()
            .filter(|n| n.external)
            .map(|n| n.name.clone())
            .collect();
        let external_vols: Vec<String> = project
            .volumes
            .values()
            .filter(|v| v.external)
            .map(|v| v.name.clone())
            .collect();
        let observed =
            observe::snapshot(&self.docker, &project.name, &external_nets, &external_vols).await?;
        for (key, n) in project.networks.iter().filter(|(_, n)| n.external) {
            let used = project
                .services
                .values()
                .any(|s| s.networks.contains_key(key));
            if used && observed.network(&n.name).is_none() {
                return Err(EngineError::new(
                    ErrorKind::NotFound,
                    format!(
                        "network {} declared as external, but could not be found",
                        n.name
                    ),
                )
                .into());
            }
            let _ = key;
        }
        for v in project.volumes.values().filter(|v| v.external) {
            if observed.volume(&v.name).is_none() {
                return Err(EngineError::new(
                    ErrorKind::NotFound,
                    format!("external volume \"{}\" not found", v.name),
                )
                .into());
            }
        }
        let plan = reconcile::up(&project, &observed, &opts.plan)?;
        if opts.dry_run {
            return Ok(plan);
        }
        let mut ctx = execute::Context::new(
            self.docker.clone(),
            project,
            self.report.clone(),
            self.parallel,
        );
        ctx.timeout = opts.timeout;
        let waits = plan.steps.iter().any(|s| {
            matches!(&s.op, Op::Await { condition, .. } if *condition != Condition::ServiceStarted)
        });
        if waits || opts.wait {
            ctx.hub = Some(Arc::new(events::Hub::start(
                &self.docker,
                &ctx.project.name,
            )));
        }
        let errors = execute::run(&ctx, &plan).await;
        if !errors.is_empty() {
            return Err(Error::Failed(errors));
        }
        if let (true, Some(hub)) = (opts.wait, &ctx.hub) {
            let services = if opts.plan.services.is_empty() {
                ctx.project.services.keys().cloned().collect()
            } else {
                opts.plan.services.clone()
            };
            self.wait_ready(&ctx.project, hub, &services, opts.wait_timeout)
                .await?;
        }
        Ok(plan)
    }

    /// `--wait`: every container of `services` running (or healthy when it has a healthcheck);
    /// services others wait for with `service_completed_successfully` must exit 0 instead.
    pub async fn wait_ready(
        &self,
        project: &Project,
        hub: &events::Hub,
        services: &[String],
        timeout: Option<std::time::Duration>,
    ) -> Result<(), Error> {
        let completes = |name: &str| {
            project.services.values().any(|s| {
                s.depends_on
                    .get(name)
                    .is_some_and(|d| d.condition == Condition::ServiceCompletedSuccessfully)
            })
        };
        let mut waits = Vec::new();
        for name in services {
            let Some(svc) = project.services.get(name) else {
                continue;
            };
            let target = if completes(name) {
                wait::Target::Completed
            } else {
                wait::Target::Ready
            };
            for n in 1..=svc.replicas() {
                let cname = reconcile::container_name(&project.name, svc, n);
                let docker = self.docker.clone();
                let report = self.report.clone();
                let service = name.clone();
                waits.push(async move {
                    let res = format!("Container {cname}");
                    report(progress::event(&res, progress::Status::Working, "Waiting"));
                    let out = wait::container(&docker, hub, &cname, &service, target).await;
                    match &out {
                        Ok(()) => report(progress::event(&res, progress::Status::Done, "Healthy")),
                        Err(e) => report(progress::event(
                            &res,
                            progress::Status::Error,
                            e.to_string(),
                        )),
                    }
                    out
                });
            }
        }
        let all = async {
            for r in futures::future::join_all(waits).await {
                r?;
            }
            Ok::<(), EngineError>(())
        };
        match timeout.filter(|t| !t.is_zero()) {
            Some(t) => match tokio::time::timeout(t, all).await {
                Ok(r) => r.map_err(Error::Engine),
                Err(_) => Err(Error::Engine(EngineError::new(
                    ErrorKind::Condition,
                    format!("application not healthy after {}", go_duration(t)),
                ))),
            },
            None => all.await.map_err(Error::Engine),
        }
    }

    /// Removes the project's containers, networks and (with `-v`) volumes. With no model, the
    /// project is found by its labels alone.
    pub async fn down(
        &self,
        project: Arc<Project>,
        has_model: bool,
        opts: &DownOptions,
    ) -> Result<Plan, Error> {
        let observed = observe::snapshot(&self.docker, &project.name, &[], &[]).await?;
        let mut target = DownTarget {
            remove_orphans: opts.remove_orphans,
            anonymous_volumes: opts.volumes,
            stop_only: opts.stop_only,
            ..Default::default()
        };
        if has_model {
            for (name, s) in project
                .services
                .iter()
                .chain(project.disabled_services.iter())
            {
                target
                    .services
                    .insert(name.clone(), s.depends_on.keys().cloned().collect());
            }
            target.networks = project
                .networks
                .values()
                .filter(|n| !n.external)
                .map(|n| n.name.clone())
                .collect();
            if opts.volumes {
                target.volumes = project
                    .volumes
                    .values()
                    .filter(|v| !v.external)
                    .map(|v| v.name.clone())
                    .collect();
            }
        } else {
            target.networks = observed
                .networks
                .iter()
                .filter(|n| n.project.as_deref() == Some(&project.name))
                .map(|n| n.name.clone())
                .collect();
            if opts.volumes {
                target.volumes = observed
                    .volumes
                    .iter()
                    .filter(|v| v.project.as_deref() == Some(&project.name))
                    .map(|v| v.name.clone())
                    .collect();
            }
        }
        let plan = reconcile::down(&target, &observed)?;
        if opts.dry_run {
            return Ok(plan);
        }
        let mut ctx = execute::Context::new(
            self.docker.clone(),
            project,
            self.report.clone(),
            self.parallel,
        );
        ctx.timeout = opts.timeout;
        let errors = execute::run(&ctx, &plan).await;
        if !errors.is_empty() {
            return Err(Error::Failed(errors));
        }
        Ok(plan)
    }

    /// Runs a lifecycle command (`start`, `stop`, `restart`, `kill`, `pause`, `unpause`, `rm`) on
    /// the containers of `services` (all when empty). With no model, dependencies come from labels.
    pub async fn lifecycle(
        &self,
        project: Arc<Project>,
        action: &lifecycle::Action,
        services: &[String],
        opts: &LifecycleOptions,
    ) -> Result<Plan, Error> {
        let observed = observe::snapshot(&self.docker, &project.name, &[], &[]).await?;
        let deps: lifecycle::Dependencies = project
            .services
            .iter()
            .map(|(name, s)| {
                let d = s
                    .depends_on
                    .iter()
                    .map(|(d, o)| (d.clone(), o.condition))
                    .collect();
                (name.clone(), d)
            })
            .collect();
        let plan = lifecycle::plan(action, &deps, &observed, services)?;
        if opts.dry_run {
            return Ok(plan);
        }
        let mut ctx = execute::Context::new(
            self.docker.clone(),
            project,
            self.report.clone(),
            self.parallel,
        );
        ctx.timeout = opts.timeout;
        let waits = plan.steps.iter().any(|s| matches!(s.op, Op::Await { .. }));
        if waits || opts.wait {
            ctx.hub = Some(Arc::new(events::Hub::start(
                &self.docker,
                &ctx.project.name,
            )));
        }
        let errors = execute::run(&ctx, &plan).await;
        if !errors.is_empty() {
            return Err(Error::Failed(errors));
        }
        if let (true, Some(hub)) = (opts.wait, &ctx.hub) {
            let services = if services.is_empty() {
                ctx.project.services.keys().cloned().collect()
            } else {
                services.to_vec()
            };
            self.wait_ready(&ctx.project, hub, &services, opts.wait_timeout)
                .await?;
        }
        Ok(plan)
    }

    /// The exit code of a stopped container (waiting for it to stop).
    pub async fn exit_code(&self, container: &str) -> i64 {
        logs::exit_code(&self.docker, container).await
    }

    /// The project's containers for `ps`, sorted by name.
    pub async fn ps(&self, project: &str, all: bool) -> Result<Vec<ContainerRow>, EngineError> {
        let list = observe::containers(&self.docker, project).await?;
        let mut rows: Vec<ContainerRow> = list
            .iter()
            .filter(|c| {
                c.labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key(labels::CONFIG_HASH))
            })
            .filter(|c| all || c.state.map(|s| s.to_string()) == Some("running".into()))
            .map(|c| {
                let o = observe::container(c);
                ContainerRow {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    number: o.number,
                    image: c.image.clone().unwrap_or_default(),
                    command: c.command.clone().unwrap_or_default(),
                    service: o.service.clone(),
                    created: c.created.unwrap_or(0),
                    state: o.state.clone(),
                    status: c.status.clone().unwrap_or_default(),
                    ports: c
                        .ports
                        .iter()
                        .flatten()
                        .map(|p| {
                            let proto =
                                p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into());
                            match (&p.ip, p.public_port) {
                                (Some(ip), Some(pp)) => {
                                    format!("{ip}:{pp}->{}/{proto}", p.private_port)
                                }
                                _ => format!("{}/{proto}", p.private_port),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }
}

/// A container as `ps` shows it.
#[derive(Debug, Clone)]
pub struct ContainerRow {
    pub id: String,
    pub name: String,
    /// `com.docker.compose.container-number`.
    pub number: u64,
    pub image: String,
    pub command: String,
    pub service: String,
    /// Unix seconds.
    pub created: i64,
    pub state: String,
    pub status: String,
    pub ports: Vec<String>,
}

/// A duration as Go prints it (`30s`, `1m30s`), as the reference's messages do.
fn go_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}
