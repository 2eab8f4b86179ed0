//! The typed compose model, in the canonical (long) syntax that the loader produces.
//!
//! Field names are the specification's. Everything the runtime reads is typed here; the loader
//! fills it from a canonical tree, so short forms never reach this module.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use super::lenient;
use super::units::{Bytes, Duration};

/// A loaded project: the services that are enabled and the resources they use.
#[derive(Debug, Clone, Default)]
pub struct Project {
    pub name: String,
    /// The project directory: base of relative paths, `com.docker.compose.project.working_dir`.
    pub working_dir: PathBuf,
    /// The compose files, absolute, in the order they were merged.
    pub config_files: Vec<PathBuf>,
    /// Env files given explicitly with `--env-file` (recorded in a label).
    pub env_files: Vec<PathBuf>,
    pub services: IndexMap<String, Service>,
    /// Services present in the files but disabled by profiles (not orphans).
    pub disabled_services: IndexMap<String, Service>,
    pub networks: IndexMap<String, Network>,
    pub volumes: IndexMap<String, Volume>,
    pub secrets: IndexMap<String, FileObject>,
    pub configs: IndexMap<String, FileObject>,
    /// The environment used for interpolation (OS environment over env files).
    pub environment: IndexMap<String, String>,
    /// Each compose file and its text, to point errors found later at their source.
    pub sources: Vec<(PathBuf, String)>,
    /// Top-level `models` (AI models services use), as read; `config --models` lists them.
    pub models: IndexMap<String, serde_json::Value>,
    /// Top-level `x-` keys, kept for `config`.
    pub extensions: IndexMap<String, serde_json::Value>,
}

impl Project {
    /// An error pointing at `path` in the last file that holds it.
    pub fn error_at(
        &self,
        path: &super::path::Path,
        message: impl Into<String>,
    ) -> super::LoadError {
        super::locate(&self.sources, message.into(), path, true)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.get(name)
    }
}

/// One service, in canonical form.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Service {
    #[serde(skip)]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub environment: IndexMap<String, Option<String>>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub depends_on: IndexMap<String, DependsOn>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub networks: IndexMap<String, Option<ServiceNetwork>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<NamespaceMode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<ServiceVolume>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes_from: Vec<VolumesFrom>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient::strings"
    )]
    pub expose: Vec<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<Restart>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_bool"
    )]
    pub init: Option<bool>,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub read_only: bool,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub privileged: bool,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub tty: bool,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub stdin_open: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<Tmpfs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub scale: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<ExtraHost>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memswap_limit: Option<Bytes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_reservation: Option<Bytes>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_f64"
    )]
    pub cpus: Option<f64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub cpu_shares: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub pids_limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<Bytes>,
    #[serde(
        skip_serializing_if = "lenient::is_none_or_false",
        deserialize_with = "lenient::opt_bool"
    )]
    pub oom_kill_disable: Option<bool>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "lenient::string_map"
    )]
    pub sysctls: IndexMap<String, String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub ulimits: IndexMap<String, Ulimit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<FileRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<FileRef>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient::strings"
    )]
    pub group_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc: Option<NamespaceMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<NamespaceMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_bool"
    )]
    pub attach: Option<bool>,
    /// Attributes rcompose does not act on, kept as read for `config` and the config hash.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

impl Service {
    /// How many containers the service wants: `deploy.replicas`, else `scale`, else 1.
    pub fn replicas(&self) -> u64 {
        self.deploy
            .as_ref()
            .and_then(|d| d.replicas)
            .or(self.scale)
            .unwrap_or(1)
    }

    /// The services this one needs without naming them in `depends_on`.
    pub fn implicit_dependencies(&self) -> Vec<ImplicitDependency> {
        implicit_dependencies(
            [&self.network_mode, &self.ipc, &self.pid]
                .into_iter()
                .flatten(),
            &self.links,
            &self.volumes_from,
        )
    }

    /// The image the service runs: `image`, or `<project>-<service>` when built.
    pub fn image_name(&self, project: &str) -> String {
        match &self.image {
            Some(i) => i.clone(),
            None => super::name::built_image(project, &self.name),
        }
    }
}

/// A dependency implied by `network_mode`, `ipc` or `pid` (`service:x`), `links` or
/// `volumes_from`; `restart` as the reference sets it (not for `volumes_from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImplicitDependency {
    pub service: String,
    pub restart: bool,
}

/// The implicit dependencies of a service, from its namespace modes (`network_mode`, `ipc`,
/// `pid`), `links` and `volumes_from`, in that order: the one rule for the loader (which adds
/// them to `depends_on`), the planner and the `depends_on` label.
pub fn implicit_dependencies<'a>(
    modes: impl IntoIterator<Item = &'a NamespaceMode>,
    links: impl IntoIterator<Item = &'a Link>,
    volumes_from: impl IntoIterator<Item = &'a VolumesFrom>,
) -> Vec<ImplicitDependency> {
    let mut out: Vec<ImplicitDependency> = Vec::new();
    let mut add = |service: &str, restart: bool| {
        if !out.iter().any(|d| d.service == service) {
            out.push(ImplicitDependency {
                service: service.to_string(),
                restart,
            });
        }
    };
    for m in modes {
        if let NamespaceMode::Service(s) = m {
            add(s, true);
        }
    }
    for l in links {
        add(&l.service, true);
    }
    for v in volumes_from {
        if let VolumesFromSource::Service(s) = &v.source {
            add(s, false);
        }
    }
    out
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Build {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile_inline: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub args: IndexMap<String, Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub no_cache: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<ExtraHost>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<Bytes>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_from: Vec<String>,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub pull: bool,
    /// Attributes rcompose does not act on, kept as read for `config` and the config hash.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

/// One entry of `depends_on`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct DependsOn {
    pub condition: Condition,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub restart: bool,
    #[serde(deserialize_with = "lenient::bool")]
    pub required: bool,
}

impl Default for DependsOn {
    fn default() -> Self {
        DependsOn {
            condition: Condition::ServiceStarted,
            restart: false,
            required: true,
        }
    }
}

/// What a dependency must reach before its dependents start.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    #[default]
    ServiceStarted,
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::ServiceStarted => "service_started",
            Condition::ServiceHealthy => "service_healthy",
            Condition::ServiceCompletedSuccessfully => "service_completed_successfully",
        }
    }
}

/// A service's attachment to one network.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct ServiceNetwork {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_address: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub priority: Option<i64>,
    /// Attributes rcompose does not act on, kept as read for `config` and the config hash.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

/// A mount in long syntax.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct ServiceVolume {
    #[serde(rename = "type")]
    pub kind: MountKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub target: String,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsOptions>,
    /// Attributes rcompose does not act on, kept as read for `config` and the config hash.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct BindOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation: Option<String>,
    #[serde(
        skip_serializing_if = "lenient::is_none_or_false",
        deserialize_with = "lenient::opt_bool"
    )]
    pub create_host_path: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selinux: Option<String>,
    /// Attributes rcompose does not act on, kept as read for `config` and the config hash.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct VolumeOptions {
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub nocopy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
    /// Attributes rcompose does not act on, kept as read for `config` and the config hash.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct TmpfsOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<Bytes>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_mode"
    )]
    pub mode: Option<i64>,
}

/// A published or exposed port in long syntax.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Port {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    #[serde(deserialize_with = "lenient::u64")]
    pub target: u64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

/// A device mapped into the container, in long syntax.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Device {
    pub source: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Healthcheck {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_period: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<Duration>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub retries: Option<u64>,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub disable: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Deploy {
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64"
    )]
    pub replicas: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    /// Attributes rcompose does not act on (swarm-only `mode`, `placement`, `update_config`...),
    /// kept as read for `config` and the config hash, and reported once as ignored.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Resource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Resource>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Resource {
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_f64"
    )]
    pub cpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Bytes>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub pids: Option<i64>,
    /// Attributes rcompose does not act on, kept as read for `config` and the config hash.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct RestartPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub max_attempts: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
}

/// `ulimits.<name>`: one number, or soft and hard.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Ulimit {
    Single(i64),
    Pair { soft: i64, hard: i64 },
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Logging {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "lenient::string_map"
    )]
    pub options: IndexMap<String, String>,
}

/// A service's reference to a secret or config.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct FileRef {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_owner"
    )]
    pub uid: Option<Owner>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_owner"
    )]
    pub gid: Option<Owner>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_mode",
        serialize_with = "lenient::octal"
    )]
    pub mode: Option<i64>,
}

/// A top-level network.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Network {
    /// The engine name: `<project>_<key>` unless set.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "lenient::string_map"
    )]
    pub driver_opts: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub external: bool,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub internal: bool,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub attachable: bool,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_bool"
    )]
    pub enable_ipv6: Option<bool>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    /// Attributes rcompose does not act on, kept as read for `config` and the config hash.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Ipam {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub options: IndexMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct IpamPool {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub aux_addresses: IndexMap<String, String>,
}

/// A top-level volume.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Volume {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "lenient::string_map"
    )]
    pub driver_opts: IndexMap<String, String>,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub external: bool,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    /// Attributes rcompose does not act on, kept as read for `config` and the config hash.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

/// A top-level secret or config.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct FileObject {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(
        skip_serializing_if = "lenient::is_false",
        deserialize_with = "lenient::bool"
    )]
    pub external: bool,
    /// Attributes rcompose does not act on, kept as read for `config` and the config hash.
    #[serde(flatten)]
    pub other: IndexMap<String, serde_json::Value>,
}

// Short forms, parsed once (`canonical.rs` reads them; `Display` writes them back as written,
// which is what `config` prints and the config hash covers).

/// `restart`: the policy, and the text as written (what `config` prints, as the reference
/// does, whatever it says).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Restart {
    pub written: String,
    /// `None` for a value the engine does not know: `config` prints it, and
    /// `validate::runnable` refuses it, with its location, before any container is made.
    pub policy: Option<RestartMode>,
}

/// A restart policy the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartMode {
    No,
    Always,
    UnlessStopped,
    /// `on-failure[:N]`; `N` only when it is a plain number (the reference's `Atoi`).
    OnFailure(Option<u32>),
}

/// A `tmpfs` entry: `PATH[:OPTIONS]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tmpfs {
    pub path: String,
    /// The mount options (`size=1m,mode=1777`), as written.
    pub options: Option<String>,
}

/// A `links` entry: `SERVICE[:ALIAS]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Link {
    pub service: String,
    pub alias: Option<String>,
}

impl Link {
    /// The name the linked service is known by: the alias, else the service.
    pub fn name(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.service)
    }
}

/// A `volumes_from` entry: `SERVICE[:MODE]` or `container:NAME[:MODE]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct VolumesFrom {
    pub source: VolumesFromSource,
    /// `ro` or `rw` (passed to the engine as written, which judges it, as the reference does).
    pub mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumesFromSource {
    Service(String),
    Container(String),
}

/// `network_mode`, `ipc` or `pid`: another service's or container's namespace, or a mode the
/// engine knows by name (`host`, `none`, `bridge`, a network, `shareable`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum NamespaceMode {
    Service(String),
    Container(String),
    Named(String),
}

/// An `extra_hosts` entry (canonical `HOST=ADDRESS`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExtraHost {
    pub host: String,
    pub address: String,
}

/// `pull_policy` (`if_not_present` is `missing`, the word kept for `config --no-normalize`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum PullPolicy {
    Always,
    Never,
    Missing,
    /// `missing` as written before normalization.
    IfNotPresent,
    Build,
    Refresh,
    Daily,
    Weekly,
    /// `every_<duration>`, the duration as written.
    Every(String),
}

/// A mount's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum MountKind {
    Bind,
    #[default]
    Volume,
    Tmpfs,
    Npipe,
    Cluster,
    Image,
}

/// A secret's or config's `uid` / `gid`: the text as written (the reference accepts any in
/// `config`), and the number it is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Owner {
    pub written: String,
    /// `None` when the text is not a number: the files are then owned by root (0), as before.
    pub id: Option<u32>,
}

macro_rules! written_as_text {
    ($($t:ty => $parse:path),* $(,)?) => {$(
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $parse(&s)
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $parse(s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.to_string()
            }
        }
    )*};
}

written_as_text! {
    Restart => super::canonical::restart,
    Tmpfs => super::canonical::tmpfs,
    Link => super::canonical::link,
    VolumesFrom => super::canonical::volumes_from,
    NamespaceMode => super::canonical::namespace_mode,
    ExtraHost => super::canonical::extra_host,
    PullPolicy => super::canonical::pull_policy,
    MountKind => super::canonical::mount_kind,
    Owner => super::canonical::owner,
}

impl std::fmt::Display for Restart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.written)
    }
}

impl std::fmt::Display for Tmpfs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.options {
            Some(o) => write!(f, "{}:{o}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.alias {
            Some(a) => write!(f, "{}:{a}", self.service),
            None => f.write_str(&self.service),
        }
    }
}

impl std::fmt::Display for VolumesFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            VolumesFromSource::Service(s) => f.write_str(s)?,
            VolumesFromSource::Container(c) => write!(f, "container:{c}")?,
        }
        match &self.mode {
            Some(m) => write!(f, ":{m}"),
            None => Ok(()),
        }
    }
}

impl std::fmt::Display for NamespaceMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NamespaceMode::Service(s) => write!(f, "service:{s}"),
            NamespaceMode::Container(c) => write!(f, "container:{c}"),
            NamespaceMode::Named(n) => f.write_str(n),
        }
    }
}

impl std::fmt::Display for ExtraHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.host, self.address)
    }
}

impl std::fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            PullPolicy::Always => "always",
            PullPolicy::Never => "never",
            PullPolicy::Missing => "missing",
            PullPolicy::IfNotPresent => "if_not_present",
            PullPolicy::Build => "build",
            PullPolicy::Refresh => "refresh",
            PullPolicy::Daily => "daily",
            PullPolicy::Weekly => "weekly",
            PullPolicy::Every(d) => return write!(f, "every_{d}"),
        };
        f.write_str(s)
    }
}

impl MountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Bind => "bind",
            MountKind::Volume => "volume",
            MountKind::Tmpfs => "tmpfs",
            MountKind::Npipe => "npipe",
            MountKind::Cluster => "cluster",
            MountKind::Image => "image",
        }
    }
}

impl std::fmt::Display for MountKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_dependencies_from_namespaces_links_and_volumes() {
        let svc = Service {
            network_mode: "service:net".parse().ok(),
            ipc: "service:ipc".parse().ok(),
            pid: "host".parse().ok(),
            links: vec!["db:database".parse().unwrap(), "net".parse().unwrap()],
            volumes_from: vec!["data:ro".parse().unwrap(), "container:c1".parse().unwrap()],
            ..Default::default()
        };
        let deps: Vec<(String, bool)> = svc
            .implicit_dependencies()
            .into_iter()
            .map(|d| (d.service, d.restart))
            .collect();
        assert_eq!(
            deps,
            [
                ("net".to_string(), true),
                ("ipc".to_string(), true),
                ("db".to_string(), true),
                ("data".to_string(), false)
            ]
        );
    }
}
