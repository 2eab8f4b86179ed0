//! Container output: one task per container reads the engine's log stream and sends whole lines,
//! in batches, on a bounded channel (so memory does not grow with the amount of output). While
//! following, containers of the selected services that start later join through the event stream.

use bollard::container::LogOutput;
use bollard::query_parameters::{LogsOptionsBuilder, WaitContainerOptionsBuilder};
use bollard::Docker;
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use super::events::{Action, Hub};

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What `logs` and attached `up` ask of the engine.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub follow: bool,
    /// Lines from the end of each container's log (`all` when `None`).
    pub tail: Option<String>,
    /// Unix seconds (with fractions) or an RFC 3339 time, as the engine takes them.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Each line starts with the engine's RFC 3339 timestamp and a space.
    pub timestamps: bool,
}

/// What a container produced.
#[derive(Debug, Clone)]
pub enum LogEvent {
    /// Whole lines of one stream, each ending with `\n` (a last line without one gets it).
    Lines {
        container: Arc<str>,
        stream: Stream,
        data: Vec<u8>,
    },
    /// The container's log stream ended (all its lines were sent before).
    End { container: Arc<str> },
    /// The container stopped with this exit code (only while following).
    Exited { container: Arc<str>, code: i64 },
}

/// The longest a line is held waiting for its end; longer ones are passed on in pieces.
const MAX_LINE: usize = 1 << 20;
/// Bytes gathered before a batch is sent.
const BATCH: usize = 64 << 10;

/// Streams the logs of `containers`. While following, containers of `services` that start later
/// (scale, recreate, restart) join; the channel closes once no followed container is running.
pub fn stream(
    docker: &Docker,
    project: &str,
    containers: Vec<String>,
    services: Vec<String>,
    opts: LogOptions,
) -> mpsc::Receiver<LogEvent> {
    let (tx, rx) = mpsc::channel(256);
    let docker = docker.clone();
    let project = project.to_string();
    tokio::spawn(async move {
        let hub = opts.follow.then(|| Hub::start(&docker, &project));
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<String>();
        let mut active: HashSet<String> = HashSet::new();
        for name in containers {
            active.insert(name.clone());
            spawn_follower(&docker, name, &opts, None, tx.clone(), done_tx.clone());
        }
        let Some(hub) = hub else {
            drop(done_tx);
            while done_rx.recv().await.is_some() {}
            return;
        };
        let mut watcher = hub.watcher();
        let mut pos = 0;
        loop {
            // Containers that started since the last look join, from the moment they started.
            let mut joined = Vec::new();
            let read = hub.read(pos, |e| {
                if e.action == Action::Start && services.contains(&e.service) {
                    joined.push((e.name.clone(), e.time_nano));
                }
            });
            if let Ok(p) = read {
                pos = p;
            }
            for (name, t) in joined {
                if active.insert(name.clone()) {
                    let mut o = opts.clone();
                    o.tail = None;
                    o.since = Some((t / 1_000_000_000).to_string());
                    spawn_follower(&docker, name, &o, Some(t), tx.clone(), done_tx.clone());
                }
            }
            if active.is_empty() {
                // A restart stops a container before it starts it again: give it a moment.
                tokio::select! {
                    _ = hub.changed(&mut watcher) => continue,
                    _ = tokio::time::sleep(Duration::from_millis(1500)) => return,
                }
            }
            tokio::select! {
                Some(name) = done_rx.recv() => { active.remove(&name); }
                _ = hub.changed(&mut watcher) => {}
            }
        }
    });
    rx
}

fn spawn_follower(
    docker: &Docker,
    name: String,
    opts: &LogOptions,
    from: Option<i64>,
    tx: mpsc::Sender<LogEvent>,
    done: mpsc::UnboundedSender<String>,
) {
    let docker = docker.clone();
    let opts = opts.clone();
    tokio::spawn(async move {
        follow_one(&docker, &name, &opts, from, &tx).await;
        let _ = done.send(name);
    });
}

/// Splits a container's output into batches of whole lines.
struct Splitter {
    container: Arc<str>,
    /// Per stream: complete lines waiting to be sent, then the unfinished last line.
    buf: [Vec<u8>; 2],
    /// Per stream: where the unfinished line starts in `buf`.
    cut: [usize; 2],
    /// Drop lines stamped before this Unix time in nanoseconds (the engine's `since` has only
    /// seconds), then strip the stamp unless it was asked for.
    from: Option<(i64, bool)>,
}

impl Splitter {
    fn push(&mut self, stream: Stream, bytes: &[u8]) -> Option<LogEvent> {
        let i = stream as usize;
        let buf = &mut self.buf[i];
        buf.extend_from_slice(bytes);
        if let Some(p) = buf.iter().rposition(|b| *b == b'\n') {
            self.cut[i] = p + 1;
        } else if buf.len() - self.cut[i] > MAX_LINE {
            buf.push(b'\n');
            self.cut[i] = buf.len();
        }
        if self.cut[i] >= BATCH {
            return self.take(stream);
        }
        None
    }

    /// The complete lines of `stream` gathered so far.
    fn take(&mut self, stream: Stream) -> Option<LogEvent> {
        let i = stream as usize;
        if self.cut[i] == 0 {
            return None;
        }
        let rest = self.buf[i].split_off(self.cut[i]);
        let mut data = std::mem::replace(&mut self.buf[i], rest);
        self.cut[i] = 0;
        if let Some((from, keep)) = self.from {
            data = after(&data, from, keep);
            if data.is_empty() {
                return None;
            }
        }
        Some(LogEvent::Lines {
            container: self.container.clone(),
            stream,
            data,
        })
    }

    /// Everything left, an unfinished last line included.
    fn finish(&mut self, stream: Stream) -> Option<LogEvent> {
        let i = stream as usize;
        if self.buf[i].len() > self.cut[i] {
            self.buf[i].push(b'\n');
            self.cut[i] = self.buf[i].len();
        }
        self.take(stream)
    }
}

/// The lines of `data` (each `TIMESTAMP text\n`) stamped at or after `from`.
fn after(data: &[u8], from: i64, keep_stamp: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for line in data.split_inclusive(|b| *b == b'\n') {
        let sp = line.iter().position(|b| *b == b' ').unwrap_or(0);
        let stamp = std::str::from_utf8(&line[..sp])
            .ok()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .and_then(|t| t.timestamp_nanos_opt());
        if stamp.is_some_and(|t| t < from) {
            continue;
        }
        let text = if keep_stamp || stamp.is_none() {
            line
        } else {
            &line[(sp + 1).min(line.len())..]
        };
        out.extend_from_slice(text);
    }
    out
}

async fn follow_one(
    docker: &Docker,
    name: &str,
    opts: &LogOptions,
    from: Option<i64>,
    tx: &mpsc::Sender<LogEvent>,
) {
    let mut b = LogsOptionsBuilder::default()
        .follow(opts.follow)
        .stdout(true)
        .stderr(true)
        .timestamps(opts.timestamps || from.is_some())
        .tail(opts.tail.as_deref().unwrap_or("all"));
    if let Some(s) = &opts.since {
        b = b.since(since_seconds(s));
    }
    if let Some(u) = &opts.until {
        b = b.until(since_seconds(u));
    }
    let mut logs = docker.logs(name, Some(b.build()));
    let mut split = Splitter {
        container: Arc::from(name),
        buf: [Vec::new(), Vec::new()],
        cut: [0, 0],
        from: from.map(|f| (f, opts.timestamps)),
    };
    loop {
        // Send what is gathered whenever the engine has nothing more right now.
        let chunk = match futures::FutureExt::now_or_never(logs.next()) {
            Some(c) => c,
            None => {
                for s in [Stream::Stdout, Stream::Stderr] {
                    if let Some(ev) = split.take(s) {
                        if tx.send(ev).await.is_err() {
                            return;
                        }
                    }
                }
                logs.next().await
            }
        };
        let Some(Ok(chunk)) = chunk else { break };
        let (stream, bytes) = match chunk {
            LogOutput::StdErr { message } => (Stream::Stderr, message),
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                (Stream::Stdout, message)
            }
            LogOutput::StdIn { .. } => continue,
        };
        if let Some(ev) = split.push(stream, &bytes) {
            if tx.send(ev).await.is_err() {
                return;
            }
        }
    }
    for s in [Stream::Stdout, Stream::Stderr] {
        if let Some(ev) = split.finish(s) {
            if tx.send(ev).await.is_err() {
                return;
            }
        }
    }
    let _ = tx
        .send(LogEvent::End {
            container: Arc::from(name),
        })
        .await;
    if opts.follow {
        let code = exit_code(docker, name).await;
        let _ = tx
            .send(LogEvent::Exited {
                container: Arc::from(name),
                code,
            })
            .await;
    }
}

/// The exit code of a container that stopped (or is stopping).
pub async fn exit_code(docker: &Docker, name: &str) -> i64 {
    let opts = WaitContainerOptionsBuilder::default()
        .condition("not-running")
        .build();
    match docker.wait_container(name, Some(opts)).next().await {
        Some(Ok(r)) => r.status_code,
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
        _ => docker
            .inspect_container(name, None)
            .await
            .ok()
            .and_then(|i| i.state)
            .and_then(|s| s.exit_code)
            .unwrap_or(-1),
    }
}

/// The engine takes `since`/`until` as Unix seconds; RFC 3339 times and Go durations (`10m`,
/// relative to now) are turned into them, anything else is passed on as it is.
pub fn since_seconds(s: &str) -> i32 {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return t.timestamp() as i32;
    }
    if let Ok(n) = s.parse::<f64>() {
        return n as i32;
    }
    if let Ok(d) = crate::parse::units::Duration::parse(s) {
        let now = chrono::Utc::now().timestamp();
        return (now - (d.0 / 1_000_000_000)) as i32;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(ev: Option<LogEvent>) -> String {
        match ev {
            Some(LogEvent::Lines { data, .. }) => String::from_utf8_lossy(&data).into_owned(),
            _ => String::new(),
        }
    }

    #[test]
    fn splitter_joins_partial_lines_and_keeps_streams_apart() {
        let mut s = Splitter {
            container: Arc::from("c"),
            buf: [Vec::new(), Vec::new()],
            cut: [0, 0],
            from: None,
        };
        assert!(s.push(Stream::Stdout, b"par").is_none());
        assert!(s.push(Stream::Stderr, b"err\n").is_none());
        assert!(s.push(Stream::Stdout, b"tial\r\nnext").is_none());
        assert_eq!(lines(s.take(Stream::Stdout)), "partial\r\n");
        assert_eq!(lines(s.take(Stream::Stderr)), "err\n");
        assert_eq!(lines(s.take(Stream::Stdout)), "");
        assert_eq!(lines(s.finish(Stream::Stdout)), "next\n");
    }

    #[test]
    fn very_long_lines_are_passed_on_in_pieces() {
        let mut s = Splitter {
            container: Arc::from("c"),
            buf: [Vec::new(), Vec::new()],
            cut: [0, 0],
            from: None,
        };
        let big = vec![b'x'; MAX_LINE + 1];
        let ev = s.push(Stream::Stdout, &big);
        assert_eq!(lines(ev).len(), MAX_LINE + 2);
    }
}
