//! The compose loader: files and options in, a typed [`Project`] out. Never touches the engine.
//!
//! Stages, each in its own module: [`discover`] the files, read the [`env`], then `files` loads
//! them: parse the [`yaml`], [`interpolate`] each file, import its `include`s (sub-projects), bring
//! it to [`canonical`] long syntax, resolve its `extends`, [`merge`] the files; then normalise
//! (names, the default network), select services by [`profiles`], build the typed [`model`] and
//! [`validate`] references.

pub mod canonical;
pub mod discover;
pub mod env;
pub mod error;
mod extends;
mod files;
mod include;
pub mod interpolate;
mod lenient;
pub mod merge;
pub mod model;
pub mod name;
pub mod path;
pub mod profiles;
mod relpaths;
pub mod render;
pub mod units;
pub mod validate;
pub mod yaml;

use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use std::path::{Path as FsPath, PathBuf};

pub use error::LoadError;
pub use model::*;
use path::{Path, Seg};

/// What the command line and the environment say about where and how to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f` values in order (`-` is standard input). Empty: `COMPOSE_FILE`, then discovery.
    pub files: Vec<String>,
    pub project_name: Option<String>,
    pub project_directory: Option<PathBuf>,
    pub env_files: Vec<PathBuf>,
    pub profiles: Vec<String>,
    /// Services named on the command line: enabled whatever their profiles.
    pub services: Vec<String>,
    /// The OS environment.
    pub os_env: env::Vars,
    pub cwd: PathBuf,
    /// Leave `${...}` as written (`config --no-interpolate`).
    pub no_interpolate: bool,
}

impl LoadOptions {
    /// Options with the process's environment and working directory.
    pub fn from_process() -> Self {
        LoadOptions {
            os_env: std::env::vars().collect(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            ..Default::default()
        }
    }
}

/// A loaded project and the warnings met on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub project: Project,
    pub warnings: Vec<String>,
}

/// Loads the project the options describe.
pub fn load(opts: &LoadOptions) -> Result<Loaded, LoadError> {
    let os = &opts.os_env;
    let cwd = &opts.cwd;
    let start = match &opts.project_directory {
        Some(d) => discover::absolute(cwd, d),
        None => cwd.clone(),
    };
    let mut dotenv = env::read_all(&env::files(&opts.env_files, os, cwd, &start), os)?;
    let compose_var = |k: &str, dotenv: &env::Vars| {
        os.get(k)
            .or_else(|| dotenv.get(k))
            .filter(|v| !v.is_empty())
            .cloned()
    };

    let named: Vec<String> = if !opts.files.is_empty() {
        opts.files.clone()
    } else if let Some(list) = compose_var("COMPOSE_FILE", &dotenv) {
        let sep = compose_var("COMPOSE_PATH_SEPARATOR", &dotenv).unwrap_or_else(|| ":".into());
        list.split(sep.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    } else {
        vec![]
    };
    let found = discover::files(&named, cwd, &start)?;
    let working_dir = match (&opts.project_directory, found.first()) {
        (Some(_), _) => start.clone(),
        (None, Some(discover::Source::File(f))) => {
            f.parent().map(FsPath::to_path_buf).unwrap_or(start.clone())
        }
        _ => start.clone(),
    };
    if opts.env_files.is_empty() && working_dir != start && !os.contains_key("COMPOSE_ENV_FILES") {
        dotenv = env::read_all(&env::files(&[], os, cwd, &working_dir), os)?;
    }
    let vars = env::overlay(&dotenv, os);

    let mut inputs = Vec::new();
    for src in &found {
        inputs.push(match src {
            discover::Source::Stdin => {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| LoadError::new(format!("cannot read standard input: {e}")))?;
                (cwd.join("-"), s)
            }
            discover::Source::File(p) => (p.clone(), files::read_text(p)?),
        });
    }
    let config_files: Vec<PathBuf> = inputs.iter().map(|f| f.0.clone()).collect();
    let scope = files::Scope {
        vars: &vars,
        dir: &working_dir,
        no_interpolate: opts.no_interpolate,
    };
    let mut trail = files::Trail::default();
    let mut tree = files::load(inputs, &scope, &mut trail)?;
    let (sources, warnings) = (trail.sources, trail.warnings);
    let locate = |msg: String, p: &Path, key: bool| locate(&sources, msg, p, key);

    let name = project_name(opts, &tree, &working_dir, &dotenv)?;
    normalize(&mut tree, &name, &working_dir);
    resolve_env_files(&mut tree, &working_dir, &vars).map_err(|(p, msg)| locate(msg, &p, false))?;

    let mut project = Project {
        name,
        working_dir: working_dir.clone(),
        config_files,
        env_files: opts
            .env_files
            .iter()
            .map(|p| discover::absolute(cwd, p))
            .collect(),
        environment: vars.clone(),
        ..Default::default()
    };
    let root = tree.as_object().cloned().unwrap_or_default();
    project.networks = typed_map(&root, "networks").map_err(|(p, m)| locate(m, &p, false))?;
    project.volumes = typed_map(&root, "volumes").map_err(|(p, m)| locate(m, &p, false))?;
    project.secrets = typed_map(&root, "secrets").map_err(|(p, m)| locate(m, &p, false))?;
    project.configs = typed_map(&root, "configs").map_err(|(p, m)| locate(m, &p, false))?;
    let services: IndexMap<String, Service> =
        typed_map(&root, "services").map_err(|(p, m)| locate(m, &p, false))?;

    let active = profiles::with_named(active_profiles(opts, &dotenv), &services, &opts.services);
    for (name, mut svc) in services {
        svc.name = name.clone();
        if profiles::enabled(&svc, &active) {
            project.services.insert(name, svc);
        } else {
            project.disabled_services.insert(name, svc);
        }
    }
    project.extensions = root
        .iter()
        .filter(|(k, _)| k.starts_with("x-"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    prune(&mut project);
    for s in &opts.services {
        if !project.services.contains_key(s) {
            let known = project.services.keys().map(String::as_str);
            let mut e = LoadError::new(format!("no such service: `{s}`"));
            if let Some(m) = error::did_you_mean(s, known) {
                e = e.hint(format!("did you mean `{m}`?"));
            }
            return Err(e);
        }
    }
    validate::project(&project).map_err(|(p, msg, hint)| {
        let mut e = locate(msg, &p, true);
        e.hint = hint;
        e
    })?;
    project.sources = sources;
    Ok(Loaded { project, warnings })
}

/// Drops networks, volumes, secrets and configs that no enabled service uses, as docker
/// compose does.
fn prune(project: &mut Project) {
    let services: Vec<&Service> = project.services.values().collect();
    let nets: Vec<String> = services
        .iter()
        .flat_map(|s| s.networks.keys().cloned())
        .collect();
    let vols: Vec<String> = services
        .iter()
        .flat_map(|s| {
            s.volumes
                .iter()
                .filter(|v| v.kind == "volume")
                .filter_map(|v| v.source.clone())
        })
        .collect();
    let secrets: Vec<String> = services
        .iter()
        .flat_map(|s| s.secrets.iter().map(|r| r.source.clone()))
        .collect();
    let configs: Vec<String> = services
        .iter()
        .flat_map(|s| s.configs.iter().map(|r| r.source.clone()))
        .collect();
    project.networks.retain(|k, _| nets.contains(k));
    project.volumes.retain(|k, _| vols.contains(k));
    project.secrets.retain(|k, _| secrets.contains(k));
    project.configs.retain(|k, _| configs.contains(k));
}

/// An error pointing at `p` in the last of `sources` that holds it.
fn locate(sources: &[(PathBuf, String)], msg: String, p: &Path, key: bool) -> LoadError {
    for (path, text) in sources.iter().rev() {
        if let Ok(doc) = yaml::parse(text) {
            if let Some(raw) = raw_path(&doc.tree, p) {
                let mut e = LoadError::new(msg).at(path, text, &raw, key);
                e.at.yaml_path = Some(p.clone());
                return e;
            }
        }
    }
    let mut e = LoadError::new(msg).with_path(p);
    if let Some((path, _)) = sources.last() {
        e.at.file = Some(path.clone());
    }
    e
}

/// The path of `p` in a file as written: a canonical mapping key may be a list entry there
/// (`depends_on: [db]`, `environment: [A=1]`).
fn raw_path(tree: &Value, p: &Path) -> Option<Path> {
    let mut cur = tree;
    let mut out = Path::root();
    for s in p.segs() {
        match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => {
                cur = m.get(k)?;
                out.push(s.clone());
            }
            (Seg::Index(i), Value::Array(a)) => {
                cur = a.get(*i)?;
                out.push(s.clone());
            }
            (Seg::Key(k), Value::Array(a)) => {
                let i = a.iter().position(|v| {
                    v.as_str().is_some_and(|x| {
                        x == k || x.starts_with(&format!("{k}=")) || x.starts_with(&format!("{k}:"))
                    })
                })?;
                cur = &a[i];
                out.push(Seg::Index(i));
            }
            _ => return None,
        }
    }
    Some(out)
}

fn project_name(
    opts: &LoadOptions,
    tree: &Value,
    dir: &FsPath,
    dotenv: &env::Vars,
) -> Result<String, LoadError> {
    if let Some(p) = &opts.project_name {
        return name::validate(p, "-p");
    }
    let from_env = opts
        .os_env
        .get("COMPOSE_PROJECT_NAME")
        .or_else(|| dotenv.get("COMPOSE_PROJECT_NAME"))
        .filter(|v| !v.is_empty());
    if let Some(p) = from_env {
        return name::validate(p, "COMPOSE_PROJECT_NAME");
    }
    if let Some(n) = tree
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        let n = name::normalize(n);
        if n.is_empty() {
            return Err(LoadError::new("project name must not be empty"));
        }
        return Ok(n);
    }
    let base = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = name::normalize(&base);
    if n.is_empty() {
        return Err(LoadError::new(format!(
            "project name must not be empty (the folder `{}` gives none)",
            dir.display()
        ))
        .hint("set `name:` in the compose file or pass -p NAME"));
    }
    Ok(n)
}

fn active_profiles(opts: &LoadOptions, dotenv: &env::Vars) -> Vec<String> {
    if !opts.profiles.is_empty() {
        // Each flag names one profile (no comma splitting, unlike COMPOSE_PROFILES).
        return opts
            .profiles
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
    }
    opts.os_env
        .get("COMPOSE_PROFILES")
        .or_else(|| dotenv.get("COMPOSE_PROFILES"))
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

type Located = (Path, String);

/// Short syntax to long syntax for one file's services.
fn canonicalize(tree: &mut Value, base: &FsPath) -> Result<(), Located> {
    let Some(Value::Object(services)) = tree.get_mut("services") else {
        return Ok(());
    };
    for (name, svc) in services.iter_mut() {
        let sp = Path::root().key("services").key(name);
        if svc.is_null() {
            *svc = json!({});
        }
        let Value::Object(s) = svc else {
            return Err((
                sp,
                format!("expected a mapping, found {}", canonical::kind(svc)),
            ));
        };
        type Fix = fn(&Value) -> Result<Value, String>;
        let fixes: [(&str, Fix); 15] = [
            ("command", canonical::command),
            ("entrypoint", canonical::command),
            ("environment", |v| canonical::key_values(v, true)),
            ("labels", |v| canonical::key_values(v, false)),
            ("annotations", |v| canonical::key_values(v, false)),
            ("sysctls", |v| canonical::key_values(v, false)),
            ("depends_on", canonical::depends_on),
            ("networks", canonical::service_networks),
            ("ports", canonical::ports),
            ("secrets", |v| canonical::file_refs(v, "/run/secrets/")),
            ("configs", |v| canonical::file_refs(v, "/")),
            ("extra_hosts", canonical::extra_hosts),
            ("tmpfs", canonical::string_list),
            ("dns", canonical::string_list),
            ("dns_search", canonical::string_list),
        ];
        for (key, fix) in fixes {
            if let Some(v) = s.get_mut(key) {
                *v = fix(v).map_err(|m| (sp.key(key), m))?;
            }
        }
        if let Some(v) = s.get_mut("env_file") {
            *v = canonical::string_list(v).map_err(|m| (sp.key("env_file"), m))?;
        }
        if let Some(v) = s.get_mut("volumes") {
            *v = canonical::service_volumes(v, base).map_err(|m| (sp.key("volumes"), m))?;
        }
        if let Some(Value::Object(h)) = s.get_mut("healthcheck") {
            if let Some(t) = h.get_mut("test") {
                *t = canonical::health_test(t)
                    .map_err(|m| (sp.key("healthcheck").key("test"), m))?;
            }
        }
        if let Some(b) = s.get_mut("build") {
            if let Value::String(ctx) = b {
                *b = json!({ "context": ctx });
            }
            // Defaults (context, dockerfile) come after merging: see `files::build_defaults`.
            if let Some(Value::String(ctx)) = b.get_mut("context") {
                if !ctx.contains("://") {
                    *ctx = canonical::absolute(ctx, base);
                }
            }
            if let Some(args) = b.get_mut("args") {
                *args = canonical::key_values(args, true)
                    .map_err(|m| (sp.key("build").key("args"), m))?;
            }
            if let Some(l) = b.get_mut("labels") {
                *l = canonical::key_values(l, false)
                    .map_err(|m| (sp.key("build").key("labels"), m))?;
            }
            if let Some(h) = b.get_mut("extra_hosts") {
                *h = canonical::extra_hosts(h)
                    .map_err(|m| (sp.key("build").key("extra_hosts"), m))?;
            }
        }
    }
    Ok(())
}

/// Resource names, the implicit default network, and null entries made empty mappings.
fn normalize(tree: &mut Value, project: &str, base: &FsPath) {
    let Value::Object(root) = tree else { return };
    let mut needs_default = false;
    if let Some(Value::Object(services)) = root.get_mut("services") {
        for svc in services.values_mut() {
            let Value::Object(s) = svc else { continue };
            let has_networks = s
                .get("networks")
                .is_some_and(|n| n.as_object().is_some_and(|m| !m.is_empty()));
            if !has_networks && !s.contains_key("network_mode") {
                s.insert("networks".into(), json!({ "default": null }));
                needs_default = true;
            }
        }
    }
    for kind in ["networks", "volumes", "secrets", "configs"] {
        let section = root.entry(kind).or_insert(json!({}));
        if section.is_null() {
            *section = json!({});
        }
        let Value::Object(m) = section else { continue };
        if kind == "networks" && needs_default && !m.contains_key("default") {
            m.insert("default".into(), json!({}));
        }
        for (key, v) in m.iter_mut() {
            if v.is_null() {
                *v = json!({});
            }
            let Value::Object(o) = v else { continue };
            let external = o
                .get("external")
                .is_some_and(|e| e.as_bool().unwrap_or(false) || e.is_object());
            if let Some(Value::Object(ext)) = o.get("external").cloned() {
                // Legacy `external: {name: x}`.
                if let Some(n) = ext.get("name") {
                    o.insert("name".into(), n.clone());
                }
                o.insert("external".into(), json!(true));
            }
            if !o.contains_key("name") {
                let n = if external {
                    key.clone()
                } else {
                    format!("{project}_{key}")
                };
                o.insert("name".into(), json!(n));
            }
            if let Some(Value::String(f)) = o.get("file") {
                let abs = canonical::absolute(f, base);
                o.insert("file".into(), json!(abs));
            }
        }
    }
}

/// Reads each service's `env_file`s into its `environment` (which wins), and fills keys without a
/// value from the environment.
fn resolve_env_files(tree: &mut Value, base: &FsPath, vars: &env::Vars) -> Result<(), Located> {
    let Some(Value::Object(services)) = tree.get_mut("services") else {
        return Ok(());
    };
    for (name, svc) in services.iter_mut() {
        let Value::Object(s) = svc else { continue };
        let mut from_files = Map::new();
        if let Some(Value::Array(list)) = s.shift_remove("env_file") {
            for (i, entry) in list.iter().enumerate() {
                let p = Path::root()
                    .key("services")
                    .key(name)
                    .key("env_file")
                    .index(i);
                let (path, required) = match entry {
                    Value::String(p) => (p.clone(), true),
                    Value::Object(o) => (
                        o.get("path")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        o.get("required").and_then(Value::as_bool).unwrap_or(true),
                    ),
                    other => {
                        return Err((
                            p,
                            format!("expected a path, found {}", canonical::kind(other)),
                        ))
                    }
                };
                let abs = PathBuf::from(canonical::absolute(&path, base));
                if !abs.is_file() {
                    if required {
                        return Err((p, format!("env file `{}` not found", abs.display())));
                    }
                    continue;
                }
                let read = env::read_file(&abs, vars).map_err(|e| (p.clone(), e.message))?;
                for (k, v) in read {
                    from_files.insert(k, Value::String(v));
                }
            }
        }
        // Build arguments without a value take it from the environment, or are left out.
        if let Some(Value::Object(args)) = s.get_mut("build").and_then(|b| b.get_mut("args")) {
            for (k, v) in args.iter_mut() {
                if v.is_null() {
                    if let Some(val) = vars.get(k) {
                        *v = Value::String(val.clone());
                    }
                }
            }
            args.retain(|_, v| !v.is_null());
        }
        let env = s.entry("environment").or_insert(json!({}));
        if let Value::Object(e) = env {
            for (k, v) in from_files {
                e.entry(k).or_insert(v);
            }
            for (k, v) in e.iter_mut() {
                if v.is_null() {
                    if let Some(val) = vars.get(k) {
                        *v = Value::String(val.clone());
                    }
                }
            }
            if e.is_empty() {
                s.shift_remove("environment");
            }
        }
    }
    Ok(())
}

/// Deserialises one top-level section into typed values, reporting the path of a bad field.
fn typed_map<T: serde::de::DeserializeOwned>(
    root: &Map<String, Value>,
    section: &str,
) -> Result<IndexMap<String, T>, Located> {
    let mut out = IndexMap::new();
    let Some(v) = root.get(section) else {
        return Ok(out);
    };
    let Value::Object(m) = v else {
        return Err((
            Path::root().key(section),
            format!("expected a mapping, found {}", canonical::kind(v)),
        ));
    };
    for (k, v) in m {
        let base = Path::root().key(section).key(k);
        let typed: T = serde_path_to_error::deserialize(v.clone()).map_err(|e| {
            let mut p = base.clone();
            for seg in e.path().iter() {
                match seg {
                    serde_path_to_error::Segment::Map { key } => p.push(Seg::Key(key.clone())),
                    serde_path_to_error::Segment::Seq { index } => p.push(Seg::Index(*index)),
                    _ => {}
                }
            }
            (p, e.into_inner().to_string())
        })?;
        out.insert(k.clone(), typed);
    }
    Ok(out)
}
