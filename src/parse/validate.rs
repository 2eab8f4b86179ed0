//! Checks: unknown keys (with a suggestion) and references between services and resources.

use serde_json::Value;

use super::error::did_you_mean;
use super::model::Project;
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

/// Rejects unknown top-level and service keys (`x-` keys are always allowed).
pub fn keys(tree: &Value) -> Result<(), Problem> {
    let Value::Object(root) = tree else {
        return Ok(());
    };
    for k in root.keys() {
        if !k.starts_with("x-") && !TOP_KEYS.contains(&k.as_str()) {
            return Err(unknown(Path::root().key(k), k, TOP_KEYS, "top-level"));
        }
    }
    if let Some(Value::Object(services)) = root.get("services") {
        for (name, svc) in services {
            let Value::Object(s) = svc else { continue };
            for k in s.keys() {
                if !k.starts_with("x-") && !SERVICE_KEYS.contains(&k.as_str()) {
                    let p = Path::root().key("services").key(name).key(k);
                    return Err(unknown(p, k, SERVICE_KEYS, "service"));
                }
            }
        }
    }
    Ok(())
}

/// Checks that every reference names something defined.
pub fn project(project: &Project) -> Result<(), Problem> {
    for (name, svc) in &project.services {
        let sp = Path::root().key("services").key(name);
        if svc.image.is_none() && svc.build.is_none() {
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
            if !d.required {
                continue;
            }
            let hint = did_you_mean(dep, project.services.keys().map(String::as_str))
                .map(|m| format!("did you mean `{m}`?"));
            return Err((
                p,
                format!("service `{name}` depends on undefined service `{dep}`"),
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
