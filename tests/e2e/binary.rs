//! The release binary itself: its everyday code laid out first (`build.rs` hands lld
//! `scripts/hot-code.txt`), so that a command maps few pages of code. A list gone stale (new
//! dependencies or toolchain: other symbol names) fails here, with what to run.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use crate::harness::{bin, cases, run};

/// The binary's function symbols, by address.
fn functions(binary: &Path) -> Vec<(u64, String)> {
    let out = run(Command::new("nm").arg(binary));
    assert!(out.status.success(), "nm failed: {:?}", out);
    let mut all: Vec<(u64, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (at, kind, name) = (w.next()?, w.next()?, w.next()?);
            if !matches!(kind, "t" | "T" | "w" | "W") {
                return None;
            }
            Some((u64::from_str_radix(at, 16).ok()?, name.to_string()))
        })
        .collect();
    all.sort();
    all
}

fn release_binary_lays_out_its_hot_code_first() {
    let list_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/hot-code.txt");
    let list: Vec<String> = std::fs::read_to_string(&list_path)
        .expect("scripts/hot-code.txt")
        .lines()
        .map(str::to_string)
        .collect();
    let all = functions(&bin());
    let names: HashSet<&str> = all.iter().map(|(_, n)| n.as_str()).collect();
    let present: HashSet<&str> = list
        .iter()
        .map(String::as_str)
        .filter(|n| names.contains(n))
        .collect();
    // The lowest addresses of the binary's code, room for the list and half again (functions
    // the compiler merged share a place; an unordered binary has a sixth of the list there).
    let first: HashSet<&str> = all
        .iter()
        .take(present.len() * 3 / 2)
        .map(|(_, n)| n.as_str())
        .collect();
    let leading = present.iter().filter(|n| first.contains(*n)).count();
    if cfg!(debug_assertions) {
        // build.rs orders the release link only.
        assert!(
            leading * 2 < present.len().max(1),
            "a debug binary laid out by the list"
        );
        return;
    }
    assert!(
        present.len() * 10 >= list.len() * 9,
        "scripts/hot-code.txt is stale: {} of its {} functions are in the binary; run \
         scripts/hot-code.py and rebuild",
        present.len(),
        list.len()
    );
    assert!(
        leading * 100 >= present.len() * 95,
        "the hot code is not laid out first ({leading} of {} at the start of .text): is the \
         linker lld, and did build.rs pass the list?",
        present.len()
    );
}

cases! {
    offline: release_binary_lays_out_its_hot_code_first;
}
