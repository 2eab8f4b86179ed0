//! Merging canonical trees of several files: mappings merge, scalars are replaced, and sequences
//! follow the specification's rules (some replace, some append, some merge by a key).

use serde_json::{Map, Value};

use super::path::{Path, Seg};
use super::yaml::Tag;

/// Merges `over` into `base`, applying the `!reset` / `!override` tags of `over`.
pub(super) fn merge(base: &mut Value, over: Value, tags: &[Tag]) {
    merge_mode(base, over, tags, false)
}

/// [`merge`] of trees as written (`config --no-interpolate`), when `raw`: key/value attributes
/// (`environment`, `labels`...) then merge as compose-go merges them before typing, into one
/// list (`KEY=VALUE` entries, a mapping's sorted) that [`unicity`] reduces.
pub(super) fn merge_mode(base: &mut Value, mut over: Value, tags: &[Tag], raw: bool) {
    for tag in tags {
        match tag {
            Tag::Reset(p) => {
                remove(base, p.segs());
                remove(&mut over, p.segs());
            }
            Tag::Override(p) => {
                if let Some(v) = get(&over, p.segs()).cloned() {
                    remove(base, p.segs());
                    set(base, p.segs(), v);
                    remove(&mut over, p.segs());
                }
            }
        }
    }
    merge_at(base, over, &mut Path::root(), raw);
}

/// Whether the attribute at `path` is a key/value one compose-go merges as a list.
fn to_sequence(path: &Path) -> bool {
    let segs = path.segs();
    let key = |i: usize| match segs.get(i) {
        Some(Seg::Key(k)) => k.as_str(),
        _ => "",
    };
    match (segs.len(), key(0)) {
        (3, "services") => matches!(
            key(2),
            "environment"
                | "labels"
                | "annotations"
                | "sysctls"
                | "extra_hosts"
                | "dns"
                | "dns_search"
                | "tmpfs"
        ),
        (4, "services") => key(2) == "build" && matches!(key(3), "args" | "labels"),
        (3, "networks" | "volumes" | "secrets" | "configs") => key(2) == "labels",
        _ => false,
    }
}

/// compose-go's `convertIntoSequence`: a mapping as sorted `KEY=VALUE` (`KEY` for a null).
fn as_sequence(v: Value) -> Vec<Value> {
    match v {
        Value::Object(m) => {
            let mut seq: Vec<String> = m
                .into_iter()
                .map(|(k, v)| match v {
                    Value::Null => k,
                    other => format!("{k}={}", scalar_key(&other)),
                })
                .collect();
            seq.sort();
            seq.into_iter().map(Value::String).collect()
        }
        Value::Array(a) => a,
        Value::Null => vec![],
        other => vec![other],
    }
}

fn get<'a>(v: &'a Value, segs: &[Seg]) -> Option<&'a Value> {
    let Some((first, rest)) = segs.split_first() else {
        return Some(v);
    };
    let child = match (first, v) {
        (Seg::Key(k), Value::Object(m)) => m.get(k)?,
        (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
        _ => return None,
    };
    get(child, rest)
}

fn remove(v: &mut Value, segs: &[Seg]) {
    let Some((last, parents)) = segs.split_last() else {
        return;
    };
    let mut cur = v;
    for s in parents {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => match m.get_mut(k) {
                Some(c) => c,
                None => return,
            },
            (Seg::Index(i), Value::Array(a)) => match a.get_mut(*i) {
                Some(c) => c,
                None => return,
            },
            _ => return,
        };
    }
    match (last, cur) {
        (Seg::Key(k), Value::Object(m)) => {
            m.shift_remove(k);
        }
        (Seg::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        _ => {}
    }
}

fn set(v: &mut Value, segs: &[Seg], new: Value) {
    let Some((first, rest)) = segs.split_first() else {
        *v = new;
        return;
    };
    if let (Seg::Key(k), Value::Object(m)) = (first, &mut *v) {
        let child = m.entry(k.clone()).or_insert(Value::Object(Map::new()));
        set(child, rest, new);
    }
}

/// What to do with two sequences at a path.
enum SeqRule {
    Replace,
    Append,
    /// Append, replacing entries of `base` that have the same key.
    ByKey(fn(&Value) -> String),
}

fn rule(path: &Path) -> SeqRule {
    let segs = path.segs();
    let key = |i: usize| match segs.get(i) {
        Some(Seg::Key(k)) => k.as_str(),
        _ => "",
    };
    if key(0) == "networks" && segs.len() == 4 && key(2) == "ipam" && key(3) == "config" {
        return SeqRule::Replace;
    }
    if key(0) != "services" || segs.len() < 3 {
        return SeqRule::Append;
    }
    match (segs.len(), key(2), key(3)) {
        (3, "command" | "entrypoint", _) => SeqRule::Replace,
        // Appended; a repeated entry is then an error (`validate::unique`).
        (3, "security_opt" | "volumes_from" | "group_add", _) => SeqRule::Append,
        (4, "healthcheck", "test") => SeqRule::Replace,
        (3, "ports", _) => SeqRule::ByKey(|v| {
            format!(
                "{}:{}:{}:{}",
                v.get("host_ip").map(Value::to_string).unwrap_or_default(),
                v.get("published").map(Value::to_string).unwrap_or_default(),
                v.get("target").map(Value::to_string).unwrap_or_default(),
                v.get("protocol").map(Value::to_string).unwrap_or_default()
            )
        }),
        (3, "volumes", _) => SeqRule::ByKey(|v| match v.get("target") {
            Some(t) => t.to_string(),
            None => v.to_string(),
        }),
        (3, "devices", _) => SeqRule::ByKey(device_target),
        (3, "secrets" | "configs", _) => SeqRule::ByKey(|v| match v.get("target") {
            Some(t) => t.to_string(),
            None => v.get("source").map(Value::to_string).unwrap_or_default(),
        }),
        _ => SeqRule::ByKey(scalar_key),
    }
}

/// Entries compared by value, numbers and strings alike (`expose: [80]` and `["80"]`).
fn scalar_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => super::canonical::number_text(n),
        other => other.to_string(),
    }
}

/// A device's path in the container: `target`, or the second field of `HOST:CONTAINER[:PERMS]`.
fn device_target(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let mut parts = s.split(':');
            let host = parts.next().unwrap_or_default();
            parts.next().unwrap_or(host).to_string()
        }
        other => match other.get("target") {
            Some(t) => scalar_key(t),
            None => other.to_string(),
        },
    }
}

/// Whether two `logging` mappings name different drivers: then the options do not carry over.
fn other_driver(b: &Map<String, Value>, o: &Map<String, Value>, path: &Path) -> bool {
    let segs = path.segs();
    let is_logging = segs.len() == 3
        && segs[0] == Seg::Key("services".into())
        && segs[2] == Seg::Key("logging".into());
    match (b.get("driver"), o.get("driver")) {
        (Some(x), Some(y)) => is_logging && x != y,
        _ => false,
    }
}

/// Whether a null at `path` replaces the value of earlier files: entries of `environment` and
/// `build.args`.
fn null_overrides(path: &Path) -> bool {
    let segs = path.segs();
    let parent = segs.len().checked_sub(2).and_then(|i| segs.get(i));
    matches!(parent, Some(Seg::Key(k)) if k == "environment" || k == "args")
}

/// `logging` with another driver replaces the earlier one whole (its options are the old
/// driver's).
fn other_logging_driver(base: &Value, over: &Value, path: &Path) -> bool {
    let segs = path.segs();
    let is_logging = segs.len() == 3
        && matches!(&segs[0], Seg::Key(k) if k == "services")
        && matches!(&segs[2], Seg::Key(k) if k == "logging");
    let driver = |v: &Value| v.get("driver").and_then(Value::as_str).map(str::to_string);
    is_logging && driver(over).is_some() && driver(base) != driver(over)
}

fn merge_at(base: &mut Value, over: Value, path: &mut Path, raw: bool) {
    if raw && !over.is_null() && to_sequence(path) {
        let mut seq = as_sequence(std::mem::take(base));
        let extra_hosts = matches!(path.segs().last(), Some(Seg::Key(k)) if k == "extra_hosts");
        for item in as_sequence(over) {
            // Repeated host entries are merged away.
            if !(extra_hosts && seq.contains(&item)) {
                seq.push(item);
            }
        }
        *base = Value::Array(seq);
        return;
    }
    if other_logging_driver(base, &over, path) {
        *base = over;
        return;
    }
    match (base, over) {
        (Value::Object(b), Value::Object(o)) if other_driver(b, &o, path) => *b = o,
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                path.push(Seg::Key(k.clone()));
                match b.get_mut(&k) {
                    Some(existing) if !v.is_null() => merge_at(existing, v, path, raw),
                    // `- KEY` in a later file unsets a variable's value (taken from the
                    // environment again).
                    Some(existing) if null_overrides(path) => *existing = v,
                    Some(_) => {}
                    None => {
                        b.insert(k, v);
                    }
                }
                path.pop();
            }
        }
        (Value::Array(b), Value::Array(o)) => match rule(path) {
            SeqRule::Replace => *b = o,
            SeqRule::Append => b.extend(o),
            SeqRule::ByKey(key) => {
                for item in o {
                    let k = key(&item);
                    if let Some(pos) = b.iter().position(|x| key(x) == k) {
                        b[pos] = item;
                    } else {
                        b.push(item);
                    }
                }
            }
        },
        (b, o) => *b = o,
    }
}

/// compose-go's `EnforceUnicity`, once the files are merged: in these lists an entry that repeats
/// an earlier one's key replaces it in its place (`dns: [a, a]` is `[a]`; `"82:82"` and
/// `"0.0.0.0:82:82"` are one port, the later).
pub(super) fn unicity(tree: &mut Value) {
    let Some(Value::Object(services)) = tree.get_mut("services") else {
        return;
    };
    for svc in services.values_mut() {
        let Value::Object(s) = svc else { continue };
        for key in [
            "dns",
            "dns_opt",
            "dns_search",
            "profiles",
            "links",
            "tmpfs",
            "expose",
            "cap_add",
            "cap_drop",
        ] {
            dedup(s.get_mut(key), scalar_key);
        }
        dedup(s.get_mut("ports"), port_key);
        dedup(s.get_mut("volumes"), |v| match v.get("target") {
            Some(t) => scalar_key(t),
            None => v.to_string(),
        });
        // Lists of `KEY=VALUE` (as written: typed, they are mappings).
        for key in ["environment", "labels", "annotations", "sysctls"] {
            dedup(s.get_mut(key), key_of_pair);
        }
        dedup(s.get_mut("devices"), device_target);
        dedup(s.get_mut("secrets"), |v| mount_key(v, "/run/secrets/"));
        dedup(s.get_mut("configs"), |v| mount_key(v, ""));
        if let Some(Value::Object(b)) = s.get_mut("build") {
            dedup(b.get_mut("tags"), scalar_key);
            dedup(b.get_mut("args"), key_of_pair);
            dedup(b.get_mut("labels"), key_of_pair);
        }
        if let Some(Value::Object(nets)) = s.get_mut("networks") {
            for net in nets.values_mut() {
                if let Value::Object(n) = net {
                    dedup(n.get_mut("aliases"), scalar_key);
                    dedup(n.get_mut("link_local_ips"), scalar_key);
                }
            }
        }
    }
}

fn dedup(list: Option<&mut Value>, key: fn(&Value) -> String) {
    let Some(Value::Array(items)) = list else {
        return;
    };
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    let mut keys: Vec<String> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        let k = key(&item);
        match keys.iter().position(|x| *x == k) {
            Some(i) => out[i] = item,
            None => {
                keys.push(k);
                out.push(item);
            }
        }
    }
    *items = out;
}

/// The key of a `KEY=VALUE` entry.
fn key_of_pair(v: &Value) -> String {
    let text = scalar_key(v);
    match text.split_once('=') {
        Some((k, _)) => k.to_string(),
        None => text,
    }
}

/// A port's key: host IP (`0.0.0.0` when none), published port, target, protocol and mode.
fn port_key(v: &Value) -> String {
    let Value::Object(m) = v else {
        return scalar_key(v);
    };
    let text = |k: &str, default: &str| m.get(k).map_or(default.to_string(), scalar_key);
    format!(
        "{}:{}:{}/{}/{}",
        text("host_ip", "0.0.0.0"),
        text("published", ""),
        text("target", ""),
        text("protocol", "tcp"),
        text("mode", "ingress")
    )
}

/// A secret's or config's key: its target (`prefix` + source when none).
fn mount_key(v: &Value, prefix: &str) -> String {
    match v {
        Value::Object(m) => match (m.get("target"), m.get("source")) {
            (Some(t), _) => scalar_key(t),
            (None, Some(s)) => format!("{prefix}{}", scalar_key(s)),
            (None, None) => v.to_string(),
        },
        other => format!("{prefix}{}", scalar_key(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unicity_keeps_the_later_entry_in_the_first_place() {
        let mut t = json!({"services": {"a": {
            "dns": ["a", "b", "a"],
            "expose": ["1", 1, "1/tcp"],
            "ports": [
                {"mode": "ingress", "target": 82, "published": "82", "protocol": "tcp"},
                {"mode": "ingress", "target": 82, "protocol": "tcp"},
                {"mode": "ingress", "host_ip": "0.0.0.0", "target": 82, "published": "82", "protocol": "tcp"},
                {"mode": "host", "target": 82, "published": "82", "protocol": "tcp"}
            ],
            "secrets": [{"source": "s", "target": "/run/secrets/s"}, {"source": "s"}],
            "networks": {"n": {"aliases": ["x", "x"]}}
        }}});
        unicity(&mut t);
        let a = &t["services"]["a"];
        assert_eq!(a["dns"], json!(["a", "b"]));
        assert_eq!(a["expose"], json!([1, "1/tcp"]));
        assert_eq!(a["ports"].as_array().map(Vec::len), Some(3));
        assert_eq!(a["ports"][0]["host_ip"], "0.0.0.0");
        assert_eq!(a["secrets"], json!([{"source": "s"}]));
        assert_eq!(a["networks"]["n"]["aliases"], json!(["x"]));
    }

    #[test]
    fn rules() {
        let mut base = json!({"services": {"web": {
            "command": ["a"], "environment": {"A": "1", "B": "2"},
            "ports": [{"target": 80, "published": "8080", "protocol": "tcp"}],
            "dns": ["1.1.1.1"]
        }}});
        let over = json!({"services": {"web": {
            "command": ["b"], "environment": {"B": "3"},
            "ports": [{"target": 80, "published": "8080", "protocol": "tcp", "host_ip": "127.0.0.1"}],
            "dns": ["1.1.1.1", "9.9.9.9"]
        }}});
        merge(&mut base, over, &[]);
        let web = &base["services"]["web"];
        assert_eq!(web["command"], json!(["b"]));
        assert_eq!(web["environment"], json!({"A": "1", "B": "3"}));
        assert_eq!(web["ports"].as_array().unwrap().len(), 2);
        assert_eq!(web["dns"], json!(["1.1.1.1", "9.9.9.9"]));
    }

    #[test]
    fn special_cases() {
        let mut base = json!({
            "services": {"web": {
                "environment": {"A": "1"},
                "logging": {"driver": "json-file", "options": {"max-size": "1m"}},
                "security_opt": ["a"]
            }},
            "networks": {"n": {"ipam": {"config": [{"subnet": "10.0.0.0/24"}]}}}
        });
        let over = json!({
            "services": {"web": {
                "environment": {"A": null},
                "logging": {"driver": "syslog"},
                "security_opt": ["a"]
            }},
            "networks": {"n": {"ipam": {"config": [{"subnet": "10.0.1.0/24"}]}}}
        });
        merge(&mut base, over, &[]);
        let web = &base["services"]["web"];
        assert_eq!(web["environment"], json!({"A": null}));
        assert_eq!(web["logging"], json!({"driver": "syslog"}));
        assert_eq!(web["security_opt"], json!(["a", "a"]));
        assert_eq!(
            base["networks"]["n"]["ipam"]["config"],
            json!([{"subnet": "10.0.1.0/24"}])
        );
    }

    #[test]
    fn expose_devices_and_logging() {
        let mut base = json!({"services": {"web": {
            "expose": [80], "devices": ["/dev/a:/dev/x"],
            "logging": {"driver": "json-file", "options": {"max-size": "1m"}}
        }}});
        let over = json!({"services": {"web": {
            "expose": ["80", "81"], "devices": ["/dev/b:/dev/x:r"],
            "logging": {"driver": "syslog", "options": {"tag": "t"}}
        }}});
        merge(&mut base, over, &[]);
        let web = &base["services"]["web"];
        assert_eq!(web["expose"], json!(["80", "81"]));
        assert_eq!(web["devices"], json!(["/dev/b:/dev/x:r"]));
        assert_eq!(
            web["logging"],
            json!({"driver": "syslog", "options": {"tag": "t"}})
        );
    }

    #[test]
    fn reset_and_override() {
        let mut base =
            json!({"services": {"web": {"ports": [{"target": 1}], "labels": {"a": "1"}}}});
        let over = json!({"services": {"web": {"ports": [], "labels": {"b": "2"}}}});
        let tags = vec![
            Tag::Reset(Path::parse("services.web.ports")),
            Tag::Override(Path::parse("services.web.labels")),
        ];
        merge(&mut base, over, &tags);
        assert_eq!(base, json!({"services": {"web": {"labels": {"b": "2"}}}}));
    }
}
