//! Waiting for containers to reach a state, read from the engine's event stream: one inspect for
//! the starting point, then events, never polling.

use super::engine::{Engine, EngineError, ErrorKind};
use super::events::{now_nanos, Action, Hub};

/// What a container must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// `service_healthy`: the healthcheck passes; exiting or turning unhealthy fails.
    Healthy,
    /// `service_completed_successfully`: exits with code 0.
    Completed,
    /// `--wait`: healthy when the container has a healthcheck, running otherwise.
    Ready,
}

/// A container's state as far as waiting is concerned.
#[derive(Debug, Clone, Default, PartialEq)]
struct State {
    running: bool,
    exit_code: Option<i64>,
    /// `None` when the container has no healthcheck.
    health: Option<String>,
    gone: bool,
}

impl State {
    fn apply(&mut self, action: &Action) {
        match action {
            Action::Start => {
                self.running = true;
                self.exit_code = None;
                if self.health.is_some() {
                    self.health = Some("starting".into());
                }
            }
            Action::Die { exit_code } => {
                self.running = false;
                self.exit_code = Some(*exit_code);
            }
            Action::Health(h) => self.health = Some(h.clone()),
            Action::Destroy => self.gone = true,
            Action::Create | Action::Other(_) => {}
        }
    }
}

enum Verdict {
    Done,
    Pending,
    Fail(String),
}

fn judge(target: Target, name: &str, service: &str, s: &State) -> Verdict {
    if s.gone {
        return Verdict::Fail(format!("container {name} was removed"));
    }
    match target {
        Target::Completed => match s.exit_code {
            Some(0) => Verdict::Done,
            Some(code) => Verdict::Fail(format!(
                "service \"{service}\" didn't complete successfully: exit {code}"
            )),
            None => Verdict::Pending,
        },
        Target::Healthy | Target::Ready => {
            if let Some(code) = s.exit_code {
                return Verdict::Fail(format!("container {name} exited ({code})"));
            }
            match s.health.as_deref() {
                Some("healthy") => Verdict::Done,
                Some("unhealthy") => Verdict::Fail(format!(
                    "dependency failed to start: container {name} is unhealthy"
                )),
                Some(_) => Verdict::Pending,
                None if target == Target::Healthy => Verdict::Fail(format!(
                    "dependency failed to start: container {name} has no healthcheck configured"
                )),
                None if s.running => Verdict::Done,
                None => Verdict::Pending,
            }
        }
    }
}

/// Waits until container `name` (of `service`) reaches `target`.
pub(super) async fn container(
    engine: &dyn Engine,
    hub: &Hub,
    name: &str,
    service: &str,
    target: Target,
) -> Result<(), EngineError> {
    let mut watcher = hub.watcher();
    let t0 = now_nanos();
    let info = engine.inspect_container(name).await?;
    let id = info.id;
    let status = info.status;
    let mut state = State {
        running: status == "running" || status == "restarting",
        exit_code: matches!(status.as_str(), "exited" | "dead")
            .then(|| info.exit_code.unwrap_or(0)),
        health: info.health,
        gone: false,
    };
    let mut pos = 0;
    loop {
        let read = hub.read(pos, |e| {
            if e.id == id && e.time_nano >= t0 {
                state.apply(&e.action);
            }
        });
        match judge(target, name, service, &state) {
            Verdict::Done => return Ok(()),
            Verdict::Fail(msg) => return Err(EngineError::new(ErrorKind::Condition, msg)),
            Verdict::Pending => {}
        }
        pos = read?;
        hub.changed(&mut watcher).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(target: Target, s: &State) -> String {
        match judge(target, "p-db-1", "db", s) {
            Verdict::Done => "done".into(),
            Verdict::Pending => "pending".into(),
            Verdict::Fail(m) => m,
        }
    }

    #[test]
    fn health_events_decide_a_healthy_wait() {
        let mut s = State {
            running: true,
            health: Some("starting".into()),
            ..Default::default()
        };
        assert_eq!(verdict(Target::Healthy, &s), "pending");
        s.apply(&Action::Health("healthy".into()));
        assert_eq!(verdict(Target::Healthy, &s), "done");
        s.apply(&Action::Health("unhealthy".into()));
        assert_eq!(
            verdict(Target::Healthy, &s),
            "dependency failed to start: container p-db-1 is unhealthy"
        );
        s.apply(&Action::Die { exit_code: 3 });
        assert_eq!(verdict(Target::Ready, &s), "container p-db-1 exited (3)");
    }

    #[test]
    fn no_healthcheck_fails_healthy_but_passes_ready_when_running() {
        let s = State {
            running: true,
            ..Default::default()
        };
        assert!(verdict(Target::Healthy, &s).contains("has no healthcheck configured"));
        assert_eq!(verdict(Target::Ready, &s), "done");
    }

    #[test]
    fn completion_needs_exit_zero() {
        let mut s = State {
            running: true,
            ..Default::default()
        };
        assert_eq!(verdict(Target::Completed, &s), "pending");
        s.apply(&Action::Die { exit_code: 0 });
        assert_eq!(verdict(Target::Completed, &s), "done");
        s.apply(&Action::Start);
        s.apply(&Action::Die { exit_code: 2 });
        assert_eq!(
            verdict(Target::Completed, &s),
            "service \"db\" didn't complete successfully: exit 2"
        );
    }
}
