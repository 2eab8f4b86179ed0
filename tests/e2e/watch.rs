//! `watch` and `up --watch` on the real engine: each action, every replica, ignore and include
//! rules, `initial_sync`, deletions, a 2,000-file change, rebuilds of one service, a container
//! restart under watch, Ctrl-C leaving the stack up, a symlinked project folder.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::*;

const WAIT: Duration = Duration::from_secs(30);

/// A running `rcompose watch` (or `up --watch`); interrupted when dropped.
struct Watching {
    child: Child,
    out: Reader,
    err: Reader,
}

impl Watching {
    fn start(s: &Stack, args: &[&str]) -> Watching {
        Watching::start_in(s, s.path(), args)
    }

    fn start_in(s: &Stack, dir: &Path, args: &[&str]) -> Watching {
        let mut child = s
            .rcompose_cmd(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn watch");
        let out = Reader::new(child.stdout.take().expect("stdout"));
        let err = Reader::new(child.stderr.take().expect("stderr"));
        let w = Watching { child, out, err };
        eventually(WAIT, "Watch enabled", || {
            if ended(w.child.id()) {
                panic!("watch ended early: {}\n{}", w.out.text(), w.err.text());
            }
            w.out.text().contains("Watch enabled")
        });
        w
    }

    /// Ctrl-C; the exit code.
    fn interrupt(&mut self) -> Option<i32> {
        ok(&run(
            Command::new("kill").args(["-INT", &self.child.id().to_string()])
        ));
        let start = std::time::Instant::now();
        while start.elapsed() < WAIT {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("watch did not end on SIGINT");
    }

    fn syncs(&self) -> usize {
        self.out
            .text()
            .lines()
            .filter(|l| l.starts_with("Syncing service"))
            .count()
    }
}

/// Whether child `pid` has ended (a zombie not yet reaped, or gone).
fn ended(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.contains(") Z "))
        .unwrap_or(true)
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write(s: &Stack, rel: &str, text: &str) {
    let p = s.path().join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// The content of `path` in `container` (`None`: missing).
fn cat(s: &Stack, container: &str, path: &str) -> Option<String> {
    let o = s.exec(container, &["cat", path]);
    o.status.success().then(|| stdout(&o))
}

fn started_at(s: &Stack, container: &str) -> String {
    s.inspect(container)
        .state
        .and_then(|st| st.started_at)
        .unwrap_or_default()
}

const SLEEPER: &str = r#"sh -c 'trap "exit 0" TERM; sleep 1000 & wait'"#;

fn watch_syncs_every_replica_with_ignore_include_initial_sync_and_deletes() {
    let docker = docker();
    let yaml = format!(
        r#"
services:
  web:
    image: rcompose-test:latest
    command: {SLEEPER}
    scale: 2
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
          initial_sync: true
          ignore: [skip/, "*.tmp"]
        - path: ./conf
          target: /etc/web
          action: sync
          include: ["*.conf"]
"#
    );
    let s = Stack::new(&docker, "watch-sync", &yaml);
    write(&s, "src/old.txt", "old");
    write(&s, "src/skip/x.txt", "skipped");
    write(&s, "conf/placeholder.conf", "p");
    let mut w = Watching::start(&s, &["watch"]);
    let replicas = [format!("{}-web-1", s.name), format!("{}-web-2", s.name)];
    for c in &replicas {
        eventually(WAIT, "initial sync", || {
            cat(&s, c, "/app/old.txt").as_deref() == Some("old")
        });
        assert_eq!(cat(&s, c, "/app/skip/x.txt"), None, "ignored folder");
    }
    write(&s, "src/new/deep/a.txt", "new");
    write(&s, "src/b.tmp", "tmp");
    write(&s, "src/skip/y.txt", "skipped");
    write(&s, "conf/site.conf", "conf");
    write(&s, "conf/notes.txt", "notes");
    std::fs::remove_file(s.path().join("src/old.txt")).expect("rm");
    for c in &replicas {
        eventually(WAIT, "every replica synced", || {
            cat(&s, c, "/app/new/deep/a.txt").as_deref() == Some("new")
                && cat(&s, c, "/etc/web/site.conf").as_deref() == Some("conf")
                && cat(&s, c, "/app/old.txt").is_none()
        });
        assert_eq!(cat(&s, c, "/app/b.tmp"), None, "ignored pattern");
        assert_eq!(cat(&s, c, "/app/skip/y.txt"), None, "ignored folder");
        assert_eq!(cat(&s, c, "/etc/web/notes.txt"), None, "include narrows");
    }
    assert!(
        w.out.text().contains(r#"Syncing service "web" after"#),
        "{}",
        w.out.text()
    );
    assert_eq!(w.interrupt(), Some(130));
}

fn watch_syncs_two_thousand_files_in_one_batch() {
    let docker = docker();
    let yaml = format!(
        r#"
services:
  web:
    image: rcompose-test:latest
    command: {SLEEPER}
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
"#
    );
    let s = Stack::new(&docker, "watch-2000", &yaml);
    std::fs::create_dir_all(s.path().join("src")).expect("mkdir");
    let w = Watching::start(&s, &["watch"]);
    // A branch switch: a folder of 2,000 files appears at once.
    let staging = s.path().join("staging");
    std::fs::create_dir_all(staging.join("many")).expect("mkdir");
    for i in 0..2000 {
        std::fs::write(staging.join(format!("many/f{i}.txt")), format!("{i}")).expect("write");
    }
    std::fs::rename(staging.join("many"), s.path().join("src/many")).expect("rename");
    let c = format!("{}-web-1", s.name);
    eventually(WAIT, "2,000 files in the container", || {
        let o = s.exec(&c, &["sh", "-c", "ls /app/many | wc -l"]);
        stdout(&o).trim() == "2000"
    });
    assert_eq!(cat(&s, &c, "/app/many/f1999.txt").as_deref(), Some("1999"));
    assert_eq!(w.syncs(), 1, "one batch: {}", w.out.text());
    // Then 2,000 files written in place one by one: still few batches.
    for i in 0..2000 {
        std::fs::write(s.path().join(format!("src/many/f{i}.txt")), "v2").expect("write");
    }
    eventually(WAIT, "rewritten", || {
        cat(&s, &c, "/app/many/f1999.txt").as_deref() == Some("v2")
            && cat(&s, &c, "/app/many/f0.txt").as_deref() == Some("v2")
    });
    assert!(w.syncs() <= 6, "batched: {}", w.out.text());
}

fn watch_restart_sync_restart_and_sync_exec() {
    let docker = docker();
    let yaml = format!(
        r#"
services:
  r:
    image: rcompose-test:latest
    command: {SLEEPER}
    develop:
      watch:
        - path: ./r
          action: restart
  sr:
    image: rcompose-test:latest
    command: {SLEEPER}
    develop:
      watch:
        - path: ./sr/config.txt
          target: /cfg/config.txt
          action: sync+restart
  sx:
    image: rcompose-test:latest
    command: {SLEEPER}
    develop:
      watch:
        - path: ./sx
          target: /x
          action: sync+exec
          exec:
            command: sh -c 'cat /x/f > "$$DEST"; id -u > /x/uid; pwd > /x/pwd'
            user: "1000"
            working_dir: /tmp
            environment:
              DEST: /x/copied
"#
    );
    let s = Stack::new(&docker, "watch-actions", &yaml);
    write(&s, "r/a", "1");
    write(&s, "sr/config.txt", "one");
    std::fs::create_dir_all(s.path().join("sx")).expect("mkdir");
    let w = Watching::start(&s, &["watch"]);
    let (r, sr, sx) = (
        format!("{}-r-1", s.name),
        format!("{}-sr-1", s.name),
        format!("{}-sx-1", s.name),
    );
    // The exec runs as uid 1000: the folder must be writable by it.
    ok(&s.exec(&sx, &["sh", "-c", "mkdir -p /x && chmod 777 /x"]));
    let (r0, sr0) = (started_at(&s, &r), started_at(&s, &sr));
    write(&s, "r/a", "2");
    eventually(WAIT, "restart", || started_at(&s, &r) != r0);
    assert_eq!(cat(&s, &r, "/r/a"), None, "restart copies nothing");
    write(&s, "sr/config.txt", "two");
    eventually(WAIT, "sync+restart", || {
        started_at(&s, &sr) != sr0 && cat(&s, &sr, "/cfg/config.txt").as_deref() == Some("two")
    });
    write(&s, "sx/f", "payload");
    eventually(WAIT, "sync+exec", || {
        cat(&s, &sx, "/x/copied").as_deref() == Some("payload")
    });
    assert_eq!(cat(&s, &sx, "/x/uid").as_deref(), Some("1000\n"));
    assert_eq!(cat(&s, &sx, "/x/pwd").as_deref(), Some("/tmp\n"));
    // The reference's words, once each restart is done.
    for service in ["r", "sr"] {
        let said = format!("service(s) [\"{service}\"] restarted");
        eventually(WAIT, &said, || w.out.text().lines().any(|l| l == said));
    }
    drop(w);
}

fn watch_follows_folders_renamed_moved_out_and_moved_in() {
    let docker = docker();
    let s = Stack::fixture(&docker, "watch-rename");
    std::fs::create_dir_all(s.path().join("src")).expect("mkdir");
    let w = Watching::start(&s, &["watch"]);
    let c = format!("{}-web-1", s.name);
    let tree = || stdout(&s.exec(&c, &["find", "/app", "-type", "f"]));
    let has = |want: &[&str]| {
        let t = tree();
        let mut got: Vec<&str> = t.lines().collect();
        got.sort_unstable();
        got == want
    };
    write(&s, "src/d1/sub/f", "f");
    write(&s, "src/d1/g", "g");
    eventually(WAIT, "a new folder", || {
        has(&["/app/d1/g", "/app/d1/sub/f"])
    });
    let src = s.path().join("src");
    std::fs::rename(src.join("d1"), src.join("d2")).expect("rename");
    eventually(WAIT, "renamed", || has(&["/app/d2/g", "/app/d2/sub/f"]));
    // The renamed folder is watched under its new name.
    write(&s, "src/d2/sub/h", "h");
    eventually(WAIT, "written in the renamed folder", || {
        has(&["/app/d2/g", "/app/d2/sub/f", "/app/d2/sub/h"])
    });
    let outside = s.path().join("outside");
    std::fs::rename(src.join("d2"), &outside).expect("move out");
    eventually(WAIT, "moved out", || has(&[]));
    std::fs::rename(&outside, src.join("d3")).expect("move in");
    eventually(WAIT, "moved in", || {
        has(&["/app/d3/g", "/app/d3/sub/f", "/app/d3/sub/h"])
    });
    drop(w);
}

/// An image with no `rm` (nor a shell): busybox alone, not linked under its applet names.
struct NoRmImage(String);

impl NoRmImage {
    fn build() -> NoRmImage {
        let tag = format!("rcompose-e2e-norm:{}", std::process::id());
        let dir = fixture_dir();
        ok(&run(Command::new("docker")
            .args(["build", "-q", "-t", &tag])
            .arg(dir.path())));
        NoRmImage(tag)
    }
}

impl Drop for NoRmImage {
    fn drop(&mut self) {
        let _ = run(Command::new("docker").args(["rmi", "-f", &self.0]));
    }
}

fn watch_in_an_image_without_rm_syncs_and_says_in_one_line_what_it_cannot_delete() {
    let docker = docker();
    let image = NoRmImage::build();
    let yaml = format!(
        r#"
services:
  bare:
    image: {}
    command: ["/busybox", "sleep", "1000"]
    stop_signal: SIGKILL
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
"#,
        image.0
    );
    let s = Stack::new(&docker, "watch-norm", &yaml);
    write(&s, "src/keep.txt", "0");
    let w = Watching::start(&s, &["watch"]);
    let c = format!("{}-bare-1", s.name);
    let read = |path: &str| {
        let o = s.exec(&c, &["/busybox", "cat", path]);
        o.status.success().then(|| stdout(&o))
    };
    write(&s, "src/gone.txt", "1");
    eventually(WAIT, "synced without a shell", || {
        read("/app/gone.txt").as_deref() == Some("1")
    });
    std::fs::remove_file(s.path().join("src/gone.txt")).expect("rm");
    eventually(WAIT, "the deletion's message", || {
        w.err.text().contains("has no `rm`")
    });
    let err = w.err.text();
    let said: Vec<&str> = err.lines().filter(|l| l.contains("has no `rm`")).collect();
    assert_eq!(said.len(), 1, "one line, no trace:\n{err}");
    assert!(said[0].contains("/app/gone.txt"), "names the file: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    // Watching goes on.
    write(&s, "src/keep.txt", "2");
    eventually(WAIT, "a later change still syncs", || {
        read("/app/keep.txt").as_deref() == Some("2")
    });
    drop(w);
}

fn watch_rebuild_recreates_only_the_changed_service() {
    let docker = docker();
    let yaml = format!(
        r#"
services:
  app:
    build: ./app
    command: {SLEEPER}
    develop:
      watch:
        - path: ./app
          action: rebuild
  dep:
    image: rcompose-test:latest
    command: {SLEEPER}
    depends_on: [app]
  bystander:
    image: rcompose-test:latest
    command: {SLEEPER}
"#
    );
    let s = Stack::new(&docker, "watch-rebuild", &yaml);
    write(
        &s,
        "app/Dockerfile",
        "FROM rcompose-test:latest\nCOPY v.txt /v.txt\n",
    );
    write(&s, "app/v.txt", "v1");
    write(&s, "app/.dockerignore", "scratch/\n");
    let w = Watching::start(&s, &["watch"]);
    let (app, dep, by) = (
        format!("{}-app-1", s.name),
        format!("{}-dep-1", s.name),
        format!("{}-bystander-1", s.name),
    );
    eventually(WAIT, "all running", || {
        let cs = s.containers();
        cs.len() == 3 && cs.values().all(|c| c.state == "running")
    });
    let before = s.ids();
    let image = format!("{}-app", s.name);
    let old_image = stdout(&run(
        Command::new("docker").args(["image", "inspect", "-f", "{{.Id}}", &image])
    ))
    .trim()
    .to_string();
    let dep0 = started_at(&s, &dep);
    // A file the build context ignores triggers nothing.
    write(&s, "app/scratch/tmp.txt", "x");
    std::thread::sleep(Duration::from_millis(600));
    assert!(!w.out.text().contains("Rebuilding"), "{}", w.out.text());
    write(&s, "app/v.txt", "v2");
    eventually(Duration::from_secs(60), "app rebuilt and recreated", || {
        s.ids().get(&app) != before.get(&app) && cat(&s, &app, "/v.txt").as_deref() == Some("v2")
    });
    assert!(
        w.out
            .text()
            .contains(r#"Rebuilding service(s) ["app"] after changes were detected..."#),
        "{}",
        w.out.text()
    );
    assert_eq!(s.ids().get(&by), before.get(&by), "bystander untouched");
    assert_eq!(s.ids().get(&dep), before.get(&dep), "dependent kept...");
    eventually(WAIT, "...and restarted", || started_at(&s, &dep) != dep0);
    eventually(WAIT, "replaced image pruned", || {
        !run(Command::new("docker").args(["image", "inspect", &old_image]))
            .status
            .success()
    });
    let _ = run(Command::new("docker").args(["rmi", "-f", &image]));
}

fn watch_survives_a_restart_from_a_symlinked_folder_and_ctrl_c_leaves_the_stack_up() {
    let docker = docker();
    let yaml = format!(
        r#"
services:
  web:
    image: rcompose-test:latest
    command: {SLEEPER}
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
"#
    );
    let s = Stack::new(&docker, "watch-restart", &yaml);
    std::fs::create_dir_all(s.path().join("src")).expect("mkdir");
    let links = tempfile::tempdir().expect("tmp");
    let link = links.path().join("project");
    std::os::unix::fs::symlink(s.path(), &link).expect("symlink");
    let mut w = Watching::start_in(&s, &link, &["watch"]);
    let c = format!("{}-web-1", s.name);
    ok(&run(Command::new("docker").args(["restart", "-t", "0", &c])));
    std::fs::write(link.join("src/after.txt"), "after").expect("write");
    eventually(WAIT, "synced after the restart", || {
        cat(&s, &c, "/app/after.txt").as_deref() == Some("after")
    });
    assert_eq!(w.interrupt(), Some(130));
    let cs = s.containers();
    assert_eq!(cs.len(), 1);
    assert!(cs.values().all(|c| c.state == "running"), "stack left up");
}

fn up_watch_syncs_while_attached_and_refuses_detach() {
    let docker = docker();
    let yaml = r#"
services:
  web:
    image: rcompose-test:latest
    command: sh -c 'echo ready; trap "exit 0" TERM; sleep 1000 & wait'
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
"#;
    let s = Stack::new(&docker, "up-watch", yaml);
    std::fs::create_dir_all(s.path().join("src")).expect("mkdir");
    let refused = s.rcompose(&["up", "--watch", "-d"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--detach cannot be combined with"));
    let refused = s.rcompose(&["up", "-w", "--no-build"]);
    assert!(stderr(&refused).contains("--no-build and --watch are incompatible"));
    assert!(s.containers().is_empty(), "nothing created when refused");
    let w = Watching::start(&s, &["up", "--watch"]);
    eventually(WAIT, "attached", || w.out.text().contains("ready"));
    write(&s, "src/page.html", "<h1>hi</h1>");
    let c = format!("{}-web-1", s.name);
    eventually(WAIT, "synced", || {
        cat(&s, &c, "/app/page.html").as_deref() == Some("<h1>hi</h1>")
    });
    assert!(
        w.err.text().is_empty() || !w.err.text().contains("watch:"),
        "{}",
        w.err.text()
    );
}

/// The reference's refusals, word for word: a rebuild rule without `build`, no `develop`.
fn watch_refuses_what_the_reference_refuses() {
    let docker = docker();
    let cases = [
        (
            "services:\n  web:\n    image: rcompose-test:latest\n    develop:\n      watch:\n        - path: ./src\n          action: rebuild\n",
            "can't watch service \"web\" with action rebuild without a build context",
        ),
        (
            "services:\n  web:\n    image: rcompose-test:latest\n",
            "none of the selected services is configured for watch, consider setting a 'develop' section",
        ),
    ];
    for (yaml, msg) in cases {
        let s = Stack::new(&docker, "watch-refusals", yaml);
        let mine = s.rcompose(&["watch", "--no-up"]);
        let theirs = s.reference(&["watch", "--no-up"]);
        assert_eq!(mine.status.code(), Some(1));
        assert_eq!(theirs.status.code(), Some(1));
        assert!(stderr(&mine).contains(msg), "{}", stderr(&mine));
        assert!(stderr(&theirs).contains(msg), "{}", stderr(&theirs));
    }
}

crate::runner::cases! {
    engine:
        watch_syncs_every_replica_with_ignore_include_initial_sync_and_deletes,
        watch_syncs_two_thousand_files_in_one_batch,
        watch_restart_sync_restart_and_sync_exec,
        watch_in_an_image_without_rm_syncs_and_says_in_one_line_what_it_cannot_delete,
        watch_follows_folders_renamed_moved_out_and_moved_in,
        watch_rebuild_recreates_only_the_changed_service,
        watch_survives_a_restart_from_a_symlinked_folder_and_ctrl_c_leaves_the_stack_up,
        up_watch_syncs_while_attached_and_refuses_detach;
    reference:
        watch_refuses_what_the_reference_refuses;
}
