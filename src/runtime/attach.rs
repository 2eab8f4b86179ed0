//! Processes whose standard streams are rcompose's: `exec` in a running container and the
//! one-off container of `run`. Standard input is copied in, output copied out (stderr to
//! stderr), and the process's exit code comes back.

use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::query_parameters::AttachContainerOptionsBuilder;
use bollard::Docker;
use futures::{Stream, StreamExt};
use std::pin::Pin;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::engine::EngineError;
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

type Output = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
type Input = Pin<Box<dyn AsyncWrite + Send>>;

/// Copies the process's output to ours, and (when asked) our stdin to it, until the output ends.
async fn pump(mut output: Output, input: Input, stdin: bool) {
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
            LogOutput::StdErr { message } => err.write_all(&message).await,
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                out.write_all(&message).await
            }
            LogOutput::StdIn { .. } => Ok(()),
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

/// Runs a command in a running container; returns its exit code (0 when detached).
pub async fn exec(docker: &Docker, container: &str, spec: &ExecSpec) -> Result<i64, EngineError> {
    let id = create_exec(docker, container, spec).await?;
    start_exec(docker, container, &id, spec).await
}

/// Creates the exec instance of `spec` in a running container; returns its id.
pub async fn create_exec(
    docker: &Docker,
    container: &str,
    spec: &ExecSpec,
) -> Result<String, EngineError> {
    let doing = format!("running a command in container {container}");
    let config = ExecConfig {
        attach_stdin: Some(spec.stdin && !spec.detach),
        attach_stdout: Some(!spec.detach),
        attach_stderr: Some(!spec.detach),
        tty: Some(spec.tty),
        env: (!spec.env.is_empty()).then(|| spec.env.clone()),
        cmd: Some(spec.cmd.clone()),
        privileged: Some(spec.privileged),
        user: spec.user.clone(),
        working_dir: spec.workdir.clone(),
        ..Default::default()
    };
    let id = docker
        .create_exec(container, config)
        .await
        .map_err(|e| EngineError::from_bollard(&doing, e))?
        .id;
    Ok(id)
}

/// Starts a created exec instance and streams it; returns its exit code (0 when detached).
pub async fn start_exec(
    docker: &Docker,
    container: &str,
    id: &str,
    spec: &ExecSpec,
) -> Result<i64, EngineError> {
    let doing = format!("running a command in container {container}");
    let opts = StartExecOptions {
        detach: spec.detach,
        tty: spec.tty,
        output_capacity: None,
    };
    match docker
        .start_exec(id, Some(opts))
        .await
        .map_err(|e| EngineError::from_bollard(&doing, e))?
    {
        StartExecResults::Detached => return Ok(0),
        StartExecResults::Attached { output, input } => {
            let _raw = if spec.tty {
                if let Some((h, w)) = terminal_size() {
                    let size = bollard::exec::ResizeExecOptions {
                        height: h,
                        width: w,
                    };
                    let _ = docker.resize_exec(id, size).await;
                }
                RawTerminal::enable()
            } else {
                None
            };
            pump(output, input, spec.stdin).await
        }
    }
    let info = docker
        .inspect_exec(id)
        .await
        .map_err(|e| EngineError::from_bollard(&doing, e))?;
    Ok(info.exit_code.unwrap_or(0))
}

/// Attaches to a created container, starts it, streams it until it exits; returns its exit code.
pub async fn run_attached(
    docker: &Docker,
    container: &str,
    stdin: bool,
) -> Result<i64, EngineError> {
    let doing = format!("attaching to container {container}");
    let opts = AttachContainerOptionsBuilder::default()
        .stdin(stdin)
        .stdout(true)
        .stderr(true)
        .stream(true)
        // Attached before the start: a replay of the log could repeat what the stream sends.
        .logs(false)
        .build();
    let attached = docker
        .attach_container(container, Some(opts))
        .await
        .map_err(|e| EngineError::from_bollard(&doing, e))?;
    docker
        .start_container(container, None)
        .await
        .map_err(|e| EngineError::from_bollard(&format!("starting container {container}"), e))?;
    let tty = docker
        .inspect_container(container, None)
        .await
        .ok()
        .and_then(|i| i.config)
        .and_then(|c| c.tty)
        .unwrap_or(false);
    let _raw = if tty { RawTerminal::enable() } else { None };
    pump(attached.output, attached.input, stdin).await;
    drop(_raw);
    Ok(exit_code(docker, container).await)
}
