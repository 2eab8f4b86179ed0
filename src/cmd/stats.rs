//! `rcompose stats [SERVICE]`: the resource usage of the project's containers, as `docker stats`
//! prints it: once with `--no-stream`, else redrawn each second.

use clap::Args;
use futures::StreamExt;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use super::out::out;
use super::template::Template;
use super::{CliError, Context};
use crate::runtime::StatsSample;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers (default: the running ones)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// `table` (default), `json`, or a Go template such as `table {{.Name}}\t{{.CPUPerc}}`
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Print the first sample and end
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate ids
    #[arg(long)]
    pub no_trunc: bool,
    pub service: Option<String>,
}

/// docker's default `stats` table.
const TABLE: &str = "table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}\\t{{.BlockIO}}\\t{{.PIDs}}";

fn header(field: &str) -> String {
    match field {
        "ID" => "CONTAINER ID",
        "Container" => "CONTAINER",
        "Name" => "NAME",
        "CPUPerc" => "CPU %",
        "MemUsage" => "MEM USAGE / LIMIT",
        "MemPerc" => "MEM %",
        "NetIO" => "NET I/O",
        "BlockIO" => "BLOCK I/O",
        "PIDs" => "PIDS",
        other => other,
    }
    .to_string()
}

/// Binary sizes as docker's `units.BytesSize` prints them (`1.754MiB`).
fn binary_size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{}{}", significant(v, 4), units[u])
}

/// Decimal sizes as docker's `units.HumanSizeWithPrecision(_, 3)` prints them (`1.04kB`).
fn decimal_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    format!("{}{}", significant(v, 3), units[u])
}

/// Go's `%.Ng` for the values sizes take (below 10,000): `digits` significant digits, no
/// trailing zeros.
fn significant(v: f64, digits: usize) -> String {
    let int_digits = if v < 1.0 {
        1
    } else {
        (v.log10().floor() as usize) + 1
    };
    let text = format!("{v:.prec$}", prec = digits.saturating_sub(int_digits));
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// One row, with the fields docker's `stats --format` knows.
fn row(id: &str, name: &str, s: &StatsSample, no_trunc: bool) -> Map<String, Value> {
    let cpu_delta = s.cpu_total as f64 - s.precpu_total as f64;
    let system_delta = s.system_cpu as f64 - s.presystem_cpu as f64;
    let cpu = if cpu_delta > 0.0 && system_delta > 0.0 {
        cpu_delta / system_delta * f64::from(s.online_cpus) * 100.0
    } else {
        0.0
    };
    let memory = if s.memory_cache < s.memory_usage {
        s.memory_usage - s.memory_cache
    } else {
        s.memory_usage
    };
    let mem_perc = if s.memory_limit > 0 {
        memory as f64 / s.memory_limit as f64 * 100.0
    } else {
        0.0
    };
    let short: String = id.chars().take(12).collect();
    let value = json!({
        "BlockIO": format!("{} / {}", decimal_size(s.block_read), decimal_size(s.block_write)),
        "CPUPerc": format!("{cpu:.2}%"),
        "Container": id,
        "ID": if no_trunc { id.to_string() } else { short },
        "MemPerc": format!("{mem_perc:.2}%"),
        "MemUsage": format!("{} / {}", binary_size(memory), binary_size(s.memory_limit)),
        "Name": name,
        "NetIO": format!("{} / {}", decimal_size(s.net_rx), decimal_size(s.net_tx)),
        "PIDs": s.pids.to_string(),
    });
    value.as_object().cloned().unwrap_or_default()
}

fn render(format: &str, rows: &[Map<String, Value>]) -> Result<String, CliError> {
    if format == "json" {
        return Ok(rows
            .iter()
            .map(|r| format!("{}\n", Value::Object(r.clone())))
            .collect());
    }
    let template = Template::parse(if format == "table" { TABLE } else { format })?;
    Ok(template.render(rows, header)?)
}

pub(super) async fn run(ctx: &Context, args: StatsArgs) -> Result<(), CliError> {
    let (project, _) = ctx.project_or_name()?;
    let format = args.format.clone();
    // A bad template fails before anything is read.
    render(&format, &[])?;
    let (rt, _) = ctx.runtime().await?;
    let containers: Vec<(String, String)> = rt
        .ps(&project.name, args.all)
        .await?
        .into_iter()
        .filter(|r| args.service.as_ref().is_none_or(|s| *s == r.service))
        .map(|r| (r.id, r.name))
        .collect();
    if args.no_stream {
        let samples = futures::future::join_all(containers.iter().map(|(_, name)| {
            let mut stream = rt.stats(name, false);
            async move { stream.next().await.and_then(Result::ok).unwrap_or_default() }
        }))
        .await;
        let rows: Vec<Map<String, Value>> = containers
            .iter()
            .zip(&samples)
            .map(|((id, name), s)| row(id, name, s, args.no_trunc))
            .collect();
        out!("{}", render(&format, &rows)?)?;
        return Ok(());
    }
    // The latest sample of each container, redrawn each second until Ctrl-C.
    let latest: Arc<Mutex<BTreeMap<String, Map<String, Value>>>> = Arc::default();
    for (id, name) in &containers {
        let mut stream = rt.stats(name, true);
        let (id, name, latest) = (id.clone(), name.clone(), latest.clone());
        let no_trunc = args.no_trunc;
        tokio::spawn(async move {
            while let Some(Ok(s)) = stream.next().await {
                if let Ok(mut l) = latest.lock() {
                    l.insert(name.clone(), row(&id, &name, &s, no_trunc));
                }
            }
            if let Ok(mut l) = latest.lock() {
                l.remove(&name);
            }
        });
    }
    let clear = std::io::stdout().is_terminal();
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let rows: Vec<Map<String, Value>> = match latest.lock() {
            Ok(l) => l.values().cloned().collect(),
            Err(_) => Vec::new(),
        };
        if clear {
            out!("\x1b[2J\x1b[H")?;
        }
        out!("{}", render(&format, &rows)?)?;
        if !clear {
            out!("\n")?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_percentages_as_docker_prints_them() {
        assert_eq!(binary_size(1_839_104), "1.754MiB");
        assert_eq!(binary_size(339_968), "332KiB");
        assert_eq!(binary_size(25_275_744_256), "23.54GiB");
        assert_eq!(decimal_size(1_040), "1.04kB");
        assert_eq!(decimal_size(0), "0B");
        let s = StatsSample {
            cpu_total: 300,
            precpu_total: 100,
            system_cpu: 2_000,
            presystem_cpu: 1_000,
            online_cpus: 2,
            memory_usage: 2_000,
            memory_cache: 1_000,
            memory_limit: 100_000,
            pids: 3,
            ..Default::default()
        };
        let r = row("0123456789abcdef", "p-web-1", &s, false);
        assert_eq!(r["CPUPerc"], "40.00%");
        assert_eq!(r["MemPerc"], "1.00%");
        assert_eq!(r["ID"], "0123456789ab");
        assert_eq!(
            render("table", &[r]).unwrap(),
            "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS\n\
             0123456789ab   p-web-1   40.00%    1000B / 97.66KiB    1.00%     0B / 0B   0B / 0B     3\n"
        );
    }
}
