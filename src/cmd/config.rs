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

pub(super) fn run(ctx: &Context, args: ConfigArgs) -> Result<(), CliError> {
    // As in docker compose, these listings ignore the services named on the command line.
    let ignore_named = args.services || args.volumes || args.networks || args.hash.is_some();
    let named: &[String] = if ignore_named {
        &[]
    } else {
        &args.service_names
    };
    let mut opts = ctx.load_options(named);
    opts.no_interpolate = args.no_interpolate || args.variables;
    // The reference hashes, for `--hash`, the service with its env files listed, not read.
    opts.list_env_files = args.hash.is_some();
    let loaded = parse::load(&opts)?;
    for w in &loaded.warnings {
        eprintln!("WARN[0000] {w}");
    }
    let mut project = loaded.project;
    parse::profiles::select(&mut project, named);
    if args.quiet {
        return Ok(());
    }
    if args.variables {
        return print(&args, variables(&project, args.format)?);
    }
    let lines: Option<Vec<String>> = if args.services {
        Some(project.services.keys().cloned().collect())
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
        Some(
            project
                .environment
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
        )
    } else {
        None
    };
    let text = match lines {
        Some(l) => l.iter().map(|x| format!("{x}\n")).collect::<String>(),
        None => match args.format.unwrap_or(Format::Yaml) {
            Format::Json => {
                let mut tree = render::project(&project, render::Flavour::Json);
                if !args.no_interpolate {
                    render::escape_dollars(&mut tree);
                }
                // As the reference: Go's indented JSON, without a final newline.
                parse::emit::json_pretty(&tree)
            }
            Format::Yaml => {
                let mut tree = render::project(&project, render::Flavour::Yaml);
                if !args.no_interpolate {
                    render::escape_dollars(&mut tree);
                }
                parse::yaml::to_string(&tree).map_err(CliError::new)?
            }
        },
    };
    print(&args, text)
}

/// `--variables`: a table as the reference prints it, or JSON / YAML with `--format`.
fn variables(project: &parse::Project, format: Option<Format>) -> Result<String, CliError> {
    let found = interpolate::tree_variables(&render::project(project, render::Flavour::Json));
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
