//! Interop with the reference through the config hash: a stack brought up by `docker compose`
//! and then by rcompose (and the other way round) keeps every container, and `config --hash '*'`
//! prints the reference's lines. (The reference's `config --hash` reads no env file while its `up`
//! does, so for a service with `env_file` the label and `config --hash` differ in both tools.) The fixture (`testdata/interop_hash`) has several shapes of
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
    // rcompose computes the label the reference wrote, so it keeps every container.
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
    ok(&stack.reference(&["up", "-d"]));
    assert_eq!(state(&stack), before, "the reference recreated containers");
}
