//! Container output: one task per container reads the engine's log stream and sends whole lines,
//! in batches, on a bounded channel (so memory does not grow with the amount of output). While
//! following, containers of the selected services that start later join through the event stream.

use futures::StreamExt;
use std::collections::{HashSet, VecDeque};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use super::engine::{ContainerDetails, Engine, LogsRequest, Output};
use super::events::{Action, Hub};

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// Streams the logs of `containers`. While following, a container that restarts goes on being
/// followed, and containers of `services` that are created later (scale, recreate) join; the
/// channel closes once no followed container runs.
pub(super) fn stream(
    engine: Arc<dyn Engine>,
    project: &str,
    containers: Vec<String>,
    services: Vec<String>,
    opts: LogOptions,
) -> mpsc::Receiver<LogEvent> {
    let (tx, rx) = mpsc::channel(64);
    let project = project.to_string();
    tokio::spawn(async move {
        let hub = opts
            .follow
            .then(|| Arc::new(Hub::start(engine.as_ref(), &project)));
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<String>();
        // Followed containers by id: the follower of a container also follows its restarts.
        let mut known: HashSet<String> = HashSet::new();
        let ids =
            futures::future::join_all(containers.iter().map(|n| engine.inspect_container(n))).await;
        let mut active = 0usize;
        for (name, info) in containers.into_iter().zip(ids) {
            let info = info.ok();
            let file = info.as_ref().and_then(log_file);
            let id = info.map(|i| i.id).unwrap_or_default();
            known.insert(id.clone());
            active += 1;
            let f = Follower {
                engine: engine.clone(),
                name,
                id,
                file,
                opts: opts.clone(),
                hub: hub.clone(),
                tx: tx.clone(),
            };
            spawn_follower(f, done_tx.clone());
        }
        let Some(hub) = hub else {
            drop(done_tx);
            while done_rx.recv().await.is_some() {}
            return;
        };
        let mut watcher = hub.watcher();
        let mut pos = 0;
        while active > 0 {
            // Containers created since the last look join from their first line.
            let mut joined = Vec::new();
            if let Ok(p) = hub.read(pos, |e| {
                if e.action == Action::Start
                    && services.contains(&e.service)
                    && !known.contains(&e.id)
                {
                    joined.push((e.name.clone(), e.id.clone()));
                }
            }) {
                pos = p;
            }
            for (name, id) in joined {
                if known.insert(id.clone()) {
                    active += 1;
                    let f = Follower {
                        engine: engine.clone(),
                        name,
                        id,
                        file: None,
                        opts: LogOptions {
                            tail: None,
                            since: None,
                            ..opts.clone()
                        },
                        hub: Some(hub.clone()),
                        tx: tx.clone(),
                    };
                    spawn_follower(f, done_tx.clone());
                }
            }
            tokio::select! {
                Some(_) = done_rx.recv() => active -= 1,
                _ = hub.changed(&mut watcher) => {}
            }
        }
    });
    rx
}

/// One container's log, followed across its restarts.
struct Follower {
    engine: Arc<dyn Engine>,
    name: String,
    id: String,
    /// The container's json-file log, when it can be read directly (see [`log_file`]).
    file: Option<PathBuf>,
    opts: LogOptions,
    hub: Option<Arc<Hub>>,
    tx: mpsc::Sender<LogEvent>,
}

fn spawn_follower(f: Follower, done: mpsc::UnboundedSender<String>) {
    tokio::spawn(async move {
        let mut opts = f.opts.clone();
        let mut from = None;
        if let (false, Some(path)) = (opts.follow, f.file.clone()) {
            let (name, tx) = (f.name.clone(), f.tx.clone());
            let _ = tokio::task::spawn_blocking(move || read_file(&path, &name, &opts, &tx)).await;
            let _ = done.send(f.name);
            return;
        }
        loop {
            if !follow_one(f.engine.as_ref(), &f.name, &opts, from, &f.tx).await || !opts.follow {
                break;
            }
            let Some(hub) = &f.hub else { break };
            // A restart stops the container before starting it again: wait for it (a start can
            // take a few seconds on a loaded machine; after a plain stop this only delays the end).
            match restarted(hub, &f.id, Duration::from_secs(3)).await {
                Some(died) => {
                    opts.tail = None;
                    opts.since = Some((died / 1_000_000_000).to_string());
                    from = Some(died);
                }
                None => break,
            }
        }
        let _ = done.send(f.name);
    });
}

/// When container `id` starts again after its last death, the time it died (Unix nanoseconds).
async fn restarted(hub: &Hub, id: &str, grace: Duration) -> Option<i64> {
    let mut watcher = hub.watcher();
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        let (mut died, mut started, mut gone) = (None, false, false);
        let _ = hub.read(0, |e| {
            if e.id != id {
                return;
            }
            match e.action {
                Action::Die { .. } => {
                    died = Some(e.time_nano);
                    started = false;
                }
                Action::Start if died.is_some() => started = true,
                Action::Destroy => gone = true,
                _ => {}
            }
        });
        if gone {
            return None;
        }
        if started {
            return died;
        }
        tokio::select! {
            _ = hub.changed(&mut watcher) => {}
            _ = tokio::time::sleep_until(deadline) => return None,
        }
    }
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

/// Sends one run's lines, then (following) its exit code; false when nobody listens any more.
async fn follow_one(
    engine: &dyn Engine,
    name: &str,
    opts: &LogOptions,
    from: Option<i64>,
    tx: &mpsc::Sender<LogEvent>,
) -> bool {
    let request = LogsRequest {
        follow: opts.follow,
        timestamps: opts.timestamps || from.is_some(),
        tail: opts.tail.clone().unwrap_or_else(|| "all".into()),
        since: opts.since.as_deref().map_or(0, since_seconds),
        until: opts.until.as_deref().map_or(0, since_seconds),
    };
    let mut logs = engine.logs(name, &request);
    let mut split = Splitter {
        container: Arc::from(name),
        buf: [Vec::new(), Vec::new()],
        cut: [0, 0],
        from: from.map(|f| (f, opts.timestamps)),
    };
    loop {
        // Following, send what is gathered whenever the engine has nothing more right now;
        // otherwise only full batches, for throughput.
        let ready = futures::FutureExt::now_or_never(logs.next());
        let chunk = match ready {
            Some(c) => c,
            None if !opts.follow => logs.next().await,
            None => {
                for s in [Stream::Stdout, Stream::Stderr] {
                    if let Some(ev) = split.take(s) {
                        if tx.send(ev).await.is_err() {
                            return false;
                        }
                    }
                }
                logs.next().await
            }
        };
        let Some(Ok(chunk)) = chunk else { break };
        let (stream, bytes) = match chunk {
            Output::Stderr(message) => (Stream::Stderr, message),
            Output::Stdout(message) => (Stream::Stdout, message),
        };
        if let Some(ev) = split.push(stream, &bytes) {
            if tx.send(ev).await.is_err() {
                return false;
            }
        }
    }
    for s in [Stream::Stdout, Stream::Stderr] {
        if let Some(ev) = split.finish(s) {
            if tx.send(ev).await.is_err() {
                return false;
            }
        }
    }
    if tx
        .send(LogEvent::End {
            container: Arc::from(name),
        })
        .await
        .is_err()
    {
        return false;
    }
    if opts.follow {
        let code = exit_code(engine, name).await;
        let sent = tx
            .send(LogEvent::Exited {
                container: Arc::from(name),
                code,
            })
            .await;
        return sent.is_ok();
    }
    true
}

/// Set to read every log through the engine's API, never from the file.
const API_ONLY: &str = "RCOMPOSE_LOGS_API";

/// The container's log file, when reading it gives what the engine's API would: the json-file
/// driver, a file of this container (so the engine is on this machine) that we may read, and no
/// rotated files beside it. Reading it skips the engine's decoding and re-framing of every line.
fn log_file(info: &ContainerDetails) -> Option<PathBuf> {
    if std::env::var_os(API_ONLY).is_some() {
        return None;
    }
    let driver = info.log_driver.as_deref()?;
    let path = PathBuf::from(info.log_path.as_deref()?);
    let id = info.id.as_str();
    let ours = path.file_name()?.to_str()? == format!("{id}-json.log");
    let rotated = PathBuf::from(format!("{}.1", path.display())).exists();
    let readable = std::fs::File::open(&path).is_ok();
    (driver == "json-file" && ours && !rotated && readable).then_some(path)
}

/// One entry of a json-file log.
#[derive(serde::Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    log: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    stream: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    time: std::borrow::Cow<'a, str>,
}

/// Sends a stopped-following container's lines from its json-file log, as the engine would:
/// `tail` counts entries from the end, then `since` and `until` (whole seconds) filter them, and
/// each entry is stamped with the engine's fixed-width RFC 3339 time when asked.
fn read_file(path: &std::path::Path, name: &str, opts: &LogOptions, tx: &mpsc::Sender<LogEvent>) {
    let Ok(file) = std::fs::File::open(path) else {
        return;
    };
    let nanos = |s: &Option<String>| {
        s.as_deref()
            .map(since_seconds)
            .filter(|t| *t > 0)
            .map(|t| i64::from(t) * 1_000_000_000)
    };
    let (since, until) = (nanos(&opts.since), nanos(&opts.until));
    let mut split = Splitter {
        container: Arc::from(name),
        buf: [Vec::new(), Vec::new()],
        cut: [0, 0],
        from: None,
    };
    let mut stamped = Vec::new();
    // False once nobody listens any more.
    let mut emit = |line: &[u8]| -> bool {
        let Ok(e) = serde_json::from_slice::<Entry>(line) else {
            return true; // a last entry still being written
        };
        let time = || chrono::DateTime::parse_from_rfc3339(&e.time).ok();
        if since.is_some() || until.is_some() {
            let t = time().and_then(|t| t.timestamp_nanos_opt()).unwrap_or(0);
            if since.is_some_and(|s| t < s) || until.is_some_and(|u| t > u) {
                return true;
            }
        }
        let stream = if e.stream == "stderr" {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        let bytes = if opts.timestamps {
            stamped.clear();
            if let Some(t) = time() {
                let utc = t.with_timezone(&chrono::Utc);
                stamped.extend_from_slice(
                    utc.format("%Y-%m-%dT%H:%M:%S%.9fZ ").to_string().as_bytes(),
                );
            }
            stamped.extend_from_slice(e.log.as_bytes());
            &stamped[..]
        } else {
            e.log.as_bytes()
        };
        match split.push(stream, bytes) {
            Some(ev) => tx.blocking_send(ev).is_ok(),
            None => true,
        }
    };
    let mut reader = std::io::BufReader::with_capacity(256 << 10, file);
    let mut line = Vec::new();
    let tail = opts.tail.as_deref().and_then(|t| t.parse::<usize>().ok());
    let mut last: VecDeque<Vec<u8>> = VecDeque::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        match tail {
            Some(0) => {}
            Some(n) => {
                if last.len() == n {
                    last.pop_front();
                }
                last.push_back(line.clone());
            }
            None => {
                if !emit(&line) {
                    return;
                }
            }
        }
    }
    for l in &last {
        if !emit(l) {
            return;
        }
    }
    for s in [Stream::Stdout, Stream::Stderr] {
        if let Some(ev) = split.finish(s) {
            if tx.blocking_send(ev).is_err() {
                return;
            }
        }
    }
    let _ = tx.blocking_send(LogEvent::End {
        container: Arc::from(name),
    });
}

/// The exit code of a container that stopped (or is stopping); -1 when it cannot be known.
pub(super) async fn exit_code(engine: &dyn Engine, name: &str) -> i64 {
    engine.wait_container(name).await.unwrap_or(-1)
}

/// The engine takes `since`/`until` as Unix seconds; RFC 3339 times and Go durations (`10m`,
/// relative to now) are turned into them, anything else is passed on as it is.
pub(super) fn since_seconds(s: &str) -> i32 {
    let secs = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        t.timestamp()
    } else if let Ok(n) = s.parse::<f64>() {
        n as i64
    } else if let Ok(d) = crate::parse::units::Duration::parse(s) {
        chrono::Utc::now().timestamp() - d.0 / 1_000_000_000
    } else {
        0
    };
    // The engine's API takes 32 bits: later times mean "no limit" all the same.
    secs.clamp(0, i64::from(i32::MAX)) as i32
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
    fn since_seconds_takes_times_numbers_and_durations() {
        assert_eq!(since_seconds("2001-09-09T01:46:40Z"), 1_000_000_000);
        assert_eq!(since_seconds("1000000000.5"), 1_000_000_000);
        assert_eq!(since_seconds("2200-01-01T00:00:00Z"), i32::MAX);
        let ten_min_ago = chrono::Utc::now().timestamp() - 600;
        assert!((i64::from(since_seconds("10m")) - ten_min_ago).abs() <= 1);
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
