//! `rcompose config`: the canonical, interpolated, merged model, or parts of it.

use clap::{Args, ValueEnum};
use std::collections::BTreeSet;

use super::out::out;
use super::{CliError, Context};
use crate::graph::hash;
use crate::parse::{self, interpolate, render};

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format [default: yaml]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the model to this file instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Only validate; print nothing
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Print the service names, one per line
    #[arg(long)]
    pub services: bool,
    /// Print the volume names, one per line
    #[arg(long)]
    pub volumes: bool,
    /// Print the network names, one per line
    #[arg(long)]
    pub networks: bool,
    /// Print the profile names, one per line
    #[arg(long)]
    pub profiles: bool,
    /// Print the image names, one per line
    #[arg(long)]
    pub images: bool,
    /// Print the model names, one per line
    #[arg(long)]
    pub models: bool,
    /// Don't check model consistency - warning: may produce invalid Compose output
    #[arg(long)]
    pub no_consistency: bool,
    /// Pin image tags to digests (from the local image store)
    #[arg(long)]
    pub resolve_image_digests: bool,
    /// Produces an override file with image digests (from the local image store)
    #[arg(long)]
    pub lock_image_digests: bool,
    /// Don't normalize compose model
    #[arg(long)]
    pub no_normalize: bool,
    /// Don't resolve file paths
    #[arg(long)]
    pub no_path_resolution: bool,
    /// Don't resolve service env files (the reference, v2.40.3, reads them all the same: so
    /// does rcompose)
    #[arg(long)]
    pub no_env_resolution: bool,
    /// Print `<service> <config hash>` for these services (comma-separated, `*` for all)
    #[arg(long, value_name = "SERVICES")]
    pub hash: Option<String>,
    /// Do not interpolate variables
    #[arg(long)]
    pub no_interpolate: bool,
    /// Print the environment used for interpolation
    #[arg(long)]
    pub environment: bool,
    /// Print the variables the files use, with their defaults (table, or --format json|yaml)
    #[arg(long)]
    pub variables: bool,
    /// Only these services
    #[arg(value_name = "SERVICE")]
    pub service_names: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

/// Of the listing flags, only the first in the reference's order counts (`--services` wins over
/// `--volumes`, `--hash` over `--profiles`, any of them over `-q`).
fn one_listing(args: &mut ConfigArgs) {
    let mut seen = false;
    let mut keep = |flag: &mut bool| {
        if *flag && seen {
            *flag = false;
        }
        seen |= *flag;
    };
    keep(&mut args.services);
    keep(&mut args.volumes);
    keep(&mut args.networks);
    keep(&mut args.models);
    let mut hash = args.hash.is_some();
    keep(&mut hash);
    if !hash {
        args.hash = None;
    }
    keep(&mut args.profiles);
    keep(&mut args.images);
    keep(&mut args.variables);
    keep(&mut args.environment);
    if seen {
        args.quiet = false;
    }
}

pub(super) async fn run(ctx: &Context, mut args: ConfigArgs) -> Result<(), CliError> {
    one_listing(&mut args);
    // As in docker compose, these listings ignore the services named on the command line.
    let ignore_named = args.services || args.volumes || args.networks || args.hash.is_some();
    let named: &[String] = if ignore_named {
        &[]
    } else {
        &args.service_names
    };
    let mut opts = ctx.load_options(named);
    let listing = args.services
        || args.volumes
        || args.networks
        || args.profiles
        || args.images
        || args.models
        || args.environment
        || args.hash.is_some();
    // Not interpolated, the model is printed as written (listings need the typed model).
    opts.no_interpolate = args.no_interpolate || args.variables;
    // Listings and hashes read the typed model, not interpolated all the same.
    opts.typed_as_written = args.no_interpolate && listing && !args.variables;
    opts.no_consistency = args.no_consistency;
    opts.no_path_resolution = args.no_path_resolution;
    opts.no_normalize = args.no_normalize;
    // The reference hashes, for `--hash`, the service with its env files listed, not read.
    opts.list_env_files = args.hash.is_some();
    // Nor does it check, for `--hash`, that container names are unique.
    opts.container_names_unchecked = args.hash.is_some();
    let loaded = parse::load(&opts)?;
    for w in &loaded.warnings {
        super::warn::warn(w);
    }
    let mut project = loaded.project;
    parse::profiles::select(&mut project, named);
    if args.quiet {
        return Ok(());
    }
    if let Some(mut tree) = loaded.as_written {
        if args.variables {
            return print(&args, variables(&tree, args.format)?);
        }
        if let serde_json::Value::Object(root) = &mut tree {
            root.insert("name".into(), serde_json::json!(project.name));
        }
        let text = match args.format.unwrap_or(Format::Yaml) {
            // No final newline here, as the reference.
            Format::Json => {
                sort_keys(&mut tree, render::Flavour::Json);
                nil_lists(&mut tree);
                parse::emit::json_pretty(&tree)
            }
            Format::Yaml => {
                sort_keys(&mut tree, render::Flavour::Yaml);
                parse::yaml::to_string(&tree).map_err(CliError::new)?
            }
        };
        return print(&args, text);
    }
    if args.resolve_image_digests || args.lock_image_digests {
        let pinned = pin_images(ctx, &mut project).await?;
        if args.lock_image_digests {
            let services: serde_json::Map<String, serde_json::Value> = pinned
                .into_iter()
                .map(|(s, image)| (s, serde_json::json!({ "image": image })))
                .collect();
            let tree = serde_json::json!({ "services": services });
            let text = match args.format.unwrap_or(Format::Yaml) {
                Format::Json => serde_json::to_string_pretty(&tree).map_err(CliError::new)? + "\n",
                Format::Yaml => parse::yaml::to_string(&tree).map_err(CliError::new)?,
            };
            return print(&args, text);
        }
    }
    let lines: Option<Vec<String>> = if args.services {
        Some(dependency_order(&project))
    } else if args.volumes {
        Some(project.volumes.keys().cloned().collect())
    } else if args.networks {
        Some(project.networks.keys().cloned().collect())
    } else if args.profiles {
        let all: BTreeSet<String> = project
            .services
            .values()
            .chain(project.disabled_services.values())
            .flat_map(|s| s.profiles.iter().cloned())
            .collect();
        Some(all.into_iter().collect())
    } else if args.images {
        Some(
            project
                .services
                .values()
                .map(|s| s.image_name(&project.name))
                .collect(),
        )
    } else if args.models {
        Some(
            project
                .models
                .values()
                .map(|m| {
                    let name = m.get("model").and_then(serde_json::Value::as_str);
                    name.unwrap_or_default().to_string()
                })
                .collect(),
        )
    } else if let Some(which) = &args.hash {
        let wanted: Vec<&str> = which.split(',').map(str::trim).collect();
        if let Some(missing) = wanted
            .iter()
            .find(|w| **w != "*" && !project.services.contains_key(**w))
        {
            return Err(CliError::new(format!(
                "no such service: {missing}: not found"
            )));
        }
        // The reference prints them sorted by service name.
        let mut picked: Vec<&parse::Service> = project
            .services
            .values()
            .filter(|s| wanted.contains(&"*") || wanted.contains(&s.name.as_str()))
            .collect();
        picked.sort_by(|a, b| a.name.cmp(&b.name));
        Some(
            picked
                .iter()
                .map(|s| format!("{} {}", s.name, hash::service(s)))
                .collect(),
        )
    } else if args.environment {
        // Sorted, with the name in use, as the reference prints it.
        let mut env: std::collections::BTreeMap<&str, &str> = project
            .environment
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.insert("COMPOSE_PROJECT_NAME", &project.name);
        Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect())
    } else {
        None
    };
    let text = match lines {
        Some(l) => l.iter().map(|x| format!("{x}\n")).collect::<String>(),
        None => {
            let flavour = match args.format.unwrap_or(Format::Yaml) {
                Format::Json => render::Flavour::Json,
                Format::Yaml => render::Flavour::Yaml,
            };
            let mut tree = render::project(&project, flavour);
            if !args.no_interpolate {
                render::escape_dollars(&mut tree);
            }
            let text = match flavour {
                render::Flavour::Json => {
                    ssh_key_json(&tree)?;
                    // As the reference: Go's indented JSON, without a final newline.
                    parse::emit::json_pretty(&tree)
                }
                render::Flavour::Yaml => parse::yaml::to_string(&tree).map_err(CliError::new)?,
            };
            left_to_exit(tree);
            text
        }
    };
    left_to_exit(project);
    print(&args, text)
}

/// Leaves a tree the process no longer needs to the exit: freeing a large project piece by
/// piece costs a tenth of `config`'s time, and the system takes the memory back at once.
fn left_to_exit<T>(tree: T) {
    std::mem::forget(tree);
}

/// The reference cannot print a `build.ssh` key with a path as JSON (its marshaller writes
/// `"id": path`, which is not a JSON value) and fails; so does rcompose, the same way.
fn ssh_key_json(tree: &serde_json::Value) -> Result<(), CliError> {
    let with_path = tree
        .get("services")
        .and_then(|s| s.as_object())
        .into_iter()
        .flat_map(|s| s.values())
        .filter_map(|svc| svc.pointer("/build/ssh").and_then(|v| v.as_array()))
        .flatten()
        .any(|key| key.as_str().is_some_and(|k| k.contains(": ")));
    if with_path {
        return Err(CliError::new(
            "json: error calling MarshalJSON for type types.SSHKey: invalid character ':' after \
             top-level value",
        ));
    }
    Ok(())
}

/// Pins the image of every service that names one to its digest in the local image store;
/// returns each service's pinned image.
async fn pin_images(
    ctx: &Context,
    project: &mut parse::Project,
) -> Result<Vec<(String, String)>, CliError> {
    let mut images: Vec<String> = project
        .services
        .values()
        .filter_map(|s| s.image.clone())
        .filter(|i| !i.contains('@'))
        .collect();
    images.sort();
    images.dedup();
    let digests = if images.is_empty() {
        Default::default()
    } else {
        let (rt, _renderer) = ctx.runtime().await?;
        rt.local_digests(&images).await.map_err(CliError::new)?
    };
    let mut pinned = Vec::new();
    for svc in project.services.values_mut() {
        let Some(image) = &svc.image else { continue };
        let full = match digests.get(image) {
            Some(d) => format!("{}@{d}", docker_reference(image)),
            None => image.clone(),
        };
        svc.image = Some(full.clone());
        pinned.push((svc.name.clone(), full));
    }
    Ok(pinned)
}

/// An image name in full: registry, repository and tag (`redis` is
/// `docker.io/library/redis:latest`).
fn docker_reference(image: &str) -> String {
    let (name, tag) = match image.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (image, "latest"),
    };
    let first = name.split('/').next().unwrap_or(name);
    let name = if !name.contains('/') {
        format!("docker.io/library/{name}")
    } else if first.contains('.') || first.contains(':') || first == "localhost" {
        name.to_string()
    } else {
        format!("docker.io/{name}")
    };
    format!("{name}:{tag}")
}

/// Service names as the reference lists them: by name, each after the services it depends on.
fn dependency_order(project: &parse::Project) -> Vec<String> {
    fn visit(project: &parse::Project, name: &str, out: &mut Vec<String>, seen: &mut Vec<String>) {
        if seen.iter().any(|s| s == name) {
            return;
        }
        seen.push(name.to_string());
        if let Some(svc) = project.services.get(name) {
            let mut deps: Vec<&String> = svc.depends_on.keys().collect();
            deps.sort();
            for d in deps {
                visit(project, d, out, seen);
            }
            out.push(name.to_string());
        }
    }
    let mut names: Vec<&String> = project.services.keys().collect();
    names.sort();
    let (mut out, mut seen) = (Vec::new(), Vec::new());
    for n in names {
        visit(project, n, &mut out, &mut seen);
    }
    out
}

/// Mapping keys in order at every level, as the reference prints a model it did not
/// interpolate (a plain map): byte order in JSON, go-yaml's natural order (`svc9` before
/// `svc10`) in YAML.
fn sort_keys(v: &mut serde_json::Value, flavour: render::Flavour) {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<(String, serde_json::Value)> =
                std::mem::take(m).into_iter().collect();
            parse::shape::sort_keys(&mut entries, flavour);
            for (k, mut v) in entries {
                sort_keys(&mut v, flavour);
                m.insert(k, v);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| sort_keys(i, flavour)),
        _ => {}
    }
}

/// The attributes compose-go leaves a nil list when they are empty (`command: []`): JSON
/// prints them `null` (YAML `[]`).
fn nil_lists(tree: &mut serde_json::Value) {
    let Some(serde_json::Value::Object(services)) = tree.get_mut("services") else {
        return;
    };
    let empty =
        |v: Option<&serde_json::Value>| v.and_then(|v| v.as_array()).is_some_and(Vec::is_empty);
    for svc in services.values_mut() {
        for key in ["command", "entrypoint", "environment"] {
            if empty(svc.get(key)) {
                svc[key] = serde_json::Value::Null;
            }
        }
        for (outer, key) in [("healthcheck", "test"), ("build", "args")] {
            if let Some(o) = svc.get_mut(outer).filter(|o| o.is_object()) {
                if empty(o.get(key)) {
                    o[key] = serde_json::Value::Null;
                }
            }
        }
    }
}

/// `--variables`: a table as the reference prints it, or JSON / YAML with `--format`; `tree` is
/// the model as written.
fn variables(tree: &serde_json::Value, format: Option<Format>) -> Result<String, CliError> {
    let found = interpolate::tree_variables(tree);
    match format {
        None => {
            let mut text = format!(
                "{:<20}{:<20}{:<20}{}\n",
                "NAME", "REQUIRED", "DEFAULT VALUE", "ALTERNATE VALUE"
            );
            for v in found.values() {
                text += &format!(
                    "{:<20}{:<20}{:<20}{}\n",
                    v.name, v.required, v.default_value, v.presence_value
                );
            }
            Ok(text)
        }
        // As the reference: Go's JSON indented by 4, then an empty line.
        Some(Format::Json) => {
            let tree = serde_json::to_value(&found).map_err(CliError::new)?;
            Ok(parse::emit::json_indented(&tree, b"    ") + "\n\n")
        }
        Some(Format::Yaml) => {
            let lower: serde_json::Map<String, serde_json::Value> = found
                .iter()
                .map(|(k, v)| {
                    let row = serde_json::json!({
                        "name": v.name,
                        "defaultvalue": v.default_value,
                        "presencevalue": v.presence_value,
                        "required": v.required,
                    });
                    (k.clone(), row)
                })
                .collect();
            // go-yaml's default indentation (4), as the reference prints it here.
            Ok(parse::emit::yaml_indented(
                &serde_json::Value::Object(lower),
                4,
            ))
        }
    }
}

fn print(args: &ConfigArgs, text: String) -> Result<(), CliError> {
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::new(format!("cannot write `{}`: {e}", path.display()))),
        None => {
            out!("{text}")?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_in_full() {
        assert_eq!(docker_reference("redis"), "docker.io/library/redis:latest");
        assert_eq!(docker_reference("redis:7"), "docker.io/library/redis:7");
        assert_eq!(docker_reference("org/app:1"), "docker.io/org/app:1");
        assert_eq!(
            docker_reference("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(docker_reference("ghcr.io/o/a:v2"), "ghcr.io/o/a:v2");
    }

    #[test]
    fn services_in_dependency_order() {
        let mut p = parse::Project::default();
        for (name, deps) in [
            ("zeta", vec![]),
            ("alpha", vec!["mid"]),
            ("mid", vec!["zeta"]),
            ("beta", vec![]),
        ] {
            let mut s = parse::Service {
                name: name.into(),
                ..Default::default()
            };
            for d in deps {
                s.depends_on.insert(d.into(), parse::DependsOn::default());
            }
            p.services.insert(name.into(), s);
        }
        assert_eq!(dependency_order(&p), ["zeta", "mid", "alpha", "beta"]);
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        config: ConfigArgs,
    }

    fn listing(argv: &[&str]) -> ConfigArgs {
        use clap::Parser;
        let mut a = Cli::parse_from(std::iter::once("config").chain(argv.iter().copied())).config;
        one_listing(&mut a);
        a
    }

    #[test]
    fn the_first_listing_flag_in_the_reference_order_wins() {
        let a = listing(&["--volumes", "--services"]);
        assert!(a.services && !a.volumes);
        let a = listing(&["--profiles", "--hash", "*", "-q"]);
        assert!(a.hash.is_some() && !a.profiles && !a.quiet);
        let a = listing(&["--models", "--hash", "*"]);
        assert!(a.models && a.hash.is_none());
        let a = listing(&["--environment", "--variables"]);
        assert!(a.variables && !a.environment);
        let a = listing(&["-q"]);
        assert!(a.quiet);
    }
}
