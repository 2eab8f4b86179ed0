//! Deserializers for scalars that interpolation may have turned into strings (`cpus: "${CPUS}"`),
//! accepted in both forms as docker compose does.

use indexmap::IndexMap;
use serde::de::Error;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Value::deserialize(d)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

pub(super) fn is_false(b: &bool) -> bool {
    !*b
}

pub(super) fn is_none_or_false(b: &Option<bool>) -> bool {
    *b != Some(true)
}

/// A file mode written as docker compose prints it: an octal string (`"0440"`).
pub(super) fn octal<S: serde::Serializer>(mode: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match mode {
        Some(m) => s.serialize_str(&format!("0{m:o}")),
        None => s.serialize_none(),
    }
}

/// The reference refuses an empty string where a boolean or a number is expected, typically
/// `${UNSET}` interpolated to nothing.
fn empty<E: Error>(what: &str) -> E {
    E::custom(format!(
        "expected {what}, found an empty string (is a variable unset?)"
    ))
}

fn to_bool<E: Error>(v: &Value) -> Result<bool, E> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.is_empty() => Err(empty("a boolean")),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" => Ok(true),
            "false" | "no" | "n" | "off" => Ok(false),
            _ => Err(E::custom(format!("expected a boolean, found `{s}`"))),
        },
        other => Err(E::custom(format!(
            "expected a boolean, found {}",
            type_name(other)
        ))),
    }
}

pub(super) fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = scalar(d)?;
    if v.is_null() {
        return Ok(false);
    }
    to_bool(&v)
}

pub(super) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v = scalar(d)?;
    if v.is_null() {
        return Ok(None);
    }
    to_bool(&v).map(Some)
}

fn to_f64<E: Error>(v: &Value) -> Result<f64, E> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| E::custom("expected a number")),
        Value::String(s) if s.trim().is_empty() => Err(empty("a number")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| E::custom(format!("expected a number, found `{s}`"))),
        other => Err(E::custom(format!(
            "expected a number, found {}",
            type_name(other)
        ))),
    }
}

pub(super) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = scalar(d)?;
    if v.is_null() {
        return Ok(None);
    }
    to_f64(&v).map(Some)
}

fn to_i64<E: Error>(v: &Value) -> Result<i64, E> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| E::custom(format!("expected a whole number, found {n}"))),
        Value::String(s) if s.trim().is_empty() => Err(empty("a whole number")),
        Value::String(s) => {
            let t = s.trim();
            // Modes are often written in octal (`0644`, `0o644`).
            if let Some(oct) = t.strip_prefix("0o") {
                return i64::from_str_radix(oct, 8)
                    .map_err(|_| E::custom(format!("expected a whole number, found `{s}`")));
            }
            t.parse()
                .map_err(|_| E::custom(format!("expected a whole number, found `{s}`")))
        }
        other => Err(E::custom(format!(
            "expected a whole number, found {}",
            type_name(other)
        ))),
    }
}

pub(super) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = scalar(d)?;
    if v.is_null() {
        return Ok(None);
    }
    to_i64(&v).map(Some)
}

/// A file mode: a number, or a string read as octal like the reference (`"0440"`, `"0o440"`).
pub(super) fn opt_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = scalar(d)?;
    match &v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix("0o").unwrap_or(t);
            i64::from_str_radix(digits, 8)
                .map(Some)
                .map_err(|_| D::Error::custom(format!("expected an octal file mode, found `{s}`")))
        }
        _ => to_i64(&v).map(Some),
    }
}

pub(super) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match opt_i64(d)? {
        Some(n) if n < 0 => Err(D::Error::custom(format!(
            "expected a positive whole number, found {n}"
        ))),
        Some(n) => Ok(Some(n as u64)),
        None => Ok(None),
    }
}

pub(super) fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    opt_u64(d)?.ok_or_else(|| D::Error::custom("expected a positive whole number, found null"))
}

fn to_string<E: Error>(v: &Value) -> Result<String, E> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(super::canonical::number_text(n)),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(E::custom(format!(
            "expected a string, found {}",
            type_name(other)
        ))),
    }
}

pub(super) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = scalar(d)?;
    if v.is_null() {
        return Ok(None);
    }
    to_string(&v).map(Some)
}

/// A secret's `uid` / `gid`, a number or text.
pub(super) fn opt_owner<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<super::model::Owner>, D::Error> {
    opt_string(d)?
        .map(|s| super::canonical::owner(&s))
        .transpose()
        .map_err(D::Error::custom)
}

/// A list of scalars, each read as a string.
pub(super) fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = scalar(d)?;
    match v {
        Value::Null => Ok(vec![]),
        Value::Array(items) => items.iter().map(to_string).collect(),
        other => Err(D::Error::custom(format!(
            "expected a list, found {}",
            type_name(&other)
        ))),
    }
}

/// A mapping whose values are scalars, each read as a string.
pub(super) fn string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<IndexMap<String, String>, D::Error> {
    let v = scalar(d)?;
    match v {
        Value::Null => Ok(IndexMap::new()),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), to_string(v)?)))
            .collect(),
        other => Err(D::Error::custom(format!(
            "expected a mapping, found {}",
            type_name(&other)
        ))),
    }
}
