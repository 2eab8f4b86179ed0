//! Top-level `include`: other compose files loaded as sub-projects, each with its own project
//! directory (relative paths resolve against it) and its own `.env` or `env_file`s, whose services
//! and resources are then imported into the including file.
//!
//! Paths of an entry resolve against the including project's directory; the first path is the
//! sub-project's main file, the others override it. Variables of the including project win over
//! those of the sub-project's env files. A resource defined both by the including file and by an
//! included one is a conflict unless both definitions are the same, as in docker compose.

use serde_json::{json, Map, Value};
use std::path::{Path as FsPath, PathBuf};

use super::error::LoadError;
use super::files::{self, Raw, Scope, Trail};
use super::path::Path;
use super::{canonical, discover, env};

/// The top-level sections an included project contributes.
const SECTIONS: [&str; 6] = [
    "services", "networks", "volumes", "secrets", "configs", "models",
];

/// One `include` entry, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Entry {
    paths: Vec<String>,
    project_directory: Option<String>,
    env_files: Option<Vec<String>>,
}

/// Loads what `raw` includes and removes its `include` key. Returns the imported sections (in
/// canonical form), to merge before the file itself.
pub(super) fn apply(
    raw: &mut Raw,
    scope: &Scope,
    trail: &mut Trail,
) -> Result<Option<Value>, LoadError> {
    let Some(value) = raw
        .tree
        .as_object_mut()
        .and_then(|m| m.shift_remove("include"))
    else {
        return Ok(None);
    };
    let entries = parse(&value).map_err(|(p, msg)| {
        raw.error(msg, &Path::root().key("include").join(&p), false)
            .hint("write `include: [FILE, ...]` or entries `{path, project_directory, env_file}`")
    })?;
    let mut imported = json!({});
    for (i, entry) in entries.iter().enumerate() {
        let at = Path::root().key("include").index(i);
        let sub = load_entry(raw, &at, entry, scope, trail)?;
        let from = entry.paths.join(", ");
        import(raw, &at, &from, sub, &mut imported)?;
    }
    Ok(Some(imported))
}

/// Loads the sub-project of one entry into a canonical tree.
fn load_entry(
    raw: &Raw,
    at: &Path,
    entry: &Entry,
    scope: &Scope,
    trail: &mut Trail,
) -> Result<Value, LoadError> {
    let mut paths = Vec::new();
    for (j, p) in entry.paths.iter().enumerate() {
        let abs = discover::absolute(scope.dir, FsPath::new(p));
        if !abs.is_file() {
            let pp = if is_long(raw, at) {
                at.key("path").index(j)
            } else {
                at.clone()
            };
            return Err(raw
                .error(
                    format!("included file `{}` not found", abs.display()),
                    &pp,
                    false,
                )
                .hint(format!(
                    "paths in `include` are relative to the project directory `{}`",
                    scope.dir.display()
                )));
        }
        paths.push(abs);
    }
    let Some(main) = paths.first() else {
        return Err(raw
            .error("an `include` entry needs at least one path", at, false)
            .hint("add `path: FILE`"));
    };
    if let Some(start) = trail.including.iter().position(|f| f == main) {
        let base = trail
            .including
            .first()
            .and_then(|f| f.parent())
            .map(FsPath::to_path_buf)
            .unwrap_or_default();
        let mut steps: Vec<String> = trail.including[start..]
            .iter()
            .map(|f| short(f, &base))
            .collect();
        steps.push(short(main, &base));
        return Err(raw
            .error(
                format!("include cycle: {}", steps.join(" includes ")),
                at,
                false,
            )
            .hint("a file cannot include itself, directly or through other files"));
    }
    let dir = match &entry.project_directory {
        Some(d) => discover::absolute(scope.dir, FsPath::new(d)),
        None => main
            .parent()
            .map(FsPath::to_path_buf)
            .unwrap_or_else(|| scope.dir.to_path_buf()),
    };
    let env_files: Vec<(PathBuf, bool)> = match &entry.env_files {
        Some(list) => list
            .iter()
            .filter(|f| f.as_str() != "/dev/null")
            .map(|f| (discover::absolute(scope.dir, FsPath::new(f)), true))
            .collect(),
        None => vec![(dir.join(".env"), false)],
    };
    for (j, (f, _)) in env_files.iter().enumerate() {
        if entry.env_files.is_some() && !f.is_file() {
            let pp = match raw_env_file_is_list(raw, at) {
                true => at.key("env_file").index(j),
                false => at.key("env_file"),
            };
            return Err(raw
                .error(format!("env file `{}` not found", f.display()), &pp, false)
                .hint("`env_file` paths in `include` are relative to the project directory"));
        }
    }
    let mut vars = scope.vars.clone();
    let own = env::read_all(&env_files, scope.vars)?;
    for (k, v) in own.iter() {
        vars.entry(k.clone()).or_insert(v.clone());
    }
    let sub_scope = Scope {
        vars: &vars,
        dir: &dir,
        no_interpolate: scope.no_interpolate,
        as_written: scope.as_written,
        resolve_paths: scope.resolve_paths,
        root: scope.root,
        normalize: scope.normalize,
    };
    let mut inputs = Vec::new();
    for p in paths {
        let text = files::read_text(&p)?;
        inputs.push((p, text));
    }
    let mut tree = files::load(inputs, &sub_scope, trail)?;
    resolve_environment(&mut tree, &vars, &own);
    Ok(tree)
}

/// `environment` entries without a value take it from the sub-project's variables (its own
/// `.env` included), as docker compose resolves them before importing.
fn resolve_environment(tree: &mut Value, vars: &env::Vars, own: &env::Vars) {
    let Some(Value::Object(services)) = tree.get_mut("services") else {
        return;
    };
    for svc in services.values_mut() {
        // As written (not interpolated), the list form: `KEY` becomes `KEY=value`.
        if let Some(Value::Array(list)) = svc.get_mut("environment") {
            for e in list.iter_mut() {
                if let Value::String(k) = e {
                    if !k.contains('=') {
                        if let Some(found) = own.get(k.as_str()) {
                            *k = format!("{k}={found}");
                        }
                    }
                }
            }
        }
        let Some(Value::Object(environment)) = svc.get_mut("environment") else {
            continue;
        };
        for (k, v) in environment.iter_mut() {
            if v.is_null() {
                if let Some(found) = vars.get(k) {
                    *v = Value::String(found.clone());
                }
            }
        }
    }
}

/// Copies the sections of `sub` (included from `from`, at `at`) into `imported`, failing on a
/// definition that differs from the including file's or from another include's.
fn import(
    raw: &Raw,
    at: &Path,
    from: &str,
    sub: Value,
    imported: &mut Value,
) -> Result<(), LoadError> {
    let Value::Object(mut sub) = sub else {
        return Ok(());
    };
    for section in SECTIONS {
        let Some(Value::Object(defs)) = sub.shift_remove(section) else {
            continue;
        };
        for (key, def) in defs {
            let own = raw.tree.get(section).and_then(|s| s.get(&key));
            if let Some(own) = own {
                if *own != def {
                    let p = Path::root().key(section).key(&key);
                    return Err(raw
                        .error(
                            format!(
                                "`{key}` is defined here and, differently, in the included `{from}`"
                            ),
                            &p,
                            true,
                        )
                        .hint("define it in one place only, or extend it under another name"));
                }
            }
            let Some(out) = imported.as_object_mut() else {
                continue;
            };
            let target = out
                .entry(section)
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(target) = target else {
                continue;
            };
            if let Some(prev) = target.get(&key) {
                if *prev != def {
                    return Err(raw
                        .error(
                            format!(
                                "{section}.{key} is defined differently by two included files, the second time by `{from}`"
                            ),
                            at,
                            false,
                        )
                        .hint("define it in one included file only"));
                }
            }
            target.insert(key, def);
        }
    }
    Ok(())
}

/// Reads the `include` list; on error, the path below `include` and the message. Unknown
/// attributes are ignored without a word, as docker compose does.
fn parse(v: &Value) -> Result<Vec<Entry>, (Path, String)> {
    let Value::Array(items) = v else {
        if v.is_null() {
            return Ok(vec![]);
        }
        return Err((
            Path::root(),
            format!("expected a list, found {}", canonical::kind(v)),
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = Path::root().index(i);
        match item {
            Value::String(s) => out.push(Entry {
                paths: vec![s.clone()],
                ..Default::default()
            }),
            Value::Object(m) => {
                let mut e = Entry::default();
                for (k, val) in m {
                    let p = at.key(k);
                    match k.as_str() {
                        "path" => e.paths = strings(val).map_err(|m| (p, m))?,
                        "project_directory" => match val {
                            Value::String(s) => e.project_directory = Some(s.clone()),
                            Value::Null => {}
                            other => {
                                return Err((
                                    p,
                                    format!("expected a folder, found {}", canonical::kind(other)),
                                ))
                            }
                        },
                        "env_file" => e.env_files = Some(strings(val).map_err(|m| (p, m))?),
                        _ => {}
                    }
                }
                if e.paths.is_empty() {
                    return Err((at, "an include entry needs a `path`".into()));
                }
                out.push(e);
            }
            other => {
                return Err((
                    at,
                    format!(
                        "expected a path or a mapping, found {}",
                        canonical::kind(other)
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// A string or a list of strings.
fn strings(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!(
                    "expected a list of paths, found {} in it",
                    canonical::kind(other)
                )),
            })
            .collect(),
        other => Err(format!(
            "expected a path or a list of paths, found {}",
            canonical::kind(other)
        )),
    }
}

/// Whether the entry at `at` in the file as written is a mapping with a list `path`.
fn is_long(raw: &Raw, at: &Path) -> bool {
    entry_as_written(raw, at).is_some_and(|e| e.get("path").is_some_and(Value::is_array))
}

fn raw_env_file_is_list(raw: &Raw, at: &Path) -> bool {
    entry_as_written(raw, at).is_some_and(|e| e.get("env_file").is_some_and(Value::is_array))
}

/// The entry at `at` as written in the file (the tree no longer holds `include`).
fn entry_as_written(raw: &Raw, at: &Path) -> Option<Value> {
    let doc = super::yaml::parse(&raw.text).ok()?;
    let mut cur = doc.tree.get("include")?;
    if let Some(super::path::Seg::Index(i)) = at.segs().last() {
        cur = cur.get(*i)?;
    }
    Some(cur.clone())
}

/// `f` relative to `base` when under it, else in full.
fn short(f: &FsPath, base: &FsPath) -> String {
    f.strip_prefix(base)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| f.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_entries() {
        let v = json!(["a.yaml", {"path": ["b.yaml", "c.yaml"], "project_directory": "p", "env_file": "e.env", "nope": 1}]);
        let entries = parse(&v).unwrap();
        assert_eq!(entries[0].paths, vec!["a.yaml"]);
        assert_eq!(entries[1].paths, vec!["b.yaml", "c.yaml"]);
        assert_eq!(entries[1].project_directory.as_deref(), Some("p"));
        assert_eq!(entries[1].env_files, Some(vec!["e.env".to_string()]));
    }

    #[test]
    fn bad_entries() {
        assert!(parse(&json!("a.yaml")).is_err());
        assert!(parse(&json!([{"project_directory": "x"}])).is_err());
        let (p, _) = parse(&json!(["a", 3])).unwrap_err();
        assert_eq!(p.to_string(), "[1]");
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;
    use std::fs;

    fn write(dir: &FsPath, name: &str, text: &str) {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(p, text).unwrap();
    }

    fn load(dir: &FsPath, vars: &env::Vars) -> Result<Value, LoadError> {
        let scope = Scope {
            vars,
            dir,
            no_interpolate: false,
            as_written: false,
            resolve_paths: true,
            root: dir,
            normalize: true,
        };
        let main = dir.join("compose.yaml");
        let text = fs::read_to_string(&main).unwrap();
        files::load(vec![(main, text)], &scope, &mut Trail::default())
    }

    #[test]
    fn sub_project_has_its_own_directory_and_env() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(
            d,
            "compose.yaml",
            "include: [inc/compose.yaml]\nservices:\n  web:\n    image: web\n",
        );
        write(
            d,
            "inc/compose.yaml",
            "services:\n  api:\n    image: api:${A}-${B}\n    build: .\n",
        );
        write(d, "inc/.env", "A=inc\nB=inc\n");
        let mut vars = env::Vars::new();
        vars.insert("A".into(), "root".into());
        let t = load(d, &vars).unwrap();
        assert_eq!(t["services"]["api"]["image"], json!("api:root-inc"));
        let ctx = d.join("inc").display().to_string();
        assert_eq!(t["services"]["api"]["build"]["context"], json!(ctx));
        assert!(t.get("include").is_none());
    }

    #[test]
    fn conflicts_and_cycles_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(
            d,
            "compose.yaml",
            "include: [inc/compose.yaml]\nservices:\n  api:\n    image: other\n",
        );
        write(d, "inc/compose.yaml", "services:\n  api:\n    image: api\n");
        let e = load(d, &env::Vars::new()).unwrap_err();
        assert!(e.message.contains("`api` is defined here"), "{}", e.message);
        assert_eq!(e.at.line, Some(3));

        write(d, "inc/compose.yaml", "include: [../compose.yaml]\n");
        write(d, "compose.yaml", "include: [inc/compose.yaml]\n");
        let e = load(d, &env::Vars::new()).unwrap_err();
        assert!(e.message.starts_with("include cycle"), "{}", e.message);
    }
}
