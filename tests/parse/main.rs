//! Golden tests for the loader: `rcompose config` on every case folder against the reference's
//! exact bytes (`tests/parse/regen.sh`): `--format json` (`expected.json`), the default YAML
//! (`expected.yaml`) and `--hash '*'` (`expected.hash`); error snapshots for inputs the reference
//! rejects, and every project under `examples/`.
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
    run_in(dir, args_and_env, &["--format", "json"])
}

/// Runs `rcompose <args> config <config-args> <tail>` in `dir` with the case's environment.
fn run_in(dir: &Path, args_and_env: &Path, tail: &[&str]) -> Output {
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
        .arg("config")
        .args(lines(&args_and_env.join("config-args")))
        .args(tail);
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run rcompose in {}: {e}", dir.display()))
}

/// Absolute path of a folder without symlinks, as `pwd -P` prints it in `regen.sh`.
/// `text` with the case folder's path, then the repository's, replaced by their placeholders.
fn placeholders(text: &str, dir: &Path) -> String {
    let text = text
        .replace(&real(dir), PLACEHOLDER)
        .replace(&real(&root()), REPO_PLACEHOLDER);
    // A warning's time (`time="2026-12-01T07:17:27Z" level=warning`) changes with each run.
    text.split_inclusive('\n')
        .map(
            |l| match l.strip_prefix("time=\"").and_then(|r| r.split_once("\" ")) {
                Some((_, rest)) => format!("time=\"${{TIME}}\" {rest}"),
                None => l.to_string(),
            },
        )
        .collect()
}

fn real(dir: &Path) -> String {
    fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

/// Runs the good case in `dir` (inputs from `inputs`) against the reference's outputs in folder
/// `expected` (`expected.json`, `expected.yaml`, `expected.hash`, `warnings.txt`); `None` if equal.
fn check_good(name: &str, dir: &Path, inputs: &Path, expected: &Path) -> Option<String> {
    let want = match fs::read_to_string(expected.join("expected.json")) {
        Ok(t) => t,
        Err(e) => {
            return Some(format!(
                "{name}: cannot read {}/expected.json ({e}): run tests/parse/regen.sh",
                expected.display()
            ))
        }
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
    let mut diffs = bytes_diff("json", &want, &stdout);
    if !diffs.is_empty() {
        // Name what differs when both parse (key order aside).
        if let (Ok(w), Ok(g)) = (
            serde_json::from_str::<serde_json::Value>(&want),
            serde_json::from_str::<serde_json::Value>(&stdout),
        ) {
            diffs.extend(diff::values(&w, &g));
        }
    }
    // The default YAML, byte for byte.
    match fs::read_to_string(expected.join("expected.yaml")) {
        Ok(want_yaml) => {
            let yaml = run_in(dir, inputs, &["--format", "yaml"]);
            let got = placeholders(&String::from_utf8_lossy(&yaml.stdout), dir);
            diffs.extend(bytes_diff("yaml", &want_yaml, &got));
        }
        Err(_) => diffs.push("no expected.yaml: run tests/parse/regen.sh".into()),
    }
    // `config --hash '*'`: every line the reference printed (those that do not depend on where
    // the repository is).
    let want_hashes = lines(&expected.join("expected.hash"));
    if !want_hashes.is_empty() {
        let hashes = run_in(dir, inputs, &["--hash", "*"]);
        let got = String::from_utf8_lossy(&hashes.stdout);
        let got: Vec<&str> = got.lines().collect();
        for line in &want_hashes {
            let service = line.split(' ').next().unwrap_or_default();
            let mine = got.iter().find(|l| l.split(' ').next() == Some(service));
            if mine != Some(&line.as_str()) {
                diffs.push(format!("hash: expected `{line}`, got {mine:?}"));
            }
        }
    }
    // Warnings: the reference's messages (`warnings.txt`, absent when none), in order.
    // Sorted: the reference's order follows Go map iteration, which varies between runs.
    let mut want_warnings = lines(&expected.join("warnings.txt"));
    want_warnings.sort();
    let mut got_warnings: Vec<String> = placeholders(&stderr, dir)
        .lines()
        .filter_map(warning_message)
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

/// The first line where `got` differs from `want` (bytes, final newline included), if any.
fn bytes_diff(what: &str, want: &str, got: &str) -> Vec<String> {
    if want == got {
        return vec![];
    }
    let (w, g): (Vec<&str>, Vec<&str>) = (want.split('\n').collect(), got.split('\n').collect());
    let at = (0..w.len().max(g.len()))
        .find(|&i| w.get(i) != g.get(i))
        .unwrap_or(0);
    vec![format!(
        "{what} bytes differ at line {}: expected {:?}, got {:?}",
        at + 1,
        w.get(at).copied().unwrap_or("<end>"),
        g.get(at).copied().unwrap_or("<end>")
    )]
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
        check_good(&name, dir, dir, dir)
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
        let expected = root().join("tests/parse/examples").join(&name);
        check_good(&format!("examples/{name}"), dir, dir, &expected)
    });
}

/// The message of a warning line as rcompose writes it off a terminal, in logrus's logfmt:
/// `time="..." level=warning msg="..."` (quoted as Go's `%q`) or `msg=bare`.
fn warning_message(line: &str) -> Option<String> {
    if !line.contains(" level=warning ") {
        return None;
    }
    let raw = &line[line.find(" msg=")? + 5..];
    let Some(quoted) = raw.strip_prefix('"') else {
        return Some(raw.to_string());
    };
    let mut out = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    Some(out)
}
