//! Merging canonical trees of several files: mappings merge, scalars are replaced, and sequences
//! follow the specification's rules (some replace, some append, some merge by a key).

use serde_json::{Map, Value};

use super::path::{Path, Seg};
use super::yaml::Tag;

/// Merges `over` into `base`, applying the `!reset` / `!override` tags of `over`.
pub fn merge(base: &mut Value, mut over: Value, tags: &[Tag]) {
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
    merge_at(base, over, &mut Path::root());
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
        Value::Number(n) => n.to_string(),
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

fn merge_at(base: &mut Value, over: Value, path: &mut Path) {
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
                    Some(existing) if !v.is_null() => merge_at(existing, v, path),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
