//! Reliability under races, long operations, signals and other users (issue 19).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{bin, cases, docker, eventually, ok, run, stderr, Reader, Stack};

/// Two networks named `<project>_default`, both labelled as the project's (what two racing
/// commands left behind before `run` took the lock): `down` removes both.
fn down_removes_every_network_of_the_project() {
    let docker = docker();
    let s = Stack::fixture(&docker, "dup-networks");
    let name = format!("{}_default", s.name);
    let labels = format!(
        r#"{{"com.docker.compose.project":"{}","com.docker.compose.network":"default"}}"#,
        s.name
    );
    for _ in 0..2 {
        // The engine's API 1.41 allows two networks of one name when CheckDuplicate is false
        // (the docker CLI always sets it, so the request is written by hand).
        let body = format!(r#"{{"Name":"{name}","CheckDuplicate":false,"Labels":{labels}}}"#);
        let (status, text) = engine_post("/v1.41/networks/create", &body);
        assert_eq!(status, 201, "{text}");
    }
    assert_eq!(s.networks(), [name.clone(), name.clone()]);
    let out = s.rcompose(&["down"]);
    ok(&out);
    assert!(
        s.networks().is_empty(),
        "{:?} {}",
        s.networks(),
        stderr(&out)
    );
}

/// One POST to the local engine's socket: the status code and the whole response.
fn engine_post(path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut sock =
        std::os::unix::net::UnixStream::connect("/var/run/docker.sock").expect("engine socket");
    write!(
        sock,
        "POST {path} HTTP/1.0\r\nHost: docker\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write request");
    let mut text = String::new();
    sock.read_to_string(&mut text).expect("read response");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Concurrent `run`s of one project take turns on the project lock: one network, one volume.
fn concurrent_runs_end_with_one_network() {
    let docker = docker();
    let s = Stack::fixture(&docker, "concurrent-runs");
    let children: Vec<_> = (0..3)
        .map(|_| {
            s.rcompose_cmd(&["--progress", "quiet", "run", "--rm", "app"])
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success());
    }
    assert_eq!(s.networks(), [format!("{}_default", s.name)]);
    ok(&s.rcompose(&["down"]));
    assert!(s.networks().is_empty());
}

/// `up -d --wait` keeps the project lock only while it changes the engine: a `down` from another
/// shell during the wait finishes promptly (before, it waited for the whole wait).
fn up_wait_releases_the_lock_before_waiting() {
    let docker = docker();
    let s = Stack::fixture(&docker, "wait-lock");
    let mut up = s
        .rcompose_cmd(&["--progress", "quiet", "up", "-d", "--wait"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let err = Reader::new(up.stderr.take().expect("stderr"));
    eventually(Duration::from_secs(10), "slow running", || {
        s.containers().values().any(|c| c.state == "running")
    });
    let start = Instant::now();
    ok(&s.rcompose(&["--progress", "quiet", "down", "-t", "1"]));
    let took = start.elapsed();
    let _ = up.wait();
    let _ = err.finish();
    assert!(
        took < Duration::from_secs(5),
        "down waited {took:?} for the lock of up --wait"
    );
    assert!(s.containers().is_empty());
}

/// A secret from an environment variable that is not set fails `up` and `run` with the
/// reference's message, before anything is created.
fn a_secret_from_an_unset_variable_fails_before_anything_is_created() {
    let docker = docker();
    let s = Stack::fixture(&docker, "unset-secret");
    let msg = format!(
        "environment variable \"RELIABILITY_UNSET_TOKEN\" required by secret \"{}_token\" is not set",
        s.name
    );
    for args in [&["up", "-d"][..], &["run", "--rm", "app"]] {
        let out = s.rcompose(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(&msg), "{args:?}: {}", stderr(&out));
        assert!(s.containers().is_empty(), "{:?}", s.containers().keys());
        assert!(s.networks().is_empty(), "{:?}", s.networks());
        assert!(
            secret_dirs(&s.name).is_empty(),
            "{:?}",
            secret_dirs(&s.name)
        );
    }
}

/// The folders where rcompose keeps a project's private secret files (run as root): today's
/// place and the one before the per-user folder.
fn secret_dirs(project: &str) -> Vec<PathBuf> {
    let root = match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(d) if d.is_absolute() => d.join("rcompose"),
        _ => PathBuf::from("/run/rcompose"),
    };
    [root.join("secrets").join(project), root.join(project)]
        .into_iter()
        .filter(|d| d.exists())
        .collect()
}

/// `down` removes the project's private files even when its container was removed by another
/// tool; an `up` that fails removes the files it wrote for a container never created.
fn private_files_leave_with_the_project() {
    let docker = docker();
    let s = Stack::fixture(&docker, "private-files");
    ok(&s.rcompose(&["up", "-d"]));
    assert!(!secret_dirs(&s.name).is_empty());
    ok(&run(Command::new("docker").args([
        "rm",
        "-f",
        &format!("{}-app-1", s.name),
    ])));
    // What rcompose before the per-user folder left for root: `/run/rcompose/<project>`.
    let legacy = Path::new("/run/rcompose").join(&s.name);
    let as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if as_root {
        std::fs::create_dir_all(legacy.join("app")).expect("legacy folder");
        std::fs::write(legacy.join("app/token"), "s3cret").expect("legacy file");
    }
    let _legacy = RemoveOnDrop(legacy.clone());
    ok(&s.rcompose(&["down"]));
    assert!(
        secret_dirs(&s.name).is_empty(),
        "{:?}",
        secret_dirs(&s.name)
    );
    assert!(!legacy.exists(), "down removes {}", legacy.display());

    s.use_file("broken.yaml");
    let out = s.rcompose(&["up", "-d"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(s.containers().is_empty());
    assert!(
        secret_dirs(&s.name).is_empty(),
        "{:?}",
        secret_dirs(&s.name)
    );
}

/// Removes a folder when dropped (the private folder of the test's other user).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A user other than root, in the docker group, uses rcompose after root did: its lock and its
/// private files live in its own folder (mode 0700), not in root's.
fn another_user_can_use_rcompose_after_root() {
    const UID: u32 = 42_917;
    let docker = docker();
    let root = Stack::fixture(&docker, "root-user");
    ok(&root.rcompose(&["up", "-d"]));
    let s = Stack::fixture(&docker, "other-user");
    let _private = RemoveOnDrop(PathBuf::from(format!("/tmp/rcompose-{UID}")));
    std::fs::set_permissions(
        s.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let group = std::fs::metadata("/var/run/docker.sock")
        .expect("engine socket")
        .gid();
    let as_user = |args: &[&str]| {
        run(Command::new("setpriv")
            .arg(format!("--reuid={UID}"))
            .arg(format!("--regid={UID}"))
            .arg(format!("--groups={group}"))
            .arg(bin())
            .arg("-p")
            .arg(&s.name)
            .args(args)
            .env_remove("XDG_RUNTIME_DIR")
            .env("HOME", s.path())
            .current_dir(s.path()))
    };
    ok(&as_user(&["up", "-d"]));
    let out = s.exec(&format!("{}-app-1", s.name), &["cat", "/inline"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "private-value");
    let meta = std::fs::metadata(format!("/tmp/rcompose-{UID}")).expect("private folder");
    assert_eq!((meta.uid(), meta.mode() & 0o777), (UID, 0o700));
    ok(&as_user(&["down"]));
    assert!(s.containers().is_empty());
    assert!(!Path::new(&format!("/tmp/rcompose-{UID}/secrets/{}", s.name)).exists());
    ok(&root.rcompose(&["down"]));
}

/// Waits for `child` up to `limit`; whether it ended.
fn ended_within(child: &mut Child, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// SIGTERM to an attached `up` stops the project gracefully and exits 130, as the reference;
/// so does SIGINT when it was ignored at start (a background job of a script).
fn sigterm_stops_an_attached_up_and_exits_130() {
    let docker = docker();
    for (signal, ignore_int) in [("-TERM", false), ("-INT", true)] {
        let s = Stack::fixture(&docker, "sigterm");
        let mut cmd = if ignore_int {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(r#"trap "" INT; exec "$0" "$@""#)
                .arg(bin())
                .arg("-p")
                .arg(&s.name)
                .arg("up")
                .current_dir(s.path())
                .stdin(Stdio::null());
            c
        } else {
            s.rcompose_cmd(&["up"])
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let attached = Reader::new(child.stdout.take().expect("stdout"));
        let err = Reader::new(child.stderr.take().expect("stderr"));
        eventually(Duration::from_secs(20), "up attached", || {
            attached.text().contains("Attaching to")
        });
        ok(&run(
            Command::new("kill").args([signal, &child.id().to_string()])
        ));
        assert!(
            ended_within(&mut child, Duration::from_secs(15)),
            "{signal}: up did not return"
        );
        let status = child.wait().expect("wait");
        let err = err.finish();
        assert_eq!(status.code(), Some(130), "{signal}: {err}");
        assert!(
            err.contains("Gracefully Stopping... press Ctrl+C again to force"),
            "{signal}: {err}"
        );
        let cs = s.containers();
        assert!(
            !cs.is_empty() && cs.values().all(|c| c.state == "exited"),
            "{signal}: {cs:?}"
        );
    }
}

/// A volume whose `name:` is another project's volume is reused with the reference's warning.
fn a_volume_of_another_project_is_reused_with_a_warning() {
    let docker = docker();
    let other = Stack::new(&docker, "volume-owner", "");
    let s = Stack::fixture(&docker, "volume-user");
    let volume = format!("{}-shared", other.name);
    ok(&run(Command::new("docker").args([
        "volume",
        "create",
        "--label",
        &format!("com.docker.compose.project={}", other.name),
        &volume,
    ])));
    let out = run(s.rcompose_cmd(&["up", "-d"]).env("SHARED_VOLUME", &volume));
    ok(&out);
    let warning = format!(
        "volume \"{volume}\" already exists but was created for project \"{}\" (expected \"{}\"). Use `external: true` to use an existing volume",
        other.name, s.name
    );
    // Off a terminal, warnings are logfmt, quotes escaped, as the reference's logger writes them.
    let warning = format!("level=warning msg=\"{}\"", warning.replace('"', "\\\""));
    assert!(stderr(&out).contains(&warning), "{}", stderr(&out));
    // Reused, not taken over: it still belongs to the other project.
    assert_eq!(other.volumes(), [volume]);
    assert!(s.volumes().is_empty());
}

cases! {
    engine:
        down_removes_every_network_of_the_project,
        concurrent_runs_end_with_one_network,
        up_wait_releases_the_lock_before_waiting,
        a_secret_from_an_unset_variable_fails_before_anything_is_created,
        private_files_leave_with_the_project,
        another_user_can_use_rcompose_after_root,
        sigterm_stops_an_attached_up_and_exits_130,
        a_volume_of_another_project_is_reused_with_a_warning;
}
