//! The planner's decisions seen on the engine: stop timeouts by service, and the one-off
//! container of `run` planned like any other (its secret files written first).

use std::path::Path;
use std::time::Duration;

use crate::harness::*;

fn stop_timeout_by_service() {
    let docker = docker();
    let s = Stack::fixture(&docker, "stop-timeout");
    ok(&s.rcompose(&["up", "-d"]));
    for c in ["web", "web-api"] {
        let name = format!("{}-{c}-1", s.name);
        eventually(Duration::from_secs(20), "the TERM trap set", || {
            s.exec(&name, &["test", "-f", "/tmp/ready"])
                .status
                .success()
        });
    }
    ok(&s.rcompose(&["stop"]));
    let exit = |c: &str| {
        s.inspect(&format!("{}-{c}-1", s.name))
            .state
            .and_then(|st| st.exit_code)
    };
    // Killed after `web`'s 1 s, `web-api` would exit 137 instead of finishing its cleanup.
    assert_eq!(exit("web-api"), Some(0), "web-api got another grace period");
    assert_eq!(exit("web"), Some(0));
}

fn run_writes_its_secret_files() {
    let docker = docker();
    let s = Stack::fixture(&docker, "run-secrets");
    let token = "run-tok-51c2";
    let out = ok(&run(s
        .rcompose_cmd(&[
            "run",
            "--rm",
            "app",
            "sh",
            "-c",
            "cat /run/secrets/token; echo; stat -c '%a' /inline; cat /inline",
        ])
        .env("RUN_TOKEN", token)))
    .clone();
    assert_eq!(
        stdout(&out),
        format!("{token}\n400\ninline-config-value"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains(token),
        "the secret value was printed"
    );
    // `--rm` removed the container and its private files.
    assert!(s.containers().is_empty(), "{:?}", s.containers().keys());
    let dir = Path::new("/run/rcompose/secrets").join(&s.name);
    let left: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in {}: {left:?}", dir.display());
}

cases! {
    engine: stop_timeout_by_service, run_writes_its_secret_files;
}
