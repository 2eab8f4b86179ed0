//! Attached `up`: the logs of the attached services until their containers exit; Ctrl-C stops
//! the project (twice: kills it); `--abort-on-container-exit`, `--abort-on-container-failure`
//! and `--exit-code-from` stop it when a container exits and pass its code on.

use std::collections::HashMap;
use std::io::IsTerminal;
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
    renderer: &super::progress::Renderer,
    project: Arc<Project>,
    args: &UpArgs,
) -> Result<(), CliError> {
    if let Some(s) = &args.exit_code_from {
        if !project.services.contains_key(s) {
            return Err(CliError::NoSuchService(s.clone()));
        }
    }
    // The reference's interactive mode: Ctrl-C is a key there, the stop it asks for a normal end.
    let menu = menu_active(args.menu);
    let _keys = menu.then(EchoGuard::quiet_ctrl_c).flatten();
    let interrupted = || {
        if menu {
            Ok(())
        } else {
            Err(CliError::Interrupted)
        }
    };
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
    // By container name, as the reference lists them.
    names.sort_unstable();
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
    let unknown = names.iter().map(|n| (n.clone(), None)).collect();
    let mut rx = rt.logs(&project.name, unknown, services, opts);
    let abort_on_exit = args.abort_on_container_exit
        || (args.exit_code_from.is_some() && !args.abort_on_container_failure);
    let mut running: std::collections::HashSet<String> = names.iter().cloned().collect();
    let mut codes: HashMap<String, i64> = HashMap::new();
    let mut interrupts = 0;
    // SIGTERM is an interruption too, as for the reference (a SIGINT that was ignored when
    // rcompose started, as in a background job, is still heard, as the reference hears it).
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::new(format!("cannot listen for SIGTERM: {e}")))?;
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
                        renderer.plain_from_now();
                        stop(args.timeout).await;
                        // The stop's own exits, as the reference prints them.
                        drain(&mut rx, &mut printer, &mut running).await;
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
                            return interrupted();
                        }
                        let code = match &args.exit_code_from {
                            Some(s) => codes.get(s).copied().unwrap_or(0),
                            None => 0,
                        };
                        return exit_with(code);
                    }
                }
                None => return if interrupts > 0 { interrupted() } else { Ok(()) },
            },
            _ = interrupt(&mut term) => {
                interrupts += 1;
                if interrupts == 1 {
                    eprintln!("Gracefully Stopping... press Ctrl+C again to force");
                    // Among the log lines, one line per event, as the reference (a view redrawn
                    // in place would erase the lines printed below it).
                    renderer.plain_from_now();
                    tokio::spawn(stop(args.timeout));
                } else {
                    stop(Some(0)).await;
                    return Err(CliError::Interrupted);
                }
            }
        }
    }
}

/// Prints what the log streams still say once the project is stopped (their lines and each
/// `exited with code`), until every container in `running` has exited; bounded, so a stream that
/// hangs does not hold `up`.
async fn drain(
    rx: &mut tokio::sync::mpsc::Receiver<LogEvent>,
    printer: &mut Printer,
    running: &mut std::collections::HashSet<String>,
) {
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !running.is_empty() {
        let Ok(Some(ev)) = tokio::time::timeout_at(until, rx.recv()).await else {
            return;
        };
        printer.event(&ev);
        printer.flush();
        if let LogEvent::Exited { container, .. } = &ev {
            running.remove(&**container);
        }
    }
}

/// The next SIGINT (Ctrl-C) or SIGTERM.
async fn interrupt(term: &mut tokio::signal::unix::Signal) {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
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

/// Whether attached `up` runs in the reference's interactive mode: on a terminal, unless
/// `--menu=false` or `COMPOSE_MENU` says no.
fn menu_active(flag: Option<bool>) -> bool {
    let wanted = flag.unwrap_or_else(|| {
        std::env::var("COMPOSE_MENU")
            .ok()
            .and_then(|v| go_bool(&v))
            .unwrap_or(true)
    });
    wanted && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// A boolean as Go's `strconv.ParseBool` reads it.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// While held, the terminal does not echo `^C` (the reference reads keys itself there); the
/// settings come back on drop.
struct EchoGuard {
    saved: libc::termios,
}

impl EchoGuard {
    fn quiet_ctrl_c() -> Option<EchoGuard> {
        // SAFETY: termios is plain data, filled by tcgetattr before it is read.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 and a valid pointer to a termios.
        if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
            return None;
        }
        let saved = t;
        t.c_lflag &= !libc::ECHOCTL;
        // SAFETY: as above.
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) } != 0 {
            return None;
        }
        Some(EchoGuard { saved })
    }
}

impl Drop for EchoGuard {
    fn drop(&mut self) {
        // SAFETY: restores what tcgetattr gave.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::go_bool;

    #[test]
    fn compose_menu_reads_as_go_reads_a_boolean() {
        assert_eq!(go_bool("false"), Some(false));
        assert_eq!(go_bool("0"), Some(false));
        assert_eq!(go_bool("True"), Some(true));
        assert_eq!(go_bool("yes"), None);
    }
}
