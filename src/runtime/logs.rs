//! Container output: one task per container reads the engine's log stream and sends whole lines,
//! in batches, on a bounded channel (so memory does not grow with the amount of output). While
//! following, containers of the selected services that start later join through the event stream.

use futures::StreamExt;
use std::collections::{HashSet, VecDeque};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use super::engine::{ContainerDetails, Engine, LogsRequest, Output};
use super::events::{now_nanos, Action, Hub};

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
/// How long a follower whose container stopped waits for a `restart` command to start it again.
const RESTART_GRACE: Duration = Duration::from_secs(10);
/// How long it waits for a container the engine is restarting (its restart policy's back-off).
const RESTARTING_GRACE: Duration = Duration::from_secs(600);

/// Streams the logs of `containers` (name, and id when known). While following, a container that
/// restarts goes on being followed, and containers of `services` that are created later (scale,
/// recreate) join; the channel closes once no followed container runs.
pub(super) fn stream(
    engine: Arc<dyn Engine>,
    project: &str,
    containers: Vec<(String, Option<String>)>,
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
        // Containers whose id is known need no inspect: their log file is found from the
        // engine's data folder (one call for them all).
        let root = if opts.follow || api_only() || containers.iter().all(|c| c.1.is_none()) {
            None
        } else {
            engine.root_dir().await.ok().flatten()
        };
        let found = futures::future::join_all(containers.into_iter().map(|(name, id)| {
            let engine = engine.clone();
            let root = root.clone();
            async move {
                match id {
                    Some(id) => {
                        let file = root.and_then(|r| log_file_in(Path::new(&r), &id));
                        (name, id, file)
                    }
                    None => {
                        let info = engine.inspect_container(&name).await.ok();
                        let file = info.as_ref().and_then(log_file);
                        (name, info.map(|i| i.id).unwrap_or_default(), file)
                    }
                }
            }
        }))
        .await;
        let mut active = 0usize;
        for (name, id, file) in found {
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
                _ = hub.changed(&mut watcher), if !hub.closed() => {}
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
            // Where this run's events begin, and when its stream was opened.
            let mark = f.hub.as_ref().map_or(0, |h| h.position());
            let began = now_nanos();
            let run = Run { mark, began };
            // The engine does not always end a followed stream when the container restarts: a
            // restart the event stream reports while the stream is open is followed anew.
            let restart_seen = async {
                match (&f.hub, opts.follow) {
                    (Some(h), true) => restarted(f.engine.as_ref(), h, &f.id, run, None).await,
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                ended = follow_one(f.engine.as_ref(), &f.name, &opts, from, &f.tx) => {
                    if !ended || !opts.follow {
                        break;
                    }
                }
                Some(died) = restart_seen => {
                    opts.tail = None;
                    opts.since = Some((died / 1_000_000_000).to_string());
                    from = Some(died);
                    continue;
                }
            }
            let Some(hub) = &f.hub else { break };
            // A restart stops the container before starting it again: wait for it. The engine's
            // own restarts (a restart policy) say so and are awaited whatever they take; a
            // `restart` command looks like a stop until the start comes, so it gets a grace period
            // (a start can take seconds on a loaded machine; after a plain stop this only delays
            // the end).
            let restarting = f
                .engine
                .inspect_container(&f.id)
                .await
                .is_ok_and(|c| c.status == "restarting");
            let grace = if restarting {
                RESTARTING_GRACE
            } else {
                RESTART_GRACE
            };
            match restarted(f.engine.as_ref(), hub, &f.id, run, Some(grace)).await {
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

/// Where a followed run of a container began: its position in the event hub and the time its
/// log stream was opened (Unix nanoseconds).
#[derive(Clone, Copy)]
struct Run {
    mark: usize,
    began: i64,
}

/// How often a follower waiting for a restart also asks the engine, in case the event stream lags.
const RESTART_POLL: Duration = Duration::from_millis(500);

/// When container `id` starts again after the run that began at `run`, the time it died (Unix
/// nanoseconds). The event stream says so first. With a `grace` (the followed stream has ended)
/// the container's own state is asked too, so that a lagging stream never ends the follow, and
/// `None` comes once the grace is over; without one only the events are read, for as long as
/// it takes.
async fn restarted(
    engine: &dyn Engine,
    hub: &Hub,
    id: &str,
    run: Run,
    grace: Option<Duration>,
) -> Option<i64> {
    let mut watcher = hub.watcher();
    let asks = grace.is_some();
    let deadline = tokio::time::Instant::now() + grace.unwrap_or(RESTARTING_GRACE);
    let mut poll = tokio::time::interval(RESTART_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.reset();
    loop {
        let (mut died, mut started, mut gone) = (None, false, false);
        let open = hub.read(run.mark, |e| {
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
            // A closed stream has nothing more to say: only the engine is asked then.
            _ = hub.changed(&mut watcher), if open.is_ok() => {}
            _ = poll.tick(), if asks => {
                if let Ok(c) = engine.inspect_container(id).await {
                    if let Some(died) = started_again(&c, run.began) {
                        return Some(died);
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline), if asks => return None,
            // Only events were to tell, and their stream has closed: nothing will.
            else => std::future::pending::<()>().await,
        }
    }
}

/// The time a container died, when it runs again after a start later than `began`.
fn started_again(c: &ContainerDetails, began: i64) -> Option<i64> {
    let (started, finished) = (c.started_at?, c.finished_at?);
    (c.status == "running" && started > began && started >= finished).then_some(finished)
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
    /// Adds `bytes` of `stream`; the batches to send now, in the order the lines were written:
    /// the other stream's complete lines go first (stdout and stderr stay interleaved in time,
    /// batched only while one stream talks).
    fn push(&mut self, stream: Stream, bytes: &[u8]) -> [Option<LogEvent>; 2] {
        let other = match stream {
            Stream::Stdout => Stream::Stderr,
            Stream::Stderr => Stream::Stdout,
        };
        let before = self.take(other);
        [before, self.push_one(stream, bytes)]
    }

    fn push_one(&mut self, stream: Stream, bytes: &[u8]) -> Option<LogEvent> {
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
        for ev in split.push(stream, &bytes).into_iter().flatten() {
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
    if api_only() {
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

fn api_only() -> bool {
    std::env::var_os(API_ONLY).is_some()
}

/// The json-file log of container `id` under the engine's data folder `root`, when it is there
/// to read (so the engine is on this machine and uses the json-file driver, the only one that
/// writes it) with no rotated files beside it.
fn log_file_in(root: &Path, id: &str) -> Option<PathBuf> {
    let ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit());
    let path = root
        .join("containers")
        .join(id)
        .join(format!("{id}-json.log"));
    let rotated = PathBuf::from(format!("{}.1", path.display())).exists();
    let readable = std::fs::File::open(&path).is_ok();
    (ok && readable && !rotated).then_some(path)
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
        split
            .push(stream, bytes)
            .into_iter()
            .flatten()
            .all(|ev| tx.blocking_send(ev).is_ok())
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

    #[test]
    fn a_run_started_after_the_follow_began_is_a_restart() {
        let c = |status: &str, started, finished| ContainerDetails {
            status: status.into(),
            started_at: started,
            finished_at: finished,
            ..Default::default()
        };
        // Restarted after the stream opened at 100: re-follow from its death at 150.
        assert_eq!(
            started_again(&c("running", Some(200), Some(150)), 100),
            Some(150)
        );
        // The run that was followed, a stopped one, or one that never stopped: not a restart.
        assert_eq!(started_again(&c("running", Some(50), Some(40)), 100), None);
        assert_eq!(started_again(&c("exited", Some(200), Some(250)), 100), None);
        assert_eq!(started_again(&c("running", Some(200), None), 100), None);
    }

    #[tokio::test]
    async fn a_restart_the_event_stream_never_reports_is_still_followed() {
        use crate::runtime::engine::fake::{FakeContainer, FakeEngine};
        let fake = FakeEngine::default();
        let began = now_nanos();
        let restarted_at = |t| FakeContainer {
            state: "running".into(),
            started_at: Some(t + 2),
            finished_at: Some(t + 1),
            ..Default::default()
        };
        fake.add_container("again", restarted_at(began));
        fake.add_container("same", restarted_at(began - 10));
        let hub = Hub::start(&fake, "p");
        let run = Run { mark: 0, began };
        let grace = Some(Duration::from_secs(3));
        assert_eq!(
            restarted(&fake, &hub, "again", run, grace).await,
            Some(began + 1)
        );
        assert_eq!(restarted(&fake, &hub, "same", run, grace).await, None);
    }

    fn lines(ev: Option<LogEvent>) -> String {
        match ev {
            Some(LogEvent::Lines { data, .. }) => String::from_utf8_lossy(&data).into_owned(),
            _ => String::new(),
        }
    }

    #[test]
    fn a_known_id_finds_its_json_file_log_under_the_engines_folder() {
        let root = tempfile::tempdir().unwrap();
        let id = "0123abcd";
        let dir = root.path().join("containers").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        // No file: another log driver, or another machine's engine.
        assert_eq!(log_file_in(root.path(), id), None);
        let file = dir.join(format!("{id}-json.log"));
        std::fs::write(&file, "{}\n").unwrap();
        assert_eq!(log_file_in(root.path(), id), Some(file.clone()));
        // Not a container id: never a path outside the folder.
        assert_eq!(log_file_in(root.path(), "../x"), None);
        assert_eq!(log_file_in(root.path(), ""), None);
        // Rotated: the engine's API reads the older files too.
        std::fs::write(dir.join(format!("{id}-json.log.1")), "").unwrap();
        assert_eq!(log_file_in(root.path(), id), None);
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
        let none = |evs: [Option<LogEvent>; 2]| evs.iter().all(Option::is_none);
        assert!(none(s.push(Stream::Stdout, b"par")));
        assert!(none(s.push(Stream::Stderr, b"err\n")));
        // stdout's next bytes send stderr's complete line first (time order).
        let [before, now] = s.push(Stream::Stdout, b"tial\r\nnext");
        assert_eq!(lines(before), "err\n");
        assert!(now.is_none());
        assert_eq!(lines(s.take(Stream::Stdout)), "partial\r\n");
        assert_eq!(lines(s.take(Stream::Stderr)), "");
        assert_eq!(lines(s.take(Stream::Stdout)), "");
        assert_eq!(lines(s.finish(Stream::Stdout)), "next\n");
    }

    /// stdout and stderr lines come out in the order they were written: a line of one stream
    /// sends the other's complete lines first.
    #[test]
    fn splitter_keeps_the_streams_in_time_order() {
        let mut s = Splitter {
            container: Arc::from("c"),
            buf: [Vec::new(), Vec::new()],
            cut: [0, 0],
            from: None,
        };
        let mut order = Vec::new();
        let mut push = |s: &mut Splitter, stream, b: &[u8]| {
            for ev in s.push(stream, b).into_iter().flatten() {
                if let LogEvent::Lines { stream, data, .. } = ev {
                    order.push((stream, String::from_utf8_lossy(&data).into_owned()));
                }
            }
        };
        push(&mut s, Stream::Stdout, b"o1\no2\n");
        push(&mut s, Stream::Stderr, b"e1\n");
        push(&mut s, Stream::Stdout, b"o3\n");
        push(&mut s, Stream::Stderr, b"e2\n");
        assert_eq!(
            order,
            [
                (Stream::Stdout, "o1\no2\n".to_string()),
                (Stream::Stderr, "e1\n".to_string()),
                (Stream::Stdout, "o3\n".to_string()),
            ]
        );
        assert_eq!(lines(s.take(Stream::Stderr)), "e2\n");
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
        let [before, ev] = s.push(Stream::Stdout, &big);
        assert!(before.is_none());
        assert_eq!(lines(ev).len(), MAX_LINE + 2);
    }
}
