//! Convergence on the real engine: recreate only what changed (and its `restart: true`
//! dependents), keep data, health-gated starts from the event stream, `--wait`, orphans, scale,
//! the lifecycle commands, concurrent and interrupted runs.

use std::time::{Duration, Instant};

use crate::harness::*;

const IDLE: &str = r#"["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]"#;

fn svc(name: &str, extra: &str) -> String {
    format!(
        "  {name}:\n    image: rcompose-test:latest\n    init: true\n    command: {IDLE}\n{extra}"
    )
}

fn file(services: &[String], tail: &str) -> String {
    format!("services:\n{}{tail}", services.join(""))
}

fn chain(env: &str) -> String {
    file(
        &[
            svc("db", "    volumes: [\"data:/data\", \"/anon\"]\n"),
            svc(
                "api",
                &format!("    environment: {{VERSION: \"{env}\"}}\n    depends_on: [db]\n"),
            ),
            svc(
                "web",
                "    depends_on:\n      api: {condition: service_started, restart: true}\n",
            ),
            svc("worker", "    depends_on: [api]\n"),
        ],
        "volumes:\n  data: {}\n",
    )
}

#[test]
fn a_change_recreates_the_service_and_its_restart_dependents_only() {
    let Some(docker) = engine() else { return };
    let s = Stack::new(&docker, "recreate", &chain("1"));
    ok(&s.rcompose(&["up", "-d"]));
    let db = format!("{}-db-1", s.name);
    ok(&s.exec(
        &db,
        &["sh", "-c", "echo named > /data/f && echo anon > /anon/f"],
    ));
    let before = s.ids();

    // Nothing changed: nothing is touched.
    ok(&s.rcompose(&["up", "-d"]));
    assert_eq!(s.ids(), before);

    s.write(&chain("2"));
    let dry = ok(&s.rcompose(&["up", "-d", "--dry-run"])).clone();
    assert!(
        stdout(&dry).contains("configuration changed"),
        "{}",
        stdout(&dry)
    );
    ok(&s.rcompose(&["up", "-d"]));
    let after = s.ids();
    let changed: Vec<&str> = ["db", "api", "web", "worker"]
        .into_iter()
        .filter(|svc| {
            let n = format!("{}-{svc}-1", s.name);
            before[&n] != after[&n]
        })
        .collect();
    assert_eq!(
        changed,
        ["api", "web"],
        "only api and its restart: true dependent"
    );
    assert_eq!(after.len(), 4, "no leftover container: {after:?}");

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
    s.write(&chain("3"));
    let api = format!("{}-api-1", s.name);
    let id = s.ids()[&api].clone();
    ok(&s.rcompose(&["up", "-d", "--no-recreate"]));
    assert_eq!(s.ids()[&api], id);
}

fn health_chain(db_test: &str) -> String {
    file(
        &[
            svc(
                "db",
                &format!(
                    "    healthcheck:\n      test: {db_test}\n      interval: 1s\n      timeout: 1s\n      retries: 1\n"
                ),
            ),
            svc(
                "api",
                "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 1s\n    depends_on:\n      db: {condition: service_healthy}\n",
            ),
            svc(
                "web",
                "    depends_on:\n      api: {condition: service_healthy}\n",
            ),
        ],
        "",
    )
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

#[test]
fn health_gated_chain_starts_in_order_and_fails_fast_when_unhealthy() {
    let Some(docker) = engine() else { return };
    let s = Stack::new(&docker, "health", &health_chain(r#"["CMD", "true"]"#));
    ok(&s.rcompose(&["up", "-d"]));
    let n = |svc: &str| format!("{}-{svc}-1", s.name);
    // RFC 3339 timestamps from one engine compare as strings.
    assert!(first_healthy_at(&s, &n("db")) < started_at(&s, &n("api")));
    assert!(first_healthy_at(&s, &n("api")) < started_at(&s, &n("web")));
    ok(&s.rcompose(&["down"]));

    s.write(&health_chain(r#"["CMD", "false"]"#));
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

#[test]
fn wait_returns_when_healthy_and_fails_on_timeout() {
    let Some(docker) = engine() else { return };
    let s = Stack::new(&docker, "wait", &health_chain(r#"["CMD", "true"]"#));
    ok(&s.rcompose(&["up", "--wait"]));
    let o = ok(&s.rcompose(&["ps", "--all"])).clone();
    assert!(stdout(&o).contains("(healthy)"), "{}", stdout(&o));

    let never = file(
        &[svc(
            "slow",
            "    healthcheck:\n      test: [\"CMD\", \"test\", \"-f\", \"/ready\"]\n      interval: 1s\n      retries: 1000\n",
        )],
        "",
    );
    s.write(&never);
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

#[test]
fn orphans_are_reported_then_removed() {
    let Some(docker) = engine() else { return };
    let s = Stack::new(&docker, "orphans", &file(&[svc("a", ""), svc("b", "")], ""));
    ok(&s.rcompose(&["up", "-d"]));
    s.write(&file(&[svc("a", "")], ""));
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

#[test]
fn scale_up_and_down() {
    let Some(docker) = engine() else { return };
    let s = Stack::new(&docker, "scale", &file(&[svc("w", "    scale: 2\n")], ""));
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

#[test]
fn lifecycle_commands_follow_dependencies() {
    let Some(docker) = engine() else { return };
    let s = Stack::new(&docker, "lifecycle", &chain("1"));
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

#[test]
fn concurrent_ups_end_in_one_stack() {
    let Some(docker) = engine() else { return };
    let services: Vec<String> = (0..6).map(|i| svc(&format!("s{i}"), "")).collect();
    let s = Stack::new(&docker, "concurrent", &file(&services, ""));
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

#[test]
fn an_interrupted_up_converges_on_the_next() {
    let Some(docker) = engine() else { return };
    // db becomes healthy after 2s; the up is killed while it waits.
    let slow = file(
        &[
            svc(
                "db",
                "    healthcheck:\n      test: [\"CMD\", \"sh\", \"-c\", \"test $$(cut -d. -f1 /proc/uptime) -ge 0 && sleep 2\"]\n      interval: 1s\n      timeout: 5s\n",
            ),
            svc("api", "    depends_on:\n      db: {condition: service_healthy}\n"),
        ],
        "",
    );
    let s = Stack::new(&docker, "interrupted", &slow);
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
