//! The walking skeleton on the real engine: `up -d` / `down` of the quickstart example, labels,
//! names, dependency order, idempotence, and interop with the reference docker compose.

use std::time::Duration;

use crate::harness::*;

fn quickstart() -> String {
    std::fs::read_to_string(root().join("examples/quickstart/compose.yaml"))
        .expect("quickstart example")
}

fn services_of_quickstart() -> Vec<&'static str> {
    vec![
        "api",
        "cache",
        "db",
        "docs",
        "metrics",
        "migrate",
        "proxy",
        "scheduler",
        "web",
        "worker",
    ]
}

fn quickstart_up_and_down_leaves_nothing_behind() {
    let docker = docker();
    let s = Stack::new(&docker, "quickstart", &quickstart());
    ok(&s.rcompose(&["up", "-d"]));

    let containers = s.containers();
    let mut names: Vec<&String> = containers.keys().collect();
    names.sort();
    let want: Vec<String> = services_of_quickstart()
        .iter()
        .map(|svc| format!("{}-{svc}-1", s.name))
        .collect();
    assert_eq!(names, want.iter().collect::<Vec<_>>());
    for (name, c) in &containers {
        let expected = if name.ends_with("-migrate-1") {
            "exited"
        } else {
            "running"
        };
        assert_eq!(c.state, expected, "{name}");
    }
    assert_eq!(
        s.networks(),
        vec![
            format!("{}_back", s.name),
            format!("{}_default", s.name),
            format!("{}_front", s.name)
        ]
    );
    assert_eq!(s.volumes(), vec![format!("{}_data", s.name)]);

    // The one-shot migration wrote into the named volume, and exited 0.
    let migrate = s.inspect(&format!("{}-migrate-1", s.name));
    assert_eq!(migrate.state.unwrap().exit_code, Some(0));
    let out = s.exec(&format!("{}-db-1", s.name), &["cat", "/data/migrated"]);
    assert_eq!(stdout(ok(&out)).trim(), "migrated");

    ok(&s.rcompose(&["down", "-v"]));
    assert!(
        s.containers().is_empty(),
        "containers left: {:?}",
        s.containers().keys()
    );
    assert!(s.networks().is_empty(), "networks left: {:?}", s.networks());
    assert!(s.volumes().is_empty(), "volumes left: {:?}", s.volumes());
}

fn containers_carry_the_compose_labels() {
    let docker = docker();
    let s = Stack::fixture(&docker, "labels");
    ok(&s.rcompose(&["up", "-d"]));
    let web = &s.containers()[&format!("{}-web-1", s.name)];
    let l = &web.labels;
    let dir = std::fs::canonicalize(s.path()).unwrap();
    assert_eq!(l["com.docker.compose.project"], s.name);
    assert_eq!(l["com.docker.compose.service"], "web");
    assert_eq!(l["com.docker.compose.container-number"], "1");
    assert_eq!(l["com.docker.compose.oneoff"], "False");
    assert_eq!(l["com.docker.compose.config-hash"].len(), 64);
    assert_eq!(l["com.docker.compose.version"], "2.40.3");
    assert_eq!(
        l["com.docker.compose.depends_on"],
        "db:service_started:true"
    );
    assert!(l["com.docker.compose.image"].starts_with("sha256:"));
    assert_eq!(l["team"], "core");
    let files = &l["com.docker.compose.project.config_files"];
    let wd = &l["com.docker.compose.project.working_dir"];
    assert!(
        std::path::Path::new(wd).ends_with(dir.file_name().unwrap()),
        "{wd}"
    );
    assert!(files.ends_with("/compose.yaml"), "{files}");

    // Network labels and aliases: reachable by service name and container name.
    let net = block_on(docker.inspect_network(
        &format!("{}_default", s.name),
        None::<bollard::query_parameters::InspectNetworkOptions>,
    ))
    .unwrap();
    let nl = net.labels.unwrap();
    assert_eq!(nl["com.docker.compose.network"], "default");
    assert_eq!(nl["com.docker.compose.project"], s.name);
    assert!(
        !nl.contains_key("com.docker.compose.config-hash"),
        "no config-hash on networks (interop)"
    );
    let out = s.exec(&format!("{}-web-1", s.name), &["nslookup", "db"]);
    assert!(ok(&out).status.success());
    let out = s.exec(
        &format!("{}-web-1", s.name),
        &["nslookup", &format!("{}-db-1", s.name)],
    );
    assert!(ok(&out).status.success());
    ok(&s.rcompose(&["down"]));
}

fn each_service_starts_after_its_own_dependencies() {
    let docker = docker();
    // `slow` needs `init` to finish (2 s); `free` depends on nothing and must not wait for it.
    let s = Stack::fixture(&docker, "order");
    ok(&s.rcompose(&["up", "-d"]));
    let t = |svc: &str, finished: bool| {
        let st = s.inspect(&format!("{}-{svc}-1", s.name)).state.unwrap();
        let v = if finished {
            st.finished_at
        } else {
            st.started_at
        };
        chrono::DateTime::parse_from_rfc3339(&v.unwrap()).unwrap()
    };
    assert!(
        t("slow", false) >= t("init", true),
        "slow started before init finished"
    );
    assert!(
        t("tail", false) >= t("slow", false),
        "tail started before slow"
    );
    assert!(
        t("free", false) < t("init", true),
        "free waited for an unrelated dependency"
    );
    ok(&s.rcompose(&["down"]));
}

fn second_up_changes_nothing_and_down_keeps_volumes() {
    let docker = docker();
    let s = Stack::fixture(&docker, "idempotent");
    ok(&s.rcompose(&["up", "-d"]));
    let db = format!("{}-db-1", s.name);
    ok(&s.exec(&db, &["sh", "-c", "echo kept > /data/f"]));
    let before = s.containers()[&db].id.clone();
    let out = ok(&s.rcompose(&["--progress", "plain", "up", "-d"])).clone();
    assert_eq!(
        s.containers()[&db].id,
        before,
        "second up recreated the container"
    );
    assert!(!stderr(&out).contains("Creating"), "{}", stderr(&out));

    ok(&s.rcompose(&["down"]));
    assert!(s.containers().is_empty());
    assert_eq!(
        s.volumes(),
        vec![format!("{}_data", s.name)],
        "down without -v removed the volume"
    );
    ok(&s.rcompose(&["up", "-d"]));
    let out = s.exec(&db, &["cat", "/data/f"]);
    assert_eq!(stdout(ok(&out)).trim(), "kept");
    ok(&s.rcompose(&["down", "-v"]));
    assert!(s.volumes().is_empty());
}

fn stack_started_by_rcompose_is_listed_and_removed_by_the_reference() {
    let docker = docker();
    let s = Stack::new(&docker, "interop-ref-down", &quickstart());
    ok(&s.rcompose(&["up", "-d"]));
    let out = ok(&s.reference(&["ps", "--format", "json"])).clone();
    let listed: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("ps json line"))
        .collect();
    assert_eq!(
        listed.len(),
        9,
        "running containers listed by the reference: {}",
        stdout(&out)
    );
    for c in &listed {
        assert_eq!(c["Project"], s.name.as_str());
    }
    // The reference removes everything without a file, from the labels rcompose wrote.
    let empty = tempfile::tempdir().unwrap();
    let out = run(std::process::Command::new("docker")
        .args(["compose", "-p", &s.name, "down", "-v"])
        .current_dir(empty.path()));
    ok(&out);
    eventually(Duration::from_secs(5), "nothing left", || {
        s.containers().is_empty() && s.networks().is_empty()
    });
    // Named volumes without a file: the reference leaves them, as it has no declaration.
    ok(&s.rcompose(&["down", "-v"]));
    assert!(s.volumes().is_empty());
}

fn stack_started_by_the_reference_is_listed_and_removed_by_rcompose() {
    let docker = docker();
    let s = Stack::new(&docker, "interop-rc-down", &quickstart());
    ok(&s.reference(&["up", "-d"]));
    let out = ok(&s.rcompose(&["ps"])).clone();
    let text = stdout(&out);
    for svc in services_of_quickstart().iter().filter(|s| **s != "migrate") {
        assert!(
            text.contains(&format!("{}-{svc}-1", s.name)),
            "{svc} missing from ps:\n{text}"
        );
    }
    // A second `up` by rcompose on the same project keeps the reference's networks and volume.
    let empty = tempfile::tempdir().unwrap();
    let out = run(std::process::Command::new(bin())
        .args(["-p", &s.name, "down", "-v"])
        .current_dir(empty.path()));
    ok(&out);
    assert!(
        s.containers().is_empty(),
        "containers left: {:?}",
        s.containers().keys()
    );
    assert!(s.networks().is_empty(), "networks left: {:?}", s.networks());
    assert!(s.volumes().is_empty(), "volumes left: {:?}", s.volumes());
}

fn attached_up_streams_logs_and_returns_when_containers_exit() {
    let docker = docker();
    let s = Stack::fixture(&docker, "attached");
    let out = s.rcompose(&["--progress", "quiet", "up"]);
    ok(&out);
    let text = stdout(&out);
    assert!(text.contains("Attaching to one-1, two-1"), "{text}");
    assert!(text.contains("one-1  | hello from one"), "{text}");
    assert!(text.contains("two-1  | bye"), "{text}");
    assert!(text.contains("two-1 exited with code 3"), "{text}");
    assert!(
        stderr(&out).contains("one-1  | oops"),
        "stderr: {}",
        stderr(&out)
    );
    ok(&s.rcompose(&["down"]));
}

cases! {
    engine:
        quickstart_up_and_down_leaves_nothing_behind,
        containers_carry_the_compose_labels,
        each_service_starts_after_its_own_dependencies,
        second_up_changes_nothing_and_down_keeps_volumes,
        attached_up_streams_logs_and_returns_when_containers_exit;
    reference:
        stack_started_by_rcompose_is_listed_and_removed_by_the_reference,
        stack_started_by_the_reference_is_listed_and_removed_by_rcompose;
}
