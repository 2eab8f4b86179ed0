//! The only code that speaks to the engine (bollard): observe, then execute plans made by
//! [`crate::graph`], and read state back for `ps` and logs.

pub mod attach;
pub mod build;
pub mod convert;
pub mod copy;
pub mod dockerignore;
pub mod engine;
pub mod events;
pub mod execute;
pub mod labels;
pub mod lock;
pub mod logs;
pub mod observe;
pub mod oneoff;
pub mod preflight;
pub mod progress;
pub mod pull;
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
    /// `--rmi`: remove images too.
    pub images: Option<RemoveImages>,
    /// Plan only.
    pub dry_run: bool,
}

/// Which images `down --rmi` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveImages {
    /// Images built without a custom name (`project-service`).
    Local,
    /// Every image the services use.
    All,
}

impl Runtime {
    /// The same engine, reporting nothing (`--quiet-pull`, `--quiet-build`, `run -q`).
    pub fn quiet(&self) -> Runtime {
        Runtime {
            report: progress::silent(),
            ..self.clone()
        }
    }

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
        preflight::check(&self.docker, &project, &observed).await?;
        let mut plan_opts = opts.plan.clone();
        plan_opts.images = self.image_ids(&project).await;
        let plan = reconcile::up(&project, &observed, &plan_opts)?;
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
            target.images = match opts.images {
                None => vec![],
                Some(mode) => {
                    let mut names: Vec<String> = project
                        .services
                        .values()
                        .filter(|s| mode == RemoveImages::All || s.image.is_none())
                        .map(|s| s.image_name(&project.name))
                        .collect();
                    names.dedup();
                    names
                }
            };
        } else {
            target.images = match opts.images {
                None => vec![],
                Some(RemoveImages::Local) => observed
                    .containers
                    .iter()
                    .map(|c| format!("{}-{}", project.name, c.service))
                    .collect(),
                Some(RemoveImages::All) => observed
                    .containers
                    .iter()
                    .map(|c| c.image.clone())
                    .collect(),
            };
            target.images.sort();
            target.images.dedup();
            target.images.retain(|i| !i.is_empty());
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

    /// The ids of the images the services would run now (images that are missing are left out).
    pub async fn image_ids(&self, project: &Project) -> std::collections::HashMap<String, String> {
        let mut names: Vec<String> = project
            .services
            .values()
            .map(|s| s.image_name(&project.name))
            .collect();
        names.sort();
        names.dedup();
        let found =
            futures::future::join_all(names.iter().map(|n| self.docker.inspect_image(n))).await;
        let ids: std::collections::HashMap<&String, String> = names
            .iter()
            .zip(found)
            .filter_map(|(n, r)| Some((n, r.ok()?.id?)))
            .collect();
        project
            .services
            .values()
            .filter_map(|s| {
                let id = ids.get(&s.image_name(&project.name))?;
                Some((s.name.clone(), id.clone()))
            })
            .collect()
    }

    /// Builds the images of `services` (those with a `build` section) in parallel; with
    /// `only_missing`, only those whose image is not on the engine.
    pub async fn build(
        &self,
        project: &Project,
        services: &[String],
        only_missing: bool,
        opts: &build::BuildOptions,
    ) -> Result<(), Error> {
        let have = if only_missing {
            self.image_ids(project).await
        } else {
            Default::default()
        };
        let limit = Arc::new(tokio::sync::Semaphore::new(
            self.parallel.unwrap_or(tokio::sync::Semaphore::MAX_PERMITS),
        ));
        let builds = project
            .services
            .values()
            .filter(|s| s.build.is_some())
            .filter(|s| services.is_empty() || services.contains(&s.name))
            .filter(|s| !have.contains_key(&s.name) || s.pull_policy.as_deref() == Some("build"))
            .map(|s| {
                let limit = limit.clone();
                async move {
                    let _p = limit.acquire().await;
                    build::build(&self.docker, &self.report, project, s, opts).await
                }
            });
        let errors: Vec<EngineError> = futures::future::join_all(builds)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Failed(errors))
        }
    }

    /// Pulls the images of `services` (all when empty) in parallel. Services with a `build`
    /// section are skipped with `ignore_buildable`; failures are warnings with `ignore_failures`.
    pub async fn pull(
        &self,
        project: &Project,
        services: &[String],
        ignore_buildable: bool,
        ignore_failures: bool,
    ) -> Result<Vec<String>, Error> {
        let mut images: Vec<String> = project
            .services
            .values()
            .filter(|s| services.is_empty() || services.contains(&s.name))
            .filter(|s| !(ignore_buildable && s.build.is_some()))
            .filter(|s| s.image.is_some())
            .filter(|s| !matches!(s.pull_policy.as_deref(), Some("never" | "build")))
            .map(|s| s.image_name(&project.name))
            .collect();
        images.sort();
        images.dedup();
        let limit = Arc::new(tokio::sync::Semaphore::new(
            self.parallel.unwrap_or(tokio::sync::Semaphore::MAX_PERMITS),
        ));
        let pulls = images.iter().map(|i| {
            let limit = limit.clone();
            async move {
                let _p = limit.acquire().await;
                pull::pull(&self.docker, &self.report, i).await
            }
        });
        let errors: Vec<EngineError> = futures::future::join_all(pulls)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect();
        if ignore_failures {
            return Ok(errors.into_iter().map(|e| e.message).collect());
        }
        if errors.is_empty() {
            Ok(Vec::new())
        } else {
            Err(Error::Failed(errors))
        }
    }

    /// Applies `pull_policy` before `up`: `always` pulls, `never` requires the image, `missing`
    /// (and `daily`, `weekly`) pulls images that are not on the engine.
    pub async fn pull_by_policy(
        &self,
        project: &Project,
        services: &[String],
    ) -> Result<(), Error> {
        let selected =
            |s: &&crate::parse::Service| services.is_empty() || services.contains(&s.name);
        // Missing images are pulled before anything is created, so that a failure leaves nothing.
        let have = self.image_ids(project).await;
        let pull: Vec<String> = project
            .services
            .values()
            .filter(selected)
            .filter(|s| match s.pull_policy.as_deref() {
                Some("always") => true,
                Some("never" | "build") => false,
                _ => s.build.is_none() && !have.contains_key(&s.name),
            })
            .map(|s| s.name.clone())
            .collect();
        if !pull.is_empty() {
            self.pull(project, &pull, false, false).await?;
        }
        for s in project.services.values().filter(selected) {
            if s.pull_policy.as_deref() == Some("never") && !have.contains_key(&s.name) {
                return Err(Error::Engine(EngineError::new(
                    ErrorKind::NotFound,
                    format!(
                        "service \"{}\": image `{}` is not on this engine and pull_policy is never",
                        s.name,
                        s.image_name(&project.name)
                    ),
                )));
            }
        }
        Ok(())
    }

    /// Every compose project on the engine, from container labels (`all`: stopped ones too).
    pub async fn projects(&self, all: bool) -> Result<Vec<ProjectRow>, EngineError> {
        let list = observe::all_projects(&self.docker).await?;
        let mut out: std::collections::BTreeMap<String, ProjectRow> = Default::default();
        for c in &list {
            let labels = c.labels.clone().unwrap_or_default();
            let Some(name) = labels.get(labels::PROJECT) else {
                continue;
            };
            let state = c.state.map(|s| s.to_string()).unwrap_or_default();
            if !all && state != "running" {
                continue;
            }
            let row = out.entry(name.clone()).or_insert_with(|| ProjectRow {
                name: name.clone(),
                ..Default::default()
            });
            *row.states.entry(state).or_insert(0) += 1;
            if let Some(f) = labels.get(labels::CONFIG_FILES) {
                if row.config_files.is_empty() {
                    row.config_files = f.clone();
                }
            }
        }
        Ok(out.into_values().collect())
    }

    /// The repository digest (`sha256:...`) the local image store knows each image by, for
    /// `config --resolve-image-digests`: an image that is not local, or that was built or loaded
    /// here rather than pulled (no digest), is an error saying so.
    pub async fn local_digests(
        &self,
        images: &[String],
    ) -> Result<std::collections::HashMap<String, String>, EngineError> {
        let mut out = std::collections::HashMap::new();
        for image in images {
            let i = self.docker.inspect_image(image).await.map_err(|e| {
                let e = EngineError::from_bollard(&format!("inspecting image {image}"), e);
                if e.is_not_found() {
                    return EngineError::new(
                        ErrorKind::NotFound,
                        format!("image `{image}` is not in the local image store: pull it first"),
                    );
                }
                e
            })?;
            let repo = image.split('@').next().unwrap_or(image);
            let repo = match repo.rsplit_once(':') {
                Some((r, tag)) if !tag.contains('/') => r,
                _ => repo,
            };
            let digests = i.repo_digests.unwrap_or_default();
            let digest = digests
                .iter()
                .find(|d| d.split('@').next() == Some(repo))
                .or(digests.first())
                .and_then(|d| d.split_once('@'))
                .map(|(_, d)| d.to_string())
                .ok_or_else(|| {
                    EngineError::new(
                        ErrorKind::NotFound,
                        format!(
                            "image `{image}` has no digest: it was built or loaded here, not pulled from a registry"
                        ),
                    )
                })?;
            out.insert(image.clone(), digest);
        }
        Ok(out)
    }

    /// Image details by id, for `images`.
    pub async fn images(&self, ids: Vec<String>) -> Result<Vec<ImageRow>, EngineError> {
        let mut unique = ids;
        unique.sort();
        unique.dedup();
        let mut out = Vec::new();
        for id in unique {
            let i = self
                .docker
                .inspect_image(&id)
                .await
                .map_err(|e| EngineError::from_bollard(&format!("inspecting image {id}"), e))?;
            let tag = i.repo_tags.as_ref().and_then(|t| t.first()).cloned();
            let (repository, tag) = match tag.as_deref().and_then(|t| t.rsplit_once(':')) {
                Some((r, t)) => (r.to_string(), t.to_string()),
                None => ("<none>".into(), "<none>".into()),
            };
            let created = i
                .created
                .as_deref()
                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                .map(|t| chrono::Utc::now().signed_duration_since(t).num_seconds())
                .unwrap_or(0);
            out.push(ImageRow {
                id: i.id.clone().unwrap_or(id),
                repository,
                tag,
                platform: format!(
                    "{}/{}",
                    i.os.clone().unwrap_or_default(),
                    i.architecture.clone().unwrap_or_default()
                ),
                size: i.size.unwrap_or(0),
                last_tag_time: i.metadata.and_then(|m| m.last_tag_time).unwrap_or_default(),
                created_ago: ago(created),
            });
        }
        Ok(out)
    }

    /// The processes of a running container: column titles and rows.
    pub async fn top(
        &self,
        container: &str,
    ) -> Result<(Vec<String>, Vec<Vec<String>>), EngineError> {
        let t = self
            .docker
            .top_processes(container, None::<bollard::query_parameters::TopOptions>)
            .await
            .map_err(|e| {
                EngineError::from_bollard(&format!("listing processes of {container}"), e)
            })?;
        Ok((
            t.titles.unwrap_or_default(),
            t.processes.unwrap_or_default(),
        ))
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
                let mut publishers: Vec<Publisher> = c
                    .ports
                    .iter()
                    .flatten()
                    .map(|p| Publisher {
                        url: p.ip.clone().unwrap_or_default(),
                        target_port: p.private_port,
                        published_port: p.public_port.unwrap_or(0),
                        protocol: p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into()),
                    })
                    .collect();
                publishers.sort_by(|a, b| {
                    (a.target_port, &a.protocol, &a.url).cmp(&(b.target_port, &b.protocol, &b.url))
                });
                ContainerRow {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    number: o.number,
                    image: c.image.clone().unwrap_or_default(),
                    image_id: c.image_id.clone().unwrap_or_default(),
                    command: c.command.clone().unwrap_or_default(),
                    service: o.service.clone(),
                    created: c.created.unwrap_or(0),
                    state: o.state.clone(),
                    status: c.status.clone().unwrap_or_default(),
                    labels: c.labels.clone().unwrap_or_default().into_iter().collect(),
                    mounts: c
                        .mounts
                        .iter()
                        .flatten()
                        .map(|m| {
                            let local = m.driver.as_deref() == Some("local");
                            let name = m.name.clone().or_else(|| m.source.clone());
                            (name.unwrap_or_default(), local)
                        })
                        .collect(),
                    networks: c
                        .network_settings
                        .as_ref()
                        .and_then(|n| n.networks.as_ref())
                        .map(|n| {
                            let mut v: Vec<String> = n.keys().cloned().collect();
                            v.sort();
                            v
                        })
                        .unwrap_or_default(),
                    publishers,
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
    pub image_id: String,
    pub command: String,
    pub service: String,
    /// Unix seconds.
    pub created: i64,
    pub state: String,
    pub status: String,
    pub labels: std::collections::BTreeMap<String, String>,
    /// Volume names (or bind sources), and whether each is a local volume.
    pub mounts: Vec<(String, bool)>,
    pub networks: Vec<String>,
    pub publishers: Vec<Publisher>,
}

/// A project as `ls` shows it.
#[derive(Debug, Clone, Default)]
pub struct ProjectRow {
    pub name: String,
    /// Container count per state, e.g. `running` -> 2.
    pub states: std::collections::BTreeMap<String, usize>,
    pub config_files: String,
}

/// An image as `images` shows it.
#[derive(Debug, Clone, Default)]
pub struct ImageRow {
    pub id: String,
    pub repository: String,
    pub tag: String,
    pub platform: String,
    pub size: i64,
    pub last_tag_time: String,
    pub created_ago: String,
}

/// "49 minutes ago", as docker prints ages.
fn ago(secs: i64) -> String {
    let s = match secs.max(0) {
        0..=1 => "Less than a second".to_string(),
        s @ 2..=59 => format!("{s} seconds"),
        60..=119 => "About a minute".into(),
        s @ 120..=3599 => format!("{} minutes", s / 60),
        3600..=7199 => "About an hour".into(),
        s @ 7200..=172_799 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86400),
    };
    format!("{s} ago")
}

/// A port of a container, published or only exposed (`published_port` 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    pub url: String,
    pub target_port: u16,
    pub published_port: u16,
    pub protocol: String,
}

impl Publisher {
    /// `127.0.0.1:8080->80/tcp`, `[::]:8080->80/tcp` or `80/tcp`, as docker prints ports.
    pub fn display(&self) -> String {
        if self.published_port == 0 {
            return format!("{}/{}", self.target_port, self.protocol);
        }
        let host = if self.url.contains(':') {
            format!("[{}]", self.url)
        } else {
            self.url.clone()
        };
        format!(
            "{host}:{}->{}/{}",
            self.published_port, self.target_port, self.protocol
        )
    }
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
