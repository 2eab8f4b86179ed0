//! Bad input: a clear message (file, line and column where there is one) and exit code 1.
//! These need no engine: the loader rejects the files before connecting.

use crate::harness::{bin, cases, fixture_dir, run, stderr};
use std::process::Command;

fn rcompose_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    run(Command::new(bin()).args(args).current_dir(dir))
}

fn dependency_cycle_prints_its_path_and_position() {
    let dir = fixture_dir();
    let out = rcompose_in(dir.path(), &["-p", "cyc", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("dependency cycle: a -> b -> c -> a"), "{err}");
    assert!(err.contains("compose.yaml:4:18"), "{err}");
}

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

fn unknown_dependency_points_at_it_with_a_suggestion() {
    let dir = fixture_dir();
    let out = rcompose_in(dir.path(), &["-p", "unk", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("depends on undefined service `dbx`"), "{err}");
    assert!(err.contains("compose.yaml:7:9"), "{err}");
    assert!(err.contains("did you mean `db`?"), "{err}");
}

fn yaml_syntax_error_has_line_and_column() {
    let dir = fixture_dir();
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

fn unknown_key_gets_did_you_mean() {
    let dir = fixture_dir();
    let out = rcompose_in(dir.path(), &["-p", "key", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("services.web.imgae"), "{err}");
    assert!(err.contains("compose.yaml:3:5"), "{err}");
    assert!(err.contains("did you mean `image`?"), "{err}");
}

fn invalid_project_name_is_rejected() {
    let dir = fixture_dir();
    let out = rcompose_in(dir.path(), &["-p", "Bad.Name", "up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid project name"),
        "{}",
        stderr(&out)
    );
}

fn bad_flag_exits_one() {
    let out = run(Command::new(bin()).args(["up", "--no-such-flag"]));
    assert_eq!(out.status.code(), Some(1));
}

cases! {
    offline:
        dependency_cycle_prints_its_path_and_position,
        missing_file_is_named,
        unknown_dependency_points_at_it_with_a_suggestion,
        yaml_syntax_error_has_line_and_column,
        unknown_key_gets_did_you_mean,
        invalid_project_name_is_rejected,
        bad_flag_exits_one;
}
