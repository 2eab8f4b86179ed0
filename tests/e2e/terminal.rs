//! rcompose on a terminal, under a real pseudo-terminal (tmux): the progress view of a stack
//! taller than the terminal, what Ctrl-C leaves on the screen of attached `up`, and the exit
//! code of each command interrupted by Ctrl-C (with the reference's beside it).

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::harness::*;

static SERVERS: AtomicUsize = AtomicUsize::new(0);

/// A tmux server of the test's own (its own socket), one shell in a terminal of `rows` x
/// `cols`; killed on drop, also when the test fails.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new(rows: u16, cols: u16, dir: &Path) -> Tmux {
        let n = SERVERS.fetch_add(1, Ordering::SeqCst);
        let t = Tmux {
            socket: format!("rcompose-e2e-{}-{n}", std::process::id()),
        };
        let (rows, cols) = (rows.to_string(), cols.to_string());
        let dir = dir.to_string_lossy().into_owned();
        ok(&t.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &cols,
            "-y",
            &rows,
            "-c",
            &dir,
            "env",
            "PS1=$ ",
            "TERM=xterm-256color",
            "bash",
            "--norc",
            "--noprofile",
        ]));
        // The scrollback of a tall view: more than the default 2000 lines.
        ok(&t.tmux(&["set-option", "-g", "history-limit", "20000"]));
        t
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        run(Command::new("tmux").arg("-L").arg(&self.socket).args(args))
    }

    /// Types `line` and Enter, with its exit code printed after it (`EXIT=N`).
    fn type_line(&self, line: &str) {
        ok(&self.tmux(&[
            "send-keys",
            "-t",
            "0",
            &format!("{line}; echo EXIT=$?"),
            "Enter",
        ]));
    }

    fn ctrl_c(&self) {
        ok(&self.tmux(&["send-keys", "-t", "0", "C-c"]));
    }

    /// Empties the screen and the scrollback, for the next command.
    fn forget(&self) {
        ok(&self.tmux(&["send-keys", "-R", "-t", "0"]));
        ok(&self.tmux(&["clear-history", "-t", "0"]));
        eventually(Duration::from_secs(10), "an empty screen", || {
            let h = self.history();
            exit_of(&h).is_none() && !h.contains('|')
        });
    }

    /// What the terminal shows now.
    fn screen(&self) -> String {
        stdout(&self.tmux(&["capture-pane", "-p", "-t", "0"]))
    }

    /// The scrollback and the screen.
    fn history(&self) -> String {
        stdout(&self.tmux(&["capture-pane", "-p", "-S", "-", "-t", "0"]))
    }

    /// Waits for the typed command to end; its exit code.
    fn exit_code(&self, timeout: Duration) -> i32 {
        self.exit_code_of("the command", timeout)
    }

    /// Waits for the typed command `what` to end; its exit code (the screen when it does not).
    fn exit_code_of(&self, what: &str, timeout: Duration) -> i32 {
        let start = std::time::Instant::now();
        while start.elapsed() < timeout {
            if let Some(code) = exit_of(&self.history()) {
                return code;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "{what} did not end within {timeout:?} (no EXIT= on the screen):\n{}",
            self.screen()
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// The code of `EXIT=N` on its own line (not the typed command line that asks for it).
fn exit_of(text: &str) -> Option<i32> {
    // After the shell's `^C` the code may share its line (`^CEXIT=130`).
    text.lines()
        .filter_map(|l| l.trim().rsplit_once("EXIT=").map(|(_, c)| c))
        .find_map(|c| c.parse().ok())
}

fn tall_stack(n: usize) -> String {
    let mut yaml = String::from("services:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  s{i:02}:\n    image: rcompose-test:latest\n    init: true\n    command: sleep 1000\n"
        ));
    }
    yaml
}

/// 40 services in a 20-line terminal: while the view is live the header is always on the
/// screen (the view keeps within the terminal: it is redrawn in place, not scrolled away), and
/// the final state of every resource is printed once, at the end. (The reference's view does
/// not keep within the terminal: it scrolls, leaving repeated frames in the scrollback.)
fn a_tall_stack_keeps_its_progress_view_within_the_terminal() {
    let docker = docker();
    let s = Stack::new(&docker, "tall-view", &tall_stack(40));
    // Wide enough for `Started` beside the longest container name a whole run gives (the
    // name grows with the process id and the test counter); the height is what is tested.
    let term = Tmux::new(20, 130, s.path());
    term.type_line(&format!("clear; {} -p {} up -d", bin().display(), s.name));
    let mut live_frames = 0;
    let mut screens_without_header = Vec::new();
    eventually(Duration::from_secs(120), "up -d to end", || {
        let screen = term.screen();
        if exit_of(&screen).is_some() {
            return true;
        }
        if screen.contains(" Container ") {
            live_frames += 1;
            // The final view is printed whole and may scroll: a screen caught after it was
            // drawn (before the shell's prompt) is not a live frame.
            if !screen.contains("[+] Running ") && !term.history().contains("[+] Running 41/41") {
                screens_without_header.push(screen);
            }
        }
        false
    });
    assert_eq!(term.exit_code(Duration::from_secs(1)), 0);
    assert!(live_frames > 0, "no live view was ever seen");
    assert!(
        screens_without_header.is_empty(),
        "the view outgrew the terminal (its header scrolled away):\n{}",
        screens_without_header.join("\n-----\n")
    );
    let history = term.history();
    let finals: Vec<&str> = history
        .lines()
        .filter(|l| l.starts_with("[+] Running 41/41"))
        .collect();
    assert_eq!(finals.len(), 1, "one final view:\n{history}");
    let last_view = history
        .split("[+] Running 41/41")
        .nth(1)
        .unwrap_or_default();
    for i in 0..40 {
        let name = format!("{}-s{i:02}-1", s.name);
        let lines: Vec<&str> = last_view.lines().filter(|l| l.contains(&name)).collect();
        assert_eq!(
            lines.len(),
            1,
            "{name} once in the final view:\n{last_view}"
        );
        assert!(
            lines[0].starts_with(" ✔ Container ") && lines[0].contains("  Started "),
            "{name} not started in the final view:\n{last_view}"
        );
    }
    assert_eq!(s.containers().len(), 40);
}

const SMALL: &str = "services:
  a:
    image: rcompose-test:latest
    init: true
    command: sleep 1000
  talk:
    image: rcompose-test:latest
    init: true
    command: sh -c 'echo hello-out; echo hello-err >&2; sleep 1000'
";

/// Attached `up` on a terminal, then Ctrl-C: the view was left whole before the logs, and the
/// screen keeps the log lines, `Gracefully Stopping...`, one line per stop event (no view
/// redrawn over the logs) and each `exited with code` line; the stack is stopped. As the
/// reference's interactive mode (the default on a terminal), no `^C` is echoed and the stop it
/// asked for ends `up` with 0; with `COMPOSE_MENU=false`, `^C` shows and the exit code is 130.
fn ctrl_c_in_attached_up_leaves_a_clean_screen() {
    let docker = docker();
    let s = Stack::new(&docker, "ctrl-c-up", SMALL);
    let term = Tmux::new(40, 120, s.path());
    let up = |env: &str| {
        term.forget();
        term.type_line(&format!("clear; {env}{} -p {} up", bin().display(), s.name));
        eventually(Duration::from_secs(60), "the logs of attached up", || {
            term.screen().contains("| hello-err")
        });
        term.ctrl_c();
    };
    up("");
    assert_eq!(term.exit_code(Duration::from_secs(30)), 0);
    let screen = term.screen();
    assert!(!screen.contains("^C"), "no ^C echoed:\n{screen}");
    let p = &s.name;
    let after = screen
        .split("Gracefully Stopping... press Ctrl+C again to force")
        .nth(1)
        .unwrap_or_else(|| panic!("no `Gracefully Stopping`:\n{screen}"));
    for needle in [
        "[+] Running 3/3".to_string(),
        format!(" ✔ Container {p}-talk-1"),
        "Attaching to a-1, talk-1".to_string(),
        "| hello-out".to_string(),
        "| hello-err".to_string(),
    ] {
        assert!(
            screen.contains(&needle),
            "{needle:?} not on the screen:\n{screen}"
        );
    }
    for needle in [
        format!(" Container {p}-a-1  Stopping"),
        format!(" Container {p}-talk-1  Stopping"),
        "a-1 exited with code 143".to_string(),
        "talk-1 exited with code 143".to_string(),
    ] {
        assert!(
            after.contains(&needle),
            "{needle:?} not after Ctrl-C:\n{screen}"
        );
    }
    assert!(
        !after.contains("[+]"),
        "a live view drawn among the logs:\n{screen}"
    );
    assert!(
        s.containers().values().all(|c| c.state == "exited"),
        "the stack still runs"
    );
    // Without the interactive mode: the shell's `^C`, and 130.
    up("COMPOSE_MENU=false ");
    assert_eq!(term.exit_code(Duration::from_secs(30)), 130);
    let screen = term.screen();
    assert!(screen.contains("^CGracefully Stopping"), "{screen}");
}

/// Ctrl-C ends each long-running command with 130 on a terminal, as the reference's: `logs -f`,
/// `events`, `wait`, `exec -T`, `attach`, `run` (with and without a terminal for the
/// container; an interrupted `run --rm` leaves no container).
fn ctrl_c_ends_each_command_with_130() {
    let docker = docker();
    let s = Stack::new(&docker, "ctrl-c-each", SMALL);
    ok(&s.rcompose(&["up", "-d"]));
    let with_reference = reference_available();
    let oneoffs = || {
        s.containers()
            .keys()
            .filter(|n| n.contains("-a-run-"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let running_oneoff = || {
        s.containers()
            .iter()
            .any(|(n, c)| n.contains("-a-run-") && c.state == "running")
    };
    let cases: &[(&str, bool)] = &[
        ("logs -f", false),
        ("events", false),
        ("wait a", false),
        ("exec -T a sleep 300", false),
        ("attach a", false),
        ("run --rm -T a sleep 300", true),
        ("run --rm a sleep 300", true),
    ];
    for (args, oneoff) in cases {
        let mut shapes = vec![format!("{} -p {}", bin().display(), s.name)];
        if with_reference {
            shapes.push(format!("docker compose -p {}", s.name));
        }
        for shape in shapes {
            let term = Tmux::new(30, 120, s.path());
            term.type_line(&format!("clear; {shape} {args}"));
            if *oneoff {
                eventually(
                    Duration::from_secs(30),
                    "the one-off container",
                    running_oneoff,
                );
            } else if args.starts_with("logs") {
                eventually(Duration::from_secs(30), "the logs", || {
                    term.screen().contains("| hello-err")
                });
            } else {
                // Nothing to see until an event comes: time for the command to listen.
                std::thread::sleep(Duration::from_millis(1500));
            }
            assert_eq!(
                exit_of(&term.screen()),
                None,
                "`{shape} {args}` ended by itself"
            );
            term.ctrl_c();
            let code = term.exit_code_of(&format!("`{shape} {args}`"), Duration::from_secs(30));
            assert_eq!(
                code,
                130,
                "`{shape} {args}` after Ctrl-C:\n{}",
                term.screen()
            );
            if *oneoff {
                // The view was left before the container took the terminal, and the failed
                // one-off ends with an empty line, as the reference's: `^C`, then the code.
                let screen = term.screen();
                assert!(
                    screen.lines().any(|l| l.trim() == "EXIT=130"),
                    "`{shape} {args}`: the exit code on its own line:\n{screen}"
                );
                eventually(
                    Duration::from_secs(20),
                    "the --rm container removed",
                    || oneoffs().is_empty(),
                );
            }
        }
    }
}

/// `logs` gives a container's stdout and stderr lines, each stream in the order it was written,
/// every line once, through the json-file log and through the engine's API; the reference (both
/// on one pipe) in the order it wrote them.
fn logs_interleave_stdout_and_stderr_in_time_order() {
    let docker = docker();
    let s = Stack::new(
        &docker,
        "logs-interleave",
        "services:
  talk:
    image: rcompose-test:latest
    command: sh -c 'for i in 1 2 3 4 5 6 7 8; do echo out$$i; sleep 0.05; echo err$$i >&2; sleep 0.05; done'
",
    );
    ok(&s.rcompose(&["up", "-d"]));
    eventually(Duration::from_secs(30), "the container to end", || {
        s.containers().values().all(|c| c.state == "exited")
    });
    let expected: String = (1..=8).map(|i| format!("out{i}\nerr{i}\n")).collect();
    let merged = |program: &str, api: bool| {
        let line = format!("{program} -p {} logs --no-log-prefix talk 2>&1", s.name);
        let mut c = Command::new("sh");
        c.args(["-c", &line]).current_dir(s.path());
        if api {
            c.env("RCOMPOSE_LOGS_API", "1");
        }
        stdout(ok(&run(&mut c)))
    };
    let rc = bin().display().to_string();
    // Each stream keeps its own order and no line is lost or doubled; the exact interleaving of
    // the two streams is not asserted (on a loaded machine a batch can still come out of order).
    let same_lines = |got: String, how: &str| {
        let mut g: Vec<&str> = got.lines().collect();
        let mut e: Vec<&str> = expected.lines().collect();
        for prefix in ["out", "err"] {
            let gs: Vec<&&str> = g.iter().filter(|l| l.starts_with(prefix)).collect();
            let es: Vec<&&str> = e.iter().filter(|l| l.starts_with(prefix)).collect();
            assert_eq!(gs, es, "{how}: the {prefix} lines in order");
        }
        g.sort_unstable();
        e.sort_unstable();
        assert_eq!(g, e, "{how}: every line once");
    };
    same_lines(merged(&rc, false), "from the json-file log");
    same_lines(merged(&rc, true), "through the engine's API");
    if reference_available() {
        // The reference too can put a batch out of order under load.
        same_lines(merged("docker compose", false), "the reference");
    }
}

cases! {
    engine:
        logs_interleave_stdout_and_stderr_in_time_order,
        a_tall_stack_keeps_its_progress_view_within_the_terminal,
        ctrl_c_in_attached_up_leaves_a_clean_screen,
        ctrl_c_ends_each_command_with_130;
}
