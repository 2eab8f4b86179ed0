//! Bad input: a clear message (file, line and column where there is one) and exit code 1.
//! These need no engine: the loader rejects the files before connecting.

use crate::harness::{bin, run, stderr};
use std::process::Command;

fn rcompose_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    run(Command::new(bin()).args(args).current_dir(dir))
}

fn with_file(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
    dir
}

#[test]
fn dependency_cycle_prints_its_path_and_position() {
    let dir = with_file("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on:\n      c: {condition: service_started}\n  c:\n    image: x\n    depends_on: [a]\n");
    let out = rcompose_in(dir.path(), &["-p", "cyc", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("dependency cycle: a -> b -> c -> a"), "{err}");
    assert!(err.contains("compose.yaml:4:18"), "{err}");
}

#[test]
fn missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = rcompose_in(dir.path(), &["-f", "nope.yaml", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("nope.yaml") && err.contains("not found"),
        "{err}"
    );
    let out = rcompose_in(dir.path(), &["up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no compose file found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_dependency_points_at_it_with_a_suggestion() {
    let dir = with_file(
        "services:\n  db:\n    image: x\n  web:\n    image: x\n    depends_on:\n      - dbx\n",
    );
    let out = rcompose_in(dir.path(), &["-p", "unk", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("depends on undefined service `dbx`"), "{err}");
    assert!(err.contains("compose.yaml:7:9"), "{err}");
    assert!(err.contains("did you mean `db`?"), "{err}");
}

#[test]
fn yaml_syntax_error_has_line_and_column() {
    let dir = with_file("services:\n  web:\n    image: \"unclosed\n    ports: [80]\n");
    let out = rcompose_in(dir.path(), &["-p", "syn", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("invalid YAML"), "{err}");
    assert!(err.contains("compose.yaml:"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.contains("--> ") && l.matches(':').count() >= 2),
        "{err}"
    );
}

#[test]
fn unknown_key_gets_did_you_mean() {
    let dir = with_file("services:\n  web:\n    imgae: x\n");
    let out = rcompose_in(dir.path(), &["-p", "key", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("services.web.imgae"), "{err}");
    assert!(err.contains("compose.yaml:3:5"), "{err}");
    assert!(err.contains("did you mean `image`?"), "{err}");
}

#[test]
fn invalid_project_name_is_rejected() {
    let dir = with_file("services:\n  web:\n    image: x\n");
    let out = rcompose_in(dir.path(), &["-p", "Bad.Name", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid project name"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_flag_exits_one() {
    let out = run(Command::new(bin()).args(["up", "--no-such-flag"]));
    assert_eq!(out.status.code(), Some(1));
}
