//! The [`Engine`] on a Docker Engine API, through bollard: the only file that speaks bollard
//! beyond the request bodies of [`crate::runtime::convert`].

use bollard::container::LogOutput;
use bollard::errors::Error as B;
use bollard::query_parameters as q;
use bollard::Docker;
use bytes::Bytes;
use futures::{FutureExt, StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{insecure_tls, ssh};
use super::{
    Attached, BuildOutput, BuildRequest, CommitRequest, ContainerDetails, ContainerSummary, Engine,
    EngineError, EngineFuture, EngineStream, ErrorKind, EventMessage, ExecRequest, ImageDetails,
    LogsRequest, MountPoint, MountSummary, Output, PortSummary, ResourceSummary, StatsSample,
    SwarmInfo, SwarmKind, UploadBody, VolumeDetails, VolumeUsage,
};
use crate::runtime::convert::{ContainerSpec, Endpoint, NetworkSpec, VolumeSpec};
use crate::runtime::endpoint;

/// The engine chosen by [`crate::runtime::endpoint::resolve`].
#[derive(Clone)]
pub(crate) struct DockerEngine {
    docker: Docker,
    /// The unix socket's path, for a local engine.
    socket: Option<String>,
    host: String,
}

/// Maps a bollard error once: 404, 409, 403 and 304 to their kinds, transport errors to `Connect`;
/// the message starts with what was being done (`doing`, when not empty).
fn map(doing: &str, err: B) -> EngineError {
    let say = |m: String| {
        if doing.is_empty() {
            m
        } else {
            format!("{doing}: {m}")
        }
    };
    match err {
        B::DockerResponseServerError {
            status_code,
            message,
        } => {
            let kind = match status_code {
                404 => ErrorKind::NotFound,
                409 => ErrorKind::Conflict,
                403 => ErrorKind::Forbidden,
                304 => ErrorKind::NotModified,
                _ => ErrorKind::Api,
            };
            EngineError::new(kind, say(message))
        }
        B::IOError { err } => EngineError::new(
            ErrorKind::Connect,
            say(format!("cannot reach the Docker engine: {err}")),
        ),
        B::HyperResponseError { err } => EngineError::new(
            ErrorKind::Connect,
            say(format!("cannot reach the Docker engine: {err}")),
        ),
        B::DockerStreamError { error } => EngineError::new(ErrorKind::Api, error),
        B::RequestTimeoutError => EngineError::new(
            ErrorKind::Connect,
            say(
                "the Docker engine did not answer in time: it may be hung or overloaded (see \
                 `docker info` and the engine's logs)"
                    .to_string(),
            ),
        ),
        other => EngineError::new(ErrorKind::Api, say(other.to_string())),
    }
}

/// No bound: a call that takes as long as the work it asks for (waits, logs, events, builds,
/// pulls, copies).
const UNBOUNDED: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// How long a stop (or restart) of a container may take: the quick calls' bound on top of its
/// grace period, after which the engine kills it; with the container's own grace period
/// (`None`) or none at all (negative), no bound.
pub(crate) fn stop_call_timeout(
    quick: std::time::Duration,
    grace: Option<i64>,
) -> std::time::Duration {
    match grace {
        Some(t) if t >= 0 => quick + std::time::Duration::from_secs(t.unsigned_abs()),
        _ => UNBOUNDED,
    }
}

fn output(chunk: LogOutput) -> Option<Output> {
    match chunk {
        LogOutput::StdErr { message } => Some(Output::Stderr(message)),
        LogOutput::StdOut { message } | LogOutput::Console { message } => {
            Some(Output::Stdout(message))
        }
        LogOutput::StdIn { .. } => None,
    }
}

type RawOutput = std::pin::Pin<Box<dyn futures::Stream<Item = Result<LogOutput, B>> + Send>>;

fn outputs(raw: RawOutput, doing: String) -> EngineStream<Output> {
    raw.map_err(move |e| map(&doing, e))
        .try_filter_map(|c| futures::future::ready(Ok(output(c))))
        .boxed()
}

fn label_filter(label: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![label.to_string()])])
}

impl DockerEngine {
    /// `GET /info`: the engine's data folder, identity and more.
    async fn info(&self) -> Result<bollard::models::SystemInfo, EngineError> {
        self.docker
            .info()
            .await
            .map_err(|e| map("reading the engine's information", e))
    }

    /// The client for a call that may take `limit` (quick calls use `self.docker`, bounded by
    /// its timeout: two minutes).
    fn patient(&self, limit: std::time::Duration) -> Docker {
        self.docker.clone().with_timeout(limit)
    }

    /// The client for a stop or restart with this grace period.
    fn stopper(&self, grace: Option<i64>) -> Docker {
        self.patient(stop_call_timeout(self.docker.timeout(), grace))
    }

    /// Connects to `endpoint` and agrees on an API version with the engine (ours speak 1.41).
    pub(crate) async fn connect(endpoint: &endpoint::Endpoint) -> Result<Self, EngineError> {
        let host = endpoint.host.as_str();
        let at = if endpoint.context == "default" {
            host.to_string()
        } else {
            format!("{host} (context \"{}\")", endpoint.context)
        };
        let fail = |e: String| {
            EngineError::new(
                ErrorKind::Connect,
                format!("cannot connect to the Docker engine at {at}: {e}"),
            )
        };
        let version = bollard::API_DEFAULT_VERSION;
        // What ssh said when it could not reach the engine, for the error.
        let ssh_said = Arc::new(Mutex::new(String::new()));
        // A local engine's API version comes from `/_ping`, as the docker CLI asks: bollard's
        // `/version` makes engines before 23 run `runc --version` (15 ms or more, every command).
        let pinged = match endpoint.socket_path() {
            Some(path) => ping_version(path)
                .await
                .map_err(|e| fail(format!("{e}. Is the docker daemon running?")))?,
            None => None,
        };
        let docker = if let Some(path) = endpoint.socket_path() {
            Docker::connect_with_unix(path, 120, pinged.as_ref().unwrap_or(version))
        } else if host.starts_with("tcp://")
            || host.starts_with("http://")
            || host.starts_with("https://")
        {
            match &endpoint.tls {
                // `--tls` without `--tlsverify`, or a context's `SkipTLSVerify`.
                Some(t) if !t.verify => {
                    let client = (t.cert.exists() && t.key.exists())
                        .then_some((t.cert.as_path(), t.key.as_path()));
                    Ok(insecure_tls::connect(host, client, 120, version).map_err(fail)?)
                }
                Some(t) => {
                    for f in [&t.ca, &t.cert, &t.key] {
                        if !f.exists() {
                            return Err(fail(format!(
                                "TLS file {} is missing (from the context's TLS material, \
                                 --tlscacert/--tlscert/--tlskey or DOCKER_CERT_PATH)",
                                f.display()
                            )));
                        }
                    }
                    Docker::connect_with_ssl(host, &t.key, &t.cert, &t.ca, 120, version)
                }
                None => Docker::connect_with_http(host, 120, version),
            }
        } else if host.starts_with("ssh://") {
            let target = ssh::SshTarget::parse(host).map_err(fail)?;
            ssh::connect(target, 120, version, ssh_said.clone())
        } else {
            return Err(fail(
                "this kind of endpoint is not supported (rcompose speaks to unix://, tcp:// and \
                 ssh:// engines)"
                    .into(),
            ));
        }
        .map_err(|e| fail(e.to_string()))?;
        let negotiated = match pinged {
            Some(_) => Ok(docker),
            None => docker.negotiate_version().await,
        };
        let docker = match negotiated {
            Ok(d) => d,
            Err(e) => {
                // When ssh could not reach the engine, its own words say why.
                let said = if host.starts_with("ssh://") {
                    ssh::said(&ssh_said).await
                } else {
                    None
                };
                return Err(fail(match said {
                    Some(said) => said,
                    None => format!("{e}. Is the docker daemon running?"),
                }));
            }
        };
        endpoint::set_current(endpoint);
        Ok(DockerEngine {
            docker,
            socket: endpoint.socket_path().map(str::to_string),
            host: endpoint.host.clone(),
        })
    }

    /// Creates a container with `mac_address`: engines before API 1.44 only honour the
    /// container's `Config.MacAddress`, which the typed create body no longer has, so this one
    /// request is written by hand on the engine's unix socket.
    async fn create_with_mac(&self, spec: &ContainerSpec, mac: &str) -> Result<(), EngineError> {
        let what = format!("creating container {}", spec.name);
        let mut body = serde_json::to_value(&spec.body)
            .map_err(|e| EngineError::new(ErrorKind::Api, format!("{what}: {e}")))?;
        if let Some(m) = body.as_object_mut() {
            m.insert(
                "MacAddress".into(),
                serde_json::Value::String(mac.to_string()),
            );
        }
        let host = &self.host;
        let socket = match &self.socket {
            Some(p) => p.clone(),
            None => {
                return Err(EngineError::new(
                    ErrorKind::Api,
                    format!(
                        "{what}: `mac_address` needs the engine's unix socket with this engine's \
                         API ({host} is not one); remove `mac_address` or use a local engine"
                    ),
                ))
            }
        };
        let version = self.docker.client_version().to_string();
        let path = format!("/v{version}/containers/create?name={}", spec.name);
        match post_json(&socket, &path, body.to_string()).await {
            Ok((201, _)) => Ok(()),
            Ok((code, text)) => {
                let message = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["message"].as_str().map(str::to_string))
                    .unwrap_or(text);
                let kind = match code {
                    404 => ErrorKind::NotFound,
                    409 => ErrorKind::Conflict,
                    _ => ErrorKind::Api,
                };
                Err(EngineError::new(kind, format!("{what}: {message}")))
            }
            Err(e) => Err(EngineError::new(
                ErrorKind::Connect,
                format!("{what}: talking to the engine failed: {e}"),
            )),
        }
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
    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<Bytes>> =
        hyper_util::client::legacy::Client::unix();
    let request = hyper::Request::post(hyper::Uri::from(hyperlocal::Uri::new(socket, path)))
        .header("Content-Type", "application/json")
        .body(http_body_util::Full::new(Bytes::from(body)))?;
    let response = client.request(request).await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// The API version to speak to the engine on unix socket `socket`: the lower of its own (the
/// `Api-Version` header of `/_ping`) and bollard's; `None` when the engine does not say.
async fn ping_version(socket: &str) -> Result<Option<bollard::ClientVersion>, String> {
    use hyperlocal::UnixClientExt;
    let client: hyper_util::client::legacy::Client<_, http_body_util::Empty<Bytes>> =
        hyper_util::client::legacy::Client::unix();
    let request = hyper::Request::get(hyper::Uri::from(hyperlocal::Uri::new(socket, "/_ping")))
        .body(http_body_util::Empty::new())
        .map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| {
        // The cause (no such file, permission denied) is in the error's source.
        let mut said = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            said = format!("{said}: {c}");
            cause = c.source();
        }
        format!("connecting to {socket}: {said}")
    })?;
    if !response.status().is_success() {
        return Err(format!(
            "the engine answered {} to /_ping",
            response.status()
        ));
    }
    let theirs = response
        .headers()
        .get("api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once('.'))
        .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)));
    let ours = bollard::API_DEFAULT_VERSION;
    Ok(theirs.map(|(major_version, minor_version)| {
        let v = bollard::ClientVersion {
            major_version,
            minor_version,
        };
        if (major_version, minor_version) < (ours.major_version, ours.minor_version) {
            v
        } else {
            *ours
        }
    }))
}

/// One GET on the engine's unix socket: the status and the body.
async fn get_raw(
    socket: &str,
    path: &str,
) -> Result<(u16, Bytes), Box<dyn std::error::Error + Send + Sync>> {
    use http_body_util::BodyExt;
    use hyperlocal::UnixClientExt;
    let client: hyper_util::client::legacy::Client<_, http_body_util::Empty<Bytes>> =
        hyper_util::client::legacy::Client::unix();
    let request = hyper::Request::get(hyper::Uri::from(hyperlocal::Uri::new(socket, path)))
        .body(http_body_util::Empty::new())?;
    let response = client.request(request).await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, bytes))
}

fn volume_details(v: bollard::models::Volume) -> VolumeDetails {
    VolumeDetails {
        name: v.name,
        driver: v.driver,
        mountpoint: v.mountpoint,
        scope: v.scope.map(|s| s.to_string()).unwrap_or_default(),
        labels: v.labels,
        options: v.options,
    }
}

/// The volumes of a disk-usage answer: `Volumes` before API 1.52, `VolumeUsage.Items` after.
fn usage_of(df: &serde_json::Value) -> Vec<VolumeUsage> {
    let list = df["Volumes"]
        .as_array()
        .or_else(|| df["VolumeUsage"]["Items"].as_array());
    list.into_iter()
        .flatten()
        .map(|v| VolumeUsage {
            name: v["Name"].as_str().unwrap_or_default().to_string(),
            size: v["UsageData"]["Size"].as_i64().unwrap_or(-1),
            ref_count: v["UsageData"]["RefCount"].as_i64().unwrap_or(-1),
        })
        .collect()
}

fn summary(c: bollard::models::ContainerSummary) -> ContainerSummary {
    let mut networks: Vec<String> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    networks.sort();
    ContainerSummary {
        id: c.id.unwrap_or_default(),
        name: c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_default(),
        image: c.image.unwrap_or_default(),
        image_id: c.image_id.unwrap_or_default(),
        command: c.command.unwrap_or_default(),
        created: c.created.unwrap_or(0),
        state: c.state.map(|s| s.to_string()).unwrap_or_default(),
        status: c.status.unwrap_or_default(),
        labels: c.labels.unwrap_or_default(),
        ports: c
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|p| PortSummary {
                ip: p.ip.unwrap_or_default(),
                private_port: p.private_port,
                public_port: p.public_port,
                protocol: p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into()),
            })
            .collect(),
        mounts: c
            .mounts
            .unwrap_or_default()
            .into_iter()
            .map(|m| MountSummary {
                local: m.driver.as_deref() == Some("local"),
                name: m.name.or(m.source).unwrap_or_default(),
            })
            .collect(),
        networks,
    }
}

impl Engine for DockerEngine {
    fn list_containers(&self, label: &str) -> EngineFuture<'_, Vec<ContainerSummary>> {
        let opts = q::ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&label_filter(label))
            .build();
        async move {
            let list = self
                .docker
                .list_containers(Some(opts))
                .await
                .map_err(|e| map("listing containers", e))?;
            Ok(list.into_iter().map(summary).collect())
        }
        .boxed()
    }

    fn root_dir(&self) -> EngineFuture<'_, Option<String>> {
        async move { Ok(self.info().await?.docker_root_dir.filter(|d| !d.is_empty())) }.boxed()
    }

    fn plain_root_dir(&self) -> EngineFuture<'_, Option<String>> {
        async move {
            let info = self.info().await?;
            let remapped = info.security_options.iter().flatten().any(|o| {
                o.split(',')
                    .any(|kv| kv == "name=userns" || kv == "name=rootless")
            });
            Ok(info.docker_root_dir.filter(|d| !d.is_empty() && !remapped))
        }
        .boxed()
    }

    fn engine_id(&self) -> EngineFuture<'_, Option<String>> {
        async move { Ok(self.info().await?.id.filter(|d| !d.is_empty())) }.boxed()
    }

    fn inspect_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ContainerDetails> {
        async move {
            let i = self
                .docker
                .inspect_container(name, None::<q::InspectContainerOptions>)
                .await
                .map_err(|e| map(&format!("inspecting container {name}"), e))?;
            let st = i.state.unwrap_or_default();
            let status = st.status.map(|s| s.to_string()).unwrap_or_default();
            Ok(ContainerDetails {
                started_at: st.started_at.as_deref().and_then(unix_nanos),
                finished_at: st.finished_at.as_deref().and_then(unix_nanos),
                id: i.id.unwrap_or_default(),
                exit_code: st.exit_code,
                health: st
                    .health
                    .and_then(|h| h.status)
                    .map(|h| h.to_string())
                    .filter(|h| !h.is_empty() && h != "none"),
                status,
                mounts: i
                    .mounts
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| MountPoint {
                        kind: m.typ.map(|t| t.to_string()).unwrap_or_default(),
                        name: m.name,
                        destination: m.destination.unwrap_or_default(),
                        rw: m.rw.unwrap_or(true),
                    })
                    .collect(),
                tty: i.config.and_then(|c| c.tty).unwrap_or(false),
                log_path: i.log_path,
                log_driver: i.host_config.and_then(|h| h.log_config).and_then(|l| l.typ),
            })
        }
        .boxed()
    }

    fn create_container<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, ()> {
        async move {
            if let Some(mac) = &spec.mac_address {
                return self.create_with_mac(spec, mac).await;
            }
            let opts = q::CreateContainerOptionsBuilder::default()
                .name(&spec.name)
                .build();
            self.docker
                .create_container(Some(opts), spec.body.clone())
                .await
                .map(|_| ())
                .map_err(|e| map(&format!("creating container {}", spec.name), e))
        }
        .boxed()
    }

    fn connect_network<'a>(
        &'a self,
        network: &'a str,
        container: &'a str,
        endpoint: &'a Endpoint,
    ) -> EngineFuture<'a, ()> {
        async move {
            let req = bollard::models::NetworkConnectRequest {
                container: container.to_string(),
                endpoint_config: Some(endpoint.clone()),
            };
            self.docker
                .connect_network(network, req)
                .await
                .map_err(|e| map(&format!("connecting {container} to network {network}"), e))
        }
        .boxed()
    }

    fn start_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        async move {
            self.docker
                .start_container(name, None::<q::StartContainerOptions>)
                .await
                .map_err(|e| map(&format!("starting container {name}"), e))
        }
        .boxed()
    }

    fn stop_container<'a>(&'a self, name: &'a str, timeout: Option<i64>) -> EngineFuture<'a, ()> {
        async move {
            let mut b = q::StopContainerOptionsBuilder::default();
            if let Some(t) = timeout {
                b = b.t(t as i32);
            }
            self.stopper(timeout)
                .stop_container(name, Some(b.build()))
                .await
                .map_err(|e| map(&format!("stopping container {name}"), e))
        }
        .boxed()
    }

    fn restart_container<'a>(
        &'a self,
        name: &'a str,
        timeout: Option<i64>,
    ) -> EngineFuture<'a, ()> {
        async move {
            let mut b = q::RestartContainerOptionsBuilder::default();
            if let Some(t) = timeout {
                b = b.t(t as i32);
            }
            self.stopper(timeout)
                .restart_container(name, Some(b.build()))
                .await
                .map_err(|e| map(&format!("restarting container {name}"), e))
        }
        .boxed()
    }

    fn kill_container<'a>(&'a self, name: &'a str, signal: &'a str) -> EngineFuture<'a, ()> {
        async move {
            let opts = q::KillContainerOptionsBuilder::default()
                .signal(signal)
                .build();
            self.docker
                .kill_container(name, Some(opts))
                .await
                .map_err(|e| map(&format!("killing container {name}"), e))
        }
        .boxed()
    }

    fn pause_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        async move {
            self.docker
                .pause_container(name)
                .await
                .map_err(|e| map(&format!("pausing container {name}"), e))
        }
        .boxed()
    }

    fn unpause_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        async move {
            self.docker
                .unpause_container(name)
                .await
                .map_err(|e| map(&format!("unpausing container {name}"), e))
        }
        .boxed()
    }

    fn remove_container<'a>(&'a self, name: &'a str, volumes: bool) -> EngineFuture<'a, ()> {
        async move {
            let opts = q::RemoveContainerOptionsBuilder::default()
                .force(true)
                .v(volumes)
                .build();
            self.docker
                .remove_container(name, Some(opts))
                .await
                .map_err(|e| map(&format!("removing container {name}"), e))
        }
        .boxed()
    }

    fn rename_container<'a>(&'a self, name: &'a str, to: &'a str) -> EngineFuture<'a, ()> {
        async move {
            let opts = q::RenameContainerOptionsBuilder::default().name(to).build();
            self.docker
                .rename_container(name, opts)
                .await
                .map_err(|e| map(&format!("renaming container {name}"), e))
        }
        .boxed()
    }

    fn wait_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, i64> {
        async move {
            let opts = q::WaitContainerOptionsBuilder::default()
                .condition("not-running")
                .build();
            let waiting = self.patient(UNBOUNDED);
            match waiting.wait_container(name, Some(opts)).next().await {
                Some(Ok(r)) => Ok(r.status_code),
                Some(Err(B::DockerContainerWaitError { code, .. })) => Ok(code),
                _ => Ok(self
                    .inspect_container(name)
                    .await
                    .ok()
                    .and_then(|i| i.exit_code)
                    .unwrap_or(-1)),
            }
        }
        .boxed()
    }

    fn top<'a>(&'a self, name: &'a str) -> EngineFuture<'a, (Vec<String>, Vec<Vec<String>>)> {
        async move {
            let t = self
                .docker
                .top_processes(name, None::<q::TopOptions>)
                .await
                .map_err(|e| map(&format!("listing processes of {name}"), e))?;
            Ok((
                t.titles.unwrap_or_default(),
                t.processes.unwrap_or_default(),
            ))
        }
        .boxed()
    }

    fn attach_container<'a>(&'a self, name: &'a str, stdin: bool) -> EngineFuture<'a, Attached> {
        async move {
            let doing = format!("attaching to container {name}");
            let opts = q::AttachContainerOptionsBuilder::default()
                .stdin(stdin)
                .stdout(true)
                .stderr(true)
                .stream(true)
                .logs(false)
                .build();
            let a = self
                .docker
                .attach_container(name, Some(opts))
                .await
                .map_err(|e| map(&doing, e))?;
            Ok(Attached {
                output: outputs(a.output, doing),
                input: a.input,
            })
        }
        .boxed()
    }

    fn logs(&self, name: &str, request: &LogsRequest) -> EngineStream<Output> {
        let mut b = q::LogsOptionsBuilder::default()
            .follow(request.follow)
            .stdout(true)
            .stderr(true)
            .timestamps(request.timestamps)
            .tail(&request.tail);
        if request.since != 0 {
            b = b.since(request.since);
        }
        if request.until != 0 {
            b = b.until(request.until);
        }
        let raw = self.patient(UNBOUNDED).logs(name, Some(b.build())).boxed();
        outputs(raw, format!("reading the logs of {name}"))
    }

    fn list_networks(&self) -> EngineFuture<'_, Vec<ResourceSummary>> {
        async move {
            let nets = self
                .docker
                .list_networks(Some(q::ListNetworksOptionsBuilder::default().build()))
                .await
                .map_err(|e| map("listing networks", e))?;
            Ok(nets
                .into_iter()
                .filter_map(|n| {
                    Some(ResourceSummary {
                        id: n.id.unwrap_or_default(),
                        name: n.name?,
                        labels: n.labels.unwrap_or_default(),
                    })
                })
                .collect())
        }
        .boxed()
    }

    fn create_network<'a>(&'a self, spec: &'a NetworkSpec) -> EngineFuture<'a, ()> {
        async move {
            self.docker
                .create_network(spec.clone())
                .await
                .map(|_| ())
                .map_err(|e| map(&format!("creating network {}", spec.name), e))
        }
        .boxed()
    }

    fn remove_network<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        async move {
            self.docker
                .remove_network(name)
                .await
                .map_err(|e| map(&format!("removing network {name}"), e))
        }
        .boxed()
    }

    fn list_volumes(&self) -> EngineFuture<'_, Vec<ResourceSummary>> {
        async move {
            let vols = self
                .docker
                .list_volumes(Some(q::ListVolumesOptionsBuilder::default().build()))
                .await
                .map_err(|e| map("listing volumes", e))?;
            Ok(vols
                .volumes
                .unwrap_or_default()
                .into_iter()
                .map(|v| ResourceSummary {
                    id: v.name.clone(),
                    name: v.name,
                    labels: v.labels,
                })
                .collect())
        }
        .boxed()
    }

    fn create_volume<'a>(&'a self, spec: &'a VolumeSpec) -> EngineFuture<'a, ()> {
        async move {
            let name = spec.name.clone().unwrap_or_default();
            self.docker
                .create_volume(spec.clone())
                .await
                .map(|_| ())
                .map_err(|e| map(&format!("creating volume {name}"), e))
        }
        .boxed()
    }

    fn remove_volume<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        async move {
            self.docker
                .remove_volume(name, None::<q::RemoveVolumeOptions>)
                .await
                .map_err(|e| map(&format!("removing volume {name}"), e))
        }
        .boxed()
    }

    fn volume_details(&self, label: &str) -> EngineFuture<'_, Vec<VolumeDetails>> {
        let filters = if label.is_empty() {
            HashMap::new()
        } else {
            label_filter(label)
        };
        async move {
            let opts = q::ListVolumesOptionsBuilder::default()
                .filters(&filters)
                .build();
            let vols = self
                .docker
                .list_volumes(Some(opts))
                .await
                .map_err(|e| map("listing volumes", e))?;
            Ok(vols
                .volumes
                .unwrap_or_default()
                .into_iter()
                .map(volume_details)
                .collect())
        }
        .boxed()
    }

    fn inspect_volume<'a>(&'a self, name: &'a str) -> EngineFuture<'a, VolumeDetails> {
        async move {
            self.docker
                .inspect_volume(name)
                .await
                .map(volume_details)
                .map_err(|e| map(&format!("inspecting volume {name}"), e))
        }
        .boxed()
    }

    fn volume_usage(&self) -> EngineFuture<'_, Vec<VolumeUsage>> {
        async move {
            let doing = "reading the engine's disk usage";
            let Some(socket) = &self.socket else {
                // Not a unix socket: bollard's own call, whose typed answer keeps the items of
                // engines that speak API 1.52 and newer.
                let df = self
                    .patient(UNBOUNDED)
                    .df(None::<q::DataUsageOptions>)
                    .await
                    .map_err(|e| map(doing, e))?;
                let v = serde_json::to_value(&df)
                    .map_err(|e| EngineError::new(ErrorKind::Api, format!("{doing}: {e}")))?;
                return Ok(usage_of(&v));
            };
            let version = self.docker.client_version().to_string();
            let path = format!("/v{version}/system/df?type=volume");
            // The engine computes one disk usage at a time: another client's is waited for.
            let mut tries = 0;
            loop {
                let (status, body) = get_raw(socket, &path)
                    .await
                    .map_err(|e| EngineError::new(ErrorKind::Connect, format!("{doing}: {e}")))?;
                let v: serde_json::Value = serde_json::from_slice(&body)
                    .map_err(|e| EngineError::new(ErrorKind::Api, format!("{doing}: {e}")))?;
                if status == 200 {
                    return Ok(usage_of(&v));
                }
                let m = v["message"].as_str().unwrap_or_default();
                tries += 1;
                if !m.contains("already running") || tries >= 40 {
                    return Err(EngineError::new(ErrorKind::Api, format!("{doing}: {m}")));
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
        .boxed()
    }

    fn image_ids(&self) -> EngineFuture<'_, Vec<String>> {
        async move {
            let mut list = self
                .docker
                .list_images(None::<q::ListImagesOptions>)
                .await
                .map_err(|e| map("listing images", e))?;
            list.sort_by_key(|i| i.size);
            Ok(list.into_iter().map(|i| i.id).collect())
        }
        .boxed()
    }

    fn version(&self) -> EngineFuture<'_, String> {
        async move {
            let v = self
                .docker
                .version()
                .await
                .map_err(|e| map("reading the engine's version", e))?;
            Ok(v.version.unwrap_or_default())
        }
        .boxed()
    }

    fn inspect_image<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ImageDetails> {
        async move {
            let i = self
                .docker
                .inspect_image(name)
                .await
                .map_err(|e| map(&format!("inspecting image {name}"), e))?;
            Ok(ImageDetails {
                id: i.id.unwrap_or_default(),
                repo_tags: i.repo_tags.unwrap_or_default(),
                created: i.created,
                os: i.os.unwrap_or_default(),
                architecture: i.architecture.unwrap_or_default(),
                size: i.size.unwrap_or(0),
                last_tag_time: i.metadata.and_then(|m| m.last_tag_time).unwrap_or_default(),
                repo_digests: i.repo_digests.unwrap_or_default(),
            })
        }
        .boxed()
    }

    fn pull_image(&self, name: &str, tag: &str) -> EngineStream<()> {
        let opts = q::CreateImageOptionsBuilder::default()
            .from_image(name)
            .tag(tag)
            .build();
        self.patient(UNBOUNDED)
            .create_image(Some(opts), None, None)
            .map_ok(|_| ())
            .map_err(|e| map("", e))
            .boxed()
    }

    fn export_container(&self, name: &str) -> EngineStream<Bytes> {
        let doing = format!("exporting container {name}");
        self.docker
            .export_container(name)
            .map_err(move |e| map(&doing, e))
            .boxed()
    }

    fn commit_container<'a>(&'a self, r: &'a CommitRequest) -> EngineFuture<'a, String> {
        async move {
            let mut o = q::CommitContainerOptionsBuilder::default()
                .container(&r.container)
                .pause(r.pause);
            if let Some(reference) = &r.reference {
                let (repo, tag) = crate::runtime::pull::split(reference);
                o = o.repo(repo).tag(tag);
            }
            if let Some(a) = &r.author {
                o = o.author(a);
            }
            if let Some(m) = &r.message {
                o = o.comment(m);
            }
            let changes = r.changes.join("\n");
            if !changes.is_empty() {
                o = o.changes(&changes);
            }
            self.docker
                .commit_container(o.build(), bollard::models::ContainerConfig::default())
                .await
                .map(|r| r.id)
                .map_err(|e| map(&format!("committing container {}", r.container), e))
        }
        .boxed()
    }

    fn push_image(&self, name: &str, tag: &str) -> EngineStream<()> {
        let opts = q::PushImageOptionsBuilder::default().tag(tag).build();
        let doing = format!("pushing image {name}:{tag}");
        self.docker
            .push_image(name, Some(opts), None)
            .map_err(move |e| map(&doing, e))
            .and_then(|info| async move {
                match info.error_detail.and_then(|d| d.message) {
                    Some(m) => Err(EngineError::new(ErrorKind::Api, m)),
                    None => Ok(()),
                }
            })
            .boxed()
    }

    fn stats(&self, name: &str, stream: bool) -> EngineStream<StatsSample> {
        let opts = q::StatsOptionsBuilder::default()
            .stream(stream)
            .one_shot(false)
            .build();
        let doing = format!("reading the stats of container {name}");
        self.docker
            .stats(name, Some(opts))
            .map_err(move |e| map(&doing, e))
            .map_ok(sample)
            .boxed()
    }

    fn remove_image<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        async move {
            self.docker
                .remove_image(name, None::<q::RemoveImageOptions>, None)
                .await
                .map(|_| ())
                .map_err(|e| map(&format!("removing image {name}"), e))
        }
        .boxed()
    }

    fn build_image(&self, request: &BuildRequest, context: Vec<u8>) -> EngineStream<BuildOutput> {
        let docker = self.patient(UNBOUNDED);
        let r = request.clone();
        let (tx, rx) = futures::channel::mpsc::unbounded();
        tokio::spawn(async move {
            let mut o = q::BuildImageOptionsBuilder::default()
                .dockerfile(&r.dockerfile)
                .t(&r.tag)
                .rm(true)
                .forcerm(true)
                .nocache(r.no_cache)
                .buildargs(&r.args)
                .labels(&r.labels);
            if r.pull {
                o = o.pull("true");
            }
            if let Some(t) = &r.target {
                o = o.target(t);
            }
            if let Some(n) = &r.network {
                o = o.networkmode(n);
            }
            if let Some(h) = &r.extra_hosts {
                o = o.extrahosts(h);
            }
            if let Some(s) = r.shm_size {
                o = o.shmsize(s as i32);
            }
            if !r.cache_from.is_empty() {
                o = o.cachefrom(&r.cache_from);
            }
            let mut stream =
                docker.build_image(o.build(), None, Some(bollard::body_full(context.into())));
            while let Some(item) = stream.next().await {
                let out = match item {
                    Ok(info) => match info.error_detail.and_then(|d| d.message) {
                        Some(detail) => Ok(BuildOutput::Error(detail)),
                        None => Ok(BuildOutput::Text(info.stream.unwrap_or_default())),
                    },
                    Err(B::DockerStreamError { error }) => Ok(BuildOutput::Error(error)),
                    Err(e) => Err(map("", e)),
                };
                if tx.unbounded_send(out).is_err() {
                    break;
                }
            }
        });
        rx.boxed()
    }

    fn tag_image<'a>(
        &'a self,
        image: &'a str,
        repo: &'a str,
        tag: &'a str,
    ) -> EngineFuture<'a, ()> {
        async move {
            let opts = q::TagImageOptionsBuilder::default()
                .repo(repo)
                .tag(tag)
                .build();
            self.docker
                .tag_image(image, Some(opts))
                .await
                .map_err(|e| map(&format!("tagging {image} as {repo}:{tag}"), e))
        }
        .boxed()
    }

    fn create_exec<'a>(
        &'a self,
        container: &'a str,
        request: &'a ExecRequest,
    ) -> EngineFuture<'a, String> {
        async move {
            let config = bollard::models::ExecConfig {
                attach_stdin: Some(request.attach_stdin),
                attach_stdout: Some(request.attach_output),
                attach_stderr: Some(request.attach_output),
                tty: Some(request.tty),
                env: (!request.env.is_empty()).then(|| request.env.clone()),
                cmd: Some(request.cmd.clone()),
                privileged: Some(request.privileged),
                user: request.user.clone(),
                working_dir: request.workdir.clone(),
                ..Default::default()
            };
            let doing = format!("running a command in container {container}");
            Ok(self
                .docker
                .create_exec(container, config)
                .await
                .map_err(|e| map(&doing, e))?
                .id)
        }
        .boxed()
    }

    fn start_exec<'a>(
        &'a self,
        id: &'a str,
        detach: bool,
        tty: bool,
    ) -> EngineFuture<'a, Option<Attached>> {
        async move {
            use bollard::exec::{StartExecOptions, StartExecResults};
            let opts = StartExecOptions {
                detach,
                tty,
                output_capacity: None,
            };
            let doing = "running a command".to_string();
            match self
                .docker
                .start_exec(id, Some(opts))
                .await
                .map_err(|e| map(&doing, e))?
            {
                StartExecResults::Detached => Ok(None),
                StartExecResults::Attached { output, input } => Ok(Some(Attached {
                    output: outputs(output, doing),
                    input,
                })),
            }
        }
        .boxed()
    }

    fn resize_exec<'a>(&'a self, id: &'a str, height: u16, width: u16) -> EngineFuture<'a, ()> {
        async move {
            let size = bollard::exec::ResizeExecOptions { height, width };
            self.docker
                .resize_exec(id, size)
                .await
                .map_err(|e| map("resizing the terminal", e))
        }
        .boxed()
    }

    fn exec_exit_code<'a>(&'a self, id: &'a str) -> EngineFuture<'a, i64> {
        async move {
            // The output can end a moment before the engine records the exit: wait for it.
            for _ in 0..200 {
                let info = self
                    .docker
                    .inspect_exec(id)
                    .await
                    .map_err(|e| map("running a command", e))?;
                if info.running != Some(true) {
                    return Ok(info.exit_code.unwrap_or(0));
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            Err(EngineError::new(
                ErrorKind::Api,
                format!("running a command: process {id} did not report its exit"),
            ))
        }
        .boxed()
    }

    fn download(&self, container: &str, path: &str) -> EngineStream<Bytes> {
        let opts = q::DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        self.patient(UNBOUNDED)
            .download_from_container(container, Some(opts))
            .map_err(|e| map("", e))
            .boxed()
    }

    fn path_is_dir<'a>(
        &'a self,
        container: &'a str,
        path: &'a str,
    ) -> EngineFuture<'a, Option<bool>> {
        /// Go's `os.ModeDir`, as the engine reports it in a path stat.
        const MODE_DIR: u32 = 1 << 31;
        async move {
            let opts = q::ContainerArchiveInfoOptionsBuilder::default()
                .path(path)
                .build();
            match self
                .docker
                .get_container_archive_info(container, Some(opts))
                .await
            {
                Ok(s) => Ok(Some(s.file_mode & MODE_DIR != 0)),
                Err(e) => match map(&format!("reading {container}:{path}"), e) {
                    e if e.is_not_found() => Ok(None),
                    e => Err(e),
                },
            }
        }
        .boxed()
    }

    fn upload<'a>(
        &'a self,
        container: &'a str,
        dir: &'a str,
        tar: Vec<u8>,
    ) -> EngineFuture<'a, ()> {
        async move {
            let opts = q::UploadToContainerOptionsBuilder::default()
                .path(dir)
                .build();
            self.patient(UNBOUNDED)
                .upload_to_container(container, Some(opts), bollard::body_full(tar.into()))
                .await
                .map_err(|e| map("", e))
        }
        .boxed()
    }

    fn upload_owned<'a>(
        &'a self,
        container: &'a str,
        dir: &'a str,
        tar: Vec<u8>,
    ) -> EngineFuture<'a, ()> {
        async move {
            let opts = q::UploadToContainerOptionsBuilder::default()
                .path(dir)
                .copy_uidgid("true")
                .build();
            self.patient(UNBOUNDED)
                .upload_to_container(container, Some(opts), bollard::body_full(tar.into()))
                .await
                .map_err(|e| map("", e))
        }
        .boxed()
    }

    fn upload_stream<'a>(
        &'a self,
        container: &'a str,
        dir: &'a str,
        body: UploadBody,
    ) -> EngineFuture<'a, ()> {
        async move {
            let opts = q::UploadToContainerOptionsBuilder::default()
                .path(dir)
                .build();
            self.patient(UNBOUNDED)
                .upload_to_container(container, Some(opts), bollard::body_try_stream(body))
                .await
                .map_err(|e| map(&format!("writing into {container}:{dir}"), e))
        }
        .boxed()
    }

    fn events(&self, label: &str, since: i64) -> EngineStream<EventMessage> {
        let mut filters = HashMap::new();
        filters.insert("type", vec!["container".to_string()]);
        filters.insert("label", vec![label.to_string()]);
        let opts = q::EventsOptionsBuilder::default()
            .since(&since.to_string())
            .filters(&filters)
            .build();
        self.patient(UNBOUNDED)
            .events(Some(opts))
            .map_err(|e| EngineError::new(ErrorKind::Api, e.to_string()))
            .try_filter_map(|m| {
                let out = m.actor.map(|actor| EventMessage {
                    id: actor.id.unwrap_or_default(),
                    action: m.action.unwrap_or_default(),
                    attributes: actor.attributes.unwrap_or_default(),
                    time_nano: m.time_nano.unwrap_or(0),
                });
                futures::future::ready(Ok(out))
            })
            .boxed()
    }

    fn swarm_state(&self) -> EngineFuture<'_, String> {
        async move {
            let info = self
                .docker
                .info()
                .await
                .map_err(|e| map("reading the engine's info", e))?;
            Ok(info
                .swarm
                .and_then(|s| s.local_node_state)
                .map(|s| s.to_string())
                .unwrap_or_default())
        }
        .boxed()
    }

    fn swarm_info(&self) -> EngineFuture<'_, SwarmInfo> {
        async move {
            let info = self
                .docker
                .info()
                .await
                .map_err(|e| map("reading the engine's info", e))?;
            let swarm = info.swarm.unwrap_or_default();
            Ok(SwarmInfo {
                state: swarm
                    .local_node_state
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                manager: swarm.control_available.unwrap_or(false),
                node_id: swarm.node_id.unwrap_or_default(),
            })
        }
        .boxed()
    }

    fn list_swarm<'a>(
        &'a self,
        kind: SwarmKind,
        filters: &'a [(&'a str, &'a str)],
    ) -> EngineFuture<'a, Vec<serde_json::Value>> {
        async move {
            let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
            for (k, v) in filters {
                by_key.entry(k.to_string()).or_default().push(v.to_string());
            }
            let filters = by_key;
            let doing = format!("listing {}s", kind.noun());
            let values = match kind {
                SwarmKind::Service => to_values(
                    self.docker
                        .list_services(Some(
                            q::ListServicesOptionsBuilder::default()
                                .filters(&filters)
                                .build(),
                        ))
                        .await,
                ),
                SwarmKind::Secret => to_values(
                    self.docker
                        .list_secrets(Some(
                            q::ListSecretsOptionsBuilder::default()
                                .filters(&filters)
                                .build(),
                        ))
                        .await,
                ),
                SwarmKind::Config => to_values(
                    self.docker
                        .list_configs(Some(
                            q::ListConfigsOptionsBuilder::default()
                                .filters(&filters)
                                .build(),
                        ))
                        .await,
                ),
                SwarmKind::Task => to_values(
                    self.docker
                        .list_tasks(Some(
                            q::ListTasksOptionsBuilder::default()
                                .filters(&filters)
                                .build(),
                        ))
                        .await,
                ),
                SwarmKind::Node => to_values(
                    self.docker
                        .list_nodes(Some(
                            q::ListNodesOptionsBuilder::default()
                                .filters(&filters)
                                .build(),
                        ))
                        .await,
                ),
            };
            values.map_err(|e| match e {
                Ok(b) => map(&doing, b),
                Err(s) => EngineError::new(ErrorKind::Api, format!("{doing}: {s}")),
            })
        }
        .boxed()
    }

    fn create_swarm<'a>(
        &'a self,
        kind: SwarmKind,
        spec: &'a serde_json::Value,
    ) -> EngineFuture<'a, String> {
        async move {
            let name = spec.get("Name").and_then(|n| n.as_str()).unwrap_or("");
            let doing = format!("creating {} {name}", kind.noun());
            let bad = |e: serde_json::Error| {
                EngineError::new(ErrorKind::Api, format!("{doing}: a malformed spec: {e}"))
            };
            match kind {
                SwarmKind::Service => {
                    let spec = serde_json::from_value(spec.clone()).map_err(bad)?;
                    let r = self
                        .docker
                        .create_service(spec, None)
                        .await
                        .map_err(|e| map(&doing, e))?;
                    Ok(r.id.unwrap_or_default())
                }
                SwarmKind::Secret => {
                    let spec = serde_json::from_value(spec.clone()).map_err(bad)?;
                    let r = self
                        .docker
                        .create_secret(spec)
                        .await
                        .map_err(|e| map(&doing, e))?;
                    Ok(r.id)
                }
                SwarmKind::Config => {
                    let spec = serde_json::from_value(spec.clone()).map_err(bad)?;
                    let r = self
                        .docker
                        .create_config(spec)
                        .await
                        .map_err(|e| map(&doing, e))?;
                    Ok(r.id)
                }
                SwarmKind::Task | SwarmKind::Node => Err(EngineError::new(
                    ErrorKind::Unsupported,
                    format!("{doing}: not something rcompose creates"),
                )),
            }
        }
        .boxed()
    }

    fn update_service<'a>(
        &'a self,
        id: &'a str,
        version: u64,
        spec: &'a serde_json::Value,
    ) -> EngineFuture<'a, ()> {
        async move {
            let doing = format!("updating service {id}");
            let spec = serde_json::from_value(spec.clone()).map_err(|e| {
                EngineError::new(ErrorKind::Api, format!("{doing}: a malformed spec: {e}"))
            })?;
            let version = i32::try_from(version).map_err(|_| {
                EngineError::new(
                    ErrorKind::Api,
                    format!("{doing}: version {version} too large"),
                )
            })?;
            self.docker
                .update_service(
                    id,
                    spec,
                    q::UpdateServiceOptionsBuilder::default()
                        .version(version)
                        .build(),
                    None,
                )
                .await
                .map(|_| ())
                .map_err(|e| map(&doing, e))
        }
        .boxed()
    }

    fn remove_swarm<'a>(&'a self, kind: SwarmKind, id: &'a str) -> EngineFuture<'a, ()> {
        async move {
            let doing = format!("removing {} {id}", kind.noun());
            let r = match kind {
                SwarmKind::Service => self.docker.delete_service(id).await,
                SwarmKind::Secret => self.docker.delete_secret(id).await,
                SwarmKind::Config => self.docker.delete_config(id).await,
                SwarmKind::Task | SwarmKind::Node => {
                    return Err(EngineError::new(
                        ErrorKind::Unsupported,
                        format!("{doing}: not something rcompose removes"),
                    ))
                }
            };
            r.map_err(|e| map(&doing, e))
        }
        .boxed()
    }
}

/// Engine objects as their Engine API JSON.
fn to_values<T: serde::Serialize>(
    r: Result<Vec<T>, B>,
) -> Result<Vec<serde_json::Value>, Result<B, String>> {
    let items = r.map_err(Ok)?;
    items
        .iter()
        .map(|i| serde_json::to_value(i).map_err(|e| Err(e.to_string())))
        .collect()
}

/// Our sample of the engine's stats, summed as the docker CLI sums them.
fn sample(r: bollard::models::ContainerStatsResponse) -> StatsSample {
    let total = |c: &Option<bollard::models::ContainerCpuStats>| {
        c.as_ref()
            .and_then(|c| c.cpu_usage.as_ref())
            .and_then(|u| u.total_usage)
            .unwrap_or(0)
    };
    let system = |c: &Option<bollard::models::ContainerCpuStats>| {
        c.as_ref().and_then(|c| c.system_cpu_usage).unwrap_or(0)
    };
    let online = r
        .cpu_stats
        .as_ref()
        .and_then(|c| {
            c.online_cpus.or_else(|| {
                c.cpu_usage
                    .as_ref()
                    .and_then(|u| u.percpu_usage.as_ref())
                    .map(|p| p.len() as u32)
            })
        })
        .unwrap_or(0);
    let mem = r.memory_stats.as_ref();
    let mem_stats = mem.and_then(|m| m.stats.as_ref());
    // cgroup v1 says `total_inactive_file`, v2 `inactive_file`.
    let cache = mem_stats
        .and_then(|s| {
            s.get("total_inactive_file")
                .or_else(|| s.get("inactive_file"))
        })
        .copied()
        .unwrap_or(0);
    let (mut rx, mut tx) = (0, 0);
    for n in r.networks.iter().flat_map(|n| n.values()) {
        rx += n.rx_bytes.unwrap_or(0);
        tx += n.tx_bytes.unwrap_or(0);
    }
    let (mut read, mut write) = (0, 0);
    for e in r
        .blkio_stats
        .iter()
        .flat_map(|b| b.io_service_bytes_recursive.iter().flatten())
    {
        match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => read += e.value.unwrap_or(0),
            Some("write") => write += e.value.unwrap_or(0),
            _ => {}
        }
    }
    StatsSample {
        cpu_total: total(&r.cpu_stats),
        precpu_total: total(&r.precpu_stats),
        system_cpu: system(&r.cpu_stats),
        presystem_cpu: system(&r.precpu_stats),
        online_cpus: online,
        memory_usage: mem.and_then(|m| m.usage).unwrap_or(0),
        memory_cache: cache,
        memory_limit: mem.and_then(|m| m.limit).unwrap_or(0),
        net_rx: rx,
        net_tx: tx,
        block_read: read,
        block_write: write,
        pids: r.pids_stats.and_then(|p| p.current).unwrap_or(0),
    }
}

/// An engine time (RFC 3339) as Unix nanoseconds; `None` for the engine's zero time.
fn unix_nanos(t: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn a_stop_may_take_its_grace_period_on_top_of_the_quick_bound() {
        let quick = Duration::from_secs(120);
        assert_eq!(stop_call_timeout(quick, Some(0)), quick);
        assert_eq!(
            stop_call_timeout(quick, Some(150)),
            Duration::from_secs(270)
        );
        // The container's own grace period is not known here; -1 waits for ever.
        assert_eq!(stop_call_timeout(quick, None), UNBOUNDED);
        assert_eq!(stop_call_timeout(quick, Some(-1)), UNBOUNDED);
    }

    /// An engine on a unix socket that answers every request after 2 s (204, no body).
    async fn slow_engine(path: std::path::PathBuf) {
        let listener = tokio::net::UnixListener::bind(path).unwrap();
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = sock.read(&mut buf).await;
                tokio::time::sleep(Duration::from_secs(2)).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                    .await;
            });
        }
    }

    #[tokio::test]
    async fn long_calls_are_not_cut_and_quick_ones_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("engine.sock");
        tokio::spawn(slow_engine(sock.clone()));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let docker =
            Docker::connect_with_unix(sock.to_str().unwrap(), 1, bollard::API_DEFAULT_VERSION)
                .unwrap();
        let engine = DockerEngine {
            docker,
            socket: Some(sock.to_string_lossy().into_owned()),
            host: format!("unix://{}", sock.display()),
        };
        // A stop with a 3 s grace period answered after 2 s: not cut by the 1 s bound.
        engine.stop_container("web", Some(3)).await.unwrap();
        // A quick call that hangs: a clear error within the bound.
        let start = Instant::now();
        let e = engine.pause_container("web").await.unwrap_err();
        assert!(start.elapsed() < Duration::from_millis(1900));
        assert_eq!(e.kind, ErrorKind::Connect);
        assert!(
            e.message
                .starts_with("pausing container web: the Docker engine did not answer in time"),
            "{}",
            e.message
        );
    }
}
