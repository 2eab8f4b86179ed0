//! The project as `config` prints it: the canonical model in docker compose's shape.
//!
//! The model is turned into a JSON tree, then [`shape`] orders it as the reference does (Go
//! struct fields in declaration order, map keys sorted; the rules are documented there), and
//! [`super::emit`] writes it as Go's JSON or go-yaml's YAML. The config hash hashes the same tree
//! ([`service`]), so `config` and the hash cannot disagree.

use serde_json::{json, Map, Value};

use super::model::{Project, Service};
use super::shape;

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
        Value::Object(m) if m.keys().any(|k| k.contains('$')) => {
            let old = std::mem::take(m);
            for (k, mut val) in old {
                escape_dollars(&mut val);
                m.insert(k.replace('$', "$$"), val);
            }
        }
        Value::Object(m) => m.values_mut().for_each(escape_dollars),
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
        // `x-` content keeps its floats as go-yaml read them (`1234567.0` prints `1.234567e+06`).
        Value::Object(m) => m
            .iter_mut()
            .filter(|(k, _)| !k.starts_with("x-"))
            .for_each(|(_, v)| whole_numbers(v)),
        _ => {}
    }
}

/// A ulimit of 0 is compose-go's soft/hard pair (its single form is only for a non-zero
/// number), whose zeros JSON leaves out (`"core": {}`) and YAML prints.
fn zero_ulimits(ulimits: Option<&mut Value>, flavour: Flavour) {
    let Some(Value::Object(u)) = ulimits else {
        return;
    };
    for v in u.values_mut() {
        if v.as_i64() == Some(0) {
            *v = json!({"soft": 0, "hard": 0});
        }
        if let (Value::Object(pair), Flavour::Json) = (&mut *v, flavour) {
            pair.retain(|_, n| n.as_i64() != Some(0));
        }
    }
}

/// One service as `config` prints it (keys in the reference's order for `flavour`).
pub fn service(svc: &Service, flavour: Flavour) -> Value {
    let mut v = serde_json::to_value(svc).unwrap_or(Value::Null);
    if let Value::Object(s) = &mut v {
        zero_ulimits(s.get_mut("ulimits"), flavour);
        if let Some(Value::Object(b)) = s.get_mut("build") {
            zero_ulimits(b.get_mut("ulimits"), flavour);
        }
        drop_empty_strings(s);
        for part in ["build", "healthcheck", "logging"] {
            if let Some(Value::Object(m)) = s.get_mut(part) {
                drop_empty_strings(m);
            }
        }
    }
    whole_numbers(&mut v);
    shape::apply(&mut v, shape::Kind::Struct(shape::SERVICE), flavour);
    v
}

/// The whole project as a tree, keys in the reference's order for `flavour`.
pub fn project(p: &Project, flavour: Flavour) -> Value {
    let mut root = Map::new();
    root.insert("name".into(), json!(p.name));
    // Each service is shaped once, by `service`; the root is shaped with `services` still empty.
    let mut services: Vec<(String, Value)> = p
        .services
        .iter()
        .map(|(name, svc)| (name.clone(), service(svc, flavour)))
        .collect();
    shape::sort_keys(&mut services, flavour);
    root.insert("services".into(), Value::Object(Map::new()));
    if !p.networks.is_empty() {
        root.insert("networks".into(), section(&p.networks, drop_empty_strings));
    }
    if !p.volumes.is_empty() {
        root.insert("volumes".into(), section(&p.volumes, drop_empty_strings));
    }
    if !p.secrets.is_empty() {
        root.insert("secrets".into(), section(&p.secrets, drop_empty_strings));
    }
    if !p.configs.is_empty() {
        root.insert("configs".into(), section(&p.configs, drop_empty_strings));
    }
    // Top-level models: in YAML only (the reference's JSON leaves them out).
    if !p.models.is_empty() && flavour == Flavour::Yaml {
        root.insert("models".into(), section(&p.models, |_| {}));
    }
    for (k, v) in &p.extensions {
        root.insert(k.clone(), v.clone());
    }
    let mut root = Value::Object(root);
    whole_numbers(&mut root);
    shape::project(&mut root, flavour);
    if let Some(Value::Object(m)) = root.get_mut("services") {
        m.extend(services);
    }
    root
}
