//! Runs a plan: every step starts as soon as the steps it waits for are done, bounded by one limit
//! on engine calls. The executor decides nothing; it only performs the operations.

use futures::future::{join_all, BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, Semaphore};

use super::convert;
use super::engine::{Engine, EngineError, ErrorKind};
use super::events::Hub;
use super::progress::{event, Reporter, Status};
use super::pull;
use super::wait::{self, Target};
use crate::graph::plan::{Op, Plan};
use crate::graph::probe::Probe;
use crate::graph::secrets::{self, SecretFile};
use crate::parse::{Condition, Project};

/// What every step shares.
#[derive(Clone)]
pub(super) struct Context {
    pub engine: Arc<dyn Engine>,
    pub project: Arc<Project>,
    pub report: Reporter,
    /// Bounds concurrent engine calls (`--parallel`).
    pub limit: Arc<Semaphore>,
    /// Container events, when the plan waits on conditions.
    pub hub: Option<Arc<Hub>>,
    /// Image ids, looked up once per image.
    images: Arc<Mutex<HashMap<String, String>>>,
    /// `--dry-run`: files on this machine (secrets) are neither written nor removed.
    pub dry: bool,
}

impl Context {
    pub(super) fn new(
        engine: Arc<dyn Engine>,
        project: Arc<Project>,
        report: Reporter,
        parallel: Option<usize>,
    ) -> Self {
        let permits = parallel
            .filter(|n| *n > 0)
            .unwrap_or(Semaphore::MAX_PERMITS);
        Context {
            engine,
            project,
            report,
            limit: Arc::new(Semaphore::new(permits)),
            hub: None,
            images: Arc::default(),
            dry: false,
        }
    }

    /// Starts the image cache with ids the caller has just looked up (image name -> id), so
    /// that creating a container does not ask for them again.
    pub(super) fn knowing_images(self, known: HashMap<String, String>) -> Self {
        Context {
            images: Arc::new(Mutex::new(known)),
            ..self
        }
    }
}

type StepFuture = Shared<BoxFuture<'static, Result<(), Arc<EngineError>>>>;

/// Runs every step; returns the errors of the steps that failed (dependents of a failed step are
/// skipped, not reported again).
pub(super) async fn run(ctx: &Context, plan: &Plan) -> Vec<EngineError> {
    let mut futures: Vec<StepFuture> = Vec::with_capacity(plan.steps.len());
    let failed: Arc<std::sync::Mutex<Vec<EngineError>>> = Arc::default();
    for step in &plan.steps {
        let deps: Vec<StepFuture> = step.deps.iter().map(|d| futures[*d].clone()).collect();
        let ctx = ctx.clone();
        let op = step.op.clone();
        let failed = failed.clone();
        let fut = async move {
            for r in join_all(deps).await {
                r?;
            }
            let result = perform(&ctx, &op).await;
            if let Err(e) = &result {
                if let Ok(mut f) = failed.lock() {
                    f.push(e.clone());
                }
            }
            result.map_err(Arc::new)
        }
        .boxed()
        .shared();
        futures.push(fut);
    }
    join_all(futures).await;
    let errors = failed.lock().map(|f| f.clone()).unwrap_or_default();
    errors
}

fn container_res(name: &str) -> String {
    format!("Container {name}")
}

/// Success when the engine says the object is already in the state asked for (or gone).
fn already(out: Result<(), EngineError>, kinds: &[ErrorKind]) -> Result<(), EngineError> {
    match out {
        Err(e) if kinds.contains(&e.kind) => Ok(()),
        other => other,
    }
}

async fn perform(ctx: &Context, op: &Op) -> Result<(), EngineError> {
    use ErrorKind::{Conflict, NotFound, NotModified};
    let r = &ctx.report;
    let engine = ctx.engine.as_ref();
    match op {
        Op::PullImage { image } => {
            let _p = ctx.limit.acquire().await;
            pull::pull(engine, r, image).await.map_err(|e| {
                let prefix = format!("pulling image `{image}` failed: ");
                let why = e.message.strip_prefix(&prefix).unwrap_or(&e.message);
                EngineError::new(
                    e.kind,
                    format!("image `{image}` is not on this engine and pulling it failed: {why}"),
                )
            })
        }
        Op::AwaitContainer {
            service,
            name,
            completed,
        } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Waiting"));
            let target = if *completed {
                Target::Completed
            } else {
                Target::Ready
            };
            let out = match &ctx.hub {
                Some(hub) => wait::container(engine, hub, name, service, target, None).await,
                None => Err(no_subscription()),
            };
            // `--wait` reports a failure once, as the command's error, as the reference does.
            match out {
                Ok(()) => r(event(&res, Status::Done, "Healthy")),
                Err(ref e) if *completed => r(event(&res, Status::Error, e.to_string())),
                Err(_) => {}
            }
            out
        }
        Op::CreateNetwork { key, name } => {
            let res = format!("Network {name}");
            r(event(&res, Status::Working, "Creating"));
            let _p = ctx.limit.acquire().await;
            let spec = convert::network(&ctx.project, key, name);
            // Another command may have created it meanwhile.
            let out = already(engine.create_network(&spec).await, &[Conflict]);
            finish(r, &res, out, "Created")
        }
        Op::CreateVolume { key, name } => {
            let res = format!("Volume {name}");
            r(event(&res, Status::Working, "Creating"));
            let _p = ctx.limit.acquire().await;
            let spec = convert::volume(&ctx.project, key, name);
            let out = engine.create_volume(&spec).await;
            finish(r, &res, out, "Created")
        }
        Op::CreateContainer {
            service,
            number,
            name,
            inherit,
        } => {
            let res = container_res(name);
            let doing = if inherit.is_some() {
                "Recreate"
            } else {
                "Creating"
            };
            r(event(&res, Status::Working, doing));
            let out = create_container(ctx, service, *number, inherit.as_deref()).await;
            let done = if inherit.is_some() {
                "Recreated"
            } else {
                "Created"
            };
            finish(r, &res, out, done)
        }
        Op::RenameContainer { name, to } => {
            let _p = ctx.limit.acquire().await;
            engine.rename_container(name, to).await
        }
        Op::WriteSecretFiles { .. } if ctx.dry => Ok(()),
        Op::WriteSecretFiles { files, .. } => write_secret_files(files),
        Op::CreateOneOff {
            service,
            name,
            slug,
            stdin,
            use_aliases,
        } => {
            let _p = ctx.limit.acquire().await;
            create_oneoff(ctx, service, name, slug, *stdin, *use_aliases).await
        }
        Op::StartContainer { name, .. } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Starting"));
            let _p = ctx.limit.acquire().await;
            let out = engine.start_container(name).await;
            finish(r, &res, out, "Started")
        }
        Op::Await {
            service,
            condition,
            probe,
        } => await_condition(ctx, service, *condition, probe.as_ref()).await,
        Op::KeepContainer { name, running, .. } => {
            if *running {
                r(event(container_res(name), Status::Done, "Running"));
            }
            Ok(())
        }
        Op::StopContainer { name, timeout } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Stopping"));
            let _p = ctx.limit.acquire().await;
            let out = engine.stop_container(name, *timeout).await;
            finish(r, &res, already(out, &[NotModified, NotFound]), "Stopped")
        }
        Op::RestartContainer { name, timeout } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Restarting"));
            let _p = ctx.limit.acquire().await;
            let out = engine.restart_container(name, *timeout).await;
            finish(r, &res, out, "Started")
        }
        Op::KillContainer { name, signal } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Killing"));
            let _p = ctx.limit.acquire().await;
            // Already gone or not running: nothing to kill.
            let out = already(
                engine.kill_container(name, signal).await,
                &[NotFound, Conflict],
            );
            finish(r, &res, out, "Killed")
        }
        Op::PauseContainer { name } => {
            // Only the outcome, as the reference.
            let res = container_res(name);
            let _p = ctx.limit.acquire().await;
            let out = engine.pause_container(name).await;
            finish(r, &res, out, "Paused")
        }
        Op::UnpauseContainer { name } => {
            let res = container_res(name);
            let _p = ctx.limit.acquire().await;
            let out = engine.unpause_container(name).await;
            finish(r, &res, out, "Unpaused")
        }
        Op::RemoveContainer { name, volumes } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Removing"));
            let _p = ctx.limit.acquire().await;
            let out = already(engine.remove_container(name, *volumes).await, &[NotFound]);
            if out.is_ok() && !ctx.dry {
                // Its environment and content secrets, if any.
                let root = super::private::secrets_path();
                let dir = secrets::container_dir(&root, &ctx.project.name, name);
                let _ = std::fs::remove_dir_all(&dir);
                // The project's folder too, once empty.
                if let Some(parent) = dir.parent() {
                    let _ = std::fs::remove_dir(parent);
                }
            }
            finish(r, &res, out, "Removed")
        }
        Op::RemoveNetwork { name, id } => {
            let res = format!("Network {name}");
            r(event(&res, Status::Working, "Removing"));
            let _p = ctx.limit.acquire().await;
            let by = if id.is_empty() { name } else { id };
            match already(engine.remove_network(by).await, &[NotFound]) {
                // Still used by a container of another command (a one-off `run`): the
                // reference warns and goes on.
                Err(e) if e.kind == ErrorKind::Forbidden => {
                    r(event(&res, Status::Warning, "Resource is still in use"));
                    Ok(())
                }
                out => finish(r, &res, out, "Removed"),
            }
        }
        Op::RemoveVolume { name } => {
            let res = format!("Volume {name}");
            r(event(&res, Status::Working, "Removing"));
            let _p = ctx.limit.acquire().await;
            let out = already(engine.remove_volume(name).await, &[NotFound]);
            finish(r, &res, out, "Removed")
        }
        Op::RemoveImage { name } => {
            let res = format!("Image {name}");
            r(event(&res, Status::Working, "Removing"));
            let _p = ctx.limit.acquire().await;
            let out = already(engine.remove_image(name).await, &[NotFound]);
            finish(r, &res, out, "Removed")
        }
    }
}

fn finish(
    r: &Reporter,
    res: &str,
    out: Result<(), EngineError>,
    done: &str,
) -> Result<(), EngineError> {
    match &out {
        Ok(()) => r(event(res, Status::Done, done)),
        Err(e) => r(event(res, Status::Error, e.to_string())),
    }
    out
}

/// The id of an image (looked up once per image).
async fn image_id(ctx: &Context, image: &str) -> Result<String, EngineError> {
    let mut cache = ctx.images.lock().await;
    if let Some(id) = cache.get(image) {
        return Ok(id.clone());
    }
    let id = ctx.engine.inspect_image(image).await?.id;
    cache.insert(image.to_string(), id.clone());
    Ok(id)
}

fn no_subscription() -> EngineError {
    EngineError::new(
        ErrorKind::Api,
        "internal: a wait was planned without an event subscription",
    )
}

async fn create_container(
    ctx: &Context,
    service: &str,
    number: u64,
    inherit: Option<&str>,
) -> Result<(), EngineError> {
    let project = &ctx.project;
    let svc = &project.services[service];
    let image = svc.image_name(&project.name);
    let id = image_id(ctx, &image).await?;
    let mut spec = convert::container(project, svc, number, &id);
    let _p = ctx.limit.acquire().await;
    if let Some(old) = inherit {
        let info = ctx.engine.inspect_container(old).await?;
        convert::inherit_anonymous_volumes(project, &mut spec, &info.mounts);
    }
    create_and_connect(ctx.engine.as_ref(), &spec).await
}

/// Creates a container, then connects it to its other networks.
async fn create_and_connect(
    engine: &dyn Engine,
    spec: &convert::ContainerSpec,
) -> Result<(), EngineError> {
    engine.create_container(spec).await?;
    for (net, ep) in &spec.extra_networks {
        engine.connect_network(net, &spec.name, ep).await?;
    }
    Ok(())
}

/// Creates the one-off container of `run` from the service as the command line changed it.
async fn create_oneoff(
    ctx: &Context,
    service: &str,
    name: &str,
    slug: &str,
    stdin: bool,
    use_aliases: bool,
) -> Result<(), EngineError> {
    let project = &ctx.project;
    let svc = &project.services[service];
    let image = svc.image_name(&project.name);
    let image_id = ctx.engine.inspect_image(&image).await?.id;
    let spec = convert::oneoff(project, svc, name, slug, &image_id, stdin, use_aliases);
    create_and_connect(ctx.engine.as_ref(), &spec).await
}

/// Writes environment and content secrets to their private host files (folders 0700, files with
/// the owner and mode asked for). The value never appears in an error.
fn write_secret_files(files: &[SecretFile]) -> Result<(), EngineError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    for m in files {
        let fail = |what: &str, e: std::io::Error| {
            EngineError::new(
                ErrorKind::Api,
                format!(
                    "{what} {} for a secret failed: {e} (rcompose keeps environment and content \
                     secrets in private files on the engine's host, so the engine must be local)",
                    m.host_path.display()
                ),
            )
        };
        if let Some(dir) = m.host_path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| fail("creating the folder of", e))?;
        }
        let tmp = m.host_path.with_extension("tmp");
        std::fs::write(&tmp, m.value.as_bytes()).map_err(|e| fail("writing", e))?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(m.mode))
            .map_err(|e| fail("setting the mode of", e))?;
        // A user other than root owns its files; it changes the owner only when asked to.
        if super::private::effective_uid() == 0 || (m.uid, m.gid) != (0, 0) {
            std::os::unix::fs::chown(&tmp, Some(m.uid), Some(m.gid))
                .map_err(|e| fail("setting the owner of", e))?;
        }
        std::fs::rename(&tmp, &m.host_path).map_err(|e| fail("writing", e))?;
    }
    Ok(())
}

/// Waits until every container of `service` meets `condition`, reading the event stream.
async fn await_condition(
    ctx: &Context,
    service: &str,
    condition: Condition,
    probe: Option<&Probe>,
) -> Result<(), EngineError> {
    let target = match condition {
        Condition::ServiceStarted => return Ok(()),
        Condition::ServiceHealthy => Target::Healthy,
        Condition::ServiceCompletedSuccessfully => Target::Completed,
    };
    let project = &ctx.project;
    let Some(svc) = project.services.get(service) else {
        return Ok(());
    };
    let Some(hub) = &ctx.hub else {
        return Err(no_subscription());
    };
    let names: Vec<String> = (1..=svc.replicas())
        .map(|n| crate::graph::reconcile::container_name(&project.name, svc, n))
        .collect();
    let waits = names.iter().map(|name| async move {
        let res = container_res(name);
        (ctx.report)(event(&res, Status::Working, "Waiting"));
        let out = wait::container(ctx.engine.as_ref(), hub, name, service, target, probe).await;
        match &out {
            Ok(()) if target == Target::Healthy => {
                (ctx.report)(event(&res, Status::Done, "Healthy"))
            }
            Ok(()) => (ctx.report)(event(&res, Status::Done, "Exited")),
            // The reference: `Error` for a dependency that is not healthy, the message itself
            // for one that did not complete.
            Err(_) if target == Target::Healthy => {
                (ctx.report)(event(&res, Status::Error, "Error"))
            }
            Err(e) => (ctx.report)(event(&res, Status::Error, e.to_string())),
        }
        out
    });
    for r in join_all(waits).await {
        r?;
    }
    Ok(())
}
