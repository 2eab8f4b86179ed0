//! `rcompose events`: the project's container events as they happen, as text or JSON lines.

use clap::Args;
use serde_json::json;
use std::collections::BTreeMap;

use super::out::outln;
use super::{CliError, Context};
use crate::runtime::{now_nanos, ContainerEvent, EventAction as Action};

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// One JSON object per line
    #[arg(long)]
    pub json: bool,
    /// Only these services
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

fn action(e: &ContainerEvent) -> String {
    match &e.action {
        Action::Create => "create".into(),
        Action::Start => "start".into(),
        Action::Die { .. } => "die".into(),
        Action::Destroy => "destroy".into(),
        Action::Health(h) => format!("health_status: {h}"),
        Action::Other(a) => a.clone(),
    }
}

/// The attributes the reference shows: the engine's, without the compose labels.
fn attributes(e: &ContainerEvent) -> BTreeMap<&str, &str> {
    e.attributes
        .iter()
        .filter(|(k, _)| !k.starts_with("com.docker.compose."))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn time(e: &ContainerEvent, fmt: &str) -> String {
    chrono::DateTime::from_timestamp(
        e.time_nano / 1_000_000_000,
        (e.time_nano % 1_000_000_000) as u32,
    )
    .map(|t| t.format(fmt).to_string())
    .unwrap_or_default()
}

/// RFC 3339 with nanoseconds and trailing zeros trimmed, as Go prints times.
fn rfc3339_nano(e: &ContainerEvent) -> String {
    let t = time(e, "%Y-%m-%dT%H:%M:%S%.9f");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("{t}Z")
}

pub(super) async fn run(ctx: &Context, args: EventsArgs) -> Result<(), CliError> {
    let (project, _) = ctx.project_or_name()?;
    let (rt, _) = ctx.runtime().await?;
    let start = now_nanos();
    let hub = rt.events(&project.name);
    let mut watcher = hub.watcher();
    let mut pos = 0;
    loop {
        let mut lines = Vec::new();
        let read = hub.read(pos, |e| {
            if e.time_nano < start
                || !(args.services.is_empty() || args.services.contains(&e.service))
            {
                return;
            }
            let attrs = attributes(e);
            if args.json {
                lines.push(crate::parse::emit::json_compact(&json!({
                    "action": action(e),
                    "attributes": attrs,
                    "id": e.id,
                    "service": e.service,
                    "time": rfc3339_nano(e),
                    "type": "container",
                })));
            } else {
                let a: Vec<String> = attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                lines.push(format!(
                    "{} container {} {} ({})\n",
                    time(e, "%Y-%m-%d %H:%M:%S%.6f"),
                    action(e),
                    e.id,
                    a.join(", ")
                ));
            }
        });
        for l in lines {
            outln!("{l}")?;
        }
        pos = read?;
        hub.changed(&mut watcher).await;
    }
}
