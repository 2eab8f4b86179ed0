//! Runtime fidelity on the real engine: what `up` creates for the runnable examples, proven by
//! behaviour inside the containers (names, isolation, mounts, limits, secrets) and by inspect.
//! Traffic goes only between the test's own containers; `dns` servers are never queried.

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use crate::harness::*;

/// Examples with engine-wide fixed resources (a subnet, a network `name`) take turns.
pub static FIXED: Mutex<()> = Mutex::new(());

/// Holds [`FIXED`] even when another holder panicked.
pub fn fixed() -> std::sync::MutexGuard<'static, ()> {
    FIXED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Copies `examples/<name>` (compose file and the files it mounts) into the stack's folder.
pub fn copy_example(stack: &Stack, name: &str) {
    fn copy(from: &Path, to: &Path) {
        for e in std::fs::read_dir(from).expect("read example") {
            let e = e.expect("entry");
            let dest = to.join(e.file_name());
            if e.file_type().expect("type").is_dir() {
                std::fs::create_dir_all(&dest).expect("mkdir");
                copy(&e.path(), &dest);
            } else {
                std::fs::copy(e.path(), &dest).expect("copy");
            }
        }
    }
    copy(&root().join("examples").join(name), stack.path());
}

/// A stack holding a copy of an example.
pub fn example(docker: &bollard::Docker, test: &str, name: &str) -> Stack {
    let s = Stack::new(docker, test, "");
    copy_example(&s, name);
    s
}

/// `docker exec` output, stdout and stderr together, and whether it succeeded.
fn sh(s: &Stack, container: &str, script: &str) -> (bool, String) {
    let o = s.exec(container, &["sh", "-c", script]);
    (
        o.status.success(),
        format!("{}{}", stdout(&o), stderr(&o)).trim().to_string(),
    )
}

#[track_caller]
fn sh_ok(s: &Stack, container: &str, script: &str) -> String {
    let (ok, out) = sh(s, container, script);
    assert!(ok, "`{script}` failed in {container}: {out}");
    out
}

/// The raw engine JSON of `docker <kind> inspect NAME`.
pub fn inspect_json(kind: &str, name: &str) -> Value {
    let o = ok(&run(Command::new("docker").args([kind, "inspect", name]))).clone();
    let v: Value = serde_json::from_slice(&o.stdout).expect("inspect json");
    v.as_array()
        .and_then(|a| a.first())
        .cloned()
        .expect("one object")
}

fn ip_on(container: &str, network: &str) -> String {
    let c = inspect_json("container", container);
    c["NetworkSettings"]["Networks"][network]["IPAddress"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn names_and_aliases_resolve_on_shared_networks_only() {
    let docker = docker();
    let s = Stack::fixture(&docker, "dns");
    ok(&s.rcompose(&["up", "-d"]));
    let api = format!("{}-api-1", s.name);
    let client = format!("{}-client-1", s.name);
    let outsider = format!("{}-outsider-1", s.name);
    let api_ip = ip_on(&api, &format!("{}_mesh", s.name));
    assert!(!api_ip.is_empty());
    for name in ["api", "backend", "api.service.local", api.as_str()] {
        let out = sh_ok(&s, &client, &format!("nslookup {name}"));
        assert!(out.contains(&api_ip), "{name} -> {out}");
    }
    // Reachable by name on the shared network.
    sh_ok(&s, &client, "ping -c 1 -W 2 api");
    // Not by name from another network, and not by address either.
    let (found, out) = sh(&s, &outsider, "nslookup api");
    assert!(
        !found || !out.contains(&api_ip),
        "outsider resolved api: {out}"
    );
    let (reached, out) = sh(&s, &outsider, &format!("ping -c 1 -W 2 {api_ip}"));
    assert!(!reached, "outsider reached api at {api_ip}: {out}");
    // hostname and domainname
    assert_eq!(sh_ok(&s, &api, "hostname"), "api-host");
    let c = s.inspect(&api);
    let cfg = c.config.expect("config");
    assert_eq!(cfg.hostname.as_deref(), Some("api-host"));
    assert_eq!(cfg.domainname.as_deref(), Some("example.internal"));
}

fn dns_options_and_extra_hosts_reach_the_container_files() {
    let docker = docker();
    let s = example(&docker, "dnsopts", "dns-discovery");
    ok(&s.rcompose(&["up", "-d"]));
    let client = format!("{}-client-1", s.name);
    let hc = s.inspect(&client).host_config.expect("host config");
    assert_eq!(
        hc.dns.as_deref(),
        Some(&["10.0.0.53".to_string(), "10.0.0.54".to_string()][..])
    );
    assert_eq!(
        hc.dns_search.unwrap_or_default(),
        ["service.local", "example.internal"]
    );
    assert_eq!(hc.dns_options.unwrap_or_default(), ["ndots:2", "timeout:1"]);
    let hosts = hc.extra_hosts.unwrap_or_default();
    // Sorted, as the reference's `config` prints them.
    assert_eq!(hosts, ["cache.legacy:10.1.2.4", "db.legacy:10.1.2.3"]);
    // Read from the files, not queried: the embedded DNS stays in front on user networks.
    let resolv = sh_ok(&s, &client, "cat /etc/resolv.conf");
    assert!(
        resolv.contains("search service.local example.internal"),
        "{resolv}"
    );
    assert!(
        resolv.contains("ndots:2") && resolv.contains("timeout:1"),
        "{resolv}"
    );
    let etc_hosts = sh_ok(&s, &client, "cat /etc/hosts");
    assert!(etc_hosts.contains("10.1.2.3\tdb.legacy"), "{etc_hosts}");
    assert!(etc_hosts.contains("10.1.2.4\tcache.legacy"), "{etc_hosts}");
    // The map form, on a container with no network at all.
    let mapped = format!("{}-mapped-1", s.name);
    let hc = s.inspect(&mapped).host_config.expect("host config");
    assert_eq!(hc.network_mode.as_deref(), Some("none"));
    let etc_hosts = sh_ok(&s, &mapped, "cat /etc/hosts");
    assert!(
        etc_hosts.contains("10.1.2.5\tmetrics.legacy"),
        "{etc_hosts}"
    );
    assert!(etc_hosts.contains("::1\tipv6.legacy"), "{etc_hosts}");
    let links = sh_ok(&s, &mapped, "ip -o link | grep -v ' lo:' | wc -l");
    assert_eq!(links, "0", "network_mode none has only lo");
}

fn three_tier_database_is_reachable_from_the_backend_only() {
    let docker = docker();
    let s = example(&docker, "threetier", "three-tier");
    // Unknown names are forwarded to 127.0.0.1 in the container: nothing leaves the machine.
    std::fs::write(
        s.path().join("compose.override.yaml"),
        "services:\n  web: {dns: [127.0.0.1]}\n  app: {dns: [127.0.0.1]}\n  db: {dns: [127.0.0.1]}\n",
    )
    .expect("override");
    ok(&s.rcompose(&["up", "-d", "--wait"]));
    let web = format!("{}-web-1", s.name);
    let app = format!("{}-app-1", s.name);
    let db = format!("{}-db-1", s.name);
    let backend = inspect_json("network", &format!("{}_backend", s.name));
    assert_eq!(backend["Internal"], Value::Bool(true));
    // app reaches db by name on the backend and web on the frontend.
    assert_eq!(sh_ok(&s, &app, "timeout 3 wget -qO- http://db:5432/"), "ok");
    sh_ok(&s, &app, "echo | nc -w 2 web 80 >/dev/null");
    // web can neither resolve db nor reach its address.
    let (found, out) = sh(&s, &web, "nslookup db");
    let db_ip = ip_on(&db, &format!("{}_backend", s.name));
    assert!(!found || !out.contains(&db_ip), "web resolved db: {out}");
    // The engine re-inserts its FORWARD jump to the isolation rules whenever any network is
    // created (delete, then insert), so while other tests create networks a packet can slip
    // through for an instant. A missing isolation lets every try through; that window, one.
    let mut tries = Vec::new();
    for _ in 0..3 {
        let (reached, out) = sh(
            &s,
            &web,
            &format!("timeout 3 wget -qO- http://{db_ip}:5432/"),
        );
        if !reached {
            break;
        }
        tries.push(out);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(
        tries.len() < 3,
        "web reached db at {db_ip} in every try: {tries:?}"
    );
    // The published port answers on 127.0.0.1 only.
    let ports = s.inspect(&web).network_settings.and_then(|n| n.ports);
    let binding = ports
        .and_then(|p| p.get("80/tcp").cloned().flatten())
        .and_then(|b| b.first().cloned())
        .expect("80/tcp published");
    assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
    assert!(binding.host_port.is_some_and(|p| !p.is_empty()));
}

fn ipam_static_and_range_addresses() {
    let docker = docker();
    let _turn = fixed();
    let s = example(&docker, "ipam", "ipam");
    ok(&s.rcompose(&["up", "-d"]));
    let net = format!("{}_fixed", s.name);
    assert_eq!(ip_on(&format!("{}-static-1", s.name), &net), "10.228.1.10");
    assert_eq!(ip_on(&format!("{}-dynamic-1", s.name), &net), "10.228.5.0");
    let n = inspect_json("network", &net);
    let cfg = &n["IPAM"]["Config"][0];
    assert_eq!(cfg["Subnet"], "10.228.0.0/16");
    assert_eq!(cfg["IPRange"], "10.228.5.0/24");
    assert_eq!(cfg["Gateway"], "10.228.0.254");
    assert_eq!(cfg["AuxiliaryAddresses"]["router"], "10.228.1.5");
    // The static container answers at its address.
    sh_ok(
        &s,
        &format!("{}-dynamic-1", s.name),
        "ping -c 1 -W 2 10.228.1.10",
    );
}

fn network_driver_options_are_applied() {
    let docker = docker();
    let _turn = fixed();
    let s = example(&docker, "netdrv", "network-drivers");
    ok(&s.rcompose(&["up", "-d"]));
    let isolated = inspect_json("network", &format!("{}_isolated", s.name));
    assert_eq!(isolated["Internal"], true);
    assert_eq!(isolated["Attachable"], true);
    assert_eq!(isolated["Labels"]["com.example.tier"], "private");
    let public = inspect_json("network", &format!("{}_public", s.name));
    assert_eq!(public["Internal"], false);
    let noicc = inspect_json("network", "network-drivers-noicc");
    assert_eq!(noicc["Labels"][PROJECT_LABEL], s.name.as_str());
    assert_eq!(
        noicc["Options"]["com.docker.network.bridge.enable_icc"],
        "false"
    );
    // The MTU option reaches the worker's interface on that network.
    let worker = format!("{}-worker-1", s.name);
    let mtus = sh_ok(
        &s,
        &worker,
        "cat /sys/class/net/eth*/mtu | sort | tr '\\n' ' '",
    );
    assert!(mtus.contains("1400"), "{mtus}");
}

fn tmpfs_mounts_have_their_size_and_mode() {
    let docker = docker();
    let s = example(&docker, "tmpfs", "volume-types");
    ok(&s.rcompose(&["up", "-d"]));
    let app = format!("{}-app-1", s.name);
    assert_eq!(sh_ok(&s, &app, "stat -c %a /scratch"), "1777");
    assert_eq!(sh_ok(&s, &app, "stat -c %a /run/short"), "1770");
    let kb = |path: &str| -> String {
        sh_ok(&s, &app, &format!("df -k {path} | tail -1"))
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(kb("/scratch"), "8192");
    assert_eq!(kb("/run/short"), "16384");
    let fs = sh_ok(
        &s,
        &app,
        "grep -E ' /(scratch|run/short|cache) ' /proc/mounts",
    );
    assert!(fs.matches("tmpfs").count() >= 3, "{fs}");
    // Bind mounts: read-only at /srv/site, writable at /srv/rw.
    assert!(sh_ok(&s, &app, "cat /srv/site/index.html").contains("bind mounted"));
    let (wrote, _) = sh(&s, &app, "touch /srv/site/x");
    assert!(!wrote, "a write to a read-only bind succeeded");
    sh_ok(&s, &app, "touch /srv/rw/written && rm /srv/rw/written");
    // The tmpfs-backed named volume.
    let cache = inspect_json("volume", &format!("{}_cache", s.name));
    assert_eq!(cache["Options"]["type"], "tmpfs");
    assert_eq!(cache["Options"]["o"], "size=32m,uid=1000");
    assert_eq!(sh_ok(&s, &app, "stat -c %u /cache"), "1000");
}

fn named_volume_data_survives_down_and_up() {
    let docker = docker();
    let s = example(&docker, "survive", "volume-types");
    ok(&s.rcompose(&["up", "-d"]));
    let app = format!("{}-app-1", s.name);
    sh_ok(
        &s,
        &app,
        "echo kept > /data/file && echo gone > /scratch/file",
    );
    ok(&s.rcompose(&["down"]));
    assert!(s.containers().is_empty());
    assert!(s.volumes().contains(&format!("{}_data", s.name)));
    ok(&s.rcompose(&["up", "-d"]));
    assert_eq!(sh_ok(&s, &app, "cat /data/file"), "kept");
    let (found, _) = sh(&s, &app, "cat /scratch/file");
    assert!(!found, "tmpfs content survived a new container");
    ok(&s.rcompose(&["down", "-v"]));
    assert_eq!(s.volumes(), Vec::<String>::new());
}

fn hardened_service_is_read_only_unprivileged_and_limited() {
    let docker = docker();
    let s = example(&docker, "hardened", "hardened");
    ok(&s.rcompose(&["up", "-d"]));
    let app = format!("{}-app-1", s.name);
    let (wrote, out) = sh(&s, &app, "touch /etc/x");
    assert!(!wrote && out.contains("Read-only"), "{out}");
    sh_ok(&s, &app, "touch /tmp/x");
    assert_eq!(sh_ok(&s, &app, "id -u; id -g"), "1000\n1000");
    let status = sh_ok(&s, &app, "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status");
    assert!(status.contains("CapEff:\t0000000000000000"), "{status}");
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
    // cgroup v1 files, as the container sees them.
    let mem = sh_ok(&s, &app, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes");
    assert_eq!(mem, "67108864");
    let quota = sh_ok(
        &s,
        &app,
        "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us",
    );
    assert_eq!(quota, "50000\n100000");
    assert_eq!(sh_ok(&s, &app, "cat /sys/fs/cgroup/pids/pids.max"), "64");
    assert_eq!(
        sh_ok(
            &s,
            &app,
            // The container's own first process (an exec'd one may run with other limits).
            "grep 'open files' /proc/1/limits | awk '{print $(NF-2), $(NF-1)}'"
        ),
        "1024 2048"
    );
    let hc = s.inspect(&app).host_config.expect("host config");
    assert_eq!(hc.readonly_rootfs, Some(true));
    assert_eq!(hc.memory, Some(64 << 20));
    assert_eq!(hc.memory_swap, Some(64 << 20));
    assert_eq!(hc.nano_cpus, Some(500_000_000));
    assert_eq!(hc.pids_limit, Some(64));
    assert_eq!(hc.cap_drop.unwrap_or_default(), ["ALL"]);
    assert_eq!(
        hc.security_opt.unwrap_or_default(),
        ["no-new-privileges:true"]
    );
    let restart = hc
        .restart_policy
        .and_then(|r| r.name)
        .map(|n| n.to_string());
    assert_eq!(restart.as_deref(), Some("unless-stopped"));

    let limited = format!("{}-limited-1", s.name);
    let hc = s.inspect(&limited).host_config.expect("host config");
    assert_eq!(hc.memory, Some(32 << 20));
    assert_eq!(hc.memory_reservation, Some(16 << 20));
    assert_eq!(hc.nano_cpus, Some(250_000_000));
    assert_eq!(hc.pids_limit, Some(32));
    assert_eq!(hc.cap_add.unwrap_or_default(), ["CAP_NET_BIND_SERVICE"]);
    assert_eq!(sh_ok(&s, &limited, "id -u"), "65534");
    let status = sh_ok(&s, &limited, "grep ^CapBnd /proc/self/status");
    assert!(status.ends_with("0000000000000400"), "{status}");
}

const TOKEN: &str = "tok-3f9a-never-printed";

fn secrets_are_readable_at_their_targets_with_modes_and_owners() {
    let docker = docker();
    let s = example(&docker, "secrets", "secrets");
    let up = ok(&run(s.rcompose_cmd(&["up", "-d"]).env("APP_TOKEN", TOKEN))).clone();
    let db = format!("{}-db-1", s.name);
    let app = format!("{}-app-1", s.name);
    let ls = |c: &str, p: &str| sh_ok(&s, c, &format!("stat -c '%u:%g %a' {p} && cat {p}"));
    assert_eq!(
        ls(&db, "/run/secrets/db_password"),
        format!("0:0 644\ndb-password-from-file")
    );
    assert_eq!(
        ls(&db, "/run/secrets/token"),
        format!("1000:1000 400\n{TOKEN}")
    );
    assert_eq!(
        ls(&db, "/etc/app.conf"),
        // `${COMPOSE_PROJECT_NAME}` is the name in use (`-p`), as in the reference.
        format!("0:0 444\nlisten = 8080\nproject = {}", s.name)
    );
    assert_eq!(
        sh_ok(&s, &db, "cat \"$POSTGRES_PASSWORD_FILE\""),
        "db-password-from-file"
    );
    // The read-only service gets its environment secret too, and still cannot write.
    assert_eq!(ls(&app, "/run/secrets/token"), format!("0:0 440\n{TOKEN}"));
    assert_eq!(
        ls(&app, "/run/secrets/api_key"),
        "0:0 644\nfile-secret-value"
    );
    let (wrote, _) = sh(&s, &app, "touch /run/secrets/x");
    assert!(!wrote);
    // The value is in no output and not in the container's configuration.
    let config = ok(&run(s.rcompose_cmd(&["config"]).env("APP_TOKEN", TOKEN))).clone();
    for (what, text) in [
        ("up stdout", stdout(&up)),
        ("up stderr", stderr(&up)),
        ("config", stdout(&config)),
        ("config stderr", stderr(&config)),
        (
            "inspect db",
            format!("{:?}", inspect_json("container", &db)),
        ),
        (
            "inspect app",
            format!("{:?}", inspect_json("container", &app)),
        ),
    ] {
        assert!(!text.contains(TOKEN), "the secret value is in {what}");
    }
    // down removes the private copies.
    ok(&s.rcompose(&["down"]));
    assert!(!Path::new("/run/rcompose/secrets").join(&s.name).exists());
}

fn container_options_reach_the_engine() {
    let docker = docker();
    let s = Stack::fixture(&docker, "options");
    ok(&s.rcompose(&["up", "-d"]));
    let opts = format!("{}-opts-1", s.name);
    let c = s.inspect(&opts);
    let cfg = c.config.clone().expect("config");
    let hc = c.host_config.clone().expect("host config");
    assert_eq!(hc.init, Some(true));
    assert_eq!(cfg.stop_signal.as_deref(), Some("SIGUSR1"));
    assert_eq!(cfg.stop_timeout, Some(7));
    assert_eq!(
        cfg.labels
            .as_ref()
            .and_then(|l| l.get("com.example.role"))
            .map(String::as_str),
        Some("opts")
    );
    let log = hc.log_config.clone().expect("log config");
    assert_eq!(log.typ.as_deref(), Some("json-file"));
    assert_eq!(
        log.config
            .unwrap_or_default()
            .get("max-file")
            .map(String::as_str),
        Some("2")
    );
    let rp = hc.restart_policy.clone().expect("restart");
    assert_eq!(
        rp.name.map(|n| n.to_string()).as_deref(),
        Some("on-failure")
    );
    assert_eq!(rp.maximum_retry_count, Some(3));
    let h = cfg.healthcheck.clone().expect("healthcheck");
    assert_eq!(h.test.unwrap_or_default(), ["CMD", "true"]);
    assert_eq!(h.interval, Some(2_000_000_000));
    assert_eq!(h.timeout, Some(1_000_000_000));
    assert_eq!(h.retries, Some(4));
    assert_eq!(h.start_period, Some(3_000_000_000));
    assert_eq!(hc.shm_size, Some(32 << 20));
    assert_eq!(hc.group_add.clone().unwrap_or_default(), ["65534"]);
    assert_eq!(cfg.working_dir.as_deref(), Some("/tmp"));
    assert_eq!(cfg.user.as_deref(), Some("1000"));
    assert_eq!(cfg.hostname.as_deref(), Some("opts-host"));
    assert_eq!(cfg.domainname.as_deref(), Some("example.internal"));
    assert_eq!(
        hc.sysctls
            .clone()
            .unwrap_or_default()
            .get("net.core.somaxconn")
            .map(String::as_str),
        Some("1024")
    );
    let mut ul: Vec<(String, i64, i64)> = hc
        .ulimits
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|u| {
            (
                u.name.unwrap_or_default(),
                u.soft.unwrap_or(0),
                u.hard.unwrap_or(0),
            )
        })
        .collect();
    ul.sort();
    assert_eq!(
        ul,
        [
            ("nofile".to_string(), 1000, 2000),
            ("nproc".to_string(), 512, 512)
        ]
    );
    assert_eq!(hc.cap_add.clone().unwrap_or_default(), ["CAP_SYS_PTRACE"]);
    assert_eq!(hc.cap_drop.clone().unwrap_or_default(), ["CAP_NET_RAW"]);
    assert_eq!(
        hc.security_opt.clone().unwrap_or_default(),
        ["label=disable"]
    );
    // Inside: the same, as the process sees it.
    assert_eq!(
        sh_ok(&s, &opts, "pwd; id -u; id -G"),
        "/tmp\n1000\n1000 65534"
    );
    assert_eq!(sh_ok(&s, &opts, "cat /proc/sys/net/core/somaxconn"), "1024");
    // Soft and hard, from the kernel's own view (busybox's `ulimit` output varies), of the
    // container's first process: an exec'd one may run with other limits (the engine's runc
    // has been seen to raise its soft open-files limit to the hard one).
    assert_eq!(
        sh_ok(
            &s,
            &opts,
            "grep -E 'open files|processes' /proc/1/limits | awk '{print $(NF-2), $(NF-1)}'"
        ),
        "512 512\n1000 2000"
    );
    assert_eq!(
        sh_ok(&s, &opts, "df -k /dev/shm | tail -1 | awk '{print $2}'"),
        "32768"
    );
    assert_eq!(
        sh_ok(&s, &opts, "cat /sys/class/net/eth0/address"),
        "02:42:ac:11:00:99"
    );
    assert_eq!(sh_ok(&s, &opts, "cat /proc/1/comm"), "docker-init");
    // Ports: a range, udp with a random host port, the long form.
    let ports = c.network_settings.and_then(|n| n.ports).unwrap_or_default();
    let host = |key: &str| -> (String, String) {
        let b = ports
            .get(key)
            .cloned()
            .flatten()
            .and_then(|b| b.first().cloned())
            .unwrap_or_else(|| panic!("{key} not published: {ports:?}"));
        (
            b.host_ip.unwrap_or_default(),
            b.host_port.unwrap_or_default(),
        )
    };
    assert_eq!(host("8080/tcp"), ("127.0.0.1".into(), "18080".into()));
    assert_eq!(host("8081/tcp"), ("127.0.0.1".into(), "18081".into()));
    assert_eq!(host("7000/tcp"), ("127.0.0.1".into(), "17000".into()));
    let (ip, port) = host("9000/udp");
    assert_eq!(ip, "127.0.0.1");
    assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{port}");
    assert!(ports.contains_key("6000/tcp"), "expose");

    // network_mode service:x shares opts's network namespace; volumes_from; links; host.
    let peer = format!("{}-peer-1", s.name);
    let hc = s.inspect(&peer).host_config.expect("host config");
    let nm = hc.network_mode.unwrap_or_default();
    let opts_id = c.id.clone().unwrap_or_default();
    assert!(
        nm == format!("container:{opts}") || nm == format!("container:{opts_id}"),
        "{nm}"
    );
    assert_eq!(
        sh_ok(&s, &peer, "cat /sys/class/net/eth0/address"),
        "02:42:ac:11:00:99"
    );
    let store = format!("{}-store-1", s.name);
    assert_eq!(hc.volumes_from.unwrap_or_default(), [format!("{store}:ro")]);
    let (wrote, _) = sh(&s, &peer, "touch /shared/x");
    assert!(!wrote, "volumes_from :ro is writable");
    sh_ok(&s, &store, "touch /shared/x");
    sh_ok(&s, &peer, "test -f /shared/x");
    // Links on a user network: per endpoint, and the alias resolves to opts.
    let st = inspect_json("container", &store);
    let links = &st["NetworkSettings"]["Networks"][format!("{}_default", s.name)]["Links"];
    assert_eq!(
        links,
        &serde_json::json!([
            format!("{opts}:opts-link"),
            format!("{opts}:opts-1"),
            format!("{opts}:{opts}")
        ])
    );
    let opts_ip = ip_on(&opts, &format!("{}_default", s.name));
    let found = sh_ok(&s, &store, "nslookup opts-link");
    assert!(found.contains(&opts_ip), "{found}");
    let deps = st["Config"]["Labels"]["com.docker.compose.depends_on"].clone();
    assert_eq!(deps, "opts:service_started:true");
    let hostnet = format!("{}-hostnet-1", s.name);
    let hc = s.inspect(&hostnet).host_config.expect("host config");
    assert_eq!(hc.network_mode.as_deref(), Some("host"));
    let eth = sh_ok(&s, &hostnet, "ls /sys/class/net");
    assert!(eth.contains("docker0"), "host network: {eth}");
}

fn engine_limits_fail_before_anything_is_created() {
    let docker = docker();
    // Not while a swarm test has the engine in swarm mode.
    let _lock = crate::harness::SWARM_LOCK
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let swarm = inspect_swarm_state();
    let cases = [
        ("overlay", "docker swarm init"),
        ("macvlan", "parent interface `nosuch0`"),
        ("extnet", "declared as external, but could not be found"),
        ("extvol", "not found"),
    ];
    for (what, says) in cases {
        if what == "overlay" && swarm == "active" {
            continue;
        }
        let s = Stack::fixture(&docker, what);
        s.use_file(&format!("{what}.yaml"));
        let o = s.rcompose(&["up", "-d"]);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{what}: {}", stderr(&o));
        assert!(s.containers().is_empty(), "{what}: containers created");
        assert!(
            s.networks().is_empty(),
            "{what}: networks created: {:?}",
            s.networks()
        );
        assert!(s.volumes().is_empty(), "{what}: volumes created");
    }
}

fn inspect_swarm_state() -> String {
    let o = run(Command::new("docker").args(["info", "-f", "{{.Swarm.LocalNodeState}}"]));
    stdout(&o).trim().to_string()
}

fn swarm_only_keys_are_reported_once_and_ignored() {
    let docker = docker();
    let s = Stack::fixture(&docker, "swarmkeys");
    let o = ok(&s.rcompose(&["up", "-d"])).clone();
    let err = stderr(&o);
    assert_eq!(
        err.matches("swarm-only keys are ignored").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("a (deploy.mode: global, deploy.placement, deploy.update_config)"),
        "{err}"
    );
    assert!(err.contains("b (deploy.endpoint_mode)"), "{err}");
    assert_eq!(s.containers().len(), 3);
    let hc = s
        .inspect(&format!("{}-a-1", s.name))
        .host_config
        .expect("hc");
    assert_eq!(hc.memory, Some(48 << 20));
}

cases! {
    engine:
        names_and_aliases_resolve_on_shared_networks_only,
        dns_options_and_extra_hosts_reach_the_container_files,
        three_tier_database_is_reachable_from_the_backend_only,
        ipam_static_and_range_addresses,
        network_driver_options_are_applied,
        tmpfs_mounts_have_their_size_and_mode,
        named_volume_data_survives_down_and_up,
        hardened_service_is_read_only_unprivileged_and_limited,
        secrets_are_readable_at_their_targets_with_modes_and_owners,
        container_options_reach_the_engine,
        engine_limits_fail_before_anything_is_created,
        swarm_only_keys_are_reported_once_and_ignored;
}
