//! Service `extends`: a service starts from another service's definition, in the same file
//! (`extends: base` or `{service: base}`) or in another one (`{file: other.yaml, service: base}`),
//! and its own attributes are merged over it with the multi-file merge rules.
//!
//! Runs on one file at a time, after the long-syntax pass: only services of that same file can be
//! extended without `file`, as in docker compose. A relative `file` resolves against the project
//! directory for the files of the project, and against the extended file's folder from there on;
//! the relative paths inside an extended file resolve against its own folder.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};

use super::error::{did_you_mean, LoadError};
use super::files::{self, Raw, Scope, Trail};
use super::merge;
use super::path::{Path, Seg};
use super::yaml::Tag;
use super::{canonical, discover};

/// What an `extends` names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    file: Option<String>,
    service: String,
}

/// A service being resolved: the file it is in and its name.
type Link = (PathBuf, String);

/// Resolves the `extends` of every service of `file`; `dir` is where a relative
/// `extends.file` is looked for.
pub(super) fn apply(
    file: &mut Raw,
    dir: &FsPath,
    scope: &Scope,
    trail: &mut Trail,
) -> Result<(), LoadError> {
    let mut ctx = Ctx {
        scope,
        trail,
        loaded: HashMap::new(),
    };
    for name in service_names(&file.tree) {
        resolve(file, dir, &name, &mut ctx, &mut Vec::new())?;
    }
    Ok(())
}

/// What resolving needs besides the file: the scope, the trail, and the other files read so far
/// (each read once, whatever the number of services extending it).
struct Ctx<'a, 'b> {
    scope: &'a Scope<'b>,
    trail: &'a mut Trail,
    loaded: HashMap<PathBuf, Raw>,
}

fn service_names(tree: &Value) -> Vec<String> {
    match tree.get("services") {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        _ => vec![],
    }
}

fn has_service(tree: &Value, name: &str) -> bool {
    services(tree).is_some_and(|s| s.contains_key(name))
}

fn services(tree: &Value) -> Option<&Map<String, Value>> {
    tree.get("services").and_then(Value::as_object)
}

/// Resolves the `extends` of service `name` in `file` (and, first, of the service it extends).
/// `chain` holds the services being resolved, to report cycles.
fn resolve(
    file: &mut Raw,
    dir: &FsPath,
    name: &str,
    ctx: &mut Ctx,
    chain: &mut Vec<Link>,
) -> Result<(), LoadError> {
    let sp = Path::root().key("services").key(name);
    let Some(ext) = services(&file.tree)
        .and_then(|s| s.get(name))
        .and_then(|s| s.get("extends"))
    else {
        return Ok(());
    };
    let target = parse_target(ext).map_err(|(p, msg, hint)| {
        let mut e = file.error(msg, &sp.key("extends").join(&p), p.is_root());
        e.hint = Some(hint);
        e
    })?;
    chain.push((file.path.clone(), name.to_string()));
    let mut null_base = None;
    let base = match &target.file {
        None => {
            if !has_service(&file.tree, &target.service) {
                let known = service_names(&file.tree);
                return Err(not_found(file, &sp, &target, &known, None));
            }
            check_cycle(
                file,
                &sp,
                chain,
                (file.path.clone(), target.service.clone()),
            )?;
            resolve(file, dir, &target.service, ctx, chain)?;
            services(&file.tree)
                .and_then(|s| s.get(&target.service))
                .cloned()
        }
        Some(rel) => {
            let path = discover::absolute(dir, FsPath::new(rel));
            if !path.is_file() {
                let p = sp.key("extends").key("file");
                return Err(file
                    .error(
                        format!(
                            "service `{name}` extends a service in `{}`, which does not exist",
                            path.display()
                        ),
                        &p,
                        false,
                    )
                    .hint(format!(
                        "a relative `file` is resolved against `{}`",
                        dir.display()
                    )));
            }
            let other_dir = path.parent().map(FsPath::to_path_buf).unwrap_or_default();
            let mut other = match ctx.loaded.remove(&path) {
                Some(o) => o,
                None => {
                    let text = files::read_text(&path)?;
                    let mut o = files::read_merged(&path, text, ctx.scope, ctx.trail)?;
                    files::canonicalize(
                        &mut o,
                        &ctx.scope.base_for(&other_dir),
                        ctx.scope,
                        &mut ctx.trail.warnings,
                    )?;
                    o
                }
            };
            if !has_service(&other.tree, &target.service) {
                let known = service_names(&other.tree);
                return Err(not_found(file, &sp, &target, &known, Some(&path)));
            }
            check_cycle(file, &sp, chain, (path.clone(), target.service.clone()))?;
            resolve(&mut other, &other_dir, &target.service, ctx, chain)?;
            let base = services(&other.tree)
                .and_then(|s| s.get(&target.service))
                .cloned();
            if null_service(&other.text, &target.service) {
                // The reference merges nothing and leaves `extends` in place (file absolute).
                null_base =
                    Some(json!({"file": path.display().to_string(), "service": target.service}));
            }
            ctx.loaded.insert(path, other);
            base
        }
    };
    chain.pop();
    let Some(Value::Object(svcs)) = file.tree.get_mut("services") else {
        return Ok(());
    };
    let Some(own) = svcs.get_mut(name) else {
        return Ok(());
    };
    if let Some(ext) = null_base {
        if let Value::Object(m) = own {
            m.insert("extends".into(), ext);
        }
        return Ok(());
    }
    let mut own = std::mem::take(own);
    if let Value::Object(m) = &mut own {
        m.shift_remove("extends");
    }
    let mut base = base.unwrap_or_else(|| json!({}));
    if let Value::Object(m) = &mut base {
        m.shift_remove("extends");
    }
    let tags: Vec<Tag> = file
        .tags
        .iter()
        .filter(|t| match t {
            Tag::Reset(p) | Tag::Override(p) => p.segs().starts_with(sp.segs()),
        })
        .cloned()
        .collect();
    let mut merged = json!({ "services": { name: base } });
    merge::merge_mode(
        &mut merged,
        json!({ "services": { name: own } }),
        &tags,
        ctx.scope.as_written,
    );
    let merged = merged["services"][name].take();
    if let Some(slot) = svcs.get_mut(name) {
        *slot = merged;
    }
    Ok(())
}

/// Whether service `name` is written with no body (`name:`) in the file `text`.
fn null_service(text: &str, name: &str) -> bool {
    super::yaml::parse(text).is_ok_and(|doc| {
        doc.tree
            .get("services")
            .and_then(|s| s.get(name))
            .is_some_and(Value::is_null)
    })
}

/// Reads `extends: name` or `extends: {service, file}`; on error, the path below `extends`,
/// the message and a hint.
fn parse_target(v: &Value) -> Result<Target, (Path, String, String)> {
    let form = "write `extends: SERVICE` or `extends: {service: SERVICE, file: FILE}`";
    match v {
        Value::String(s) if !s.is_empty() => Ok(Target {
            file: None,
            service: s.clone(),
        }),
        Value::Object(m) => {
            // Other keys are ignored, as the reference does.
            let service = match m.get("service") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(other) => {
                    return Err((
                        Path::root().key("service"),
                        format!(
                            "expected the name of a service, found {}",
                            canonical::kind(other)
                        ),
                        form.into(),
                    ))
                }
                None => {
                    return Err((
                        Path::root(),
                        "`extends` needs a `service`".into(),
                        form.into(),
                    ))
                }
            };
            let file = match m.get("file") {
                None | Some(Value::Null) => None,
                Some(Value::String(f)) => Some(f.clone()),
                Some(other) => {
                    return Err((
                        Path::root().key("file"),
                        format!("expected a file path, found {}", canonical::kind(other)),
                        form.into(),
                    ))
                }
            };
            Ok(Target { file, service })
        }
        other => Err((
            Path::root(),
            format!(
                "expected a service name or a mapping, found {}",
                canonical::kind(other)
            ),
            form.into(),
        )),
    }
}

fn not_found(
    file: &Raw,
    sp: &Path,
    target: &Target,
    known: &[String],
    other: Option<&FsPath>,
) -> LoadError {
    let name = match sp.segs().last() {
        Some(Seg::Key(k)) => k.as_str(),
        _ => "",
    };
    let p = match target.file {
        Some(_) => sp.key("extends").key("service"),
        None if file_has_long_form(file, sp) => sp.key("extends").key("service"),
        None => sp.key("extends"),
    };
    let place = match other {
        Some(o) => format!("`{}`", o.display()),
        None => "this file".into(),
    };
    let mut e = file.error(
        format!(
            "service `{name}` extends service `{}`, which is not defined in {place}",
            target.service
        ),
        &p,
        false,
    );
    let others = known.iter().map(String::as_str).filter(|k| *k != name);
    let hint = match did_you_mean(&target.service, others) {
        Some(m) => format!("did you mean `{m}`?"),
        None if other.is_none() => {
            "without `file`, only services of the same file can be extended (not those of other -f files or includes)".into()
        }
        None => format!("services there: {}", list(known)),
    };
    e.hint = Some(hint);
    e
}

fn file_has_long_form(file: &Raw, sp: &Path) -> bool {
    services(&file.tree)
        .and_then(|s| match sp.segs().last() {
            Some(Seg::Key(k)) => s.get(k),
            _ => None,
        })
        .and_then(|s| s.get("extends"))
        .is_some_and(Value::is_object)
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fails when `next` is already being resolved: the chain closes a cycle.
fn check_cycle(file: &Raw, sp: &Path, chain: &[Link], next: Link) -> Result<(), LoadError> {
    let Some(start) = chain.iter().position(|l| *l == next) else {
        return Ok(());
    };
    let same_file = chain.iter().all(|(f, _)| *f == file.path);
    let show = |(f, s): &Link| {
        if same_file {
            format!("`{s}`")
        } else {
            let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
            format!("`{s}` ({})", name.unwrap_or_default())
        }
    };
    let mut steps: Vec<String> = chain[start..].iter().map(show).collect();
    steps.push(show(&next));
    Err(file
        .error(
            format!("circular `extends`: {}", steps.join(" extends ")),
            &sp.key("extends"),
            true,
        )
        .hint("a service cannot extend itself, directly or through other services"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::env::Vars;

    fn load(text: &str) -> Result<Value, LoadError> {
        let vars = Vars::new();
        let dir = std::env::temp_dir();
        let scope = Scope {
            vars: &vars,
            dir: &dir,
            no_interpolate: false,
            as_written: false,
            resolve_paths: true,
            root: &dir,
            normalize: true,
        };
        let mut trail = Trail::default();
        let files = vec![(dir.join("compose.yaml"), text.to_string())];
        files::load(files, &scope, &mut trail)
    }

    #[test]
    fn targets() {
        assert_eq!(
            parse_target(&json!("db")),
            Ok(Target {
                file: None,
                service: "db".into()
            })
        );
        assert_eq!(
            parse_target(&json!({"service": "db", "file": "x.yaml"})),
            Ok(Target {
                file: Some("x.yaml".into()),
                service: "db".into()
            })
        );
        assert!(parse_target(&json!({"file": "x.yaml"})).is_err());
        assert!(parse_target(&json!({"service": "a", "nope": 1})).is_ok());
        assert!(parse_target(&json!(3)).is_err());
    }

    #[test]
    fn chain_merges_with_the_merge_rules() {
        let t = load(
            "services:\n  a:\n    image: a\n    ports: ['80:80']\n    environment: [A=1, B=1]\n    command: one\n\
             \x20 b:\n    extends: a\n    environment: {B: 2}\n    ports: ['81:81']\n\
             \x20 c:\n    extends: {service: b}\n    command: [two]\n",
        )
        .unwrap();
        let c = &t["services"]["c"];
        assert_eq!(c["image"], json!("a"));
        assert_eq!(c["environment"], json!({"A": "1", "B": "2"}));
        assert_eq!(c["command"], json!(["two"]));
        assert_eq!(c["ports"].as_array().map(Vec::len), Some(2));
        assert!(c.get("extends").is_none());
    }

    #[test]
    fn reset_in_the_child_drops_inherited_values() {
        let t = load(
            "services:\n  a:\n    image: a\n    ports: ['80:80']\n  b:\n    extends: a\n    ports: !reset []\n",
        )
        .unwrap();
        assert!(t["services"]["b"].get("ports").is_none());
        assert_eq!(
            t["services"]["a"]["ports"].as_array().map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn cycles_name_the_chain() {
        let e = load("services:\n  a:\n    extends: b\n  b:\n    extends: a\n").unwrap_err();
        assert!(
            e.message.contains("`a` extends `b` extends `a`"),
            "{}",
            e.message
        );
        assert_eq!(e.at.line, Some(5));
    }

    #[test]
    fn missing_service_is_located() {
        let e = load("services:\n  a:\n    image: x\n    extends: bb\n  b:\n    image: y\n")
            .unwrap_err();
        assert_eq!((e.at.line, e.at.column), (Some(4), Some(14)));
        assert_eq!(e.hint.as_deref(), Some("did you mean `b`?"));
    }
}
