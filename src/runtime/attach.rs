//! Processes whose standard streams are rcompose's: `exec` in a running container and the
//! one-off container of `run`. Standard input is copied in, output copied out (stderr to
//! stderr), and the process's exit code comes back.

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::engine::{Attached, Engine, EngineError, ExecRequest, Output};
use super::logs::exit_code;

/// What `exec` runs.
#[derive(Debug, Clone, Default)]
pub struct ExecSpec {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub tty: bool,
    pub privileged: bool,
    /// Copy rcompose's standard input into the process.
    pub stdin: bool,
    pub detach: bool,
}

/// Copies the process's output to ours, and (when asked) our stdin to it, until the output ends.
async fn pump(attached: Attached, stdin: bool) {
    let Attached { mut output, input } = attached;
    let feeder = stdin.then(|| {
        tokio::spawn(async move {
            let mut input = input;
            let mut ours = tokio::io::stdin();
            let mut buf = vec![0u8; 32 << 10];
            loop {
                match ours.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if input.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        let _ = input.flush().await;
                    }
                }
            }
            let _ = input.shutdown().await;
        })
    });
    let mut out = tokio::io::stdout();
    let mut err = tokio::io::stderr();
    while let Some(Ok(chunk)) = output.next().await {
        let _ = match chunk {
            Output::Stderr(message) => err.write_all(&message).await,
            Output::Stdout(message) => out.write_all(&message).await,
        };
        let _ = out.flush().await;
    }
    if let Some(f) = feeder {
        f.abort();
    }
}

/// The local terminal in raw mode while a TTY process runs (keys go to it as they are typed,
/// Ctrl-C included); restored when dropped, however the command ends.
struct RawTerminal;

impl RawTerminal {
    fn enable() -> Option<RawTerminal> {
        crossterm::terminal::enable_raw_mode()
            .ok()
            .map(|()| RawTerminal)
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// The local terminal's size as (height, width), when there is one.
fn terminal_size() -> Option<(u16, u16)> {
    crossterm::terminal::size().ok().map(|(w, h)| (h, w))
}

/// Creates the exec instance of `spec` in a running container; returns its id.
pub(super) async fn create_exec(
    engine: &dyn Engine,
    container: &str,
    spec: &ExecSpec,
) -> Result<String, EngineError> {
    let request = ExecRequest {
        cmd: spec.cmd.clone(),
        env: spec.env.clone(),
        user: spec.user.clone(),
        workdir: spec.workdir.clone(),
        tty: spec.tty,
        privileged: spec.privileged,
        attach_stdin: spec.stdin && !spec.detach,
        attach_output: !spec.detach,
    };
    engine.create_exec(container, &request).await
}

/// Starts a created exec instance and streams it; returns its exit code (0 when detached).
pub(super) async fn start_exec(
    engine: &dyn Engine,
    id: &str,
    spec: &ExecSpec,
) -> Result<i64, EngineError> {
    let Some(attached) = engine.start_exec(id, spec.detach, spec.tty).await? else {
        return Ok(0);
    };
    let _raw = if spec.tty {
        if let Some((h, w)) = terminal_size() {
            let _ = engine.resize_exec(id, h, w).await;
        }
        RawTerminal::enable()
    } else {
        None
    };
    pump(attached, spec.stdin).await;
    engine.exec_exit_code(id).await
}

/// Attaches to a created container, starts it, streams it until it exits; returns its exit code.
pub(super) async fn run_attached(
    engine: &dyn Engine,
    container: &str,
    stdin: bool,
) -> Result<i64, EngineError> {
    // Attached before the start: a replay of the log could repeat what the stream sends.
    let attached = engine.attach_container(container, stdin).await?;
    engine.start_container(container).await?;
    let tty = engine
        .inspect_container(container)
        .await
        .map(|i| i.tty)
        .unwrap_or(false);
    let _raw = if tty { RawTerminal::enable() } else { None };
    pump(attached, stdin).await;
    drop(_raw);
    Ok(exit_code(engine, container).await)
}

/// `attach`: our streams joined to a running container's until it exits (its exit code) or
/// its output ends.
pub(super) async fn attach_running(
    engine: &dyn Engine,
    container: &str,
    stdin: bool,
) -> Result<i64, EngineError> {
    let attached = engine.attach_container(container, stdin).await?;
    let tty = engine
        .inspect_container(container)
        .await
        .map(|i| i.tty)
        .unwrap_or(false);
    let _raw = if tty && stdin {
        RawTerminal::enable()
    } else {
        None
    };
    pump(attached, stdin).await;
    drop(_raw);
    Ok(exit_code(engine, container).await)
}
