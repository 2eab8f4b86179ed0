//! The test runner (`harness = false`, on `libtest-mimic`): libtest's output, flags and name
//! filtering, plus what libtest cannot do: decide at start-up whether the engine answers. Without
//! an engine the tests that need one are reported *ignored* (never "passed"); under `CI=true` they
//! run and fail instead.
//!
//! A test is a plain `fn()` registered at the end of its module with [`cases!`]:
//!
//! ```ignore
//! cases! {
//!     engine: first_test, second_test;
//!     reference: compares_with_docker_compose;
//!     multinode: spreads_over_three_engines;
//!     offline: rejects_bad_input;
//! }
//! ```
//!
//! A `multinode:` test (several engines, a swarm of them: minutes, and root) runs only when
//! `RCOMPOSE_E2E_MULTINODE=1`; otherwise it is reported *ignored*, under `CI=true` too.
//!
//! and the module is listed in `main.rs`. `#[test]` does nothing here: the test
//! `runner::every_test_is_registered` fails if one is left or a module is not listed.

use libtest_mimic::{Arguments, Trial};
use std::cell::RefCell;
use std::process::ExitCode;

/// What a test needs from the machine.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Needs {
    /// Nothing but the `rcompose` binary.
    Offline,
    /// A Docker engine.
    Engine,
    /// A Docker engine and the reference `docker compose` v2.
    Reference,
    /// A Docker engine, and `RCOMPOSE_E2E_MULTINODE=1` (asked for, never implied by `CI`).
    MultiNode,
}

/// The variable that turns the `multinode:` tests on.
pub const MULTINODE_VAR: &str = "RCOMPOSE_E2E_MULTINODE";

/// Whether the `multinode:` tests are asked for.
fn multinode_asked() -> bool {
    std::env::var(MULTINODE_VAR).is_ok_and(|v| v == "1")
}

/// One registered test.
pub struct Case {
    /// `module::function`, as libtest names it.
    pub name: &'static str,
    pub needs: Needs,
    pub run: fn(),
}

/// Registers the module's tests as `pub const TESTS: &[Case]`, grouped by what they need
/// (`engine:`, `reference:`, `multinode:`, `offline:`; each group optional, in that order).
macro_rules! cases {
    (
        $(engine: $($e:ident),+ $(,)? ;)?
        $(reference: $($r:ident),+ $(,)? ;)?
        $(multinode: $($m:ident),+ $(,)? ;)?
        $(offline: $($o:ident),+ $(,)? ;)?
    ) => {
        pub const TESTS: &[$crate::runner::Case] = &[
            $($($crate::runner::Case {
                name: concat!(module_path!(), "::", stringify!($e)),
                needs: $crate::runner::Needs::Engine,
                run: $e,
            },)+)?
            $($($crate::runner::Case {
                name: concat!(module_path!(), "::", stringify!($r)),
                needs: $crate::runner::Needs::Reference,
                run: $r,
            },)+)?
            $($($crate::runner::Case {
                name: concat!(module_path!(), "::", stringify!($m)),
                needs: $crate::runner::Needs::MultiNode,
                run: $m,
            },)+)?
            $($($crate::runner::Case {
                name: concat!(module_path!(), "::", stringify!($o)),
                needs: $crate::runner::Needs::Offline,
                run: $o,
            },)+)?
        ];
    };
}
pub(crate) use cases;

thread_local! {
    static CURRENT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The running test's function name (the folder of its files under `testdata/`).
pub fn current_test() -> String {
    let name = CURRENT.with(|c| c.borrow().clone());
    assert!(!name.is_empty(), "not inside a registered test");
    name
}

/// Why a test cannot run here, if it cannot.
fn missing(needs: Needs, engine: bool, reference: bool) -> Option<&'static str> {
    match needs {
        Needs::Offline => None,
        Needs::MultiNode if !multinode_asked() => Some(NOT_ASKED),
        _ if !engine => Some("no Docker engine answers"),
        Needs::Reference if !reference => Some("the reference docker compose v2 is not installed"),
        _ => None,
    }
}

/// Why a `multinode:` test is ignored: not a failure, under `CI=true` either.
const NOT_ASKED: &str = "RCOMPOSE_E2E_MULTINODE=1 is not set";

/// Runs the registered tests of every module as libtest would.
pub fn main(modules: &[&[Case]]) -> ExitCode {
    let args = Arguments::from_args();
    let cases: Vec<&Case> = modules.iter().flat_map(|m| m.iter()).collect();
    let probe = !args.list && cases.iter().any(|c| c.needs != Needs::Offline);
    let engine = probe && crate::harness::engine().is_some();
    let reference = probe && crate::harness::reference_available();
    let ci = crate::harness::under_ci();
    let mut ignored = 0;
    let mut not_asked = 0;
    let mut trials: Vec<Trial> = cases
        .iter()
        .map(|case| {
            let name = case.name.split_once("::").map_or(case.name, |(_, n)| n);
            let why = if args.list {
                None
            } else {
                missing(case.needs, engine, reference)
            };
            match why {
                Some(NOT_ASKED) => {
                    not_asked += 1;
                    Trial::test(name, || Ok(())).with_ignored_flag(true)
                }
                Some(why) if ci => Trial::test(name, move || {
                    Err(format!("CI=true but {why}: the end-to-end tests cannot run").into())
                }),
                Some(_) => {
                    ignored += 1;
                    Trial::test(name, || Ok(())).with_ignored_flag(true)
                }
                None => {
                    let run = case.run;
                    let short = name.rsplit("::").next().unwrap_or(name).to_string();
                    Trial::test(name, move || {
                        CURRENT.with(|c| *c.borrow_mut() = short);
                        run();
                        Ok(())
                    })
                }
            }
        })
        .collect();
    trials.push(Trial::test(
        "runner::every_test_is_registered",
        every_test_is_registered,
    ));
    if ignored > 0 && !ci {
        let why = if engine {
            "the reference docker compose v2 is not installed"
        } else {
            "no Docker engine answers"
        };
        eprintln!(
            "\n!!! {ignored} end-to-end tests IGNORED: {why} (CI=true makes this a failure) !!!\n"
        );
    }
    if not_asked > 0 && !args.list {
        let s = if not_asked == 1 { "" } else { "s" };
        eprintln!("\n{not_asked} multi-node test{s} ignored: set {MULTINODE_VAR}=1 to run\n");
    }
    libtest_mimic::run(&args, trials).exit_code()
}

/// Every `.rs` file of `tests/e2e` is a module of `main.rs`, and none still carries `#[test]`
/// (which this runner would never call).
fn every_test_is_registered() -> Result<(), libtest_mimic::Failed> {
    let dir = crate::harness::root().join("tests/e2e");
    let main = std::fs::read_to_string(dir.join("main.rs")).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_none_or(|e| e != "rs") || stem == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        if !main.lines().any(|l| l.trim() == format!("mod {stem};")) {
            problems.push(format!("{stem}.rs is not a module of main.rs"));
        } else if text.contains("\ncases! {") && !main.contains(&format!("{stem}::TESTS")) {
            problems.push(format!(
                "{stem}::TESTS is not passed to runner::main in main.rs"
            ));
        }
        for (i, line) in text.lines().enumerate() {
            if line.trim() == "#[test]" {
                problems.push(format!(
                    "{stem}.rs:{}: #[test] is never run here: register the function with cases!",
                    i + 1
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}
