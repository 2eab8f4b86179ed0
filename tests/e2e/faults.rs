//! The fault suite (issue 19): rcompose killed with SIGKILL at random moments of `up`, a
//! recreate and `down`, and concurrent `up`/`run`/`down` on one project. Each time, the next
//! command converges on one consistent stack, and no data is lost or duplicated.
//!
//! The moments come from a seed printed by each test; `RCOMPOSE_FAULT_SEED` replays one and
//! `RCOMPOSE_FAULT_ROUNDS` (default 3) sets how many rounds a run makes.

use std::collections::BTreeSet;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use crate::harness::{cases, docker, ok, run, stdout, Stack};

/// A small xorshift generator: enough to spread kill moments, replayable from its seed.
struct Moments(u64);

impl Moments {
    fn new(test: &str) -> Moments {
        let seed = std::env::var("RCOMPOSE_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            })
            | 1;
        eprintln!("{test}: RCOMPOSE_FAULT_SEED={seed}");
        Moments(seed)
    }

    /// A moment in `0..max`.
    fn below(&mut self, max: Duration) -> Duration {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        Duration::from_millis(x % max.as_millis().max(1) as u64)
    }
}

fn rounds() -> usize {
    std::env::var("RCOMPOSE_FAULT_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
}

/// `rcompose ARGS` with `GEN=gen`.
fn cmd(s: &Stack, gen: usize, args: &[&str]) -> Command {
    let mut c = s.rcompose_cmd(&[&["--progress", "quiet"], args].concat());
    c.env("GEN", gen.to_string());
    c
}

/// Starts `c` and kills it with SIGKILL after `after` (if it has not ended by then).
fn kill_after(mut c: Command, after: Duration) {
    let mut child = c.spawn().expect("spawn rcompose");
    let start = Instant::now();
    while start.elapsed() < after {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until the engine has finished what a killed command asked of it: the project's
/// containers keep the same states for half a second. (A stop sent just before the kill still
/// completes; an `up` observing the container before that would see it running, as the
/// reference would.)
fn settled(s: &Stack) {
    let snapshot = || {
        let mut v: Vec<(String, String)> = s
            .containers()
            .into_iter()
            .map(|(n, c)| (n, c.state))
            .collect();
        v.sort();
        v
    };
    let (mut last, mut same, start) = (snapshot(), 0, Instant::now());
    while same < 5 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
        let now = snapshot();
        same = if now == last { same + 1 } else { 0 };
        last = now;
    }
}

/// Brings the stack up with `GEN=gen` and checks it is the one stack the file describes: each
/// replica once and running with the file's config hash, one network, and the data of both
/// volumes (named and anonymous) still there.
fn converges(s: &Stack, gen: usize, why: &str) {
    let up = run(&mut cmd(s, gen, &["up", "-d"]));
    assert!(up.status.success(), "{why}: up failed: {}", text(&up));
    let n = |c: &str| format!("{}-{c}", s.name);
    let want: BTreeSet<String> = ["db-1", "api-1", "web-1", "web-2"]
        .iter()
        .map(|c| n(c))
        .collect();
    let cs = s.containers();
    let have: BTreeSet<String> = cs.keys().cloned().collect();
    assert_eq!(have, want, "{why}: the project's containers");
    let hashes = ok(&run(&mut cmd(s, gen, &["config", "--hash", "*"])))
        .stdout
        .clone();
    let hashes = String::from_utf8_lossy(&hashes);
    for (name, c) in &cs {
        assert_eq!(c.state, "running", "{why}: {name} runs");
        let service = &c.labels["com.docker.compose.service"];
        let hash = &c.labels["com.docker.compose.config-hash"];
        assert!(
            hashes.lines().any(|l| l == format!("{service} {hash}")),
            "{why}: {name} has the file's config hash ({hash} not in\n{hashes})"
        );
    }
    assert_eq!(s.networks(), [format!("{}_default", s.name)], "{why}");
    let db = s.exec(&n("db-1"), &["cat", "/data/marker"]);
    assert_eq!(stdout(&db).trim(), "kept", "{why}: the named volume's data");
    let api = s.exec(&n("api-1"), &["cat", "/cache/marker"]);
    assert_eq!(
        stdout(&api).trim(),
        "kept",
        "{why}: the anonymous volume's data"
    );
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Writes a marker in both volumes.
fn mark(s: &Stack) {
    for (c, dir) in [("db-1", "/data"), ("api-1", "/cache")] {
        let c = format!("{}-{c}", s.name);
        ok(&s.exec(&c, &["sh", "-c", &format!("echo kept > {dir}/marker")]));
    }
}

/// SIGKILL during `up`, during a recreate (a new `GEN`) and during `down`, at random moments:
/// the next `up` always ends in the one stack the file describes, with the volumes' data; the
/// next `down` always removes everything but the named volume.
fn killed_at_random_moments_then_converges() {
    let docker = docker();
    let s = Stack::fixture(&docker, "killed_at_random_moments_then_converges");
    let mut at = Moments::new("killed_at_random_moments_then_converges");
    ok(&run(&mut cmd(&s, 0, &["up", "-d"])));
    mark(&s);
    for round in 1..=rounds() {
        let t = at.below(Duration::from_millis(2500));
        kill_after(cmd(&s, round, &["up", "-d"]), t);
        settled(&s);
        converges(
            &s,
            round,
            &format!("round {round}: recreate killed after {t:?}"),
        );

        let t = at.below(Duration::from_millis(1500));
        kill_after(cmd(&s, round, &["down"]), t);
        settled(&s);
        // A `down` cut short may have removed api's container and with it the anonymous volume's
        // link: what must hold is the named volume and a clean stack, so put the marker back.
        let up = run(&mut cmd(&s, round, &["up", "-d"]));
        assert!(
            up.status.success(),
            "round {round}: up after a killed down: {}",
            text(&up)
        );
        mark(&s);
        converges(
            &s,
            round,
            &format!("round {round}: down killed after {t:?}"),
        );
    }
    let t = at.below(Duration::from_millis(1500));
    kill_after(cmd(&s, 0, &["down"]), t);
    ok(&run(&mut cmd(&s, 0, &["down"])));
    assert!(s.containers().is_empty(), "down after a killed down");
    assert!(s.networks().is_empty(), "down after a killed down");
    assert_eq!(
        s.volumes(),
        [format!("{}_data", s.name)],
        "the named volume stays"
    );
}

/// `up`, `run --rm`, `down` and another `up` started together, three times over: none crashes
/// or hangs, and afterwards one `up` gives the one stack and one `down` removes it all.
fn concurrent_up_run_down_end_in_one_consistent_stack() {
    let docker = docker();
    let s = Stack::fixture(
        &docker,
        "concurrent_up_run_down_end_in_one_consistent_stack",
    );
    ok(&run(&mut cmd(&s, 0, &["up", "-d"])));
    mark(&s);
    for round in 1..=rounds() {
        let children: Vec<(String, Child)> = [
            vec!["up", "-d"],
            vec!["run", "--rm", "--no-deps", "web", "true"],
            vec!["down"],
            vec!["up", "-d"],
        ]
        .into_iter()
        .map(|a| {
            let child = cmd(&s, round, &a).spawn().expect("spawn rcompose");
            (a.join(" "), child)
        })
        .collect();
        for (what, mut c) in children {
            let start = Instant::now();
            let status = loop {
                if let Ok(Some(st)) = c.try_wait() {
                    break Some(st);
                }
                if start.elapsed() > Duration::from_secs(120) {
                    let _ = c.kill();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let status = status.unwrap_or_else(|| panic!("round {round}: `{what}` hung"));
            // Losing a race is allowed (a `down` beside a running `run` says the network is in
            // use, as the reference does); crashing is not.
            assert!(
                matches!(status.code(), Some(0) | Some(1)),
                "round {round}: `{what}` ended with {status}"
            );
        }
        let up = run(&mut cmd(&s, round, &["up", "-d"]));
        assert!(up.status.success(), "round {round}: {}", text(&up));
        mark(&s);
        converges(&s, round, &format!("round {round}: after the race"));
    }
    ok(&run(&mut cmd(&s, 0, &["down"])));
    assert!(s.containers().is_empty());
    assert!(s.networks().is_empty());
}

cases! {
    engine:
        killed_at_random_moments_then_converges,
        concurrent_up_run_down_end_in_one_consistent_stack;
}
