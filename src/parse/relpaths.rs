//! Relative host paths that the long-syntax pass leaves alone (`env_file`, `label_file`, the
//! `file` of top-level secrets and configs) made absolute against a folder, so that a tree
//! loaded from another folder (`extends.file`, `include`) keeps pointing at the right files.

use serde_json::Value;
use std::path::Path as FsPath;

use super::canonical::absolute;

/// Rewrites the relative paths of `tree` against `dir`.
pub(super) fn absolutize(tree: &mut Value, dir: &FsPath) {
    let Value::Object(root) = tree else { return };
    if let Some(Value::Object(services)) = root.get_mut("services") {
        for svc in services.values_mut() {
            let Value::Object(s) = svc else { continue };
            if let Some(list) = s.get_mut("env_file") {
                for_each_entry(list, |entry| match entry {
                    Value::String(p) => *p = absolute(p, dir),
                    Value::Object(o) => {
                        if let Some(Value::String(p)) = o.get_mut("path") {
                            *p = absolute(p, dir);
                        }
                    }
                    _ => {}
                });
            }
            if let Some(list) = s.get_mut("label_file") {
                for_each_entry(list, |entry| {
                    if let Value::String(p) = entry {
                        *p = absolute(p, dir);
                    }
                });
            }
        }
    }
    if let Some(Value::Object(volumes)) = root.get_mut("volumes") {
        for def in volumes.values_mut() {
            bind_device(def, dir);
        }
    }
    for kind in ["secrets", "configs"] {
        let Some(Value::Object(section)) = root.get_mut(kind) else {
            continue;
        };
        for def in section.values_mut() {
            if let Some(Value::String(f)) = def.get_mut("file") {
                *f = absolute(f, dir);
            }
        }
    }
}

/// The `driver_opts.device` of a volume of the `local` driver mounted with `o: bind` is a host
/// path: made absolute, as the reference does (only when the driver is named).
fn bind_device(def: &mut Value, dir: &FsPath) {
    if def.get("driver").and_then(Value::as_str) != Some("local") {
        return;
    }
    let Some(Value::Object(opts)) = def.get_mut("driver_opts") else {
        return;
    };
    let bind = opts
        .get("o")
        .and_then(Value::as_str)
        .is_some_and(|o| o.split(',').any(|w| w.trim() == "bind"));
    if let (true, Some(Value::String(d))) = (bind, opts.get_mut("device")) {
        *d = absolute(d, dir);
    }
}

/// Calls `f` on a single value or on each entry of a list.
fn for_each_entry(v: &mut Value, mut f: impl FnMut(&mut Value)) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(f),
        other => f(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rewrites_relative_paths_only() {
        let mut t = json!({
            "services": {"a": {
                "env_file": ["a.env", {"path": "../b.env", "required": false}, "/abs.env"],
                "label_file": "labels"
            }},
            "secrets": {"s": {"file": "./s.txt"}, "e": {"environment": "X"}}
        });
        absolutize(&mut t, FsPath::new("/p/sub"));
        assert_eq!(
            t["services"]["a"]["env_file"],
            json!(["/p/sub/a.env", {"path": "/p/b.env", "required": false}, "/abs.env"])
        );
        assert_eq!(t["services"]["a"]["label_file"], json!("/p/sub/labels"));
        assert_eq!(t["secrets"]["s"]["file"], json!("/p/sub/s.txt"));
        assert_eq!(t["secrets"]["e"], json!({"environment": "X"}));
    }
}
