//! Interop with the reference through the config hash: a stack brought up by `docker compose`
//! and then by rcompose (and the other way round) keeps every container, and `config --hash '*'`
//! prints the reference's lines. The fixture (`testdata/interop_hash`) has several shapes of
//! services: env files, `$$`, HTML characters, secrets, configs, bind/volume/tmpfs mounts,
//! networks with aliases, ports, healthcheck, deploy limits, ulimits, scale, extensions.
//! (The reference's `config --hash` reads no env file while its `up` does, so for a service with
//! `env_file` the label and `config --hash` differ, in both tools alike.)

use std::collections::BTreeMap;

use crate::harness::*;

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

fn interop_hash() {
    let docker = docker();

    // `config --hash '*'`, line for line.
    let stack = Stack::fixture(&docker, "interop_hash_config");
    let mine = stack.rcompose(&["config", "--hash", "*"]);
    let theirs = stack.reference(&["config", "--hash", "*"]);
    assert_eq!(stdout(ok(&mine)), stdout(ok(&theirs)));
    assert_eq!(stdout(&mine).lines().count(), 6, "{}", stdout(&mine));
    drop(stack);

    // The reference first: rcompose computes the labels it wrote and keeps every container.
    let stack = Stack::fixture(&docker, "interop_hash_ref_first");
    ok(&stack.reference(&["up", "-d"]));
    let before = state(&stack);
    assert_eq!(before.len(), 7, "{before:?}");
    ok(&stack.rcompose(&["up", "-d"]));
    assert_eq!(state(&stack), before, "rcompose recreated containers");
    drop(stack);

    // rcompose first: the reference keeps every container.
    let stack = Stack::fixture(&docker, "interop_hash_rc_first");
    ok(&stack.rcompose(&["up", "-d"]));
    let before = state(&stack);
    assert_eq!(before.len(), 7, "{before:?}");
    ok(&stack.reference(&["up", "-d"]));
    assert_eq!(state(&stack), before, "the reference recreated containers");
}

cases! {
    reference: interop_hash;
}
