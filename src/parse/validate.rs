//! Checks: unknown keys (with a suggestion) and references between services and resources.

use serde_json::{Map, Value};

use super::canonical::kind;
use super::error::did_you_mean;
use super::model::{MountKind, NamespaceMode, Project, Service, VolumesFrom, VolumesFromSource};
use super::path::Path;

/// A problem at a path: the message and a hint.
pub type Problem = (Path, String, Option<String>);

const TOP_KEYS: &[&str] = &[
    "version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models",
];

/// Every service attribute of the Compose Specification.
pub const SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
];

fn unknown(p: Path, key: &str, known: &[&str], what: &str) -> Problem {
    let hint = did_you_mean(key, known.iter().copied())
        .map(|m| format!("did you mean `{m}`?"))
        .or_else(|| Some("custom keys must start with `x-`".into()));
    (p, format!("`{key}` is not a known {what} attribute"), hint)
}

const NETWORK_KEYS: &[&str] = &[
    "name",
    "driver",
    "driver_opts",
    "ipam",
    "external",
    "internal",
    "enable_ipv4",
    "enable_ipv6",
    "attachable",
    "labels",
];
const VOLUME_KEYS: &[&str] = &["name", "driver", "driver_opts", "external", "labels"];
const SECRET_KEYS: &[&str] = &[
    "name",
    "environment",
    "file",
    "external",
    "labels",
    "driver",
    "driver_opts",
    "template_driver",
];
const CONFIG_KEYS: &[&str] = &[
    "name",
    "content",
    "environment",
    "file",
    "external",
    "labels",
    "template_driver",
];
const BUILD_KEYS: &[&str] = &[
    "context",
    "dockerfile",
    "dockerfile_inline",
    "entitlements",
    "args",
    "ssh",
    "labels",
    "cache_from",
    "cache_to",
    "no_cache",
    "additional_contexts",
    "network",
    "provenance",
    "sbom",
    "pull",
    "target",
    "shm_size",
    "extra_hosts",
    "isolation",
    "privileged",
    "secrets",
    "tags",
    "ulimits",
    "platforms",
];
const HEALTHCHECK_KEYS: &[&str] = &[
    "disable",
    "interval",
    "retries",
    "test",
    "timeout",
    "start_period",
    "start_interval",
];
const DEPLOY_KEYS: &[&str] = &[
    "mode",
    "endpoint_mode",
    "replicas",
    "labels",
    "rollback_config",
    "update_config",
    "resources",
    "restart_policy",
    "placement",
];
const MODEL_KEYS: &[&str] = &["name", "model", "context_size", "runtime_flags"];
const LOGGING_KEYS: &[&str] = &["driver", "options"];
const DEPENDS_ON_KEYS: &[&str] = &["condition", "restart", "required"];

const DEVICE_REQUEST_KEYS: &[&str] = &["capabilities", "count", "device_ids", "driver", "options"];
const UPDATE_KEYS: &[&str] = &[
    "parallelism",
    "delay",
    "failure_action",
    "monitor",
    "max_failure_ratio",
    "order",
];
const FILE_REF_KEYS: &[&str] = &["source", "target", "uid", "gid", "mode"];
const HOOK_KEYS: &[&str] = &[
    "command",
    "user",
    "privileged",
    "working_dir",
    "environment",
];

/// Attributes inside service attributes (`.`-separated below the service, `[]` for every entry
/// of a list, `*` for every key of a mapping): the keys each mapping there may have, besides
/// `x-` extensions.
const NESTED_KEYS: &[(&str, &[&str])] = &[
    ("deploy.resources", &["limits", "reservations"]),
    ("deploy.resources.limits", &["cpus", "memory", "pids"]),
    (
        "deploy.resources.reservations",
        &["cpus", "memory", "generic_resources", "devices"],
    ),
    (
        "deploy.resources.reservations.devices[]",
        DEVICE_REQUEST_KEYS,
    ),
    (
        "deploy.resources.reservations.generic_resources[]",
        &["discrete_resource_spec"],
    ),
    (
        "deploy.resources.reservations.generic_resources[].discrete_resource_spec",
        &["kind", "value"],
    ),
    (
        "deploy.restart_policy",
        &["condition", "delay", "max_attempts", "window"],
    ),
    (
        "deploy.placement",
        &["constraints", "preferences", "max_replicas_per_node"],
    ),
    ("deploy.placement.preferences[]", &["spread"]),
    ("deploy.update_config", UPDATE_KEYS),
    ("deploy.rollback_config", UPDATE_KEYS),
    (
        "networks.*",
        &[
            "aliases",
            "ipv4_address",
            "ipv6_address",
            "link_local_ips",
            "mac_address",
            "driver_opts",
            "priority",
            "gw_priority",
            "interface_name",
        ],
    ),
    (
        "volumes[].bind",
        &["propagation", "create_host_path", "recursive", "selinux"],
    ),
    ("volumes[].volume", &["nocopy", "subpath", "labels"]),
    ("volumes[].tmpfs", &["size", "mode"]),
    ("volumes[].image", &["subpath"]),
    ("secrets[]", FILE_REF_KEYS),
    ("configs[]", FILE_REF_KEYS),
    ("build.secrets[]", FILE_REF_KEYS),
    ("ulimits.*", &["soft", "hard"]),
    ("devices[]", &["source", "target", "permissions"]),
    ("credential_spec", &["config", "file", "registry"]),
    ("develop", &["watch"]),
    (
        "develop.watch[]",
        &[
            "path",
            "action",
            "target",
            "exec",
            "include",
            "ignore",
            "initial_sync",
        ],
    ),
    ("develop.watch[].exec", HOOK_KEYS),
    ("post_start[]", HOOK_KEYS),
    ("pre_stop[]", HOOK_KEYS),
    (
        "blkio_config",
        &[
            "device_read_bps",
            "device_read_iops",
            "device_write_bps",
            "device_write_iops",
            "weight",
            "weight_device",
        ],
    ),
    ("blkio_config.device_read_bps[]", &["path", "rate"]),
    ("blkio_config.device_read_iops[]", &["path", "rate"]),
    ("blkio_config.device_write_bps[]", &["path", "rate"]),
    ("blkio_config.device_write_iops[]", &["path", "rate"]),
    ("blkio_config.weight_device[]", &["path", "weight"]),
    ("provider", &["type", "options"]),
    ("models.*", &["endpoint_var", "model_var"]),
];

/// Checks the keys of the mappings [`NESTED_KEYS`] names inside service `service` (at `sp`).
/// The path of a node is written out only when it is wrong (a service has dozens of nodes).
fn nested_keys(service: &Value, sp: &Path) -> Result<(), Problem> {
    /// One step down from the service, borrowed.
    #[derive(Clone, Copy)]
    enum Step<'a> {
        Key(&'a str),
        Index(usize),
    }
    /// Checks one mapping reached at a trail of steps.
    type Check<'c> = dyn Fn(&Map<String, Value>, &[Step]) -> Result<(), Problem> + 'c;
    fn at(sp: &Path, trail: &[Step]) -> Path {
        trail.iter().fold(sp.clone(), |p, s| match s {
            Step::Key(k) => p.key(k),
            Step::Index(i) => p.index(*i),
        })
    }
    fn walk<'a>(
        v: &'a Value,
        steps: &[&str],
        trail: &mut Vec<Step<'a>>,
        check: &Check,
    ) -> Result<(), Problem> {
        let Value::Object(m) = v else {
            return Ok(());
        };
        let Some((step, rest)) = steps.split_first() else {
            return check(m, trail);
        };
        let (key, each) = match step.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (*step, false),
        };
        let mut visit = |k: &'a str, child: &'a Value| -> Result<(), Problem> {
            trail.push(Step::Key(k));
            let r = match (each, child) {
                (true, Value::Array(items)) => {
                    items.iter().enumerate().try_for_each(|(i, item)| {
                        trail.push(Step::Index(i));
                        let r = walk(item, rest, trail, check);
                        trail.pop();
                        r
                    })
                }
                (true, _) => Ok(()),
                (false, c) => walk(c, rest, trail, check),
            };
            trail.pop();
            r
        };
        if key == "*" {
            for (k, c) in m.iter().filter(|(k, _)| !k.starts_with("x-")) {
                visit(k, c)?;
            }
            Ok(())
        } else {
            m.get_key_value(key)
                .map_or(Ok(()), |(k, c)| visit(k.as_str(), c))
        }
    }
    for (pattern, known) in NESTED_KEYS {
        let steps: Vec<&str> = pattern.split('.').collect();
        let check = |m: &Map<String, Value>, trail: &[Step]| {
            let Some(k) = m
                .keys()
                .find(|k| !k.starts_with("x-") && !known.contains(&k.as_str()))
            else {
                return Ok(());
            };
            let what = match steps.last().map(|w| w.trim_end_matches("[]")) {
                Some("*") => format!("`{}` entry", steps[0]),
                Some(w) => format!("`{w}`"),
                None => String::new(),
            };
            Err(unknown(at(sp, trail).key(k), k, known, &what))
        };
        walk(service, &steps, &mut Vec::new(), &check)?;
    }
    Ok(())
}

/// Service attributes that may be written with no value (the others must have one).
const NULLABLE: &[&str] = &["command", "entrypoint", "deploy"];

/// Reports the first key of `m` (at `p`) that is not in `known` and not an `x-` extension.
fn known_keys(m: &Map<String, Value>, p: &Path, known: &[&str], what: &str) -> Result<(), Problem> {
    for k in m.keys() {
        if !k.starts_with("x-") && !known.contains(&k.as_str()) {
            return Err(unknown(p.key(k), k, known, what));
        }
    }
    Ok(())
}

fn null_problem(p: Path, key: &str, expected: &str) -> Problem {
    (
        p,
        format!("`{key}` has no value, expected {expected}"),
        Some("give it a value or remove the key".into()),
    )
}

/// Rejects unknown keys (with a suggestion) at the top level, in services, their `build`,
/// `healthcheck`, `deploy`, `logging` and `depends_on` entries, and in top-level resources; and
/// attributes left without a value. Paths in `reset` (`!reset`) may be null.
pub fn keys(tree: &Value, reset: &[Path]) -> Result<(), Problem> {
    let Value::Object(root) = tree else {
        return Ok(());
    };
    known_keys(root, &Path::root(), TOP_KEYS, "top-level")?;
    if let Some(n) = root.get("name").filter(|n| !n.is_string()) {
        return Err(problem(
            Path::root().key("name"),
            format!("the project name must be a string, found {}", kind(n)),
            "quote it: name: \"123\"",
        ));
    }
    for (k, v) in root {
        let p = Path::root().key(k);
        if v.is_null() && k != "version" && !k.starts_with("x-") && !reset.contains(&p) {
            return Err(null_problem(p, k, "a mapping"));
        }
    }
    for (kind, known, what) in [
        ("networks", NETWORK_KEYS, "network"),
        ("volumes", VOLUME_KEYS, "volume"),
        ("secrets", SECRET_KEYS, "secret"),
        ("configs", CONFIG_KEYS, "config"),
    ] {
        let Some(Value::Object(section)) = root.get(kind) else {
            continue;
        };
        for (name, res) in section {
            let p = Path::root().key(kind).key(name);
            if let Value::Object(m) = res {
                known_keys(m, &p, known, what)?;
                if m.contains_key("name") && m.get("external").and_then(|e| e.get("name")).is_some()
                {
                    return Err(problem(
                        p.key("external").key("name"),
                        "`name` and `external.name` are both set".into(),
                        "keep `name` and write `external: true` (external.name is deprecated)",
                    ));
                }
                let checked = matches!(kind, "networks" | "volumes");
                if let Some(Value::Object(ext)) = m.get("external").filter(|_| checked) {
                    known_keys(ext, &p.key("external"), &["name"], "`external`")?;
                }
                if let Some(Value::Object(ipam)) = m.get("ipam").filter(|_| kind == "networks") {
                    let ip = p.key("ipam");
                    known_keys(ipam, &ip, &["driver", "config", "options"], "`ipam`")?;
                    if let Some(Value::Array(pools)) = ipam.get("config") {
                        for (i, pool) in pools.iter().enumerate() {
                            if let Value::Object(pool) = pool {
                                let known = ["subnet", "ip_range", "gateway", "aux_addresses"];
                                known_keys(
                                    pool,
                                    &ip.key("config").index(i),
                                    &known,
                                    "`ipam.config`",
                                )?;
                            }
                        }
                    }
                }
                if matches!(kind, "networks" | "volumes") {
                    external_alone(m, &p, what)?;
                    if let Some(Value::Object(opts)) = m.get("driver_opts") {
                        for (k, v) in opts {
                            if !(v.is_string() || v.is_number()) {
                                return Err(problem(
                                    p.key("driver_opts").key(k),
                                    format!("driver option `{k}` must be a string or a number"),
                                    "quote it",
                                ));
                            }
                        }
                    }
                }
                if matches!(kind, "secrets" | "configs") {
                    has_source(m, &p, what)?;
                }
            }
        }
    }
    if let Some(Value::Object(models)) = root.get("models") {
        for (name, m) in models {
            let p = Path::root().key("models").key(name);
            let Value::Object(m) = m else {
                return Err(problem(
                    p,
                    format!("expected a mapping, found {}", kind(m)),
                    "write model: ai/NAME",
                ));
            };
            known_keys(m, &p, MODEL_KEYS, "model")?;
            if !m.contains_key("model") {
                return Err(problem(
                    p,
                    "the model has no `model`".into(),
                    "add model: ai/NAME (the model to pull)",
                ));
            }
        }
    }
    let Some(Value::Object(services)) = root.get("services") else {
        return Ok(());
    };
    for (name, svc) in services {
        let sp = Path::root().key("services").key(name);
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid_name {
            return Err((
                sp,
                format!("`{name}` is not a valid service name"),
                Some("use letters, digits, `.`, `_` and `-` only".into()),
            ));
        }
        let Value::Object(s) = svc else { continue };
        known_keys(s, &sp, SERVICE_KEYS, "service")?;
        nested_keys(svc, &sp)?;
        service_values(s, &sp)?;
        for (k, v) in s {
            let nullable = NULLABLE.contains(&k.as_str()) || k.starts_with("x-");
            if !v.is_null() || nullable {
                continue;
            }
            let p = sp.key(k);
            if !reset.contains(&p) {
                return Err(null_problem(p, k, "a value"));
            }
        }
        if s.get("build")
            .and_then(|b| b.get("ssh"))
            .is_some_and(Value::is_string)
        {
            return Err(problem(
                sp.key("build").key("ssh"),
                "`ssh` must be a list or a mapping, found a string".into(),
                "write ssh: [default]",
            ));
        }
        for (key, known, what) in [
            ("build", BUILD_KEYS, "build"),
            ("healthcheck", HEALTHCHECK_KEYS, "healthcheck"),
            ("deploy", DEPLOY_KEYS, "deploy"),
            ("logging", LOGGING_KEYS, "logging"),
        ] {
            if let Some(Value::Object(m)) = s.get(key) {
                known_keys(m, &sp.key(key), known, what)?;
            }
        }
        if let Some(Value::Object(deps)) = s.get("depends_on") {
            for (dep, entry) in deps {
                if let Value::Object(m) = entry {
                    let p = sp.key("depends_on").key(dep);
                    known_keys(m, &p, DEPENDS_ON_KEYS, "depends_on")?;
                }
            }
        }
    }
    Ok(())
}

const PORT_KEYS: &[&str] = &[
    "name",
    "mode",
    "host_ip",
    "target",
    "published",
    "protocol",
    "app_protocol",
];
const MOUNT_KEYS: &[&str] = &[
    "type",
    "source",
    "target",
    "read_only",
    "consistency",
    "bind",
    "volume",
    "tmpfs",
    "image",
];
const MOUNT_TYPES: &[&str] = &["bind", "volume", "tmpfs", "cluster", "npipe", "image"];

fn problem(p: Path, msg: String, hint: &str) -> Problem {
    (p, msg, Some(hint.to_string()))
}

/// Service attributes the reference casts to a boolean or a number after interpolation.
const TYPED_SCALARS: &[(&str, &str)] = &[
    ("attach", "a boolean"),
    ("init", "a boolean"),
    ("oom_kill_disable", "a boolean"),
    ("privileged", "a boolean"),
    ("read_only", "a boolean"),
    ("stdin_open", "a boolean"),
    ("tty", "a boolean"),
    ("use_api_socket", "a boolean"),
    ("cpu_count", "a number"),
    ("cpu_percent", "a number"),
    ("cpu_period", "a number"),
    ("cpu_quota", "a number"),
    ("cpu_rt_period", "a number"),
    ("cpu_rt_runtime", "a number"),
    ("cpu_shares", "a number"),
    ("cpus", "a number"),
    ("mem_limit", "a size"),
    ("mem_reservation", "a size"),
    ("mem_swappiness", "a number"),
    ("memswap_limit", "a size"),
    ("oom_score_adj", "a number"),
    ("pids_limit", "a number"),
    ("scale", "a number"),
    ("shm_size", "a size"),
];

/// An empty string where the reference expects a boolean or a number (`read_only: ${UNSET}`).
fn empty_scalars(s: &Map<String, Value>, sp: &Path) -> Result<(), Problem> {
    for (key, what) in TYPED_SCALARS {
        if s.get(*key)
            .and_then(Value::as_str)
            .is_some_and(|v| v.trim().is_empty())
        {
            return Err(problem(
                sp.key(key),
                format!("`{key}` is empty, expected {what}"),
                "give it a value; if it comes from a variable, set the variable or give a default: ${VAR:-default}",
            ));
        }
    }
    Ok(())
}

/// Checks of single service attributes, on the file as written.
fn service_values(s: &Map<String, Value>, sp: &Path) -> Result<(), Problem> {
    empty_scalars(s, sp)?;
    if let Some(Value::String(n)) = s.get("container_name") {
        // The reference's schema pattern `[a-zA-Z0-9][a-zA-Z0-9_.-]+` is not anchored: a name
        // passes when it holds such a run anywhere (`-ab`, `${PREFIX}-app` as written).
        let ok = n.as_bytes().windows(2).any(|w| {
            w[0].is_ascii_alphanumeric()
                && (w[1].is_ascii_alphanumeric() || matches!(w[1], b'_' | b'.' | b'-'))
        });
        if !ok {
            return Err(problem(
                sp.key("container_name"),
                format!("`{n}` is not a valid container name"),
                "use at least two characters: a letter or digit, then letters, digits, `_`, `.` or `-`",
            ));
        }
    }
    if let Some(Value::String(p)) = s.get("pull_policy") {
        let known = [
            "always",
            "never",
            "build",
            "if_not_present",
            "missing",
            "refresh",
            "daily",
            "weekly",
        ];
        if !known.contains(&p.as_str()) && !p.starts_with("every_") {
            return Err(problem(
                sp.key("pull_policy"),
                format!("unknown pull policy `{p}`"),
                "use always, never, missing, build, daily, weekly or every_<duration>",
            ));
        }
    }
    if let Some(Value::Array(t)) = s.get("healthcheck").and_then(|h| h.get("test")) {
        let first = t.first().and_then(Value::as_str).unwrap_or_default();
        if !t.is_empty() && !matches!(first, "CMD" | "CMD-SHELL" | "NONE") {
            return Err(problem(
                sp.key("healthcheck").key("test").index(0),
                format!(
                    "a healthcheck test list starts with CMD, CMD-SHELL or NONE, found `{first}`"
                ),
                "write [\"CMD\", \"program\", \"arg\"] or a string for a shell command",
            ));
        }
    }
    for key in ["depends_on"] {
        let Some(Value::Array(items)) = s.get(key) else {
            continue;
        };
        for (i, d) in items.iter().enumerate() {
            if items[..i].contains(d) {
                return Err(problem(
                    sp.key(key).index(i),
                    format!("{d} is listed twice"),
                    "remove the duplicate",
                ));
            }
        }
    }
    if let Some(Value::Array(ports)) = s.get("ports") {
        for (i, port) in ports.iter().enumerate() {
            let p = sp.key("ports").index(i);
            if let Value::Object(m) = port {
                known_keys(m, &p, PORT_KEYS, "port")?;
                let target = m.get("target");
                if target.is_none()
                    || target.is_some_and(|t| t.as_u64() == Some(0) || t.as_str() == Some("0"))
                {
                    return Err(problem(
                        p,
                        "the port has no `target`".into(),
                        "set `target:` to the container port",
                    ));
                }
            }
        }
    }
    for kind in ["secrets", "configs"] {
        let Some(Value::Array(refs)) = s.get(kind) else {
            continue;
        };
        for (i, r) in refs.iter().enumerate() {
            for id in ["uid", "gid"] {
                if r.get(id).is_some_and(|v| !v.is_string()) {
                    return Err(problem(
                        sp.key(kind).index(i).key(id),
                        format!("`{id}` must be a string"),
                        "quote it: uid: \"1000\"",
                    ));
                }
            }
        }
    }
    if let Some(Value::Object(nets)) = s.get("networks") {
        for (n, entry) in nets {
            if entry.get("priority").is_some_and(|v| !v.is_number()) {
                return Err(problem(
                    sp.key("networks").key(n).key("priority"),
                    "`priority` must be a number".into(),
                    "write it without quotes",
                ));
            }
        }
    }
    if let Some(Value::Object(opts)) = s.get("logging").and_then(|l| l.get("options")) {
        for (k, v) in opts {
            if !(v.is_string() || v.is_number() || v.is_null()) {
                return Err(problem(
                    sp.key("logging").key("options").key(k),
                    format!("logging option `{k}` must be a string or a number"),
                    "quote it",
                ));
            }
        }
    }
    if let Some(Value::Array(mounts)) = s.get("volumes") {
        for (i, mount) in mounts.iter().enumerate() {
            let p = sp.key("volumes").index(i);
            let Value::Object(m) = mount else { continue };
            known_keys(m, &p, MOUNT_KEYS, "mount")?;
            if let Some(Value::String(t)) = m.get("type") {
                if !MOUNT_TYPES.contains(&t.as_str()) {
                    return Err(problem(
                        p.key("type"),
                        format!("unknown mount type `{t}`"),
                        "use bind, volume, tmpfs, image, npipe or cluster",
                    ));
                }
            }
            if let Some(size) = m.get("tmpfs").and_then(|t| t.get("size")) {
                let ok = match size {
                    Value::Number(n) => n.as_i64().is_some_and(|n| n >= 0),
                    Value::String(s) => super::units::Bytes::parse(s).is_ok_and(|b| b.0 >= 0),
                    _ => false,
                };
                if !ok {
                    return Err(problem(
                        p.key("tmpfs").key("size"),
                        format!(
                            "the tmpfs `size` must be a size in bytes of 0 or more, found {size}"
                        ),
                        "write e.g. size: 64m or size: 67108864",
                    ));
                }
            }
            if m.get("tmpfs")
                .and_then(|t| t.get("mode"))
                .is_some_and(|v| !v.is_number())
            {
                return Err(problem(
                    p.key("tmpfs").key("mode"),
                    "the tmpfs `mode` must be a number".into(),
                    "write it without quotes, e.g. mode: 1777",
                ));
            }
            if m.get("target")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(problem(
                    p,
                    "the mount has no `target`".into(),
                    "set `target:` to the path in the container",
                ));
            }
        }
    }
    Ok(())
}

/// Lists that must not repeat an entry once the files so far are merged.
pub fn unique(tree: &Value) -> Result<(), Problem> {
    let Some(Value::Object(services)) = tree.get("services") else {
        return Ok(());
    };
    for (name, svc) in services {
        // The reference's schema wants these lists' items unique (no rule merges them).
        for key in [
            "security_opt",
            "volumes_from",
            "group_add",
            "external_links",
            "device_cgroup_rules",
        ] {
            let Some(Value::Array(items)) = svc.get(key) else {
                continue;
            };
            for (i, d) in items.iter().enumerate() {
                if items[..i].contains(d) {
                    return Err(problem(
                        Path::root().key("services").key(name).key(key),
                        format!("{d} is listed twice (after merging the files)"),
                        "remove the duplicate",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A secret or config that is not external says where its content comes from.
fn has_source(m: &Map<String, Value>, p: &Path, what: &str) -> Result<(), Problem> {
    let external = m.get("external").is_some_and(super::canonical::is_external);
    let sources: &[&str] = if what == "config" {
        &["file", "environment", "content"]
    } else {
        &["file", "environment"]
    };
    // A secret with a `driver` is checked with the references (`--no-consistency` skips it).
    let driven = what == "secret" && m.contains_key("driver");
    if external || driven || sources.iter().any(|k| m.contains_key(*k)) {
        return Ok(());
    }
    Err((
        p.clone(),
        format!(
            "the {what} has no content: set one of {}",
            sources.join(", ")
        ),
        Some("or mark it `external: true`".into()),
    ))
}

/// An external resource is only named: any other attribute is a conflict.
fn external_alone(m: &Map<String, Value>, p: &Path, what: &str) -> Result<(), Problem> {
    let external = m.get("external").is_some_and(super::canonical::is_external);
    if !external {
        return Ok(());
    }
    match m
        .keys()
        .find(|k| !matches!(k.as_str(), "external" | "name") && !k.starts_with("x-"))
    {
        Some(k) => Err((
            p.key(k),
            format!("`{k}` cannot be set on an external {what}: it is created outside the project"),
            Some(format!("remove `{k}` or `external: true`")),
        )),
        None => Ok(()),
    }
}

/// Where a dependency not written in `depends_on` comes from: `network_mode`, `links` or
/// `volumes_from` (the path under the service, and how to say it).
fn implicit_origin(svc: &Service, dep: &str) -> Option<(Path, &'static str)> {
    let sp = Path::root().key("services").key(&svc.name);
    if svc.network_mode == Some(NamespaceMode::Service(dep.to_string())) {
        return Some((sp.key("network_mode"), "uses the network of"));
    }
    let from = |v: &VolumesFrom| v.source == VolumesFromSource::Service(dep.to_string());
    if let Some(i) = svc.volumes_from.iter().position(from) {
        return Some((sp.key("volumes_from").index(i), "mounts the volumes of"));
    }
    if let Some(i) = svc.links.iter().position(|l| l.service == dep) {
        return Some((sp.key("links").index(i), "links to"));
    }
    None
}

/// A service's short resource attributes and their `deploy` twins must not disagree.
fn limits_agree(svc: &Service, sp: &Path) -> Result<(), Problem> {
    let deploy = svc.deploy.as_ref();
    let limits = deploy
        .and_then(|d| d.resources.as_ref())
        .and_then(|r| r.limits.as_ref());
    let conflict = |short: &str, long: &str| {
        Err((
            sp.key(short),
            format!("`{short}` and `deploy.{long}` are both set, to different values"),
            Some("keep one of them (or make them equal)".to_string()),
        ))
    };
    if let (Some(a), Some(b)) = (&svc.mem_limit, limits.and_then(|l| l.memory.as_ref())) {
        if a != b {
            return conflict("mem_limit", "resources.limits.memory");
        }
    }
    if let (Some(a), Some(b)) = (svc.cpus, limits.and_then(|l| l.cpus)) {
        if a != b {
            return conflict("cpus", "resources.limits.cpus");
        }
    }
    if let (Some(a), Some(b)) = (svc.pids_limit, limits.and_then(|l| l.pids)) {
        if a != b {
            return conflict("pids_limit", "resources.limits.pids");
        }
    }
    if let (Some(a), Some(b)) = (svc.scale, deploy.and_then(|d| d.replicas)) {
        if a != b {
            return conflict("scale", "replicas");
        }
    }
    Ok(())
}

/// Checks a project must pass before containers are made from it (not `config`, which prints
/// what the reference accepts): a `restart` policy the engine knows.
pub fn runnable(project: &Project) -> Result<(), super::LoadError> {
    const POLICIES: [&str; 4] = ["no", "always", "unless-stopped", "on-failure"];
    for (name, svc) in &project.services {
        let Some(r) = &svc.restart else { continue };
        if r.policy.is_some() {
            continue;
        }
        let policy = r.written.split(':').next().unwrap_or_default();
        let p = Path::root().key("services").key(name).key("restart");
        let hint = did_you_mean(policy, POLICIES)
            .map(|m| format!("did you mean `{m}`?"))
            .unwrap_or_else(|| "use no, always, unless-stopped or on-failure[:N]".into());
        return Err(project
            .error_at(&p, format!("unknown restart policy `{}`", r.written))
            .hint(hint));
    }
    Ok(())
}

/// Every secret that is not external says where its content comes from (one with a `driver`
/// passes the file checks, not this one).
pub fn secret_sources(project: &Project) -> Result<(), Problem> {
    for (name, s) in &project.secrets {
        if s.external || s.file.is_some() || s.environment.is_some() {
            continue;
        }
        return Err((
            Path::root().key("secrets").key(name),
            format!("secret `{name}` must declare either `file` or `environment`"),
            Some("or mark it `external: true`".into()),
        ));
    }
    Ok(())
}

/// No two services share a `container_name`.
fn unique_container_name(project: &Project, svc: &Service) -> Result<(), Problem> {
    let Some(c) = &svc.container_name else {
        return Ok(());
    };
    let Some(other) = project
        .services
        .values()
        .take_while(|o| o.name != svc.name)
        .find(|o| o.container_name.as_ref() == Some(c))
    else {
        return Ok(());
    };
    Err((
        Path::root()
            .key("services")
            .key(&svc.name)
            .key("container_name"),
        format!(
            "container name `{c}` is already used by service `{}`",
            other.name
        ),
        Some("container names must be unique: rename one of them".into()),
    ))
}

/// `build.platforms`, when set with `platform`, must include it.
fn platforms_agree(svc: &Service, sp: &Path) -> Result<(), Problem> {
    let (Some(platform), Some(build)) = (&svc.platform, &svc.build) else {
        return Ok(());
    };
    let Some(Value::Array(list)) = build.other.get("platforms") else {
        return Ok(());
    };
    if list.is_empty() || list.iter().any(|p| p.as_str() == Some(platform)) {
        return Ok(());
    }
    Err((
        sp.key("build").key("platforms"),
        format!("`build.platforms` must include the service's platform `{platform}`"),
        Some(format!(
            "add {platform} to build.platforms, or change `platform`"
        )),
    ))
}

/// The first `depends_on` cycle, as the list of services along it (first repeated at the end).
fn cycle(project: &Project) -> Option<Vec<String>> {
    find_cycle(project.services.keys().map(String::as_str), |name| {
        project
            .services
            .get(name)
            .map(|s| s.depends_on.keys().map(String::as_str).collect())
            .unwrap_or_default()
    })
}

/// The one cycle check (the loader's and the planner's graph): the first cycle met from
/// `nodes` in order, as the list of nodes along it (first repeated at the end). An iterative
/// depth-first search: linear in nodes and edges, whatever the chain length.
pub fn find_cycle<'a>(
    nodes: impl IntoIterator<Item = &'a str>,
    deps: impl Fn(&str) -> Vec<&'a str>,
) -> Option<Vec<String>> {
    use std::collections::HashSet;
    let mut done: HashSet<&str> = HashSet::new();
    for root in nodes {
        if done.contains(root) {
            continue;
        }
        // The path from `root`, each with the iterator over its remaining dependencies.
        let mut stack: Vec<(&str, std::vec::IntoIter<&str>)> = vec![(root, deps(root).into_iter())];
        let mut on_path: HashSet<&str> = HashSet::from([root]);
        while let Some((_, next)) = stack.last_mut() {
            match next.next() {
                Some(dep) if on_path.contains(dep) => {
                    let i = stack.iter().position(|(n, _)| *n == dep)?;
                    let mut c: Vec<String> =
                        stack[i..].iter().map(|(n, _)| n.to_string()).collect();
                    c.push(dep.to_string());
                    return Some(c);
                }
                Some(dep) if done.contains(dep) => {}
                Some(dep) => {
                    on_path.insert(dep);
                    stack.push((dep, deps(dep).into_iter()));
                }
                None => {
                    if let Some((name, _)) = stack.pop() {
                        on_path.remove(name);
                        done.insert(name);
                    }
                }
            }
        }
    }
    None
}

/// A cycle as `a -> b -> a`; a long one with its middle elided, to stay readable.
fn cycle_text(c: &[String]) -> String {
    const SHOWN: usize = 8;
    if c.len() <= 2 * SHOWN {
        return c.join(" -> ");
    }
    format!(
        "{} -> ... -> {} ({} services)",
        c[..SHOWN].join(" -> "),
        c[c.len() - SHOWN..].join(" -> "),
        c.len() - 1
    )
}

/// Which of [`project`]'s checks run.
#[derive(Debug, Clone, Copy)]
pub struct Checks {
    /// References name something defined, dependencies have no cycle, a service with a
    /// `container_name` has one replica (all skipped by `config --no-consistency`).
    pub consistency: bool,
    /// No two services share a `container_name`.
    pub unique_container_names: bool,
}

/// Checks that every reference names something defined (unless not `consistency`), and the
/// rules between attributes.
pub fn project(project: &Project, checks: Checks) -> Result<(), Problem> {
    let consistency = checks.consistency;
    if let Some(c) = cycle(project).filter(|_| consistency) {
        let explicit = Path::root()
            .key("services")
            .key(&c[0])
            .key("depends_on")
            .key(&c[1]);
        let p = project
            .services
            .get(&c[0])
            .and_then(|svc| implicit_origin(svc, &c[1]))
            .map_or(explicit, |(p, _)| p);
        return Err((
            p,
            format!("dependency cycle: {}", cycle_text(&c)),
            Some("break the cycle: remove one of these dependencies".into()),
        ));
    }
    for (name, svc) in &project.services {
        let sp = Path::root().key("services").key(name);
        let provider = svc.other.contains_key("provider");
        limits_agree(svc, &sp)?;
        platforms_agree(svc, &sp)?;
        if checks.unique_container_names {
            unique_container_name(project, svc)?;
        }
        if consistency && svc.container_name.is_some() && svc.replicas() > 1 {
            return Err((
                sp.key("container_name"),
                format!("service `{name}` sets `container_name` and has {} replicas: container names must be unique", svc.replicas()),
                Some("remove container_name or use one replica".into()),
            ));
        }
        if !consistency {
            continue;
        }
        if svc.image.as_deref().is_none_or(str::is_empty) && svc.build.is_none() && !provider {
            return Err((
                sp,
                format!("service `{name}` has neither an image nor a build context specified"),
                Some("add `image:` or `build:`".into()),
            ));
        }
        for (dep, d) in &svc.depends_on {
            if project.services.contains_key(dep) {
                continue;
            }
            let p = sp.key("depends_on").key(dep);
            if project.disabled_services.contains_key(dep) {
                if !d.required {
                    continue;
                }
                let profiles = &project.disabled_services[dep].profiles;
                return Err((
                    p,
                    format!(
                        "service `{dep}` is required by `{name}` but is disabled. Can be enabled by profiles [{}]",
                        profiles.join(" ")
                    ),
                    Some(format!("pass --profile {}", profiles.first().map(String::as_str).unwrap_or(""))),
                ));
            }
            let hint = did_you_mean(dep, project.services.keys().map(String::as_str))
                .map(|m| format!("did you mean `{m}`?"));
            let (p, via) = implicit_origin(svc, dep).unwrap_or((p, "depends on"));
            return Err((
                p,
                format!("service `{name}` {via} undefined service `{dep}`"),
                hint,
            ));
        }
        if svc.network_mode.is_some() && !svc.networks.is_empty() {
            return Err((
                sp.key("network_mode"),
                "`network_mode` and `networks` cannot be combined".into(),
                Some("remove one of them".into()),
            ));
        }
        for net in svc.networks.keys() {
            if !project.networks.contains_key(net) {
                let hint = did_you_mean(net, project.networks.keys().map(String::as_str))
                    .map(|m| format!("did you mean `{m}`?"))
                    .or_else(|| Some("declare it under the top-level `networks:` key".to_string()));
                return Err((
                    sp.key("networks").key(net),
                    format!("service `{name}` refers to undefined network `{net}`"),
                    hint,
                ));
            }
        }
        for (i, v) in svc.volumes.iter().enumerate() {
            if v.kind != MountKind::Volume {
                continue;
            }
            let Some(src) = &v.source else { continue };
            if !project.volumes.contains_key(src) {
                let hint = did_you_mean(src, project.volumes.keys().map(String::as_str))
                    .map(|m| format!("did you mean `{m}`?"))
                    .or_else(|| Some("declare it under the top-level `volumes:` key".into()));
                return Err((
                    sp.key("volumes").index(i),
                    format!("service `{name}` refers to undefined volume `{src}`"),
                    hint,
                ));
            }
        }
        if let Some(Value::Object(models)) = svc.other.get("models") {
            for m in models.keys() {
                if !project.models.contains_key(m) {
                    return Err((
                        sp.key("models").key(m),
                        format!("service `{name}` refers to undefined model `{m}`"),
                        Some("declare it under the top-level `models:` key".into()),
                    ));
                }
            }
        }
        for (kind, refs, defined) in [
            ("secret", &svc.secrets, &project.secrets),
            ("config", &svc.configs, &project.configs),
        ] {
            for (i, r) in refs.iter().enumerate() {
                if !defined.contains_key(&r.source) {
                    return Err((
                        sp.key(&format!("{kind}s")).index(i),
                        format!("service `{name}` refers to undefined {kind} `{}`", r.source),
                        Some(format!("declare it under the top-level `{kind}s:` key")),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{canonical, DependsOn};
    use serde_json::json;

    fn project(edges: &[(&str, &str)]) -> Project {
        let mut p = Project::default();
        for name in ["a", "b", "c"] {
            let mut svc = Service {
                name: name.into(),
                image: Some("x".into()),
                ..Default::default()
            };
            for (from, to) in edges {
                if *from == name {
                    svc.depends_on.insert((*to).into(), DependsOn::default());
                }
            }
            p.services.insert(name.into(), svc);
        }
        p
    }

    #[test]
    fn cycles_are_reported_with_their_path() {
        assert_eq!(cycle(&project(&[("a", "b"), ("b", "c")])), None);
        let c = cycle(&project(&[("a", "b"), ("b", "c"), ("c", "a")]));
        assert_eq!(
            c,
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
        let (p, msg, _) = super::project(
            &project(&[("b", "b")]),
            Checks {
                consistency: true,
                unique_container_names: true,
            },
        )
        .unwrap_err();
        assert_eq!(p.to_string(), "services.b.depends_on.b");
        assert!(msg.contains("b -> b"), "{msg}");
    }

    #[test]
    fn restart_policies_are_checked_before_running() {
        let mut p = project(&[]);
        for ok in [
            "no",
            "always",
            "unless-stopped",
            "on-failure",
            "on-failure:3",
        ] {
            p.services["a"].restart = canonical::restart(ok).ok();
            assert!(runnable(&p).is_ok(), "{ok}");
        }
        p.services["a"].restart = canonical::restart("unless-stoped").ok();
        let e = runnable(&p).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean `unless-stopped`?"));
        p.services["a"].restart = canonical::restart("always:2").ok();
        assert!(runnable(&p).is_err());
    }

    #[test]
    fn keys_nulls_and_suggestions() {
        let tree = json!({"services": {"web": {"imgae": "x"}}});
        let (p, _, hint) = keys(&tree, &[]).unwrap_err();
        assert_eq!(p.to_string(), "services.web.imgae");
        assert_eq!(hint.as_deref(), Some("did you mean `image`?"));
        let tree = json!({"services": {"web": {"image": "x", "ports": null}}});
        assert!(keys(&tree, &[]).is_err());
        let reset = [Path::parse("services.web.ports")];
        assert!(keys(&tree, &reset).is_ok());
    }
}
