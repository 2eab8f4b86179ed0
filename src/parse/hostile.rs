//! Hostile input (issue 19): every input is rejected or loaded with work and stack linear in its
//! size, nesting bounded, error lines cut to a readable width; named files that are not regular
//! files are read (FIFO, `/dev/fd/N`) or named for what they are. Timings are not asserted here:
//! `bench/hostile.py` measures them against the reference.

use super::{load, LoadError, LoadOptions};

/// Loads `text` as `compose.yaml` of a fresh folder.
fn load_text(text: &str) -> Result<super::Loaded, LoadError> {
    let work = tempfile::tempdir().expect("tempdir");
    let file = work.path().join("compose.yaml");
    std::fs::write(&file, text).expect("write");
    load(&LoadOptions {
        files: vec![file.display().to_string()],
        project_name: Some("hostile".into()),
        cwd: work.path().to_path_buf(),
        ..Default::default()
    })
}

/// The error of loading `text`, rendered, with every line checked to be readable.
fn rejected(text: &str) -> String {
    let err = match load_text(text) {
        Ok(_) => panic!("loaded a hostile input"),
        Err(e) => e.to_string(),
    };
    for line in err.lines() {
        assert!(
            line.chars().count() <= 200,
            "unreadable error line: {line:.300}"
        );
    }
    err
}

#[test]
fn deeply_nested_interpolation_is_rejected_without_recursing() {
    let n = 30_000;
    let text = format!(
        "services:\n  a:\n    image: \"{}x{}\"\n",
        "${A:-".repeat(n),
        "}".repeat(n)
    );
    let err = rejected(&text);
    assert!(err.contains("nested more than 64 levels"), "{err}");
    assert!(err.contains("services.a.image"), "{err}");
}

#[test]
fn interpolation_nested_within_the_limit_still_expands() {
    let n = super::interpolate::MAX_NESTING;
    let text = format!(
        "services:\n  a:\n    image: \"{}x{}\"\n",
        "${UNSET_HOSTILE:-".repeat(n),
        "}".repeat(n)
    );
    let loaded = load_text(&text).expect("within the limit");
    assert_eq!(loaded.project.services["a"].image.as_deref(), Some("x"));
}

#[test]
fn deeply_nested_flow_collections_are_rejected_with_a_short_line() {
    for text in [
        format!("services:\n  a:\n    image: {}\n", "[".repeat(100_000)),
        format!(
            "services:\n  a:\n    image: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
        format!("services:\n  a: {}\n", "{a: ".repeat(20_000)),
    ] {
        let err = rejected(&text);
        assert!(err.contains("compose.yaml:"), "{err:.500}");
        assert!(err.contains("exceeded max depth of 10000"), "{err:.500}");
    }
    // Within the limit, the parser decides (here: not a string).
    let text = format!(
        "services:\n  a:\n    image: {}{}\n",
        "[".repeat(50),
        "]".repeat(50)
    );
    assert!(!rejected(&text).contains("max depth"));
}

#[test]
fn many_services_load() {
    let mut text = String::from("services:\n");
    for i in 0..20_000 {
        text.push_str(&format!("  s{i}:\n    image: x\n"));
        if i > 0 {
            text.push_str(&format!("    depends_on: [s{}]\n", i - 1));
        }
    }
    let loaded = load_text(&text).expect("a long dependency chain loads");
    assert_eq!(loaded.project.services.len(), 20_000);
}

#[test]
fn a_long_dependency_cycle_is_found() {
    let n = 20_000;
    let mut text = String::from("services:\n");
    for i in 0..n {
        text.push_str(&format!(
            "  s{i}:\n    image: x\n    depends_on: [s{}]\n",
            (i + 1) % n
        ));
    }
    let err = rejected(&text);
    assert!(
        err.contains("dependency cycle: s0 -> s1 -> s2"),
        "{err:.300}"
    );
}

const SMALL: &str = "services:\n  a:\n    image: x\n";

/// Loads the named file while another thread opens the writing end with `open` and writes
/// [`SMALL`] into it (opening a FIFO blocks until its reader opens it too).
fn load_while_writing<W: std::io::Write>(
    name: &str,
    cwd: &std::path::Path,
    open: impl FnOnce() -> W + Send + 'static,
) -> super::Loaded {
    let feeder = std::thread::spawn(move || {
        let mut w = open();
        w.write_all(SMALL.as_bytes()).expect("feed");
    });
    let loaded = load(&LoadOptions {
        files: vec![name.to_string()],
        project_name: Some("pipe".into()),
        cwd: cwd.to_path_buf(),
        ..Default::default()
    })
    .expect("loads from a pipe");
    feeder.join().expect("feeder");
    loaded
}

#[test]
fn a_fifo_is_read_as_a_compose_file() {
    let work = tempfile::tempdir().expect("tempdir");
    let fifo = work.path().join("compose.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let open = move || {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo)
            .expect("open the FIFO")
    };
    let loaded = load_while_writing("compose.fifo", work.path(), open);
    assert_eq!(loaded.project.services["a"].image.as_deref(), Some("x"));
}

#[test]
fn dev_fd_is_read_as_a_compose_file() {
    use std::os::fd::AsRawFd;
    let (reader, writer) = std::io::pipe().expect("pipe");
    let name = format!("/dev/fd/{}", reader.as_raw_fd());
    let work = tempfile::tempdir().expect("tempdir");
    let loaded = load_while_writing(&name, work.path(), move || writer);
    drop(reader);
    assert_eq!(loaded.project.services["a"].image.as_deref(), Some("x"));
}
