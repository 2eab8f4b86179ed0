//! `rcompose stack` on a swarm of three engines: this machine's engine as the manager and two
//! [`Host`]s as workers, on a [`Lan`]. Runs only with `RCOMPOSE_E2E_MULTINODE=1` (see
//! `runner`); it owns the swarm, so it refuses to run when the engine is already in one.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::harness::*;
use crate::hosts::{Host, Lan};

fn docker_cli(args: &[&str]) -> Output {
    run(Command::new("docker").args(args))
}

fn text(o: &Output) -> String {
    stdout(o).trim().to_string()
}

/// A swarm of the local engine and two workers, torn down on drop (also on failure): the
/// stacks removed, the workers and the manager out of the swarm, the hosts and the bridge gone.
struct Cluster {
    /// Dropped before `lan` (fields drop in order).
    workers: Vec<Host>,
    lan: Lan,
    stacks: Vec<String>,
    /// Whether `docker_gwbridge` (made by the engine for swarm) was there before.
    had_gwbridge: bool,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl Cluster {
    fn new() -> Cluster {
        let lock = SWARM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        assert_ne!(
            swarm_state(),
            "active",
            "the local engine is already in a swarm: this test makes and leaves its own"
        );
        let mut c = Cluster {
            workers: Vec::new(),
            lan: Lan::new(),
            stacks: Vec::new(),
            had_gwbridge: docker_cli(&["network", "inspect", "docker_gwbridge"])
                .status
                .success(),
            _lock: lock,
        };
        for _ in 0..2 {
            let h = c.lan.host();
            c.workers.push(h);
        }
        // A short heartbeat: a stopped worker is found down in seconds, not half a minute.
        ok(&docker_cli(&[
            "swarm",
            "init",
            "--advertise-addr",
            &c.lan.gateway(),
            "--dispatcher-heartbeat",
            "2s",
        ]));
        let token = text(ok(&docker_cli(&["swarm", "join-token", "-q", "worker"])));
        let manager = format!("{}:2377", c.lan.gateway());
        for h in &c.workers {
            h.load_image(IMAGE);
            ok(&h.docker(&["swarm", "join", "--token", &token, &manager]));
        }
        eventually(Duration::from_secs(60), "three nodes ready", || {
            let o = docker_cli(&["node", "ls", "--format", "{{.Status}}"]);
            stdout(&o).lines().filter(|l| *l == "Ready").count() == 3
        });
        c
    }

    /// The swarm node id of a worker.
    fn node(&self, i: usize) -> String {
        text(&self.workers[i].docker(&["info", "--format", "{{.Swarm.NodeID}}"]))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for s in &self.stacks {
            let _ = docker_cli(&["stack", "rm", s]);
        }
        for h in &self.workers {
            let _ = h.docker(&["swarm", "leave", "--force"]);
        }
        let _ = docker_cli(&["swarm", "leave", "--force"]);
        if !self.had_gwbridge {
            let _ = docker_cli(&["network", "rm", "docker_gwbridge"]);
        }
    }
}

/// The running tasks of a service, counted by node id.
fn placement(service: &str) -> BTreeMap<String, usize> {
    let o = docker_cli(&[
        "service",
        "ps",
        service,
        "-q",
        "--no-trunc",
        "--filter",
        "desired-state=running",
    ]);
    let listed = stdout(&o);
    let ids: Vec<&str> = listed.lines().collect();
    let mut by_node = BTreeMap::new();
    if ids.is_empty() {
        return by_node;
    }
    let mut args = vec!["inspect", "--format", "{{.NodeID}} {{.Status.State}}"];
    args.extend(ids);
    for line in stdout(&docker_cli(&args)).lines() {
        if let Some((node, "running")) = line.split_once(' ') {
            *by_node.entry(node.to_string()).or_insert(0) += 1;
        }
    }
    by_node
}

fn a_stack_spreads_over_three_nodes_and_survives_a_lost_worker() {
    let started = Instant::now();
    let docker = docker();
    let mut cluster = Cluster::new();
    let (b, c) = (cluster.node(0), cluster.node(1));
    let manager = text(&docker_cli(&["info", "--format", "{{.Swarm.NodeID}}"]));
    ok(&docker_cli(&[
        "node",
        "update",
        "--label-add",
        "zone=b",
        &b,
    ]));
    ok(&docker_cli(&[
        "node",
        "update",
        "--label-add",
        "zone=c",
        &c,
    ]));
    let ready = started.elapsed();

    let s = Stack::fixture(
        &docker,
        "a_stack_spreads_over_three_nodes_and_survives_a_lost_worker",
    );
    let st = format!("multi{}", std::process::id());
    cluster.stacks.push(st.clone());
    ok(&s.rcompose(&["stack", "deploy", "--wait", "--wait-timeout", "120", &st]));
    let deployed = started.elapsed();
    let (web, pinned) = (format!("{st}_web"), format!("{st}_pinned"));

    // Spread over the three nodes, no more than max_replicas_per_node on one.
    let spread = placement(&web);
    assert_eq!(spread.values().sum::<usize>(), 6, "{spread:?}");
    assert_eq!(spread.len(), 3, "on every node: {spread:?}");
    assert!(spread.values().all(|n| *n <= 3), "{spread:?}");
    for n in [&manager, &b, &c] {
        assert!(spread.contains_key(n), "no task on {n}: {spread:?}");
    }
    // rcompose's own `stack ps` names the three nodes (each host has its own host name).
    let o = ok(&s.rcompose(&[
        "stack",
        "ps",
        &st,
        "--format",
        "{{.Name}} {{.Node}} {{.DesiredState}}",
    ]))
    .clone();
    let local = text(&docker_cli(&["info", "--format", "{{.Name}}"]));
    for node in [&local, &cluster.workers[0].name, &cluster.workers[1].name] {
        assert!(
            stdout(&o)
                .lines()
                .any(|l| l.starts_with(&format!("{web}."))
                    && l.ends_with(&format!(" {node} Running"))),
            "no web task on {node}:\n{}",
            stdout(&o)
        );
    }
    // The constraint holds.
    assert_eq!(placement(&pinned), BTreeMap::from([(b.clone(), 2)]));

    // DNS and traffic across nodes on the overlay network: the client on one worker reaches
    // pinned's tasks on the other, by service name.
    let worker_c = &cluster.workers[1];
    let client = text(&worker_c.docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.swarm.service.name={st}_client"),
    ]));
    assert!(!client.is_empty(), "the client runs on the zone=c worker");
    let o = worker_c.docker(&["exec", &client, "nslookup", "pinned"]);
    assert!(o.status.success(), "nslookup pinned: {}", stdout(&o));
    let got = worker_c.docker(&[
        "exec",
        &client,
        "timeout",
        "5",
        "wget",
        "-q",
        "-O-",
        "http://tasks.pinned:8080/",
    ]);
    assert_eq!(text(&got), "pinned", "{}", stderr(&got));
    let o = worker_c.docker(&["exec", &client, "nslookup", "tasks.web"]);
    let addresses = stdout(&o).matches("Address").count();
    assert!(addresses >= 6, "six web tasks in DNS: {}", stdout(&o));

    // One worker goes down: its web tasks come back on the two nodes left.
    let lost = c.clone();
    cluster.workers[1].stop();
    let stop_at = Instant::now();
    eventually(
        Duration::from_secs(120),
        "web rescheduled off the lost worker",
        || {
            let p = placement(&web);
            p.values().sum::<usize>() == 6 && !p.contains_key(&lost)
        },
    );
    let rescheduled = stop_at.elapsed();
    let p = placement(&web);
    assert_eq!(p.keys().collect::<Vec<_>>().len(), 2, "{p:?}");
    assert_eq!(
        placement(&pinned),
        BTreeMap::from([(b.clone(), 2)]),
        "pinned stays"
    );
    let o = docker_cli(&["node", "inspect", &lost, "--format", "{{.Status.State}}"]);
    assert_eq!(text(&o), "down");

    eprintln!(
        "multinode: cluster ready in {:.1} s, deployed at {:.1} s, rescheduled {:.1} s after the stop, total {:.1} s",
        ready.as_secs_f64(),
        deployed.as_secs_f64(),
        rescheduled.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

cases! {
    multinode: a_stack_spreads_over_three_nodes_and_survives_a_lost_worker;
}
