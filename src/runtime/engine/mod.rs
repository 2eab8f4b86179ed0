//! The one door to the engine: the [`Engine`] trait in rcompose's own types, its errors (404 and
//! 409 mapped once, into [`ErrorKind`]), the bollard implementation ([`docker`]) and a recording
//! fake for unit tests ([`fake`]). Request bodies built by [`super::convert`] pass through as
//! they are; nothing else of bollard leaves [`docker`].

pub(crate) mod docker;
pub(crate) mod dry;
#[cfg(test)]
pub(crate) mod fake;
mod insecure_tls;
mod ssh;
mod transport;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use std::collections::HashMap;
use std::pin::Pin;
use tokio::io::AsyncWrite;

use super::convert::{ContainerSpec, Endpoint, NetworkSpec, VolumeSpec};

/// An engine failure, with what we were doing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EngineError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No engine answers.
    Connect,
    /// 404: no such container, network, volume or image.
    NotFound,
    /// 409: in a state that forbids it (already exists, not running...).
    Conflict,
    /// 403: refused as it stands (a network that still has endpoints).
    Forbidden,
    /// 304: already in the state asked for (a stopped container asked to stop).
    NotModified,
    /// The engine refused or failed the request.
    Api,
    /// Something the engine cannot do here, found before any change.
    Unsupported,
    /// A dependency or a container did not reach its condition.
    Condition,
}

impl EngineError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        EngineError {
            kind,
            message: message.into(),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

/// What an engine call returns.
pub type EngineResult<T> = Result<T, EngineError>;
/// An engine call in flight.
pub type EngineFuture<'a, T> = BoxFuture<'a, EngineResult<T>>;
/// A stream the engine sends.
pub type EngineStream<T> = BoxStream<'static, EngineResult<T>>;

/// A chunk of a container's or process's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout(Bytes),
    Stderr(Bytes),
}

/// A process's streams: output from it, input to it.
pub struct Attached {
    pub output: EngineStream<Output>,
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
}

/// A published or exposed port of a listed container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortSummary {
    pub ip: String,
    pub private_port: u16,
    pub public_port: Option<u16>,
    pub protocol: String,
}

/// A mount of a listed container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountSummary {
    /// Volume name, or bind source.
    pub name: String,
    /// A volume of the `local` driver.
    pub local: bool,
}

/// A container as the engine lists it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerSummary {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub command: String,
    /// Unix seconds.
    pub created: i64,
    /// `running`, `exited`, `created`, `paused`, ...
    pub state: String,
    /// `Up 2 minutes`, as the engine words it.
    pub status: String,
    pub labels: HashMap<String, String>,
    pub ports: Vec<PortSummary>,
    pub mounts: Vec<MountSummary>,
    pub networks: Vec<String>,
}

/// A mount of an inspected container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountPoint {
    /// `volume`, `bind`, `tmpfs`.
    pub kind: String,
    pub name: Option<String>,
    pub destination: String,
    pub rw: bool,
}

/// What rcompose reads of an inspected container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerDetails {
    pub id: String,
    /// `running`, `exited`, ...
    pub status: String,
    pub exit_code: Option<i64>,
    /// The healthcheck's status; `None` without a healthcheck.
    pub health: Option<String>,
    pub mounts: Vec<MountPoint>,
    pub tty: bool,
    pub log_path: Option<String>,
    pub log_driver: Option<String>,
    /// When the container last started, in Unix nanoseconds; `None` if it never did.
    pub started_at: Option<i64>,
    /// When it last stopped, in Unix nanoseconds; `None` if it never did.
    pub finished_at: Option<i64>,
}

/// A network or volume as listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceSummary {
    /// The engine's id (a volume's is its name).
    pub id: String,
    pub name: String,
    pub labels: HashMap<String, String>,
}

/// What rcompose reads of an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageDetails {
    pub id: String,
    pub repo_tags: Vec<String>,
    /// RFC 3339.
    pub created: Option<String>,
    pub os: String,
    pub architecture: String,
    pub size: i64,
    pub last_tag_time: String,
    /// `repo@sha256:...` names the image was pulled by (none for a built or loaded image).
    pub repo_digests: Vec<String>,
}

/// A container event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventMessage {
    pub id: String,
    pub action: String,
    pub attributes: HashMap<String, String>,
    /// Unix nanoseconds.
    pub time_nano: i64,
}

/// What a log request asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsRequest {
    pub follow: bool,
    pub timestamps: bool,
    /// A number of lines, or `all`.
    pub tail: String,
    /// Unix seconds; 0 for no bound.
    pub since: i32,
    pub until: i32,
}

/// A process to run in a container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecRequest {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub tty: bool,
    pub privileged: bool,
    pub attach_stdin: bool,
    pub attach_output: bool,
}

/// An image build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildRequest {
    pub dockerfile: String,
    pub tag: String,
    pub no_cache: bool,
    pub pull: bool,
    pub args: HashMap<String, String>,
    pub labels: HashMap<String, String>,
    pub target: Option<String>,
    pub network: Option<String>,
    /// `host:ip`, comma-separated.
    pub extra_hosts: Option<String>,
    pub shm_size: Option<i64>,
    pub cache_from: Vec<String>,
}

/// `commit`: a new image from a container's changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitRequest {
    pub container: String,
    /// `repo[:tag]`; none for an untagged image.
    pub reference: Option<String>,
    pub author: Option<String>,
    pub message: Option<String>,
    /// Dockerfile instructions, one per line.
    pub changes: Vec<String>,
    pub pause: bool,
}

/// One resource-usage sample of a container, with the previous CPU reading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsSample {
    pub cpu_total: u64,
    pub precpu_total: u64,
    pub system_cpu: u64,
    pub presystem_cpu: u64,
    pub online_cpus: u32,
    pub memory_usage: u64,
    /// Page cache counted in `memory_usage` that docker leaves out (`inactive_file`).
    pub memory_cache: u64,
    pub memory_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

/// A volume as the engine describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeDetails {
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
    /// `local` or `global`.
    pub scope: String,
    pub labels: HashMap<String, String>,
    /// The driver's options (`driver_opts`).
    pub options: HashMap<String, String>,
}

/// A volume's disk usage, from the engine's disk-usage data (`/system/df`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeUsage {
    pub name: String,
    /// Bytes; -1 when the driver cannot tell.
    pub size: i64,
    /// Containers that mount it; -1 when unknown.
    pub ref_count: i64,
}

/// A body streamed to the engine.
pub type UploadBody = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// A line of build output, or the build's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildOutput {
    Text(String),
    Error(String),
}

/// The kinds of swarm objects rcompose reads and writes (`stack`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SwarmKind {
    Service,
    Secret,
    Config,
    Task,
    Node,
}

impl SwarmKind {
    pub fn noun(self) -> &'static str {
        match self {
            SwarmKind::Service => "service",
            SwarmKind::Secret => "secret",
            SwarmKind::Config => "config",
            SwarmKind::Task => "task",
            SwarmKind::Node => "node",
        }
    }
}

/// The local node's place in a swarm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwarmInfo {
    /// `active`, `inactive`, `pending`, `error`, `locked`.
    pub state: String,
    /// A manager: it can create services.
    pub manager: bool,
    pub node_id: String,
}

/// Every engine call rcompose makes. Errors carry what was being done; 404, 409 and 304 are
/// told apart by [`ErrorKind`].
pub trait Engine: Send + Sync {
    /// Every container (running or not) carrying `label` (`key` or `key=value`).
    fn list_containers(&self, label: &str) -> EngineFuture<'_, Vec<ContainerSummary>>;
    fn inspect_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ContainerDetails>;
    /// The engine's data folder (`DockerRootDir`), where a local engine keeps container logs;
    /// `None` when unknown.
    fn root_dir(&self) -> EngineFuture<'_, Option<String>> {
        Box::pin(futures::future::ready(Ok(None)))
    }
    /// The engine's data folder when the files in it carry the owners its API reports: not a
    /// rootless engine, no user-namespace remapping (`docker info`'s security options);
    /// `None` when unknown.
    fn plain_root_dir(&self) -> EngineFuture<'_, Option<String>> {
        Box::pin(futures::future::ready(Ok(None)))
    }
    /// The engine's own ID (`docker info`'s), to tell two endpoints of one engine apart from
    /// two engines; `None` when unknown.
    fn engine_id(&self) -> EngineFuture<'_, Option<String>> {
        Box::pin(futures::future::ready(Ok(None)))
    }
    fn create_container<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, ()>;
    fn connect_network<'a>(
        &'a self,
        network: &'a str,
        container: &'a str,
        endpoint: &'a Endpoint,
    ) -> EngineFuture<'a, ()>;
    fn start_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()>;
    /// Stops, killing after `timeout` seconds (`None`: the container's own stop timeout).
    fn stop_container<'a>(&'a self, name: &'a str, timeout: Option<i64>) -> EngineFuture<'a, ()>;
    fn restart_container<'a>(&'a self, name: &'a str, timeout: Option<i64>)
        -> EngineFuture<'a, ()>;
    fn kill_container<'a>(&'a self, name: &'a str, signal: &'a str) -> EngineFuture<'a, ()>;
    fn pause_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()>;
    fn unpause_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()>;
    /// Removes (forcing); with `volumes`, its anonymous volumes too.
    fn remove_container<'a>(&'a self, name: &'a str, volumes: bool) -> EngineFuture<'a, ()>;
    fn rename_container<'a>(&'a self, name: &'a str, to: &'a str) -> EngineFuture<'a, ()>;
    /// Waits until the container is not running; its exit code.
    fn wait_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, i64>;
    /// Column titles and process rows.
    fn top<'a>(&'a self, name: &'a str) -> EngineFuture<'a, (Vec<String>, Vec<Vec<String>>)>;
    /// Attaches to a created container's streams (before it starts: no replay).
    fn attach_container<'a>(&'a self, name: &'a str, stdin: bool) -> EngineFuture<'a, Attached>;
    fn logs(&self, name: &str, request: &LogsRequest) -> EngineStream<Output>;

    fn list_networks(&self) -> EngineFuture<'_, Vec<ResourceSummary>>;
    fn create_network<'a>(&'a self, spec: &'a NetworkSpec) -> EngineFuture<'a, ()>;
    fn remove_network<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()>;
    fn list_volumes(&self) -> EngineFuture<'_, Vec<ResourceSummary>>;
    fn create_volume<'a>(&'a self, spec: &'a VolumeSpec) -> EngineFuture<'a, ()>;
    fn remove_volume<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()>;
    /// Volumes carrying `label` (`key` or `key=value`; every volume when empty).
    fn volume_details(&self, label: &str) -> EngineFuture<'_, Vec<VolumeDetails>>;
    fn inspect_volume<'a>(&'a self, name: &'a str) -> EngineFuture<'a, VolumeDetails>;
    /// The disk usage of every volume (the engine walks them all: it may take a while).
    fn volume_usage(&self) -> EngineFuture<'_, Vec<VolumeUsage>>;

    fn inspect_image<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ImageDetails>;
    /// Pulls `name:tag`; the stream ends when the pull is done.
    fn pull_image(&self, name: &str, tag: &str) -> EngineStream<()>;
    fn remove_image<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ()>;
    fn build_image(&self, request: &BuildRequest, context: Vec<u8>) -> EngineStream<BuildOutput>;
    fn tag_image<'a>(&'a self, image: &'a str, repo: &'a str, tag: &'a str)
        -> EngineFuture<'a, ()>;
    /// The ids of the images the engine has, smallest first.
    fn image_ids(&self) -> EngineFuture<'_, Vec<String>>;
    /// The engine's version (`20.10.24`).
    fn version(&self) -> EngineFuture<'_, String>;

    /// A container's whole filesystem as a tar stream.
    fn export_container(&self, name: &str) -> EngineStream<Bytes>;
    /// A new image from a container's changes; its id.
    fn commit_container<'a>(&'a self, request: &'a CommitRequest) -> EngineFuture<'a, String>;
    /// Pushes `name:tag` to its registry; the stream ends when the push is done.
    fn push_image(&self, name: &str, tag: &str) -> EngineStream<()>;
    /// Resource usage of a running container: one sample, or a sample a second.
    fn stats(&self, name: &str, stream: bool) -> EngineStream<StatsSample>;

    /// Creates a process in a running container; its id.
    fn create_exec<'a>(
        &'a self,
        container: &'a str,
        request: &'a ExecRequest,
    ) -> EngineFuture<'a, String>;
    /// Starts a created process; its streams unless `detach`.
    fn start_exec<'a>(
        &'a self,
        id: &'a str,
        detach: bool,
        tty: bool,
    ) -> EngineFuture<'a, Option<Attached>>;
    fn resize_exec<'a>(&'a self, id: &'a str, height: u16, width: u16) -> EngineFuture<'a, ()>;
    /// The exit code of a finished process.
    fn exec_exit_code<'a>(&'a self, id: &'a str) -> EngineFuture<'a, i64>;

    /// `path` in the container as a tar stream.
    fn download(&self, container: &str, path: &str) -> EngineStream<Bytes>;
    /// Whether `path` in the container is a folder (`None`: it does not exist).
    fn path_is_dir<'a>(
        &'a self,
        container: &'a str,
        path: &'a str,
    ) -> EngineFuture<'a, Option<bool>>;
    /// Unpacks a tar into folder `dir` of the container.
    fn upload<'a>(&'a self, container: &'a str, dir: &'a str, tar: Vec<u8>)
        -> EngineFuture<'a, ()>;
    /// As [`Engine::upload`], the files owned by the container's user (`copyUIDGID`): `watch`.
    fn upload_owned<'a>(
        &'a self,
        container: &'a str,
        dir: &'a str,
        tar: Vec<u8>,
    ) -> EngineFuture<'a, ()>;

    /// Unpacks a tar streamed from `body` into folder `dir` of the container, keeping the
    /// owners the archive names.
    fn upload_stream<'a>(
        &'a self,
        container: &'a str,
        dir: &'a str,
        body: UploadBody,
    ) -> EngineFuture<'a, ()>;

    /// Container events carrying `label`, replayed from Unix second `since`.
    fn events(&self, label: &str, since: i64) -> EngineStream<EventMessage>;
    /// The local node's swarm state (`active`, `inactive`, ...).
    fn swarm_state(&self) -> EngineFuture<'_, String>;

    /// Whether this node is in a swarm and a manager.
    fn swarm_info(&self) -> EngineFuture<'_, SwarmInfo>;
    /// Swarm objects of `kind` as Engine API JSON (`ID`, `Version.Index`, `Spec`, ...), those
    /// passing every filter (`("label", "key=value")`, `("service", NAME)`, the engine's
    /// `("_up-to-date", "true")` for tasks of the service's current spec, ...).
    fn list_swarm<'a>(
        &'a self,
        kind: SwarmKind,
        filters: &'a [(&'a str, &'a str)],
    ) -> EngineFuture<'a, Vec<serde_json::Value>>;
    /// Creates a service, secret, config or overlay network from its Engine API spec; its id.
    fn create_swarm<'a>(
        &'a self,
        kind: SwarmKind,
        spec: &'a serde_json::Value,
    ) -> EngineFuture<'a, String>;
    /// Replaces a service's spec (at `version`, the one read).
    fn update_service<'a>(
        &'a self,
        id: &'a str,
        version: u64,
        spec: &'a serde_json::Value,
    ) -> EngineFuture<'a, ()>;
    fn remove_swarm<'a>(&'a self, kind: SwarmKind, id: &'a str) -> EngineFuture<'a, ()>;
}
