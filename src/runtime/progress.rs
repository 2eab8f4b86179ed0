//! Progress events: what the runtime tells about each resource, rendered by `cmd`.

use std::sync::Arc;

/// Where an operation on a resource stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Working,
    Done,
    Warning,
    Error,
}

/// One progress event, e.g. `Container p-web-1` / `Working` / `Creating`.
#[derive(Debug, Clone)]
pub struct Event {
    /// `Network p_default`, `Volume p_data`, `Container p-web-1`.
    pub resource: String,
    pub status: Status,
    pub text: String,
    /// Bytes done so far, for a copy (`current` in `--progress json` lines).
    pub current: Option<u64>,
}

impl Event {
    /// The same event, saying how many bytes are done.
    pub(super) fn bytes(mut self, n: u64) -> Event {
        self.current = Some(n);
        self
    }
}

/// Receives progress events; must be cheap and never block for long.
pub type Reporter = Arc<dyn Fn(Event) + Send + Sync>;

/// A reporter that drops everything.
pub(super) fn silent() -> Reporter {
    Arc::new(|_| {})
}

pub(super) fn event(resource: impl Into<String>, status: Status, text: impl Into<String>) -> Event {
    Event {
        resource: resource.into(),
        status,
        text: text.into(),
        current: None,
    }
}
