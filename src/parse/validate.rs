//! Checks: unknown keys (with a suggestion) and references between services and resources.

use serde_json::{Map, Value};

use super::error::did_you_mean;
use super::model::{Project, Service};
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
const LOGGING_KEYS: &[&str] = &["driver", "options"];
const DEPENDS_ON_KEYS: &[&str] = &["condition", "restart", "required"];

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
        service_values(s, &sp)?;
        for (k, v) in s {
            let p = sp.key(k);
            let nullable = NULLABLE.contains(&k.as_str()) || k.starts_with("x-");
            if v.is_null() && !nullable && !reset.contains(&p) {
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

/// Checks of single service attributes, on the file as written.
fn service_values(s: &Map<String, Value>, sp: &Path) -> Result<(), Problem> {
    if let Some(Value::String(n)) = s.get("container_name") {
        let mut chars = n.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && n.len() > 1
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
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
        for key in ["security_opt", "volumes_from", "group_add"] {
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
    let external = m
        .get("external")
        .is_some_and(|e| e.as_bool() == Some(true) || e.is_object());
    let sources: &[&str] = if what == "config" {
        &["file", "environment", "content"]
    } else {
        &["file", "environment"]
    };
    if external || sources.iter().any(|k| m.contains_key(*k)) {
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
    let external = m
        .get("external")
        .is_some_and(|e| e.as_bool() == Some(true) || e.is_object());
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
    if svc
        .network_mode
        .as_deref()
        .and_then(|m| m.strip_prefix("service:"))
        == Some(dep)
    {
        return Some((sp.key("network_mode"), "uses the network of"));
    }
    let first = |s: &String| s.split(':').next() == Some(dep);
    if let Some(i) = svc.volumes_from.iter().position(first) {
        return Some((sp.key("volumes_from").index(i), "mounts the volumes of"));
    }
    if let Some(i) = svc.links.iter().position(first) {
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

/// The first `depends_on` cycle, as the list of services along it (first repeated at the end).
/// An iterative depth-first search: linear in services and edges, whatever the chain length.
fn cycle(project: &Project) -> Option<Vec<String>> {
    use std::collections::HashSet;
    let mut done: HashSet<&str> = HashSet::new();
    for root in project.services.keys() {
        if done.contains(root.as_str()) {
            continue;
        }
        // The path from `root`, each with the iterator over its remaining dependencies.
        let deps = |name: &str| project.services.get(name).map(|s| s.depends_on.keys());
        let mut stack: Vec<(&str, Option<indexmap::map::Keys<'_, String, _>>)> =
            vec![(root.as_str(), deps(root))];
        let mut on_path: HashSet<&str> = HashSet::from([root.as_str()]);
        while let Some((_, next)) = stack.last_mut() {
            match next.as_mut().and_then(Iterator::next) {
                Some(dep) if on_path.contains(dep.as_str()) => {
                    let i = stack.iter().position(|(n, _)| *n == dep)?;
                    let mut c: Vec<String> =
                        stack[i..].iter().map(|(n, _)| n.to_string()).collect();
                    c.push(dep.clone());
                    return Some(c);
                }
                Some(dep) if done.contains(dep.as_str()) => {}
                Some(dep) => {
                    on_path.insert(dep);
                    stack.push((dep, deps(dep)));
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

/// Checks that every reference names something defined.
pub fn project(project: &Project) -> Result<(), Problem> {
    if let Some(c) = cycle(project) {
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
        if svc.image.as_deref().is_none_or(str::is_empty) && svc.build.is_none() {
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
            if v.kind != "volume" {
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
        limits_agree(svc, &sp)?;
        if svc.container_name.is_some() && svc.replicas() > 1 {
            return Err((
                sp.key("container_name"),
                format!("service `{name}` sets `container_name` and has {} replicas: container names must be unique", svc.replicas()),
                Some("remove container_name or use one replica".into()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::DependsOn;
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
        let (p, msg, _) = super::project(&project(&[("b", "b")])).unwrap_err();
        assert_eq!(p.to_string(), "services.b.depends_on.b");
        assert!(msg.contains("b -> b"), "{msg}");
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
