//! `logs` and attached `up` on the real engine: every line once, unmodified, with its prefix and
//! on the right stream; tail, since and timestamps as the reference; joiners while following;
//! the exit codes of the abort flags and of Ctrl-C.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::*;

const N: usize = 2000;

fn writer(name: &str, extra: &str) -> String {
    format!(
        "  {name}:\n    image: rcompose-test:latest\n    command: [\"sh\", \"-c\", \"i=0; while [ $$i -lt {N} ]; do i=$$((i+1)); echo {name} out $$i; echo {name} err $$i >&2; done{extra}\"]\n"
    )
}

fn writers() -> String {
    format!(
        "services:\n{}{}{}",
        writer("alpha", ""),
        writer("b", ""),
        writer("gamma", "; printf 'no newline'")
    )
}

/// Lines of `out` by container prefix, the prefix checked to be padded to the longest name.
fn by_prefix(out: &str, width: usize) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in out.lines() {
        let (prefix, text) = line.split_once(" | ").expect("prefixed line");
        assert_eq!(prefix.len(), width + 1, "padded prefix: {line:?}");
        m.entry(prefix.trim_end().to_string())
            .or_default()
            .push(text.to_string());
    }
    m
}

fn expected(name: &str, stream: &str) -> Vec<String> {
    (1..=N).map(|i| format!("{name} {stream} {i}")).collect()
}

#[test]
fn logs_prints_every_line_once_with_its_prefix_on_stdout() {
    let Some(docker) = engine() else { return };
    let s = Stack::new(&docker, "logs-all", &writers());
    ok(&s.rcompose(&["up", "-d"]));
    eventually(Duration::from_secs(30), "writers done", || {
        s.containers().values().all(|c| c.state == "exited")
    });
    let o = ok(&s.rcompose(&["logs"])).clone();
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    let lines = by_prefix(&stdout(&o), "gamma-1".len());
    assert_eq!(lines.len(), 3);
    for name in ["alpha", "b", "gamma"] {
        let got = &lines[&format!("{name}-1")];
        let outs: Vec<String> = got
            .iter()
            .filter(|l| l.contains(" out "))
            .cloned()
            .collect();
        let errs: Vec<String> = got
            .iter()
            .filter(|l| l.contains(" err "))
            .cloned()
            .collect();
        assert_eq!(
            outs,
            expected(name, "out"),
            "{name} stdout in order, each once"
        );
        assert_eq!(
            errs,
            expected(name, "err"),
            "{name} stderr in order, each once"
        );
        let rest = got.len() - outs.len() - errs.len();
        assert_eq!(rest, usize::from(name == "gamma"), "{name}");
    }
    assert!(lines["gamma-1"].contains(&"no newline".to_string()));

    // --tail, --no-log-prefix and --index against the reference.
    for args in [
        vec!["logs", "--tail", "3", "alpha"],
        vec!["logs", "--no-log-prefix", "-n", "2", "b"],
        vec!["logs", "--index", "1", "-n", "1", "alpha"],
    ] {
        let mine = stdout(ok(&s.rcompose(&args)));
        let theirs = stdout(ok(&s.reference(&args)));
        let sorted = |t: &str| {
            let mut v: Vec<String> = t.lines().map(str::to_string).collect();
            v.sort();
            v
        };
        assert_eq!(sorted(&mine), sorted(&theirs), "{args:?}");
    }

    // --timestamps: the engine's RFC 3339 stamp after the prefix, as the reference.
    let t = stdout(ok(&s.rcompose(&["logs", "-t", "-n", "1", "alpha"])));
    for line in t.lines() {
        let text = line.split_once(" | ").expect("prefix").1;
        let (stamp, rest) = text.split_once(' ').expect("stamp");
        assert!(stamp.ends_with('Z') && stamp.contains('T'), "{line}");
        assert!(rest.starts_with("alpha "), "{line}");
    }

    // --merge: every line, in timestamp order.
    let m = stdout(ok(&s.rcompose(&[
        "logs",
        "--merge",
        "-t",
        "--no-log-prefix",
    ])));
    let stamps: Vec<&str> = m
        .lines()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(stamps.len(), 6 * N + 1);
    let parsed: Vec<i64> = stamps
        .iter()
        .map(|t| chrono_like_nanos(t).unwrap_or_else(|| panic!("bad stamp {t}")))
        .collect();
    assert!(parsed.windows(2).all(|w| w[0] <= w[1]), "merged in order");
}

/// RFC 3339 with nanoseconds to Unix nanoseconds, for ordering checks.
fn chrono_like_nanos(t: &str) -> Option<i64> {
    let (date, time) = t.trim_end_matches('Z').split_once('T')?;
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let h: Vec<i64> = hms
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let nanos: i64 = format!("{frac:0<9}")[..9].parse().ok()?;
    let days = d[0] * 372 + d[1] * 31 + d[2];
    Some((((days * 24 + h[0]) * 60 + h[1]) * 60 + h[2]) * 1_000_000_000 + nanos)
}

#[test]
fn since_and_binary_and_long_lines() {
    let Some(docker) = engine() else { return };
    let yaml = "services:\n  w:\n    image: rcompose-test:latest\n    command: [\"sh\", \"-c\", \"echo early; sleep 3; echo late; head -c 100000 /dev/zero | tr '\\\\0' x; echo; printf 'bin\\\\001\\\\377\\\\n'\"]\n";
    let s = Stack::new(&docker, "logs-since", yaml);
    ok(&s.rcompose(&["up", "-d"]));
    std::thread::sleep(Duration::from_millis(1500));
    let cut = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    eventually(Duration::from_secs(20), "w done", || {
        s.containers().values().all(|c| c.state == "exited")
    });
    let o = ok(&s.rcompose(&["logs", "--no-log-prefix", "--since", &cut])).clone();
    let reference = ok(&s.reference(&["logs", "--no-log-prefix", "--since", &cut])).clone();
    assert!(o.stdout == reference.stdout, "same bytes as the reference");
    // The engine's json-file driver stores text: it turns the invalid byte into U+FFFD.
    let mut want = b"late\n".to_vec();
    want.extend(std::iter::repeat_n(b'x', 100_000));
    want.extend_from_slice("\nbin\x01\u{fffd}\n".as_bytes());
    assert!(
        o.stdout == want,
        "long and binary lines as the engine stored them: {} bytes, ends {:?}",
        o.stdout.len(),
        String::from_utf8_lossy(&o.stdout[o.stdout.len().saturating_sub(20)..])
    );
}

#[test]
fn a_container_restarted_during_follow_keeps_streaming() {
    let Some(docker) = engine() else { return };
    let yaml = "services:\n  r:\n    image: rcompose-test:latest\n    init: true\n    command: [\"sh\", \"-c\", \"echo boot $$(cat /proc/sys/kernel/random/uuid); trap 'exit 0' TERM; sleep 1000 & wait\"]\n";
    let s = Stack::new(&docker, "logs-follow", yaml);
    ok(&s.rcompose(&["up", "-d"]));
    let mut child = s
        .rcompose_cmd(&["logs", "-f"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn logs -f");
    std::thread::sleep(Duration::from_secs(1));
    ok(&run(Command::new("docker").args([
        "restart",
        "-t",
        "1",
        &format!("{}-r-1", s.name),
    ])));
    std::thread::sleep(Duration::from_secs(2));
    ok(&s.rcompose(&["stop", "-t", "1"]));
    // The stream ends once nothing it follows runs.
    let mut out = String::new();
    let status = wait_timeout(&mut child, Duration::from_secs(15));
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    assert!(status, "logs -f ended after the stop:\n{out}");
    let boots: Vec<&str> = out.lines().filter(|l| l.contains("| boot ")).collect();
    assert_eq!(boots.len(), 2, "each run's line exactly once:\n{out}");
    assert_ne!(boots[0], boots[1]);
    assert!(out.contains("r-1 exited with code 0"), "{out}");
}

fn wait_timeout(child: &mut std::process::Child, t: Duration) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < t {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    false
}

fn exits(spec: &[(&str, &str)]) -> String {
    let mut y = String::from("services:\n");
    for (name, script) in spec {
        y.push_str(&format!(
            "  {name}:\n    image: rcompose-test:latest\n    init: true\n    command: [\"sh\", \"-c\", \"{script}\"]\n"
        ));
    }
    y
}

const FOREVER: &str = "trap 'exit 0' TERM; sleep 1000 & wait";

#[test]
fn attached_up_exit_codes() {
    let Some(docker) = engine() else { return };
    let s = Stack::new(
        &docker,
        "abort",
        &exits(&[
            ("ok", "sleep 1; exit 0"),
            ("bad", "sleep 2; exit 3"),
            ("long", FOREVER),
        ]),
    );
    // The first container to exit decides.
    let o = s.rcompose(&["up", "--abort-on-container-exit", "-t", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("Aborting on container exit..."));
    assert!(s.containers().values().all(|c| c.state == "exited"));
    // Only a failure aborts.
    let o = s.rcompose(&["up", "--abort-on-container-failure", "-t", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stdout(&o).contains("ok-1 exited with code 0"));
    assert!(stdout(&o).contains("bad-1 exited with code 3"));
    // The named service's code: stopped by the abort (SIGTERM), it is 143.
    let o = s.rcompose(&["up", "--exit-code-from", "bad", "-t", "1"]);
    assert_eq!(
        o.status.code(),
        Some(143),
        "ok exited first, then bad was stopped"
    );
    s.write(&exits(&[("bad", "sleep 1; exit 5"), ("long", FOREVER)]));
    let o = s.rcompose(&[
        "up",
        "--exit-code-from",
        "bad",
        "-t",
        "1",
        "--remove-orphans",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", stdout(&o));
    // Killed: 137.
    s.write(&exits(&[
        ("victim", FOREVER),
        ("killer", "sleep 1; exit 0"),
    ]));
    let victim = format!("{}-victim-1", s.name);
    let mut child = s
        .rcompose_cmd(&["up", "--exit-code-from", "victim", "--remove-orphans"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    eventually(Duration::from_secs(20), "victim running", || {
        s.containers()
            .get(&victim)
            .is_some_and(|c| c.state == "running")
    });
    ok(&run(Command::new("docker").args(["kill", &victim])));
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(137));

    // stdout and stderr of attached containers keep their streams.
    s.write(&exits(&[("talk", "echo to-out; echo to-err >&2")]));
    let o = s.rcompose(&["up", "--remove-orphans"]);
    assert!(stdout(&o).contains("talk-1  | to-out"), "{}", stdout(&o));
    assert!(stderr(&o).contains("talk-1  | to-err"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("to-err"));
}

#[test]
fn sigint_stops_the_stack_and_exits_130() {
    let Some(docker) = engine() else { return };
    let s = Stack::new(&docker, "sigint", &exits(&[("a", FOREVER), ("b", FOREVER)]));
    let mut child = s
        .rcompose_cmd(&["up"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    eventually(Duration::from_secs(20), "both running", || {
        let cs = s.containers();
        cs.len() == 2 && cs.values().all(|c| c.state == "running")
    });
    std::thread::sleep(Duration::from_millis(500));
    ok(&run(
        Command::new("kill").args(["-INT", &child.id().to_string()])
    ));
    assert!(
        wait_timeout(&mut child, Duration::from_secs(20)),
        "up returned"
    );
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    assert!(
        err.contains("Gracefully Stopping... press Ctrl+C again to force"),
        "{err}"
    );
    assert!(s.containers().values().all(|c| c.state == "exited"));
}

#[test]
fn events_json_reports_the_lifecycle() {
    let Some(docker) = engine() else { return };
    let s = Stack::new(&docker, "events", &exits(&[("e", "exit 4")]));
    let mut child = s
        .rcompose_cmd(&["events", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn events");
    std::thread::sleep(Duration::from_millis(700));
    ok(&s.rcompose(&["up", "-d"]));
    eventually(Duration::from_secs(10), "e exited", || {
        s.containers().values().all(|c| c.state == "exited")
    });
    ok(&s.rcompose(&["down"]));
    std::thread::sleep(Duration::from_millis(700));
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    for a in ["create", "start", "die", "destroy"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let die = events.iter().find(|e| e["action"] == "die").expect("die");
    assert_eq!(die["service"], "e");
    assert_eq!(die["type"], "container");
    assert_eq!(die["attributes"]["exitCode"], "4");
    assert_eq!(
        die["attributes"]["name"],
        format!("{}-e-1", s.name).as_str()
    );
}

#[test]
fn log_files_read_directly_give_what_the_engine_api_gives() {
    let Some(docker) = engine() else { return };
    let yaml = "services:\n  out:\n    image: rcompose-test:latest\n    command: [\"sh\", \"-c\", \"for i in $(seq 1 300); do echo out-$$i; echo err-$$i >&2; done; printf no-newline-end\"]\n  tty:\n    image: rcompose-test:latest\n    tty: true\n    command: [\"sh\", \"-c\", \"for i in $(seq 1 20); do echo tty-$$i; done\"]\n  long:\n    image: rcompose-test:latest\n    command: [\"sh\", \"-c\", \"head -c 40000 /dev/zero | tr '\\\\0' x; echo; printf '\\\\377\\\\376 binary\\\\n'\"]\n";
    let s = Stack::new(&docker, "logfile", yaml);
    ok(&s.rcompose(&["up", "-d"]));
    eventually(Duration::from_secs(20), "all exited", || {
        let c = s.containers();
        c.len() == 3 && c.values().all(|c| c.state == "exited")
    });
    let log_path = s
        .inspect(&format!("{}-out-1", s.name))
        .log_path
        .unwrap_or_default();
    assert!(
        std::fs::File::open(&log_path).is_ok(),
        "the test runs where the engine's log files are readable: {log_path}"
    );
    for svc in ["out", "tty", "long"] {
        for flags in [
            vec![],
            vec!["-t"],
            vec!["--tail", "5"],
            vec!["--tail", "0"],
            vec!["--no-log-prefix"],
            vec!["--since", "1h"],
            vec!["--until", "2030-01-01T00:00:00Z"],
            vec!["--until", "2000-01-01T00:00:00Z"],
        ] {
            let mut args = vec!["logs"];
            args.extend(flags.iter().copied());
            args.push(svc);
            let file = ok(&run(&mut s.rcompose_cmd(&args))).stdout.clone();
            let api = ok(&run(s.rcompose_cmd(&args).env("RCOMPOSE_LOGS_API", "1")))
                .stdout
                .clone();
            assert_eq!(
                String::from_utf8_lossy(&file),
                String::from_utf8_lossy(&api),
                "{args:?}"
            );
            let empty = flags.contains(&"0") || flags.contains(&"2000-01-01T00:00:00Z");
            assert_eq!(file.is_empty(), empty, "{args:?}");
        }
    }
}
