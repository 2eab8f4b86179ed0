//! Behaviour the reference has, seen the way scripts see it: the `Running` lines of an `up`
//! with nothing to do, `down` beside a one-off container, a dependency that fails.

use crate::harness::*;

/// The lines of `text` that are about `what`, sorted (parallel steps may come in any order).
fn lines_about(text: &str, what: &str) -> Vec<String> {
    let mut l: Vec<String> = text
        .lines()
        .filter(|l| l.contains(what))
        .map(str::to_string)
        .collect();
    l.sort();
    l
}

fn a_second_up_says_running_as_the_reference_does() {
    let docker = docker();
    let s = Stack::fixture(&docker, "a_second_up_says_running_as_the_reference_does");
    ok(&s.rcompose(&["up", "-d"]));
    let ids = s.ids();
    let ours = ok(&s.rcompose(&["--progress", "plain", "up", "-d"])).clone();
    let theirs = ok(&s.reference(&["--progress", "plain", "up", "-d"])).clone();
    assert_eq!(s.ids(), ids, "nothing is recreated");
    let want = vec![
        format!(" Container {}-a-1  Running", s.name),
        format!(" Container {}-b-1  Running", s.name),
    ];
    assert_eq!(lines_about(&stderr(&theirs), "Container"), want);
    assert_eq!(lines_about(&stderr(&ours), "Container"), want);
}

fn down_leaves_a_network_a_run_container_still_uses() {
    let docker = docker();
    let s = Stack::fixture(&docker, "down_leaves_a_network_a_run_container_still_uses");
    ok(&s.rcompose(&["up", "-d"]));
    ok(&s.rcompose(&["run", "-d", "a", "sleep", "600"]));
    let out = s.rcompose(&["--progress", "plain", "down"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let net = format!("{}_default", s.name);
    assert!(
        stderr(&out).contains(&format!(" Network {net}  Resource is still in use")),
        "{}",
        stderr(&out)
    );
    let left: Vec<String> = s.containers().into_keys().collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0].starts_with(&format!("{}-a-run-", s.name)),
        "{left:?}"
    );
    assert_eq!(
        s.networks(),
        vec![net],
        "the network stays for the run container"
    );
    // With the one-off container gone, a second `down` removes the network.
    ok(&s.rcompose(&["down", "--remove-orphans"]));
    assert!(s.networks().is_empty());
}

fn a_dependency_that_exits_fails_up_with_the_references_words() {
    let docker = docker();
    let s = Stack::fixture(
        &docker,
        "a_dependency_that_exits_fails_up_with_the_references_words",
    );
    let out = s.rcompose(&["--progress", "plain", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let db = format!("{}-db-1", s.name);
    assert!(err.contains(&format!(" Container {db}  Error\n")), "{err}");
    assert!(
        err.contains(&format!(
            "dependency failed to start: container {db} exited (3)"
        )),
        "{err}"
    );
    // The dependent was created and never started.
    let web = s.inspect(&format!("{}-web-1", s.name));
    assert_eq!(
        web.state.and_then(|st| st.status).map(|st| st.to_string()),
        Some("created".to_string())
    );
}

/// The engine's view of the project: container ids and states, networks, volumes.
fn state(s: &Stack) -> String {
    let mut c: Vec<String> = s
        .containers()
        .into_iter()
        .map(|(n, c)| format!("{n} {} {}", c.id, c.state))
        .collect();
    c.sort();
    format!("{c:?} {:?} {:?}", s.networks(), s.volumes())
}

fn dry_run_changes_nothing() {
    let docker = docker();
    let s = Stack::fixture(&docker, "dry_run_changes_nothing");
    // On an empty project: `up` says what it would create, and creates nothing.
    let out = ok(&s.rcompose(&["--dry-run", "--progress", "plain", "up", "-d"])).clone();
    assert!(
        stderr(&out).contains(&format!(
            " DRY-RUN MODE -  Container {}-web-1  Created",
            s.name
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(state(&s), "[] [] []");
    ok(&s.rcompose(&["up", "-d", "--wait"]));
    let before = state(&s);
    let dest = s.path().join("copied");
    let dest = dest.to_str().unwrap_or_default().to_string();
    for verb in [
        vec!["up", "-d", "--force-recreate"],
        vec!["stop"],
        vec!["restart"],
        vec!["kill"],
        vec!["pause"],
        vec!["rm", "-fs"],
        vec!["down", "-v"],
        vec!["run", "-d", "web", "true"],
        vec!["exec", "-d", "web", "touch", "/data/x"],
        vec!["cp", "web:/etc/hostname", &dest],
        vec!["cp", "compose.yaml", "web:/data/copied"],
    ] {
        let mut args = vec!["--dry-run", "--progress", "plain"];
        args.extend(&verb);
        let out = s.rcompose(&args);
        assert_eq!(out.status.code(), Some(0), "{verb:?}: {}", stderr(&out));
        if verb[0] != "exec" && verb[0] != "rm" {
            assert!(
                stderr(&out)
                    .lines()
                    .all(|l| l.starts_with(" DRY-RUN MODE - ")),
                "{verb:?}: {}",
                stderr(&out)
            );
        }
        assert_eq!(state(&s), before, "{verb:?} changed the engine");
    }
    assert!(!s.path().join("copied").exists(), "cp wrote a file");
    let web = format!("{}-web-1", s.name);
    let ls = s.exec(&web, &["ls", "/data"]);
    assert_eq!(stdout(&ls), "", "the container's files changed");
    // Interactive `exec` and `run` refuse, as the reference does.
    for (verb, word) in [
        (vec!["exec", "web", "true"], "exec"),
        (vec!["run", "web", "true"], "run"),
    ] {
        let mut args = vec!["--dry-run"];
        args.extend(&verb);
        let out = s.rcompose(&args);
        assert_eq!(out.status.code(), Some(1), "{verb:?}");
        assert!(
            stderr(&out).contains(&format!(
                "interactive {word} is not supported in dry-run mode"
            )),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(state(&s), before);
}

fn tables_match_the_reference_byte_for_byte() {
    let docker = docker();
    let s = Stack::fixture(&docker, "tables_match_the_reference_byte_for_byte");
    ok(&s.rcompose(&["up", "-d"]));
    let filter = format!("name={}", s.name);
    for args in [
        vec!["ps"],
        vec!["ps", "-a"],
        vec!["images"],
        vec!["top"],
        vec!["ls", "--filter", &filter],
        vec![
            "ps",
            "--format",
            "table {{.Name}}\t{{.Service}}\t{{.Ports}}",
        ],
    ] {
        // Times in words may tick between the two commands, and `top`'s C column (CPU time over
        // the process's life, in percent) falls from 2 to 0 in the first seconds: a few tries,
        // a second apart.
        let mut last = (String::new(), String::new());
        for i in 0..8 {
            if i > 0 {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
            last = (
                stdout(ok(&s.rcompose(&args))),
                stdout(ok(&s.reference(&args))),
            );
            if last.0 == last.1 {
                break;
            }
        }
        let (mine, theirs) = &last;
        assert_eq!(mine, theirs, "{args:?}");
    }
}

/// The entries of a tar archive.
fn tar_entries(tar: &[u8]) -> Vec<String> {
    let mut child = std::process::Command::new("tar")
        .arg("t")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("tar");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(tar)
        .expect("write tar");
    let out = child.wait_with_output().expect("tar t");
    stdout(&out).lines().map(str::to_string).collect()
}

fn the_commands_other_tools_reach_for() {
    let docker = docker();
    let s = Stack::fixture(&docker, "the_commands_other_tools_reach_for");
    ok(&s.rcompose(&["up", "-d", "app"]));
    let app = format!("{}-app-1", s.name);
    eventually(
        std::time::Duration::from_secs(10),
        "app wrote /state",
        || s.exec(&app, &["cat", "/state"]).status.success(),
    );

    // stats --no-stream: docker's columns, one row per running container.
    let out = ok(&s.rcompose(&["stats", "--no-stream", "--format", "json"])).clone();
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(rows.len(), 1, "{}", stdout(&out));
    assert_eq!(rows[0]["Name"], app.as_str());
    assert!(rows[0]["MemUsage"].as_str().unwrap_or("").contains(" / "));
    let table = stdout(ok(&s.rcompose(&["stats", "--no-stream"])));
    let theirs = stdout(ok(&s.reference(&["stats", "--no-stream"])));
    // Column widths follow the values, which move; the columns must be the reference's.
    let columns = |t: &str| -> Vec<String> {
        t.lines()
            .next()
            .unwrap_or("")
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    assert_eq!(columns(&table), columns(&theirs), "{table}\n{theirs}");
    assert_eq!(table.lines().count(), theirs.lines().count());

    // export: the container's filesystem, to a file or to standard output.
    let file = s.path().join("fs.tar");
    ok(&s.rcompose(&["export", "-o", file.to_str().unwrap_or_default(), "app"]));
    let entries = tar_entries(&std::fs::read(&file).expect("fs.tar"));
    assert!(entries.iter().any(|e| e == "state"), "{entries:?}");
    let piped = ok(&s.rcompose(&["export", "app"])).stdout.clone();
    assert!(tar_entries(&piped).iter().any(|e| e == "state"));

    // commit: an image holding the container's changes.
    let image = format!("{}-committed:v1", s.name);
    ok(&s.rcompose(&["commit", "-m", "from e2e", "app", &image]));
    let inspect = run(std::process::Command::new("docker").args([
        "image",
        "inspect",
        "--format",
        "{{.Comment}}",
        &image,
    ]));
    let _ = run(std::process::Command::new("docker").args(["rmi", &image]));
    assert_eq!(stdout(ok(&inspect)).trim(), "from e2e");

    // cp with `-`: tar streams both ways.
    let tar = ok(&s.rcompose(&["cp", "app:/state", "-"])).stdout.clone();
    assert_eq!(tar_entries(&tar), ["state"]);
    let mut cp_in = s.rcompose_cmd(&["cp", "-", "app:/tmp"]);
    cp_in.stdin(std::process::Stdio::piped());
    let mut child = cp_in.spawn().expect("cp -");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&tar).expect("write tar");
    }
    ok(&child.wait_with_output().expect("cp -"));
    assert_eq!(stdout(ok(&s.exec(&app, &["cat", "/tmp/state"]))), "ready\n");

    // scale: more containers of one service, the others untouched.
    ok(&s.rcompose(&["scale", "--no-deps", "app=2"]));
    let names: Vec<String> = s.containers().into_keys().collect();
    assert!(names.contains(&format!("{}-app-2", s.name)), "{names:?}");
    assert_eq!(names.len(), 2, "{names:?}");

    // attach: the output of a running container until it exits, with its exit code.
    ok(&s.rcompose(&["up", "-d", "talker"]));
    let out = s.rcompose(&["attach", "--no-stdin", "talker"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(stdout(&out), "one\n");
    assert_eq!(stderr(&out), "two\n");

    // push: a clear error when no registry answers; publish and bridge are not supported.
    let out = s.rcompose(&["push", "built"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pushing image `127.0.0.1:1/rcompose-e2e-push:never` failed"),
        "{}",
        stderr(&out)
    );
    for verb in ["publish", "bridge"] {
        let out = s.rcompose(&[verb, "x"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("not supported"), "{}", stderr(&out));
    }
}

fn status_output_as_the_reference_writes_it() {
    let docker = docker();
    let s = Stack::fixture(&docker, "status_output_as_the_reference_writes_it");
    // `--progress json`: the reference's objects, the same set of lines.
    let sorted = |t: &str| {
        let mut l: Vec<String> = t
            .lines()
            .filter(|l| l.starts_with("{\"id\""))
            .map(str::to_string)
            .collect();
        l.sort();
        l
    };
    let ours = ok(&s.rcompose(&["--progress", "json", "up", "-d"])).clone();
    ok(&s.rcompose(&["down"]));
    let theirs = ok(&s.reference(&["--progress", "json", "up", "-d"])).clone();
    assert_eq!(sorted(&stderr(&ours)), sorted(&stderr(&theirs)));
    assert_eq!(sorted(&stderr(&ours)).len(), 6, "{}", stderr(&ours));
    // Warnings as the reference's logger writes them: JSON objects with `--progress json`,
    // the same but for the time...
    let json_warning = |t: &str| -> Option<serde_json::Value> {
        let line = t
            .lines()
            .find(|l| l.starts_with("{\"level\":\"warning\""))?;
        let mut v: serde_json::Value = serde_json::from_str(line).ok()?;
        v.as_object_mut()?.remove("time")?;
        Some(v)
    };
    let mine = json_warning(&stderr(&ours));
    assert!(mine.is_some(), "{}", stderr(&ours));
    assert_eq!(mine, json_warning(&stderr(&theirs)));
    // ...and logfmt off a terminal.
    ok(&s.rcompose(&["down"]));
    let ours = ok(&s.rcompose(&["up", "-d"])).clone();
    let warning = stderr(&ours)
        .lines()
        .find(|l| l.contains("level=warning"))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(warning.starts_with("time=\""), "{}", stderr(&ours));
    assert!(warning.contains(" level=warning msg=\""), "{warning}");
    assert!(warning.contains("`version` is obsolete"), "{warning}");
    // COMPOSE_STATUS_STDOUT moves the progress lines to standard output.
    let out = ok(&run(s
        .rcompose_cmd(&["--progress", "plain", "down"])
        .env("COMPOSE_STATUS_STDOUT", "1")))
    .clone();
    assert!(
        stdout(&out).contains(&format!(" Container {}-a-1  Removed", s.name)),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("Removed"), "{}", stderr(&out));
}

cases! {
    engine: down_leaves_a_network_a_run_container_still_uses,
        dry_run_changes_nothing,
        a_dependency_that_exits_fails_up_with_the_references_words;
    reference: a_second_up_says_running_as_the_reference_does,
        status_output_as_the_reference_writes_it,
        the_commands_other_tools_reach_for,
        tables_match_the_reference_byte_for_byte;
}
