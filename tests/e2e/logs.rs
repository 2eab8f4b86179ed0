//! `logs` and attached `up` on the real engine: every line once, unmodified, with its prefix and
//! on the right stream; tail, since and timestamps as the reference; joiners while following;
//! the exit codes of the abort flags and of Ctrl-C.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::*;

const N: usize = 2000;

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

fn logs_prints_every_line_once_with_its_prefix_on_stdout() {
    let docker = docker();
    let s = Stack::fixture(&docker, "logs-all");
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

fn since_and_binary_and_long_lines() {
    let docker = docker();
    let s = Stack::fixture(&docker, "logs-since");
    ok(&s.rcompose(&["up", "-d"]));
    // The cut: the first whole second after `early` was logged (`late` comes 3 s after it).
    eventually(Duration::from_secs(20), "early logged", || {
        stdout(&s.rcompose(&["logs"])).contains("early")
    });
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let cut = now() + 1;
    eventually(Duration::from_secs(3), "the next second", || now() >= cut);
    let cut = cut.to_string();
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

fn a_container_restarted_during_follow_keeps_streaming() {
    let docker = docker();
    let s = Stack::fixture(&docker, "logs-follow");
    ok(&s.rcompose(&["up", "-d"]));
    let mut child = s
        .rcompose_cmd(&["logs", "-f"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn logs -f");
    let follow = Reader::new(child.stdout.take().expect("stdout"));
    let followed = &follow;
    let boots = |n: usize| move || follow_boots(followed) == n;
    eventually(
        Duration::from_secs(10),
        "the first boot line followed",
        boots(1),
    );
    ok(&run(Command::new("docker").args([
        "restart",
        "-t",
        "1",
        &format!("{}-r-1", s.name),
    ])));
    eventually(
        Duration::from_secs(20),
        "the second boot line followed",
        boots(2),
    );
    ok(&s.rcompose(&["stop", "-t", "1"]));
    // The stream ends once nothing it follows runs.
    let status = wait_timeout(&mut child, Duration::from_secs(30));
    let out = follow.finish();
    assert!(status, "logs -f ended after the stop:\n{out}");
    let boots: Vec<&str> = out.lines().filter(|l| l.contains("| boot ")).collect();
    assert_eq!(boots.len(), 2, "each run's line exactly once:\n{out}");
    assert_ne!(boots[0], boots[1]);
    assert!(out.contains("r-1 exited with code 0"), "{out}");
}

/// How many `boot` lines a `logs -f` printed so far.
fn follow_boots(r: &Reader) -> usize {
    r.text().lines().filter(|l| l.contains("| boot ")).count()
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

fn attached_up_exit_codes() {
    let docker = docker();
    let s = Stack::fixture(&docker, "abort");
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
    s.use_file("bad-exits-5.yaml");
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
    s.use_file("victim-killed.yaml");
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
    s.use_file("talk.yaml");
    let o = s.rcompose(&["up", "--remove-orphans"]);
    assert!(stdout(&o).contains("talk-1  | to-out"), "{}", stdout(&o));
    assert!(stderr(&o).contains("talk-1  | to-err"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("to-err"));
}

fn sigint_stops_the_stack_and_exits_130() {
    let docker = docker();
    let s = Stack::fixture(&docker, "sigint");
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
    let attached = Reader::new(child.stdout.take().expect("stdout"));
    eventually(Duration::from_secs(10), "up attached", || {
        attached.text().contains("Attaching to")
    });
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

fn events_json_reports_the_lifecycle() {
    let docker = docker();
    let s = Stack::fixture(&docker, "events");
    let mut child = s
        .rcompose_cmd(&["events", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn events");
    let events = Reader::new(child.stdout.take().expect("stdout"));
    // Subscribed once a probe container of the project shows in the stream.
    let probe = format!("{}-probe", s.name);
    eventually(Duration::from_secs(10), "events subscribed", || {
        ok(&run(Command::new("docker").args([
            "create",
            "--name",
            &probe,
            "--label",
            &format!("{PROJECT_LABEL}={}", s.name),
            "--label",
            "com.docker.compose.service=probe",
            IMAGE,
        ])));
        ok(&run(Command::new("docker").args(["rm", &probe])));
        std::thread::sleep(Duration::from_millis(100));
        events.text().contains(&probe)
    });
    ok(&s.rcompose(&["up", "-d"]));
    eventually(Duration::from_secs(10), "e exited", || {
        s.containers().values().all(|c| c.state == "exited")
    });
    ok(&s.rcompose(&["down"]));
    let destroyed = format!("{}-e-1", s.name);
    eventually(Duration::from_secs(10), "e destroyed", || {
        events
            .text()
            .lines()
            .any(|l| l.contains("\"destroy\"") && l.contains(&destroyed))
    });
    let _ = child.kill();
    let _ = child.wait();
    let events: Vec<serde_json::Value> = events
        .finish()
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

fn log_files_read_directly_give_what_the_engine_api_gives() {
    let docker = docker();
    let s = Stack::fixture(&docker, "logfile");
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

cases! {
    engine:
        a_container_restarted_during_follow_keeps_streaming,
        attached_up_exit_codes,
        sigint_stops_the_stack_and_exits_130,
        events_json_reports_the_lifecycle,
        log_files_read_directly_give_what_the_engine_api_gives;
    reference:
        logs_prints_every_line_once_with_its_prefix_on_stdout,
        since_and_binary_and_long_lines;
}
