//! A recording fake [`Engine`] for unit tests: containers, networks, volumes and images held in
//! memory, every changing call written to a log, container events sent as the real engine would.

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use tokio::sync::broadcast;

use super::{
    Attached, BuildOutput, BuildRequest, ContainerDetails, ContainerSummary, Engine, EngineError,
    EngineFuture, EngineStream, ErrorKind, EventMessage, ExecRequest, ImageDetails, LogsRequest,
    Output, ResourceSummary,
};
use crate::runtime::convert::{ContainerSpec, Endpoint, NetworkSpec, VolumeSpec};
use crate::runtime::labels;

/// A container the fake holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct FakeContainer {
    pub id: String,
    pub state: String,
    pub labels: HashMap<String, String>,
    pub image: String,
    /// Health reported once it starts (`None`: no healthcheck).
    pub health_on_start: Option<String>,
    /// Exit code reported when it stops.
    pub exit_code: i64,
}

#[derive(Default)]
struct State {
    containers: BTreeMap<String, FakeContainer>,
    networks: BTreeMap<String, HashMap<String, String>>,
    volumes: BTreeMap<String, HashMap<String, String>>,
    /// name -> id.
    images: BTreeMap<String, String>,
    calls: Vec<String>,
    events: Vec<EventMessage>,
    /// container name -> health it reports once started, for containers created later.
    health: HashMap<String, String>,
    next_id: u64,
}

/// The fake engine.
pub(crate) struct FakeEngine {
    state: Mutex<State>,
    tx: broadcast::Sender<EventMessage>,
}

impl Default for FakeEngine {
    fn default() -> Self {
        FakeEngine {
            state: Mutex::default(),
            tx: broadcast::channel(1024).0,
        }
    }
}

fn not_found(what: &str) -> EngineError {
    EngineError::new(ErrorKind::NotFound, format!("{what}: no such object"))
}

impl FakeEngine {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s)
    }

    /// Adds an image the engine has.
    pub(crate) fn add_image(&self, name: &str, id: &str) {
        self.with(|s| s.images.insert(name.into(), id.into()));
    }

    /// Adds a container as if an earlier command had created it.
    pub(crate) fn add_container(&self, name: &str, c: FakeContainer) {
        self.with(|s| s.containers.insert(name.into(), c));
    }

    /// Adds a network with its labels.
    pub(crate) fn add_network(&self, name: &str, labels: HashMap<String, String>) {
        self.with(|s| s.networks.insert(name.into(), labels));
    }

    /// Every changing call so far, in order (`stop p-web-1 t=1`, `create container p-web-1`).
    pub(crate) fn calls(&self) -> Vec<String> {
        self.with(|s| s.calls.clone())
    }

    /// A container as the fake holds it.
    pub(crate) fn container(&self, name: &str) -> Option<FakeContainer> {
        self.with(|s| s.containers.get(name).cloned())
    }

    /// Sets the health container `name` reports once started (also when created later).
    pub(crate) fn health_on_start(&self, name: &str, health: &str) {
        self.with(|s| {
            s.health.insert(name.into(), health.into());
            if let Some(c) = s.containers.get_mut(name) {
                c.health_on_start = Some(health.into());
            }
        });
    }

    fn record(&self, call: String) {
        self.with(|s| s.calls.push(call));
    }

    fn emit(&self, name: &str, action: &str) {
        let event = self.with(|s| {
            let c = s.containers.get(name)?;
            let mut attributes = c.labels.clone();
            attributes.insert("name".into(), name.into());
            if action == "die" {
                attributes.insert("exitCode".into(), c.exit_code.to_string());
            }
            s.next_id += 1;
            let e = EventMessage {
                id: c.id.clone(),
                action: action.into(),
                attributes,
                time_nano: crate::runtime::events::now_nanos() + s.next_id as i64,
            };
            s.events.push(e.clone());
            Some(e)
        });
        if let Some(e) = event {
            let _ = self.tx.send(e);
        }
    }

    /// Changes a container's state, failing when it does not exist.
    fn set_state(&self, name: &str, doing: &str, state: &str) -> Result<(), EngineError> {
        self.with(|s| match s.containers.get_mut(name) {
            Some(c) => {
                c.state = state.into();
                Ok(())
            }
            None => Err(not_found(&format!("{doing} container {name}"))),
        })
    }

    fn start(&self, name: &str) -> Result<(), EngineError> {
        self.set_state(name, "starting", "running")?;
        self.emit(name, "start");
        if let Some(h) = self.container(name).and_then(|c| c.health_on_start) {
            self.emit(name, &format!("health_status: {h}"));
        }
        Ok(())
    }

    fn stop(&self, name: &str) -> Result<(), EngineError> {
        let running = self.container(name).is_some_and(|c| c.state == "running");
        self.set_state(name, "stopping", "exited")?;
        if running {
            self.emit(name, "die");
        }
        Ok(())
    }
}

fn ready<'a, T: Send + 'a>(r: Result<T, EngineError>) -> EngineFuture<'a, T> {
    futures::future::ready(r).boxed()
}

impl Engine for FakeEngine {
    fn list_containers(&self, label: &str) -> EngineFuture<'_, Vec<ContainerSummary>> {
        let (key, value) = match label.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (label.to_string(), None),
        };
        let list = self.with(|s| {
            s.containers
                .iter()
                .filter(|(_, c)| match (&value, c.labels.get(&key)) {
                    (Some(v), Some(l)) => v == l,
                    (None, Some(_)) => true,
                    _ => false,
                })
                .map(|(name, c)| ContainerSummary {
                    id: c.id.clone(),
                    name: name.clone(),
                    image: c.image.clone(),
                    state: c.state.clone(),
                    labels: c.labels.clone(),
                    ..Default::default()
                })
                .collect()
        });
        ready(Ok(list))
    }

    fn inspect_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ContainerDetails> {
        let out = self
            .container(name)
            .map(|c| ContainerDetails {
                id: c.id,
                exit_code: (c.state == "exited").then_some(c.exit_code),
                health: (c.state == "running")
                    .then_some(c.health_on_start)
                    .flatten(),
                status: c.state,
                ..Default::default()
            })
            .ok_or_else(|| not_found(&format!("inspecting container {name}")));
        ready(out)
    }

    fn create_container<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, ()> {
        self.record(format!("create container {}", spec.name));
        let out = self.with(|s| {
            if s.containers.contains_key(&spec.name) {
                return Err(EngineError::new(
                    ErrorKind::Conflict,
                    format!("creating container {}: name in use", spec.name),
                ));
            }
            s.next_id += 1;
            let c = FakeContainer {
                id: format!("{:064x}", s.next_id),
                state: "created".into(),
                labels: spec.body.labels.clone().unwrap_or_default(),
                image: spec.body.image.clone().unwrap_or_default(),
                health_on_start: s.health.get(&spec.name).cloned(),
                ..Default::default()
            };
            s.containers.insert(spec.name.clone(), c);
            Ok(())
        });
        if out.is_ok() {
            self.emit(&spec.name, "create");
        }
        ready(out)
    }

    fn connect_network<'a>(
        &'a self,
        network: &'a str,
        container: &'a str,
        _endpoint: &'a Endpoint,
    ) -> EngineFuture<'a, ()> {
        self.record(format!("connect {container} to {network}"));
        ready(Ok(()))
    }

    fn start_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        self.record(format!("start {name}"));
        ready(self.start(name))
    }

    fn stop_container<'a>(&'a self, name: &'a str, timeout: Option<i64>) -> EngineFuture<'a, ()> {
        let t = timeout.map(|t| format!(" t={t}")).unwrap_or_default();
        self.record(format!("stop {name}{t}"));
        ready(self.stop(name))
    }

    fn restart_container<'a>(
        &'a self,
        name: &'a str,
        timeout: Option<i64>,
    ) -> EngineFuture<'a, ()> {
        let t = timeout.map(|t| format!(" t={t}")).unwrap_or_default();
        self.record(format!("restart {name}{t}"));
        ready(self.stop(name).and_then(|()| self.start(name)))
    }

    fn kill_container<'a>(&'a self, name: &'a str, signal: &'a str) -> EngineFuture<'a, ()> {
        self.record(format!("kill {name} {signal}"));
        ready(self.stop(name))
    }

    fn pause_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        self.record(format!("pause {name}"));
        ready(self.set_state(name, "pausing", "paused"))
    }

    fn unpause_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        self.record(format!("unpause {name}"));
        ready(self.set_state(name, "unpausing", "running"))
    }

    fn remove_container<'a>(&'a self, name: &'a str, volumes: bool) -> EngineFuture<'a, ()> {
        let v = if volumes { " -v" } else { "" };
        self.record(format!("remove container {name}{v}"));
        self.emit(name, "destroy");
        let out = self.with(|s| match s.containers.remove(name) {
            Some(_) => Ok(()),
            None => Err(not_found(&format!("removing container {name}"))),
        });
        ready(out)
    }

    fn rename_container<'a>(&'a self, name: &'a str, to: &'a str) -> EngineFuture<'a, ()> {
        self.record(format!("rename {name} {to}"));
        let out = self.with(|s| match s.containers.remove(name) {
            Some(c) => {
                s.containers.insert(to.into(), c);
                Ok(())
            }
            None => Err(not_found(&format!("renaming container {name}"))),
        });
        ready(out)
    }

    fn wait_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, i64> {
        ready(Ok(self.container(name).map_or(-1, |c| c.exit_code)))
    }

    fn top<'a>(&'a self, _name: &'a str) -> EngineFuture<'a, (Vec<String>, Vec<Vec<String>>)> {
        ready(Ok((vec!["PID".into()], vec![vec!["1".into()]])))
    }

    fn attach_container<'a>(&'a self, name: &'a str, _stdin: bool) -> EngineFuture<'a, Attached> {
        self.record(format!("attach {name}"));
        ready(Ok(Attached {
            output: futures::stream::empty().boxed(),
            input: Box::pin(tokio::io::sink()),
        }))
    }

    fn logs(&self, _name: &str, _request: &LogsRequest) -> EngineStream<Output> {
        futures::stream::empty().boxed()
    }

    fn list_networks(&self) -> EngineFuture<'_, Vec<ResourceSummary>> {
        let list = self.with(|s| {
            s.networks
                .iter()
                .map(|(name, labels)| ResourceSummary {
                    name: name.clone(),
                    labels: labels.clone(),
                })
                .collect()
        });
        ready(Ok(list))
    }

    fn create_network<'a>(&'a self, spec: &'a NetworkSpec) -> EngineFuture<'a, ()> {
        self.record(format!("create network {}", spec.name));
        let labels = spec.labels.clone().unwrap_or_default();
        self.with(|s| s.networks.insert(spec.name.clone(), labels));
        ready(Ok(()))
    }

    fn remove_network<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        self.record(format!("remove network {name}"));
        let out = self.with(|s| match s.networks.remove(name) {
            Some(_) => Ok(()),
            None => Err(not_found(&format!("removing network {name}"))),
        });
        ready(out)
    }

    fn list_volumes(&self) -> EngineFuture<'_, Vec<ResourceSummary>> {
        let list = self.with(|s| {
            s.volumes
                .iter()
                .map(|(name, labels)| ResourceSummary {
                    name: name.clone(),
                    labels: labels.clone(),
                })
                .collect()
        });
        ready(Ok(list))
    }

    fn create_volume<'a>(&'a self, spec: &'a VolumeSpec) -> EngineFuture<'a, ()> {
        let name = spec.name.clone().unwrap_or_default();
        self.record(format!("create volume {name}"));
        let labels = spec.labels.clone().unwrap_or_default();
        self.with(|s| s.volumes.insert(name, labels));
        ready(Ok(()))
    }

    fn remove_volume<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        self.record(format!("remove volume {name}"));
        let out = self.with(|s| match s.volumes.remove(name) {
            Some(_) => Ok(()),
            None => Err(not_found(&format!("removing volume {name}"))),
        });
        ready(out)
    }

    fn inspect_image<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ImageDetails> {
        let out = self
            .with(|s| s.images.get(name).cloned())
            .map(|id| ImageDetails {
                id,
                repo_tags: vec![name.to_string()],
                ..Default::default()
            })
            .ok_or_else(|| not_found(&format!("inspecting image {name}")));
        ready(out)
    }

    fn pull_image(&self, name: &str, tag: &str) -> EngineStream<()> {
        self.record(format!("pull {name}:{tag}"));
        let image = format!("{name}:{tag}");
        self.with(|s| {
            let id = format!("sha256:pulled-{}", s.images.len());
            s.images.insert(image.clone(), id.clone());
            if tag == "latest" {
                s.images.insert(name.to_string(), id);
            }
        });
        futures::stream::iter([Ok(())]).boxed()
    }

    fn remove_image<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()> {
        self.record(format!("remove image {name}"));
        let out = self.with(|s| match s.images.remove(name) {
            Some(_) => Ok(()),
            None => Err(not_found(&format!("removing image {name}"))),
        });
        ready(out)
    }

    fn build_image(&self, request: &BuildRequest, _context: Vec<u8>) -> EngineStream<BuildOutput> {
        self.record(format!("build {}", request.tag));
        let tag = request.tag.clone();
        self.with(|s| s.images.insert(tag, "sha256:built".into()));
        futures::stream::iter([Ok(BuildOutput::Text("Step 1/1 : FROM scratch\n".into()))]).boxed()
    }

    fn tag_image<'a>(
        &'a self,
        image: &'a str,
        repo: &'a str,
        tag: &'a str,
    ) -> EngineFuture<'a, ()> {
        self.record(format!("tag {image} {repo}:{tag}"));
        ready(Ok(()))
    }

    fn create_exec<'a>(
        &'a self,
        container: &'a str,
        request: &'a ExecRequest,
    ) -> EngineFuture<'a, String> {
        self.record(format!("exec {container} {}", request.cmd.join(" ")));
        let running = self
            .container(container)
            .is_some_and(|c| c.state == "running");
        ready(if running {
            Ok("exec-1".into())
        } else {
            Err(EngineError::new(
                ErrorKind::Conflict,
                format!("container {container} is not running"),
            ))
        })
    }

    fn start_exec<'a>(
        &'a self,
        _id: &'a str,
        detach: bool,
        _tty: bool,
    ) -> EngineFuture<'a, Option<Attached>> {
        let attached = (!detach).then(|| Attached {
            output: futures::stream::iter([Ok(Output::Stdout(Bytes::from_static(b"ok\n")))])
                .boxed(),
            input: Box::pin(tokio::io::sink()),
        });
        ready(Ok(attached))
    }

    fn resize_exec<'a>(&'a self, _id: &'a str, _h: u16, _w: u16) -> EngineFuture<'a, ()> {
        ready(Ok(()))
    }

    fn exec_exit_code<'a>(&'a self, _id: &'a str) -> EngineFuture<'a, i64> {
        ready(Ok(0))
    }

    fn download(&self, container: &str, path: &str) -> EngineStream<Bytes> {
        self.record(format!("download {container}:{path}"));
        futures::stream::empty().boxed()
    }

    fn path_is_dir<'a>(
        &'a self,
        _container: &'a str,
        _path: &'a str,
    ) -> EngineFuture<'a, Option<bool>> {
        ready(Ok(None))
    }

    fn upload<'a>(
        &'a self,
        container: &'a str,
        dir: &'a str,
        _tar: Vec<u8>,
    ) -> EngineFuture<'a, ()> {
        self.record(format!("upload {container}:{dir}"));
        ready(Ok(()))
    }

    fn events(&self, label: &str, _since: i64) -> EngineStream<EventMessage> {
        let (key, value) = label.split_once('=').unwrap_or((label, ""));
        let (key, value) = (key.to_string(), value.to_string());
        // Subscribed before the replay is read: an event may come twice, never not at all.
        let rx = self.tx.subscribe();
        let past = self.with(|s| s.events.clone());
        let live = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(e) => return Some((e, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        futures::stream::iter(past)
            .chain(live)
            .filter(move |e| {
                let ours = e
                    .attributes
                    .get(&key)
                    .is_some_and(|v| value.is_empty() || *v == value);
                futures::future::ready(ours)
            })
            .map(Ok)
            .boxed()
    }

    fn swarm_state(&self) -> EngineFuture<'_, String> {
        ready(Ok("inactive".into()))
    }
}

/// The labels a fake container of `project`/`service` carries.
pub(crate) fn service_labels(project: &str, service: &str, number: u64) -> HashMap<String, String> {
    HashMap::from([
        (labels::PROJECT.to_string(), project.to_string()),
        (labels::SERVICE.to_string(), service.to_string()),
        (labels::NUMBER.to_string(), number.to_string()),
        (labels::ONEOFF.to_string(), "False".to_string()),
        (labels::CONFIG_HASH.to_string(), "old".to_string()),
    ])
}
