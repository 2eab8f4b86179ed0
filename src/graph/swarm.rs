//! `stack deploy`: a project → the swarm objects `docker stack deploy` would make of it (service
//! specs, overlay networks, secrets and configs, as Engine API JSON, named and labelled as
//! `docker stack` names and labels them), and those against the observed objects → what to create,
//! update and remove. Pure: the runtime reads files and the engine, and performs the result.

use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::parse::path::Path;
use crate::parse::{Condition, FileObject, FileRef, MountKind, Project, RestartMode, Service};

/// On every object of a stack: the stack's name.
pub const NAMESPACE: &str = "com.docker.stack.namespace";
/// On a service: its image as written.
pub const IMAGE: &str = "com.docker.stack.image";
/// On the secrets and configs rcompose makes: the SHA-256 of the value, so a changed value gets a
/// new versioned object (swarm secrets cannot change).
pub const DIGEST: &str = "com.docker.rcompose.digest";
/// On a service rcompose makes: the SHA-256 of the spec it sent (without this label, with the
/// values of its secrets and configs). The
/// engine's answers as bollard reads them lose some fields (`Healthcheck`), so a change there
/// is seen by this label; a rollback, which restores the previous spec, changes it back.
pub const SPEC_HASH: &str = "com.docker.rcompose.spec-hash";

/// A network of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackNetwork {
    pub name: String,
    pub external: bool,
    /// The `/networks/create` body (none for an external network).
    pub spec: Value,
}

/// A secret or config of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackFile {
    /// The key in the project.
    pub key: String,
    /// `STACK_key`, or the `name:` set.
    pub name: String,
    pub external: bool,
    pub data: Vec<u8>,
    pub digest: String,
}

/// A service of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackService {
    pub key: String,
    pub name: String,
    /// The `/services/create` body; secret and config references carry the base name only
    /// (`SecretName`), resolved to a version and an id by [`resolve_refs`].
    pub spec: Value,
    /// Services this one waits for, with the condition.
    pub depends_on: Vec<(String, Condition)>,
    /// A job (`replicated-job`, `global-job`): done when its tasks complete.
    pub job: bool,
    /// Tasks wanted (replicated modes; `None` for global modes).
    pub replicas: Option<u64>,
}

/// What a project becomes on a swarm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stack {
    pub name: String,
    pub networks: Vec<StackNetwork>,
    pub secrets: Vec<StackFile>,
    pub configs: Vec<StackFile>,
    /// In dependency order.
    pub services: Vec<StackService>,
    /// Keys swarm cannot honour, one located warning each.
    pub warnings: Vec<String>,
}

/// An input swarm cannot take, found before anything changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StackError(pub String);

/// The values of file, environment and content secrets and configs, read by the caller: kind
/// (`secrets`/`configs`) and key → bytes.
pub type Values = IndexMap<(String, String), Vec<u8>>;

/// A name of the stack: `STACK_key` unless the project set one.
fn scoped(stack: &str, project: &str, key: &str, name: &str) -> String {
    if name.is_empty() || name == format!("{project}_{key}") {
        format!("{stack}_{key}")
    } else {
        name.to_string()
    }
}

fn ns_labels(stack: &str, extra: impl IntoIterator<Item = (String, String)>) -> Value {
    let mut m = Map::new();
    for (k, v) in extra {
        m.insert(k, Value::String(v));
    }
    m.insert(NAMESPACE.into(), Value::String(stack.into()));
    Value::Object(m)
}

fn digest(data: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(data);
    format!("{:x}", h.finalize())
}

/// Keys of a service that swarm cannot honour; each gets a warning.
const UNSUPPORTED: &[&str] = &[
    "build",
    "container_name",
    "network_mode",
    "devices",
    "links",
    "external_links",
    "volumes_from",
    "privileged",
    "ipc",
    "pid",
    "security_opt",
    "shm_size",
    "mac_address",
    "domainname",
    "cgroup_parent",
    "cgroupns_mode",
    "userns_mode",
    "expose",
    "mem_limit",
    "memswap_limit",
    "cpus",
    "cpu_shares",
    "cpuset",
    "mem_reservation",
    "pids_limit",
    "oom_kill_disable",
    "group_add",
    "platform",
    "pull_policy",
    "scale",
];

fn present(svc: &Service, key: &str) -> bool {
    match key {
        "build" => svc.build.is_some(),
        "container_name" => svc.container_name.is_some(),
        "network_mode" => svc.network_mode.is_some(),
        "devices" => !svc.devices.is_empty(),
        "links" => !svc.links.is_empty(),
        "volumes_from" => !svc.volumes_from.is_empty(),
        "privileged" => svc.privileged,
        "ipc" => svc.ipc.is_some(),
        "pid" => svc.pid.is_some(),
        "security_opt" => !svc.security_opt.is_empty(),
        "shm_size" => svc.shm_size.is_some(),
        "mac_address" => svc.mac_address.is_some(),
        "domainname" => svc.domainname.is_some(),
        "expose" => !svc.expose.is_empty(),
        "mem_limit" => svc.mem_limit.is_some(),
        "memswap_limit" => svc.memswap_limit.is_some(),
        "cpus" => svc.cpus.is_some(),
        "cpu_shares" => svc.cpu_shares.is_some(),
        "cpuset" => svc.cpuset.is_some(),
        "mem_reservation" => svc.mem_reservation.is_some(),
        "pids_limit" => svc.pids_limit.is_some(),
        "oom_kill_disable" => svc.oom_kill_disable == Some(true),
        "group_add" => !svc.group_add.is_empty(),
        "platform" => svc.platform.is_some(),
        "pull_policy" => svc.pull_policy.is_some(),
        "scale" => svc.scale.is_some(),
        other => svc.other.contains_key(other),
    }
}

/// The project as `docker stack deploy` would make it on swarm, named `stack`.
pub fn desired(project: &Project, stack: &str, values: &Values) -> Result<Stack, StackError> {
    let mut out = Stack {
        name: stack.to_string(),
        ..Stack::default()
    };
    // Networks: those the services use (the default one when a service names none).
    let mut used: Vec<String> = Vec::new();
    for svc in project.services.values() {
        if svc.networks.is_empty() {
            if !used.iter().any(|n| n == "default") {
                used.push("default".into());
            }
        } else {
            for k in svc.networks.keys() {
                if !used.contains(k) {
                    used.push(k.clone());
                }
            }
        }
    }
    for key in &used {
        let net = project.networks.get(key);
        let external = net.is_some_and(|n| n.external);
        let name = match net {
            Some(n) if external => n.name.clone(),
            Some(n) => scoped(stack, &project.name, key, &n.name),
            None => format!("{stack}_{key}"),
        };
        let spec = match net {
            _ if external => Value::Null,
            Some(n) => {
                let driver = n.driver.clone().unwrap_or_else(|| "overlay".into());
                let mut spec = json!({
                    "Name": name,
                    "Driver": driver,
                    "Labels": ns_labels(stack, n.labels.clone()),
                    "Internal": n.internal,
                    "Attachable": n.attachable,
                    "Scope": "swarm",
                });
                if !n.driver_opts.is_empty() {
                    spec["Options"] = json!(n.driver_opts);
                }
                if let Some(ipam) = &n.ipam {
                    let config: Vec<Value> = ipam
                        .config
                        .iter()
                        .filter_map(|p| p.subnet.as_ref().map(|s| json!({"Subnet": s})))
                        .collect();
                    spec["IPAM"] = json!({
                        "Driver": ipam.driver.clone().unwrap_or_else(|| "default".into()),
                        "Config": config,
                    });
                }
                spec
            }
            None => json!({
                "Name": name,
                "Driver": "overlay",
                "Labels": ns_labels(stack, []),
                "Internal": false,
                "Attachable": false,
                "Scope": "swarm",
            }),
        };
        out.networks.push(StackNetwork {
            name,
            external,
            spec,
        });
    }
    for (kind, objects, list) in [
        ("secrets", &project.secrets, &mut out.secrets),
        ("configs", &project.configs, &mut out.configs),
    ] {
        let used: Vec<&String> = objects
            .keys()
            .filter(|k| {
                project.services.values().any(|s| {
                    let refs = if kind == "secrets" {
                        &s.secrets
                    } else {
                        &s.configs
                    };
                    refs.iter().any(|r| &r.source == *k)
                })
            })
            .collect();
        for key in used {
            let obj: &FileObject = &objects[key];
            let data = if obj.external {
                Vec::new()
            } else {
                values
                    .get(&(kind.to_string(), key.clone()))
                    .cloned()
                    .ok_or_else(|| StackError(format!("{kind}.{key}: no value was read")))?
            };
            list.push(StackFile {
                key: key.clone(),
                name: if obj.external {
                    obj.name.clone()
                } else {
                    scoped(stack, &project.name, key, &obj.name)
                },
                external: obj.external,
                digest: digest(&data),
                data,
            });
        }
    }
    let order = dependency_order(project)?;
    for key in order {
        let svc = &project.services[&key];
        for k in UNSUPPORTED {
            if present(svc, k) {
                let p = Path::root().key("services").key(&key).key(k);
                out.warnings.push(
                    project
                        .error_at(&p, format!("`{k}` is not supported by swarm: ignored"))
                        .to_string(),
                );
            }
        }
        let mut s = service(project, stack, svc, &out.networks, &used_names(&out))?;
        seal(&mut s.spec, &out);
        out.services.push(s);
    }
    Ok(out)
}

/// Puts the [`SPEC_HASH`] label on a service spec: the SHA-256 of the spec and of the values of
/// the secrets and configs it uses (a changed value is a new version of the object).
fn seal(spec: &mut Value, stack: &Stack) {
    let mut text = spec.to_string();
    let cs = &spec["TaskTemplate"]["ContainerSpec"];
    for (key, name_key, files) in [
        ("Secrets", "SecretName", &stack.secrets),
        ("Configs", "ConfigName", &stack.configs),
    ] {
        for r in cs[key].as_array().into_iter().flatten() {
            if let Some(f) = files.iter().find(|f| r[name_key] == f.name.as_str()) {
                text.push('\n');
                text.push_str(&f.digest);
            }
        }
    }
    let hash = digest(text.as_bytes());
    if let Some(labels) = spec["Labels"].as_object_mut() {
        labels.insert(SPEC_HASH.into(), json!(hash));
    }
}

/// Secret and config names by key.
struct Names {
    secrets: IndexMap<String, String>,
    configs: IndexMap<String, String>,
}

fn used_names(stack: &Stack) -> Names {
    Names {
        secrets: stack
            .secrets
            .iter()
            .map(|s| (s.key.clone(), s.name.clone()))
            .collect(),
        configs: stack
            .configs
            .iter()
            .map(|s| (s.key.clone(), s.name.clone()))
            .collect(),
    }
}

/// Service keys, each after the services it depends on.
fn dependency_order(project: &Project) -> Result<Vec<String>, StackError> {
    let mut done: Vec<String> = Vec::new();
    let mut left: Vec<&String> = project.services.keys().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|k| {
            let svc = &project.services[*k];
            let ready = svc
                .depends_on
                .keys()
                .all(|d| done.contains(d) || !project.services.contains_key(d));
            if ready {
                done.push((*k).clone());
            }
            !ready
        });
        if left.len() == before {
            let names: Vec<&str> = left.iter().map(|s| s.as_str()).collect();
            return Err(StackError(format!(
                "dependency cycle between services {}",
                names.join(", ")
            )));
        }
    }
    Ok(done)
}

fn nanos(d: Option<crate::parse::units::Duration>) -> Option<i64> {
    d.map(|d| d.0)
}

/// A deploy key kept as written (`update_config`, `placement`, ...).
fn other<'a>(svc: &'a Service, key: &str) -> Option<&'a Value> {
    svc.deploy.as_ref().and_then(|d| d.other.get(key))
}

fn duration_value(v: Option<&Value>) -> Result<Option<i64>, StackError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => crate::parse::units::Duration::parse(s)
            .map(|d| Some(d.0))
            .map_err(StackError),
        Some(Value::Number(n)) => Ok(n.as_i64().map(|s| s * 1_000_000_000)),
        Some(other) => Err(StackError(format!("`{other}` is not a duration"))),
    }
}

fn update_config(v: Option<&Value>, what: &str) -> Result<Option<Value>, StackError> {
    let Some(v) = v else { return Ok(None) };
    let mut m = Map::new();
    m.insert(
        "Parallelism".into(),
        json!(v.get("parallelism").and_then(Value::as_u64).unwrap_or(1)),
    );
    if let Some(d) = duration_value(v.get("delay"))? {
        m.insert("Delay".into(), json!(d));
    }
    if let Some(a) = v.get("failure_action").and_then(Value::as_str) {
        m.insert("FailureAction".into(), json!(a));
    }
    if let Some(d) = duration_value(v.get("monitor"))? {
        m.insert("Monitor".into(), json!(d));
    }
    if let Some(r) = v.get("max_failure_ratio").and_then(Value::as_f64) {
        m.insert("MaxFailureRatio".into(), json!(r));
    }
    match v.get("order").and_then(Value::as_str) {
        Some(o @ ("stop-first" | "start-first")) => {
            m.insert("Order".into(), json!(o));
        }
        Some(o) => {
            return Err(StackError(format!(
                "{what}.order: `{o}` is not stop-first or start-first"
            )))
        }
        None => {}
    }
    Ok(Some(Value::Object(m)))
}

fn file_ref(kind: &str, r: &FileRef, name: &str) -> Value {
    let target = r.target.clone().unwrap_or_else(|| r.source.clone());
    let owner = |o: &Option<crate::parse::Owner>| {
        o.as_ref()
            .map(|o| o.to_string())
            .unwrap_or_else(|| "0".into())
    };
    let mode = r.mode.unwrap_or(0o444);
    let id_key = if kind == "secrets" {
        "SecretName"
    } else {
        "ConfigName"
    };
    json!({
        "File": {"Name": target, "UID": owner(&r.uid), "GID": owner(&r.gid), "Mode": mode},
        id_key: name,
    })
}

fn service(
    project: &Project,
    stack: &str,
    svc: &Service,
    networks: &[StackNetwork],
    names: &Names,
) -> Result<StackService, StackError> {
    let at = |k: &str| format!("services.{}.{k}", svc.name);
    let image = svc
        .image
        .clone()
        .ok_or_else(|| StackError(format!("{}: swarm needs an image", at("image"))))?;
    let name = format!("{stack}_{}", svc.name);
    let mut cs = Map::new();
    cs.insert("Image".into(), json!(image));
    cs.insert("Labels".into(), ns_labels(stack, svc.labels.clone()));
    if let Some(e) = &svc.entrypoint {
        cs.insert("Command".into(), json!(e));
    }
    if let Some(c) = &svc.command {
        cs.insert("Args".into(), json!(c));
    }
    if let Some(h) = &svc.hostname {
        cs.insert("Hostname".into(), json!(h));
    }
    let mut env: Vec<String> = svc
        .environment
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    env.sort();
    if !env.is_empty() {
        cs.insert("Env".into(), json!(env));
    }
    if let Some(d) = &svc.working_dir {
        cs.insert("Dir".into(), json!(d));
    }
    if let Some(u) = &svc.user {
        cs.insert("User".into(), json!(u));
    }
    if svc.tty {
        cs.insert("TTY".into(), json!(true));
    }
    if svc.stdin_open {
        cs.insert("OpenStdin".into(), json!(true));
    }
    if svc.read_only {
        cs.insert("ReadOnly".into(), json!(true));
    }
    if let Some(i) = svc.init {
        cs.insert("Init".into(), json!(i));
    }
    if let Some(g) = nanos(svc.stop_grace_period) {
        cs.insert("StopGracePeriod".into(), json!(g));
    }
    if let Some(s) = &svc.stop_signal {
        cs.insert("StopSignal".into(), json!(s));
    }
    if !svc.sysctls.is_empty() {
        cs.insert("Sysctls".into(), json!(svc.sysctls));
    }
    if !svc.cap_add.is_empty() {
        cs.insert("CapabilityAdd".into(), json!(svc.cap_add));
    }
    if !svc.cap_drop.is_empty() {
        cs.insert("CapabilityDrop".into(), json!(svc.cap_drop));
    }
    if !svc.ulimits.is_empty() {
        let list: Vec<Value> = svc
            .ulimits
            .iter()
            .map(|(n, u)| {
                let (soft, hard) = match u {
                    crate::parse::Ulimit::Single(v) => (*v, *v),
                    crate::parse::Ulimit::Pair { soft, hard } => (*soft, *hard),
                };
                json!({"Name": n, "Soft": soft, "Hard": hard})
            })
            .collect();
        cs.insert("Ulimits".into(), json!(list));
    }
    if !svc.dns.is_empty() || !svc.dns_search.is_empty() || !svc.dns_opt.is_empty() {
        let mut d = Map::new();
        if !svc.dns.is_empty() {
            d.insert("Nameservers".into(), json!(svc.dns));
        }
        if !svc.dns_search.is_empty() {
            d.insert("Search".into(), json!(svc.dns_search));
        }
        if !svc.dns_opt.is_empty() {
            d.insert("Options".into(), json!(svc.dns_opt));
        }
        cs.insert("DNSConfig".into(), Value::Object(d));
    }
    if !svc.extra_hosts.is_empty() {
        let hosts: Vec<String> = svc
            .extra_hosts
            .iter()
            .map(|h| format!("{} {}", h.address, h.host))
            .collect();
        cs.insert("Hosts".into(), json!(hosts));
    }
    if let Some(h) = &svc.healthcheck {
        let mut m = Map::new();
        if h.disable {
            m.insert("Test".into(), json!(["NONE"]));
        } else {
            if !h.test.is_empty() {
                m.insert("Test".into(), json!(h.test));
            }
            for (k, d) in [
                ("Interval", h.interval),
                ("Timeout", h.timeout),
                ("StartPeriod", h.start_period),
                ("StartInterval", h.start_interval),
            ] {
                if let Some(d) = d {
                    m.insert(k.into(), json!(d.0));
                }
            }
            if let Some(r) = h.retries {
                m.insert("Retries".into(), json!(r));
            }
        }
        cs.insert("HealthCheck".into(), Value::Object(m));
    }
    // Mounts.
    let mut mounts = Vec::new();
    for v in &svc.volumes {
        let mut m = Map::new();
        match v.kind {
            MountKind::Volume => {
                m.insert("Type".into(), json!("volume"));
                if let Some(src) = &v.source {
                    let vol = project.volumes.get(src);
                    let name = match vol {
                        Some(vol) if vol.external => vol.name.clone(),
                        Some(vol) => scoped(stack, &project.name, src, &vol.name),
                        None => src.clone(),
                    };
                    m.insert("Source".into(), json!(name));
                    let mut opts = Map::new();
                    if let Some(vol) = vol.filter(|v| !v.external) {
                        opts.insert("Labels".into(), ns_labels(stack, vol.labels.clone()));
                        if vol.driver.is_some() || !vol.driver_opts.is_empty() {
                            let mut dc = Map::new();
                            if let Some(d) = &vol.driver {
                                dc.insert("Name".into(), json!(d));
                            }
                            if !vol.driver_opts.is_empty() {
                                dc.insert("Options".into(), json!(vol.driver_opts));
                            }
                            opts.insert("DriverConfig".into(), Value::Object(dc));
                        }
                    }
                    if v.volume.as_ref().is_some_and(|o| o.nocopy) {
                        opts.insert("NoCopy".into(), json!(true));
                    }
                    if !opts.is_empty() {
                        m.insert("VolumeOptions".into(), Value::Object(opts));
                    }
                }
            }
            MountKind::Bind => {
                m.insert("Type".into(), json!("bind"));
                m.insert("Source".into(), json!(v.source.clone().unwrap_or_default()));
                if let Some(p) = v.bind.as_ref().and_then(|b| b.propagation.as_ref()) {
                    m.insert("BindOptions".into(), json!({"Propagation": p}));
                }
            }
            MountKind::Tmpfs => {
                m.insert("Type".into(), json!("tmpfs"));
                if let Some(t) = &v.tmpfs {
                    let mut o = Map::new();
                    if let Some(s) = t.size {
                        o.insert("SizeBytes".into(), json!(s.0));
                    }
                    if let Some(mo) = t.mode {
                        o.insert("Mode".into(), json!(mo));
                    }
                    if !o.is_empty() {
                        m.insert("TmpfsOptions".into(), Value::Object(o));
                    }
                }
            }
            _ => {
                return Err(StackError(format!(
                    "{}: mount type `{:?}` is not supported by swarm",
                    at("volumes"),
                    v.kind
                )))
            }
        }
        m.insert("Target".into(), json!(v.target));
        if v.read_only {
            m.insert("ReadOnly".into(), json!(true));
        }
        mounts.push(Value::Object(m));
    }
    for t in &svc.tmpfs {
        mounts.push(json!({"Type": "tmpfs", "Target": t.path}));
    }
    if !mounts.is_empty() {
        cs.insert("Mounts".into(), json!(mounts));
    }
    for (kind, refs, key) in [
        ("secrets", &svc.secrets, "Secrets"),
        ("configs", &svc.configs, "Configs"),
    ] {
        if refs.is_empty() {
            continue;
        }
        let table = if kind == "secrets" {
            &names.secrets
        } else {
            &names.configs
        };
        let mut list = Vec::new();
        for r in refs {
            let name = table
                .get(&r.source)
                .ok_or_else(|| StackError(format!("{}: undefined `{}`", at(kind), r.source)))?;
            let mut r = r.clone();
            if kind == "secrets" && r.target.is_none() {
                r.target = Some(r.source.clone());
            }
            if kind == "configs" && r.target.is_none() {
                r.target = Some(format!("/{}", r.source));
            }
            list.push(file_ref(kind, &r, name));
        }
        cs.insert(key.into(), json!(list));
    }
    cs.insert("Isolation".into(), json!("default"));

    let mut task = Map::new();
    task.insert("ContainerSpec".into(), Value::Object(cs));
    // Resources.
    if let Some(r) = svc.deploy.as_ref().and_then(|d| d.resources.as_ref()) {
        let mut res = Map::new();
        for (k, r) in [("Limits", &r.limits), ("Reservations", &r.reservations)] {
            let Some(r) = r else { continue };
            let mut m = Map::new();
            if let Some(c) = r.cpus {
                m.insert("NanoCPUs".into(), json!((c * 1e9).round() as i64));
            }
            if let Some(b) = r.memory {
                m.insert("MemoryBytes".into(), json!(b.0));
            }
            if let (Some(p), "Limits") = (r.pids, k) {
                m.insert("Pids".into(), json!(p));
            }
            res.insert(k.into(), Value::Object(m));
        }
        task.insert("Resources".into(), Value::Object(res));
    }
    // Restart policy: deploy.restart_policy, else `restart:`.
    let restart = match svc.deploy.as_ref().and_then(|d| d.restart_policy.as_ref()) {
        Some(rp) => {
            let mut m = Map::new();
            if let Some(c) = &rp.condition {
                let c = match c.as_str() {
                    "none" | "on-failure" | "any" => c.clone(),
                    other => {
                        return Err(StackError(format!(
                            "{}: condition `{other}` is not none, on-failure or any",
                            at("deploy.restart_policy")
                        )))
                    }
                };
                m.insert("Condition".into(), json!(c));
            }
            if let Some(d) = nanos(rp.delay) {
                m.insert("Delay".into(), json!(d));
            }
            if let Some(n) = rp.max_attempts {
                m.insert("MaxAttempts".into(), json!(n));
            }
            if let Some(w) = nanos(rp.window) {
                m.insert("Window".into(), json!(w));
            }
            Some(Value::Object(m))
        }
        None => svc
            .restart
            .as_ref()
            .and_then(|r| r.policy)
            .map(|p| match p {
                RestartMode::No => json!({"Condition": "none"}),
                RestartMode::Always | RestartMode::UnlessStopped => json!({"Condition": "any"}),
                RestartMode::OnFailure(None) => json!({"Condition": "on-failure"}),
                RestartMode::OnFailure(Some(n)) => {
                    json!({"Condition": "on-failure", "MaxAttempts": n})
                }
            }),
    };
    if let Some(r) = restart {
        task.insert("RestartPolicy".into(), r);
    }
    if let Some(p) = other(svc, "placement") {
        let mut m = Map::new();
        if let Some(c) = p.get("constraints").and_then(Value::as_array) {
            m.insert("Constraints".into(), json!(c));
        }
        if let Some(prefs) = p.get("preferences").and_then(Value::as_array) {
            let list: Vec<Value> = prefs
                .iter()
                .filter_map(|p| p.get("spread"))
                .map(|s| json!({"Spread": {"SpreadDescriptor": s}}))
                .collect();
            m.insert("Preferences".into(), json!(list));
        }
        if let Some(n) = p.get("max_replicas_per_node").and_then(Value::as_u64) {
            m.insert("MaxReplicas".into(), json!(n));
        }
        task.insert("Placement".into(), Value::Object(m));
    }
    // Networks with aliases (the service's name on every network, as docker stack adds it).
    let mut attach = Vec::new();
    let keys: Vec<String> = if svc.networks.is_empty() {
        vec!["default".into()]
    } else {
        svc.networks.keys().cloned().collect()
    };
    for key in keys {
        let net_name = match project.networks.get(&key) {
            Some(n) if n.external => n.name.clone(),
            Some(n) => scoped(stack, &project.name, &key, &n.name),
            None => format!("{stack}_{key}"),
        };
        if !networks.iter().any(|n| n.name == net_name) {
            continue;
        }
        let mut aliases = vec![svc.name.clone()];
        if let Some(Some(sn)) = svc.networks.get(&key) {
            aliases.extend(sn.aliases.iter().cloned());
        }
        attach.push(json!({"Target": net_name, "Aliases": aliases}));
    }
    task.insert("Networks".into(), json!(attach));
    if let Some(l) = &svc.logging {
        let mut m = Map::new();
        if let Some(d) = &l.driver {
            m.insert("Name".into(), json!(d));
        }
        if !l.options.is_empty() {
            m.insert("Options".into(), json!(l.options));
        }
        task.insert("LogDriver".into(), Value::Object(m));
    }

    let mut spec = Map::new();
    spec.insert("Name".into(), json!(name));
    let deploy_labels: IndexMap<String, String> = other(svc, "labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let mut labels = ns_labels(stack, deploy_labels);
    labels[IMAGE] = json!(image);
    spec.insert("Labels".into(), labels);
    spec.insert("TaskTemplate".into(), Value::Object(task));
    let mode = other(svc, "mode")
        .and_then(Value::as_str)
        .unwrap_or("replicated");
    let replicas = svc.deploy.as_ref().and_then(|d| d.replicas).or(svc.scale);
    let (mode, job, want) = match mode {
        "replicated" => {
            let n = replicas.unwrap_or(1);
            (json!({"Replicated": {"Replicas": n}}), false, Some(n))
        }
        "global" | "global-job" if replicas.is_some() => {
            return Err(StackError(format!(
                "{}: replicas cannot be set with mode `{mode}`",
                at("deploy")
            )))
        }
        "global" => (json!({"Global": {}}), false, None),
        "replicated-job" => {
            let n = replicas.unwrap_or(1);
            (
                json!({"ReplicatedJob": {"MaxConcurrent": n, "TotalCompletions": n}}),
                true,
                Some(n),
            )
        }
        "global-job" => (json!({"GlobalJob": {}}), true, None),
        other => {
            return Err(StackError(format!(
                "{}: unknown mode `{other}` (replicated, global, replicated-job, global-job)",
                at("deploy.mode")
            )))
        }
    };
    spec.insert("Mode".into(), mode);
    if !job {
        if let Some(u) = update_config(other(svc, "update_config"), &at("deploy.update_config"))? {
            spec.insert("UpdateConfig".into(), u);
        }
        if let Some(u) =
            update_config(other(svc, "rollback_config"), &at("deploy.rollback_config"))?
        {
            spec.insert("RollbackConfig".into(), u);
        }
    }
    let endpoint_mode = other(svc, "endpoint_mode")
        .and_then(Value::as_str)
        .unwrap_or("vip");
    if endpoint_mode != "vip" && endpoint_mode != "dnsrr" {
        return Err(StackError(format!(
            "{}: `{endpoint_mode}` is not vip or dnsrr",
            at("deploy.endpoint_mode")
        )));
    }
    let mut ports = Vec::new();
    for p in &svc.ports {
        let mode = p.mode.clone().unwrap_or_else(|| "ingress".into());
        let protocol = p.protocol.clone().unwrap_or_else(|| "tcp".into());
        let published: Vec<Option<u64>> = match &p.published {
            None => vec![None],
            Some(s) => match s.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (a.parse::<u64>(), b.parse::<u64>());
                    match (a, b) {
                        (Ok(a), Ok(b)) if a <= b => (a..=b).map(Some).collect(),
                        _ => return Err(StackError(format!("{}: bad range `{s}`", at("ports")))),
                    }
                }
                None => vec![Some(s.parse::<u64>().map_err(|_| {
                    StackError(format!("{}: bad port `{s}`", at("ports")))
                })?)],
            },
        };
        for (i, pb) in published.into_iter().enumerate() {
            let mut m = Map::new();
            m.insert("Protocol".into(), json!(protocol));
            m.insert("TargetPort".into(), json!(p.target + i as u64));
            if let Some(pb) = pb {
                m.insert("PublishedPort".into(), json!(pb));
            }
            m.insert("PublishMode".into(), json!(mode));
            ports.push(Value::Object(m));
        }
    }
    let mut ep = Map::new();
    ep.insert("Mode".into(), json!(endpoint_mode));
    if !ports.is_empty() {
        ep.insert("Ports".into(), json!(ports));
    }
    spec.insert("EndpointSpec".into(), Value::Object(ep));
    Ok(StackService {
        key: svc.name.clone(),
        name,
        spec: Value::Object(spec),
        depends_on: svc
            .depends_on
            .iter()
            .filter(|(d, _)| project.services.contains_key(*d))
            .map(|(d, o)| (d.clone(), o.condition))
            .collect(),
        job,
        replicas: want,
    })
}

/// The `/secrets/create` or `/configs/create` body of one version of a secret or config.
pub fn file_spec(stack: &str, f: &StackFile, name: &str) -> Value {
    use base64::Engine as _;
    json!({
        "Name": name,
        "Labels": ns_labels(stack, [(DIGEST.to_string(), f.digest.clone())]),
        "Data": base64::engine::general_purpose::STANDARD.encode(&f.data),
    })
}

/// Which engine object holds a secret's or config's value: one of the observed objects named
/// `name` or `name-vN...` whose digest matches, else a new name (`name` when free, else
/// `name-<first 12 hex of the digest>`). Returns (name, existing id).
pub fn choose_version(
    f: &StackFile,
    observed: &[(String, String, Option<String>)],
) -> (String, Option<String>) {
    if f.external {
        let id = observed
            .iter()
            .find(|(_, n, _)| n == &f.name)
            .map(|(i, _, _)| i.clone());
        return (f.name.clone(), id);
    }
    let versioned = format!("{}-{}", f.name, &f.digest[..12]);
    for (id, name, d) in observed {
        if (name == &f.name || name == &versioned) && d.as_deref() == Some(f.digest.as_str()) {
            return (name.clone(), Some(id.clone()));
        }
    }
    if observed.iter().any(|(_, n, _)| n == &f.name) {
        (versioned, None)
    } else {
        (f.name.clone(), None)
    }
}

/// Fills the chosen secret and config versions and their ids into a service spec; network
/// names stay (the engine takes names).
pub fn resolve_refs(
    spec: &Value,
    secrets: &IndexMap<String, (String, String)>,
    configs: &IndexMap<String, (String, String)>,
) -> Value {
    let mut spec = spec.clone();
    for (key, name_key, id_key, table) in [
        ("Secrets", "SecretName", "SecretID", secrets),
        ("Configs", "ConfigName", "ConfigID", configs),
    ] {
        if let Some(list) = spec["TaskTemplate"]["ContainerSpec"]
            .get_mut(key)
            .and_then(Value::as_array_mut)
        {
            for r in list {
                let base = r[name_key].as_str().unwrap_or_default().to_string();
                if let Some((name, id)) = table.get(&base) {
                    r[name_key] = json!(name);
                    r[id_key] = json!(id);
                }
            }
        }
    }
    spec
}

/// The [`SPEC_HASH`] label of a service spec.
pub fn spec_hash(spec: &Value) -> Option<&str> {
    spec["Labels"][SPEC_HASH].as_str()
}

/// Whether an observed service spec already is `desired` (network ids read back as names). The
/// engine adds defaults of its own; only what the desired spec says, and lists, are compared,
/// and the [`SPEC_HASH`] labels when the observed spec has one (a service `docker stack` made
/// has none: a healthcheck-only change to it is not seen).
pub fn unchanged(
    desired: &Value,
    observed: &Value,
    network_names: &IndexMap<String, String>,
) -> bool {
    if spec_hash(observed).is_some_and(|h| Some(h) != spec_hash(desired)) {
        return false;
    }
    let mut observed = observed.clone();
    if let Some(l) = observed["Labels"].as_object_mut() {
        l.remove(SPEC_HASH);
    }
    if let Some(list) = observed["TaskTemplate"]
        .get_mut("Networks")
        .and_then(Value::as_array_mut)
    {
        for n in list {
            if let Some(name) = n["Target"].as_str().and_then(|t| network_names.get(t)) {
                n["Target"] = json!(name);
            }
        }
    }
    // bollard 0.21 reads the engine's `Healthcheck` as `HealthCheck`, so a listed spec never
    // shows it: it cannot be compared (a healthcheck-only change is not seen).
    let mut desired = desired.clone();
    if let Some(cs) = desired["TaskTemplate"]["ContainerSpec"].as_object_mut() {
        cs.remove("HealthCheck");
    }
    if let Some(l) = desired["Labels"].as_object_mut() {
        l.remove(SPEC_HASH);
    }
    covers(&observed, &desired)
}

/// `have` says all that `want` says; objects may have more keys (engine defaults) only when
/// those are empty or a known default; lists must match item by item.
fn covers(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => {
            w.iter().all(|(k, wv)| match h.get(k) {
                Some(hv) => covers(hv, wv),
                None => is_empty(wv),
            }) && h
                .iter()
                .all(|(k, hv)| w.contains_key(k) || is_empty(hv) || engine_default(k))
        }
        (Value::Array(h), Value::Array(w)) => {
            h.len() == w.len() && h.iter().zip(w).all(|(h, w)| covers(h, w))
        }
        (Value::Number(h), Value::Number(w)) => h.as_f64() == w.as_f64(),
        _ => have == want,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_empty),
        Value::Number(n) => n.as_f64() == Some(0.0),
    }
}

/// Keys the engine fills itself on a spec rcompose leaves them out of.
fn engine_default(key: &str) -> bool {
    matches!(
        key,
        "Isolation"
            | "Runtime"
            | "ForceUpdate"
            | "Platforms"
            | "Order"
            | "Parallelism"
            | "FailureAction"
            | "MaxFailureRatio"
            | "Monitor"
    )
}

/// One change to the swarm.
#[derive(Debug, Clone, PartialEq)]
pub enum StackOp {
    CreateNetwork {
        name: String,
        spec: Value,
    },
    CreateFile {
        kind: &'static str,
        key: String,
        name: String,
        spec: Value,
    },
    CreateService {
        key: String,
        name: String,
        spec: Value,
    },
    UpdateService {
        key: String,
        name: String,
        id: String,
        version: u64,
        spec: Value,
    },
    RemoveService {
        name: String,
        id: String,
    },
}

/// What the engine holds of a stack.
#[derive(Debug, Clone, Default)]
pub struct StackObserved {
    /// Network name → id, every network of the engine.
    pub networks: IndexMap<String, String>,
    /// (id, name, digest label) of the stack's secrets and configs (and the external ones
    /// the project names).
    pub secrets: Vec<(String, String, Option<String>)>,
    pub configs: Vec<(String, String, Option<String>)>,
    /// name → (id, version, spec).
    pub services: IndexMap<String, (String, u64, Value)>,
}

/// The plan: create missing networks and secret/config versions, then create or update the
/// services (only the changed ones), in dependency order; with `prune`, remove services of
/// the stack no longer in the project.
pub fn plan(
    stack: &Stack,
    observed: &StackObserved,
    prune: bool,
) -> Result<Vec<StackOp>, StackError> {
    let mut ops = Vec::new();
    for n in &stack.networks {
        let exists = observed.networks.contains_key(&n.name);
        if n.external && !exists {
            return Err(StackError(format!(
                "network {} is declared as external, but could not be found",
                n.name
            )));
        }
        if !exists && !n.external {
            ops.push(StackOp::CreateNetwork {
                name: n.name.clone(),
                spec: n.spec.clone(),
            });
        }
    }
    let mut chosen: [IndexMap<String, (String, String)>; 2] = Default::default();
    for (i, (kind, files, seen)) in [
        ("secret", &stack.secrets, &observed.secrets),
        ("config", &stack.configs, &observed.configs),
    ]
    .into_iter()
    .enumerate()
    {
        for f in files {
            let (name, id) = choose_version(f, seen);
            let id = match id {
                Some(id) => id,
                None if f.external => {
                    return Err(StackError(format!(
                        "{kind} {} is declared as external, but could not be found",
                        f.name
                    )))
                }
                None => {
                    ops.push(StackOp::CreateFile {
                        kind,
                        key: f.key.clone(),
                        name: name.clone(),
                        spec: file_spec(&stack.name, f, &name),
                    });
                    // Filled by the executor once created.
                    format!("{{new:{name}}}")
                }
            };
            chosen[i].insert(f.name.clone(), (name, id));
        }
    }
    let ids: IndexMap<String, String> = observed
        .networks
        .iter()
        .map(|(n, id)| (id.clone(), n.clone()))
        .collect();
    for s in &stack.services {
        let spec = resolve_refs(&s.spec, &chosen[0], &chosen[1]);
        match observed.services.get(&s.name) {
            None => ops.push(StackOp::CreateService {
                key: s.key.clone(),
                name: s.name.clone(),
                spec,
            }),
            Some((id, version, have)) => {
                if !unchanged(&spec, have, &ids) {
                    ops.push(StackOp::UpdateService {
                        key: s.key.clone(),
                        name: s.name.clone(),
                        id: id.clone(),
                        version: *version,
                        spec,
                    });
                }
            }
        }
    }
    if prune {
        for (name, (id, _, _)) in &observed.services {
            if !stack.services.iter().any(|s| &s.name == name) {
                ops.push(StackOp::RemoveService {
                    name: name.clone(),
                    id: id.clone(),
                });
            }
        }
    }
    Ok(ops)
}

/// Replaces the `{new:NAME}` placeholders of secret and config ids by the ids created.
pub fn fill_ids(spec: &mut Value, created: &IndexMap<String, String>) {
    match spec {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("{new:").and_then(|r| r.strip_suffix('}')) {
                if let Some(id) = created.get(name) {
                    *s = id.clone();
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| fill_ids(v, created)),
        Value::Object(o) => o.values_mut().for_each(|v| fill_ids(v, created)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixture;
    use crate::parse::Healthcheck;

    fn web(test: &str) -> Value {
        let mut p = fixture::project();
        let mut s = fixture::service("web", &[]);
        s.healthcheck = Some(Healthcheck {
            test: vec!["CMD".into(), "test".into(), "-f".into(), test.into()],
            ..Healthcheck::default()
        });
        p.services.insert("web".into(), s);
        let stack = desired(&p, "st", &Values::new());
        stack
            .map(|s| s.services[0].spec.clone())
            .unwrap_or_default()
    }

    /// The spec as the engine's answer reads through bollard: without its healthcheck.
    fn read_back(spec: &Value) -> Value {
        let mut v = spec.clone();
        if let Some(cs) = v["TaskTemplate"]["ContainerSpec"].as_object_mut() {
            cs.remove("HealthCheck");
        }
        v
    }

    #[test]
    fn a_healthcheck_only_change_is_seen_by_the_spec_hash() {
        let none = IndexMap::new();
        let (ok, bad) = (web("/tmp/ok"), web("/tmp/nope"));
        assert!(spec_hash(&ok).is_some_and(|h| h.len() == 64));
        assert_ne!(spec_hash(&ok), spec_hash(&bad));
        assert!(unchanged(&ok, &read_back(&ok), &none));
        assert!(!unchanged(&bad, &read_back(&ok), &none));
        // A service docker stack made carries no hash: compared as before, without the label.
        let mut theirs = read_back(&ok);
        if let Some(l) = theirs["Labels"].as_object_mut() {
            l.remove(SPEC_HASH);
        }
        assert!(unchanged(&ok, &theirs, &none));
    }

    #[test]
    fn a_changed_secret_value_changes_the_spec_hash() {
        let hash = |value: &str| {
            let mut p = fixture::project();
            let mut s = fixture::service("web", &[]);
            s.secrets.push(FileRef {
                source: "token".into(),
                ..FileRef::default()
            });
            p.services.insert("web".into(), s);
            p.secrets.insert("token".into(), FileObject::default());
            let values = Values::from([(
                ("secrets".to_string(), "token".to_string()),
                value.as_bytes().to_vec(),
            )]);
            let stack = desired(&p, "st", &values);
            stack
                .ok()
                .and_then(|s| spec_hash(&s.services[0].spec).map(String::from))
                .unwrap_or_default()
        };
        assert_eq!(hash("a"), hash("a"));
        assert_ne!(hash("a"), hash("b"));
    }
}
