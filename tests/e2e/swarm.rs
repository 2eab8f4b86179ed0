//! `rcompose stack` on a single-node swarm the test makes and leaves ([`Swarm`]); every test
//! here holds `SWARM_LOCK`, so none runs beside another or beside the tests that need the engine
//! out of swarm mode.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::*;

const NS: &str = "com.docker.stack.namespace";

fn docker_cli(args: &[&str]) -> std::process::Output {
    run(Command::new("docker").args(args))
}

/// `docker service inspect NAME` as JSON.
fn service(name: &str) -> Value {
    let o = ok(&docker_cli(&["service", "inspect", name])).clone();
    let v: Value = serde_json::from_slice(&o.stdout).expect("service json");
    v[0].clone()
}

/// Running tasks of a service.
fn running(name: &str) -> usize {
    let o = docker_cli(&[
        "service",
        "ps",
        name,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.CurrentState}}",
    ]);
    stdout(&o)
        .lines()
        .filter(|l| l.starts_with("Running"))
        .count()
}

/// A running container of a service.
fn container_of(service: &str) -> String {
    let o = docker_cli(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.swarm.service.name={service}"),
    ]);
    stdout(&o).lines().next().unwrap_or_default().to_string()
}

/// Objects of kind (`service`, `secret`, `config`, `network`) carrying the stack's label.
fn labelled(kind: &str, stack: &str) -> Vec<String> {
    let o = docker_cli(&[
        kind,
        "ls",
        "--filter",
        &format!("label={NS}={stack}"),
        "--format",
        "{{.Name}}",
    ]);
    let mut v: Vec<String> = stdout(&o).lines().map(String::from).collect();
    v.sort();
    v
}

fn stack_deploy_converges_and_redeploys_only_changes() {
    let docker = docker();
    let swarm = Swarm::join();
    let s = Stack::fixture(&docker, "stack_deploy_converges_and_redeploys_only_changes");
    let st = swarm.stack("deploy");
    let o = s.rcompose(&["stack", "deploy", "--wait", "--wait-timeout", "90", &st]);
    ok(&o);
    // One located warning per key swarm cannot honour.
    assert!(
        stderr(&o).contains("services.db.container_name"),
        "{}",
        stderr(&o)
    );
    let web = format!("{st}_web");
    let db = format!("{st}_db");
    assert_eq!(running(&web), 2);
    assert_eq!(running(&db), 1);
    assert_eq!(
        labelled("network", &st),
        [format!("{st}_back")],
        "the stack's overlay network"
    );
    assert_eq!(labelled("secret", &st), [format!("{st}_token")]);
    assert_eq!(labelled("config", &st), [format!("{st}_conf")]);
    // The spec as docker stack makes it.
    let spec = service(&web)["Spec"].clone();
    assert_eq!(spec["Labels"][NS], st.as_str());
    assert_eq!(spec["Labels"]["com.docker.stack.image"], IMAGE);
    assert_eq!(spec["Labels"]["owner"], "team");
    let cs = &spec["TaskTemplate"]["ContainerSpec"];
    assert_eq!(cs["Labels"]["tier"], "front");
    assert_eq!(cs["Env"][0], "GREETING=hello", ".env interpolated");
    assert_eq!(
        spec["TaskTemplate"]["Resources"]["Limits"]["NanoCPUs"],
        500_000_000
    );
    assert_eq!(
        spec["TaskTemplate"]["Resources"]["Limits"]["MemoryBytes"],
        64 << 20
    );
    assert_eq!(
        spec["TaskTemplate"]["RestartPolicy"]["Condition"],
        "on-failure"
    );
    assert_eq!(spec["UpdateConfig"]["Order"], "start-first");
    assert_eq!(spec["TaskTemplate"]["Networks"][0]["Aliases"][1], "www");
    assert_eq!(service(&db)["Spec"]["EndpointSpec"]["Mode"], "dnsrr");
    // DNS on the overlay network: a VIP for web (and its alias), task addresses for dnsrr db.
    let c = container_of(&db);
    for name in ["web", "www", &web] {
        let o = docker_cli(&["exec", &c, "nslookup", name]);
        assert!(o.status.success(), "nslookup {name}: {}", stdout(&o));
    }
    let wc = container_of(&web);
    let o = docker_cli(&["exec", &wc, "nslookup", "db"]);
    assert!(o.status.success(), "dnsrr db: {}", stdout(&o));
    // To httpd on a task's address (no file served: its 404 proves the connection; the
    // VIP's IPVS balancing is not available in every sandbox).
    let o = docker_cli(&["exec", &c, "wget", "-q", "-O-", "http://tasks.web:8080/"]);
    assert!(stderr(&o).contains("404"), "{}", stderr(&o));
    // The secret and config are mounted.
    let o = ok(&docker_cli(&[
        "exec",
        &wc,
        "cat",
        "/run/secrets/token",
        "/etc/app.conf",
    ]))
    .clone();
    assert_eq!(stdout(&o), "s3creta=1");

    // Nothing changed: nothing updated.
    let before = (
        service(&web)["Version"].clone(),
        service(&db)["Version"].clone(),
    );
    let o = ok(&s.rcompose(&["stack", "deploy", &st])).clone();
    assert_eq!(stdout(&o), "", "an unchanged redeploy changes nothing");
    let after = (
        service(&web)["Version"].clone(),
        service(&db)["Version"].clone(),
    );
    assert_eq!(before, after);

    // A changed secret: a new version, web rolls, db stays.
    std::fs::write(s.path().join("token.txt"), "n3w").expect("write");
    let o = ok(&s.rcompose(&["stack", "deploy", "--wait", "--wait-timeout", "90", &st])).clone();
    assert!(
        stdout(&o).contains(&format!("Updating service {web}")),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains(&db), "{}", stdout(&o));
    let secrets = labelled("secret", &st);
    assert_eq!(secrets.len(), 1, "the old version is removed: {secrets:?}");
    assert!(
        secrets[0].starts_with(&format!("{st}_token-")),
        "{secrets:?}"
    );
    eventually(Duration::from_secs(60), "web runs the new secret", || {
        let c = container_of(&web);
        let o = docker_cli(&["exec", &c, "cat", "/run/secrets/token"]);
        stdout(&o) == "n3w" && running(&web) == 2
    });
    assert_eq!(service(&db)["Version"], after.1);

    // Scaling through the file.
    let yaml = std::fs::read_to_string(s.path().join("compose.yaml")).expect("read");
    s.write(&yaml.replace("replicas: 2", "replicas: 3"));
    ok(&s.rcompose(&["stack", "deploy", "--wait", "--wait-timeout", "90", &st]));
    assert_eq!(running(&web), 3);

    // ls, services, ps.
    let o = ok(&s.rcompose(&["stack", "ls"])).clone();
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == [st.as_str(), "2"]),
        "{}",
        stdout(&o)
    );
    let o = ok(&s.rcompose(&["stack", "services", &st])).clone();
    assert!(stdout(&o).contains("3/3"), "{}", stdout(&o));
    let o = ok(&s.rcompose(&[
        "stack",
        "ps",
        &st,
        "--format",
        "{{.Name}} {{.DesiredState}}",
    ]))
    .clone();
    assert!(
        stdout(&o).contains(&format!("{web}.1 Running")),
        "{}",
        stdout(&o)
    );

    // rm removes everything it made.
    ok(&s.rcompose(&["stack", "rm", &st]));
    for kind in ["service", "secret", "config", "network"] {
        assert!(labelled(kind, &st).is_empty(), "{kind} left");
    }
}

fn stack_depends_on_waits_for_health_and_prune() {
    let docker = docker();
    let swarm = Swarm::join();
    let s = Stack::fixture(&docker, "stack_depends_on_waits_for_health_and_prune");
    let st = swarm.stack("deps");
    ok(&s.rcompose(&["stack", "deploy", "--wait", "--wait-timeout", "90", &st]));
    // app was created only once db's task was running (healthy: swarm holds it in
    // `starting` until its healthcheck passes).
    let db_ready = {
        let o = ok(&docker_cli(&[
            "service",
            "ps",
            &format!("{st}_db"),
            "--format",
            "{{.ID}}",
        ]))
        .clone();
        let id = stdout(&o).lines().next().unwrap_or_default().to_string();
        let o = ok(&docker_cli(&["inspect", &id])).clone();
        let t: Value = serde_json::from_slice(&o.stdout).expect("task json");
        t[0]["Status"]["Timestamp"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let app_created = service(&format!("{st}_app"))["CreatedAt"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).expect("time");
    assert!(
        parse(&app_created) >= parse(&db_ready),
        "app created {app_created} before db was healthy {db_ready}"
    );
    // The job completed.
    let o = ok(&s.rcompose(&["stack", "services", &st])).clone();
    assert!(stdout(&o).contains("replicated job"), "{}", stdout(&o));
    assert!(stdout(&o).contains("(1/1 completed)"), "{}", stdout(&o));
    // Without --prune a service gone from the file stays; with it, it goes.
    s.use_file("pruned.yaml");
    ok(&s.rcompose(&["stack", "deploy", &st]));
    assert_eq!(labelled("service", &st).len(), 3);
    let o = ok(&s.rcompose(&["stack", "deploy", "--prune", &st])).clone();
    assert!(
        stdout(&o).contains(&format!("Removing service {st}_app")),
        "{}",
        stdout(&o)
    );
    assert_eq!(labelled("service", &st), [format!("{st}_db")]);
}

fn stack_interop_with_docker_stack() {
    let docker = docker();
    let swarm = Swarm::join();
    let s = Stack::fixture(&docker, "stack_interop_with_docker_stack");
    // docker stack deploys, rcompose reads, redeploys (changing nothing) and removes.
    let theirs = swarm.stack("theirs");
    let o = run(Command::new("docker")
        .args(["stack", "deploy", "-c", "compose.yaml", &theirs])
        .current_dir(s.path()));
    ok(&o);
    eventually(
        Duration::from_secs(60),
        "docker stack's services run",
        || running(&format!("{theirs}_web")) == 2,
    );
    let o = ok(&s.rcompose(&["stack", "ls"])).clone();
    assert!(stdout(&o).contains(&theirs), "{}", stdout(&o));
    let o = ok(&s.rcompose(&["stack", "services", &theirs])).clone();
    assert!(
        stdout(&o).contains(&format!("{theirs}_web")),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("2/2"), "{}", stdout(&o));
    let web = service(&format!("{theirs}_web"));
    let o = ok(&s.rcompose(&["stack", "deploy", &theirs])).clone();
    let again = service(&format!("{theirs}_web"));
    // docker stack's secret carries no digest: rcompose makes its own version of it once.
    assert!(
        !stdout(&o).contains(&format!("{theirs}_other")),
        "other is unchanged: {}",
        stdout(&o)
    );
    assert_eq!(
        web["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"],
        again["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    );
    ok(&s.rcompose(&["stack", "rm", &theirs]));
    for kind in ["service", "secret", "network"] {
        assert!(labelled(kind, &theirs).is_empty(), "{kind} left");
    }

    // rcompose deploys, docker stack reads and removes.
    let ours = swarm.stack("ours");
    ok(&s.rcompose(&["stack", "deploy", "--wait", "--wait-timeout", "90", &ours]));
    let o = ok(&docker_cli(&["stack", "ls"])).clone();
    assert!(stdout(&o).contains(&ours), "{}", stdout(&o));
    let o = ok(&docker_cli(&[
        "stack",
        "services",
        &ours,
        "--format",
        "{{.Name}} {{.Replicas}}",
    ]))
    .clone();
    assert!(
        stdout(&o).contains(&format!("{ours}_web 2/2")),
        "{}",
        stdout(&o)
    );
    // The same spec docker stack would make (labels, network, secret).
    let ours_web = service(&format!("{ours}_web"))["Spec"].clone();
    for key in [NS, "com.docker.stack.image"] {
        assert!(ours_web["Labels"][key].is_string(), "{key}");
    }
    let nets = ours_web["TaskTemplate"]["Networks"][0]["Aliases"].clone();
    assert_eq!(nets, web["Spec"]["TaskTemplate"]["Networks"][0]["Aliases"]);
    ok(&docker_cli(&["stack", "rm", &ours]));
    eventually(
        Duration::from_secs(60),
        "docker stack rm removes it all",
        || {
            ["service", "secret", "network"]
                .iter()
                .all(|k| labelled(k, &ours).is_empty())
        },
    );
}

/// The tasks of a service (`docker inspect` of each), every state.
fn tasks(name: &str) -> Vec<Value> {
    let o = ok(&docker_cli(&["service", "ps", name, "-q", "--no-trunc"])).clone();
    let listed = stdout(&o);
    let ids: Vec<&str> = listed.lines().collect();
    let mut args = vec!["inspect"];
    args.extend(ids);
    let o = ok(&docker_cli(&args)).clone();
    serde_json::from_slice(&o.stdout).expect("tasks json")
}

fn time(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default()).expect("time")
}

fn stack_rolling_update_start_first_and_rollback() {
    let docker = docker();
    let swarm = Swarm::join();
    let test = "stack_rolling_update_start_first_and_rollback";
    let s = Stack::fixture(&docker, test);
    let st = swarm.stack("roll");
    let web = format!("{st}_web");
    let deploy =
        |s: &Stack| s.rcompose(&["stack", "deploy", "--wait", "--wait-timeout", "90", &st]);
    ok(&deploy(&s));
    assert_eq!(running(&web), 2);
    let spec = service(&web)["Spec"].clone();
    let u = &spec["UpdateConfig"];
    assert_eq!(
        (
            &u["Order"],
            &u["FailureAction"],
            &u["Parallelism"],
            &u["Monitor"]
        ),
        (
            &json!("start-first"),
            &json!("rollback"),
            &json!(1),
            &json!(3_000_000_000u64)
        ),
        "{u}"
    );
    let r = &spec["RollbackConfig"];
    assert_eq!(
        (&r["Order"], &r["Parallelism"]),
        (&json!("start-first"), &json!(0)),
        "{r}"
    );

    // A changed variable: each slot's new task runs (healthy) before its old one stops.
    s.use_file("v2.yaml");
    let o = ok(&deploy(&s)).clone();
    assert!(
        stdout(&o).contains(&format!("Updating service {web}")),
        "{}",
        stdout(&o)
    );
    let svc = service(&web);
    assert_eq!(
        svc["UpdateStatus"]["State"], "completed",
        "{}",
        svc["UpdateStatus"]
    );
    assert_eq!(
        svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"],
        json!(["VERSION=2"])
    );
    assert_eq!(running(&web), 2, "converged");
    let all = tasks(&web);
    for slot in [1, 2] {
        let of = |desired: &str| {
            all.iter()
                .find(|t| t["Slot"] == slot && t["DesiredState"] == desired)
                .unwrap_or_else(|| panic!("slot {slot}: no {desired} task in {all:#?}"))
        };
        let (new, old) = (of("running"), of("shutdown"));
        assert_eq!(new["Status"]["State"], "running");
        assert!(
            time(&new["Status"]["Timestamp"]) <= time(&old["Status"]["Timestamp"]),
            "slot {slot}: the new task ran at {} after the old one stopped at {}",
            new["Status"]["Timestamp"],
            old["Status"]["Timestamp"]
        );
    }
    // Redeployed unchanged: nothing to do.
    assert_eq!(stdout(ok(&deploy(&s))), "");

    // Only the healthcheck changes, and fails: swarm rolls back, --wait reports it.
    s.use_file("failing.yaml");
    let o = deploy(&s);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("Updating service {web}")),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains(&format!(
            "service {web} rolled back: update rolled back due to failure"
        )),
        "{}",
        stderr(&o)
    );
    let svc = service(&web);
    assert_eq!(
        svc["UpdateStatus"]["State"], "rollback_completed",
        "{}",
        svc["UpdateStatus"]
    );
    let cs = &svc["Spec"]["TaskTemplate"]["ContainerSpec"];
    assert_eq!(
        cs["Healthcheck"]["Test"],
        json!(["CMD", "test", "-f", "/tmp/ok"]),
        "{cs}"
    );
    assert_eq!(cs["Env"], json!(["VERSION=2"]));
    eventually(
        Duration::from_secs(30),
        "2 tasks of the previous spec run",
        || running(&web) == 2,
    );
    // The previous file again: the rolled-back spec is that one, nothing to do.
    s.use_file("v2.yaml");
    assert_eq!(stdout(ok(&deploy(&s))), "");
}

fn stack_deploy_refuses_bad_input_before_changing_anything() {
    let docker = docker();
    let swarm = Swarm::join();
    let s = Stack::new(
        &docker,
        "stack_bad",
        "services:\n  a:\n    image: rcompose-test:no-such-tag\n",
    );
    let st = swarm.stack("bad");
    let o = s.rcompose(&["stack", "deploy", &st]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not on this node"), "{}", stderr(&o));
    assert!(labelled("network", &st).is_empty());
    s.write(
        "services:\n  a:\n    image: rcompose-test:latest\n    deploy:\n      mode: sideways\n",
    );
    let o = s.rcompose(&["stack", "deploy", &st]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("services.a.deploy.mode"),
        "{}",
        stderr(&o)
    );
    assert!(labelled("network", &st).is_empty());
}

fn stack_deploy_needs_a_swarm_manager() {
    let docker = docker();
    let _lock = SWARM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if swarm_state() == "active" {
        // The engine is in a swarm someone else made: nothing to check here.
        return;
    }
    let s = Stack::new(
        &docker,
        "stack_no_swarm",
        "services:\n  a:\n    image: rcompose-test:latest\n",
    );
    let o = s.rcompose(&["stack", "deploy", "nosw"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a swarm manager"), "{}", stderr(&o));
}

cases! {
    engine:
        stack_deploy_converges_and_redeploys_only_changes,
        stack_depends_on_waits_for_health_and_prune,
        stack_interop_with_docker_stack,
        stack_rolling_update_start_first_and_rollback,
        stack_deploy_refuses_bad_input_before_changing_anything,
        stack_deploy_needs_a_swarm_manager;
}
