//! Interop with the reference through the config hash: a stack brought up by `docker compose`
//! and then by rcompose (and the other way round) keeps every container, and `config --hash '*'`
//! prints the reference's lines. The fixture (`testdata/interop_hash`) has several shapes of
//! services: env files, `$$`, HTML characters, secrets, configs, bind/volume/tmpfs mounts,
//! networks with aliases, ports, healthcheck, deploy limits, ulimits, scale, extensions.

use std::collections::BTreeMap;
use std::path::Path;

use crate::harness::*;

fn fixture(stack: &Stack) {
    fn copy(from: &Path, to: &Path) {
        for e in std::fs::read_dir(from).expect("read testdata") {
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
    copy(
        &root().join("tests/e2e/testdata/interop_hash"),
        stack.path(),
    );
}

/// Container name to (id, config-hash label).
fn state(stack: &Stack) -> BTreeMap<String, (String, String)> {
    stack
        .containers()
        .into_iter()
        .map(|(name, c)| {
            let hash = c
                .labels
                .get("com.docker.compose.config-hash")
                .cloned()
                .unwrap_or_default();
            (name, (c.id, hash))
        })
        .collect()
}

/// `service hash` per line, from the labels of the running containers (one per service).
fn label_hashes(stack: &Stack) -> Vec<String> {
    let mut lines: Vec<String> = stack
        .containers()
        .into_values()
        .map(|c| {
            format!(
                "{} {}",
                c.labels
                    .get("com.docker.compose.service")
                    .cloned()
                    .unwrap_or_default(),
                c.labels
                    .get("com.docker.compose.config-hash")
                    .cloned()
                    .unwrap_or_default()
            )
        })
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

#[test]
fn interop_hash_config_hash_equals_reference() {
    if !reference_available() {
        return;
    }
    let Some(docker) = engine() else { return };
    let stack = Stack::new(&docker, "interop_hash_config", "");
    fixture(&stack);
    let mine = stack.rcompose(&["config", "--hash", "*"]);
    let theirs = stack.reference(&["config", "--hash", "*"]);
    assert_eq!(stdout(ok(&mine)), stdout(ok(&theirs)));
    assert_eq!(stdout(&mine).lines().count(), 6, "{}", stdout(&mine));
}

#[test]
fn interop_hash_reference_then_rcompose_keeps_containers() {
    let Some(docker) = engine() else { return };
    if !reference_available() {
        return;
    }
    let stack = Stack::new(&docker, "interop_hash_ref_first", "");
    fixture(&stack);
    ok(&stack.reference(&["up", "-d"]));
    let before = state(&stack);
    assert_eq!(before.len(), 7, "{before:?}");
    // The label the reference writes at `up` is its `config --hash`, which is rcompose's.
    let printed = stdout(ok(&stack.rcompose(&["config", "--hash", "*"])));
    let printed: Vec<String> = printed.lines().map(str::to_string).collect();
    assert_eq!(label_hashes(&stack), printed);
    ok(&stack.rcompose(&["up", "-d"]));
    assert_eq!(state(&stack), before, "rcompose recreated containers");
}

#[test]
fn interop_hash_rcompose_then_reference_keeps_containers() {
    let Some(docker) = engine() else { return };
    if !reference_available() {
        return;
    }
    let stack = Stack::new(&docker, "interop_hash_rc_first", "");
    fixture(&stack);
    ok(&stack.rcompose(&["up", "-d"]));
    let before = state(&stack);
    assert_eq!(before.len(), 7, "{before:?}");
    let printed = stdout(ok(&stack.reference(&["config", "--hash", "*"])));
    let printed: Vec<String> = printed.lines().map(str::to_string).collect();
    assert_eq!(label_hashes(&stack), printed);
    ok(&stack.reference(&["up", "-d"]));
    assert_eq!(state(&stack), before, "the reference recreated containers");
}
