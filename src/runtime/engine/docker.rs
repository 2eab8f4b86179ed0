//! The [`Engine`] on a Docker Engine API, through bollard: the only file that speaks bollard
//! beyond the request bodies of [`crate::runtime::convert`].

use bollard::container::LogOutput;
use bollard::errors::Error as B;
use bollard::query_parameters as q;
use bollard::Docker;
use bytes::Bytes;
use futures::{FutureExt, StreamExt, TryStreamExt};
use std::collections::HashMap;

use super::{
    Attached, BuildOutput, BuildRequest, ContainerDetails, ContainerSummary, Engine, EngineError,
    EngineFuture, EngineStream, ErrorKind, EventMessage, ExecRequest, ImageDetails, LogsRequest,
    MountPoint, MountSummary, Output, PortSummary, ResourceSummary,
};
use crate::runtime::convert::{ContainerSpec, Endpoint, NetworkSpec, VolumeSpec};

/// The engine named by `DOCKER_HOST` (or the local socket).
#[derive(Clone)]
pub(crate) struct DockerEngine {
    docker: Docker,
}

/// Maps a bollard error once: 404, 409 and 304 to their kinds, transport errors to `Connect`;
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
        other => EngineError::new(ErrorKind::Api, say(other.to_string())),
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
    /// Connects and agrees on an API version with the engine (ours speak 1.41).
    pub(crate) async fn connect() -> Result<Self, EngineError> {
        let host = std::env::var("DOCKER_HOST").unwrap_or_default();
        let docker = Docker::connect_with_defaults().map_err(|e| {
            EngineError::new(
                ErrorKind::Connect,
                format!("cannot connect to the Docker engine {host}: {e}"),
            )
        })?;
        let docker = docker.negotiate_version().await.map_err(|e| {
            let at = if host.is_empty() {
                "unix:///var/run/docker.sock".to_string()
            } else {
                host
            };
            EngineError::new(
                ErrorKind::Connect,
                format!(
                    "cannot connect to the Docker engine at {at}: {e}. Is the docker daemon running?"
                ),
            )
        })?;
        Ok(DockerEngine { docker })
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
        let host = std::env::var("DOCKER_HOST").unwrap_or_default();
        let socket = match host.strip_prefix("unix://") {
            Some(p) => p.to_string(),
            None if host.is_empty() => "/var/run/docker.sock".to_string(),
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
            self.docker
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
            self.docker
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
            match self.docker.wait_container(name, Some(opts)).next().await {
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
        let raw = self.docker.logs(name, Some(b.build())).boxed();
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
        self.docker
            .create_image(Some(opts), None, None)
            .map_ok(|_| ())
            .map_err(|e| map("", e))
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
        let docker = self.docker.clone();
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
            let info = self
                .docker
                .inspect_exec(id)
                .await
                .map_err(|e| map("running a command", e))?;
            Ok(info.exit_code.unwrap_or(0))
        }
        .boxed()
    }

    fn download(&self, container: &str, path: &str) -> EngineStream<Bytes> {
        let opts = q::DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        self.docker
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
            self.docker
                .upload_to_container(container, Some(opts), bollard::body_full(tar.into()))
                .await
                .map_err(|e| map("", e))
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
        self.docker
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
}
