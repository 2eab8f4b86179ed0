//! The only code that speaks to the engine, through [`engine::Engine`]: observe, then execute
//! plans made by [`crate::graph`], and read state back for `ps` and logs.

pub mod archive;
mod attach;
mod build;
mod convert;
mod copy;
mod dockerignore;
pub mod endpoint;
pub mod engine;
mod events;
mod execute;
mod image_ops;
mod labels;
mod lock;
mod logs;
mod observe;
mod oneoff;
mod pipe;
mod prefetch;
mod preflight;
mod private;
mod probe;
mod progress;
mod pull;
mod stack;
mod unpack;
mod volumes;
mod wait;
mod watch;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::graph::images;
use crate::graph::lifecycle;
use crate::graph::observed::{MissingExternal, Observed};
use crate::graph::plan::{Op, Plan};
pub use crate::graph::reconcile::RemoveImages;
use crate::graph::reconcile::{self, DownRequest, UpPlanOptions};
use crate::graph::stop::StopTimeouts;
use crate::graph::Cycle;
use crate::parse::{Condition, Project};
pub use attach::ExecSpec;
pub use build::BuildOptions;
pub use engine::{CommitRequest, Engine, EngineError, EngineStream, ErrorKind, StatsSample};
pub use events::{now_nanos, Action as EventAction, ContainerEvent, Hub};
pub use labels::COMPOSE_VERSION;
pub use lock::{ProjectLock, WatchLock};
pub use logs::{LogEvent, LogOptions, Stream};
pub use oneoff::OneOff;
pub use prefetch::Prefetch;
pub use preflight::swarm_only_warning;
pub use progress::{Event, Reporter, Status};
pub use stack::{DeployOptions, DeployReport, StackServiceRow, StackTaskRow};
pub use volumes::{human, BackupOptions, Opener, RestoreOptions, VolumeRow};
pub use watch::{WatchEvent, WatchOptions, WatchReporter};

/// Why a runtime operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Cycle(#[from] Cycle),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// An external network or volume the engine does not have.
    #[error(transparent)]
    MissingExternal(#[from] MissingExternal),
    /// An image `pull_policy: never` forbids pulling and the engine does not have.
    #[error(transparent)]
    NeverPulled(#[from] images::NeverPulled),
    /// Stopped by Ctrl-C (SIGINT) before the operation ended (after cleaning up).
    #[error("interrupted")]
    Interrupted,
    /// Stopped by Ctrl-C, leaving what the message says (a restore's volumes).
    #[error("interrupted; {0}")]
    InterruptedLeaving(String),
    /// Steps of a plan that failed (the rest of the plan ran).
    #[error("{}", lines(.0))]
    Failed(Vec<EngineError>),
}

/// Fails, before anything is created, when a secret's environment variable is not set.
fn unset_secret(plan: &Plan) -> Result<(), Error> {
    match plan.unset_secret() {
        Some(m) => Err(EngineError::new(ErrorKind::Api, m).into()),
        None => Ok(()),
    }
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
    /// `--dry-run`: the engine changes nothing, and plans wait for nothing.
    dry: bool,
    pub report: Reporter,
    /// Bound on concurrent engine calls (`--parallel`, `COMPOSE_PARALLEL_LIMIT`).
    pub parallel: Option<usize>,
    /// Lists asked for before the project was loaded ([`Runtime::prefetch`]).
    early: prefetch::Slot,
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
    /// The services' image ids ([`Runtime::image_ids`]) when the command has just asked for them
    /// and pulled or built nothing since ([`Runtime::pull_by_policy`]): not asked again.
    pub known_images: Option<std::collections::HashMap<String, String>>,
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
            dry: false,
            report,
            parallel,
            early: prefetch::Slot::default(),
        }
    }

    /// Asks the engine now for what the command will first observe of `project` (its name as
    /// [`crate::parse::likely_name`] guesses it), so that the engine answers while the project
    /// loads. The first observation of that project through this runtime (or a clone) takes the
    /// answer; a command asks only when nothing changes the project before that observation.
    pub fn prefetch(&self, project: &str, what: Prefetch) {
        self.early.start(&self.engine, project, what);
    }

    /// The same engine seen through [`engine::dry::DryRun`]: reads are real, changes are only
    /// reported.
    pub fn dry_run(self) -> Runtime {
        Runtime {
            engine: Arc::new(engine::dry::DryRun::new(self.engine)),
            dry: true,
            ..self
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
        let what = format!("{container} copy {container}:{path} to {}", dest.display());
        if self.dry_copy(&what) {
            return Ok(());
        }
        copy::from_container(self.engine.as_ref(), container, path, dest).await
    }

    /// A dry run's copy: said, not done (nothing is written here either).
    fn dry_copy(&self, what: &str) -> bool {
        if self.dry {
            (self.report)(progress::event(what, Status::Working, "Copying"));
            (self.report)(progress::event(what, Status::Done, "Copied"));
        }
        self.dry
    }

    /// `cp SERVICE:PATH -`: `path` in the container as the engine's tar stream.
    pub fn copy_out_tar(&self, container: &str, path: &str) -> EngineStream<bytes::Bytes> {
        let what = format!("{container} copy {container}:{path} to -");
        if self.dry_copy(&what) {
            return Box::pin(futures::stream::empty());
        }
        self.engine.download(container, path)
    }

    /// `cp - SERVICE:PATH`: unpacks `tar` into folder `dir` of the container.
    pub async fn copy_in_tar(
        &self,
        container: &str,
        dir: &str,
        tar: Vec<u8>,
    ) -> Result<(), EngineError> {
        let what = format!("{container} copy - to {container}:{dir}");
        if self.dry_copy(&what) {
            return Ok(());
        }
        match self.engine.path_is_dir(container, dir).await? {
            Some(true) => self.engine.upload(container, dir, tar).await,
            Some(false) => Err(EngineError::new(
                ErrorKind::Api,
                format!("cannot copy a tar stream to {container}:{dir}: it is not a folder"),
            )),
            None => Err(EngineError::new(
                ErrorKind::NotFound,
                format!("cannot copy a tar stream to {container}:{dir}: no such folder"),
            )),
        }
    }

    /// Copies `src` from this machine into `container` at `path`.
    pub async fn copy_to(
        &self,
        container: &str,
        src: &std::path::Path,
        path: &str,
    ) -> Result<(), EngineError> {
        let what = format!("{container} copy {} to {container}:{path}", src.display());
        if self.dry_copy(&what) {
            return Ok(());
        }
        copy::to_container(self.engine.as_ref(), container, src, path).await
    }

    /// The logs of `containers` (see [`logs::stream`]).
    pub fn logs(
        &self,
        project: &str,
        containers: Vec<(String, Option<String>)>,
        services: Vec<String>,
        opts: logs::LogOptions,
    ) -> tokio::sync::mpsc::Receiver<logs::LogEvent> {
        logs::stream(self.engine.clone(), project, containers, services, opts)
    }

    /// A live subscription to the project's container events.
    pub fn events(&self, project: &str) -> events::Hub {
        events::Hub::start(self.engine.as_ref(), project)
    }

    /// Connects to the engine `endpoint` names (see [`endpoint::resolve`]).
    pub async fn connect(
        endpoint: &endpoint::Endpoint,
        report: Reporter,
        parallel: Option<usize>,
    ) -> Result<Self, EngineError> {
        Ok(Runtime::new(
            Arc::new(engine::docker::DockerEngine::connect(endpoint).await?),
            report,
            parallel,
        ))
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
        // Every volume by its name: one made by another project (or tool) is reused with a warning.
        let external_vols: Vec<String> = project.volumes.values().map(|v| v.name.clone()).collect();
        let observed = observe::snapshot_with(
            self.engine.as_ref(),
            &project.name,
            &external_nets,
            &external_vols,
            self.early.take(&project.name),
        )
        .await?;
        observed.check_external(project)?;
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
        self.execute_knowing(project, plan, events, Default::default())
            .await
    }

    /// [`Runtime::execute`] knowing the ids of some images (image name -> id).
    async fn execute_knowing(
        &self,
        project: Arc<Project>,
        plan: &Plan,
        events: bool,
        images: std::collections::HashMap<String, String>,
    ) -> Result<Option<Arc<events::Hub>>, Error> {
        let waits = plan.steps.iter().any(|s| match &s.op {
            Op::Await { condition, .. } => *condition != Condition::ServiceStarted,
            Op::AwaitContainer { .. } => true,
            _ => false,
        });
        if self.dry {
            self.execute_with(project, &plan.without_waits(), None, images)
                .await?;
            return Ok(None);
        }
        let hub = (waits || events)
            .then(|| Arc::new(events::Hub::start(self.engine.as_ref(), &project.name)));
        self.execute_with(project, plan, hub.clone(), images)
            .await?;
        Ok(hub)
    }

    /// Executes a plan with this event subscription (the one an earlier plan started).
    async fn execute_with(
        &self,
        project: Arc<Project>,
        plan: &Plan,
        hub: Option<Arc<events::Hub>>,
        images: std::collections::HashMap<String, String>,
    ) -> Result<(), Error> {
        let mut ctx = execute::Context::new(
            self.engine.clone(),
            project,
            self.report.clone(),
            self.parallel,
        )
        .knowing_images(images);
        ctx.dry = self.dry;
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
        let all = self.execute_with(project, &plan, Some(hub), Default::default());
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
        self.up_locked(project, opts, None).await
    }

    /// [`Runtime::up`] holding the project's `lock` while it changes the engine: `--wait` waits
    /// without it, so that other commands (a `down`) need not wait for the services' health.
    pub async fn up_locked(
        &self,
        project: Arc<Project>,
        opts: &UpOptions,
        lock: Option<ProjectLock>,
    ) -> Result<Plan, Error> {
        // The hashes are computed while the engine answers the lists asked for early.
        let hashes = crate::graph::hash::services(&project);
        let images = async {
            match &opts.known_images {
                Some(known) => known.clone(),
                None => self.image_ids(&project).await,
            }
        };
        let (observed, images) = tokio::join!(self.observe_for_up(&project), images);
        let observed = observed?;
        let mut plan_opts = opts.plan.clone();
        plan_opts.timeout = opts.timeout;
        plan_opts.images = images;
        plan_opts.config_hashes = hashes;
        plan_opts.missing_images = self.missing_images(&project, &plan_opts.images);
        plan_opts.secrets_root = private::secrets_root()?;
        let plan = reconcile::up(&project, &observed, &plan_opts)?;
        unset_secret(&plan)?;
        if opts.dry_run {
            return Ok(plan);
        }
        // The ids the plan was made from: images it pulls are missing from them, so not cached.
        let known: std::collections::HashMap<String, String> = project
            .services
            .values()
            .filter_map(|s| {
                let id = plan_opts.images.get(&s.name)?;
                Some((s.image_name(&project.name), id.clone()))
            })
            .collect();
        let hub = match self
            .execute_knowing(project.clone(), &plan, opts.wait, known)
            .await
        {
            Ok(hub) => hub,
            Err(e) => {
                // The private files of containers that were never created.
                self.sweep_secrets(&project.name).await;
                return Err(e);
            }
        };
        drop(lock);
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
        let out = self.execute(project.clone(), &plan, false).await;
        if !opts.stop_only {
            // Whatever is left of the project's private files: those of containers removed by
            // another tool, or never created.
            self.sweep_secrets(&project.name).await;
        }
        out?;
        Ok(plan)
    }

    /// Removes the private secret files of the project's containers that do not exist (never
    /// created, or removed by another tool), and the project's folder once empty.
    pub(crate) async fn sweep_secrets(&self, project: &str) {
        if self.dry {
            return;
        }
        let dir = crate::graph::secrets::project_dir(&private::secrets_path(), project);
        // Before the per-user folder, root's secret files were in `/run/rcompose/<project>`.
        let legacy = private::legacy_project_dir(project);
        if !dir.exists() && legacy.is_none() {
            return;
        }
        let Ok(existing) = observe::containers(self.engine.as_ref(), project).await else {
            return;
        };
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !existing.iter().any(|c| c.name == name) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
            let _ = std::fs::remove_dir(&dir);
        }
        if let (true, Some(old)) = (existing.is_empty(), legacy) {
            let _ = std::fs::remove_dir_all(old);
        }
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
        let deps = lifecycle::dependencies(&project);
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
            Some(self.image_ids(project).await)
        } else {
            None
        };
        self.build_with(project, services, have.as_ref(), opts)
            .await
            .map(drop)
    }

    /// [`Runtime::build`] knowing the images the engine has (`have`: only those missing are
    /// built); returns how many were built.
    pub async fn build_with(
        &self,
        project: &Project,
        services: &[String],
        have: Option<&std::collections::HashMap<String, String>>,
        opts: &build::BuildOptions,
    ) -> Result<usize, Error> {
        let limit = Arc::new(tokio::sync::Semaphore::new(
            self.parallel.unwrap_or(tokio::sync::Semaphore::MAX_PERMITS),
        ));
        let builds = images::builds(project, services, have);
        let count = builds.len();
        let builds = builds.into_iter().map(|s| {
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
            Ok(count)
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
        let images = images::pull_images(project, services, ignore_buildable);
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

    /// Pulls before `up` what `graph::images` decides from each `pull_policy` and the images the
    /// engine has; an image `never` to pull that is missing is an error. Returns the services'
    /// image ids when nothing was pulled (they still hold), `None` otherwise.
    pub async fn pull_by_policy(
        &self,
        project: &Project,
        services: &[String],
    ) -> Result<Option<std::collections::HashMap<String, String>>, Error> {
        // Missing images are pulled before anything is created, so that a failure leaves nothing.
        let have = self.image_ids(project).await;
        let pull = images::pulls(project, services, &have);
        if !pull.is_empty() {
            self.pull(project, &pull, false, false).await?;
        }
        images::never_pulled(project, services, &have)?;
        Ok(pull.is_empty().then_some(have))
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
        let list = match self.early.take(project) {
            Some(early) => early.containers().await?,
            None => observe::containers(self.engine.as_ref(), project).await?,
        };
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
                    state: o.state.as_str().to_string(),
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
    format!("{} ago", crate::parse::units::human_duration(secs))
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
