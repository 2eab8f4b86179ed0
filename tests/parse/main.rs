//! Golden tests for the loader: `rcompose config --format json` on every case folder against the
//! reference's output (`tests/parse/regen.sh`), error snapshots for inputs the reference rejects,
//! and every project under `examples/`.
//!
//! Case folder layout (see `tests/parse/README.md`): the compose files, an optional `args` file (one
//! argument per line, placed before `config`), an optional `env` file (`KEY=VALUE` lines: the whole
//! OS environment besides `PATH` and `HOME`), and `expected.json` or, for bad cases, `expected.txt`.
//! The folder's absolute path is written `${CASE_DIR}` in expected files, the repository's `${REPO}`. A good case may also
//! hold `warnings.txt`: the reference's warning messages, one per line, compared in any order
//! (none when absent).

mod diff;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PLACEHOLDER: &str = "${CASE_DIR}";
/// The repository's absolute path, for paths that point outside a case's folder.
const REPO_PLACEHOLDER: &str = "${REPO}";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The case folders under `dir`, sorted by name.
fn folders(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect(),
        Err(_) => vec![],
    };
    out.sort();
    out
}

/// Non-empty lines of an optional file.
fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Runs `rcompose <args> config --format json` in `dir` with the case's environment.
fn run(dir: &Path, args_and_env: &Path) -> Output {
    run_in(dir, args_and_env, "json")
}

/// The same in another output format, for a case folder.
fn run_format(dir: &Path, format: &str) -> Output {
    run_in(dir, dir, format)
}

fn run_in(dir: &Path, args_and_env: &Path, format: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rcompose"));
    cmd.current_dir(dir).env_clear();
    for key in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
    for line in lines(&args_and_env.join("env")) {
        if line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) => cmd.env(k, v),
            None => cmd.env(&line, ""),
        };
    }
    cmd.args(lines(&args_and_env.join("args")))
        .args(["config", "--format", format]);
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run rcompose in {}: {e}", dir.display()))
}

/// Absolute path of a folder without symlinks, as `pwd -P` prints it in `regen.sh`.
/// `text` with the case folder's path, then the repository's, replaced by their placeholders.
fn placeholders(text: &str, dir: &Path) -> String {
    text.replace(&real(dir), PLACEHOLDER)
        .replace(&real(&root()), REPO_PLACEHOLDER)
}

fn real(dir: &Path) -> String {
    fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

/// Runs the good case in `dir` (inputs from `inputs`) and compares with `expected`; `None` if equal.
fn check_good(name: &str, dir: &Path, inputs: &Path, expected: &Path) -> Option<String> {
    let want = match fs::read_to_string(expected) {
        Ok(t) => t,
        Err(e) => {
            return Some(format!(
                "{name}: cannot read {} ({e}): run tests/parse/regen.sh",
                expected.display()
            ))
        }
    };
    let want: serde_json::Value = match serde_json::from_str(&want) {
        Ok(v) => v,
        Err(e) => return Some(format!("{name}: bad expected.json: {e}")),
    };
    let out = run(dir, inputs);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Some(format!(
            "{name}: rcompose failed ({}):\n{}",
            out.status,
            indent(&stderr)
        ));
    }
    let stdout = placeholders(&String::from_utf8_lossy(&out.stdout), dir);
    let got: serde_json::Value = match serde_json::from_str(&stdout) {
        Ok(v) => v,
        Err(e) => return Some(format!("{name}: output is not JSON ({e}):\n{stdout}")),
    };
    let mut diffs = diff::values(&want, &got);
    // Warnings: the reference's messages (`warnings.txt`, absent when none), in order.
    // Sorted: the reference's order follows Go map iteration, which varies between runs.
    let mut want_warnings = lines(&expected.with_file_name("warnings.txt"));
    want_warnings.sort();
    let mut got_warnings: Vec<String> = placeholders(&stderr, dir)
        .lines()
        .filter_map(|l| l.strip_prefix("WARN[0000] "))
        .map(str::to_string)
        .collect();
    got_warnings.sort();
    if want_warnings != got_warnings {
        diffs.push(format!(
            "warnings: expected {want_warnings:?}, got {got_warnings:?}"
        ));
    }
    if diffs.is_empty() {
        return None;
    }
    let shown: Vec<String> = diffs.iter().take(25).map(|d| format!("  {d}")).collect();
    let more = diffs.len().saturating_sub(25);
    let mut text = format!(
        "{name}: {} difference(s)\n{}",
        diffs.len(),
        shown.join("\n")
    );
    if more > 0 {
        text.push_str(&format!("\n  ... and {more} more"));
    }
    Some(text)
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `check` on every item, on a few threads, and fails listing every problem.
fn check_all<T: Sync>(what: &str, items: &[T], check: impl Fn(&T) -> Option<String> + Sync) {
    assert!(!items.is_empty(), "no {what} found");
    let threads = 4;
    let chunk = items.len().div_ceil(threads);
    let mut problems: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().filter_map(&check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    problems.sort();
    if !problems.is_empty() {
        panic!(
            "{} of {} {what} failed:\n\n{}\n",
            problems.len(),
            items.len(),
            problems.join("\n\n")
        );
    }
}

#[test]
fn good_cases() {
    let cases = folders(&root().join("tests/parse/cases"));
    check_all("good cases", &cases, |dir| {
        let name = dir.file_name()?.to_string_lossy().into_owned();
        check_good(&name, dir, dir, &dir.join("expected.json"))
    });
}

#[test]
fn bad_cases() {
    let bless = std::env::var_os("RCOMPOSE_BLESS").is_some();
    let cases = folders(&root().join("tests/parse/bad"));
    check_all("bad cases", &cases, |dir| {
        let name = dir.file_name()?.to_string_lossy().into_owned();
        let out = run(dir, dir);
        let stderr = placeholders(&String::from_utf8_lossy(&out.stderr), dir);
        if stderr.contains("panicked") {
            return Some(format!("{name}: rcompose panicked:\n{}", indent(&stderr)));
        }
        if out.status.code() != Some(1) {
            return Some(format!(
                "{name}: expected exit code 1, got {}\n{}",
                out.status,
                indent(&stderr)
            ));
        }
        let snapshot = dir.join("expected.txt");
        if bless {
            return fs::write(&snapshot, stderr.as_bytes())
                .err()
                .map(|e| format!("{name}: cannot write {}: {e}", snapshot.display()));
        }
        let want = fs::read_to_string(&snapshot).unwrap_or_default();
        if want == stderr {
            return None;
        }
        Some(format!(
            "{name}: stderr differs from expected.txt (RCOMPOSE_BLESS=1 to update)\n  expected:\n{}\n  got:\n{}",
            indent(&want),
            indent(&stderr)
        ))
    });
}

#[test]
fn examples() {
    let examples = folders(&root().join("examples"));
    check_all("examples", &examples, |dir| {
        let name = dir.file_name()?.to_string_lossy().into_owned();
        let expected = root()
            .join("tests/parse/examples")
            .join(&name)
            .join("expected.json");
        check_good(&format!("examples/{name}"), dir, dir, &expected)
    });
}

/// `config` in YAML (the default format) says the same as in JSON, minus the keys only JSON
/// prints (`command: null`, `entrypoint: null`).
#[test]
fn yaml_output_matches_json() {
    let cases = folders(&root().join("tests/parse/cases"));
    check_all("good cases in YAML", &cases, |dir| {
        let name = dir.file_name()?.to_string_lossy().into_owned();
        let json_out = run(dir, dir);
        let yaml_out = run_format(dir, "yaml");
        if !json_out.status.success() || !yaml_out.status.success() {
            return None; // reported by good_cases
        }
        let mut from_json: serde_json::Value = serde_json::from_slice(&json_out.stdout).ok()?;
        if let Some(services) = from_json
            .get_mut("services")
            .and_then(|s| s.as_object_mut())
        {
            for svc in services.values_mut().filter_map(|s| s.as_object_mut()) {
                svc.retain(|k, v| !(matches!(k.as_str(), "command" | "entrypoint") && v.is_null()));
            }
        }
        let from_yaml: serde_json::Value = match yaml_serde::from_slice(&yaml_out.stdout) {
            Ok(v) => v,
            Err(e) => return Some(format!("{name}: YAML output does not parse: {e}")),
        };
        let diffs = diff::values(&from_json, &from_yaml);
        (!diffs.is_empty()).then(|| format!("{name} (YAML vs JSON):\n  {}", diffs.join("\n  ")))
    });
}
