//! The scripting CLI on the real engine, its output formats checked against the reference on
//! the same stack: `ps --format json`, `ls --format json`, `port`, `images`; the exit codes of
//! `exec`, `run` and `wait`; and rcompose driven as a docker CLI plugin.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use crate::harness::*;

/// `ps --format json` lines by name, with the fields that differ by the moment masked.
fn ps_json(out: &str) -> BTreeMap<String, Value> {
    out.lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("json line");
            let o = v.as_object_mut().expect("object");
            for k in ["RunningFor", "Status", "CreatedAt"] {
                o.insert(k.into(), Value::Null);
            }
            // Go prints labels in random order: compare them as sets.
            let mut labels: Vec<String> = o["Labels"]
                .as_str()
                .unwrap_or("")
                .split(',')
                .map(str::to_string)
                .collect();
            labels.sort();
            o.insert("Labels".into(), Value::from(labels));
            (o["Name"].as_str().unwrap_or("").to_string(), v)
        })
        .collect()
}

fn output_formats_match_the_reference() {
    let docker = docker();
    let s = Stack::fixture(&docker, "formats");
    ok(&s.rcompose(&["up", "-d", "--wait", "db", "web"]));
    ok(&s.rcompose(&["up", "-d", "job"]));
    let job = format!("{}-job-1", s.name);
    eventually(std::time::Duration::from_secs(10), "job exited", || {
        s.containers()
            .get(&job)
            .is_some_and(|c| c.state == "exited")
    });

    let mine = ps_json(&stdout(ok(&s.rcompose(&["ps", "-a", "--format", "json"]))));
    let theirs = ps_json(&stdout(ok(&s.reference(&["ps", "-a", "--format", "json"]))));
    for (name, m) in &mine {
        let t = &theirs[name];
        for (k, v) in m.as_object().expect("object") {
            assert_eq!(v, &t[k], "{name}: {k}");
        }
    }
    assert_eq!(mine.len(), theirs.len());
    assert_eq!(mine.len(), 3);
    assert_eq!(mine[&format!("{}-job-1", s.name)]["ExitCode"], 3);
    assert_eq!(mine[&format!("{}-db-1", s.name)]["Health"], "healthy");

    for args in [
        vec!["ps"],
        vec!["ps", "-q"],
        vec!["ps", "--services"],
        vec!["ps", "--status", "exited"],
        vec!["port", "web", "80"],
        vec!["port", "web", "8080", "--protocol", "udp"],
        vec!["images", "-q"],
    ] {
        let strip = |o: &str| -> Vec<String> {
            let mut v: Vec<String> = o
                .lines()
                .map(|l| l.split("   ").next().unwrap_or("").trim().to_string())
                .collect();
            v.sort();
            v
        };
        let mine = stdout(ok(&s.rcompose(&args)));
        let theirs = stdout(ok(&s.reference(&args)));
        assert_eq!(strip(&mine), strip(&theirs), "{args:?}\n{mine}\n{theirs}");
    }
    assert_eq!(
        stdout(ok(&s.rcompose(&["top"]))),
        stdout(ok(&s.reference(&["top"]))),
        "top"
    );
    // Go templates, whole lines compared (the times in RunningFor may differ, so not those).
    for format in [
        "{{.Name}} {{.Service}} {{json .State}} {{.ExitCode}}",
        "table {{.ID}}\\t{{.Name}}\\t{{.Image}}\\t{{.Command}}\\t{{.State}}\\t{{.Ports}}\\t{{.Health}}",
    ] {
        let args = ["ps", "-a", "--format", format];
        let sorted = |o: &std::process::Output| {
            let mut l: Vec<String> = stdout(o).lines().map(str::to_string).collect();
            l.sort();
            l
        };
        let (mine, theirs) = (s.rcompose(&args), s.reference(&args));
        assert_eq!(sorted(ok(&mine)), sorted(ok(&theirs)), "{format}");
    }
    let o = s.rcompose(&["port", "web", "81"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no port 81/tcp for container"),
        "{}",
        stderr(&o)
    );

    // ls: a JSON array; our project's entry equals the reference's.
    let entry = |out: &str| -> Value {
        let all: Vec<Value> = serde_json::from_str(out).expect("json array");
        all.into_iter()
            .find(|p| p["Name"] == s.name.as_str())
            .expect("our project is listed")
    };
    let mine = entry(&stdout(ok(&s.rcompose(&["ls", "-a", "--format", "json"]))));
    let theirs = entry(&stdout(ok(&s.reference(&["ls", "-a", "--format", "json"]))));
    assert_eq!(mine, theirs);
    assert_eq!(mine["Status"], "exited(1), running(2)");

    // images --format json: the same objects (the reference's order is random).
    let sorted = |out: &str| -> Vec<Value> {
        let mut v: Vec<Value> = serde_json::from_str(out).expect("json array");
        v.sort_by_key(|x| x["ContainerName"].as_str().unwrap_or("").to_string());
        v
    };
    assert_eq!(
        sorted(&stdout(ok(&s.rcompose(&["images", "--format", "json"])))),
        sorted(&stdout(ok(&s.reference(&["images", "--format", "json"]))))
    );
}

fn exec_run_and_wait_return_the_process_exit_code() {
    let docker = docker();
    let s = Stack::fixture(&docker, "exec-run");
    ok(&s.rcompose(&["up", "-d", "--wait", "web", "db"]));

    let o = s.rcompose(&["exec", "web", "sh", "-c", "echo out; echo err >&2; exit 7"]);
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(stdout(&o), "out\n");
    assert_eq!(stderr(&o), "err\n");
    let o = ok(&s.rcompose(&[
        "exec",
        "-T",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "-u",
        "1000",
        "web",
        "sh",
        "-c",
        "echo $A $(pwd) $(id -u)",
    ]))
    .clone();
    assert_eq!(stdout(&o), "1 /tmp 1000\n");
    // Standard input goes through.
    let mut child = s
        .rcompose_cmd(&["exec", "-T", "web", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"piped\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "piped\n");
    let o = s.rcompose(&["exec", "job", "true"]);
    assert_eq!(o.status.code(), Some(1));

    // run: dependencies up and healthy, one-off name and labels, the container's exit code.
    let o = s.rcompose(&["run", "job"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let oneoffs: Vec<(String, Container)> = s
        .containers()
        .into_iter()
        .filter(|(_, c)| {
            c.labels
                .get("com.docker.compose.oneoff")
                .map(String::as_str)
                == Some("True")
        })
        .collect();
    assert_eq!(oneoffs.len(), 1);
    let (name, c) = &oneoffs[0];
    let slug = &c.labels["com.docker.compose.slug"];
    assert_eq!(slug.len(), 64);
    assert_eq!(name, &format!("{}-job-run-{}", s.name, &slug[..12]));
    let o = s.rcompose(&[
        "run",
        "--rm",
        "job",
        "sh",
        "-c",
        // A few tries: the engine's DNS can miss one on a loaded machine.
        "for i in 1 2 3 4 5; do nslookup db >/dev/null && exit 0; sleep 1; done; exit 9",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the database resolves from the one-off"
    );
    assert_eq!(s.containers().len(), 3, "--rm removed its container");
    let o = ok(&s.rcompose(&["run", "-d", "--name", "bg", "web"])).clone();
    assert_eq!(stdout(&o), "bg\n");

    // wait: the exit code of the container that stopped last.
    let o = s.rcompose(&["wait", "job"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stdout(&o).contains("exited with status code 3"),
        "{}",
        stdout(&o)
    );
    // down --remove-orphans takes the one-offs too.
    ok(&s.rcompose(&["down", "--remove-orphans"]));
    assert!(s.containers().is_empty());
}

fn docker_compose_runs_rcompose_as_a_cli_plugin() {
    let docker = docker();
    let s = Stack::fixture(&docker, "plugin");
    let config = tempfile::tempdir().expect("temp dir");
    let plugins = config.path().join("cli-plugins");
    std::fs::create_dir_all(&plugins).expect("mkdir");
    std::os::unix::fs::symlink(bin(), plugins.join("docker-compose")).expect("symlink");
    let docker_compose = |args: &[&str]| {
        run(Command::new("docker")
            .env("DOCKER_CONFIG", config.path())
            .arg("compose")
            .arg("-p")
            .arg(&s.name)
            .args(args)
            .current_dir(s.path()))
    };
    let v = ok(&docker_compose(&["version"])).clone();
    assert!(stdout(&v).contains("rcompose"), "{}", stdout(&v));
    ok(&docker_compose(&["up", "-d", "web"]));
    let ps = ok(&docker_compose(&["ps", "--format", "json"])).clone();
    assert!(stdout(&ps).contains(&format!("\"{}-web-1\"", s.name)));
    ok(&docker_compose(&["down"]));
    assert!(s.containers().is_empty());
}

fn cp_copies_both_ways() {
    let docker = docker();
    let s = Stack::fixture(&docker, "cp");
    ok(&s.rcompose(&["up", "-d", "web"]));
    let local = s.path().join("in.txt");
    std::fs::write(&local, "hello\n").expect("write");
    let local_s = local.display().to_string();
    // A file to a new name, then into an existing folder.
    ok(&s.rcompose(&["cp", &local_s, "web:/tmp/copied.txt"]));
    ok(&s.rcompose(&["cp", &local_s, "web:/data"]));
    let web = format!("{}-web-1", s.name);
    assert_eq!(
        stdout(ok(
            &s.exec(&web, &["cat", "/tmp/copied.txt", "/data/in.txt"])
        )),
        "hello\nhello\n"
    );
    // A folder out, to a new name and into an existing folder.
    ok(&s.exec(
        &web,
        &["sh", "-c", "mkdir -p /out/sub && echo x > /out/sub/f"],
    ));
    let back = s.path().join("back");
    ok(&s.rcompose(&["cp", "web:/out", &back.display().to_string()]));
    assert_eq!(
        std::fs::read_to_string(back.join("sub/f")).expect("read"),
        "x\n"
    );
    ok(&s.rcompose(&["cp", "web:/out", &back.display().to_string()]));
    assert_eq!(
        std::fs::read_to_string(back.join("out/sub/f")).expect("read"),
        "x\n"
    );
    let o = s.rcompose(&["cp", "nosuch:/x", "/tmp/x"]);
    assert_eq!(o.status.code(), Some(1));
}

fn build_honours_dockerignore_args_and_target_and_up_build_uses_it() {
    let docker = docker();
    let s = Stack::fixture(&docker, "build");
    let ctx = s.path().join("ctx");
    std::fs::create_dir_all(&ctx).expect("mkdir");
    let write = |name: &str, text: &str| std::fs::write(ctx.join(name), text).expect("write");
    write(
        "Dockerfile",
        "FROM rcompose-test:latest AS base\nARG GREETING=unset\nRUN echo \"$GREETING\" > /greeting\nCOPY . /ctx\nFROM base AS final\nRUN echo final > /stage\nFROM base AS dev\nRUN echo dev > /stage\n",
    );
    write(".dockerignore", "secret.txt\n*.log\n!keep.log\n");
    for f in ["secret.txt", "a.log", "keep.log", "code.txt"] {
        write(f, f);
    }
    let image = format!("{}-app", s.name);
    ok(&s.rcompose(&["build"]));
    ok(&s.rcompose(&["up", "-d"]));
    let app = format!("{}-app-1", s.name);
    let o = ok(&s.exec(&app, &["sh", "-c", "cat /greeting /stage; ls -a /ctx"])).clone();
    let text = stdout(&o);
    let files: Vec<&str> = text.lines().collect();
    assert_eq!(files[..2], ["hello", "dev"], "build arg and target stage");
    assert!(files.contains(&"keep.log") && files.contains(&"code.txt"));
    assert!(
        !files.contains(&"secret.txt") && !files.contains(&"a.log"),
        "{files:?}"
    );
    let labels = s.image_labels(&image);
    assert_eq!(labels.get("built.by").map(String::as_str), Some("rcompose"));

    // A changed Dockerfile: `up --build` rebuilds and recreates the container from the new image.
    let before = s.ids()[&app].clone();
    write(
        "Dockerfile",
        "FROM rcompose-test:latest AS base\nARG GREETING=unset\nRUN echo \"$GREETING again\" > /greeting\nCOPY . /ctx\nFROM base AS dev\nRUN echo dev > /stage\n",
    );
    ok(&s.rcompose(&["up", "-d"]));
    assert_eq!(
        s.ids()[&app],
        before,
        "without --build an existing image is used"
    );
    ok(&s.rcompose(&["up", "-d", "--build"]));
    assert_ne!(s.ids()[&app], before);
    assert_eq!(
        stdout(ok(&s.exec(&app, &["cat", "/greeting"]))),
        "hello again\n"
    );

    // A failing step is shown with its output.
    write(
        "Dockerfile",
        "FROM rcompose-test:latest AS dev\nRUN echo about to fail && exit 3\n",
    );
    let o = s.rcompose(&["build"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("RUN echo about to fail && exit 3"), "{err}");
    assert!(err.contains("about to fail"), "{err}");
    assert!(err.contains("returned a non-zero code: 3"), "{err}");
    let _ = run(Command::new("docker").args(["rmi", "-f", &image]));
}

fn unreachable_registry_gives_one_message_per_image_and_creates_nothing() {
    let docker = docker();
    // Port 1 on loopback refuses at once: no outside address is ever contacted.
    let s = Stack::fixture(&docker, "pull");
    let o = s.rcompose(&["pull", "--ignore-buildable"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    for image in ["127.0.0.1:1/nothing:1", "127.0.0.1:1/other"] {
        let msg = format!("pulling image `{image}` failed:");
        assert_eq!(err.matches(&msg).count(), 1, "{err}");
    }
    let o = s.rcompose(&["pull", "--ignore-buildable", "--ignore-pull-failures"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stderr(&o).matches("level=warning").count(),
        2,
        "{}",
        stderr(&o)
    );
    let o = s.rcompose(&["up", "-d", "a"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        s.networks().is_empty() && s.containers().is_empty(),
        "nothing created"
    );
    // pull_policy: never refuses a missing image before anything is created.
    s.use_file("pull-never.yaml");
    let o = s.rcompose(&["up", "-d"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("pull_policy is never"),
        "{}",
        stderr(&o)
    );
    assert!(s.networks().is_empty());
}

fn inline_dockerfile_and_extra_tags() {
    let docker = docker();
    // The extra tag named in the test's compose.yaml.
    let tag = "rcompose-e2e-inline-tag:v1";
    let s = Stack::fixture(&docker, "inline");
    let o = ok(&s.rcompose(&["up", "--build"])).clone();
    assert!(stdout(&o).contains("inl-1  | inline"), "{}", stdout(&o));
    let labels = s.image_labels(tag);
    assert!(
        labels.contains_key("dev.rcompose.test-image"),
        "the extra tag names the built image"
    );
    let image = format!("{}-inl", s.name);
    let _ = run(Command::new("docker").args(["rmi", "-f", &image, tag]));
}

fn run_builds_and_creates_its_network_and_down_rmi_removes_the_image() {
    let docker = docker();
    let s = Stack::fixture(&docker, "runnet");
    let image = format!("{}-tool", s.name);
    // Nothing exists yet: `run` builds the image and creates the default network itself.
    let o = ok(&s.rcompose(&["run", "--rm", "--build", "-T", "tool"])).clone();
    assert_eq!(stdout(&o), "from-build\n");
    assert_eq!(s.networks(), vec![format!("{}_default", s.name)]);
    let o = s.rcompose(&[
        "run",
        "--rm",
        "--no-deps",
        "-T",
        "tool",
        "sh",
        "-c",
        "exit 7",
    ]);
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert!(!s.image_labels(&image).is_empty(), "the built image exists");
    ok(&s.rcompose(&["down", "--rmi", "local"]));
    assert!(s.networks().is_empty());
    let gone = block_on(docker.inspect_image(&image));
    assert!(gone.is_err(), "down --rmi local removes {image}");
}

fn pull_never_run_capabilities_env_file_and_ps_orphans() {
    let docker = docker();
    let s = Stack::fixture(&docker, "flags");
    // `--pull never` with a missing image fails before anything is created.
    let o = s.rcompose(&["up", "-d", "--pull", "never"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("rcompose-e2e-missing:1"),
        "{}",
        stderr(&o)
    );
    assert!(s.containers().is_empty() && s.networks().is_empty());

    std::fs::write(s.path().join("run.env"), "FROM_FILE=yes\nK=file\n").expect("write");
    let o = ok(&s.rcompose(&[
        "run",
        "--rm",
        "-T",
        "--cap-add",
        "NET_ADMIN",
        "--cap-drop",
        "CHOWN",
        "--env-from-file",
        "run.env",
        "-e",
        "K=flag",
        "a",
        "sh",
        "-c",
        "echo $FROM_FILE $K; grep CapEff /proc/self/status",
    ]))
    .clone();
    let out = stdout(&o);
    assert!(out.starts_with("yes flag\n"), "{out}");
    let caps = u64::from_str_radix(out.split_whitespace().last().unwrap_or("0"), 16).unwrap_or(0);
    assert_ne!(caps & (1 << 12), 0, "NET_ADMIN added: {out}");
    assert_eq!(caps & 1, 0, "CHOWN dropped: {out}");

    ok(&s.rcompose(&["up", "-d", "a"]));
    s.use_file("sleeper.yaml");
    ok(&s.rcompose(&["up", "-d"]));
    let all = stdout(ok(&s.rcompose(&["ps", "--services"]))).clone();
    assert_eq!(all, "a\nc\n", "orphans are listed by default");
    let known = stdout(ok(&s.rcompose(&["ps", "--services", "--orphans=false"]))).clone();
    assert_eq!(known, "c\n");
}

cases! {
    engine:
        exec_run_and_wait_return_the_process_exit_code,
        docker_compose_runs_rcompose_as_a_cli_plugin,
        cp_copies_both_ways,
        build_honours_dockerignore_args_and_target_and_up_build_uses_it,
        unreachable_registry_gives_one_message_per_image_and_creates_nothing,
        inline_dockerfile_and_extra_tags,
        run_builds_and_creates_its_network_and_down_rmi_removes_the_image,
        pull_never_run_capabilities_env_file_and_ps_orphans;
    reference:
        output_formats_match_the_reference;
}
