//! `rcompose logs`: the output of the project's containers, prefixed and coloured, on stdout.

use clap::Args;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::logfmt::{Printer, Style};
use super::{CliError, Context};
use crate::runtime::{LogEvent, LogOptions, Stream};

#[derive(Debug, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub global_long: super::LongFileOnly,
    /// Follow log output; containers that start later join
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Number of lines to show from the end of each container's log (`all` for every line)
    #[arg(short = 'n', long, default_value = "all", value_name = "N")]
    pub tail: String,
    /// Show logs since a time (RFC 3339, Unix seconds) or for a duration back (`10m`, `1h30m`)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Show logs before a time (RFC 3339, Unix seconds) or a duration ago
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Monochrome output
    #[arg(long)]
    pub no_color: bool,
    /// Do not prefix lines with the container name
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Only the container with this number of each service
    #[arg(long, value_name = "N")]
    pub index: Option<u64>,
    /// Print the lines of all containers in timestamp order (not with --follow)
    #[arg(long, conflicts_with = "follow")]
    pub merge: bool,
    /// Services to show; all when none
    pub services: Vec<String>,
}

pub(super) async fn run(ctx: &Context, args: LogsArgs) -> Result<(), CliError> {
    let (project, has_model) = ctx.project_or_name()?;
    if has_model {
        for s in &args.services {
            if !project.services.contains_key(s) && !project.disabled_services.contains_key(s) {
                return Err(CliError::NoSuchService(s.clone()));
            }
        }
    }
    if args.tail != "all" && args.tail.parse::<i64>().is_err() {
        return Err(CliError::new(format!(
            "invalid --tail `{}`: expected a number of lines or `all`",
            args.tail
        )));
    }
    let (rt, _) = ctx.runtime().await?;
    let rows = rt.ps(&project.name, true).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| args.services.is_empty() || args.services.contains(&r.service))
        .filter(|r| args.index.is_none_or(|i| r.number == i))
        .collect();
    let services: Vec<String> = if args.services.is_empty() {
        let mut all: Vec<String> = project.services.keys().cloned().collect();
        all.extend(rows.iter().map(|r| r.service.clone()));
        all
    } else {
        args.services.clone()
    };
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let style = Style {
        colour: ctx.colour && !args.no_color,
        prefix: !args.no_log_prefix,
        split_streams: false,
    };
    let mut printer = Printer::new(&project.name, &names, style);
    let opts = LogOptions {
        follow: args.follow,
        tail: Some(args.tail.clone()),
        since: args.since.clone(),
        until: args.until.clone(),
        timestamps: args.timestamps || args.merge,
    };
    // The ids are known from the list: no container needs an inspect.
    let known = rows
        .iter()
        .map(|r| (r.name.clone(), Some(r.id.clone())))
        .collect();
    let mut rx = rt.logs(&project.name, known, services, opts);
    if args.merge {
        merge(&mut rx, &names, &mut printer, args.timestamps).await;
        printer.flush();
        return Ok(());
    }
    loop {
        let ev = match rx.try_recv() {
            Ok(ev) => ev,
            Err(_) => {
                // Following, show lines as they come; otherwise the buffer fills first.
                if args.follow {
                    printer.flush();
                }
                match rx.recv().await {
                    Some(ev) => ev,
                    None => break,
                }
            }
        };
        printer.event(&ev);
    }
    printer.flush();
    Ok(())
}

/// One line waiting in `--merge`: its time, then the line (stamp kept or not).
type Queued = (i64, Vec<u8>);
/// Each stream of each container is in time order on its own (not with the other stream).
type Source = (Arc<str>, Stream);

/// Prints lines in timestamp order across containers: a line goes out once every container
/// still streaming has a later one queued (each container's own lines are already in order).
async fn merge(
    rx: &mut tokio::sync::mpsc::Receiver<LogEvent>,
    names: &[String],
    printer: &mut Printer,
    keep_stamps: bool,
) {
    let mut queues: HashMap<Source, VecDeque<Queued>> = HashMap::new();
    let mut open: Vec<Source> = names
        .iter()
        .flat_map(|n| {
            let c: Arc<str> = Arc::from(n.as_str());
            [(c.clone(), Stream::Stdout), (c, Stream::Stderr)]
        })
        .collect();
    loop {
        let ev = rx.recv().await;
        match &ev {
            Some(LogEvent::Lines {
                container,
                stream,
                data,
            }) => {
                let q = queues.entry((container.clone(), *stream)).or_default();
                for line in data.split_inclusive(|b| *b == b'\n') {
                    let sp = line.iter().position(|b| *b == b' ').unwrap_or(0);
                    let t = std::str::from_utf8(&line[..sp])
                        .ok()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .and_then(|t| t.timestamp_nanos_opt())
                        .unwrap_or(0);
                    let text = if keep_stamps {
                        line
                    } else {
                        &line[(sp + 1).min(line.len())..]
                    };
                    q.push_back((t, text.to_vec()));
                }
            }
            Some(LogEvent::End { container }) => open.retain(|(c, _)| c != container),
            Some(LogEvent::Exited { .. }) => {}
            None => open.clear(),
        }
        // Emit while the earliest head is safe: no open container is without a queued line.
        loop {
            let blocked = open
                .iter()
                .any(|c| queues.get(c).is_none_or(|q| q.is_empty()));
            if blocked {
                break;
            }
            let next = queues
                .iter()
                .filter_map(|(src, q)| q.front().map(|(t, _)| (*t, src.clone())))
                .min_by_key(|(t, _)| *t);
            let Some((_, src)) = next else { break };
            if let Some((_, line)) = queues.get_mut(&src).and_then(|q| q.pop_front()) {
                printer.lines(&src.0, src.1, &line);
            }
        }
        if ev.is_none() {
            return;
        }
    }
}
