//! The only code that speaks to the engine (bollard): observe, then execute plans made by
//! [`crate::graph`], and read state back for `ps` and logs.

pub mod convert;
pub mod engine;
pub mod execute;
pub mod labels;
pub mod logs;
pub mod observe;
pub mod progress;

use bollard::Docker;
use std::fmt;
use std::sync::Arc;

use crate::graph::reconcile::{self, DownTarget, UpPlanOptions};
use crate::graph::{plan::Plan, Cycle};
use crate::parse::Project;
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
        let errors = execute::run(&ctx, &plan).await;
        if !errors.is_empty() {
            return Err(Error::Failed(errors));
        }
        Ok(plan)
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
    pub image: String,
    pub command: String,
    pub service: String,
    /// Unix seconds.
    pub created: i64,
    pub state: String,
    pub status: String,
    pub ports: Vec<String>,
}
