//! Following container output: one task per container, lines sent on a channel in arrival order.

use bollard::container::LogOutput;
use bollard::query_parameters::{LogsOptionsBuilder, WaitContainerOptionsBuilder};
use bollard::Docker;
use futures::StreamExt;
use tokio::sync::mpsc;

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What a followed container produced.
#[derive(Debug, Clone)]
pub enum LogEvent {
    /// One line, without its newline.
    Line {
        container: String,
        stream: Stream,
        text: Vec<u8>,
    },
    /// The container stopped with this exit code.
    Exited { container: String, code: i64 },
}

/// Follows each container's stdout and stderr until it exits; then sends its exit code.
pub fn follow(
    docker: &Docker,
    containers: Vec<String>,
    tail: &str,
) -> mpsc::UnboundedReceiver<LogEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    for name in containers {
        let docker = docker.clone();
        let tx = tx.clone();
        let tail = tail.to_string();
        tokio::spawn(async move {
            let opts = LogsOptionsBuilder::default()
                .follow(true)
                .stdout(true)
                .stderr(true)
                .tail(&tail)
                .build();
            let mut stream = docker.logs(&name, Some(opts));
            let mut partial: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
            while let Some(Ok(chunk)) = stream.next().await {
                let (which, bytes) = match chunk {
                    LogOutput::StdErr { message } => (Stream::Stderr, message),
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        (Stream::Stdout, message)
                    }
                    LogOutput::StdIn { .. } => continue,
                };
                let buf = &mut partial[which as usize];
                buf.extend_from_slice(&bytes);
                while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let mut line: Vec<u8> = buf.drain(..=pos).collect();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    let _ = tx.send(LogEvent::Line {
                        container: name.clone(),
                        stream: which,
                        text: line,
                    });
                }
            }
            for (i, rest) in partial.into_iter().enumerate() {
                if !rest.is_empty() {
                    let stream = if i == 0 {
                        Stream::Stdout
                    } else {
                        Stream::Stderr
                    };
                    let _ = tx.send(LogEvent::Line {
                        container: name.clone(),
                        stream,
                        text: rest,
                    });
                }
            }
            let opts = WaitContainerOptionsBuilder::default()
                .condition("not-running")
                .build();
            let code = match docker.wait_container(&name, Some(opts)).next().await {
                Some(Ok(r)) => r.status_code,
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
                _ => docker
                    .inspect_container(&name, None)
                    .await
                    .ok()
                    .and_then(|i| i.state)
                    .and_then(|s| s.exit_code)
                    .unwrap_or(-1),
            };
            let _ = tx.send(LogEvent::Exited {
                container: name,
                code,
            });
        });
    }
    rx
}
