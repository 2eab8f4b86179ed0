//! Convergence on the real engine: recreate only what changed (and restart its `restart: true`
//! dependents), keep data, health-gated starts from the event stream, `--wait`, orphans, scale,
//! the lifecycle commands, concurrent and interrupted runs.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::*;

fn a_change_recreates_the_service_and_restarts_its_restart_dependents() {
    let docker = docker();
    let s = Stack::fixture(&docker, "recreate");
    ok(&s.rcompose(&["up", "-d"]));
    let db = format!("{}-db-1", s.name);
    ok(&s.exec(
        &db,
        &["sh", "-c", "echo named > /data/f && echo anon > /anon/f"],
    ));
    let before = s.ids();
    let web = format!("{}-web-1", s.name);
    let worker = format!("{}-worker-1", s.name);
    ok(&s.exec(&web, &["touch", "/layer-mark"]));
    let (web_started, worker_started) = (started_at(&s, &web), started_at(&s, &worker));

    // Nothing changed: nothing is touched.
    ok(&s.rcompose(&["up", "-d"]));
    assert_eq!(s.ids(), before);

    s.use_file("compose.2.yaml");
    let dry = ok(&s.rcompose(&["--progress", "plain", "up", "-d", "--dry-run"])).clone();
    let err = stderr(&dry);
    let mut recreate: Vec<&str> = err.lines().filter(|l| l.ends_with("  Recreate")).collect();
    recreate.sort();
    assert_eq!(
        recreate,
        [format!(
            " DRY-RUN MODE -  Container {}-api-1  Recreate",
            s.name
        )],
        "{}",
        stderr(&dry)
    );
    assert_eq!(s.ids(), before, "--dry-run changed nothing");
    ok(&s.rcompose(&["up", "-d"]));
    let after = s.ids();
    let changed: Vec<&str> = ["db", "api", "web", "worker"]
        .into_iter()
        .filter(|svc| {
            let n = format!("{}-{svc}-1", s.name);
            before[&n] != after[&n]
        })
        .collect();
    assert_eq!(changed, ["api"], "only api is recreated");
    assert_eq!(after.len(), 4, "no leftover container: {after:?}");
    // Its `restart: true` dependent is restarted, keeping its container and writable layer,
    // as the reference does; the plain dependent is left alone.
    assert_ne!(started_at(&s, &web), web_started, "web was not restarted");
    ok(&s.exec(&web, &["test", "-e", "/layer-mark"]));
    assert_eq!(started_at(&s, &worker), worker_started);

    // Forced recreation of the database keeps both its named and its anonymous volume.
    ok(&s.rcompose(&["up", "-d", "--force-recreate", "--no-deps", "db"]));
    assert_ne!(s.ids()[&db], before[&db]);
    assert_eq!(
        stdout(ok(&s.exec(&db, &["cat", "/data/f", "/anon/f"]))),
        "named\nanon\n"
    );
    // -V renews the anonymous one.
    ok(&s.rcompose(&["up", "-d", "--force-recreate", "-V", "--no-deps", "db"]));
    let o = s.exec(&db, &["cat", "/anon/f"]);
    assert!(!o.status.success(), "anonymous volume was renewed");
    assert_eq!(stdout(ok(&s.exec(&db, &["cat", "/data/f"]))), "named\n");

    // --no-recreate keeps a changed container.
    s.use_file("compose.3.yaml");
    let api = format!("{}-api-1", s.name);
    let id = s.ids()[&api].clone();
    ok(&s.rcompose(&["up", "-d", "--no-recreate"]));
    assert_eq!(s.ids()[&api], id);
}

fn started_at(s: &Stack, container: &str) -> String {
    s.inspect(container)
        .state
        .and_then(|st| st.started_at)
        .unwrap_or_default()
}

fn first_healthy_at(s: &Stack, container: &str) -> String {
    let health = s
        .inspect(container)
        .state
        .and_then(|st| st.health)
        .expect("health");
    health
        .log
        .unwrap_or_default()
        .into_iter()
        .find(|l| l.exit_code == Some(0))
        .and_then(|l| l.end)
        .expect("a passing check")
}

fn health_gated_chain_starts_in_order_and_fails_fast_when_unhealthy() {
    let docker = docker();
    let s = Stack::fixture(&docker, "health");
    // The engine's own order (early probes, on by default, release sooner: see early_probe.rs).
    ok(&run(s
        .rcompose_cmd(&["up", "-d"])
        .env("RCOMPOSE_EARLY_PROBE", "0")));
    let n = |svc: &str| format!("{}-{svc}-1", s.name);
    // RFC 3339 timestamps from one engine compare as strings.
    assert!(first_healthy_at(&s, &n("db")) < started_at(&s, &n("api")));
    assert!(first_healthy_at(&s, &n("api")) < started_at(&s, &n("web")));
    ok(&s.rcompose(&["down"]));

    s.use_file("unhealthy.yaml");
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
    // One failed check at a 1s interval: well before any timeout.
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert_eq!(s.containers()[&n("api")].state, "created");
}

fn wait_returns_when_healthy_and_fails_on_timeout() {
    let docker = docker();
    let s = Stack::fixture(&docker, "wait");
    ok(&s.rcompose(&["up", "--wait"]));
    let o = ok(&s.rcompose(&["ps", "--all"])).clone();
    assert!(stdout(&o).contains("(healthy)"), "{}", stdout(&o));

    s.use_file("never-healthy.yaml");
    let o = s.rcompose(&[
        "up",
        "-d",
        "--wait",
        "--wait-timeout",
        "2",
        "--remove-orphans",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("application not healthy after 2s"),
        "{}",
        stderr(&o)
    );
    // The containers are left running, as the reference does.
    assert_eq!(
        s.containers()[&format!("{}-slow-1", s.name)].state,
        "running"
    );
}

fn orphans_are_reported_then_removed() {
    let docker = docker();
    let s = Stack::fixture(&docker, "orphans");
    ok(&s.rcompose(&["up", "-d"]));
    s.use_file("without-b.yaml");
    let o = ok(&s.rcompose(&["up", "-d"])).clone();
    assert!(
        stderr(&o).contains(&format!(
            "Found orphan containers ([{}-b-1]) for this project",
            s.name
        )),
        "{}",
        stderr(&o)
    );
    assert!(s.containers().contains_key(&format!("{}-b-1", s.name)));
    ok(&s.rcompose(&["up", "-d", "--remove-orphans"]));
    assert!(!s.containers().contains_key(&format!("{}-b-1", s.name)));
}

fn scale_up_and_down() {
    let docker = docker();
    let s = Stack::fixture(&docker, "scale");
    ok(&s.rcompose(&["up", "-d"]));
    let names = |s: &Stack| {
        let mut v: Vec<String> = s.containers().into_keys().collect();
        v.sort();
        v
    };
    let w = |i: u32| format!("{}-w-{i}", s.name);
    assert_eq!(names(&s), [w(1), w(2)]);
    let first = s.ids()[&w(1)].clone();
    ok(&s.rcompose(&["up", "-d", "--scale", "w=4"]));
    assert_eq!(names(&s), [w(1), w(2), w(3), w(4)]);
    assert_eq!(s.ids()[&w(1)], first, "scaling up keeps existing replicas");
    ok(&s.rcompose(&["up", "-d", "--scale", "w=1"]));
    assert_eq!(names(&s), [w(1)]);
    assert_eq!(s.ids()[&w(1)], first);
    let c = &s.containers()[&w(1)];
    assert_eq!(c.labels["com.docker.compose.container-number"], "1");
}

fn lifecycle_commands_follow_dependencies() {
    let docker = docker();
    let s = Stack::fixture(&docker, "lifecycle");
    let n = |svc: &str| format!("{}-{svc}-1", s.name);
    ok(&s.rcompose(&["create"]));
    assert!(s.containers().values().all(|c| c.state == "created"));
    ok(&s.rcompose(&["start"]));
    assert!(s.containers().values().all(|c| c.state == "running"));

    ok(&s.rcompose(&["stop", "-t", "1"]));
    assert!(s.containers().values().all(|c| c.state == "exited"));
    // Stopped in reverse order: web before api before db.
    let finished = |svc: &str| {
        s.inspect(&n(svc))
            .state
            .and_then(|st| st.finished_at)
            .unwrap_or_default()
    };
    assert!(finished("web") <= finished("api") && finished("api") <= finished("db"));

    ok(&s.rcompose(&["start", "db"]));
    assert_eq!(s.containers()[&n("db")].state, "running");
    assert_eq!(s.containers()[&n("api")].state, "exited");
    ok(&s.rcompose(&["start"]));

    ok(&s.rcompose(&["pause", "api"]));
    assert_eq!(s.containers()[&n("api")].state, "paused");
    ok(&s.rcompose(&["unpause", "api"]));
    assert_eq!(s.containers()[&n("api")].state, "running");

    let before = started_at(&s, &n("web"));
    ok(&s.rcompose(&["restart", "-t", "1", "api"]));
    assert_ne!(started_at(&s, &n("web")), before, "dependents restart too");
    let before = started_at(&s, &n("web"));
    ok(&s.rcompose(&["restart", "--no-deps", "-t", "1", "api"]));
    assert_eq!(started_at(&s, &n("web")), before, "--no-deps");

    ok(&s.rcompose(&["kill", "worker"]));
    eventually(Duration::from_secs(10), "worker killed", || {
        s.containers()[&n("worker")].state == "exited"
    });
    let o = s.inspect(&n("worker")).state.and_then(|st| st.exit_code);
    assert_eq!(o, Some(137));
    // rm without -f asks; no answer is no.
    ok(&s.rcompose(&["rm"]));
    assert!(s.containers().contains_key(&n("worker")));
    ok(&s.rcompose(&["rm", "-f"]));
    assert!(!s.containers().contains_key(&n("worker")));
    ok(&s.rcompose(&["rm", "-fsv", "web"]));
    assert!(!s.containers().contains_key(&n("web")));
    assert!(s.containers().contains_key(&n("db")));
}

fn concurrent_ups_end_in_one_stack() {
    let docker = docker();
    let s = Stack::fixture(&docker, "concurrent");
    let quiet = ["--progress", "quiet", "up", "-d"];
    let mut c1 = s.rcompose_cmd(&quiet).spawn().expect("spawn");
    let mut c2 = s.rcompose_cmd(&quiet).spawn().expect("spawn");
    assert!(c1.wait().expect("wait").success());
    assert!(c2.wait().expect("wait").success());
    let cs = s.containers();
    assert_eq!(cs.len(), 6, "{:?}", cs.keys());
    assert!(cs.values().all(|c| c.state == "running"));
    assert_eq!(s.networks().len(), 1);
}

fn an_interrupted_up_converges_on_the_next() {
    let docker = docker();
    // db becomes healthy after 2s; the up is killed while it waits.
    let s = Stack::fixture(&docker, "interrupted");
    let n = |svc: &str| format!("{}-{svc}-1", s.name);
    let mut child = s
        .rcompose_cmd(&["--progress", "quiet", "up", "-d"])
        .spawn()
        .expect("spawn");
    eventually(Duration::from_secs(20), "db running", || {
        s.containers()
            .get(&n("db"))
            .is_some_and(|c| c.state == "running")
    });
    child.kill().expect("kill");
    let _ = child.wait();
    ok(&s.rcompose(&["up", "-d"]));
    let cs = s.containers();
    assert_eq!(cs.len(), 2, "{:?}", cs.keys());
    assert!(cs.values().all(|c| c.state == "running"));

    // A recreation cut off after the old container was set aside: the next up finishes it.
    let id = s.ids()[&n("api")].clone();
    let aside = format!("{}_{}", &id[..12], n("api"));
    ok(&run(std::process::Command::new("docker").args([
        "rename",
        &n("api"),
        &aside,
    ])));
    ok(&s.rcompose(&["up", "-d"]));
    let cs = s.containers();
    assert_eq!(cs.len(), 2, "{:?}", cs.keys());
    assert!(cs.contains_key(&n("api")) && !cs.contains_key(&aside));
}

/// Without `-p`, `up` and `ps` ask the engine under the name the file most likely gives while
/// they load it: a literal `name:` (guessed right), an interpolated one (not guessed), and a
/// file in JSON, whose name the guess does not see (guessed wrong: the folder's). Each converges
/// once, a second `up` changes nothing, and `ps` lists the project's containers.
fn a_project_named_by_its_files_is_observed_under_that_name() {
    let docker = docker();
    let command = r#"["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]"#;
    let yaml = format!("services:\n  web:\n    image: rcompose-test:latest\n    init: true\n    command: {command}\n");
    // A literal name, an interpolated one, JSON (guessed wrong), and the file on standard input
    // (read once: the guess must not consume it).
    for i in 0..4 {
        let s = Stack::new(&docker, &format!("named-by-file-{i}"), "");
        let text = match i {
            0 | 3 => format!("name: {}\n{yaml}", s.name),
            1 => format!("name: ${{PNAME}}\n{yaml}"),
            _ => format!(
                r#"{{"name": "{}", "services": {{"web": {{"image": "rcompose-test:latest", "init": true, "command": {command}}}}}}}"#,
                s.name
            ),
        };
        let stdin = i == 3;
        if !stdin {
            std::fs::write(s.path().join("compose.yaml"), &text).expect("write");
        }
        let tool = |args: &[&str]| {
            let mut cmd = Command::new(bin());
            if stdin {
                cmd.args(["-f", "-"]);
            }
            let mut child = cmd
                .args(args)
                .env("PNAME", &s.name)
                .current_dir(s.path())
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn rcompose");
            let mut input = child.stdin.take().expect("stdin");
            if stdin {
                std::io::Write::write_all(&mut input, text.as_bytes()).expect("write stdin");
            }
            drop(input);
            child.wait_with_output().expect("wait rcompose")
        };
        ok(&tool(&["--progress", "quiet", "up", "-d"]));
        let ids = s.ids();
        assert_eq!(ids.len(), 1, "case {i}: {ids:?}");
        ok(&tool(&["--progress", "quiet", "up", "-d"]));
        assert_eq!(s.ids(), ids, "case {i}: a second up changed the project");
        let listed = stdout(ok(&tool(&["ps", "-q", "--no-trunc"])));
        let want: Vec<&str> = ids.values().map(String::as_str).collect();
        assert_eq!(listed.lines().collect::<Vec<_>>(), want, "case {i}");
    }
}

cases! {
    engine:
        a_change_recreates_the_service_and_restarts_its_restart_dependents,
        health_gated_chain_starts_in_order_and_fails_fast_when_unhealthy,
        wait_returns_when_healthy_and_fails_on_timeout,
        orphans_are_reported_then_removed,
        scale_up_and_down,
        lifecycle_commands_follow_dependencies,
        concurrent_ups_end_in_one_stack,
        an_interrupted_up_converges_on_the_next,
        a_project_named_by_its_files_is_observed_under_that_name;
}
