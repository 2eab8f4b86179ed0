//! The project as `config` prints it: the canonical model in docker compose's shape.

use serde_json::{json, Map, Value};

use super::model::Project;

/// Output flavour: JSON carries a few keys YAML leaves out (`command: null`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Json,
    Yaml,
}

fn section<T: serde::Serialize>(
    items: &indexmap::IndexMap<String, T>,
    fix: impl Fn(&mut Map<String, Value>),
) -> Value {
    let mut out = Map::new();
    let mut keys: Vec<&String> = items.keys().collect();
    keys.sort();
    for k in keys {
        let mut v = serde_json::to_value(&items[k]).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            fix(m);
        }
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// Empty strings are left out, as unset (docker compose's `omitempty`).
fn drop_empty_strings(m: &mut Map<String, Value>) {
    m.retain(|_, v| v.as_str() != Some(""));
}

/// Doubles every `$` in keys and strings, so the output reads back to the same values (what
/// docker compose prints unless interpolation is off).
pub fn escape_dollars(v: &mut Value) {
    match v {
        Value::String(s) if s.contains('$') => *s = s.replace('$', "$$"),
        Value::Array(items) => items.iter_mut().for_each(escape_dollars),
        Value::Object(m) => {
            let old = std::mem::take(m);
            for (k, mut val) in old {
                escape_dollars(&mut val);
                m.insert(k.replace('$', "$$"), val);
            }
        }
        _ => {}
    }
}

/// Whole floats as integers: docker compose (Go) prints `cpus: 1`, never `1.0`.
fn whole_numbers(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                if f.fract() == 0.0 && f.abs() < 9e15 {
                    *v = json!(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(m) => m.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// The whole project as a tree.
pub fn project(p: &Project, flavour: Flavour) -> Value {
    let mut parts: Vec<(&str, Value)> = Vec::new();
    let services = section(&p.services, |s| {
        drop_empty_strings(s);
        for part in ["build", "healthcheck", "logging"] {
            if let Some(Value::Object(m)) = s.get_mut(part) {
                drop_empty_strings(m);
            }
        }
        if flavour == Flavour::Json {
            // Service extensions are YAML-only in docker compose's output.
            s.retain(|k, _| !k.starts_with("x-"));
            s.entry("command").or_insert(Value::Null);
            s.entry("entrypoint").or_insert(Value::Null);
        }
        if let Some(Value::Object(d)) = s.get_mut("deploy") {
            d.entry("resources").or_insert(json!({}));
            d.entry("placement").or_insert(json!({}));
        }
    });
    parts.push(("services", services));
    if !p.networks.is_empty() {
        parts.push((
            "networks",
            section(&p.networks, |n| {
                drop_empty_strings(n);
                n.entry("ipam").or_insert(json!({}));
            }),
        ));
    }
    if !p.volumes.is_empty() {
        parts.push(("volumes", section(&p.volumes, drop_empty_strings)));
    }
    if !p.secrets.is_empty() {
        parts.push(("secrets", section(&p.secrets, drop_empty_strings)));
    }
    if !p.configs.is_empty() {
        parts.push(("configs", section(&p.configs, drop_empty_strings)));
    }
    if flavour == Flavour::Json {
        parts.sort_by(|a, b| a.0.cmp(b.0));
    }
    let mut root = Map::new();
    root.insert("name".into(), json!(p.name));
    for (k, v) in parts {
        root.insert(k.into(), v);
    }
    for (k, v) in &p.extensions {
        root.insert(k.clone(), v.clone());
    }
    let mut root = Value::Object(root);
    whole_numbers(&mut root);
    root
}
