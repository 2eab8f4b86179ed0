//! Attached `up`: the logs of the attached services until their containers exit; Ctrl-C stops
//! the project (twice: kills it); `--abort-on-container-exit`, `--abort-on-container-failure`
//! and `--exit-code-from` stop it when a container exits and pass its code on.

use std::collections::HashMap;
use std::sync::Arc;

use super::error::exit_with;
use super::logfmt::{Printer, Style};
use super::up::UpArgs;
use super::{CliError, Context};
use crate::graph::reconcile::container_name;
use crate::parse::Project;
use crate::runtime::{DownOptions, LogEvent, LogOptions, Runtime};

/// Streams the logs of the attached containers until they all exit; Ctrl-C stops the project;
/// the abort flags stop it when a container exits.
pub(super) async fn attach(
    ctx: &Context,
    rt: &Runtime,
    project: Arc<Project>,
    args: &UpArgs,
) -> Result<(), CliError> {
    if let Some(s) = &args.exit_code_from {
        if !project.services.contains_key(s) {
            return Err(CliError::NoSuchService(s.clone()));
        }
    }
    let named = if args.attach_dependencies || args.services.is_empty() {
        None
    } else {
        Some(&args.services)
    };
    let mut names = Vec::new();
    let mut service_of = HashMap::new();
    for s in project.services.values() {
        let attached = if args.attach.is_empty() {
            named.is_none_or(|n| n.contains(&s.name))
                && s.attach != Some(false)
                && !args.no_attach.contains(&s.name)
        } else {
            args.attach.contains(&s.name)
        };
        if !attached {
            continue;
        }
        for n in 1..=s.replicas() {
            let name = container_name(&project.name, s, n);
            service_of.insert(name.clone(), s.name.clone());
            names.push(name);
        }
    }
    let mut printer = Printer::new(
        &project.name,
        &names,
        Style {
            colour: ctx.colour && !args.no_color,
            prefix: !args.no_log_prefix,
            split_streams: true,
        },
    );
    let shorts: Vec<&str> = names.iter().map(|n| printer.short(n)).collect();
    printer.note(&format!("Attaching to {}", shorts.join(", ")));
    printer.flush();
    let services: Vec<String> = service_of.values().cloned().collect();
    let opts = LogOptions {
        follow: true,
        timestamps: args.timestamps,
        ..Default::default()
    };
    let mut rx = rt.logs(&project.name, names.clone(), services, opts);
    let abort_on_exit = args.abort_on_container_exit
        || (args.exit_code_from.is_some() && !args.abort_on_container_failure);
    let mut running: std::collections::HashSet<String> = names.iter().cloned().collect();
    let mut codes: HashMap<String, i64> = HashMap::new();
    let mut interrupts = 0;
    let stop = |timeout: Option<i64>| {
        let rt = rt.clone();
        let project = project.clone();
        async move {
            let opts = DownOptions {
                stop_only: true,
                timeout,
                ..Default::default()
            };
            let _ = rt.down(project, true, &opts).await;
        }
    };
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(LogEvent::Lines { container, stream, data }) => {
                    running.insert(container.to_string());
                    printer.lines(&container, stream, &data);
                    printer.flush();
                }
                Some(LogEvent::End { .. }) => {}
                Some(LogEvent::Exited { container, code }) => {
                    printer.exited(&container, code);
                    printer.flush();
                    running.remove(&*container);
                    let service = service_of.get(&*container).cloned().unwrap_or_default();
                    codes.entry(service).or_insert(code);
                    if interrupts == 0 && (abort_on_exit || (args.abort_on_container_failure && code != 0)) {
                        printer.note("Aborting on container exit...");
                        printer.flush();
                        stop(args.timeout).await;
                        let code = match &args.exit_code_from {
                            Some(s) => match codes.get(s) {
                                Some(c) => *c,
                                None => service_exit_code(rt, &project, s).await,
                            },
                            None => code,
                        };
                        return exit_with(code);
                    }
                    if running.is_empty() {
                        if interrupts > 0 {
                            return Err(CliError::Interrupted);
                        }
                        let code = match &args.exit_code_from {
                            Some(s) => codes.get(s).copied().unwrap_or(0),
                            None => 0,
                        };
                        return exit_with(code);
                    }
                }
                None => return if interrupts > 0 { Err(CliError::Interrupted) } else { Ok(()) },
            },
            _ = tokio::signal::ctrl_c() => {
                interrupts += 1;
                if interrupts == 1 {
                    eprintln!("Gracefully Stopping... press Ctrl+C again to force");
                    tokio::spawn(stop(args.timeout));
                } else {
                    stop(Some(0)).await;
                    return Err(CliError::Interrupted);
                }
            }
        }
    }
}

/// The exit code of the first container of `service`, after it was stopped.
async fn service_exit_code(rt: &Runtime, project: &Project, service: &str) -> i64 {
    let rows = rt.ps(&project.name, true).await.unwrap_or_default();
    match rows.iter().find(|r| r.service == service) {
        Some(r) => rt.exit_code(&r.name).await,
        None => 0,
    }
}
