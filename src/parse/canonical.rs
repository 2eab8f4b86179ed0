//! Short syntax to long syntax, on the merged tree: ports, volumes, depends_on, networks,
//! environment, labels, commands, healthcheck tests, secrets and configs.
//!
//! Every function here takes the value found in the file and returns its canonical form, or says
//! what was expected; the caller attaches the path and the position.

use serde_json::{json, Map, Value};
use std::path::Path as FsPath;

use super::model::{
    ExtraHost, Link, MountKind, NamespaceMode, Owner, PullPolicy, Restart, RestartMode, Tmpfs,
    VolumesFrom, VolumesFromSource,
};

/// Turns `KEY=VALUE` / `KEY` lists, or mappings with scalar values, into a mapping of optional
/// strings (`KEY` alone maps to null: taken from the environment, or unset).
pub fn key_values(v: &Value, allow_null: bool) -> Result<Value, String> {
    let mut out = Map::new();
    match v {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                let Value::String(s) = item else {
                    return Err(format!(
                        "expected `KEY=VALUE` strings in the list, found {item}"
                    ));
                };
                let key = s.split_once('=').map_or(s.as_str(), |(k, _)| k);
                if allow_null && key.ends_with(' ') {
                    // As the reference: `KEY = value` is a mistake, not a name with a space.
                    return Err(format!(
                        "variable `{key}` is declared with a trailing space: write `{}=VALUE`",
                        key.trim_end()
                    ));
                }
                match s.split_once('=') {
                    Some((k, val)) => {
                        out.insert(k.to_string(), Value::String(val.to_string()));
                    }
                    None if allow_null => {
                        out.insert(s.clone(), Value::Null);
                    }
                    None => {
                        out.insert(s.clone(), Value::String(String::new()));
                    }
                }
            }
        }
        Value::Object(map) => {
            for (k, val) in map {
                let val = match val {
                    Value::Null if allow_null => Value::Null,
                    Value::Null => Value::String(String::new()),
                    Value::String(_) => val.clone(),
                    Value::Number(n) => Value::String(number_text(n)),
                    Value::Bool(b) => Value::String(b.to_string()),
                    other => {
                        return Err(format!(
                            "expected a scalar value for `{k}`, found {}",
                            kind(other)
                        ))
                    }
                };
                out.insert(k.clone(), val);
            }
        }
        other => {
            return Err(format!(
                "expected a mapping or a list of `KEY=VALUE`, found {}",
                kind(other)
            ))
        }
    }
    Ok(Value::Object(out))
}

/// A number as text, as Go's `fmt.Sprint` prints it: floats without a trailing `.0` (`1.0` is
/// `1`, `1e3` is `1000`), with an exponent from 1e21 or below 1e-4 (`1e+21`, `1e-05`).
pub fn number_text(n: &serde_json::Number) -> String {
    if n.is_f64() {
        if let Some(f) = n.as_f64() {
            return super::emit::go_g(f);
        }
    }
    n.to_string()
}

/// Whether `external` says so: `true` (also written as text, often interpolated) or the legacy
/// `{name: ...}` mapping.
pub fn is_external(e: &Value) -> bool {
    match e {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "y" | "on"),
        Value::Object(_) => true,
        _ => false,
    }
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// `command` / `entrypoint`: a string is split into words as the reference splits it
/// ([`super::shellwords`]).
pub fn command(v: &Value) -> Result<Value, String> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::String(s) => super::shellwords::split(s)
            .map(|w| json!(w))
            .map_err(|e| format!("{e}: cannot split `{s}` into words (unbalanced quote, `(`, `)` or backtick, or a trailing backslash)")),
        // Every entry a string, as the reference requires (quote numbers).
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(Value::String(s.clone())),
                other => Err(format!(
                    "expected strings in the list, found {} (quote it)",
                    kind(other)
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Err(format!(
            "expected a string or a list of strings, found {}",
            kind(other)
        )),
    }
}

/// A string or a list of strings, as a list.
pub fn string_list(v: &Value) -> Result<Value, String> {
    match v {
        Value::Null => Ok(json!([])),
        Value::String(_) => Ok(json!([v])),
        Value::Array(_) => Ok(v.clone()),
        other => Err(format!(
            "expected a string or a list of strings, found {}",
            kind(other)
        )),
    }
}

/// `depends_on`: a list of names or a mapping of long entries.
pub fn depends_on(v: &Value) -> Result<Value, String> {
    let mut out = Map::new();
    match v {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                let Value::String(name) = item else {
                    return Err(format!("expected service names, found {}", kind(item)));
                };
                out.insert(
                    name.clone(),
                    json!({"condition": "service_started", "required": true}),
                );
            }
        }
        Value::Object(map) => {
            for (name, entry) in map {
                let mut e = match entry {
                    Value::Object(m) => m.clone(),
                    Value::Null => Map::new(),
                    other => {
                        return Err(format!(
                        "expected a mapping for `{name}` (condition, required, restart), found {}",
                        kind(other)
                    ))
                    }
                };
                e.entry("condition").or_insert(json!("service_started"));
                e.entry("required").or_insert(json!(true));
                out.insert(name.clone(), Value::Object(e));
            }
        }
        other => {
            return Err(format!(
                "expected a list of services or a mapping, found {}",
                kind(other)
            ))
        }
    }
    Ok(Value::Object(out))
}

/// Service `networks`: a list of names or a mapping.
pub fn service_networks(v: &Value) -> Result<Value, String> {
    match v {
        Value::Null => Ok(json!({})),
        Value::Array(items) => {
            let mut out = Map::new();
            for item in items {
                let Value::String(name) = item else {
                    return Err(format!("expected network names, found {}", kind(item)));
                };
                out.insert(name.clone(), Value::Null);
            }
            Ok(Value::Object(out))
        }
        Value::Object(_) => Ok(v.clone()),
        other => Err(format!(
            "expected a list of networks or a mapping, found {}",
            kind(other)
        )),
    }
}

/// `secrets` / `configs` of a service: names or long entries. A secret without a target gets
/// `/run/secrets/<source>` (`default_dir`); a relative target is kept as written. A string `mode`
/// is octal.
pub fn file_refs(v: &Value, default_dir: Option<&str>) -> Result<Value, String> {
    let Value::Array(items) = v else {
        if v.is_null() {
            return Ok(json!([]));
        }
        return Err(format!("expected a list, found {}", kind(v)));
    };
    items
        .iter()
        .map(|i| {
            let mut m = match i {
                Value::String(s) => {
                    let mut m = Map::new();
                    m.insert("source".into(), json!(s));
                    m
                }
                Value::Object(m) => m.clone(),
                other => {
                    return Err(format!(
                        "expected a name or a mapping with `source`, found {}",
                        kind(other)
                    ))
                }
            };
            let source = m.get("source").and_then(Value::as_str).map(str::to_string);
            if let (Some(dir), Some(src), false) = (default_dir, source, m.contains_key("target")) {
                m.insert("target".into(), json!(format!("{dir}{src}")));
            }
            if let Some(Value::String(mode)) = m.get("mode") {
                let n = i64::from_str_radix(mode.trim().trim_start_matches("0o"), 8)
                    .map_err(|_| format!("invalid mode `{mode}`: expected an octal number"))?;
                m.insert("mode".into(), json!(n));
            }
            Ok(Value::Object(m))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// `devices`: `HOST[:CONTAINER[:PERMISSIONS]]` strings or long entries.
pub fn devices(v: &Value) -> Result<Value, String> {
    let Value::Array(items) = v else {
        if v.is_null() {
            return Ok(json!([]));
        }
        return Err(format!("expected a list of devices, found {}", kind(v)));
    };
    items
        .iter()
        .map(|i| match i {
            Value::String(s) => {
                let parts: Vec<&str> = s.split(':').collect();
                let (src, dst, perms) = match parts.as_slice() {
                    [a] => (*a, *a, "rwm"),
                    [a, b] => (*a, *b, "rwm"),
                    [a, b, c] => (*a, *b, *c),
                    _ => {
                        return Err(format!(
                            "invalid device `{s}`: expected HOST[:CONTAINER[:PERMISSIONS]]"
                        ))
                    }
                };
                Ok(json!({"source": src, "target": dst, "permissions": perms}))
            }
            Value::Object(_) => Ok(i.clone()),
            other => Err(format!("expected a device, found {}", kind(other))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// `healthcheck.test`: a string is a `CMD-SHELL` test.
pub fn health_test(v: &Value) -> Result<Value, String> {
    match v {
        Value::String(s) => Ok(json!(["CMD-SHELL", s])),
        Value::Array(_) | Value::Null => Ok(v.clone()),
        other => Err(format!(
            "expected a string or a list, found {}",
            kind(other)
        )),
    }
}

/// `extra_hosts`: a list of `host:ip` / `host=ip`, or a mapping; canonical `host=ip` strings.
pub fn extra_hosts(v: &Value) -> Result<Value, String> {
    let mut out = Vec::new();
    match v {
        Value::Null => {}
        Value::Array(items) => {
            for i in items {
                let Value::String(s) = i else {
                    return Err(format!("expected `host:ip` strings, found {}", kind(i)));
                };
                let (h, ip) = s
                    .split_once('=')
                    .or_else(|| s.split_once(':'))
                    .ok_or_else(|| format!("`{s}` is not `host:ip`"))?;
                out.push(json!(format!("{h}={}", unbracket(ip))));
            }
        }
        Value::Object(map) => {
            for (h, ips) in map {
                match ips {
                    Value::Array(list) => {
                        for ip in list {
                            out.push(json!(format!("{h}={}", scalar_text(ip))));
                        }
                    }
                    other => out.push(json!(format!("{h}={}", scalar_text(other)))),
                }
            }
        }
        other => {
            return Err(format!(
                "expected a list or a mapping, found {}",
                kind(other)
            ))
        }
    }
    // Sorted as the reference sorts them: by the whole `host=ip` text (`a-b=` before `a=`,
    // a host's addresses in text order).
    out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    Ok(Value::Array(out))
}

/// `[::1]` as `::1`.
fn unbracket(ip: &str) -> &str {
    ip.strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(ip)
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `restart`: any text is kept (`config` prints it); the policy only when the engine knows it.
pub fn restart(s: &str) -> Result<Restart, String> {
    let (name, count) = match s.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (s, None),
    };
    let policy = match (name, count) {
        ("no", None) => Some(RestartMode::No),
        ("always", None) => Some(RestartMode::Always),
        ("unless-stopped", None) => Some(RestartMode::UnlessStopped),
        ("on-failure", None) => Some(RestartMode::OnFailure(None)),
        // `on-failure: 3` passes (as the reference's check), but its count is not a number to
        // the engine (the reference's `Atoi`).
        ("on-failure", Some(c)) if c.trim().parse::<u32>().is_ok() => {
            Some(RestartMode::OnFailure(c.parse().ok()))
        }
        _ => None,
    };
    Ok(Restart {
        written: s.to_string(),
        policy,
    })
}

/// `tmpfs`: `PATH[:OPTIONS]`.
pub fn tmpfs(s: &str) -> Result<Tmpfs, String> {
    let (path, options) = match s.split_once(':') {
        Some((p, o)) => (p, Some(o.to_string())),
        None => (s, None),
    };
    Ok(Tmpfs {
        path: path.to_string(),
        options,
    })
}

/// `links`: `SERVICE[:ALIAS]`.
pub fn link(s: &str) -> Result<Link, String> {
    let (service, alias) = match s.split_once(':') {
        Some((sv, a)) => (sv, Some(a.to_string())),
        None => (s, None),
    };
    Ok(Link {
        service: service.to_string(),
        alias,
    })
}

/// `volumes_from`: `SERVICE[:MODE]` or `container:NAME[:MODE]`.
pub fn volumes_from(s: &str) -> Result<VolumesFrom, String> {
    let (container, rest) = match s.strip_prefix("container:") {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (name, mode) = match rest.split_once(':') {
        Some((n, m)) => (n.to_string(), Some(m.to_string())),
        None => (rest.to_string(), None),
    };
    let source = if container {
        VolumesFromSource::Container(name)
    } else {
        VolumesFromSource::Service(name)
    };
    Ok(VolumesFrom { source, mode })
}

/// `network_mode`, `ipc`, `pid`: `service:NAME`, `container:NAME` or a mode by name.
pub fn namespace_mode(s: &str) -> Result<NamespaceMode, String> {
    Ok(if let Some(n) = s.strip_prefix("service:") {
        NamespaceMode::Service(n.to_string())
    } else if let Some(n) = s.strip_prefix("container:") {
        NamespaceMode::Container(n.to_string())
    } else {
        NamespaceMode::Named(s.to_string())
    })
}

/// One canonical `extra_hosts` entry, `HOST=ADDRESS` (see [`extra_hosts`]).
pub fn extra_host(s: &str) -> Result<ExtraHost, String> {
    let (host, address) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not `host=address`"))?;
    Ok(ExtraHost {
        host: host.to_string(),
        address: address.to_string(),
    })
}

/// `pull_policy` (and `--pull`).
pub fn pull_policy(s: &str) -> Result<PullPolicy, String> {
    Ok(match s {
        "always" => PullPolicy::Always,
        "never" => PullPolicy::Never,
        "missing" => PullPolicy::Missing,
        "if_not_present" => PullPolicy::IfNotPresent,
        "build" => PullPolicy::Build,
        "refresh" => PullPolicy::Refresh,
        "daily" => PullPolicy::Daily,
        "weekly" => PullPolicy::Weekly,
        other => match other.strip_prefix("every_") {
            Some(d) => PullPolicy::Every(d.to_string()),
            None => return Err(format!("unknown pull policy `{s}`")),
        },
    })
}

/// A mount's `type`.
pub fn mount_kind(s: &str) -> Result<MountKind, String> {
    Ok(match s {
        "bind" => MountKind::Bind,
        "volume" => MountKind::Volume,
        "tmpfs" => MountKind::Tmpfs,
        "npipe" => MountKind::Npipe,
        "cluster" => MountKind::Cluster,
        "image" => MountKind::Image,
        other => return Err(format!("unknown mount type `{other}`")),
    })
}

/// A secret's `uid` / `gid`.
pub fn owner(s: &str) -> Result<Owner, String> {
    Ok(Owner {
        written: s.to_string(),
        id: s.parse().ok(),
    })
}

/// Short `ports` entries to long ones; ranges become one entry per port.
pub fn ports(v: &Value) -> Result<Value, String> {
    let Value::Array(items) = v else {
        if v.is_null() {
            return Ok(json!([]));
        }
        return Err(format!("expected a list of ports, found {}", kind(v)));
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::Number(n) => {
                out.push(json!({"mode": "ingress", "target": n, "protocol": "tcp"}))
            }
            Value::String(s) => out.extend(short_port(s)?),
            Value::Object(m) => {
                let mut m = m.clone();
                m.entry("mode").or_insert(json!("ingress"));
                m.entry("protocol").or_insert(json!("tcp"));
                if let Some(p) = m.get_mut("published") {
                    if let Value::Number(n) = p {
                        *p = Value::String(n.to_string());
                    }
                }
                if m.get("published").and_then(Value::as_str) == Some("") {
                    m.shift_remove("published");
                }
                out.push(Value::Object(m));
            }
            other => return Err(format!("expected a port, found {}", kind(other))),
        }
    }
    Ok(Value::Array(out))
}

fn port_range(s: &str, spec: &str) -> Result<(u64, u64), String> {
    let bad = || {
        format!(
            "invalid port `{spec}`: expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. \"8080:80\""
        )
    };
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let a: u64 = a.parse().map_err(|_| bad())?;
    let b: u64 = b.parse().map_err(|_| bad())?;
    if a > b || b > 65535 {
        return Err(bad());
    }
    Ok((a, b))
}

fn short_port(spec: &str) -> Result<Vec<Value>, String> {
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p),
        None => (spec, "tcp"),
    };
    // Split off the host IP: `[v6]:...` or `a.b.c.d:...`.
    let (host_ip, rest) = if let Some(r) = rest.strip_prefix('[') {
        let end = r
            .find(']')
            .ok_or_else(|| format!("invalid port `{spec}`"))?;
        let ip = &r[..end];
        let after = r[end + 1..].strip_prefix(':').unwrap_or(&r[end + 1..]);
        (Some(ip.to_string()), after)
    } else {
        // As docker's port parser splits: the last two fields are the ports, everything
        // before them (`::1` has colons of its own) the host IP.
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() >= 3 {
            let ip = parts[..parts.len() - 2].join(":");
            let skip = ip.len() + 1;
            (Some(ip), &rest[skip..])
        } else {
            (None, rest)
        }
    };
    if let Some(ip) = host_ip.as_deref().filter(|ip| !ip.is_empty()) {
        if ip.parse::<std::net::IpAddr>().is_err() {
            return Err(format!(
                "invalid port `{spec}`: `{ip}` is not an IP address"
            ));
        }
    }
    let (published, target) = match rest.rsplit_once(':') {
        Some((p, t)) => (Some(p), t),
        None => (None, rest),
    };
    let (t0, t1) = port_range(target, spec)?;
    if t0 == 0 {
        return Err(format!(
            "invalid port `{spec}`: the container port cannot be 0"
        ));
    }
    let published = published.filter(|p| !p.is_empty());
    let mut out = Vec::new();
    let pub_range = match published {
        Some(p) => Some(port_range(p, spec)?),
        None => None,
    };
    let count = t1 - t0 + 1;
    if let Some((p0, p1)) = pub_range {
        if count > 1 && p1 - p0 + 1 != count {
            return Err(format!(
                "invalid port `{spec}`: the host and container ranges differ in size"
            ));
        }
    }
    for i in 0..count {
        let mut m = Map::new();
        m.insert("mode".into(), json!("ingress"));
        if let Some(ip) = &host_ip {
            if !ip.is_empty() {
                m.insert("host_ip".into(), json!(ip));
            }
        }
        m.insert("target".into(), json!(t0 + i));
        if let (Some(p), Some((p0, p1))) = (published, pub_range) {
            let text = if count == 1 {
                p.to_string()
            } else if p1 - p0 + 1 == count {
                (p0 + i).to_string()
            } else {
                p.to_string()
            };
            m.insert("published".into(), json!(text));
        }
        m.insert("protocol".into(), json!(protocol));
        out.push(Value::Object(m));
    }
    Ok(out)
}

/// Short `volumes` entries of a service to long ones; bind sources are made absolute.
pub fn service_volumes(v: &Value, base: &FsPath) -> Result<Value, String> {
    service_volumes_as(v, base, true)
}

/// [`service_volumes`], the targets of long-syntax entries cleaned as paths only when
/// `clean_long` (the reference leaves them as written with `config --no-normalize`; short ones
/// are cleaned as they are read).
pub fn service_volumes_as(v: &Value, base: &FsPath, clean_long: bool) -> Result<Value, String> {
    let Value::Array(items) = v else {
        if v.is_null() {
            return Ok(json!([]));
        }
        return Err(format!("expected a list of mounts, found {}", kind(v)));
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::String(s) => out.push((short_volume(s, base)?, true)),
            Value::Object(m) => {
                let mut m = m.clone();
                let is_bind = m.get("type").and_then(Value::as_str) == Some("bind");
                if is_bind {
                    if let Some(Value::String(src)) = m.get("source") {
                        let abs = absolute(src, base);
                        m.insert("source".into(), json!(abs));
                    }
                }
                out.push((Value::Object(m), clean_long));
            }
            other => return Err(format!("expected a mount, found {}", kind(other))),
        }
    }
    // Within one file a target is mounted once: the last entry wins, in the first one's place.
    let mut unique: Vec<Value> = Vec::with_capacity(out.len());
    for (mut m, clean_it) in out {
        // Targets are cleaned as paths (`/a/../b/` is `/b`).
        if let Some(Value::String(t)) = m.get_mut("target").filter(|_| clean_it) {
            if !t.is_empty() {
                *t = clean(FsPath::new(t.as_str()));
            }
        }
        let target = m.get("target").cloned();
        match unique
            .iter()
            .position(|u| target.is_some() && u.get("target") == target.as_ref())
        {
            Some(i) => unique[i] = m,
            None => unique.push(m),
        }
    }
    Ok(Value::Array(unique))
}

fn is_path(src: &str) -> bool {
    src.starts_with('.') || src.starts_with('/') || src.starts_with('~')
}

/// Whether a build context is a URL or a Git remote rather than a local folder.
pub fn is_remote(ctx: &str) -> bool {
    ctx.contains("://") || ctx.starts_with("git@") || ctx.starts_with("github.com/")
}

/// Resolves a host path against the project directory (`~` is the home directory).
/// An empty `base` keeps `src` as written (`config --no-path-resolution`).
pub fn absolute(src: &str, base: &FsPath) -> String {
    if base.as_os_str().is_empty() {
        return src.to_string();
    }
    if let Some(rest) = src.strip_prefix('~') {
        if let Ok(home) = std::env::var("HOME") {
            return format!("{home}{rest}");
        }
    }
    let p = FsPath::new(src);
    if p.is_absolute() {
        return src.to_string();
    }
    let joined = base.join(p);
    clean(&joined)
}

/// Removes `.` and `..` components without touching the file system.
pub fn clean(p: &FsPath) -> String {
    use std::path::Component;
    let mut out: Vec<String> = Vec::new();
    let mut absolute = false;
    for c in p.components() {
        match c {
            Component::RootDir => absolute = true,
            Component::CurDir => {}
            // As Go's filepath.Clean: `..` at the start of a relative path stays.
            Component::ParentDir => {
                if out.last().is_some_and(|l| l != "..") {
                    out.pop();
                } else if !absolute {
                    out.push("..".into());
                }
            }
            Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
            Component::Prefix(_) => {}
        }
    }
    let body = out.join("/");
    if absolute {
        format!("/{body}")
    } else {
        body
    }
}

/// Whether `s` is a Windows path as docker compose tells one: a drive (`c:`, then anything) or a
/// UNC or named-pipe path (`\\server\share`, `\\.\pipe\name`). It is bound as written.
fn windows_path(s: &str) -> bool {
    let mut chars = s.chars();
    s.starts_with("\\\\")
        || chars.next().is_some_and(char::is_alphabetic) && chars.next() == Some(':')
}

/// Whether `s` is one letter: before a `:`, a Windows drive.
fn one_letter(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(char::is_alphabetic) && chars.next().is_none()
}

/// `spec` split at each `:` outside `${...}` (compose-go's volume parser keeps a variable's
/// `${VAR:-default}` whole, which matters when it is not interpolated), except the `:` of a
/// Windows drive: one that follows a one-letter piece (`./a:C:/data`).
fn split_colons(spec: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    let bytes = spec.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'$' if bytes.get(i + 1) == Some(&b'{') => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 && one_letter(&spec[start..i]) => {}
            b':' if depth == 0 => {
                parts.push(&spec[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&spec[start..]);
    parts
}

fn short_volume(spec: &str, base: &FsPath) -> Result<Value, String> {
    if (1..=2).contains(&spec.len()) {
        // As the reference: so short a spec is a target, whatever it holds (`C:`).
        return Ok(json!({"type": "volume", "target": spec}));
    }
    let parts: Vec<&str> = split_colons(spec);
    let (src, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [s, t] => (Some(*s), *t, None),
        [s, t, m] => (Some(*s), *t, Some(*m)),
        _ => {
            return Err(format!(
                "invalid mount `{spec}`: expected [SOURCE:]TARGET[:MODE]"
            ))
        }
    };
    if target.is_empty() {
        return Err(format!("invalid mount `{spec}`: the target is empty"));
    }
    if src == Some("") {
        return Err(format!(
            "invalid mount `{spec}`: the source is empty (after interpolation: is a variable unset?)"
        ));
    }
    let mut m = Map::new();
    match src {
        None => {
            m.insert("type".into(), json!("volume"));
            m.insert("target".into(), json!(target));
            m.insert("volume".into(), json!({}));
        }
        Some(s) if is_path(s) || windows_path(s) => {
            let src = if windows_path(s) {
                s.to_string()
            } else {
                absolute(s, base)
            };
            m.insert("type".into(), json!("bind"));
            m.insert("source".into(), json!(src));
            m.insert("target".into(), json!(target));
            m.insert("bind".into(), json!({"create_host_path": true}));
        }
        Some(s) => {
            m.insert("type".into(), json!("volume"));
            m.insert("source".into(), json!(s));
            m.insert("target".into(), json!(target));
            m.insert("volume".into(), json!({}));
        }
    }
    if let Some(mode) = mode {
        for opt in mode.split(',') {
            match opt {
                "ro" => {
                    m.insert("read_only".into(), json!(true));
                }
                "rw" | "" => {}
                // Docker Desktop hints, accepted and dropped as docker compose does.
                "cached" | "delegated" | "consistent" => {}
                "nocopy" => {
                    m.insert("volume".into(), json!({"nocopy": true}));
                }
                // Kept on named volumes too (`bind.selinux`), as the reference does.
                "z" | "Z" => {
                    if let Value::Object(b) = m.entry("bind").or_insert(json!({})) {
                        b.insert("selinux".into(), json!(opt));
                    }
                }
                "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                    if let Some(Value::Object(b)) = m.get_mut("bind") {
                        b.insert("propagation".into(), json!(opt));
                    }
                }
                other => {
                    return Err(format!(
                        "invalid mount `{spec}`: unknown mode `{other}` (expected ro, rw, z, Z, nocopy or a propagation)"
                    ))
                }
            }
        }
    }
    Ok(Value::Object(m))
}

/// Ports given on the command line (`run -p`), in the canonical long form.
pub fn cli_ports(specs: &[String]) -> Result<Vec<crate::parse::Port>, String> {
    let list = Value::Array(specs.iter().map(|s| Value::String(s.clone())).collect());
    serde_json::from_value(ports(&list)?).map_err(|e| e.to_string())
}

/// Volumes given on the command line (`run -v`), relative paths against `base`.
pub fn cli_volumes(
    specs: &[String],
    base: &FsPath,
) -> Result<Vec<crate::parse::ServiceVolume>, String> {
    let list = Value::Array(specs.iter().map(|s| Value::String(s.clone())).collect());
    serde_json::from_value(service_volumes(&list, base)?).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each form prints back exactly as written (what `config` and the config hash see).
    fn round_trips<T: std::fmt::Display>(parse: fn(&str) -> Result<T, String>, texts: &[&str]) {
        for t in texts {
            let v = parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(v.to_string(), *t);
        }
    }

    #[test]
    fn restart_policies() {
        let policy = |s: &str| restart(s).map(|r| r.policy).unwrap_or(None);
        assert_eq!(policy("no"), Some(RestartMode::No));
        assert_eq!(policy("always"), Some(RestartMode::Always));
        assert_eq!(policy("unless-stopped"), Some(RestartMode::UnlessStopped));
        assert_eq!(policy("on-failure"), Some(RestartMode::OnFailure(None)));
        assert_eq!(
            policy("on-failure:3"),
            Some(RestartMode::OnFailure(Some(3)))
        );
        // Accepted, but no count for the engine (the reference's `Atoi(" 3")` fails too).
        assert_eq!(policy("on-failure: 3"), Some(RestartMode::OnFailure(None)));
        for unknown in ["foo", "always:2", "on-failure:x", "unless-stoped", ""] {
            assert_eq!(policy(unknown), None, "{unknown}");
        }
        round_trips(restart, &["no", "on-failure: 3", "foo", "always:2"]);
    }

    #[test]
    fn tmpfs_links_and_volumes_from() {
        let t = tmpfs("/run:size=1m,mode=1777").unwrap();
        assert_eq!(
            (t.path.as_str(), t.options.as_deref()),
            ("/run", Some("size=1m,mode=1777"))
        );
        assert_eq!(tmpfs("/x").unwrap().options, None);
        round_trips(tmpfs, &["/run:size=1m", "/x", "/y:"]);

        let l = link("db:database").unwrap();
        assert_eq!((l.service.as_str(), l.name()), ("db", "database"));
        assert_eq!(link("db").unwrap().name(), "db");
        round_trips(link, &["db:database", "db", "a:b:c"]);

        let v = volumes_from("data:ro").unwrap();
        assert_eq!(v.source, VolumesFromSource::Service("data".into()));
        assert_eq!(v.mode.as_deref(), Some("ro"));
        let c = volumes_from("container:c1:rw").unwrap();
        assert_eq!(c.source, VolumesFromSource::Container("c1".into()));
        assert_eq!(c.mode.as_deref(), Some("rw"));
        assert_eq!(volumes_from("data").unwrap().mode, None);
        round_trips(
            volumes_from,
            &["data:ro", "container:c1", "container:c1:ro", "b:xyz"],
        );
    }

    #[test]
    fn namespace_modes_and_extra_hosts() {
        assert_eq!(
            namespace_mode("service:db"),
            Ok(NamespaceMode::Service("db".into()))
        );
        assert_eq!(
            namespace_mode("container:c1"),
            Ok(NamespaceMode::Container("c1".into()))
        );
        assert_eq!(
            namespace_mode("host"),
            Ok(NamespaceMode::Named("host".into()))
        );
        round_trips(
            namespace_mode,
            &["service:db", "container:c1", "host", "my_net"],
        );

        let h = extra_host("h6=::1").unwrap();
        assert_eq!((h.host.as_str(), h.address.as_str()), ("h6", "::1"));
        assert!(extra_host("nohost").is_err());
        round_trips(extra_host, &["h=1.2.3.4", "h6=::1"]);
        // The list form is made canonical first: `host:ip` and `[v6]` become `host=ip`.
        let list = extra_hosts(&json!(["a:1.2.3.4", "b=[::1]"])).unwrap();
        assert_eq!(list, json!(["a=1.2.3.4", "b=::1"]));
        // Sorted by the whole text, as the reference sorts them.
        let list = extra_hosts(&json!(["h:5.6.7.8", "h:1.2.3.4", "h-a:1.1.1.1"])).unwrap();
        assert_eq!(list, json!(["h-a=1.1.1.1", "h=1.2.3.4", "h=5.6.7.8"]));
    }

    #[test]
    fn pull_policies_mount_kinds_and_owners() {
        assert_eq!(pull_policy("if_not_present"), Ok(PullPolicy::IfNotPresent));
        assert_eq!(pull_policy("every_2h"), Ok(PullPolicy::Every("2h".into())));
        assert_eq!(
            pull_policy("sometimes"),
            Err("unknown pull policy `sometimes`".into())
        );
        round_trips(
            pull_policy,
            &[
                "always",
                "never",
                "missing",
                "build",
                "refresh",
                "daily",
                "weekly",
                "every_12h",
            ],
        );
        assert_eq!(mount_kind("bind"), Ok(MountKind::Bind));
        assert_eq!(mount_kind("disk"), Err("unknown mount type `disk`".into()));
        round_trips(
            mount_kind,
            &["bind", "volume", "tmpfs", "npipe", "cluster", "image"],
        );
        assert_eq!(owner("1000").unwrap().id, Some(1000));
        assert_eq!(owner("abc").unwrap().id, None);
        round_trips(owner, &["1000", "007", "abc"]);
    }

    /// Unknown values are load errors at their place in the file.
    #[test]
    fn unknown_values_are_located_load_errors() {
        let load_text = |text: &str| {
            let work = tempfile::tempdir().expect("tempdir");
            let file = work.path().join("compose.yaml");
            std::fs::write(&file, text).expect("write");
            crate::parse::load(&crate::parse::LoadOptions {
                files: vec![file.display().to_string()],
                project_name: Some("forms".into()),
                cwd: work.path().to_path_buf(),
                ..Default::default()
            })
        };
        let Err(e) = load_text("services:\n  a:\n    image: x\n    pull_policy: sometimes\n")
        else {
            panic!("an unknown pull policy is refused");
        };
        assert!(e.message.contains("unknown pull policy `sometimes`"), "{e}");
        assert_eq!((e.at.line, e.at.column), (Some(4), Some(5)), "{e}");

        let text =
            "services:\n  a:\n    image: x\n    volumes:\n      - type: disk\n        target: /d\n";
        let Err(e) = load_text(text) else {
            panic!("an unknown mount type is refused");
        };
        assert!(e.message.contains("unknown mount type `disk`"), "{e}");
        assert_eq!(e.at.line, Some(5), "{e}");

        // `config` prints any `restart` (as the reference); making containers refuses it there.
        let text = "services:\n  a:\n    image: x\n    restart: unless-stoped\n";
        let loaded = load_text(text).expect("config accepts it");
        let e = crate::parse::validate::runnable(&loaded.project).expect_err("not runnable");
        assert!(
            e.message.contains("unknown restart policy `unless-stoped`"),
            "{e}"
        );
        assert_eq!(e.at.line, Some(4), "{e}");
    }

    #[test]
    fn short_ports() {
        let v = ports(&json!([
            "8080:80",
            "127.0.0.1::53/udp",
            9000,
            "3000-3001:4000-4001"
        ]))
        .unwrap();
        assert_eq!(
            v,
            json!([
                {"mode":"ingress","target":80,"published":"8080","protocol":"tcp"},
                {"mode":"ingress","host_ip":"127.0.0.1","target":53,"protocol":"udp"},
                {"mode":"ingress","target":9000,"protocol":"tcp"},
                {"mode":"ingress","target":4000,"published":"3000","protocol":"tcp"},
                {"mode":"ingress","target":4001,"published":"3001","protocol":"tcp"},
            ])
        );
        assert!(ports(&json!(["80:abc"])).is_err());
    }

    #[test]
    fn short_volumes() {
        let v = service_volumes(
            &json!(["data:/d", "./src:/src:ro", "/anon"]),
            FsPath::new("/p"),
        )
        .unwrap();
        assert_eq!(
            v,
            json!([
                {"type":"volume","source":"data","target":"/d","volume":{}},
                {"type":"bind","source":"/p/src","target":"/src","bind":{"create_host_path":true},"read_only":true},
                {"type":"volume","target":"/anon","volume":{}},
            ])
        );
        // A variable's default keeps its `:` (as written, not interpolated).
        assert_eq!(
            split_colons("${DATA:-./d}:/data:ro"),
            ["${DATA:-./d}", "/data", "ro"]
        );
    }

    #[test]
    fn windows_drives_stay_whole_in_any_piece() {
        assert_eq!(split_colons("./a:C:/etc/x"), ["./a", "C:/etc/x"]);
        assert_eq!(split_colons("C:\\d:C:\\d:ro"), ["C:\\d", "C:\\d", "ro"]);
        assert_eq!(split_colons("vol:c:ro"), ["vol", "c:ro"]);
        assert!(windows_path("\\\\.\\pipe\\x") && windows_path("c:") && !windows_path("ab:/x"));
    }

    #[test]
    fn env_list_keys_with_a_trailing_space_are_refused() {
        for bad in ["KEY = v", "KEY =v", "KEY "] {
            let e = key_values(&json!([bad]), true).unwrap_err();
            assert!(e.contains("trailing space"), "{bad}: {e}");
        }
        // A leading space is kept, and labels take any key, as the reference does.
        assert_eq!(
            key_values(&json!([" K=v"]), true).unwrap(),
            json!({" K": "v"})
        );
        assert_eq!(
            key_values(&json!(["K =v"]), false).unwrap(),
            json!({"K ": "v"})
        );
    }

    #[test]
    fn env_lists() {
        let v = key_values(&json!(["A=1", "B", "C=x=y"]), true).unwrap();
        assert_eq!(v, json!({"A":"1","B":null,"C":"x=y"}));
        let v = key_values(&json!({"A": 1, "B": null, "C": true}), true).unwrap();
        assert_eq!(v, json!({"A":"1","B":null,"C":"true"}));
    }

    #[test]
    fn commands_split_like_a_shell() {
        assert_eq!(
            command(&json!("sh -c 'echo hi'")).unwrap(),
            json!(["sh", "-c", "echo hi"])
        );
    }
}
