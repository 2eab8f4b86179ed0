//! `rcompose ps`: the project's containers as a table, JSON lines, ids or service names.

use crate::parse::emit::json_compact;
use clap::Args;
use serde_json::json;

use super::out::{out, outln};
use super::template::Template;
use super::{CliError, Context};
use crate::runtime::{ContainerRow, Prefetch};

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers, stopped ones too
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only print container ids
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Print the services' names
    #[arg(long)]
    pub services: bool,
    /// Only containers in this state (repeatable): created, restarting, running, removing,
    /// paused, exited, dead
    #[arg(long, value_name = "STATUS")]
    pub status: Vec<String>,
    /// Filter by a property (`status=running`)
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Output format: `table`, `json` (one object per line), or a Go template such as
    /// `{{.Name}}` or `table {{.Name}}\t{{.Status}}`
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: String,
    /// Do not truncate the output
    #[arg(long)]
    pub no_trunc: bool,
    /// Include containers of services no longer in the file (--orphans=false leaves them out)
    #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub orphans: bool,
    /// Only these services
    #[arg(value_name = "SERVICE")]
    pub names: Vec<String>,
}

const STATES: [&str; 7] = [
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

/// "2 minutes" as docker prints durations.
fn human(secs: i64) -> String {
    crate::parse::units::human_duration(secs)
}

fn ago(created: i64) -> String {
    format!("{} ago", human(chrono::Utc::now().timestamp() - created))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

/// The exit code in a status like `Exited (3) 2 seconds ago`.
fn exit_code(status: &str) -> i64 {
    status
        .strip_prefix("Exited (")
        .and_then(|r| r.split(')').next())
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The health in a status like `Up 3 seconds (healthy)`.
fn health(status: &str) -> &'static str {
    if status.contains("(healthy)") {
        "healthy"
    } else if status.contains("(unhealthy)") {
        "unhealthy"
    } else if status.contains("(health: starting)") {
        "starting"
    } else {
        ""
    }
}

fn command(r: &ContainerRow, no_trunc: bool) -> String {
    let c = if no_trunc {
        r.command.clone()
    } else {
        truncate(&r.command, 20)
    };
    format!("\"{c}\"")
}

fn ports(r: &ContainerRow) -> String {
    let all: Vec<String> = r.publishers.iter().map(|p| p.display()).collect();
    all.join(", ")
}

/// The column title of a field in a `table` template, as the reference prints it.
fn header(field: &str) -> String {
    match field {
        "ID" => "CONTAINER ID".into(),
        "RunningFor" => "CREATED".into(),
        "CreatedAt" => "CREATED AT".into(),
        "LocalVolumes" => "LOCAL VOLUMES".into(),
        // The reference has no title for these.
        "Health" | "ExitCode" => "<no value>".into(),
        other => other.to_uppercase(),
    }
}

/// One object per container with the reference's fields.
fn json_row(r: &ContainerRow, project: &str, no_trunc: bool) -> serde_json::Value {
    let labels: Vec<String> = r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mounts: Vec<String> = r
        .mounts
        .iter()
        .map(|(n, _)| if no_trunc { n.clone() } else { truncate(n, 15) })
        .collect();
    let created = chrono::DateTime::from_timestamp(r.created, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default();
    let publishers: Vec<serde_json::Value> = r
        .publishers
        .iter()
        .map(|p| {
            json!({"URL": p.url, "TargetPort": p.target_port, "PublishedPort": p.published_port, "Protocol": p.protocol})
        })
        .collect();
    json!({
        "Command": command(r, no_trunc),
        "CreatedAt": created,
        "ExitCode": exit_code(&r.status),
        "Health": health(&r.status),
        "ID": if no_trunc { r.id.clone() } else { r.id.chars().take(12).collect() },
        "Image": r.image,
        "Labels": labels.join(","),
        "LocalVolumes": r.mounts.iter().filter(|(_, local)| *local).count().to_string(),
        "Mounts": mounts.join(","),
        "Name": r.name,
        "Names": r.name,
        "Networks": r.networks.join(","),
        "Ports": ports(r),
        "Project": project,
        "Publishers": publishers,
        "RunningFor": ago(r.created),
        "Service": r.service,
        "Size": "0B",
        "State": r.state,
        "Status": r.status,
    })
}

pub(super) async fn run(ctx: &Context, args: PsArgs) -> Result<(), CliError> {
    // The engine is asked for the project's containers (under the name its files most likely
    // give) while they are parsed.
    let all = args.all || !args.status.is_empty() || !args.filter.is_empty();
    let guess = ctx.guess();
    let early = ctx.connect_early(guess.name.clone(), Prefetch::Containers);
    let (project, has_model) = ctx.project_or_name_guessed(guess)?;
    if has_model {
        for s in &args.names {
            if !project.services.contains_key(s) {
                return Err(CliError::NoSuchService(s.clone()));
            }
        }
    }
    let mut statuses = args.status.clone();
    for f in &args.filter {
        match f.split_once('=') {
            Some(("status", v)) => statuses.push(v.to_string()),
            _ => {
                return Err(CliError::new(format!(
                    "invalid filter `{f}`: the supported filter is status=STATE"
                )))
            }
        }
    }
    for s in &statuses {
        if !STATES.contains(&s.as_str()) {
            return Err(CliError::new(format!(
                "invalid status `{s}`: expected one of {}",
                STATES.join(", ")
            )));
        }
    }
    let (rt, _) = early.runtime().await?;
    let rows = rt.ps(&project.name, all).await?;
    let rows: Vec<ContainerRow> = rows
        .into_iter()
        .filter(|r| args.names.is_empty() || args.names.contains(&r.service))
        .filter(|r| {
            args.orphans
                || !has_model
                || project.services.contains_key(&r.service)
                || project.disabled_services.contains_key(&r.service)
        })
        .filter(|r| statuses.is_empty() || statuses.contains(&r.state))
        .filter(|r| {
            r.labels
                .get("com.docker.compose.oneoff")
                .map(String::as_str)
                != Some("True")
                || args.all
        })
        .collect();
    if args.services {
        let mut seen: Vec<&str> = Vec::new();
        for r in &rows {
            if !seen.contains(&r.service.as_str()) {
                seen.push(&r.service);
                outln!("{}", r.service)?;
            }
        }
        return Ok(());
    }
    if args.quiet {
        for r in rows {
            outln!("{}", r.id)?;
        }
        return Ok(());
    }
    let template = match args.format.as_str() {
        "table" | "json" => None,
        other => Some(Template::parse(other)?),
    };
    if let Some(t) = template {
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = rows
            .iter()
            .filter_map(|r| {
                json_row(r, &project.name, args.no_trunc)
                    .as_object()
                    .cloned()
            })
            .collect();
        out!("{}", t.render(&rows, header)?)?;
        return Ok(());
    }
    if args.format == "json" {
        for r in &rows {
            outln!(
                "{}",
                json_compact(&json_row(r, &project.name, args.no_trunc))
            )?;
        }
        return Ok(());
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.image.clone(),
                command(r, args.no_trunc),
                r.service.clone(),
                ago(r.created),
                r.status.clone(),
                ports(r),
            ]
        })
        .collect();
    let header = [
        "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    lines.extend(table.into_iter().map(Vec::from));
    out!("{}", super::table::tabwrite(&lines, 10, 3))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parsing() {
        assert_eq!(exit_code("Exited (3) 2 seconds ago"), 3);
        assert_eq!(exit_code("Up 2 seconds"), 0);
        assert_eq!(health("Up 3 seconds (healthy)"), "healthy");
        assert_eq!(health("Up 1 second (health: starting)"), "starting");
        assert_eq!(human(90), "About a minute");
    }
}
