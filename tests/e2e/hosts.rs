//! Extra engines for tests that need more than one host. A [`Lan`] is a bridge on this machine
//! with an address of its own (where the machine's own engine answers); each [`Host`] on it is a
//! `dockerd` in its own network namespace (a veth on the bridge, its own address), with its own
//! socket, data root and exec root, and its own host name (its namespace's name). Everything is
//! removed on drop, also when the test fails.
//!
//! Needs root, `ip` (iproute2), `nsenter`, `unshare` and `iptables`. The daemon is entered into the network
//! namespace only (`nsenter --net`): `ip netns exec` would hide the cgroup mounts it needs.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::harness::*;

static LANS: AtomicU32 = AtomicU32::new(0);

/// `ip ARGS`, which must succeed.
fn ip(args: &[&str]) {
    ok(&run(Command::new("ip").args(args)));
}

/// A bridge the extra hosts share with this machine.
pub struct Lan {
    bridge: String,
    /// The first three octets of its /24.
    prefix: String,
    tag: String,
    next: u32,
}

impl Lan {
    /// A new bridge with address `.1` on a /24 of its own.
    pub fn new() -> Lan {
        let n = LANS.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let tag = format!("{}{n}", pid % 100_000);
        let prefix = format!("10.231.{}", (pid + n * 7) % 200 + 20);
        let bridge = format!("rcb{tag}");
        let lan = Lan {
            bridge,
            prefix,
            tag,
            next: 2,
        };
        ip(&["link", "add", &lan.bridge, "type", "bridge"]);
        ip(&[
            "addr",
            "add",
            &format!("{}/24", lan.gateway()),
            "dev",
            &lan.bridge,
        ]);
        ip(&["link", "set", &lan.bridge, "up"]);
        // The engine's FORWARD policy drops bridged traffic between the hosts (br_netfilter).
        for tool in ["iptables", "iptables-legacy"] {
            let _ = run(Command::new(tool).args(lan.forward_rule("-I")));
        }
        lan
    }

    fn forward_rule(&self, op: &str) -> Vec<String> {
        [
            op,
            "FORWARD",
            "-i",
            &self.bridge,
            "-o",
            &self.bridge,
            "-j",
            "ACCEPT",
        ]
        .map(String::from)
        .to_vec()
    }

    /// This machine's address on the bridge (advertise the local engine's swarm here).
    pub fn gateway(&self) -> String {
        format!("{}.1", self.prefix)
    }

    /// Starts one more host on the bridge and waits until its engine answers.
    pub fn host(&mut self) -> Host {
        let i = self.next;
        self.next += 1;
        let name = format!("rch{}x{i}", self.tag);
        let veth = format!("rcv{}x{i}", self.tag);
        let addr = format!("{}.{i}", self.prefix);
        let run_dir = PathBuf::from(format!("/run/rcompose-e2e/{name}"));
        let data = PathBuf::from(format!("/var/lib/rcompose-e2e/{name}"));
        let mut host = Host {
            name: name.clone(),
            veth: veth.clone(),
            addr: addr.clone(),
            run_dir: run_dir.clone(),
            data: data.clone(),
            daemon: None,
        };
        ip(&["netns", "add", &name]);
        ip(&[
            "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &name,
        ]);
        ip(&["link", "set", &veth, "master", &self.bridge, "up"]);
        ip(&[
            "-n",
            &name,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            "eth0",
        ]);
        ip(&["-n", &name, "link", "set", "eth0", "up"]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        ip(&[
            "-n",
            &name,
            "route",
            "add",
            "default",
            "via",
            &self.gateway(),
        ]);
        std::fs::create_dir_all(&run_dir).expect("host run folder");
        std::fs::create_dir_all(&data).expect("host data root");
        // The machine's storage driver (overlay2 may not work on its file system); nothing else
        // of its daemon.json, whose data-root would clash with ours.
        let driver = stdout(&run(Command::new("docker").args([
            "info",
            "--format",
            "{{.Driver}}",
        ])))
        .trim()
        .to_string();
        // Its own identity too: the engine ID comes from the trust key, /etc/docker/key.json
        // unless moved.
        let config = serde_json::json!({
            "storage-driver": driver,
            "mtu": 1400,
            "deprecated-key-path": run_dir.join("key.json"),
        });
        std::fs::write(run_dir.join("daemon.json"), config.to_string()).expect("daemon.json");
        host.start();
        host
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for tool in ["iptables", "iptables-legacy"] {
            let _ = Command::new(tool)
                .args(self.forward_rule("-D"))
                .stderr(Stdio::null())
                .status();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .status();
    }
}

/// An engine in its own network namespace.
pub struct Host {
    /// The network namespace's name.
    pub name: String,
    veth: String,
    /// Its address on the [`Lan`].
    pub addr: String,
    run_dir: PathBuf,
    data: PathBuf,
    daemon: Option<std::process::Child>,
}

impl Host {
    /// `unix:///...`: what `DOCKER_HOST` is set to for this host.
    pub fn url(&self) -> String {
        format!("unix://{}", self.run_dir.join("docker.sock").display())
    }

    /// `docker ARGS` against this host.
    pub fn docker(&self, args: &[&str]) -> Output {
        run(Command::new("docker").arg("-H").arg(self.url()).args(args))
    }

    /// Starts (or starts again) the daemon and waits until it answers.
    pub fn start(&mut self) {
        let log = std::fs::File::create(self.run_dir.join("dockerd.log")).expect("dockerd log");
        // Its own host name too (a UTS namespace), so that swarm nodes and `docker info` tell
        // the hosts apart.
        let child = Command::new("unshare")
            .args([
                "--uts",
                "sh",
                "-c",
                r#"hostname "$1" && shift && exec "$@""#,
                "sh",
            ])
            .arg(&self.name)
            .arg("nsenter")
            .arg(format!("--net=/run/netns/{}", self.name))
            .arg("dockerd")
            .arg("--config-file")
            .arg(self.run_dir.join("daemon.json"))
            .arg("--data-root")
            .arg(&self.data)
            .arg("--exec-root")
            .arg(self.run_dir.join("exec"))
            .arg("--pidfile")
            .arg(self.run_dir.join("dockerd.pid"))
            .arg("-H")
            .arg(self.url())
            // No registry: a swarm task takes the image loaded here instead of trying a pull
            // first (which would look for an outside address).
            .env("DOCKER_SERVICE_PREFER_OFFLINE_IMAGE", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start dockerd in its namespace");
        self.daemon = Some(child);
        let start = Instant::now();
        while !self
            .docker(&["info", "--format", "{{.ID}}"])
            .status
            .success()
        {
            let exited = self
                .daemon
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || start.elapsed() > Duration::from_secs(60) {
                let log = std::fs::read_to_string(self.run_dir.join("dockerd.log"));
                panic!("dockerd of {} did not answer: {log:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the daemon (as a machine going down would), leaving its namespace and data.
    pub fn stop(&mut self) {
        let Some(mut child) = self.daemon.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg(child.id().to_string())
            .stderr(Stdio::null())
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Copies an image of this machine's engine into this host's (there is no registry).
    pub fn load_image(&self, image: &str) {
        let mut save = Command::new("docker")
            .args(["save", image])
            .stdout(Stdio::piped())
            .spawn()
            .expect("docker save");
        let out = save.stdout.take().expect("save stdout");
        let load = Command::new("docker")
            .arg("-H")
            .arg(self.url())
            .args(["load", "-q"])
            .stdin(out)
            .output()
            .expect("docker load");
        let saved = save.wait().expect("docker save ends");
        assert!(saved.success() && load.status.success(), "{load:?}");
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // Containers stop with their daemon; one killed outright may leave mounts behind.
        self.stop();
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        let mut under: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(1))
            .filter(|m| {
                m.starts_with(&*self.data.to_string_lossy())
                    || m.starts_with(&*self.run_dir.to_string_lossy())
            })
            .collect();
        under.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in under {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
        let _ = std::fs::remove_dir_all(&self.data);
        let _ = std::fs::remove_dir_all(&self.run_dir);
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = Command::new("ip")
            .args(["link", "del", &self.veth])
            .stderr(Stdio::null())
            .status();
    }
}

fn an_extra_host_runs_its_own_engine_at_its_own_address() {
    let name;
    {
        let mut lan = Lan::new();
        let host = lan.host();
        name = host.name.clone();
        let id = |o: Output| stdout(&o).trim().to_string();
        let local = id(run(
            Command::new("docker").args(["info", "--format", "{{.ID}}"])
        ));
        assert_ne!(id(host.docker(&["info", "--format", "{{.ID}}"])), local);
        assert_eq!(id(host.docker(&["info", "--format", "{{.Name}}"])), name);
        host.load_image("rcompose-test:latest");
        let c =
            id(
                ok(&host.docker(&["run", "-d", "--init", "rcompose-test:latest", "sleep", "60"]))
                    .clone(),
            );
        // Its containers are its own, and its namespace has the address it was given.
        assert!(!run(Command::new("docker").args(["inspect", &c]))
            .status
            .success());
        let addrs = run(Command::new("ip").args(["-n", &name, "-4", "addr", "show", "eth0"]));
        assert!(
            stdout(&addrs).contains(&format!("{}/24", host.addr)),
            "{addrs:?}"
        );
    }
    let left = run(Command::new("ip").args(["netns", "list"]));
    assert!(!stdout(&left).contains(&name), "namespace left: {left:?}");
}

cases! {
    engine: an_extra_host_runs_its_own_engine_at_its_own_address;
}
