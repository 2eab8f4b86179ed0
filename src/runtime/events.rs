//! The engine's event stream for one project, kept in order: waits read readiness (start, die,
//! health) from it instead of polling.

use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

use super::engine::{Engine, EngineError, ErrorKind, EventMessage};
use super::labels;

/// What happened to a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create,
    Start,
    Die { exit_code: i64 },
    Health(String),
    Destroy,
    Other(String),
}

/// One container event of the project.
#[derive(Debug, Clone)]
pub struct ContainerEvent {
    pub id: String,
    pub name: String,
    pub service: String,
    pub action: Action,
    /// Unix time in nanoseconds, as the engine stamped it.
    pub time_nano: i64,
    pub attributes: HashMap<String, String>,
}

#[derive(Default)]
struct Log {
    events: Vec<ContainerEvent>,
    /// Set when the stream ended or failed.
    closed: Option<String>,
}

/// A live subscription to the project's container events, from the moment it was started.
pub struct Hub {
    log: Arc<Mutex<Log>>,
    version: watch::Receiver<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Now, in Unix nanoseconds.
pub fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Hub {
    /// Subscribes to the container events of `project`, replaying from a second before now so
    /// that nothing between this call and the connection is missed.
    pub fn start(engine: &dyn Engine, project: &str) -> Hub {
        let since = now_nanos() / 1_000_000_000 - 1;
        let mut stream = engine.events(&labels::project_filter(project), since);
        let log: Arc<Mutex<Log>> = Arc::default();
        let (tx, version) = watch::channel(0u64);
        let sink = log.clone();
        let task = tokio::spawn(async move {
            let mut n = 0u64;
            let closed = loop {
                match stream.next().await {
                    Some(Ok(msg)) => {
                        if let Some(e) = container_event(msg) {
                            if let Ok(mut l) = sink.lock() {
                                l.events.push(e);
                            }
                            n += 1;
                            let _ = tx.send(n);
                        }
                    }
                    Some(Err(e)) => break format!("the engine's event stream failed: {e}"),
                    None => break "the engine closed its event stream".to_string(),
                }
            };
            if let Ok(mut l) = sink.lock() {
                l.closed = Some(closed);
            }
            let _ = tx.send(n + 1);
        });
        Hub { log, version, task }
    }

    /// Calls `f` on each event from position `from` on; returns the new position, or the reason
    /// the stream closed once every event has been read.
    pub fn read(
        &self,
        from: usize,
        mut f: impl FnMut(&ContainerEvent),
    ) -> Result<usize, EngineError> {
        let log = self
            .log
            .lock()
            .map_err(|_| EngineError::new(ErrorKind::Api, "event log poisoned"))?;
        for e in &log.events[from.min(log.events.len())..] {
            f(e);
        }
        match &log.closed {
            Some(why) => Err(EngineError::new(ErrorKind::Api, why.clone())),
            None => Ok(log.events.len()),
        }
    }

    /// How many events arrived so far: the position of the next one.
    pub fn position(&self) -> usize {
        self.log.lock().map_or(0, |l| l.events.len())
    }

    /// Whether the stream ended or failed (no event will arrive any more).
    pub fn closed(&self) -> bool {
        self.log.lock().map_or(true, |l| l.closed.is_some())
    }

    /// Waits until a new event arrives (or the stream closes).
    pub async fn changed(&self, seen: &mut watch::Receiver<u64>) {
        let _ = seen.changed().await;
    }

    /// A receiver to pass to [`Hub::changed`].
    pub fn watcher(&self) -> watch::Receiver<u64> {
        self.version.clone()
    }
}

fn container_event(msg: EventMessage) -> Option<ContainerEvent> {
    let attributes = msg.attributes;
    let action = match msg.action.as_str() {
        "" => return None,
        "create" => Action::Create,
        "start" => Action::Start,
        "die" => Action::Die {
            exit_code: attributes
                .get("exitCode")
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
        },
        "destroy" => Action::Destroy,
        a => match a.strip_prefix("health_status:") {
            Some(h) => Action::Health(h.trim().to_string()),
            None => Action::Other(a.to_string()),
        },
    };
    Some(ContainerEvent {
        id: msg.id,
        name: attributes.get("name").cloned().unwrap_or_default(),
        service: attributes.get(labels::SERVICE).cloned().unwrap_or_default(),
        action,
        time_nano: msg.time_nano,
        attributes,
    })
}
