//! Waiting for containers to reach a state, read from the engine's event stream: one inspect for
//! the starting point, then events, never polling.

use super::engine::ContainerDetails;
use super::engine::{Engine, EngineError, ErrorKind};
use super::events::{now_nanos, Action, Hub};
use crate::graph::probe::Probe;

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
    /// An early probe of the healthcheck passed (see [`super::probe`]).
    probed: bool,
}

impl State {
    fn apply(&mut self, action: &Action) {
        match action {
            Action::Start => {
                self.running = true;
                self.probed = false;
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
            // As the reference words it: a dependency's failure says so, `--wait`'s does not.
            let fail = |why: String| {
                Verdict::Fail(if target == Target::Healthy {
                    format!("dependency failed to start: {why}")
                } else {
                    why
                })
            };
            if let Some(code) = s.exit_code {
                return fail(format!("container {name} exited ({code})"));
            }
            match s.health.as_deref() {
                Some("healthy") => Verdict::Done,
                Some("unhealthy") => fail(format!("container {name} is unhealthy")),
                // The engine has not decided yet, and the healthcheck passed when run early.
                Some(_) if s.probed && s.running && target == Target::Healthy => Verdict::Done,
                Some(_) => Verdict::Pending,
                None if target == Target::Healthy => {
                    fail(format!("container {name} has no healthcheck configured"))
                }
                None if s.running => Verdict::Done,
                None => Verdict::Pending,
            }
        }
    }
}

impl State {
    fn of(info: &ContainerDetails) -> State {
        let status = info.status.as_str();
        State {
            running: status == "running" || status == "restarting",
            exit_code: matches!(status, "exited" | "dead").then(|| info.exit_code.unwrap_or(0)),
            health: info.health.clone(),
            gone: false,
            probed: false,
        }
    }
}

/// Waits until container `name` (of `service`) reaches `target`. With `probe` (a `Healthy`
/// target), the healthcheck is also run early, and its first success releases the wait unless
/// the engine has said otherwise by then (checked once more with the engine at that moment).
pub(super) async fn container(
    engine: &dyn Engine,
    hub: &Hub,
    name: &str,
    service: &str,
    target: Target,
    probe: Option<&Probe>,
) -> Result<(), EngineError> {
    let mut watcher = hub.watcher();
    let t0 = now_nanos();
    let info = engine.inspect_container(name).await?;
    let id = info.id.clone();
    let mut state = State::of(&info);
    let mut early = probe
        .filter(|_| target == Target::Healthy)
        .map(|p| Box::pin(super::probe::until_success(engine, name, p)));
    // Events before this moment are in `state` already.
    let mut since = t0;
    let mut pos = 0;
    loop {
        let read = hub.read(pos, |e| {
            if e.id == id && e.time_nano >= since {
                state.apply(&e.action);
            }
        });
        match judge(target, name, service, &state) {
            Verdict::Done => return Ok(()),
            Verdict::Fail(msg) => return Err(EngineError::new(ErrorKind::Condition, msg)),
            Verdict::Pending => {}
        }
        pos = read?;
        let Some(probing) = early.as_mut() else {
            hub.changed(&mut watcher).await;
            continue;
        };
        tokio::select! {
            _ = hub.changed(&mut watcher) => {}
            _ = probing => {
                early = None;
                since = now_nanos();
                // The engine's word at this moment wins over the probe: an unhealthy verdict or
                // an exit whose event is still on its way.
                let now = engine.inspect_container(name).await?;
                let mut checked = State::of(&now);
                checked.probed = now.id == id;
                state = checked;
            }
        }
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
        assert_eq!(
            verdict(Target::Healthy, &s),
            "dependency failed to start: container p-db-1 exited (3)"
        );
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
