//! Loading a list of compose files into one canonical tree: each file is read, interpolated and
//! checked, its `include`s are imported, it is brought to long syntax, its `extends` are resolved,
//! then the files are merged in order.

use serde_json::{json, Value};
use std::path::{Path as FsPath, PathBuf};

use super::error::LoadError;
use super::path::Path;
use super::yaml::Tag;
use super::{canonical, env, extends, include, interpolate, merge, relpaths, validate, yaml};

/// What a set of files is loaded against.
pub(super) struct Scope<'a> {
    /// Variables for interpolation.
    pub vars: &'a env::Vars,
    /// The project directory: relative paths in the files resolve against it.
    pub dir: &'a FsPath,
    /// Leave `${...}` as written.
    pub no_interpolate: bool,
    /// Bring to long syntax only what the reference does when it prints the model not
    /// interpolated (not when it types it: `config --no-interpolate --hash`).
    pub as_written: bool,
    /// Make relative paths absolute (not with `config --no-path-resolution`).
    pub resolve_paths: bool,
    /// The main project's directory (`dir` is an included project's own).
    pub root: &'a FsPath,
    /// Apply the reference's normalization (not with `config --no-normalize`).
    pub normalize: bool,
}

impl Scope<'_> {
    /// The folder relative paths are resolved against (see [`Scope::base_for`]).
    pub(super) fn base(&self) -> PathBuf {
        self.base_for(self.dir)
    }

    /// The folder relative paths of a file in `dir` are resolved against: `dir` itself, or, when
    /// paths are not resolved, `dir` relative to the project's (nothing for the project's own
    /// files, `sub` for an included or extended `sub/compose.yaml`), as compose-go rebases them.
    pub(super) fn base_for(&self, dir: &FsPath) -> PathBuf {
        if self.resolve_paths {
            dir.to_path_buf()
        } else {
            relative_to(dir, self.root)
        }
    }
}

/// `path` relative to `from` (both absolute), as Go's `filepath.Rel` gives it (empty when equal).
fn relative_to(path: &FsPath, from: &FsPath) -> PathBuf {
    let a: Vec<_> = path.components().collect();
    let b: Vec<_> = from.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &a[common..] {
        out.push(c);
    }
    out
}

/// What loading gathers on the way.
#[derive(Debug, Default)]
pub(super) struct Trail {
    /// Every file read, with its text (to point errors at them later).
    pub sources: Vec<(PathBuf, String)>,
    pub warnings: Vec<String>,
    /// The files whose `include`s are being loaded, outermost first.
    pub including: Vec<PathBuf>,
}

/// One file as read: interpolated, keys checked, short syntax still as written.
#[derive(Debug, Clone)]
pub(super) struct Raw {
    pub path: PathBuf,
    pub text: String,
    pub tree: Value,
    pub tags: Vec<Tag>,
}

impl Raw {
    /// An error pointing at `p` in this file (at the key itself when `key`).
    pub(super) fn error(&self, msg: impl Into<String>, p: &Path, key: bool) -> LoadError {
        LoadError::new(msg).at(&self.path, &self.text, p, key)
    }
}

/// Reads a file from disk.
pub(super) fn read_text(path: &FsPath) -> Result<String, LoadError> {
    std::fs::read_to_string(path)
        .map_err(|e| LoadError::new(format!("cannot read `{}`: {e}", path.display())).in_file(path))
}

/// Parses, interpolates and checks one file: one [`Raw`] per YAML document, in order (an empty
/// file gives one empty document). `extended`: the file is read for `extends`, whose obsolete
/// `version:` the reference does not warn of.
pub(super) fn read(
    path: &FsPath,
    text: String,
    scope: &Scope,
    trail: &mut Trail,
    extended: bool,
) -> Result<Vec<Raw>, LoadError> {
    if !trail.sources.iter().any(|(p, _)| p == path) {
        trail.sources.push((path.to_path_buf(), text.clone()));
    }
    let mut docs = yaml::parse_all(&text).map_err(|e| {
        let msg = format!("invalid YAML: {}", e.message);
        if let Some(p) = &e.path {
            return LoadError::new(msg).at(path, &text, p, false);
        }
        let mut err = LoadError::new(msg).in_file(path);
        if let (Some(l), Some(c)) = (e.line, e.column) {
            err.set_position(&text, l, c);
            if err
                .at
                .source_line
                .as_deref()
                .is_some_and(|s| s.contains('\t'))
            {
                err.hint = Some("indent with spaces: YAML does not allow tabs".into());
            }
        }
        err
    })?;
    if docs.is_empty() {
        docs.push(yaml::Document {
            tree: Value::Null,
            tags: vec![],
        });
    }
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        out.push(check(path, &text, doc, scope, trail, extended)?);
    }
    Ok(out)
}

/// Reads a file whose documents are merged into one (an extended file).
pub(super) fn read_merged(
    path: &FsPath,
    text: String,
    scope: &Scope,
    trail: &mut Trail,
) -> Result<Raw, LoadError> {
    let mut docs = read(path, text, scope, trail, true)?.into_iter();
    let Some(mut first) = docs.next() else {
        return Err(LoadError::new("empty file").in_file(path));
    };
    for doc in docs {
        merge::merge(&mut first.tree, doc.tree, &doc.tags);
        first.tags.extend(doc.tags);
    }
    Ok(first)
}

/// Interpolates and checks one document of a file.
fn check(
    path: &FsPath,
    text: &str,
    mut doc: yaml::Document,
    scope: &Scope,
    trail: &mut Trail,
    extended: bool,
) -> Result<Raw, LoadError> {
    if doc.tree.is_null() {
        doc.tree = json!({});
    }
    let raw = |tree: Value, tags: Vec<Tag>| Raw {
        path: path.to_path_buf(),
        text: text.to_string(),
        tree,
        tags,
    };
    if !doc.tree.is_object() {
        let msg = format!(
            "expected a mapping at the top of the file, found {}",
            canonical::kind(&doc.tree)
        );
        return Err(raw(Value::Null, vec![]).error(msg, &Path::root(), false));
    }
    if !scope.no_interpolate {
        let lookup = |k: &str| scope.vars.get(k).cloned();
        let unset = interpolate::tree(&mut doc.tree, &lookup).map_err(|e| {
            let hint = match &e.error {
                interpolate::TemplateError::Required { name, .. } => {
                    format!("set `{name}` in the environment or in the .env file")
                }
                interpolate::TemplateError::Invalid { .. } => {
                    "close each `${` with `}`, and write `$$` for a literal `$`".into()
                }
                interpolate::TemplateError::TooDeep => {
                    "nest fewer `${...}` inside one another (write `$$` for a literal `$`)".into()
                }
            };
            LoadError::new(e.error.to_string())
                .at(path, text, &e.path, false)
                .hint(hint)
        })?;
        trail
            .warnings
            .extend(unset.iter().map(|name| interpolate::unset_warning(name)));
    }
    // As written, `tty: yes` stays the word the reference prints.
    if !scope.as_written {
        super::yaml11_booleans(&mut doc.tree, &mut trail.warnings);
    }
    if let Some(v) = doc.tree.get("version").filter(|v| !v.is_string()) {
        // The reference's schema wants text (`version: 3.8` is a number, `version:` null).
        return Err(LoadError::new(format!(
            "`version` must be a string, found {}",
            super::canonical::kind(v)
        ))
        .at(path, text, &Path::root().key("version"), false)
        .hint("quote it (version: \"3.8\") or better remove it: it is obsolete"));
    }
    if let Some(map) = doc.tree.as_object_mut() {
        if map.shift_remove("version").is_some() && !extended {
            trail.warnings.push(format!(
                "{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
                path.display()
            ));
        }
    }
    let reset: Vec<Path> = doc
        .tags
        .iter()
        .filter_map(|t| match t {
            Tag::Reset(p) => Some(p.clone()),
            Tag::Override(_) => None,
        })
        .collect();
    validate::keys(&doc.tree, &reset).map_err(|(p, msg, hint)| {
        let mut e = LoadError::new(msg).at(path, text, &p, true);
        e.hint = hint;
        e
    })?;
    Ok(raw(doc.tree, doc.tags))
}

/// Brings a file's services to long syntax, with relative paths resolved against `dir` (only
/// partly when `as_written`: not interpolated).
pub(super) fn canonicalize(
    raw: &mut Raw,
    dir: &FsPath,
    scope: &Scope,
    warnings: &mut Vec<String>,
) -> Result<(), LoadError> {
    let as_written = scope.as_written;
    let text = &raw.text;
    if as_written {
        // Not interpolated: only what the reference brings to long syntax then.
        super::as_written(&mut raw.tree, dir)
            .map_err(|(p, msg)| LoadError::new(msg).at(&raw.path, text, &p, false))?;
        relpaths::absolutize(&mut raw.tree, dir);
        return Ok(());
    }
    if let Some(Value::Object(services)) = raw.tree.get_mut("services") {
        for (name, svc) in services.iter_mut() {
            let Value::Object(s) = svc else { continue };
            let sp = Path::root().key("services").key(name);
            for (p, msg) in super::forms::volume_modes(s, &sp) {
                let e = LoadError::new(msg).at(&raw.path, text, &p, false);
                let at = match (e.at.line, e.at.column) {
                    (Some(l), Some(c)) => format!("{}:{l}:{c}", raw.path.display()),
                    _ => raw.path.display().to_string(),
                };
                warnings.push(format!("{at}: {p}: {}", e.message));
            }
        }
    }
    super::canonicalize(&mut raw.tree, dir, scope.normalize)
        .map_err(|(p, msg)| LoadError::new(msg).at(&raw.path, text, &p, false))?;
    if let Some(Value::Object(services)) = raw.tree.get_mut("services") {
        for (name, svc) in services.iter_mut() {
            let Value::Object(s) = svc else { continue };
            let sp = Path::root().key("services").key(name);
            super::forms::service(s, &sp, dir).map_err(|(p, msg, hint)| {
                let mut e = LoadError::new(msg).at(&raw.path, text, &p, false);
                e.hint = hint;
                e
            })?;
            super::forms::mounts(s);
        }
    }
    relpaths::absolutize(&mut raw.tree, dir);
    Ok(())
}

/// Loads `files` (paths and texts) in order into one canonical tree.
pub(super) fn load(
    files: Vec<(PathBuf, String)>,
    scope: &Scope,
    trail: &mut Trail,
) -> Result<Value, LoadError> {
    let mut tree = json!({});
    let single = files.len() == 1;
    for (path, text) in files {
        let docs = read(&path, text, scope, trail, false)?;
        // One file with nothing in it is a mistake (several files may include an empty one).
        if single
            && docs
                .iter()
                .all(|d| d.tree.as_object().is_none_or(|m| m.is_empty()))
        {
            return Err(LoadError::new("empty compose file: it defines nothing")
                .in_file(&path)
                .hint("add a `services:` section, or check that -f names the right file"));
        }
        for mut raw in docs {
            trail.including.push(path.clone());
            let imported = include::apply(&mut raw, scope, trail);
            trail.including.pop();
            let imported = imported?;
            canonicalize(&mut raw, &scope.base(), scope, &mut trail.warnings)?;
            extends::apply(&mut raw, scope.dir, scope, trail)?;
            if let Some(imported) = imported {
                // An included resource is never merged: one the file defines again, identical,
                // is kept once.
                drop_identical(&mut raw.tree, &imported);
                merge::merge(&mut tree, imported, &[]);
            }
            merge::merge_mode(&mut tree, raw.tree, &raw.tags, scope.as_written);
            validate::unique(&tree).map_err(|(p, msg, hint)| {
                let mut e = LoadError::new(msg).at(&path, &raw.text, &p, true);
                e.hint = hint;
                e
            })?;
        }
    }
    merge::unicity(&mut tree);
    if scope.as_written {
        super::drop_valueless_args(&mut tree);
    }
    build_defaults(&mut tree, &scope.base(), scope.normalize);
    Ok(tree)
}

/// Removes from `tree` the services and resources `imported` defines the same.
fn drop_identical(tree: &mut Value, imported: &Value) {
    for section in ["services", "networks", "volumes", "secrets", "configs"] {
        let (Some(Value::Object(own)), Some(Value::Object(theirs))) =
            (tree.get_mut(section), imported.get(section))
        else {
            continue;
        };
        own.retain(|k, v| theirs.get(k) != Some(v));
    }
}

/// Once a project's files are merged: a `build` without `context` builds the project directory,
/// with `Dockerfile` unless a dockerfile is named (that one only when `normalize`, as the
/// reference names it). (Per file, these defaults would override what an earlier file or an
/// extended service set.)
fn build_defaults(tree: &mut Value, dir: &FsPath, normalize: bool) {
    let Some(Value::Object(services)) = tree.get_mut("services") else {
        return;
    };
    for svc in services.values_mut() {
        let Some(Value::Object(b)) = svc.get_mut("build") else {
            continue;
        };
        if !b.contains_key("context") {
            b.insert("context".into(), json!(canonical::absolute(".", dir)));
        }
        if normalize && !b.contains_key("dockerfile") && !b.contains_key("dockerfile_inline") {
            b.insert("dockerfile".into(), json!("Dockerfile"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_dir(
        text: &str,
        edit: impl FnOnce(&mut crate::parse::LoadOptions),
    ) -> crate::parse::Loaded {
        let work = tempfile::tempdir().expect("tempdir");
        let file = work.path().join("compose.yaml");
        std::fs::write(&file, text).expect("write");
        let mut opts = crate::parse::LoadOptions {
            files: vec![file.display().to_string()],
            project_name: Some("t".into()),
            cwd: work.path().to_path_buf(),
            ..Default::default()
        };
        edit(&mut opts);
        crate::parse::load(&opts).expect("loads")
    }

    #[test]
    fn not_interpolated_keeps_typed_fields_as_written() {
        let text = "services:\n  a:\n    image: x:${TAG}\n    ports: [\"${PORT:-80}:80\"]\n    read_only: ${RO:-false}\n    volumes: [data:/d]\n    depends_on: [b]\n  b:\n    image: y\n    profiles: [off]\nvolumes:\n  data:\n";
        let l = load_dir(text, |o| o.no_interpolate = true);
        let t = l.as_written.expect("the tree as written");
        let a = &t["services"]["a"];
        assert_eq!(a["ports"], json!(["${PORT:-80}:80"]));
        assert_eq!(a["read_only"], json!("${RO:-false}"));
        assert_eq!(a["image"], json!("x:${TAG}"));
        assert_eq!(a["volumes"][0]["type"], json!("volume"));
        assert_eq!(a["depends_on"]["b"]["condition"], json!("service_started"));
        // Profiles do not filter what is printed.
        assert!(t["services"].get("b").is_some());
        // Typed (for the listings and `--hash`): `${...}` where text is expected is kept...
        let text = "services:\n  a:\n    image: x:${TAG}\n    gpus: all\n";
        let l = load_dir(text, |o| {
            o.no_interpolate = true;
            o.typed_as_written = true;
        });
        assert_eq!(l.project.services["a"].image.as_deref(), Some("x:${TAG}"));
        // ...and fails where a number is.
        let text = "services:\n  a:\n    image: x\n    ports: [\"${PORT}:80\"]\n";
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("compose.yaml"), text).expect("write");
        let opts = crate::parse::LoadOptions {
            project_name: Some("t".into()),
            cwd: dir.path().to_path_buf(),
            no_interpolate: true,
            typed_as_written: true,
            ..Default::default()
        };
        assert!(crate::parse::load(&opts).is_err());
    }

    #[test]
    fn compose_project_name_is_the_name_in_use() {
        let text = "name: fromfile\nservices:\n  a:\n    image: x\n    labels: [\"p=${COMPOSE_PROJECT_NAME}\"]\n";
        let l = load_dir(text, |o| o.project_name = None);
        assert_eq!(l.project.services["a"].labels["p"], "fromfile");
        let l = load_dir(text, |o| {
            o.os_env
                .insert("COMPOSE_PROJECT_NAME".into(), "fromenv".into());
            o.project_name = Some("fromflag".into());
        });
        assert_eq!(l.project.services["a"].labels["p"], "fromflag");
    }

    #[test]
    fn build_defaults_come_after_merging() {
        let vars = env::Vars::new();
        let dir = FsPath::new("/p");
        let scope = Scope {
            vars: &vars,
            dir,
            no_interpolate: false,
            as_written: false,
            resolve_paths: true,
            root: dir,
            normalize: true,
        };
        let files = vec![
            (
                dir.join("a.yaml"),
                "services:\n  web:\n    build: {context: ctx, dockerfile: D}\n  job:\n    build: {}\n"
                    .to_string(),
            ),
            (
                dir.join("b.yaml"),
                "services:\n  web:\n    build: {target: prod}\n".to_string(),
            ),
        ];
        let t = load(files, &scope, &mut Trail::default()).unwrap();
        assert_eq!(
            t["services"]["web"]["build"],
            json!({"context": "/p/ctx", "dockerfile": "D", "target": "prod"})
        );
        assert_eq!(
            t["services"]["job"]["build"],
            json!({"context": "/p", "dockerfile": "Dockerfile"})
        );
    }
}
