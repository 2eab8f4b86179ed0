//! Inspect parity: each runnable example (and fixtures with many options) brought up by rcompose
//! and by the reference docker compose, one after the other, must give the same normalised
//! `docker inspect` of containers, networks and volumes. What is masked, and why, is listed below.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::process::Command;

use crate::harness::*;
use crate::runtime::{copy_example, fixed, inspect_json};

/// Values that differ between any two `up`s, whichever tool: ids, times, engine paths, dynamic
/// addresses, the config hash (compose-go's Go struct hash, not reproducible; see the reference
/// notes) and the compose version label.
const VOLATILE: &[&str] = &[
    "Id",
    "Created",
    "CreatedAt",
    "State",
    "ResolvConfPath",
    "HostnamePath",
    "HostsPath",
    "LogPath",
    "GraphDriver",
    "Mountpoint",
    "NetworkID",
    "EndpointID",
    "SandboxID",
    "SandboxKey",
    "Containers",
    "ExecIDs",
    "RestartCount",
    "Image",
    "Platform",
    "MountLabel",
    "ProcessLabel",
    "AppArmorProfile",
    "SizeRw",
    "SizeRootFs",
    "ConfigOnly",
    "ConfigFrom",
];

/// The labels whose values are about the run, not the configuration.
const VOLATILE_LABELS: &[&str] = &[
    "com.docker.compose.config-hash",
    "com.docker.compose.version",
    "com.docker.compose.project.config_files",
    "com.docker.compose.project.working_dir",
    "com.docker.compose.image",
];

/// Deliberate differences, each with its reason. The first is masked on rcompose's side; the
/// second is kept out of the fixtures (the reference creates a writable mount).
const DELIBERATE: &[(&str, &str)] = &[
    (
        "bind mounts from /run/rcompose",
        "environment and content secrets/configs: rcompose binds a private host file (so \
         read_only services work); the reference copies the file into the container's filesystem",
    ),
    (
        "volumes_from: [service:ro]",
        "rcompose keeps the `ro` mode; the reference v2.40.3 drops it and mounts read-write",
    ),
];

fn project_of(kind: &str, project: &str) -> Vec<String> {
    let filter = format!("label={PROJECT_LABEL}={project}");
    let args: Vec<&str> = match kind {
        "container" => vec!["ps", "-a", "-q", "--no-trunc", "--filter", &filter],
        "network" => vec!["network", "ls", "-q", "--filter", &filter],
        _ => vec!["volume", "ls", "-q", "--filter", &filter],
    };
    let o = ok(&run(Command::new("docker").args(&args))).clone();
    stdout(&o).lines().map(str::to_string).collect()
}

/// What every string is stripped of: the project folder, the project name, and the ids of the
/// project's containers (replaced by their names).
struct Names<'a> {
    dir: &'a str,
    project: &'a str,
    ids: &'a [(String, String)],
}

fn rename(v: &mut Value, n: &Names) {
    match v {
        Value::String(s) => {
            for (id, name) in n.ids {
                if s.contains(id.as_str()) {
                    *s = s.replace(id.as_str(), name);
                }
            }
            *s = s.replace(n.dir, "<dir>").replace(n.project, "<project>");
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename(x, n)),
        Value::Object(m) => {
            let old = std::mem::take(m);
            for (k, mut x) in old {
                rename(&mut x, n);
                m.insert(k.replace(n.project, "<project>"), x);
            }
        }
        _ => {}
    }
}

fn strip(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in VOLATILE {
                m.remove(*k);
            }
            m.values_mut().for_each(strip);
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

fn sort_array(v: &mut Value, key: &str) {
    if let Some(Value::Array(a)) = v.get_mut(key) {
        a.sort_by_key(|x| x.to_string());
    }
}

/// A container, normalised. `static_ips`: addresses set in the file (kept); others are masked.
fn container(raw: Value, names: &Names, ours: bool) -> Value {
    let mut c = raw;
    let id = c["Id"].as_str().unwrap_or_default().to_string();
    // Anonymous volume names are random.
    if let Some(Value::Array(mounts)) = c.get_mut("Mounts") {
        if ours {
            mounts.retain(|m| {
                !m["Source"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("/run/rcompose/"))
            });
        }
        for m in mounts.iter_mut() {
            let anon = m["Type"] == "volume"
                && m["Name"]
                    .as_str()
                    .is_some_and(|n| n.len() == 64 && n.chars().all(|c| c.is_ascii_hexdigit()));
            if anon {
                m["Name"] = "<anonymous>".into();
                m["Source"] = "<anonymous>".into();
            }
        }
    }
    if let Some(Value::Array(mounts)) = c.pointer_mut("/HostConfig/Mounts") {
        if ours {
            mounts.retain(|m| {
                !m["Source"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("/run/rcompose/"))
            });
            if mounts.is_empty() {
                if let Some(hc) = c["HostConfig"].as_object_mut() {
                    hc.insert("Mounts".into(), Value::Null);
                }
            }
        }
    }
    if let Some(labels) = c
        .pointer_mut("/Config/Labels")
        .and_then(Value::as_object_mut)
    {
        for l in VOLATILE_LABELS {
            labels.remove(*l);
        }
        // The reference writes depends_on in Go map order, which changes from run to run.
        if let Some(Value::String(d)) = labels.get_mut("com.docker.compose.depends_on") {
            let mut parts: Vec<&str> = d.split(',').collect();
            parts.sort();
            *d = parts.join(",");
        }
    }
    // The network settings the engine assigns; what the file sets is kept.
    let mut nets = Map::new();
    if let Some(Value::Object(n)) = c.pointer("/NetworkSettings/Networks") {
        for (name, ep) in n {
            let mut e = Map::new();
            for k in ["IPAMConfig", "Links", "DriverOpts"] {
                e.insert(k.into(), ep[k].clone());
            }
            let mut aliases: Vec<Value> = ep["Aliases"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|a| a.as_str() != Some(&id[..12]))
                .collect();
            aliases.sort_by_key(|a| a.to_string());
            e.insert("Aliases".into(), Value::Array(aliases));
            if ep.pointer("/IPAMConfig/IPv4Address").is_some() {
                e.insert("IPAddress".into(), ep["IPAddress"].clone());
            }
            nets.insert(name.clone(), Value::Object(e));
        }
    }
    let ports = c.pointer("/NetworkSettings/Ports").cloned();
    c["NetworkSettings"] = serde_json::json!({ "Networks": nets });
    // Published ports: random host ports are masked, fixed ones kept.
    if let Some(Value::Object(mut p)) = ports {
        for b in p.values_mut().filter_map(Value::as_array_mut).flatten() {
            if let Some(hp) = b.get_mut("HostPort") {
                let fixed_in_file = c.pointer("/HostConfig/PortBindings").is_some_and(|pb| {
                    pb.to_string()
                        .contains(&format!("\"{}\"", hp.as_str().unwrap_or("-")))
                });
                if !fixed_in_file {
                    *hp = "<random>".into();
                }
            }
        }
        c["NetworkSettings"]["Ports"] = Value::Object(p);
    }
    if c.pointer("/Config/Hostname").and_then(Value::as_str) == Some(&id[..12]) {
        c["Config"]["Hostname"] = "<id>".into();
    }
    // ExtraHosts and Ulimits: the reference's order changes from run to run (a Go map).
    for key in [
        "Env",
        "Binds",
        "CapAdd",
        "CapDrop",
        "Mounts",
        "ExtraHosts",
        "Ulimits",
    ] {
        if let Some(hc) = c.get_mut("HostConfig") {
            sort_array(hc, key);
        }
        if let Some(cfg) = c.get_mut("Config") {
            sort_array(cfg, key);
        }
    }
    sort_array(&mut c, "Mounts");
    c.as_object_mut().map(|m| m.remove("Name"));
    rename(&mut c, names);
    strip(&mut c);
    c
}

fn network(raw: Value, names: &Names, keep_ipam: bool) -> Value {
    let mut n = raw;
    if let Some(labels) = n.pointer_mut("/Labels").and_then(Value::as_object_mut) {
        for l in VOLATILE_LABELS {
            labels.remove(*l);
        }
    }
    if !keep_ipam {
        n["IPAM"]["Config"] = "<engine-assigned>".into();
    }
    rename(&mut n, names);
    strip(&mut n);
    n
}

fn volume(raw: Value, names: &Names) -> Value {
    let mut v = raw;
    if let Some(labels) = v.pointer_mut("/Labels").and_then(Value::as_object_mut) {
        for l in VOLATILE_LABELS {
            labels.remove(*l);
        }
    }
    rename(&mut v, names);
    strip(&mut v);
    v
}

/// Everything the project created, normalised, by kind and name.
fn snapshot(stack: &Stack, ours: bool, ipam_networks: &[String]) -> BTreeMap<String, Value> {
    let project = stack.name.as_str();
    let dir = stack.path().display().to_string();
    let mut out = BTreeMap::new();
    let raws: Vec<Value> = project_of("container", project)
        .iter()
        .map(|id| inspect_json("container", id))
        .collect();
    let ids: Vec<(String, String)> = raws
        .iter()
        .map(|r| {
            let name = r["Name"].as_str().unwrap_or_default();
            (
                r["Id"].as_str().unwrap_or_default().to_string(),
                name.trim_start_matches('/').replace(project, "<project>"),
            )
        })
        .collect();
    let names = Names {
        dir: &dir,
        project,
        ids: &ids,
    };
    for raw in raws {
        let name = raw["Name"]
            .as_str()
            .unwrap_or_default()
            .replace(project, "<project>");
        out.insert(format!("container {name}"), container(raw, &names, ours));
    }
    for id in project_of("network", project) {
        let raw = inspect_json("network", &id);
        let key = raw["Labels"]["com.docker.compose.network"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let keep = ipam_networks.contains(&key);
        let name = raw["Name"]
            .as_str()
            .unwrap_or_default()
            .replace(project, "<project>");
        out.insert(format!("network {name}"), network(raw, &names, keep));
    }
    for name in project_of("volume", project) {
        let raw = inspect_json("volume", &name);
        out.insert(
            format!("volume {}", name.replace(project, "<project>")),
            volume(raw, &names),
        );
    }
    out
}

/// The keys of networks that set `ipam.config` in the file (their subnets are compared).
fn ipam_networks(stack: &Stack, env: &[(&str, &str)]) -> Vec<String> {
    let mut cmd = stack.rcompose_cmd(&["config", "--format", "json"]);
    cmd.envs(env.iter().copied());
    let o = ok(&run(&mut cmd)).clone();
    let v: Value = serde_json::from_slice(&o.stdout).expect("config json");
    v["networks"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, n)| n.pointer("/ipam/config").is_some_and(|c| c.is_array()))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn diff(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let null = Value::Null;
                diff(
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    &format!("{path}.{k}"),
                    out,
                );
            }
        }
        _ if a != b => out.push(format!("{path}: rcompose {a} / reference {b}")),
        _ => {}
    }
}

/// Brings `files` up with each tool in turn and returns the differences.
fn compare(
    docker: &bollard::Docker,
    test: &str,
    fill: &dyn Fn(&Stack),
    env: &[(&str, &str)],
) -> Vec<String> {
    let _turn = fixed();
    let ours = Stack::new(docker, &format!("{test}-rc"), "");
    fill(&ours);
    let ipam = ipam_networks(&ours, env);
    let mut up = ours.rcompose_cmd(&["up", "-d"]);
    up.envs(env.iter().copied());
    ok(&run(&mut up));
    let a = snapshot(&ours, true, &ipam);
    ok(&ours.rcompose(&["down", "-v", "-t", "1"]));
    drop(ours);

    let theirs = Stack::new(docker, &format!("{test}-ref"), "");
    fill(&theirs);
    let mut up = Command::new("docker");
    up.args(["compose", "-p", &theirs.name, "up", "-d"])
        .current_dir(theirs.path())
        .envs(env.iter().copied());
    ok(&run(&mut up));
    let b = snapshot(&theirs, false, &ipam);
    ok(&theirs.reference(&["down", "-v", "-t", "1"]));

    let mut out = Vec::new();
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for n in names {
        let null = Value::Null;
        diff(
            a.get(n).unwrap_or(&null),
            b.get(n).unwrap_or(&null),
            n,
            &mut out,
        );
    }
    out
}

fn example_parity(example: &str, env: &[(&str, &str)]) {
    let docker = docker();
    let fill = |s: &Stack| copy_example(s, example);
    let d = compare(&docker, &format!("parity-{example}"), &fill, env);
    assert!(
        d.is_empty(),
        "{example}: {} inspect differences (deliberate ones are masked: {DELIBERATE:?}):\n{}",
        d.len(),
        d.join("\n")
    );
}

fn parity_network_drivers() {
    example_parity("network-drivers", &[]);
}

fn parity_dns_discovery() {
    example_parity("dns-discovery", &[]);
}

fn parity_three_tier() {
    example_parity("three-tier", &[]);
}

fn parity_ipam() {
    example_parity("ipam", &[]);
}

fn parity_volume_types() {
    example_parity("volume-types", &[]);
}

fn parity_hardened() {
    example_parity("hardened", &[]);
}

/// The secrets example without `read_only` on `app`: the reference refuses environment secrets
/// for read-only services (rcompose accepts them, see the runtime tests).
fn parity_secrets() {
    let docker = docker();
    let fill = |s: &Stack| {
        copy_example(s, "secrets");
        let yaml = std::fs::read_to_string(s.path().join("compose.yaml")).expect("read");
        let yaml = yaml.replace("    read_only: true", "    read_only: false");
        s.write(&yaml);
    };
    let d = compare(
        &docker,
        "parity-secrets",
        &fill,
        &[("APP_TOKEN", "parity-token")],
    );
    assert!(
        d.is_empty(),
        "secrets: {} differences:\n{}",
        d.len(),
        d.join("\n")
    );
}

/// Many container options at once.
fn parity_many_options() {
    let docker = docker();
    let fill = |s: &Stack| copy_dir(&testdata(), s.path());
    let d = compare(&docker, "parity-options", &fill, &[]);
    assert!(
        d.is_empty(),
        "options: {} differences:\n{}",
        d.len(),
        d.join("\n")
    );
}

cases! {
    reference:
        parity_network_drivers,
        parity_dns_discovery,
        parity_three_tier,
        parity_ipam,
        parity_volume_types,
        parity_hardened,
        parity_secrets,
        parity_many_options;
}
