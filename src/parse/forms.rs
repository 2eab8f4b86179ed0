//! Normal forms of service attributes the typed model keeps as read (`models`, `gpus`, device
//! requests, `develop`, `build.ssh`, `blkio_config`, `provider`...), and the checks the reference
//! makes on them. Each function takes one service of one file, before merging.

use serde_json::{json, Map, Value};
use std::path::Path as FsPath;

use super::canonical::{self, kind};
use super::path::Path;
use super::units::Bytes;

/// A problem at a path: the message and a hint.
pub(super) type Problem = (Path, String, Option<String>);

fn problem(p: Path, msg: impl Into<String>, hint: &str) -> Problem {
    (p, msg.into(), Some(hint.to_string()))
}

/// Applies every normal form to service `s` (at `sp`), paths resolved against `base`.
pub(super) fn service(s: &mut Map<String, Value>, sp: &Path, base: &FsPath) -> Result<(), Problem> {
    if let Some(v) = s.get_mut("models") {
        *v = names_to_mapping(v).map_err(|m| (sp.key("models"), m, None))?;
    }
    if let Some(v) = s.get_mut("gpus") {
        *v = gpus(v, &sp.key("gpus"))?;
    }
    if let Some(Value::Object(d)) = s.get_mut("deploy") {
        deploy(d, &sp.key("deploy"))?;
    }
    if let Some(Value::Object(d)) = s.get_mut("develop") {
        develop(d, &sp.key("develop"), base)?;
    }
    if let Some(Value::Object(b)) = s.get_mut("build") {
        build(b, &sp.key("build"), base)?;
    }
    if let Some(Value::Object(b)) = s.get_mut("blkio_config") {
        blkio(b, &sp.key("blkio_config"))?;
    }
    if let Some(Value::Object(p)) = s.get_mut("provider") {
        provider(p, &sp.key("provider"))?;
    }
    integers(s, sp)?;
    // Zero is no value for these (the reference's `omitempty`): neither printed nor applied.
    for key in ZERO_IS_UNSET {
        let zero = match s.get(*key) {
            Some(Value::Number(n)) => n.as_f64() == Some(0.0),
            Some(Value::String(t)) => t.trim() == "0",
            _ => false,
        };
        if zero {
            s.shift_remove(*key);
        }
    }
    if let Some(Value::Array(dns)) = s.get_mut("dns") {
        // An empty entry (`dns: ["", 8.8.8.8]`, or an unset variable) is left out.
        dns.retain(|d| d.as_str() != Some(""));
    }
    Ok(())
}

/// Numeric service attributes whose zero the reference leaves out.
const ZERO_IS_UNSET: &[&str] = &[
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "oom_score_adj",
    "pids_limit",
    "shm_size",
];

/// Whole-number attributes: `true` when the reference truncates a fraction (`cpu_period: 1.5`
/// is 1), `false` when it refuses one.
const INTEGERS: &[(&str, bool)] = &[
    ("cpu_count", false),
    ("cpu_percent", false),
    ("oom_score_adj", false),
    ("mem_swappiness", false),
    ("cpu_period", true),
    ("cpu_quota", true),
    ("cpu_rt_period", true),
    ("cpu_rt_runtime", true),
    ("cpu_shares", true),
    ("pids_limit", true),
];

/// Whole-number attributes as numbers: text (`"5"`, often interpolated) read, fractions
/// truncated or refused as the reference does.
fn integers(s: &mut Map<String, Value>, sp: &Path) -> Result<(), Problem> {
    for (key, truncate) in INTEGERS {
        let Some(v) = s.get_mut(*key) else { continue };
        let n = match &*v {
            Value::Number(n) if n.is_i64() || n.is_u64() => continue,
            Value::Number(n) if *truncate => n.as_f64().map(|f| f.trunc() as i64),
            Value::String(t) => t.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            // mem_swappiness stays text (the reference prints it so).
            Some(n) if *key == "mem_swappiness" => *v = json!(n.to_string()),
            Some(n) => *v = json!(n),
            None => {
                return Err(problem(
                    sp.key(key),
                    format!("`{key}` must be a whole number, found {v}"),
                    "write it without a fraction or unit, e.g. 512",
                ))
            }
        }
    }
    Ok(())
}

/// `[a, b]` as `{a: null, b: null}`; a mapping as it is.
pub(super) fn names_to_mapping(v: &Value) -> Result<Value, String> {
    match v {
        Value::Null => Ok(json!({})),
        Value::Object(_) => Ok(v.clone()),
        Value::Array(items) => {
            let mut out = Map::new();
            for i in items {
                let Value::String(name) = i else {
                    return Err(format!("expected names in the list, found {}", kind(i)));
                };
                out.insert(name.clone(), Value::Null);
            }
            Ok(Value::Object(out))
        }
        other => Err(format!(
            "expected a list of names or a mapping, found {}",
            kind(other)
        )),
    }
}

/// A device request's `count`: `all` is -1, numbers stay numbers, absent is -1 unless
/// `device_ids` are given.
fn device_count(m: &mut Map<String, Value>, p: &Path) -> Result<(), Problem> {
    let count = match m.get("count") {
        None | Some(Value::Null) => {
            if m.contains_key("device_ids") {
                return Ok(());
            }
            -1
        }
        Some(Value::Number(n)) => match n.as_i64() {
            Some(n) => n,
            None => {
                return Err(problem(
                    p.key("count"),
                    format!("`count` must be a whole number or `all`, found {n}"),
                    "write count: all or count: 1",
                ))
            }
        },
        Some(Value::String(s)) if s == "all" => -1,
        Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| {
            problem(
                p.key("count"),
                format!("`count` must be a whole number or `all`, found `{s}`"),
                "write count: all or count: 1",
            )
        })?,
        Some(other) => {
            return Err(problem(
                p.key("count"),
                format!(
                    "`count` must be a whole number or `all`, found {}",
                    kind(other)
                ),
                "write count: all or count: 1",
            ))
        }
    };
    if m.contains_key("device_ids") && m.contains_key("count") {
        return Err(problem(
            p.clone(),
            "`count` and `device_ids` cannot both be set",
            "keep one of them: count asks for any N devices, device_ids for these ones",
        ));
    }
    m.insert("count".into(), json!(count));
    Ok(())
}

/// `gpus: all`, or a list of device requests.
fn gpus(v: &Value, p: &Path) -> Result<Value, Problem> {
    match v {
        Value::String(s) if s == "all" => Ok(json!([{"count": -1}])),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let Value::Object(m) = item else {
                    return Err(problem(
                        p.index(i),
                        format!("expected a device request mapping, found {}", kind(item)),
                        "write - count: all",
                    ));
                };
                // The reference drops what a device request does not have.
                let mut m = m.clone();
                m.retain(|k, _| {
                    matches!(
                        k.as_str(),
                        "capabilities" | "count" | "device_ids" | "driver" | "options"
                    )
                });
                device_count(&mut m, &p.index(i))?;
                out.push(Value::Object(m));
            }
            Ok(Value::Array(out))
        }
        other => Err(problem(
            p.clone(),
            format!(
                "expected `all` or a list of device requests, found {}",
                kind(other)
            ),
            "write gpus: all",
        )),
    }
}

/// `deploy`: `labels` as a mapping; device reservations with a `count` and `capabilities`.
fn deploy(d: &mut Map<String, Value>, p: &Path) -> Result<(), Problem> {
    if let Some(l) = d.get_mut("labels") {
        *l = canonical::key_values(l, false).map_err(|m| (p.key("labels"), m, None))?;
    }
    // Swarm-only update/rollback settings: their durations as Go prints them (`60s` is `1m0s`).
    for part in ["update_config", "rollback_config"] {
        let Some(Value::Object(c)) = d.get_mut(part) else {
            continue;
        };
        for key in ["delay", "monitor"] {
            if let Some(Value::String(text)) = c.get(key) {
                let parsed = crate::parse::units::Duration::parse(text)
                    .map_err(|m| (p.key(part).key(key), m, None))?;
                if parsed.0 == 0 {
                    // A zero duration is left out (`omitempty`).
                    c.remove(key);
                } else {
                    c.insert(key.to_string(), Value::String(parsed.to_string()));
                }
            }
        }
    }
    let dp = p.key("resources").key("reservations").key("devices");
    let Some(Value::Array(devices)) = d
        .get_mut("resources")
        .and_then(|r| r.get_mut("reservations"))
        .and_then(|r| r.get_mut("devices"))
    else {
        return Ok(());
    };
    for (i, dev) in devices.iter_mut().enumerate() {
        let Value::Object(m) = dev else { continue };
        if !m.contains_key("capabilities") {
            return Err(problem(
                dp.index(i),
                "a device reservation needs `capabilities`",
                "add capabilities: [gpu]",
            ));
        }
        device_count(m, &dp.index(i))?;
        // `options` is a map of strings (`virtualization: false` prints "false").
        if let Some(o) = m.get_mut("options") {
            *o = canonical::key_values(o, false)
                .map_err(|msg| (dp.index(i).key("options"), msg, None))?;
        }
    }
    Ok(())
}

/// `develop.watch` rules: an `action`, the path absolute, `include`/`ignore` as lists,
/// `exec.command` split like `command`, `exec.environment` as a mapping.
fn develop(d: &mut Map<String, Value>, p: &Path, base: &FsPath) -> Result<(), Problem> {
    let Some(Value::Array(watch)) = d.get_mut("watch") else {
        return Ok(());
    };
    for (i, w) in watch.iter_mut().enumerate() {
        let wp = p.key("watch").index(i);
        let Value::Object(w) = w else {
            return Err(problem(
                wp,
                format!("expected a watch rule mapping, found {}", kind(w)),
                "write - path: ./src\n    action: sync",
            ));
        };
        const ACTIONS: &[&str] = &["rebuild", "sync", "restart", "sync+restart", "sync+exec"];
        match w.get("action") {
            None => {
                return Err(problem(
                    wp,
                    "the watch rule has no `action`",
                    "add action: sync, sync+restart, sync+exec, rebuild or restart",
                ))
            }
            Some(Value::String(a)) if ACTIONS.contains(&a.as_str()) => {}
            Some(other) => {
                let hint = other
                    .as_str()
                    .and_then(|a| super::error::did_you_mean(a, ACTIONS.iter().copied()))
                    .map(|m| format!("did you mean `{m}`?"))
                    .unwrap_or_else(|| {
                        "use sync, sync+restart, sync+exec, rebuild or restart".into()
                    });
                return Err((
                    wp.key("action"),
                    format!("unknown watch action {other}"),
                    Some(hint),
                ));
            }
        }
        if !w.contains_key("path") {
            return Err(problem(
                wp,
                "the watch rule has no `path`",
                "add path: ./src (the host path to watch)",
            ));
        }
        if let Some(Value::String(path)) = w.get("path") {
            let abs = canonical::absolute(path, base);
            w.insert("path".into(), json!(abs));
        }
        for key in ["include", "ignore"] {
            if let Some(v) = w.get_mut(key) {
                *v = canonical::string_list(v).map_err(|m| (wp.key(key), m, None))?;
            }
        }
        // docker compose prints the empty `exec` of every watch rule.
        let exec = w.entry("exec").or_insert(json!({"command": null}));
        if let Value::Object(e) = exec {
            if let Some(c) = e.get_mut("command") {
                *c = canonical::command(c).map_err(|m| (wp.key("exec").key("command"), m, None))?;
            }
            if let Some(env) = e.get_mut("environment") {
                *env = canonical::key_values(env, true)
                    .map_err(|m| (wp.key("exec").key("environment"), m, None))?;
            }
        }
    }
    Ok(())
}

/// `build`: `ssh` as a list of `id` / `id: /absolute/path`; `platforms` with `platform`
/// is checked after merging.
fn build(b: &mut Map<String, Value>, p: &Path, base: &FsPath) -> Result<(), Problem> {
    // Secret modes are printed in octal, as text (`"0440"`).
    if let Some(Value::Array(secrets)) = b.get_mut("secrets") {
        for s in secrets.iter_mut() {
            if let Some(mode) = s.get_mut("mode") {
                if let Some(n) = mode.as_i64() {
                    *mode = json!(format!("0{n:o}"));
                }
            }
        }
    }
    let Some(ssh) = b.get_mut("ssh") else {
        return Ok(());
    };
    let sp = p.key("ssh");
    let key = |id: &str, path: Option<&str>| match path {
        Some(path) if !path.is_empty() => {
            json!(format!("{id}: {}", canonical::absolute(path, base)))
        }
        _ => json!(id),
    };
    let out: Vec<Value> = match ssh {
        Value::Null => vec![],
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let Value::String(s) = item else {
                    return Err(problem(
                        sp.index(i),
                        format!("expected `id` or `id=path`, found {}", kind(item)),
                        "write ssh: [default] or ssh: [mykey=./id_rsa]",
                    ));
                };
                let (id, path) = match s.split_once('=') {
                    Some((id, path)) => (id, Some(path)),
                    None => (s.as_str(), None),
                };
                if id.is_empty() {
                    return Err(problem(
                        sp.index(i),
                        format!("invalid ssh key `{s}`: the id is empty"),
                        "write ssh: [default] or ssh: [mykey=./id_rsa]",
                    ));
                }
                out.push(key(id, path));
            }
            out
        }
        Value::Object(m) => {
            let mut out = Vec::with_capacity(m.len());
            for (id, path) in m.iter() {
                match path {
                    Value::Null => out.push(key(id, None)),
                    Value::String(path) => out.push(key(id, Some(path))),
                    other => {
                        return Err(problem(
                            sp.key(id),
                            format!("expected a path, found {}", kind(other)),
                            "write ssh: {default: ~/.ssh/id_rsa}",
                        ))
                    }
                }
            }
            out
        }
        other => {
            return Err(problem(
                sp,
                format!("`ssh` must be a list or a mapping, found {}", kind(other)),
                "write ssh: [default]",
            ))
        }
    };
    *ssh = Value::Array(out);
    Ok(())
}

/// `blkio_config`: rates in bytes (as text, the way the reference prints them).
fn blkio(b: &mut Map<String, Value>, p: &Path) -> Result<(), Problem> {
    for key in ["device_read_bps", "device_write_bps"] {
        let Some(Value::Array(list)) = b.get_mut(key) else {
            continue;
        };
        for (i, entry) in list.iter_mut().enumerate() {
            let Some(rate) = entry.get_mut("rate") else {
                continue;
            };
            let bytes = match &*rate {
                Value::Number(n) => n.as_i64().map(Bytes),
                Value::String(s) => Bytes::parse(s).ok(),
                _ => None,
            };
            match bytes {
                Some(b) => *rate = json!(b.0.to_string()),
                None => {
                    return Err(problem(
                        p.key(key).index(i).key("rate"),
                        format!("`rate` must be a size in bytes, found {rate}"),
                        "write e.g. rate: 20mb",
                    ))
                }
            }
        }
    }
    for key in ["device_read_iops", "device_write_iops"] {
        let Some(Value::Array(list)) = b.get_mut(key) else {
            continue;
        };
        for entry in list.iter_mut() {
            if let Some(rate) = entry.get_mut("rate") {
                if let Value::Number(n) = rate {
                    *rate = json!(n.to_string());
                }
            }
        }
    }
    Ok(())
}

/// `provider`: a `type`; `options` values each a list of strings.
fn provider(m: &mut Map<String, Value>, p: &Path) -> Result<(), Problem> {
    if !m.contains_key("type") {
        return Err(problem(
            p.clone(),
            "the provider has no `type`",
            "add type: the provider's plugin (e.g. type: model)",
        ));
    }
    let Some(Value::Object(opts)) = m.get_mut("options") else {
        return Ok(());
    };
    for (k, v) in opts.iter_mut() {
        let items = match &*v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(s) => out.push(json!(s)),
                Value::Number(n) => out.push(json!(canonical::number_text(&n))),
                Value::Bool(b) => out.push(json!(b.to_string())),
                other => {
                    return Err(problem(
                        p.key("options").key(k),
                        format!(
                            "expected a string or a list of strings, found {}",
                            kind(&other)
                        ),
                        "quote the value",
                    ))
                }
            }
        }
        *v = Value::Array(out);
    }
    Ok(())
}

/// Mode words of a short volume entry the reference understands.
const VOLUME_MODES: &[&str] = &[
    "ro",
    "rw",
    "z",
    "Z",
    "nocopy",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "private",
    "rprivate",
    "cached",
    "delegated",
    "consistent",
];

/// How an unknown mode word may have been meant: known words run together (`roz` is `ro,z`), or
/// the closest known word.
fn mode_hint(word: &str) -> Option<String> {
    fn split(rest: &str) -> Option<Vec<&'static str>> {
        if rest.is_empty() {
            return Some(vec![]);
        }
        // Longest words first, so that `rshared` is not read as `r` + ...
        let mut words: Vec<&'static str> = VOLUME_MODES.to_vec();
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        for w in words {
            if let Some(tail) = rest.strip_prefix(w) {
                if let Some(mut more) = split(tail) {
                    more.insert(0, w);
                    return Some(more);
                }
            }
        }
        None
    }
    match split(word) {
        Some(parts) if parts.len() > 1 => Some(parts.join(",")),
        _ => super::error::did_you_mean(word, VOLUME_MODES.iter().copied()).map(str::to_string),
    }
}

/// Short `volumes` entries of service `s`: unknown mode words are dropped (as the reference
/// does, silently), each with a warning at its entry.
pub(super) fn volume_modes(s: &mut Map<String, Value>, sp: &Path) -> Vec<(Path, String)> {
    let mut warnings = Vec::new();
    let Some(Value::Array(items)) = s.get_mut("volumes") else {
        return warnings;
    };
    for (i, item) in items.iter_mut().enumerate() {
        let Value::String(spec) = item else { continue };
        let Some((head, mode)) = spec.rsplit_once(':') else {
            continue;
        };
        // `SOURCE:TARGET:MODE` only (a Windows drive adds one colon): a mode follows a target.
        let drive = head.as_bytes().get(1) == Some(&b':');
        let colons = head.matches(':').count() - usize::from(drive);
        if colons != 1 || mode.starts_with('/') || mode.starts_with('\\') {
            continue;
        }
        let (known, unknown): (Vec<&str>, Vec<&str>) = mode
            .split(',')
            .partition(|w| w.is_empty() || VOLUME_MODES.contains(w));
        if unknown.is_empty() {
            continue;
        }
        for word in &unknown {
            let hint = mode_hint(word)
                .map(|h| format!(": did you mean `{h}`?"))
                .unwrap_or_else(|| format!(" (known modes: {})", VOLUME_MODES[..11].join(", ")));
            warnings.push((
                sp.key("volumes").index(i),
                format!("volume `{spec}`: unknown mode `{word}` ignored{hint}"),
            ));
        }
        let kept: Vec<&str> = known.into_iter().filter(|w| !w.is_empty()).collect();
        *spec = if kept.is_empty() {
            head.to_string()
        } else {
            format!("{head}:{}", kept.join(","))
        };
    }
    warnings
}

/// `tmpfs.size: 0` is no size (the reference leaves it out).
pub(super) fn mounts(s: &mut Map<String, Value>) {
    let Some(Value::Array(items)) = s.get_mut("volumes") else {
        return;
    };
    for m in items.iter_mut() {
        if let Some(Value::Object(t)) = m.get_mut("tmpfs") {
            let zero = match t.get("size") {
                Some(Value::Number(n)) => n.as_f64() == Some(0.0),
                Some(Value::String(s)) => Bytes::parse(s).is_ok_and(|b| b.0 == 0),
                _ => false,
            };
            if zero {
                t.shift_remove("size");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_volume_modes_are_dropped_with_a_hint() {
        let mut s = json!({"volumes": ["data:/data:roz", "./a:/a:ro,bogus", "b:/b:z", "/c"]});
        let Value::Object(m) = &mut s else { panic!() };
        let w = volume_modes(m, &Path::root().key("services").key("x"));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].1.contains("did you mean `ro,z`?"), "{}", w[0].1);
        assert_eq!(w[0].0.to_string(), "services.x.volumes[0]");
        assert_eq!(
            s["volumes"],
            json!(["data:/data", "./a:/a:ro", "b:/b:z", "/c"])
        );
    }

    #[test]
    fn unknown_mode_warning_is_located_and_selinux_kept() {
        let work = tempfile::tempdir().expect("tempdir");
        let file = work.path().join("compose.yaml");
        let text = "services:\n  a:\n    image: x\n    volumes:\n      - data:/data:roz\n      - data:/e:Z\nvolumes:\n  data:\n";
        std::fs::write(&file, text).expect("write");
        let opts = crate::parse::LoadOptions {
            files: vec![file.display().to_string()],
            project_name: Some("t".into()),
            cwd: work.path().to_path_buf(),
            ..Default::default()
        };
        let loaded = crate::parse::load(&opts).expect("loads");
        let w = loaded
            .warnings
            .iter()
            .find(|w| w.contains("roz"))
            .expect("a warning");
        assert!(w.contains("compose.yaml:5:9"), "{w}");
        assert!(w.contains("did you mean `ro,z`?"), "{w}");
        let vols = &loaded.project.services["a"].volumes;
        assert!(!vols[0].read_only);
        assert_eq!(vols[0].bind, None);
        let z = vols[1].bind.as_ref().and_then(|b| b.selinux.as_deref());
        assert_eq!(z, Some("Z"));
    }

    #[test]
    fn blkio_rates_in_bytes() {
        let mut b = json!({
            "device_read_bps": [{"path": "/dev/sda", "rate": "12mb"}],
            "device_write_bps": [{"path": "/dev/sda", "rate": 4096}],
            "device_write_iops": [{"path": "/dev/sda", "rate": 30}]
        });
        let Value::Object(m) = &mut b else { panic!() };
        blkio(m, &Path::root()).unwrap();
        assert_eq!(b["device_read_bps"][0]["rate"], json!("12582912"));
        assert_eq!(b["device_write_bps"][0]["rate"], json!("4096"));
        assert_eq!(b["device_write_iops"][0]["rate"], json!("30"));
        let mut bad = json!({"device_read_bps": [{"path": "/dev/sda", "rate": "fast"}]});
        let Value::Object(m) = &mut bad else { panic!() };
        assert!(blkio(m, &Path::root()).is_err());
    }

    #[test]
    fn device_counts() {
        let v = gpus(
            &json!([{"count": "all"}, {"driver": "nvidia"}, {"count": "3"}]),
            &Path::root(),
        )
        .unwrap();
        assert_eq!(
            v,
            json!([{"count": -1}, {"driver": "nvidia", "count": -1}, {"count": 3}])
        );
        let both = json!([{"count": 1, "device_ids": ["0"]}]);
        assert!(gpus(&both, &Path::root()).is_err());
        assert_eq!(
            gpus(&json!("all"), &Path::root()).unwrap(),
            json!([{"count": -1}])
        );
    }

    #[test]
    fn ssh_keys_become_a_list_with_absolute_paths() {
        let mut b = json!({"ssh": {"default": null, "k": "./id"}});
        let Value::Object(m) = &mut b else { panic!() };
        build(m, &Path::root(), FsPath::new("/p")).unwrap();
        assert_eq!(b["ssh"], json!(["default", "k: /p/id"]));
        let mut b = json!({"ssh": 3});
        let Value::Object(m) = &mut b else { panic!() };
        assert!(build(m, &Path::root(), FsPath::new("/p")).is_err());
    }
}
