//! Runs a plan: every step starts as soon as the steps it waits for are done, bounded by one limit
//! on engine calls. The executor decides nothing; it only performs the operations.

use bollard::models::{NetworkConnectRequest, NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use futures::future::{join_all, BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, Semaphore};

use super::convert;
use super::engine::{EngineError, ErrorKind};
use super::events::Hub;
use super::labels;
use super::progress::{event, Reporter, Status};
use super::wait::{self, Target};
use crate::graph::plan::{Op, Plan};
use crate::graph::secrets::{self, SecretFile};
use crate::parse::{Condition, Project};

/// What every step shares.
#[derive(Clone)]
pub struct Context {
    pub docker: Docker,
    pub project: Arc<Project>,
    pub report: Reporter,
    /// Bounds concurrent engine calls (`--parallel`).
    pub limit: Arc<Semaphore>,
    /// Container events, when the plan waits on conditions.
    pub hub: Option<Arc<Hub>>,
    /// Image ids, looked up once per image.
    images: Arc<Mutex<HashMap<String, String>>>,
}

impl Context {
    pub fn new(
        docker: Docker,
        project: Arc<Project>,
        report: Reporter,
        parallel: Option<usize>,
    ) -> Self {
        let permits = parallel
            .filter(|n| *n > 0)
            .unwrap_or(Semaphore::MAX_PERMITS);
        Context {
            docker,
            project,
            report,
            limit: Arc::new(Semaphore::new(permits)),
            hub: None,
            images: Arc::default(),
        }
    }
}

type StepFuture = Shared<BoxFuture<'static, Result<(), Arc<EngineError>>>>;

/// Runs every step; returns the errors of the steps that failed (dependents of a failed step are
/// skipped, not reported again).
pub async fn run(ctx: &Context, plan: &Plan) -> Vec<EngineError> {
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

async fn perform(ctx: &Context, op: &Op) -> Result<(), EngineError> {
    let r = &ctx.report;
    match op {
        Op::CreateNetwork { key, name } => {
            let res = format!("Network {name}");
            r(event(&res, Status::Working, "Creating"));
            let _p = ctx.limit.acquire().await;
            let out = create_network(ctx, key, name).await;
            finish(r, &res, out, "Created")
        }
        Op::CreateVolume { key, name } => {
            let res = format!("Volume {name}");
            r(event(&res, Status::Working, "Creating"));
            let _p = ctx.limit.acquire().await;
            let out = create_volume(ctx, key, name).await;
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
            let opts = bollard::query_parameters::RenameContainerOptionsBuilder::default()
                .name(to)
                .build();
            ctx.docker
                .rename_container(name, opts)
                .await
                .map_err(|e| EngineError::from_bollard(&format!("renaming container {name}"), e))
        }
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
            let out =
                ctx.docker.start_container(name, None).await.map_err(|e| {
                    EngineError::from_bollard(&format!("starting container {name}"), e)
                });
            finish(r, &res, out, "Started")
        }
        Op::Await { service, condition } => await_condition(ctx, service, *condition).await,
        Op::StopContainer { name, timeout } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Stopping"));
            let _p = ctx.limit.acquire().await;
            let mut b = StopContainerOptionsBuilder::default();
            if let Some(t) = timeout {
                b = b.t(*t as i32);
            }
            let out = match ctx.docker.stop_container(name, Some(b.build())).await {
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 304 | 404,
                    ..
                }) => Ok(()),
                other => other.map_err(|e| {
                    EngineError::from_bollard(&format!("stopping container {name}"), e)
                }),
            };
            finish(r, &res, out, "Stopped")
        }
        Op::RestartContainer { name, timeout } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Restarting"));
            let _p = ctx.limit.acquire().await;
            let mut b = bollard::query_parameters::RestartContainerOptionsBuilder::default();
            if let Some(t) = timeout {
                b = b.t(*t as i32);
            }
            let out = ctx
                .docker
                .restart_container(name, Some(b.build()))
                .await
                .map_err(|e| EngineError::from_bollard(&format!("restarting container {name}"), e));
            finish(r, &res, out, "Started")
        }
        Op::KillContainer { name, signal } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Killing"));
            let _p = ctx.limit.acquire().await;
            let opts = bollard::query_parameters::KillContainerOptionsBuilder::default()
                .signal(signal)
                .build();
            let out = match ctx.docker.kill_container(name, Some(opts)).await {
                // Already gone or not running: nothing to kill.
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404 | 409,
                    ..
                }) => Ok(()),
                other => other.map_err(|e| {
                    EngineError::from_bollard(&format!("killing container {name}"), e)
                }),
            };
            finish(r, &res, out, "Killed")
        }
        Op::PauseContainer { name } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Pausing"));
            let _p = ctx.limit.acquire().await;
            let out =
                ctx.docker.pause_container(name).await.map_err(|e| {
                    EngineError::from_bollard(&format!("pausing container {name}"), e)
                });
            finish(r, &res, out, "Paused")
        }
        Op::UnpauseContainer { name } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Unpausing"));
            let _p = ctx.limit.acquire().await;
            let out =
                ctx.docker.unpause_container(name).await.map_err(|e| {
                    EngineError::from_bollard(&format!("unpausing container {name}"), e)
                });
            finish(r, &res, out, "Unpaused")
        }
        Op::RemoveContainer { name, volumes } => {
            let res = container_res(name);
            r(event(&res, Status::Working, "Removing"));
            let _p = ctx.limit.acquire().await;
            let opts = RemoveContainerOptionsBuilder::default()
                .force(true)
                .v(*volumes)
                .build();
            let out = match ctx.docker.remove_container(name, Some(opts)).await {
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => Ok(()),
                other => other.map_err(|e| {
                    EngineError::from_bollard(&format!("removing container {name}"), e)
                }),
            };
            if out.is_ok() {
                // Its environment and content secrets, if any.
                let dir = secrets::container_dir(&ctx.project.name, name);
                let _ = std::fs::remove_dir_all(&dir);
                // The project's folder too, once empty.
                if let Some(parent) = dir.parent() {
                    let _ = std::fs::remove_dir(parent);
                }
            }
            finish(r, &res, out, "Removed")
        }
        Op::RemoveNetwork { name } => {
            let res = format!("Network {name}");
            r(event(&res, Status::Working, "Removing"));
            let _p = ctx.limit.acquire().await;
            let out = match ctx.docker.remove_network(name).await {
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => Ok(()),
                other => other
                    .map_err(|e| EngineError::from_bollard(&format!("removing network {name}"), e)),
            };
            finish(r, &res, out, "Removed")
        }
        Op::RemoveVolume { name } => {
            let res = format!("Volume {name}");
            r(event(&res, Status::Working, "Removing"));
            let _p = ctx.limit.acquire().await;
            let out = match ctx
                .docker
                .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
                .await
            {
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => Ok(()),
                other => other
                    .map_err(|e| EngineError::from_bollard(&format!("removing volume {name}"), e)),
            };
            finish(r, &res, out, "Removed")
        }
        Op::RemoveImage { name } => {
            let res = format!("Image {name}");
            r(event(&res, Status::Working, "Removing"));
            let _p = ctx.limit.acquire().await;
            let out = match ctx
                .docker
                .remove_image(
                    name,
                    None::<bollard::query_parameters::RemoveImageOptions>,
                    None,
                )
                .await
            {
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => Ok(()),
                other => other
                    .map(|_| ())
                    .map_err(|e| EngineError::from_bollard(&format!("removing image {name}"), e)),
            };
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

async fn create_network(ctx: &Context, key: &str, name: &str) -> Result<(), EngineError> {
    let net = &ctx.project.networks[key];
    let mut labels: HashMap<String, String> = net
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.insert(labels::PROJECT.into(), ctx.project.name.clone());
    labels.insert(labels::NETWORK.into(), key.into());
    labels.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
    let ipam = net.ipam.as_ref().map(|i| bollard::models::Ipam {
        driver: i.driver.clone(),
        config: Some(
            i.config
                .iter()
                .map(|c| bollard::models::IpamConfig {
                    subnet: c.subnet.clone(),
                    ip_range: c.ip_range.clone(),
                    gateway: c.gateway.clone(),
                    auxiliary_addresses: (!c.aux_addresses.is_empty()).then(|| {
                        c.aux_addresses
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    }),
                })
                .collect(),
        ),
        options: (!i.options.is_empty()).then(|| {
            i.options
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }),
    });
    let req = NetworkCreateRequest {
        name: name.to_string(),
        driver: net.driver.clone(),
        internal: Some(net.internal),
        attachable: Some(net.attachable),
        enable_ipv6: net.enable_ipv6,
        options: Some(
            net.driver_opts
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        labels: Some(labels),
        ipam,
        ..Default::default()
    };
    match ctx.docker.create_network(req).await {
        Ok(_) => Ok(()),
        // Another command created it meanwhile.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => Ok(()),
        Err(e) => Err(EngineError::from_bollard(
            &format!("creating network {name}"),
            e,
        )),
    }
}

async fn create_volume(ctx: &Context, key: &str, name: &str) -> Result<(), EngineError> {
    let vol = &ctx.project.volumes[key];
    let mut labels: HashMap<String, String> = vol
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.insert(labels::PROJECT.into(), ctx.project.name.clone());
    labels.insert(labels::VOLUME.into(), key.into());
    labels.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
    let req = VolumeCreateRequest {
        name: Some(name.to_string()),
        driver: vol.driver.clone(),
        driver_opts: (!vol.driver_opts.is_empty()).then(|| {
            vol.driver_opts
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }),
        labels: Some(labels),
        ..Default::default()
    };
    ctx.docker
        .create_volume(req)
        .await
        .map(|_| ())
        .map_err(|e| EngineError::from_bollard(&format!("creating volume {name}"), e))
}

/// The id of an image, pulling it when it is missing.
async fn image_id(ctx: &Context, image: &str) -> Result<String, EngineError> {
    let mut cache = ctx.images.lock().await;
    if let Some(id) = cache.get(image) {
        return Ok(id.clone());
    }
    let id = match ctx.docker.inspect_image(image).await {
        Ok(i) => i.id.unwrap_or_default(),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {
            super::pull::pull(&ctx.docker, &ctx.report, image)
                .await
                .map_err(|e| {
                    let prefix = format!("pulling image `{image}` failed: ");
                    let why = e.message.strip_prefix(&prefix).unwrap_or(&e.message);
                    EngineError::new(
                        e.kind,
                        format!(
                            "image `{image}` is not on this engine and pulling it failed: {why}"
                        ),
                    )
                })?;

            ctx.docker
                .inspect_image(image)
                .await
                .map_err(|e| EngineError::from_bollard(&format!("inspecting image {image}"), e))?
                .id
                .unwrap_or_default()
        }
        Err(e) => {
            return Err(EngineError::from_bollard(
                &format!("inspecting image {image}"),
                e,
            ))
        }
    };
    cache.insert(image.to_string(), id.clone());
    Ok(id)
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
        let info =
            ctx.docker.inspect_container(old, None).await.map_err(|e| {
                EngineError::from_bollard(&format!("inspecting container {old}"), e)
            })?;
        convert::inherit_anonymous_volumes(project, &mut spec, &info.mounts.unwrap_or_default());
    }
    if let Some(mac) = &svc.mac_address {
        create_with_mac(&ctx.docker, &spec, mac).await?;
    } else {
        let opts = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        ctx.docker
            .create_container(Some(opts), spec.body)
            .await
            .map_err(|e| {
                EngineError::from_bollard(&format!("creating container {}", spec.name), e)
            })?;
    }
    for (net, ep) in spec.extra_networks {
        let req = NetworkConnectRequest {
            container: spec.name.clone(),
            endpoint_config: Some(ep),
        };
        ctx.docker.connect_network(&net, req).await.map_err(|e| {
            EngineError::from_bollard(&format!("connecting {} to network {net}", spec.name), e)
        })?;
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
    let image_id = ctx
        .docker
        .inspect_image(&image)
        .await
        .map_err(|e| EngineError::from_bollard(&format!("inspecting image {image}"), e))?
        .id
        .unwrap_or_default();
    let spec = convert::oneoff(project, svc, name, slug, &image_id, stdin, use_aliases);
    let opts = CreateContainerOptionsBuilder::default().name(name).build();
    ctx.docker
        .create_container(Some(opts), spec.body)
        .await
        .map_err(|e| EngineError::from_bollard(&format!("creating container {name}"), e))?;
    for (net, ep) in spec.extra_networks {
        let req = NetworkConnectRequest {
            container: name.to_string(),
            endpoint_config: Some(ep),
        };
        ctx.docker.connect_network(&net, req).await.map_err(|e| {
            EngineError::from_bollard(&format!("connecting {name} to network {net}"), e)
        })?;
    }
    Ok(())
}

/// Creates a container with `mac_address`: engines before API 1.44 only honour the container's
/// `Config.MacAddress`, which the typed create body no longer has, so this one request is written
/// by hand on the engine's unix socket.
async fn create_with_mac(
    docker: &Docker,
    spec: &convert::ContainerSpec,
    mac: &str,
) -> Result<(), EngineError> {
    let what = format!("creating container {}", spec.name);
    let mut body = serde_json::to_value(&spec.body)
        .map_err(|e| EngineError::new(ErrorKind::Api, format!("{what}: {e}")))?;
    if let Some(m) = body.as_object_mut() {
        m.insert(
            "MacAddress".into(),
            serde_json::Value::String(mac.to_string()),
        );
    }
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let socket = match host.strip_prefix("unix://") {
        Some(p) => p.to_string(),
        None if host.is_empty() => "/var/run/docker.sock".to_string(),
        None => {
            return Err(EngineError::new(
                ErrorKind::Api,
                format!(
                    "{what}: `mac_address` needs the engine's unix socket with this engine's API \
                     ({host} is not one); remove `mac_address` or use a local engine"
                ),
            ))
        }
    };
    let version = docker.client_version().to_string();
    let path = format!("/v{version}/containers/create?name={}", spec.name);
    match post_json(&socket, &path, body.to_string()).await {
        Ok((201, _)) => Ok(()),
        Ok((code, text)) => {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or(text);
            let kind = if code == 404 {
                ErrorKind::NotFound
            } else {
                ErrorKind::Api
            };
            Err(EngineError::new(kind, format!("{what}: {message}")))
        }
        Err(e) => Err(EngineError::new(
            ErrorKind::Connect,
            format!("{what}: talking to the engine failed: {e}"),
        )),
    }
}

/// One POST of a JSON body to the engine's unix socket: the status and the body.
async fn post_json(
    socket: &str,
    path: &str,
    body: String,
) -> Result<(u16, String), Box<dyn std::error::Error + Send + Sync>> {
    use http_body_util::BodyExt;
    use hyperlocal::UnixClientExt;
    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::unix();
    let request = hyper::Request::post(hyper::Uri::from(hyperlocal::Uri::new(socket, path)))
        .header("Content-Type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))?;
    let response = client.request(request).await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
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
        std::os::unix::fs::chown(&tmp, Some(m.uid), Some(m.gid))
            .map_err(|e| fail("setting the owner of", e))?;
        std::fs::rename(&tmp, &m.host_path).map_err(|e| fail("writing", e))?;
    }
    Ok(())
}

/// Waits until every container of `service` meets `condition`, reading the event stream.
async fn await_condition(
    ctx: &Context,
    service: &str,
    condition: Condition,
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
        return Err(EngineError::new(
            ErrorKind::Api,
            "internal: a wait was planned without an event subscription",
        ));
    };
    let names: Vec<String> = (1..=svc.replicas())
        .map(|n| crate::graph::reconcile::container_name(&project.name, svc, n))
        .collect();
    let waits = names.iter().map(|name| async move {
        let res = container_res(name);
        (ctx.report)(event(&res, Status::Working, "Waiting"));
        let out = wait::container(&ctx.docker, hub, name, service, target).await;
        let done = if target == Target::Healthy {
            "Healthy"
        } else {
            "Exited"
        };
        finish(&ctx.report, &res, out, done)
    });
    for r in join_all(waits).await {
        r?;
    }
    Ok(())
}
