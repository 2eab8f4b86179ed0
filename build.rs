//! Lays out the release binary's hot code first (the functions in `scripts/hot-code.txt`), so a
//! command maps a few hundred pages of code rather than most of the file: the kernel maps code
//! 64 KiB around each page touched. Only where the linker is rustc's default `lld` (x86-64 Linux,
//! Rust 1.90 and later); elsewhere, or with `RCOMPOSE_NO_CODE_ORDER=1`, the link is the default one.
//! A stale list costs memory, never correctness: names the binary lacks are ignored. With glibc
//! 2.36 or later, relative relocations are packed (RELR), which the loader reads at start.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=scripts/hot-code.txt");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RCOMPOSE_NO_CODE_ORDER");
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let target = env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let off = env::var("RCOMPOSE_NO_CODE_ORDER").is_ok_and(|v| !v.is_empty() && v != "0");
    // A linker chosen in the flags may not be lld.
    let own_linker = env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|f| f.contains("link"));
    if !release || !target || off || own_linker || !lld_is_default() {
        return;
    }
    let Ok(dir) = env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={dir}/scripts/hot-code.txt");
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    // Packed relative relocations: the loader reads a few KiB at start instead of ~400 KiB of
    // `.rela.dyn`. The binary then needs glibc 2.36 or later, as the one it is built on.
    if glibc_at_least(2, 36) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's glibc is at least `major.minor` (`getconf GNU_LIBC_VERSION`).
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().nth(1).unwrap_or_default();
    at_least(version, major, minor)
}

/// Whether a `major.minor[.patch]` version string is at least `major.minor`.
fn at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
}

/// Whether this rustc links x86-64 Linux with its own lld by default (1.90 and later).
fn lld_is_default() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("-V").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    at_least(text.split_whitespace().nth(1).unwrap_or_default(), 1, 90)
}
