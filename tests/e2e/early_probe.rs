//! Early probing of `service_healthy` gates on the real engine: rcompose runs the dependency's
//! healthcheck itself from its start and releases the dependents on the first success, while the
//! engine's own status (in `ps`, `--wait`) and its unhealthy verdict stay the engine's.

use std::time::{Duration, Instant};

use crate::harness::*;

fn started_at(s: &Stack, container: &str) -> String {
    s.inspect(container)
        .state
        .and_then(|st| st.started_at)
        .unwrap_or_default()
}

/// The engine's health status and the checks it has run so far.
fn engine_health(s: &Stack, container: &str) -> (String, Vec<bollard::models::HealthcheckResult>) {
    let h = s
        .inspect(container)
        .state
        .and_then(|st| st.health)
        .expect("a healthcheck");
    (
        h.status.map(|x| x.to_string()).unwrap_or_default(),
        h.log.unwrap_or_default(),
    )
}

/// The end of the engine's first passing check.
fn first_healthy_at(s: &Stack, container: &str) -> String {
    engine_health(s, container)
        .1
        .into_iter()
        .find(|l| l.exit_code == Some(0))
        .and_then(|l| l.end)
        .expect("a passing check")
}

fn early_probes_release_a_dependent_before_the_engines_first_check() {
    let docker = docker();
    let s = Stack::fixture(&docker, "early");
    let n = |svc: &str| format!("{}-{svc}-1", s.name);
    let t = Instant::now();
    let o = s.rcompose(&["up", "-d"]);
    let took = t.elapsed();
    ok(&o);
    // The engine's first check is 30 s after the start: it has not run, yet web runs.
    for dep in ["db", "cache"] {
        let (status, log) = engine_health(&s, &n(dep));
        assert_eq!(status, "starting", "{dep}");
        assert!(log.is_empty(), "{dep}: {log:?}");
    }
    assert_eq!(s.containers()[&n("web")].state, "running");
    assert!(took < Duration::from_secs(15), "{took:?}");
    // db was not ready for its first second: web started after that, not at once.
    assert!(started_at(&s, &n("web")) > started_at(&s, &n("db")));
    // `ps` says what the engine says.
    let ps = ok(&s.rcompose(&["ps", "--format", "json", "db"])).clone();
    assert!(
        stdout(&ps).contains(r#""Health":"starting""#),
        "{}",
        stdout(&ps)
    );
    let ps = ok(&s.rcompose(&["ps", "db"])).clone();
    assert!(
        stdout(&ps).contains("(health: starting)"),
        "{}",
        stdout(&ps)
    );
    // The early probes were plain execs that ended: nothing is left running beside db's own.
    let top = ok(&s.exec(&n("db"), &["ps", "-o", "args"])).clone();
    assert!(!stdout(&top).contains("test -f"), "{}", stdout(&top));
}

fn early_probes_never_release_after_the_engine_says_unhealthy() {
    let docker = docker();
    let s = Stack::fixture(&docker, "unhealthy");
    let n = |svc: &str| format!("{}-{svc}-1", s.name);
    let t = Instant::now();
    let o = s.rcompose(&["up", "-d"]);
    let took = t.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "dependency failed to start: container {} is unhealthy",
            n("db")
        )),
        "{}",
        stderr(&o)
    );
    // Failed at the engine's verdict, before db became ready (5 s) and an early probe passed.
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(s.containers()[&n("web")].state, "created");
    // Once db is ready an early probe would pass: web is still not started.
    eventually(Duration::from_secs(20), "db ready", || {
        s.exec(&n("db"), &["test", "-f", "/tmp/ready"])
            .status
            .success()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(s.containers()[&n("web")].state, "created");
}

fn without_early_probes_dependents_wait_for_the_engine_as_the_reference_does() {
    let docker = docker();
    let s = Stack::fixture(&docker, "off");
    let n = |svc: &str| format!("{}-{svc}-1", s.name);
    // The reference: web starts once the engine's first check (2 s after db starts) passed.
    ok(&s.reference(&["up", "-d"]));
    assert!(first_healthy_at(&s, &n("db")) < started_at(&s, &n("web")));
    ok(&s.reference(&["down", "-t", "0"]));
    // RCOMPOSE_EARLY_PROBE=0: the same.
    ok(&run(s
        .rcompose_cmd(&["up", "-d"])
        .env("RCOMPOSE_EARLY_PROBE", "0")));
    assert!(first_healthy_at(&s, &n("db")) < started_at(&s, &n("web")));
    ok(&s.rcompose(&["down", "-t", "0"]));
    // By default: web starts before the engine's first check.
    ok(&s.rcompose(&["up", "-d"]));
    let (status, log) = engine_health(&s, &n("db"));
    assert!(
        log.iter()
            .filter_map(|l| l.end.clone())
            .all(|end| end > started_at(&s, &n("web"))),
        "{status} {log:?}"
    );
}

cases! {
    engine:
        early_probes_release_a_dependent_before_the_engines_first_check,
        early_probes_never_release_after_the_engine_says_unhealthy;
    reference:
        without_early_probes_dependents_wait_for_the_engine_as_the_reference_does;
}
