//! The only code that speaks to the engine, through [`engine::Engine`]: observe, then execute
//! plans made by [`crate::graph`], and read state back for `ps` and logs.

mod attach;
mod build;
mod convert;
mod copy;
mod dockerignore;
pub mod engine;
mod events;
mod execute;
mod labels;
mod lock;
mod logs;
mod observe;
mod oneoff;
mod preflight;
mod progress;
mod pull;
mod wait;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::graph::lifecycle;
use crate::graph::observed::Observed;
use crate::graph::plan::{Op, Plan};
pub use crate::graph::reconcile::RemoveImages;
use crate::graph::reconcile::{self, DownRequest, UpPlanOptions};
use crate::graph::stop::StopTimeouts;
use crate::graph::Cycle;
use crate::parse::{Condition, Project};
pub use attach::ExecSpec;
pub use build::BuildOptions;
pub use engine::{Engine, EngineError, ErrorKind};
pub use events::{now_nanos, Action as EventAction, ContainerEvent, Hub};
pub use labels::COMPOSE_VERSION;
pub use lock::ProjectLock;
pub use logs::{LogEvent, LogOptions, Stream};
pub use oneoff::OneOff;
pub use preflight::swarm_only_warning;
pub use progress::{Event, Reporter, Status};

/// Why a runtime operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Cycle(#[from] Cycle),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Steps of a plan that failed (the rest of the plan ran).
    #[error("{}", lines(.0))]
    Failed(Vec<EngineError>),
}

/// One message per line.
fn lines(errors: &[EngineError]) -> String {
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    msgs.join("\n")
}

/// A connected engine and where progress goes.
#[derive(Clone)]
pub struct Runtime {
    /// The engine; only this module and its children use it.
    engine: Arc<dyn Engine>,
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

impl Runtime {
    /// The same engine, reporting nothing (`--quiet-pull`, `--quiet-build`, `run -q`).
    pub fn quiet(&self) -> Runtime {
        Runtime {
            report: progress::silent(),
            ..self.clone()
        }
    }

    /// A runtime on any engine (the fake one in unit tests).
    pub fn new(engine: Arc<dyn Engine>, report: Reporter, parallel: Option<usize>) -> Self {
        Runtime {
            engine,
            report,
            parallel,
        }
    }

    /// Runs a command in container `index` of `service` (`None` when it has no running
    /// container); its exit code. The name known from the model is tried first, the
    /// project's containers are listed only when that fails.
    pub async fn exec(
        &self,
        project: &Project,
        has_model: bool,
        service: &str,
        index: u64,
        spec: &attach::ExecSpec,
    ) -> Result<Option<i64>, EngineError> {
        let engine = self.engine.as_ref();
        let direct = match project.services.get(service) {
            Some(svc) if has_model => Some(reconcile::container_name(&project.name, svc, index)),
            _ => None,
        };
        let created = match &direct {
            Some(name) => attach::create_exec(engine, name, spec).await.ok(),
            None => None,
        };
        let id = match created {
            Some(id) => id,
            None => {
                let rows = self.ps(&project.name, false).await?;
                let Some(c) = rows
                    .iter()
                    .find(|r| r.service == service && r.number == index)
                else {
                    return Ok(None);
                };
                attach::create_exec(engine, &c.name, spec).await?
            }
        };
        attach::start_exec(engine, &id, spec).await.map(Some)
    }

    /// Copies `path` out of `container` to `dest` on this machine.
    pub async fn copy_from(
        &self,
        container: &str,
        path: &str,
        dest: &std::path::Path,
    ) -> Result<(), EngineError> {
        copy::from_container(self.engine.as_ref(), container, path, dest).await
    }

    /// Copies `src` from this machine into `container` at `path`.
    pub async fn copy_to(
        &self,
        container: &str,
        src: &std::path::Path,
        path: &str,
    ) -> Result<(), EngineError> {
        copy::to_container(self.engine.as_ref(), container, src, path).await
    }

    /// The logs of `containers` (see [`logs::stream`]).
    pub fn logs(
        &self,
        project: &str,
        containers: Vec<String>,
        services: Vec<String>,
        opts: logs::LogOptions,
    ) -> tokio::sync::mpsc::Receiver<logs::LogEvent> {
        logs::stream(self.engine.clone(), project, containers, services, opts)
    }

    /// A live subscription to the project's container events.
    pub fn events(&self, project: &str) -> events::Hub {
        events::Hub::start(self.engine.as_ref(), project)
    }

    pub async fn connect(report: Reporter, parallel: Option<usize>) -> Result<Self, EngineError> {
        Ok(Runtime {
            engine: Arc::new(engine::docker::DockerEngine::connect().await?),
            report,
            parallel,
        })
    }

    /// The engine state `up` plans from, after the checks that must pass before anything is
    /// created: external networks and volumes exist, the engine can create the networks.
    pub(crate) async fn observe_for_up(&self, project: &Project) -> Result<Observed, Error> {
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
        let observed = observe::snapshot(
            self.engine.as_ref(),
            &project.name,
            &external_nets,
            &external_vols,
        )
        .await?;
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
        preflight::check(self.engine.as_ref(), project, &observed).await?;
        Ok(observed)
    }

    /// Executes a plan; with `events` (or when the plan awaits a condition), with a subscription
    /// to the project's container events, which is returned for waits after the plan.
    pub(crate) async fn execute(
        &self,
        project: Arc<Project>,
        plan: &Plan,
        events: bool,
    ) -> Result<Option<Arc<events::Hub>>, Error> {
        let waits = plan.steps.iter().any(|s| match &s.op {
            Op::Await { condition, .. } => *condition != Condition::ServiceStarted,
            Op::AwaitContainer { .. } => true,
            _ => false,
        });
        let hub = (waits || events)
            .then(|| Arc::new(events::Hub::start(self.engine.as_ref(), &project.name)));
        self.execute_with(project, plan, hub.clone()).await?;
        Ok(hub)
    }

    /// Executes a plan with this event subscription (the one an earlier plan started).
    async fn execute_with(
        &self,
        project: Arc<Project>,
        plan: &Plan,
        hub: Option<Arc<events::Hub>>,
    ) -> Result<(), Error> {
        let mut ctx = execute::Context::new(
            self.engine.clone(),
            project,
            self.report.clone(),
            self.parallel,
        );
        ctx.hub = hub;
        let errors = execute::run(&ctx, plan).await;
        if !errors.is_empty() {
            return Err(Error::Failed(errors));
        }
        Ok(())
    }

    /// `--wait`: the plan of [`crate::graph::ready`], given up after `timeout`.
    async fn wait_ready(
        &self,
        project: Arc<Project>,
        hub: Arc<events::Hub>,
        services: &[String],
        timeout: Option<std::time::Duration>,
    ) -> Result<(), Error> {
        let plan = crate::graph::ready::plan(&project, services);
        let all = self.execute_with(project, &plan, Some(hub));
        match timeout.filter(|t| !t.is_zero()) {
            Some(t) => match tokio::time::timeout(t, all).await {
                Ok(r) => r,
                Err(_) => Err(Error::Engine(EngineError::new(
                    ErrorKind::Condition,
                    format!("application not healthy after {}", go_duration(t)),
                ))),
            },
            None => all.await,
        }
    }

    /// Converges the engine to the project: returns the plan that was run and its warnings.
    pub async fn up(&self, project: Arc<Project>, opts: &UpOptions) -> Result<Plan, Error> {
        let observed = self.observe_for_up(&project).await?;
        let mut plan_opts = opts.plan.clone();
        plan_opts.timeout = opts.timeout;
        plan_opts.images = self.image_ids(&project).await;
        plan_opts.missing_images = self.missing_images(&project, &plan_opts.images);
        let plan = reconcile::up(&project, &observed, &plan_opts)?;
        if opts.dry_run {
            return Ok(plan);
        }
        let hub = self.execute(project.clone(), &plan, opts.wait).await?;
        if let (true, Some(hub)) = (opts.wait, hub) {
            self.wait_ready(project, hub, &opts.plan.services, opts.wait_timeout)
                .await?;
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
        let observed = observe::snapshot(self.engine.as_ref(), &project.name, &[], &[]).await?;
        let request = DownRequest {
            has_model,
            volumes: opts.volumes,
            remove_orphans: opts.remove_orphans,
            stop_only: opts.stop_only,
            timeout: opts.timeout,
            images: opts.images,
        };
        let target = reconcile::down_target(&project, &observed, &request);
        let plan = reconcile::down(&target, &observed)?;
        if opts.dry_run {
            return Ok(plan);
        }
        self.execute(project, &plan, false).await?;
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
        let observed = observe::snapshot(self.engine.as_ref(), &project.name, &[], &[]).await?;
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
        let timeouts = StopTimeouts::of(&project, opts.timeout);
        let plan = lifecycle::plan(action, &deps, &observed, services, &timeouts)?;
        if opts.dry_run {
            return Ok(plan);
        }
        let hub = self.execute(project.clone(), &plan, opts.wait).await?;
        if let (true, Some(hub)) = (opts.wait, hub) {
            self.wait_ready(project, hub, services, opts.wait_timeout)
                .await?;
        }
        Ok(plan)
    }

    /// The images of services that `ids` (from [`Runtime::image_ids`]) did not find.
    fn missing_images(
        &self,
        project: &Project,
        ids: &std::collections::HashMap<String, String>,
    ) -> Vec<String> {
        let mut missing: Vec<String> = project
            .services
            .values()
            .filter(|s| !ids.contains_key(&s.name))
            .map(|s| s.image_name(&project.name))
            .collect();
        missing.dedup();
        missing
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
            futures::future::join_all(names.iter().map(|n| self.engine.inspect_image(n))).await;
        let ids: std::collections::HashMap<&String, String> = names
            .iter()
            .zip(found)
            .filter_map(|(n, r)| Some((n, r.ok()?.id)))
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
                    build::build(self.engine.as_ref(), &self.report, project, s, opts).await
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
                pull::pull(self.engine.as_ref(), &self.report, i).await
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
        let list = observe::all_projects(self.engine.as_ref()).await?;
        let mut out: std::collections::BTreeMap<String, ProjectRow> = Default::default();
        for c in &list {
            let labels = &c.labels;
            let Some(name) = labels.get(labels::PROJECT) else {
                continue;
            };
            let state = c.state.clone();
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
            let i = self.engine.inspect_image(image).await.map_err(|e| {
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
            let digests = i.repo_digests;
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
            let i = self.engine.inspect_image(&id).await?;
            let tag = i.repo_tags.first().cloned();
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
                id: if i.id.is_empty() { id } else { i.id.clone() },
                repository,
                tag,
                platform: format!("{}/{}", i.os, i.architecture),
                size: i.size,
                last_tag_time: i.last_tag_time.clone(),
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
        self.engine.top(container).await
    }

    /// The exit code of a stopped container (waiting for it to stop).
    pub async fn exit_code(&self, container: &str) -> i64 {
        logs::exit_code(self.engine.as_ref(), container).await
    }

    /// The project's containers for `ps`, sorted by name.
    pub async fn ps(&self, project: &str, all: bool) -> Result<Vec<ContainerRow>, EngineError> {
        let list = observe::containers(self.engine.as_ref(), project).await?;
        let mut rows: Vec<ContainerRow> = list
            .iter()
            .filter(|c| c.labels.contains_key(labels::CONFIG_HASH))
            .filter(|c| all || c.state == "running")
            .map(|c| {
                let o = observe::container(c);
                let mut publishers: Vec<Publisher> = c
                    .ports
                    .iter()
                    .map(|p| Publisher {
                        url: p.ip.clone(),
                        target_port: p.private_port,
                        published_port: p.public_port.unwrap_or(0),
                        protocol: p.protocol.clone(),
                    })
                    .collect();
                publishers.sort_by(|a, b| {
                    (a.target_port, &a.protocol, &a.url).cmp(&(b.target_port, &b.protocol, &b.url))
                });
                ContainerRow {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    number: o.number,
                    image: c.image.clone(),
                    image_id: c.image_id.clone(),
                    command: c.command.clone(),
                    service: o.service.clone(),
                    created: c.created,
                    state: o.state.clone(),
                    status: c.status.clone(),
                    labels: c.labels.clone().into_iter().collect(),
                    mounts: c.mounts.iter().map(|m| (m.name.clone(), m.local)).collect(),
                    networks: c.networks.clone(),
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
