//! rcompose in place of docker compose: the docker CLI plugin and the standalone
//! `docker-compose` shapes (linked by `rcompose install`), docker's global flags and contexts
//! choosing the engine, the scripting forms of `version`, the testcontainers conformance
//! script (`tests/conformance`) with both shapes and the reference, and Podman's Docker API.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::harness::*;

/// A docker config folder of the test's own, with contexts made by the docker CLI.
struct DockerConfig {
    dir: tempfile::TempDir,
}

impl DockerConfig {
    fn new() -> Self {
        DockerConfig {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `docker ARGS` with this config.
    fn docker(&self, args: &[&str]) -> Output {
        run(Command::new("docker")
            .env("DOCKER_CONFIG", self.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .args(args))
    }

    /// Links rcompose in as this config's `compose` plugin, through `rcompose install`.
    fn install_plugin(&self) {
        let plugins = self.path().join("cli-plugins");
        ok(&run(Command::new(bin())
            .env("DOCKER_CONFIG", self.path())
            .args(["install", "--plugin"])));
        assert!(plugins.join("docker-compose").exists());
    }
}

/// `rcompose ARGS` in `dir` with this docker config and no engine variables but `env`.
fn rcompose_with(config: &DockerConfig, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(bin());
    c.env("DOCKER_CONFIG", config.path())
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .envs(env.iter().copied())
        .args(args)
        .current_dir(dir);
    run(&mut c)
}

/// `rcompose ARGS` (as [`rcompose_with`]) succeeds and prints `want`.
#[track_caller]
fn shows(config: &DockerConfig, dir: &Path, env: &[(&str, &str)], args: &[&str], want: &str) {
    let out = ok(&rcompose_with(config, dir, env, args)).clone();
    assert!(
        stdout(&out).contains(want),
        "no `{want}` in: {}",
        stdout(&out)
    );
}

fn fails_naming(out: &Output, words: &[&str]) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    for w in words {
        assert!(stderr(out).contains(w), "no `{w}` in: {}", stderr(out));
    }
}

fn contexts_and_docker_flags_choose_the_engine() {
    let docker = docker();
    let s = Stack::fixture(&docker, "contexts");
    let config = DockerConfig::new();
    config.install_plugin();
    // The local engine under another path, and an engine that is not there.
    let sock = config.path().join("engine.sock");
    std::os::unix::fs::symlink("/var/run/docker.sock", &sock).expect("symlink");
    let good = format!("host=unix://{}", sock.display());
    let missing = config.path().join("missing.sock");
    let bad = format!("host=unix://{}", missing.display());
    ok(&config.docker(&["context", "create", "good", "--docker", &good]));
    ok(&config.docker(&["context", "create", "bad", "--docker", &bad]));
    let p = s.name.as_str();

    // docker -H ... compose: the plugin receives -H before `compose`.
    let host = format!("unix://{}", sock.display());
    ok(&config.docker(
        &["-H", &host, "compose", "-p", p, "--project-directory"]
            .iter()
            .copied()
            .chain([s.path().to_str().expect("utf-8"), "up", "-d"])
            .collect::<Vec<_>>(),
    ));
    assert_eq!(s.containers().len(), 1, "{:?}", s.containers().keys());
    let want = format!("{p}-app-1");
    // --context, DOCKER_CONTEXT and the current context reach the same engine.
    shows(
        &config,
        s.path(),
        &[],
        &["--context", "good", "-p", p, "ps"],
        &want,
    );
    shows(
        &config,
        s.path(),
        &[("DOCKER_CONTEXT", "good")],
        &["-p", p, "ps"],
        &want,
    );
    let out = ok(&config.docker(&["--context", "good", "compose", "-p", p, "ps"])).clone();
    assert!(stdout(&out).contains(&want), "{}", stdout(&out));

    // A context whose engine is not there fails, naming it, and never reaches the local engine.
    ok(&config.docker(&["context", "use", "bad"]));
    let missing_s = missing.to_str().expect("utf-8");
    let out = rcompose_with(&config, s.path(), &[], &["-p", p, "down"]);
    fails_naming(&out, &["context \"bad\"", missing_s]);
    let out = config.docker(&["compose", "-p", p, "down"]);
    fails_naming(&out, &["context \"bad\"", missing_s]);
    assert_eq!(s.containers().len(), 1, "down went to the local engine");
    // An unknown context is an error too.
    let out = rcompose_with(
        &config,
        s.path(),
        &[],
        &["--context", "nope", "-p", p, "down"],
    );
    fails_naming(&out, &["context \"nope\"", "not found"]);
    let out = rcompose_with(
        &config,
        s.path(),
        &[("DOCKER_CONTEXT", "nope")],
        &["-p", p, "down"],
    );
    fails_naming(&out, &["context \"nope\""]);
    assert_eq!(s.containers().len(), 1);
    // --host and --context together are refused, as the docker CLI refuses them.
    let out = rcompose_with(
        &config,
        s.path(),
        &[],
        &["-H", &host, "--context", "good", "-p", p, "ps"],
    );
    fails_naming(&out, &["cannot specify both --host and --context"]);
    // DOCKER_HOST wins over the current context, as in the docker CLI.
    shows(
        &config,
        s.path(),
        &[("DOCKER_HOST", &host)],
        &["-p", p, "ps"],
        &want,
    );
    // docker's other global flags are accepted before `compose`.
    ok(&config.docker(&[
        "-D",
        "-l",
        "warn",
        "--context",
        "good",
        "compose",
        "-p",
        p,
        "ps",
    ]));
    ok(&rcompose_with(
        &config,
        s.path(),
        &[],
        &["--context", "good", "-p", p, "down"],
    ));
    assert!(s.containers().is_empty());
}

/// Sends SIGINT to `child` alone (as a program that stops `docker` does, not to its process
/// group) and returns its exit code, or fails after `secs`.
fn interrupt_alone(child: &mut std::process::Child, secs: u64) -> Option<i32> {
    ok(&run(Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the docker CLI still runs {secs} s after SIGINT: the plugin did not stop");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn the_plugin_stops_when_the_docker_cli_is_told_to() {
    let docker = docker();
    let s = Stack::fixture(&docker, "cli-signal");
    let config = DockerConfig::new();
    config.install_plugin();
    let p = s.name.as_str();
    let spawn = |args: &[&str]| {
        Command::new("docker")
            .env("DOCKER_CONFIG", config.path())
            .args(["compose", "-p", p])
            .args(args)
            .current_dir(s.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("docker compose")
    };
    let wait_for = |what: &str, cond: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !cond() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let running = || s.containers().values().any(|c| c.state == "running");
    // Attached `up`: the docker CLI closes its plugin socket; rcompose stops the stack, 130.
    let mut up = spawn(&["up"]);
    wait_for("up never started the container", &running);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(interrupt_alone(&mut up, 20), Some(130));
    assert!(!running(), "attached up left the container running");
    // `logs -f` never ends by itself: it ends with 130 too.
    ok(&s.rcompose(&["up", "-d"]));
    let mut logs = spawn(&["logs", "-f"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(interrupt_alone(&mut logs, 10), Some(130));
}

fn version_scripting_forms_match_the_reference() {
    for args in [
        &["version", "--short"][..],
        &["version", "--format", "json"],
        &["version", "-f", "json"],
        &["version", "--short", "--format", "json"],
    ] {
        let ours = ok(&run(Command::new(bin())
            .env_remove("RCOMPOSE_COMPAT_VERSION")
            .args(args)))
        .clone();
        let theirs = ok(&run(Command::new("docker").arg("compose").args(args))).clone();
        assert_eq!(ours.stdout, theirs.stdout, "{args:?}");
    }
    let out = ok(&run(Command::new(bin())
        .env("RCOMPOSE_COMPAT_VERSION", "v5.1.0")
        .args(["version", "--short"])))
    .clone();
    assert_eq!(stdout(&out), "5.1.0\n");
    let out = ok(&run(Command::new(bin()).arg("version"))).clone();
    assert!(
        stdout(&out).starts_with("rcompose version v"),
        "{}",
        stdout(&out)
    );
}

fn install_links_both_shapes_and_undoes_them() {
    let t = tempfile::tempdir().expect("temp dir");
    let plugins = t.path().join("cli-plugins");
    let bin_dir = t.path().join("bin");
    let (p, b) = (
        plugins.to_str().expect("utf-8"),
        bin_dir.to_str().expect("utf-8"),
    );
    let install = |extra: &[&str]| {
        run(Command::new(bin())
            .args([
                "install",
                "--plugin",
                "--plugin-dir",
                p,
                "--standalone",
                "--bin-dir",
                b,
            ])
            .args(extra))
    };
    // Another docker-compose is there: left alone without --force.
    std::fs::create_dir_all(&bin_dir).expect("mkdir");
    std::fs::write(bin_dir.join("docker-compose"), "#!/bin/sh\necho other\n").expect("write");
    let out = install(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let out = ok(&install(&["--force"])).clone();
    assert!(
        stdout(&out).contains("to undo: rcompose install --uninstall --plugin"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("docker-compose.rcompose-backup"),
        "{}",
        stdout(&out)
    );
    // The standalone shape: argv[0] is docker-compose, no `compose` first.
    let sa = ok(&run(
        Command::new(bin_dir.join("docker-compose")).args(["version", "--short"])
    ))
    .clone();
    let direct = ok(&run(Command::new(bin()).args(["version", "--short"]))).clone();
    assert_eq!(sa.stdout, direct.stdout);
    // The plugin shape answers the metadata probe.
    let meta = ok(&run(
        Command::new(plugins.join("docker-compose")).arg("docker-cli-plugin-metadata")
    ))
    .clone();
    let v: serde_json::Value = serde_json::from_slice(&meta.stdout).expect("metadata json");
    assert_eq!(v["SchemaVersion"], "0.1.0");
    // Installing again changes nothing; undoing puts the other docker-compose back.
    let again = ok(&install(&[])).clone();
    assert!(
        stdout(&again).contains("already links"),
        "{}",
        stdout(&again)
    );
    let out = ok(&run(Command::new(bin()).args([
        "install",
        "--uninstall",
        "--plugin",
        "--plugin-dir",
        p,
        "--standalone",
        "--bin-dir",
        b,
    ])))
    .clone();
    assert!(stdout(&out).contains("put back"), "{}", stdout(&out));
    assert!(!plugins.join("docker-compose").exists());
    assert_eq!(
        std::fs::read_to_string(bin_dir.join("docker-compose")).expect("read"),
        "#!/bin/sh\necho other\n"
    );
}

/// A TLS front for the local engine (`testdata/<test>/tls_proxy.py`), killed when dropped.
struct TlsProxy {
    child: std::process::Child,
    port: String,
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn a_tls_context_reaches_the_engine_with_its_certificates() {
    let docker = docker();
    let s = Stack::fixture(&docker, "tls");
    let certs = tempfile::tempdir().expect("temp dir");
    let c = |f: &str| certs.path().join(f).to_str().expect("utf-8").to_string();
    ok(&run(Command::new("bash")
        .arg(s.path().join("certs.sh"))
        .arg(certs.path())));
    let mut child = Command::new("python3")
        .arg(s.path().join("tls_proxy.py"))
        .args([c("server.pem"), c("server-key.pem"), c("ca.pem")])
        .arg("/var/run/docker.sock")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 tls_proxy.py");
    let mut port = String::new();
    if let Some(out) = child.stdout.take() {
        use std::io::BufRead;
        let _ = std::io::BufReader::new(out).read_line(&mut port);
    }
    let proxy = TlsProxy {
        child,
        port: port.trim().to_string(),
    };
    assert!(!proxy.port.is_empty(), "the TLS proxy printed no port");
    let host = format!("tcp://127.0.0.1:{}", proxy.port);
    let config = DockerConfig::new();
    // The docker CLI copies the material into its context store; rcompose reads it there.
    let material = format!(
        "host={host},ca={},cert={},key={}",
        c("ca.pem"),
        c("client.pem"),
        c("client-key.pem")
    );
    ok(&config.docker(&["context", "create", "secure", "--docker", &material]));
    ok(&config.docker(&[
        "context",
        "create",
        "plain",
        "--docker",
        &format!("host={host}"),
    ]));
    let p = s.name.as_str();
    ok(&rcompose_with(
        &config,
        s.path(),
        &[],
        &["--context", "secure", "-p", p, "up", "-d"],
    ));
    assert_eq!(s.containers().len(), 1);
    let want = format!("{p}-app-1");
    shows(
        &config,
        s.path(),
        &[("DOCKER_CONTEXT", "secure")],
        &["-p", p, "ps"],
        &want,
    );
    // The same engine through docker's TLS flags.
    shows(
        &config,
        s.path(),
        &[],
        &[
            "-H",
            &host,
            "--tlsverify",
            "--tlscacert",
            &c("ca.pem"),
            "--tlscert",
            &c("client.pem"),
            "--tlskey",
            &c("client-key.pem"),
            "-p",
            p,
            "ps",
        ],
        &want,
    );
    // Without checking the engine's certificate (no CA at hand), the client's still presented:
    // a context with skip-tls-verify, and --tls without --tlsverify.
    let skip = format!(
        "host={host},cert={},key={},skip-tls-verify=true",
        c("client.pem"),
        c("client-key.pem")
    );
    ok(&config.docker(&["context", "create", "skip", "--docker", &skip]));
    shows(
        &config,
        s.path(),
        &[],
        &["--context", "skip", "-p", p, "ps"],
        &want,
    );
    shows(
        &config,
        s.path(),
        &[],
        &[
            "-H",
            &host,
            "--tls",
            "--tlscert",
            &c("client.pem"),
            "--tlskey",
            &c("client-key.pem"),
            "-p",
            p,
            "ps",
        ],
        &want,
    );
    // Without the material the engine refuses, and the error names the context and endpoint.
    let out = rcompose_with(
        &config,
        s.path(),
        &[],
        &["--context", "plain", "-p", p, "down"],
    );
    fails_naming(&out, &["context \"plain\"", &host]);
    assert_eq!(s.containers().len(), 1);
    ok(&rcompose_with(
        &config,
        s.path(),
        &[],
        &["--context", "secure", "-p", p, "down"],
    ));
    assert!(s.containers().is_empty());
    drop(proxy);
}

/// An sshd of the test's own on 127.0.0.1, letting root in with a key made for the test, and an
/// `ssh` first in PATH that reads the test's client configuration (ssh reads the user's own
/// `~/.ssh` from the password database, not from HOME).
struct Sshd {
    child: std::process::Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sshd {
    fn start() -> Sshd {
        let sshd = Path::new("/usr/sbin/sshd");
        if !sshd.exists() {
            // Never a pass: the runner reports this test as failed with the reason.
            panic!(
                "sshd is not installed here (apt-get install openssh-server): this test cannot run"
            );
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        for key in ["host", "id"] {
            ok(&run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(d.join(key))));
        }
        std::fs::copy(d.join("id.pub"), d.join("authorized_keys")).expect("authorized_keys");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let p = |f: &str| d.join(f).display().to_string();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
                 PidFile {}\nStrictModes no\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\n",
                p("host"),
                p("authorized_keys"),
                p("sshd.pid")
            ),
        )
        .expect("sshd_config");
        std::fs::write(
            d.join("ssh_config"),
            format!(
                "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  \
                 StrictHostKeyChecking accept-new\n  BatchMode yes\n",
                p("id"),
                p("known_hosts")
            ),
        )
        .expect("ssh_config");
        std::fs::create_dir_all(d.join("bin")).expect("bin");
        let wrapper = d.join("bin/ssh");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec /usr/bin/ssh -F {} \"$@\"\n",
                p("ssh_config")
            ),
        )
        .expect("ssh wrapper");
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
        // sshd's privilege separation folder.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let child = Command::new(sshd)
            .args(["-D", "-f"])
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(d.join("sshd.log"))
            .spawn()
            .expect("sshd");
        let s = Sshd { child, dir, port };
        eventually(Duration::from_secs(10), "sshd listening", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        s
    }

    /// PATH with the test's `ssh` first.
    fn path_var(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn logins(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("sshd.log"))
            .unwrap_or_default()
            .matches("Accepted publickey for root")
            .count()
    }
}

/// `ssh://` endpoints, from a context or DOCKER_HOST, reach the engine as the docker CLI reaches
/// it: through `ssh ... docker system dial-stdio`, exec with its input closed at its end included.
fn an_ssh_context_reaches_the_engine_through_dial_stdio() {
    let docker = docker();
    let s = Stack::fixture(&docker, "ssh");
    let sshd = Sshd::start();
    let host = format!("ssh://root@127.0.0.1:{}", sshd.port);
    let config = DockerConfig::new();
    ok(&config.docker(&[
        "context",
        "create",
        "remote",
        "--docker",
        &format!("host={host}"),
    ]));
    let path = sshd.path_var();
    let p = s.name.as_str();
    let env = [("PATH", path.as_str())];
    ok(&rcompose_with(
        &config,
        s.path(),
        &env,
        &["--context", "remote", "-p", p, "up", "-d"],
    ));
    assert_eq!(s.containers().len(), 1);
    assert!(sshd.logins() > 0, "the engine was not reached through sshd");
    let app = format!("{p}-app-1");
    let out = ok(&rcompose_with(
        &config,
        s.path(),
        &[("PATH", path.as_str()), ("DOCKER_HOST", host.as_str())],
        &["-p", p, "ps", "--format", "{{.Name}} {{.State}}"],
    ))
    .clone();
    assert_eq!(stdout(&out).trim(), format!("{app} running"));
    // Input reaches the process and its end closes it: `cat` returns.
    let mut c = Command::new(bin());
    c.env("DOCKER_CONFIG", config.path())
        .env("PATH", &path)
        .env_remove("DOCKER_HOST")
        .args(["--context", "remote", "-p", p, "exec", "-T", "app", "cat"])
        .current_dir(s.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = c.spawn().expect("exec");
    {
        use std::io::Write;
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(b"over-ssh\n").expect("write");
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("exec -T cat ends when its input ends")
        .expect("exec output");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "over-ssh\n");
    // An sshd that is not there: ssh's own words, and the endpoint.
    let gone = format!("ssh://root@127.0.0.1:{}", {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port()
    });
    let out = rcompose_with(
        &config,
        s.path(),
        &[("PATH", path.as_str()), ("DOCKER_HOST", gone.as_str())],
        &["-p", p, "down"],
    );
    fails_naming(&out, &[gone.as_str(), "Connection refused"]);
    assert_eq!(s.containers().len(), 1);
    ok(&rcompose_with(
        &config,
        s.path(),
        &env,
        &["--context", "remote", "-p", p, "down"],
    ));
    assert!(s.containers().is_empty());
}

/// Runs `tests/conformance/testcontainers.sh COMPOSE...` on a fresh project; panics with its
/// output when it fails.
fn conformance(docker: &bollard::Docker, shape: &str, env: &[(&str, &Path)], compose: &[&str]) {
    let s = Stack::new(docker, &format!("conformance-{shape}"), "");
    std::fs::copy(
        root().join("tests/conformance/compose.yaml"),
        s.path().join("compose.yaml"),
    )
    .expect("copy compose.yaml");
    let script: PathBuf = root().join("tests/conformance/testcontainers.sh");
    let out = run(Command::new("bash")
        .arg(script)
        .args(compose)
        .env("COMPOSE_PROJECT_NAME", &s.name)
        .env_remove("RCOMPOSE_COMPAT_VERSION")
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .current_dir(s.path()));
    assert!(
        out.status.success() && stdout(&out).contains("conformance: all passed"),
        "{shape}: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
}

fn testcontainers_calls_pass_with_both_shapes_and_the_reference() {
    let docker = docker();
    let t = tempfile::tempdir().expect("temp dir");
    let config = t.path().join("docker-config");
    let plugins = config.join("cli-plugins");
    std::fs::create_dir_all(&plugins).expect("mkdir");
    std::os::unix::fs::symlink(bin(), plugins.join("docker-compose")).expect("symlink");
    let standalone = t.path().join("docker-compose");
    std::os::unix::fs::symlink(bin(), &standalone).expect("symlink");
    conformance(
        &docker,
        "plugin",
        &[("DOCKER_CONFIG", &config)],
        &["docker", "compose"],
    );
    let sa = standalone.to_str().expect("utf-8");
    conformance(&docker, "standalone", &[], &[sa]);
    // The same script with the reference: it tests what testcontainers relies on, not rcompose.
    conformance(&docker, "reference", &[], &["docker", "compose"]);
}

/// Podman's Docker-compatible API, served for this test on a socket of its own.
struct Podman {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Podman {
    fn socket(&self) -> PathBuf {
        self.dir.path().join("podman.sock")
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_podman() -> Podman {
    let dir = tempfile::tempdir().expect("temp dir");
    // Podman raises nofile/nproc to its own defaults, which this machine's limits refuse
    // ("error setting rlimit type 7: operation not permitted"): stay under them.
    let conf = dir.path().join("containers.conf");
    std::fs::write(
        &conf,
        "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n",
    )
    .expect("write containers.conf");
    let sock = dir.path().join("podman.sock");
    let child = Command::new("podman")
        .args(["system", "service", "--time=0"])
        .arg(format!("unix://{}", sock.display()))
        .env("CONTAINERS_CONF", &conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("podman system service");
    let p = Podman { child, dir };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !p.socket().exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "podman's socket never appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    p
}

fn a_stack_runs_on_podmans_docker_api() {
    let docker = docker();
    if !Command::new("podman")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        // Never a pass: the runner reports this test as failed with the reason.
        panic!("podman is not installed here (apt-get install podman): this test cannot run");
    }
    let podman = start_podman();
    let host = format!("unix://{}", podman.socket().display());
    let pod = |args: &[&str]| run(Command::new("podman").arg("--url").arg(&host).args(args));
    // Podman has its own image store: give it the test image.
    let tar = podman.dir.path().join("image.tar");
    ok(&run(Command::new("docker")
        .args(["save", "-o"])
        .arg(&tar)
        .arg(IMAGE)));
    ok(&pod(&["load", "-i", tar.to_str().expect("utf-8")]));
    let s = Stack::fixture(&docker, "podman");
    let rc = |args: &[&str]| {
        run(Command::new(bin())
            .env("DOCKER_HOST", &host)
            .arg("-p")
            .arg(&s.name)
            .args(args)
            .current_dir(s.path()))
    };
    let label = format!("label=com.docker.compose.project={}", s.name);
    let cleanup = || {
        let _ = rc(&["down", "-v", "-t", "1"]);
        let _ = pod(&["rm", "-f", "--filter", &label]);
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ok(&rc(&["up", "-d", "--wait"]));
        // Running ones only (Podman 4.3's `{{.State}}` is the status text).
        let ps = ok(&pod(&[
            "ps",
            "--filter",
            &label,
            "--filter",
            "status=running",
            "--format",
            "{{.Names}}",
        ]))
        .clone();
        let text = stdout(&ps);
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        assert_eq!(
            lines,
            [format!("{}-client-1", s.name), format!("{}-web-1", s.name)],
        );
        // The client reaches the web service by name on the project's network.
        let out = ok(&rc(&[
            "exec",
            "-T",
            "client",
            "sh",
            "-c",
            "timeout 5 wget -q -O- http://web:8080/",
        ]))
        .clone();
        assert_eq!(stdout(&out).trim(), "podman-ok");
        // The local Docker engine saw none of it.
        assert!(s.containers().is_empty(), "containers on the docker engine");
        ok(&rc(&["down", "-v"]));
        let ps = ok(&pod(&[
            "ps",
            "-a",
            "--filter",
            &label,
            "--format",
            "{{.Names}}",
        ]))
        .clone();
        assert_eq!(stdout(&ps).trim(), "");
    }));
    cleanup();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

cases! {
    engine:
        contexts_and_docker_flags_choose_the_engine,
        a_tls_context_reaches_the_engine_with_its_certificates,
        an_ssh_context_reaches_the_engine_through_dial_stdio,
        the_plugin_stops_when_the_docker_cli_is_told_to,
        a_stack_runs_on_podmans_docker_api;
    reference:
        testcontainers_calls_pass_with_both_shapes_and_the_reference,
        version_scripting_forms_match_the_reference;
    offline:
        install_links_both_shapes_and_undoes_them;
}
