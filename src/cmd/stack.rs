//! `rcompose stack ...`: the project deployed to a swarm, named and labelled as `docker stack`
//! names them, so either tool manages the other's stacks.

use crate::parse::emit::json_compact;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

use super::out::{out, outln};
use super::template::Template;
use super::{warn, CliError, Context};
use crate::parse;
use crate::runtime::{DeployOptions, StackServiceRow, StackTaskRow};

#[derive(Debug, Args)]
pub struct StackArgs {
    #[command(subcommand)]
    pub command: StackCommand,
}

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Deploy a new stack or update an existing stack
    #[command(alias = "up")]
    Deploy(DeployArgs),
    /// List stacks
    #[command(alias = "list")]
    Ls(StackLsArgs),
    /// List the tasks in the stack
    Ps(StackPsArgs),
    /// List the services in the stack
    Services(StackServicesArgs),
    /// Remove one or more stacks
    #[command(aliases = ["remove", "down"])]
    Rm(StackRmArgs),
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Path to a Compose file (instead of the project's `-f` files)
    #[arg(short = 'c', long = "compose-file", value_name = "FILE")]
    pub compose_file: Vec<String>,
    /// Prune services that are no longer referenced
    #[arg(long)]
    pub prune: bool,
    /// Query the registry to resolve image digest and supported platforms ("always", "changed",
    /// "never"); this engine has no registry, so images are taken as they are on the node
    #[arg(long, value_name = "WHEN", default_value = "never", value_parser = ["always", "changed", "never"])]
    pub resolve_image: String,
    /// Exit immediately instead of waiting for the stack services to converge
    #[arg(short = 'd', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub detach: bool,
    /// Wait for every service to converge (all replicas running and healthy, jobs completed)
    #[arg(long)]
    pub wait: bool,
    /// Seconds to wait for a dependency's condition or, with --wait, for convergence
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
    /// Suppress progress output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Send registry authentication details to Swarm agents (no registry here: accepted, unused)
    #[arg(long)]
    pub with_registry_auth: bool,
    /// Stack name
    pub stack: String,
}

#[derive(Debug, Args)]
pub struct StackLsArgs {
    /// Format output using a custom template (`table`, `json`, or a Go template)
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct StackPsArgs {
    /// Format output using a custom template (`table`, `json`, or a Go template)
    #[arg(long)]
    pub format: Option<String>,
    /// Only display task IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Stack name
    pub stack: String,
}

#[derive(Debug, Args)]
pub struct StackServicesArgs {
    /// Format output using a custom template (`table`, `json`, or a Go template)
    #[arg(long)]
    pub format: Option<String>,
    /// Only display IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Stack name
    pub stack: String,
}

#[derive(Debug, Args)]
pub struct StackRmArgs {
    /// Stack names
    #[arg(required = true)]
    pub stacks: Vec<String>,
}

pub(super) async fn run(ctx: &Context, args: StackArgs) -> Result<(), CliError> {
    match args.command {
        StackCommand::Deploy(a) => deploy(ctx, a).await,
        StackCommand::Ls(a) => ls(ctx, a).await,
        StackCommand::Ps(a) => ps(ctx, a).await,
        StackCommand::Services(a) => services(ctx, a).await,
        StackCommand::Rm(a) => rm(ctx, a).await,
    }
}

/// A stack name as docker checks it: lowercase letters, digits, `-` and `_`, not empty.
fn check_name(name: &str) -> Result<(), CliError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(CliError::new(format!(
            "invalid stack name {name:?}: use lowercase letters, digits, dashes and underscores, starting with a letter or digit"
        )))
    }
}

async fn deploy(ctx: &Context, args: DeployArgs) -> Result<(), CliError> {
    check_name(&args.stack)?;
    let mut options = ctx.load_options(&[]);
    if !args.compose_file.is_empty() {
        options.files = args.compose_file.clone();
    }
    if options.project_name.is_none() {
        options.project_name = Some(args.stack.clone());
    }
    let loaded = parse::load(&options)?;
    for w in &loaded.warnings {
        warn::warn(w);
    }
    let project = loaded.project;
    let (rt, _renderer) = ctx.runtime().await?;
    let opts = DeployOptions {
        stack: args.stack.clone(),
        prune: args.prune,
        wait: args.wait || !args.detach,
        timeout: args.wait_timeout.map(Duration::from_secs),
    };
    let report = rt.stack_deploy(&project, &opts).await;
    let report = report?;
    for w in &report.warnings {
        warn::warn(w);
    }
    if !args.quiet {
        for c in &report.changes {
            outln!("{c}")?;
        }
    }
    match report.wait_failed {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// `table`, `json` or a template; `None` for the default table.
fn template(format: &Option<String>, default: &str) -> Result<Option<Template>, CliError> {
    match format.as_deref() {
        None | Some("") | Some("table") => {
            Ok(Some(Template::parse(default).map_err(CliError::new)?))
        }
        Some("json") => Ok(None),
        Some(f) => Ok(Some(Template::parse(f).map_err(CliError::new)?)),
    }
}

fn print(
    t: Option<Template>,
    rows: &[Map<String, Value>],
    header: impl Fn(&str) -> String,
) -> Result<(), CliError> {
    match t {
        Some(t) => out!("{}", t.render(rows, header).map_err(CliError::new)?)?,
        None => {
            for r in rows {
                outln!("{}", json_compact(&Value::Object(r.clone())))?;
            }
        }
    }
    Ok(())
}

fn upper(name: &str) -> String {
    match name {
        "DesiredState" => "DESIRED STATE".into(),
        "CurrentState" => "CURRENT STATE".into(),
        other => other.to_uppercase(),
    }
}

async fn ls(ctx: &Context, args: StackLsArgs) -> Result<(), CliError> {
    let (rt, _) = ctx.runtime().await?;
    let rows = rt.stack_services(None).await?;
    let mut stacks: Vec<(String, u64)> = Vec::new();
    for r in &rows {
        match stacks.iter_mut().find(|(n, _)| n == &r.stack) {
            Some((_, c)) => *c += 1,
            None => stacks.push((r.stack.clone(), 1)),
        }
    }
    stacks.sort();
    let rows: Vec<Map<String, Value>> = stacks
        .iter()
        .map(|(n, c)| {
            let v = json!({"Name": n, "Services": c.to_string()});
            v.as_object().cloned().unwrap_or_default()
        })
        .collect();
    print(
        template(&args.format, "table {{.Name}}\t{{.Services}}")?,
        &rows,
        upper,
    )
}

fn replicas(r: &StackServiceRow) -> String {
    match r.completed {
        Some(c) => format!(
            "{}/{} ({}/{} completed)",
            r.running, r.desired, c, r.desired
        ),
        None => format!("{}/{}", r.running, r.desired),
    }
}

async fn services(ctx: &Context, args: StackServicesArgs) -> Result<(), CliError> {
    check_name(&args.stack)?;
    let (rt, _) = ctx.runtime().await?;
    let rows = rt.stack_services(Some(&args.stack)).await?;
    if rows.is_empty() {
        eprintln!("Nothing found in stack: {}", args.stack);
        return Ok(());
    }
    if args.quiet {
        for r in &rows {
            outln!("{}", r.id)?;
        }
        return Ok(());
    }
    let table: Vec<Map<String, Value>> = rows
        .iter()
        .map(|r| {
            let v = json!({
                "ID": r.id.chars().take(12).collect::<String>(),
                "Name": r.name,
                "Mode": r.mode,
                "Replicas": replicas(r),
                "Image": r.image,
                "Ports": r.ports,
            });
            v.as_object().cloned().unwrap_or_default()
        })
        .collect();
    print(
        template(
            &args.format,
            "table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}",
        )?,
        &table,
        upper,
    )
}

/// `Running 5 seconds ago`, as docker words a task's state.
fn current_state(t: &StackTaskRow) -> String {
    let mut state = t.state.clone();
    if let Some(first) = state.get(..1) {
        state = first.to_uppercase() + &state[1..];
    }
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(&t.since) else {
        return state;
    };
    let secs = (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_seconds();
    format!("{state} {} ago", human(secs).to_lowercase())
}

/// docker's `units.HumanDuration`.
fn human(secs: i64) -> String {
    let mins = secs / 60;
    let hours = mins / 60;
    match secs {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        _ if mins == 1 => "About a minute".into(),
        _ if mins < 60 => format!("{mins} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

async fn ps(ctx: &Context, args: StackPsArgs) -> Result<(), CliError> {
    check_name(&args.stack)?;
    let (rt, _) = ctx.runtime().await?;
    let rows = rt.stack_tasks(&args.stack).await?;
    if rows.is_empty() {
        return Err(CliError::new(format!(
            "nothing found in stack: {}",
            args.stack
        )));
    }
    if args.quiet {
        for r in &rows {
            outln!("{}", r.id)?;
        }
        return Ok(());
    }
    let trunc = |s: &str, n: usize| {
        if args.no_trunc {
            s.to_string()
        } else {
            s.chars().take(n).collect()
        }
    };
    let table: Vec<Map<String, Value>> = rows
        .iter()
        .map(|r| {
            let error = if r.error.is_empty() {
                String::new()
            } else if args.no_trunc || r.error.len() < 30 {
                format!("\"{}\"", r.error)
            } else {
                format!("\"{}…\"", r.error.chars().take(28).collect::<String>())
            };
            let v = json!({
                "ID": trunc(&r.id, 12),
                "Name": r.name,
                "Image": r.image,
                "Node": r.node,
                "DesiredState": upper_first(&r.desired_state),
                "CurrentState": current_state(r),
                "Error": error,
                "Ports": r.ports,
            });
            v.as_object().cloned().unwrap_or_default()
        })
        .collect();
    print(
        template(
            &args.format,
            "table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}",
        )?,
        &table,
        upper,
    )
}

fn upper_first(s: &str) -> String {
    match s.get(..1) {
        Some(f) => f.to_uppercase() + &s[1..],
        None => String::new(),
    }
}

async fn rm(ctx: &Context, args: StackRmArgs) -> Result<(), CliError> {
    let (rt, _) = ctx.runtime().await?;
    let mut failed = false;
    for stack in &args.stacks {
        check_name(stack)?;
        match rt.stack_rm(stack).await {
            Ok(None) => {
                eprintln!("Nothing found in stack: {stack}");
            }
            Ok(Some(lines)) => {
                for l in lines {
                    outln!("{l}")?;
                }
            }
            Err(e) => {
                eprintln!("Failed to remove stack {stack}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        return Err(CliError::new("failed to remove some resources from stacks"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_word_as_docker() {
        assert_eq!(human(0), "Less than a second");
        assert_eq!(human(5), "5 seconds");
        assert_eq!(human(70), "About a minute");
        assert_eq!(human(600), "10 minutes");
        assert_eq!(human(3700), "About an hour");
    }

    #[test]
    fn stack_names_are_checked() {
        assert!(check_name("web_1").is_ok());
        assert!(check_name("Web").is_err());
        assert!(check_name("").is_err());
        assert!(check_name("_x").is_err());
    }
}
