//! A recording fake [`Engine`] for unit tests: containers, networks, volumes and images held in
//! memory, every changing call written to a log, container events sent as the real engine would.

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use tokio::sync::broadcast;

use super::{
    Attached, BuildOutput, BuildRequest, CommitRequest, ContainerDetails, ContainerSummary, Engine,
    EngineError, EngineFuture, EngineStream, ErrorKind, EventMessage, ExecRequest, ImageDetails,
    LogsRequest, Output, ResourceSummary, StatsSample, SwarmInfo, SwarmKind, UploadBody,
    VolumeDetails, VolumeUsage,
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
    /// Last start and stop, Unix nanoseconds.
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

#[derive(Default)]
struct State {
    containers: BTreeMap<String, FakeContainer>,
    networks: BTreeMap<String, HashMap<String, String>>,
    volumes: BTreeMap<String, HashMap<String, String>>,
    /// name -> id.
    images: BTreeMap<String, String>,
    /// How many times an image was inspected.
    image_inspections: usize,
    calls: Vec<String>,
    events: Vec<EventMessage>,
    /// container name -> health it reports once started, for containers created later.
    health: HashMap<String, String>,
    /// Networks a container the project does not know still uses.
    held: Vec<String>,
    /// The exit code of every exec.
    exec_exit_code: i64,
    next_id: u64,
    /// Swarm objects (services, secrets, configs, tasks, nodes) as Engine API JSON.
    swarm: Vec<(SwarmKind, serde_json::Value)>,
    /// The node is a swarm manager.
    swarm_manager: bool,
    /// Every service update fails and swarm rolls it back (the spec stays the previous one).
    roll_back_updates: bool,
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

    /// Marks network `name` as used by a container outside the project (removal is refused).
    pub(crate) fn hold_network(&self, name: &str) {
        self.with(|s| s.held.push(name.into()));
    }

    /// Makes the node a swarm manager.
    pub(crate) fn swarm_init(&self) {
        self.with(|s| s.swarm_manager = true);
    }

    /// Makes every later service update fail and be rolled back by the fake swarm.
    pub(crate) fn roll_back_updates(&self) {
        self.with(|s| s.roll_back_updates = true);
    }

    /// How many times an image was inspected so far.
    pub(crate) fn image_inspections(&self) -> usize {
        self.with(|s| s.image_inspections)
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

    /// Sets the exit code every exec reports.
    pub(crate) fn exec_exits(&self, code: i64) {
        self.with(|s| s.exec_exit_code = code);
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
                started_at: c.started_at,
                finished_at: c.finished_at,
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
                    id: name.clone(),
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
        let out = self.with(|s| {
            if s.held.iter().any(|n| n == name) {
                return Err(EngineError::new(
                    ErrorKind::Forbidden,
                    format!("removing network {name}: network {name} has active endpoints"),
                ));
            }
            match s.networks.remove(name) {
                Some(_) => Ok(()),
                None => Err(not_found(&format!("removing network {name}"))),
            }
        });
        ready(out)
    }

    fn list_volumes(&self) -> EngineFuture<'_, Vec<ResourceSummary>> {
        let list = self.with(|s| {
            s.volumes
                .iter()
                .map(|(name, labels)| ResourceSummary {
                    id: name.clone(),
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

    fn volume_details(&self, label: &str) -> EngineFuture<'_, Vec<VolumeDetails>> {
        let (key, value) = label.split_once('=').unwrap_or((label, ""));
        let list = self.with(|s| {
            s.volumes
                .iter()
                .filter(|(_, l)| {
                    label.is_empty() || l.get(key).is_some_and(|v| value.is_empty() || v == value)
                })
                .map(|(name, labels)| fake_volume(name, labels))
                .collect()
        });
        ready(Ok(list))
    }

    fn inspect_volume<'a>(&'a self, name: &'a str) -> EngineFuture<'a, VolumeDetails> {
        let out = self.with(|s| match s.volumes.get(name) {
            Some(l) => Ok(fake_volume(name, l)),
            None => Err(not_found(&format!("inspecting volume {name}"))),
        });
        ready(out)
    }

    fn volume_usage(&self) -> EngineFuture<'_, Vec<VolumeUsage>> {
        let list = self.with(|s| {
            s.volumes
                .keys()
                .map(|name| VolumeUsage {
                    name: name.clone(),
                    size: 0,
                    ref_count: 0,
                })
                .collect()
        });
        ready(Ok(list))
    }

    fn image_ids(&self) -> EngineFuture<'_, Vec<String>> {
        ready(Ok(self.with(|s| s.images.values().cloned().collect())))
    }

    fn version(&self) -> EngineFuture<'_, String> {
        ready(Ok("fake".into()))
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
            .with(|s| {
                s.image_inspections += 1;
                s.images.get(name).cloned()
            })
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
        ready(Ok(self.with(|s| s.exec_exit_code)))
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

    fn upload_owned<'a>(
        &'a self,
        container: &'a str,
        dir: &'a str,
        tar: Vec<u8>,
    ) -> EngineFuture<'a, ()> {
        let mut names = Vec::new();
        if let Ok(mut entries) = tar::Archive::new(tar.as_slice()).entries() {
            while let Some(Ok(e)) = entries.next() {
                if let Ok(p) = e.path() {
                    names.push(p.display().to_string());
                }
            }
        }
        self.record(format!(
            "upload-owned {container}:{dir} {}",
            names.join(",")
        ));
        ready(Ok(()))
    }

    fn upload_stream<'a>(
        &'a self,
        container: &'a str,
        dir: &'a str,
        body: UploadBody,
    ) -> EngineFuture<'a, ()> {
        self.record(format!("upload {container}:{dir}"));
        async move {
            body.for_each(|_| futures::future::ready(())).await;
            Ok(())
        }
        .boxed()
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

    fn export_container(&self, name: &str) -> EngineStream<Bytes> {
        self.record(format!("export {name}"));
        futures::stream::iter([Ok(Bytes::from_static(b"tar"))]).boxed()
    }

    fn commit_container<'a>(&'a self, request: &'a CommitRequest) -> EngineFuture<'a, String> {
        self.record(format!("commit {}", request.container));
        ready(Ok("sha256:committed".into()))
    }

    fn push_image(&self, name: &str, tag: &str) -> EngineStream<()> {
        self.record(format!("push {name}:{tag}"));
        futures::stream::empty().boxed()
    }

    fn stats(&self, _name: &str, _stream: bool) -> EngineStream<StatsSample> {
        futures::stream::iter([Ok(StatsSample::default())]).boxed()
    }

    fn swarm_state(&self) -> EngineFuture<'_, String> {
        ready(Ok(self.with(|s| {
            if s.swarm_manager {
                "active".to_string()
            } else {
                "inactive".to_string()
            }
        })))
    }

    fn swarm_info(&self) -> EngineFuture<'_, SwarmInfo> {
        ready(Ok(self.with(|s| SwarmInfo {
            state: if s.swarm_manager {
                "active"
            } else {
                "inactive"
            }
            .into(),
            manager: s.swarm_manager,
            node_id: "node1".into(),
        })))
    }

    fn list_swarm<'a>(
        &'a self,
        kind: SwarmKind,
        filters: &'a [(&'a str, &'a str)],
    ) -> EngineFuture<'a, Vec<serde_json::Value>> {
        let filters: Vec<(String, String)> = filters
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let list = self.with(|s| {
            let service_ids: HashMap<String, String> = s
                .swarm
                .iter()
                .filter(|(k, _)| *k == SwarmKind::Service)
                .map(|(_, v)| {
                    let name = v["Spec"]["Name"].as_str().unwrap_or("").to_string();
                    (name, v["ID"].as_str().unwrap_or("").to_string())
                })
                .collect();
            s.swarm
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, v)| v.clone())
                .filter(|v| {
                    filters.iter().all(|(f, value)| match f.as_str() {
                        "label" => {
                            let (k, want) = value.split_once('=').unwrap_or((value, ""));
                            let l = v["Spec"]["Labels"].get(k).or(v["Labels"].get(k));
                            l.and_then(|l| l.as_str()) == Some(want)
                        }
                        "service" => {
                            let id = service_ids.get(value).unwrap_or(value);
                            v["ServiceID"].as_str() == Some(id.as_str())
                        }
                        _ => true,
                    })
                })
                .collect::<Vec<_>>()
        });
        ready(Ok(list))
    }

    fn create_swarm<'a>(
        &'a self,
        kind: SwarmKind,
        spec: &'a serde_json::Value,
    ) -> EngineFuture<'a, String> {
        let name = spec["Name"].as_str().unwrap_or("").to_string();
        self.record(format!("create {} {name}", kind.noun()));
        let r = self.with(|s| {
            if s.swarm
                .iter()
                .any(|(k, v)| *k == kind && v["Spec"]["Name"] == name.as_str())
            {
                return Err(EngineError::new(
                    ErrorKind::Conflict,
                    format!("{} {name} already exists", kind.noun()),
                ));
            }
            s.next_id += 1;
            let id = format!("{}{}", kind.noun(), s.next_id);
            s.swarm.push((
                kind,
                serde_json::json!({"ID": id, "Version": {"Index": s.next_id}, "Spec": spec}),
            ));
            // The fake swarm runs a service's tasks at once.
            if kind == SwarmKind::Service {
                let n = spec["Mode"]["Replicated"]["Replicas"].as_u64().unwrap_or(1);
                for slot in 1..=n {
                    s.swarm.push((
                        SwarmKind::Task,
                        serde_json::json!({
                            "ID": format!("{id}-task{slot}"),
                            "ServiceID": id,
                            "Slot": slot,
                            "DesiredState": "running",
                            "Status": {"State": "running"},
                        }),
                    ));
                }
            }
            Ok(id)
        });
        ready(r)
    }

    fn update_service<'a>(
        &'a self,
        id: &'a str,
        version: u64,
        spec: &'a serde_json::Value,
    ) -> EngineFuture<'a, ()> {
        let name = spec["Name"].as_str().unwrap_or("").to_string();
        self.record(format!("update service {name}"));
        let r = self.with(|s| {
            s.next_id += 1;
            let next = s.next_id;
            let found = s
                .swarm
                .iter_mut()
                .find(|(k, v)| *k == SwarmKind::Service && v["ID"] == id);
            match found {
                Some((_, v)) if v["Version"]["Index"] == version => {
                    let spec = if s.roll_back_updates {
                        v["Spec"].clone()
                    } else {
                        spec.clone()
                    };
                    *v = serde_json::json!({"ID": id, "Version": {"Index": next}, "Spec": spec});
                    if s.roll_back_updates {
                        v["UpdateStatus"] = serde_json::json!({
                            "State": "rollback_completed",
                            "Message": "rollback completed",
                        });
                    }
                    Ok(())
                }
                Some(_) => Err(EngineError::new(ErrorKind::Api, "update out of sequence")),
                None => Err(not_found(id)),
            }
        });
        ready(r)
    }

    fn remove_swarm<'a>(&'a self, kind: SwarmKind, id: &'a str) -> EngineFuture<'a, ()> {
        let r = self.with(|s| {
            let before = s.swarm.len();
            let mut name = String::new();
            s.swarm.retain(|(k, v)| {
                let hit = *k == kind && v["ID"] == id;
                if hit {
                    name = v["Spec"]["Name"].as_str().unwrap_or("").to_string();
                }
                !hit
            });
            if kind == SwarmKind::Service {
                s.swarm
                    .retain(|(k, v)| *k != SwarmKind::Task || v["ServiceID"] != id);
            }
            if s.swarm.len() == before {
                Err(not_found(id))
            } else {
                Ok(name)
            }
        });
        if let Ok(name) = &r {
            self.record(format!("remove {} {name}", kind.noun()));
        }
        ready(r.map(|_| ()))
    }
}

fn fake_volume(name: &str, labels: &HashMap<String, String>) -> VolumeDetails {
    VolumeDetails {
        name: name.into(),
        driver: "local".into(),
        mountpoint: format!("/var/lib/docker/volumes/{name}/_data"),
        scope: "local".into(),
        labels: labels.clone(),
        options: HashMap::new(),
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
