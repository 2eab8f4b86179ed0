//! Early probing of `service_healthy` gates: the decision whether a dependency's own healthcheck
//! is run by rcompose (through exec) from the moment its container starts, and with what
//! command. The engine runs its first probe only one `interval` after the start; running the same
//! command sooner releases the dependents as soon as the application is ready. Only a success is
//! taken from an early probe: an unhealthy verdict still comes from the engine alone.

use std::time::Duration;

use crate::parse::{Condition, Service};

/// The engine's defaults when the file leaves a field out.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The shell of a `CMD-SHELL` test, as the engine runs it for an image without `SHELL`.
const SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// The healthcheck to run early, as the engine would run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The process to exec: `CMD`'s arguments, or `CMD-SHELL`'s under `/bin/sh -c`.
    pub command: Vec<String>,
    /// One probe's bound (`timeout`); a probe that runs longer failed.
    pub timeout: Duration,
    /// The engine's own `interval`: early probes never wait longer than it between two.
    pub interval: Duration,
}

/// The early probe of a dependent's wait on `svc` with `condition`: `None` unless the condition
/// is `service_healthy` and the file gives a test to run (a healthcheck that is disabled, `NONE`,
/// or left to the image is the engine's alone).
pub fn early(svc: &Service, condition: Condition) -> Option<Probe> {
    if condition != Condition::ServiceHealthy {
        return None;
    }
    let h = svc.healthcheck.as_ref()?;
    if h.disable {
        return None;
    }
    let (kind, args) = h.test.split_first()?;
    let command: Vec<String> = match kind.as_str() {
        "CMD" => args.to_vec(),
        "CMD-SHELL" => SHELL
            .iter()
            .map(|s| s.to_string())
            .chain(args.iter().cloned())
            .collect(),
        _ => return None,
    };
    if command.is_empty() || args.is_empty() {
        return None;
    }
    let nanos = |d: Option<crate::parse::units::Duration>, default: Duration| {
        d.and_then(|d| u64::try_from(d.0).ok())
            .filter(|n| *n > 0)
            .map_or(default, Duration::from_nanos)
    };
    Some(Probe {
        command,
        timeout: nanos(h.timeout, DEFAULT_TIMEOUT),
        interval: nanos(h.interval, DEFAULT_INTERVAL),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixture;
    use crate::graph::observed::Observed;
    use crate::graph::reconcile::{self, UpPlanOptions};
    use crate::parse::units::Duration as D;
    use crate::parse::{DependsOn, Healthcheck};

    fn with(test: &[&str], f: impl FnOnce(&mut Healthcheck)) -> Service {
        let mut s = fixture::service("db", &[]);
        let mut h = Healthcheck {
            test: test.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        f(&mut h);
        s.healthcheck = Some(h);
        s
    }

    fn command(s: &Service) -> Option<Vec<String>> {
        early(s, Condition::ServiceHealthy).map(|p| p.command)
    }

    #[test]
    fn cmd_runs_as_given_and_cmd_shell_under_bin_sh() {
        let s = with(&["CMD", "pg_isready", "-q"], |_| {});
        assert_eq!(command(&s).unwrap(), ["pg_isready", "-q"]);
        let s = with(&["CMD-SHELL", "test -f /ok || exit 1"], |_| {});
        assert_eq!(
            command(&s).unwrap(),
            ["/bin/sh", "-c", "test -f /ok || exit 1"]
        );
    }

    #[test]
    fn the_files_timeout_and_interval_or_the_engines_defaults() {
        let p = early(&with(&["CMD", "true"], |_| {}), Condition::ServiceHealthy).unwrap();
        assert_eq!((p.timeout, p.interval), (DEFAULT_TIMEOUT, DEFAULT_INTERVAL));
        let s = with(&["CMD", "true"], |h| {
            h.timeout = Some(D(2_000_000_000));
            h.interval = Some(D(5_000_000_000));
        });
        let p = early(&s, Condition::ServiceHealthy).unwrap();
        assert_eq!(
            (p.timeout, p.interval),
            (Duration::from_secs(2), Duration::from_secs(5))
        );
    }

    #[test]
    fn disabled_none_empty_or_the_images_healthcheck_is_the_engines_alone() {
        assert_eq!(command(&with(&["CMD", "true"], |h| h.disable = true)), None);
        assert_eq!(command(&with(&["NONE"], |_| {})), None);
        assert_eq!(command(&with(&["CMD"], |_| {})), None);
        assert_eq!(command(&with(&["CMD-SHELL"], |_| {})), None);
        // Only an interval: the test is the image's, which the file does not know.
        assert_eq!(command(&with(&[], |_| {})), None);
        assert_eq!(command(&fixture::service("db", &[])), None);
    }

    #[test]
    fn only_service_healthy_gates_probe() {
        let s = with(&["CMD", "true"], |_| {});
        assert!(early(&s, Condition::ServiceStarted).is_none());
        assert!(early(&s, Condition::ServiceCompletedSuccessfully).is_none());
    }

    #[test]
    fn the_plan_says_which_waits_probe_early() {
        let mut p = fixture::project();
        p.services
            .insert("db".into(), with(&["CMD", "true"], |_| {}));
        let on = DependsOn {
            condition: Condition::ServiceHealthy,
            ..Default::default()
        };
        p.services
            .insert("web".into(), fixture::service("web", &[("db", on)]));
        let plan = |early_probe| {
            let opts = UpPlanOptions {
                early_probe,
                ..Default::default()
            };
            reconcile::up(&p, &Observed::default(), &opts)
                .unwrap()
                .to_string()
        };
        assert!(
            plan(true).contains("await db service_healthy, probing early <- "),
            "{}",
            plan(true)
        );
        assert!(!plan(false).contains("probing early"), "{}", plan(false));
    }
}
