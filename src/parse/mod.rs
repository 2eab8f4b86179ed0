//! The compose loader: files and options in, a typed [`Project`] out. Never touches the engine.
//!
//! Stages, each in its own module: `discover` the files, read the [`env`], then `files` loads
//! them: parse the [`yaml`], [`interpolate`] each file, import its `include`s (sub-projects), bring
//! it to [`canonical`] long syntax, resolve its `extends`, `merge` the files; then normalise
//! (names, the default network), select services by [`profiles`], build the typed [`model`] and
//! [`validate`] references.

pub mod canonical;
pub mod develop;
mod discover;
mod dotenv;
pub mod emit;
pub mod env;
pub mod error;
mod extends;
mod files;
mod forms;
pub mod hooks;
#[cfg(test)]
mod hostile;
mod include;
pub mod interpolate;
mod lenient;
#[cfg(test)]
mod likely_name_tests;
mod merge;
pub mod model;
pub mod name;
pub mod path;
pub mod profiles;
#[cfg(test)]
mod regressions;
mod relpaths;
pub mod render;
pub mod shape;
pub mod shellwords;
pub mod units;
pub mod validate;
pub mod yaml;

use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};

pub use error::{LoadError, LoadErrorKind};
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
    /// With `no_interpolate`: still build the typed project (the listings and `--hash` of
    /// `config --no-interpolate`), which fails where a typed field holds `${...}`.
    pub typed_as_written: bool,
    /// List each service's env files (absolute) instead of reading them into `environment`: the
    /// model the reference hashes for `config --hash` (its `up` hashes the resolved one).
    pub list_env_files: bool,
    /// No implicit default network, dependencies or resource names (`config --no-normalize`).
    pub no_normalize: bool,
    /// Keep relative paths as written (`config --no-path-resolution`).
    pub no_path_resolution: bool,
    /// Skip the checks that references name something defined, that dependencies have no cycle
    /// and that container names are unique (`config --no-consistency`).
    pub no_consistency: bool,
    /// Skip only the check that no two services share a `container_name` (`config --hash`, which
    /// the reference answers without it).
    pub container_names_unchecked: bool,
    /// Keep networks, volumes, secrets and configs no service uses (`--all-resources`).
    pub all_resources: bool,
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
    /// With `no_interpolate`: the tree as the reference prints it then, since values such as
    /// `ports: ["${PORT}:80"]` have no typed form (the project then holds no services).
    pub as_written: Option<Value>,
}

/// A project's files and environment, read but not yet parsed: the first stage of [`load`].
/// Read once: a name guessed from it ([`likely_name`]) and the load ([`load_read`]) share it,
/// which matters when a file is standard input.
pub struct Read {
    dotenv: env::Vars,
    /// The environment interpolation sees: `.env` under the OS environment.
    vars: env::Vars,
    warnings: Vec<String>,
    working_dir: PathBuf,
    /// Each file's path and text, in order.
    inputs: Vec<(PathBuf, String)>,
}

/// Finds and reads the project's files and environment files.
pub fn read(opts: &LoadOptions) -> Result<Read, LoadError> {
    let os = &opts.os_env;
    let cwd = &opts.cwd;
    let start = match &opts.project_directory {
        Some(d) => discover::absolute(cwd, d),
        None => cwd.clone(),
    };
    // Unset variables the env files refer to: warned of, for the files finally read.
    let mut env_warnings = Vec::new();
    let mut dotenv = env::read_all_noting(
        &env::files(&opts.env_files, os, cwd, &start),
        os,
        &mut env_warnings,
    )?;
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
    let (found, mut found_warnings) = discover::files(&named, cwd, &start)?;
    let working_dir = match (&opts.project_directory, found.first()) {
        (Some(_), _) => start.clone(),
        (None, Some(discover::Source::File(f))) => {
            f.parent().map(FsPath::to_path_buf).unwrap_or(start.clone())
        }
        _ => start.clone(),
    };
    if opts.env_files.is_empty() && working_dir != start && !os.contains_key("COMPOSE_ENV_FILES") {
        env_warnings.clear();
        dotenv = env::read_all_noting(
            &env::files(&[], os, cwd, &working_dir),
            os,
            &mut env_warnings,
        )?;
    }
    let mut vars = env::overlay(&dotenv, os);
    // docker compose makes `PWD` available even when the shell did not export it.
    if !vars.contains_key("PWD") {
        vars.insert("PWD".into(), cwd.display().to_string());
    }

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
    // The reference reads the project's env files four times, warning each time: so many.
    for _ in 0..4 {
        found_warnings.extend(env_warnings.iter().cloned());
    }
    Ok(Read {
        dotenv,
        vars,
        warnings: found_warnings,
        working_dir,
        inputs,
    })
}

/// The name the project most likely has, found without parsing its files: `-p`, then
/// `COMPOSE_PROJECT_NAME`, then a top-level `name:` line, then the folder. A guess, which lets a
/// command ask the engine for the project's state while the files load ([`load`] decides);
/// `None` when the name cannot be told without parsing (an interpolated `name:`). `read` is
/// what [`read`] gave for `opts`: without files, only `-p` and the environment name it.
pub fn likely_name(opts: &LoadOptions, read: Option<&Read>) -> Option<String> {
    let from_env = || {
        opts.os_env
            .get("COMPOSE_PROJECT_NAME")
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let Some(read) = read else {
        return opts.project_name.clone().or_else(from_env);
    };
    let tree = match read
        .inputs
        .iter()
        .rev()
        .find_map(|(_, t)| top_level_name(t))
    {
        Some(Some(n)) => json!({ "name": n }),
        Some(None) => {
            let decided = opts.project_name.is_some()
                || from_env().is_some()
                || read
                    .dotenv
                    .get("COMPOSE_PROJECT_NAME")
                    .is_some_and(|v| !v.is_empty());
            if !decided {
                return None;
            }
            json!({})
        }
        None => json!({}),
    };
    project_name(opts, &tree, &read.working_dir, &read.dotenv).ok()
}

/// The value of a top-level `name:` line of a compose file's text; `Some(None)` when it is not a
/// plain value (interpolated, an alias, a block).
fn top_level_name(text: &str) -> Option<Option<String>> {
    let v = text.lines().rev().find_map(|l| l.strip_prefix("name:"))?;
    let v = v.split(" #").next().unwrap_or_default().trim();
    let v = match (v.strip_prefix('"'), v.strip_prefix('\'')) {
        (Some(q), _) => q.strip_suffix('"').unwrap_or("\""),
        (_, Some(q)) => q.strip_suffix('\'').unwrap_or("'"),
        _ => v,
    };
    let plain = !v.contains(['$', '&', '*', '{', '[', '|', '>', '"', '\'', '\\']);
    Some(plain.then(|| v.to_string()))
}

/// Loads the project the options describe.
pub fn load(opts: &LoadOptions) -> Result<Loaded, LoadError> {
    load_read(opts, read(opts)?)
}

/// Loads the project the options describe from its files as [`read`] gave them. An error carries
/// the warnings given before it.
pub fn load_read(opts: &LoadOptions, read: Read) -> Result<Loaded, LoadError> {
    let mut warnings = Vec::new();
    load_warning(opts, read, &mut warnings).map_err(|mut e| {
        e.warnings = warnings;
        e
    })
}

/// [`load_read`], each warning pushed to `warnings` as it comes (all of them on success).
fn load_warning(
    opts: &LoadOptions,
    read: Read,
    warnings: &mut Vec<String>,
) -> Result<Loaded, LoadError> {
    let cwd = &opts.cwd;
    let Read {
        dotenv,
        mut vars,
        warnings: found_warnings,
        working_dir,
        inputs,
    } = read;
    warnings.extend(found_warnings);
    let config_files: Vec<PathBuf> = inputs.iter().map(|f| f.0.clone()).collect();
    // `${COMPOSE_PROJECT_NAME}` is the name in use: `-p` wins over the environment and `.env`.
    if let Some(p) = &opts.project_name {
        vars.insert("COMPOSE_PROJECT_NAME".into(), p.clone());
    }
    let uses_name = !opts.no_interpolate
        && inputs
            .iter()
            .any(|(_, text)| text.contains("COMPOSE_PROJECT_NAME"));
    let mut retry = uses_name;
    let (mut tree, trail, name) = loop {
        let scope = files::Scope {
            vars: &vars,
            dir: &working_dir,
            no_interpolate: opts.no_interpolate,
            as_written: opts.no_interpolate && !opts.typed_as_written,
            resolve_paths: !opts.no_path_resolution,
            root: &working_dir,
            normalize: !opts.no_normalize,
        };
        let mut trail = files::Trail::default();
        let tree = match files::load(inputs.clone(), &scope, &mut trail) {
            Ok(tree) => tree,
            Err(e) => {
                warnings.append(&mut trail.warnings);
                return Err(e);
            }
        };
        let name = project_name(opts, &tree, &working_dir, &dotenv).map_err(|e| {
            match (&e.at.yaml_path, &e.at.file) {
                (Some(p), None) => {
                    let mut located = locate(&trail.sources, e.message.clone(), p, false);
                    located.hint = e.hint.clone();
                    located
                }
                _ => e,
            }
        })?;
        // The name comes from `name:` or the folder: load again with it known (only when a
        // file refers to it).
        if retry && vars.get("COMPOSE_PROJECT_NAME") != Some(&name) {
            retry = false;
            vars.insert("COMPOSE_PROJECT_NAME".into(), name.clone());
            continue;
        }
        break (tree, trail, name);
    };
    let sources = trail.sources;
    warnings.extend(trail.warnings);
    let locate = |msg: String, p: &Path, key: bool| locate(&sources, msg, p, key);

    let base = if opts.no_path_resolution {
        FsPath::new("")
    } else {
        working_dir.as_path()
    };
    warnings.extend(normalize(&mut tree, &name, base, !opts.no_normalize));
    if opts.no_interpolate && !opts.typed_as_written {
        return Ok(Loaded {
            project: Project {
                name,
                working_dir,
                config_files,
                environment: vars,
                sources,
                ..Default::default()
            },
            warnings: std::mem::take(warnings),
            as_written: Some(written_tree(tree)),
        });
    }
    resolve_env_files(
        &mut tree,
        &working_dir,
        &vars,
        opts.list_env_files,
        !opts.no_path_resolution,
        !opts.no_normalize,
        warnings,
    )
    .map_err(|(p, msg)| locate(msg, &p, false))?;

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
    // The sections are taken out of the tree (no copy) as they are typed.
    let mut root = match tree {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    project.networks = typed_map(&mut root, "networks").map_err(|(p, m)| locate(m, &p, false))?;
    project.volumes = typed_map(&mut root, "volumes").map_err(|(p, m)| locate(m, &p, false))?;
    project.secrets = typed_map(&mut root, "secrets").map_err(|(p, m)| locate(m, &p, false))?;
    project.configs = typed_map(&mut root, "configs").map_err(|(p, m)| locate(m, &p, false))?;
    let services: IndexMap<String, Service> =
        typed_map(&mut root, "services").map_err(|(p, m)| locate(m, &p, false))?;

    let active = profiles::with_named(active_profiles(opts, &dotenv), &services, &opts.services);
    for (name, mut svc) in services {
        svc.name = name.clone();
        // Extensions stay in `other`: YAML prints them, JSON and the config hash leave them out.
        if profiles::enabled(&svc, &active) {
            project.services.insert(name, svc);
        } else {
            project.disabled_services.insert(name, svc);
        }
    }
    if let Some(Value::Object(models)) = root.get("models") {
        project.models = models.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    }
    project.extensions = root
        .iter()
        .filter(|(k, _)| k.starts_with("x-"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !opts.no_consistency {
        validate::secret_sources(&project).map_err(|(p, msg, hint)| {
            let mut e = locate(msg, &p, true);
            e.hint = hint;
            e
        })?;
    }
    if !opts.all_resources {
        prune(&mut project);
    }
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
    let checks = validate::Checks {
        consistency: !opts.no_consistency,
        unique_container_names: !opts.no_consistency && !opts.container_names_unchecked,
    };
    validate::project(&project, checks).map_err(|(p, msg, hint)| {
        let mut e = locate(msg, &p, true);
        e.hint = hint;
        e
    })?;
    project.sources = sources;
    Ok(Loaded {
        project,
        warnings: std::mem::take(warnings),
        as_written: None,
    })
}

/// The not interpolated tree of `config --no-interpolate`: top-level sections kept only when not
/// empty.
fn written_tree(mut tree: Value) -> Value {
    // Every service is kept, whatever its profiles, as the reference does.
    if let Value::Object(root) = &mut tree {
        root.retain(|k, v| k == "services" || !v.as_object().is_some_and(Map::is_empty));
    }
    tree
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
                .filter(|v| v.kind == MountKind::Volume)
                .filter_map(|v| v.source.clone())
        })
        .collect();
    let secrets: Vec<String> = services
        .iter()
        .flat_map(|s| {
            let build = s
                .build
                .as_ref()
                .and_then(|b| b.other.get("secrets"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("source").and_then(Value::as_str))
                .map(str::to_string);
            s.secrets.iter().map(|r| r.source.clone()).chain(build)
        })
        .collect();
    let configs: Vec<String> = services
        .iter()
        .flat_map(|s| s.configs.iter().map(|r| r.source.clone()))
        .collect();
    let models: Vec<&String> = services
        .iter()
        .filter_map(|s| s.other.get("models").and_then(Value::as_object))
        .flat_map(|m| m.keys())
        .collect();
    project.models.retain(|k, _| models.contains(&k));
    project.networks.retain(|k, _| nets.contains(k));
    project.volumes.retain(|k, _| vols.contains(k));
    project.secrets.retain(|k, _| secrets.contains(k));
    project.configs.retain(|k, _| configs.contains(k));
}

/// An error pointing at `p` in the last of `sources` that holds it.
fn locate(sources: &[(PathBuf, String)], msg: String, p: &Path, key: bool) -> LoadError {
    // The node itself, else its closest ancestor present in a file.
    let mut probe = p.clone();
    loop {
        for (path, text) in sources.iter().rev() {
            if let Ok(doc) = yaml::parse(text) {
                if let Some(raw) = raw_path(&doc.tree, &probe) {
                    let mut e = LoadError::new(msg).at(path, text, &raw, key);
                    e.at.yaml_path = Some(p.clone());
                    return e;
                }
            }
        }
        if probe.segs().len() <= 2 {
            break;
        }
        probe.pop();
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
            // `env_file: a.env` is entry 0 of the canonical list.
            (Seg::Index(0), Value::String(_)) => {}
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
        let normalized = name::normalize(n);
        if normalized.is_empty() {
            return Err(LoadError::new(format!(
                "project name `{n}` has no letter or digit: nothing is left once normalised"
            ))
            .with_path(&Path::root().key("name"))
            .hint("use lowercase letters, digits, `-` and `_`"));
        }
        let n = normalized;
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

/// Short syntax to long syntax for one file's services (`normalize`: also what the reference
/// only does when it normalizes, not with `config --no-normalize`).
fn canonicalize(tree: &mut Value, base: &FsPath, normalize: bool) -> Result<(), Located> {
    for kind in ["networks", "volumes", "secrets", "configs"] {
        let Some(Value::Object(section)) = tree.get_mut(kind) else {
            continue;
        };
        for (key, res) in section.iter_mut() {
            if let Some(l) = res.get_mut("labels") {
                *l = canonical::key_values(l, false)
                    .map_err(|m| (Path::root().key(kind).key(key).key("labels"), m))?;
            }
            // The reference reads no `ipam.options`: they are dropped.
            if let Some(Value::Object(ipam)) = res.get_mut("ipam").filter(|_| kind == "networks") {
                ipam.shift_remove("options");
            }
            if kind == "secrets" {
                if let Some(o) = res.get_mut("driver_opts") {
                    *o = canonical::key_values(o, false)
                        .map_err(|m| (Path::root().key(kind).key(key).key("driver_opts"), m))?;
                }
            }
        }
    }
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
        let fixes: [(&str, Fix); 16] = [
            ("command", canonical::command),
            ("entrypoint", canonical::command),
            ("environment", |v| canonical::key_values(v, true)),
            ("labels", |v| canonical::key_values(v, false)),
            ("annotations", |v| canonical::key_values(v, false)),
            ("sysctls", |v| canonical::key_values(v, false)),
            ("depends_on", canonical::depends_on),
            ("networks", canonical::service_networks),
            ("ports", canonical::ports),
            ("secrets", |v| {
                canonical::file_refs(v, Some("/run/secrets/"))
            }),
            ("configs", |v| canonical::file_refs(v, None)),
            ("devices", canonical::devices),
            ("extra_hosts", canonical::extra_hosts),
            ("tmpfs", canonical::string_list),
            ("dns", canonical::string_list),
            ("dns_search", canonical::string_list),
        ];
        for (key, fix) in fixes {
            if let Some(v) = s.get_mut(key) {
                *v = fix(v).map_err(|m| (item_path(v, fix, sp.key(key)), m))?;
            }
        }
        if let Some(Value::String(p)) = s.get_mut("pull_policy").filter(|_| normalize) {
            if p == "if_not_present" {
                *p = "missing".into();
            }
        }
        if let Some(Value::Number(n)) = s.get("mem_swappiness") {
            let text = n.to_string();
            s.insert("mem_swappiness".into(), json!(text));
        }
        for hook in ["post_start", "pre_stop"] {
            if let Some(Value::Array(list)) = s.get_mut(hook) {
                for (i, h) in list.iter_mut().enumerate() {
                    if let Some(c) = h.get_mut("command") {
                        *c = canonical::command(c)
                            .map_err(|m| (sp.key(hook).index(i).key("command"), m))?;
                    }
                    if let Some(e) = h.get_mut("environment") {
                        *e = canonical::key_values(e, true)
                            .map_err(|m| (sp.key(hook).index(i).key("environment"), m))?;
                    }
                }
            }
        }
        for key in ["cap_add", "cap_drop"] {
            if let Some(Value::Array(list)) = s.get_mut(key) {
                let mut seen: Vec<Value> = Vec::new();
                list.retain(|v| {
                    let new = !seen.contains(v);
                    seen.push(v.clone());
                    new
                });
            }
        }
        if let Some(Value::Object(limits)) = s.get_mut("ulimits") {
            // Numbers written as text, alone or as `soft` / `hard` (`soft: "1024"`).
            let number = |v: &mut Value| {
                if let Some(n) = v.as_str().and_then(|t| t.trim().parse::<i64>().ok()) {
                    *v = json!(n);
                }
            };
            for v in limits.values_mut() {
                number(v);
                if let Value::Object(pair) = v {
                    pair.values_mut().for_each(number);
                }
            }
        }
        for key in ["env_file", "label_file"] {
            if let Some(v) = s.get_mut(key) {
                *v = canonical::string_list(v).map_err(|m| (sp.key(key), m))?;
            }
        }
        if let Some(v) = s.get_mut("volumes") {
            *v = canonical::service_volumes_as(v, base, normalize).map_err(|m| {
                let one = |x: &Value| canonical::service_volumes_as(x, base, normalize);
                (item_path(v, one, sp.key("volumes")), m)
            })?;
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
            if let Value::Object(bm) = b {
                // Defaults (context, dockerfile) come after merging: see `files::build_defaults`.
                if let Some(Value::String(ctx)) = bm.get_mut("context") {
                    if !canonical::is_remote(ctx) {
                        *ctx = canonical::absolute(ctx, base);
                    }
                }
                if let Some(extra) = bm.get_mut("additional_contexts") {
                    let mut m = canonical::key_values(extra, false)
                        .map_err(|m| (sp.key("build").key("additional_contexts"), m))?;
                    if let Value::Object(entries) = &mut m {
                        for v in entries.values_mut() {
                            if let Value::String(c) = v {
                                let named = c.starts_with("service:") || c.starts_with("target:");
                                if !named && !canonical::is_remote(c) {
                                    *c = canonical::absolute(c, base);
                                }
                            }
                        }
                    }
                    *extra = m;
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
            if let Some(sec) = b.get_mut("secrets") {
                *sec = canonical::file_refs(sec, None)
                    .map_err(|m| (sp.key("build").key("secrets"), m))?;
            }
            if let Some(h) = b.get_mut("extra_hosts") {
                *h = canonical::extra_hosts(h)
                    .map_err(|m| (sp.key("build").key("extra_hosts"), m))?;
            }
        }
    }
    Ok(())
}

/// The long syntax the reference gives a file it does not interpolate (`config
/// --no-interpolate`): references (`depends_on`, `networks`, `secrets`, `configs`), mounts,
/// `env_file` and `build`; everything else stays as written, `${...}` included. An entry that
/// only makes sense once interpolated is left as written.
fn as_written(tree: &mut Value, base: &FsPath) -> Result<(), Located> {
    let Some(Value::Object(services)) = tree.get_mut("services") else {
        return Ok(());
    };
    for (name, svc) in services.iter_mut() {
        if svc.is_null() {
            *svc = json!({});
        }
        let Value::Object(s) = svc else {
            let p = Path::root().key("services").key(name);
            return Err((
                p,
                format!("expected a mapping, found {}", canonical::kind(svc)),
            ));
        };
        type Fix = fn(&Value) -> Result<Value, String>;
        // compose-go brings each entry to long syntax on its own and keeps the ones it cannot
        // parse as written (`"${PORT}:80"`).
        if let Some(Value::Array(items)) = s.get_mut("volumes") {
            let mut out = Vec::with_capacity(items.len());
            for item in items.drain(..) {
                match canonical::service_volumes(&json!([item.clone()]), base) {
                    Ok(Value::Array(long)) => out.extend(long),
                    _ => out.push(item),
                }
            }
            *items = out;
        }
        // Ports in long syntax when they all parse (compose-go keeps the list as written when
        // one does not), the long ones with their defaults.
        if let Some(Value::Array(ports)) = s.get_mut("ports") {
            let mut long = Vec::with_capacity(ports.len());
            for item in ports.iter() {
                match item {
                    Value::Object(_) => long.push(item.clone()),
                    short => match canonical::ports(&json!([short])) {
                        Ok(Value::Array(l)) => long.extend(l),
                        _ => {
                            long = ports.clone();
                            break;
                        }
                    },
                }
            }
            for p in long.iter_mut().filter_map(Value::as_object_mut) {
                p.entry("mode").or_insert(json!("ingress"));
                p.entry("protocol").or_insert(json!("tcp"));
            }
            *ports = long;
        }
        // Text or list: a list (`dns_search` and `tmpfs` become lists only when merged).
        for key in ["label_file"] {
            if let Some(Value::String(one)) = s.get(key) {
                let one = one.clone();
                s.insert(key.into(), json!([one]));
            }
        }
        if let Some(Value::Object(u)) = s.get("ulimits") {
            // compose-go's check of a string limit fails (with this message) before typing.
            if let Some((k, _)) = u.iter().find(|(_, v)| v.is_string()) {
                let p = Path::root().key("services").key(name).key("ulimits").key(k);
                return Err((p.clone(), format!("{p}: invalid type string for external")));
            }
        }
        if let Some(Value::Object(d)) = s.get_mut("develop") {
            if let Some(Value::Array(rules)) = d.get_mut("watch") {
                // The reference's schema wants both, interpolated or not.
                for (i, r) in rules.iter().enumerate() {
                    let rp = || Path::root().key("services").key(name).key("develop");
                    for key in ["path", "action"] {
                        if r.is_object() && r.get(key).is_none() {
                            let p = rp().key("watch").index(i);
                            return Err((p, format!("the watch rule has no `{key}`")));
                        }
                    }
                }
                for r in rules.iter_mut().filter_map(Value::as_object_mut) {
                    for key in ["include", "ignore"] {
                        if let Some(Value::String(one)) = r.get(key) {
                            let one = one.clone();
                            r.insert(key.into(), json!([one]));
                        }
                    }
                    if let Some(Value::String(p)) = r.get_mut("path") {
                        *p = canonical::absolute(p, base);
                    }
                }
            }
        }
        if let Some(v) = s.get_mut("gpus") {
            if v.as_str() == Some("all") {
                *v = json!([{ "count": "all" }]);
            }
            if let Value::Array(list) = v {
                list.iter_mut().for_each(count_all);
            }
        }
        if let Some(Value::Array(list)) = s
            .get_mut("deploy")
            .and_then(|d| d.get_mut("resources"))
            .and_then(|r| r.get_mut("reservations"))
            .and_then(|r| r.get_mut("devices"))
        {
            list.iter_mut().for_each(count_all);
        }
        let fixes: [(&str, Fix); 7] = [
            ("devices", canonical::devices),
            ("dns", canonical::string_list),
            ("models", forms::names_to_mapping),
            ("depends_on", canonical::depends_on),
            ("networks", canonical::service_networks),
            ("secrets", |v| {
                canonical::file_refs(v, Some("/run/secrets/"))
            }),
            ("configs", |v| canonical::file_refs(v, None)),
        ];
        for (key, fix) in fixes {
            if let Some(v) = s.get_mut(key) {
                if let Ok(fixed) = fix(v) {
                    *v = fixed;
                }
            }
        }
        if let Some(Value::Array(dns)) = s.get_mut("dns") {
            dns.retain(|d| d.as_str() != Some(""));
        }
        if let Some(Value::String(p)) = s.get_mut("pull_policy") {
            if p == "if_not_present" {
                *p = "missing".into();
            }
        }
        if let Some(v) = s.get_mut("env_file") {
            if let Ok(Value::Array(list)) = canonical::string_list(v) {
                let long = list.into_iter().map(|e| match e {
                    Value::String(p) => json!({"path": p, "required": true}),
                    Value::Object(mut o) => {
                        o.entry("required").or_insert(json!(true));
                        Value::Object(o)
                    }
                    other => other,
                });
                *v = Value::Array(long.collect());
            }
        }
        if let Some(b) = s.get_mut("build") {
            if let Value::String(ctx) = b {
                *b = json!({ "context": ctx });
            }
            if let Some(Value::String(ctx)) = b.get_mut("context") {
                if !canonical::is_remote(ctx) {
                    *ctx = canonical::absolute(ctx, base);
                }
            }
            if let Some(Value::Array(list)) = b.get("additional_contexts") {
                let map: Map<String, Value> = list
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(|e| e.split_once('='))
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect();
                b["additional_contexts"] = Value::Object(map);
            }
            if let Some(Value::Array(list)) = b.get_mut("secrets") {
                for e in list.iter_mut() {
                    if let Value::String(src) = e {
                        *e = json!({ "source": src });
                    }
                }
            }
            if let Some(Value::Array(keys)) = b.get("ssh") {
                // Key paths are made absolute, as when interpolated.
                let map: Map<String, Value> = keys
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|k| match k.split_once('=') {
                        Some((id, path)) if !path.is_empty() => {
                            (id.to_string(), json!(canonical::absolute(path, base)))
                        }
                        Some((id, path)) => (id.to_string(), json!(path)),
                        None => (k.to_string(), Value::Null),
                    })
                    .collect();
                b["ssh"] = Value::Object(map);
            }
            if let Some(Value::Object(extra)) = b.get_mut("additional_contexts") {
                for c in extra.values_mut() {
                    if let Value::String(c) = c {
                        let named = c.starts_with("service:") || c.starts_with("target:");
                        if !named && !canonical::is_remote(c) && !c.contains("://") {
                            *c = canonical::absolute(c, base);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Once the files are merged (as written): build arguments without a value are left out (they
/// would come from the environment).
fn drop_valueless_args(tree: &mut Value) {
    let Some(Value::Object(services)) = tree.get_mut("services") else {
        return;
    };
    for svc in services.values_mut() {
        match svc.get_mut("build").and_then(|b| b.get_mut("args")) {
            Some(Value::Object(args)) => args.retain(|_, v| !v.is_null()),
            Some(Value::Array(args)) => args.retain(|a| a.as_str().is_none_or(|a| a.contains('='))),
            _ => {}
        }
    }
}

/// A device request without `count` nor `device_ids` asks for all devices (as written: the
/// word, where the typed model has -1).
fn count_all(d: &mut Value) {
    if let Value::Object(d) = d {
        if !d.contains_key("count") && !d.contains_key("device_ids") {
            d.insert("count".into(), json!("all"));
        }
    }
}

/// YAML 1.1 booleans (`yes`, `off`...) in boolean service attributes: read as booleans, with
/// docker compose's warning.
fn yaml11_booleans(tree: &mut Value, warnings: &mut Vec<String>) {
    const KEYS: &[&str] = &[
        "tty",
        "stdin_open",
        "read_only",
        "privileged",
        "init",
        "oom_kill_disable",
        "attach",
    ];
    let Some(Value::Object(services)) = tree.get_mut("services") else {
        return;
    };
    for svc in services.values_mut().filter_map(Value::as_object_mut) {
        for key in KEYS {
            let Some(Value::String(text)) = svc.get(*key) else {
                continue;
            };
            let b = match text.to_ascii_lowercase().as_str() {
                "yes" | "y" | "on" => true,
                "no" | "n" | "off" => false,
                _ => continue,
            };
            warnings.push(format!(
                "\"{text}\" for boolean is not supported by YAML 1.2, please use `{b}`"
            ));
            svc.insert((*key).to_string(), Value::Bool(b));
        }
    }
}

/// Implicit `depends_on` entries (explicit ones win): see [`model::implicit_dependencies`].
fn add_implicit_dependencies(s: &mut Map<String, Value>) {
    // Each form read by its one parser (the typed model reads the same texts later).
    fn parsed<T>(
        s: &Map<String, Value>,
        keys: &[&str],
        parse: fn(&str) -> Result<T, String>,
    ) -> Vec<T> {
        let mut out = Vec::new();
        for k in keys {
            let texts: Vec<&str> = match s.get(*k) {
                Some(Value::String(t)) => vec![t],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            out.extend(texts.into_iter().filter_map(|t| parse(t).ok()));
        }
        out
    }
    let modes = parsed(
        s,
        &["network_mode", "ipc", "pid"],
        canonical::namespace_mode,
    );
    let links = parsed(s, &["links"], canonical::link);
    let from = parsed(s, &["volumes_from"], canonical::volumes_from);
    let deps = model::implicit_dependencies(&modes, &links, &from);
    if deps.is_empty() {
        return;
    }
    let entry = s.entry("depends_on").or_insert(json!({}));
    let Value::Object(d) = entry else { return };
    for dep in deps {
        if d.contains_key(&dep.service) {
            continue;
        }
        let v = json!({"condition": "service_started", "required": true, "restart": dep.restart});
        d.insert(dep.service, v);
    }
}

/// The path of the first entry of list `v` that `fix` rejects on its own, else `p`.
fn item_path(v: &Value, fix: impl Fn(&Value) -> Result<Value, String>, p: Path) -> Path {
    if let Value::Array(items) = v {
        for (i, item) in items.iter().enumerate() {
            if fix(&Value::Array(vec![item.clone()])).is_err() {
                return p.index(i);
            }
        }
    }
    p
}

/// Resource names, the implicit default network, implicit dependencies, and null entries made
/// empty mappings.
/// With `names` false (`config --no-normalize`), only null entries are made mappings.
fn normalize(tree: &mut Value, project: &str, base: &FsPath, names: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    let Value::Object(root) = tree else {
        return warnings;
    };
    let mut needs_default = false;
    if let Some(Value::Object(services)) = root.get_mut("services").filter(|_| names) {
        for svc in services.values_mut() {
            let Value::Object(s) = svc else { continue };
            add_implicit_dependencies(s);
            let has_networks = s
                .get("networks")
                .is_some_and(|n| n.as_object().is_some_and(|m| !m.is_empty()));
            // A `provider` service runs no container: it joins no network.
            let attaches = !s.contains_key("network_mode") && !s.contains_key("provider");
            if !has_networks && attaches {
                s.insert("networks".into(), json!({ "default": null }));
                needs_default = true;
            }
            if s.get("networks")
                .is_some_and(|n| n.get("default").is_some())
            {
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
            let external = o.get("external").is_some_and(canonical::is_external);
            if let Some(Value::Object(ext)) = o.get("external").cloned() {
                // Legacy `external: {name: x}`.
                if let Some(n) = ext.get("name") {
                    warnings.push(format!(
                        "{kind}.{key}: external.name is deprecated. Please set name and external: true"
                    ));
                    o.insert("name".into(), n.clone());
                }
                o.insert("external".into(), json!(true));
            }
            if !o.contains_key("name") && names {
                let n = if external {
                    key.clone()
                } else {
                    name::resource(project, key)
                };
                o.insert("name".into(), json!(n));
            }
            if let Some(Value::String(f)) = o.get("file") {
                let abs = canonical::absolute(f, base);
                o.insert("file".into(), json!(abs));
            }
        }
    }
    warnings
}

/// Reads each service's `env_file`s into its `environment` (which wins), and fills keys without a
/// value from the environment.
/// With `list_only`, the env files are listed instead, as the reference prints them in JSON: the
/// absolute path, or `{path, required: false}`.
fn resolve_env_files(
    tree: &mut Value,
    base: &FsPath,
    vars: &env::Vars,
    list_only: bool,
    resolve_paths: bool,
    normalize: bool,
    warnings: &mut Vec<String>,
) -> Result<(), Located> {
    let Some(Value::Object(services)) = tree.get_mut("services") else {
        return Ok(());
    };
    // Services often share one env file: each is read once (by path and format).
    let mut read_before: HashMap<(PathBuf, bool), env::Vars> = HashMap::new();
    for (name, svc) in services.iter_mut() {
        let Value::Object(s) = svc else { continue };
        let mut from_files = Map::new();
        let mut listed = Vec::new();
        if let Some(Value::Array(list)) = s.shift_remove("env_file") {
            for (i, entry) in list.iter().enumerate() {
                let p = Path::root()
                    .key("services")
                    .key(name)
                    .key("env_file")
                    .index(i);
                let (path, required, raw) = match entry {
                    Value::String(p) => (p.clone(), true, false),
                    Value::Object(o) => (
                        o.get("path")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        match o.get("required") {
                            Some(Value::Bool(b)) => *b,
                            Some(Value::String(t)) => {
                                !matches!(t.as_str(), "false" | "False" | "FALSE")
                            }
                            _ => true,
                        },
                        o.get("format").and_then(Value::as_str) == Some("raw"),
                    ),
                    other => {
                        return Err((
                            p,
                            format!("expected a path, found {}", canonical::kind(other)),
                        ))
                    }
                };
                let abs = PathBuf::from(canonical::absolute(&path, base));
                if list_only {
                    // Not resolved (`--no-path-resolution`): listed as written.
                    let shown = match resolve_paths {
                        true => abs.display().to_string(),
                        false => path.clone(),
                    };
                    listed.push(if required {
                        json!(shown)
                    } else {
                        json!({"path": shown, "required": false})
                    });
                    continue;
                }
                let key = (abs, raw);
                if !read_before.contains_key(&key) {
                    let abs = &key.0;
                    if !abs.is_file() {
                        if required {
                            return Err((p, format!("env file `{}` not found", abs.display())));
                        }
                        continue;
                    }
                    let lookup = |k: &str| vars.get(k).cloned();
                    let read = env::read_file_noting(abs, raw, &lookup, warnings)
                        .map_err(|e| (p.clone(), e.message))?;
                    read_before.insert(key.clone(), read);
                }
                for (k, v) in read_before.get(&key).into_iter().flatten() {
                    from_files.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
        if let Some(Value::Array(list)) = s.shift_remove("label_file") {
            let mut from_files = Map::new();
            for (i, entry) in list.iter().enumerate() {
                let p = Path::root()
                    .key("services")
                    .key(name)
                    .key("label_file")
                    .index(i);
                let abs = PathBuf::from(canonical::absolute(entry.as_str().unwrap_or(""), base));
                if !abs.is_file() {
                    return Err((p, format!("label file `{}` not found", abs.display())));
                }
                let none = |_: &str| None;
                let read =
                    env::read_file(&abs, false, &none).map_err(|e| (p.clone(), e.message))?;
                for (k, v) in read {
                    from_files.insert(k, Value::String(v));
                }
            }
            let labels = s.entry("labels").or_insert(json!({}));
            if let Value::Object(l) = labels {
                for (k, v) in from_files {
                    l.entry(k).or_insert(v);
                }
            }
        }
        // Build arguments without a value take it from the environment, or are left out (when
        // normalized: `config --no-normalize` prints them without a value).
        if let Some(Value::Object(args)) = s
            .get_mut("build")
            .and_then(|b| b.get_mut("args"))
            .filter(|_| normalize)
        {
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
        if !listed.is_empty() {
            s.insert("env_file".into(), Value::Array(listed));
        }
    }
    Ok(())
}

/// serde's `invalid type: sequence, expected a string` as `expected a string, found a list`.
fn serde_message(m: &str) -> String {
    if m.contains("untagged enum Ulimit") {
        return "expected a number or a mapping with `soft` and `hard`".into();
    }
    let Some(rest) = m.strip_prefix("invalid type: ") else {
        return m.to_string();
    };
    let rest = rest.replace("expected a sequence", "expected a list");
    let rest = rest.as_str();
    let Some((found, expected)) = rest.split_once(", expected ") else {
        return m.to_string();
    };
    let found = match found {
        "sequence" => "a list".to_string(),
        "map" => "a mapping".to_string(),
        f if f.starts_with("string ") => format!("the string {}", &f[7..]),
        f if f.starts_with("integer ") => format!("the number {}", &f[8..]),
        f if f.starts_with("floating point ") => format!("the number {}", &f[15..]),
        f if f.starts_with("boolean ") => f[8..].to_string(),
        f => f.to_string(),
    };
    format!("expected {expected}, found {found}")
}

/// Deserialises one top-level section into typed values, reporting the path of a bad field.
fn typed_map<T: serde::de::DeserializeOwned>(
    root: &mut Map<String, Value>,
    section: &str,
) -> Result<IndexMap<String, T>, Located> {
    let mut out = IndexMap::new();
    let Some(v) = root.shift_remove(section) else {
        return Ok(out);
    };
    let Value::Object(m) = v else {
        return Err((
            Path::root().key(section),
            format!("expected a mapping, found {}", canonical::kind(&v)),
        ));
    };
    out.reserve(m.len());
    for (k, v) in m {
        // The common case without keeping a path at each step; a failure is read again with
        // one, to say where.
        if let Ok(typed) = T::deserialize(&v) {
            out.insert(k, typed);
            continue;
        }
        let base = Path::root().key(section).key(&k);
        let typed: T = serde_path_to_error::deserialize(v).map_err(|e| {
            let mut p = base.clone();
            for seg in e.path().iter() {
                match seg {
                    serde_path_to_error::Segment::Map { key } => p.push(Seg::Key(key.clone())),
                    serde_path_to_error::Segment::Seq { index } => p.push(Seg::Index(*index)),
                    _ => {}
                }
            }
            (p, serde_message(&e.into_inner().to_string()))
        })?;
        out.insert(k, typed);
    }
    Ok(out)
}
