//! `volumes`, `backup` and `restore` on the real engine: a round trip of a volume holding files
//! of several owners and modes, symlinks, hard links, empty folders, a 200 MB file and 10,000
//! small files, compared by `stat` and by checksum; the services stopped and started in
//! dependency order; no image made and no container left; a restore into a second project; a
//! corrupt archive that fails without touching the target.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use crate::harness::*;

const HELPER_LABEL: &str = "io.rcompose.volume-helper";

/// Fills the `data` volume through the running `db` container.
const FILL: &str = r#"set -e
cd /data
mkdir -p empty/deeper owned many
echo one > a
chown 123:456 a && chmod 640 a
ln a hard
ln -s a sym
ln -s ../a many/up
echo secret > owned/s && chown 1000:1000 owned/s && chmod 600 owned/s && chown 1000:1000 owned
chmod 700 owned
echo run > x && chmod 4755 x
touch -d '2001-02-03 04:05:06' empty
dd if=/dev/urandom of=big bs=1M count=200 2>/dev/null
cd many
for i in $(seq 1 10000); do echo "$i" > "f$i"; done
"#;

/// `stat` of every entry but the root, then the checksum of every file, of volume `vol`.
fn listing(vol: &str) -> String {
    listing_on(None, vol)
}

/// [`listing`] on the engine at `host` (`None`: this machine's).
fn listing_on(host: Option<&str>, vol: &str) -> String {
    let script = "cd /d && find . -mindepth 1 | sort | xargs stat -c '%n|%F|%u:%g|%a|%Y|%h|%s|%N' \
                  && find . -type f | sort | xargs sha256sum";
    let mut docker = Command::new("docker");
    if let Some(h) = host {
        docker.args(["-H", h]);
    }
    let o = run(docker.args([
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &format!("{vol}:/d:ro"),
        IMAGE,
        "sh",
        "-c",
        script,
    ]));
    ok(&o);
    stdout(&o)
}

fn inode_pair(vol: &str) -> (String, String) {
    let o = run(Command::new("docker").args([
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &format!("{vol}:/d:ro"),
        IMAGE,
        "stat",
        "-c",
        "%i",
        "/d/a",
        "/d/hard",
    ]));
    let text = stdout(ok(&o));
    let mut l = text.lines().map(str::to_string);
    (l.next().unwrap_or_default(), l.next().unwrap_or_default())
}

fn image_ids(docker: &bollard::Docker) -> HashSet<String> {
    block_on(docker.list_images(None::<bollard::query_parameters::ListImagesOptions>))
        .expect("list images")
        .into_iter()
        .filter(|i| i.repo_tags.is_empty() || i.repo_tags.iter().all(|t| t == "<none>:<none>"))
        .map(|i| i.id)
        .collect()
}

/// The helper containers left of the volumes of project `project` (the helper's label holds the
/// volume's name; the other test of this module runs beside this one with its own helpers).
fn helpers_left(project: &str) -> String {
    helpers_left_on(None, project)
}

/// [`helpers_left`] on the engine at `host` (`None`: this machine's).
fn helpers_left_on(host: Option<&str>, project: &str) -> String {
    let mut docker = Command::new("docker");
    if let Some(h) = host {
        docker.args(["-H", h]);
    }
    let out = stdout(ok(&run(docker.args([
        "ps",
        "-a",
        "--filter",
        &format!("label={HELPER_LABEL}"),
        "--format",
        &format!("{{{{.ID}}}} {{{{.Label \"{HELPER_LABEL}\"}}}}"),
    ]))));
    out.lines()
        .filter(|l| {
            l.split_once(' ')
                .is_some_and(|(_, vol)| vol.starts_with(&format!("{project}_")))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn time_of(s: &Stack, container: &str, field: &str) -> chrono::DateTime<chrono::FixedOffset> {
    let state = s.inspect(container).state.expect("state");
    let t = match field {
        "started" => state.started_at,
        _ => state.finished_at,
    }
    .expect("time");
    chrono::DateTime::parse_from_rfc3339(&t).expect("rfc3339")
}

fn volume_labels(s: &Stack, name: &str) -> std::collections::HashMap<String, String> {
    block_on(s.docker.inspect_volume(name))
        .expect("inspect volume")
        .labels
}

fn corrupt(from: &Path, to: &Path) {
    let mut bytes = std::fs::read(from).expect("read archive");
    // A byte inside the 200 MB file's data: the archive is a plain tar.
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(to, bytes).expect("write archive");
}

fn backup_restore_round_trip() {
    let docker = docker();
    let s = Stack::fixture(&docker, "backup_restore_round_trip");
    ok(&s.rcompose(&["up", "-d", "--wait"]));
    let db = format!("{}-db-1", s.name);
    let api = format!("{}-api-1", s.name);
    let web = format!("{}-web-1", s.name);
    ok(&s.exec(&db, &["sh", "-c", FILL]));
    let data = format!("{}_data", s.name);
    let before = listing(&data);
    assert!(before.lines().count() > 20_000, "the volume is filled");

    // `volumes`: the reference's columns, with the size and the services.
    let table = stdout(ok(&s.rcompose(&["volumes"])));
    let row = table
        .lines()
        .find(|l| l.contains(&data))
        .expect("the data volume is listed");
    assert!(row.contains("MB"), "{table}");
    assert!(row.trim_end().ends_with("api,db"), "{table}");
    let q = stdout(ok(&s.rcompose(&["volumes", "-q", "web"])));
    assert_eq!(q.trim(), format!("{}_cache", s.name));

    let images = image_ids(&docker);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("backup.tar");
    let f = file.to_string_lossy().to_string();
    let before_backup = chrono::Utc::now();
    ok(&s.rcompose(&["backup", "--compress", "none", "-o", &f]));
    // Stopped dependents first, started dependencies first, each after its condition.
    assert!(time_of(&s, &web, "finished") <= time_of(&s, &api, "finished"));
    assert!(time_of(&s, &api, "finished") <= time_of(&s, &db, "finished"));
    assert!(time_of(&s, &db, "finished") > before_backup);
    assert!(time_of(&s, &db, "started") < time_of(&s, &api, "started"));
    assert!(time_of(&s, &api, "started") < time_of(&s, &web, "started"));
    eventually(std::time::Duration::from_secs(30), "stack healthy", || {
        let c = s.containers();
        c.values().filter(|c| c.state == "running").count() == 3
            && s.inspect(&db)
                .state
                .and_then(|st| st.health)
                .and_then(|h| h.status)
                .map(|h| h.to_string())
                == Some("healthy".into())
    });
    assert_eq!(helpers_left(&s.name), "", "no helper container is left");
    assert!(
        image_ids(&docker).is_subset(&images),
        "no image was created"
    );
    // Read from the volume's folder (root, a local engine) or through the engine's archive
    // endpoint: the same entries, owners, modes, sizes, times and links.
    let through_api = dir.path().join("api.tar").to_string_lossy().to_string();
    ok(&run(s
        .rcompose_cmd(&["backup", "--compress", "none", "-o", &through_api])
        .env("RCOMPOSE_VOLUMES_API", "1")));
    let entries = |file: &str| -> String {
        let all = stdout(ok(&run(Command::new("tar").args([
            "--numeric-owner",
            "--full-time",
            "-tvf",
            file,
        ]))));
        all.lines()
            .filter(|l| l.contains(" volumes/"))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let local = entries(&f);
    assert!(local.lines().count() > 10_000, "{}", local.len());
    assert_eq!(local, entries(&through_api));
    // Plain tar reads it.
    let names = stdout(ok(&run(Command::new("tar").args(["-tf", &f]))));
    assert_eq!(names.lines().next(), Some("manifest.json"));
    assert!(names.contains("volumes/data/many/f10000"));

    // Into a second project: same files, owners, modes, links and times; the project's labels.
    let other = Stack::fixture(&docker, "backup_restore_round_trip");
    ok(&other.rcompose(&["restore", "-i", &f]));
    let other_data = format!("{}_data", other.name);
    assert_eq!(listing(&other_data), before);
    let (i1, i2) = inode_pair(&other_data);
    assert_eq!(i1, i2, "the hard link is one file");
    let labels = volume_labels(&other, &other_data);
    assert_eq!(labels.get(PROJECT_LABEL), Some(&other.name));
    assert_eq!(
        labels.get("com.docker.compose.volume").map(String::as_str),
        Some("data")
    );
    assert_eq!(labels.get("tier").map(String::as_str), Some("db"));
    assert_eq!(helpers_left(&other.name), "");
    assert!(image_ids(&docker).is_subset(&images));

    // Straight into another project on this engine, no file in between.
    let copy = Stack::fixture(&docker, "backup_restore_round_trip");
    ok(&s.rcompose(&["backup", "--to-project", &copy.name]));
    assert_eq!(listing(&format!("{}_data", copy.name)), before);
    assert_eq!(helpers_left(&copy.name), "");
    assert_eq!(helpers_left(&s.name), "");

    // Not over a volume with content, unless forced; a corrupt archive changes nothing.
    let again = other.rcompose(&["restore", "-i", &f]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));
    let bad = dir.path().join("bad.tar");
    corrupt(&file, &bad);
    let b = bad.to_string_lossy().to_string();
    let failed = other.rcompose(&["restore", "--force", "-i", &b]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(stderr(&failed).contains("checksum"), "{}", stderr(&failed));
    assert_eq!(listing(&other_data), before, "the target is untouched");
    // Into a new project: the volumes it made are removed again.
    let third = Stack::fixture(&docker, "backup_restore_round_trip");
    let failed = third.rcompose(&["restore", "-i", &b]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(third.volumes().is_empty(), "{:?}", third.volumes());
    assert_eq!(helpers_left(&third.name), "");
}

fn restore_streams_from_stdin_and_replaces_a_live_volume() {
    let docker = docker();
    let s = Stack::fixture(&docker, "backup_restore_round_trip");
    ok(&s.rcompose(&["up", "-d", "--wait"]));
    let db = format!("{}-db-1", s.name);
    ok(&s.exec(&db, &["sh", "-c", "echo first > /data/f"]));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("b.tar.zst");
    // To standard output, zstd by default.
    let out = s
        .rcompose_cmd(&["backup", "-o", "-", "data"])
        .output()
        .expect("backup");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(&out.stdout[..4], &[0x28, 0xb5, 0x2f, 0xfd], "zstd");
    std::fs::write(&file, &out.stdout).expect("write");
    ok(&s.exec(
        &db,
        &["sh", "-c", "echo second > /data/f; echo extra > /data/g"],
    ));
    // From standard input, over the live project's volume, through the engine's archive
    // endpoint (the other tests write local volumes into their folders).
    let restored = s
        .rcompose_cmd(&["restore", "--force", "-i", "-"])
        .env("RCOMPOSE_VOLUMES_API", "1")
        .stdin(std::fs::File::open(&file).expect("open"))
        .output()
        .expect("restore");
    ok(&restored);
    eventually(std::time::Duration::from_secs(30), "stack running", || {
        s.containers()
            .values()
            .filter(|c| c.state == "running")
            .count()
            == 3
    });
    let db_now = format!("{}-db-1", s.name);
    let content = stdout(ok(&s.exec(&db_now, &["sh", "-c", "cat /data/f; ls /data"])));
    assert_eq!(content, "first\nf\n");
    assert_eq!(helpers_left(&s.name), "");
}

/// Fills the `data` volume of the migration test: owners, modes, a symlink, a hard link.
const FILL_SMALL: &str = r#"set -e
cd /data
mkdir -p empty owned
echo one > a && chown 123:456 a && chmod 640 a
ln a hard
ln -s a sym
echo secret > owned/s && chown 1000:1000 owned/s owned && chmod 600 owned/s && chmod 700 owned
dd if=/dev/urandom of=big bs=1M count=8 2>/dev/null
"#;

/// The labels of volume `name` on the engine at `host`.
fn labels_on(host: &str, name: &str) -> std::collections::HashMap<String, String> {
    let o = run(Command::new("docker").args([
        "-H",
        host,
        "volume",
        "inspect",
        "--format",
        "{{json .Labels}}",
        name,
    ]));
    serde_json::from_str(stdout(ok(&o)).trim()).expect("labels")
}

fn migrates_to_another_engine() {
    let docker = docker();
    let mut lan = crate::hosts::Lan::new();
    let host = lan.host();
    host.load_image(IMAGE);
    let url = host.url();
    let s = Stack::fixture(&docker, "migrates_to_another_engine");
    ok(&s.rcompose(&["up", "-d"]));
    let db = format!("{}-db-1", s.name);
    ok(&s.exec(&db, &["sh", "-c", FILL_SMALL]));
    let data = format!("{}_data", s.name);
    let before = listing(&data);
    assert!(before.contains("|123:456|640|"), "{before}");
    // Nothing may be staged on disk: rcompose's temporary folder stays empty, and the
    // project's folder holds its compose file only.
    let tmp = tempfile::tempdir().expect("temp dir");
    let config = tempfile::tempdir().expect("docker config");
    let rcompose = |args: &[&str]| {
        let mut c = s.rcompose_cmd(args);
        c.env("TMPDIR", tmp.path())
            .env("DOCKER_CONFIG", config.path());
        run(&mut c)
    };
    let nothing_written = |when: &str| {
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("read temp dir")
            .collect();
        assert!(left.is_empty(), "{when}: files in TMPDIR: {left:?}");
        let files: Vec<_> = std::fs::read_dir(s.path())
            .expect("read project dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(files, ["compose.yaml"], "{when}");
    };
    let same_on_host = |when: &str| {
        assert_eq!(listing_on(Some(&url), &data), before, "{when}");
        let labels = labels_on(&url, &data);
        assert_eq!(labels.get(PROJECT_LABEL), Some(&s.name), "{when}");
        assert_eq!(
            labels.get("com.docker.compose.volume").map(String::as_str),
            Some("data"),
            "{when}"
        );
        assert_eq!(labels.get("tier").map(String::as_str), Some("db"), "{when}");
        assert_eq!(helpers_left_on(Some(&url), &s.name), "", "{when}");
        assert_eq!(helpers_left(&s.name), "", "{when}");
        nothing_written(when);
    };

    // Not into the engine it reads from (the volume would be replaced while read).
    let itself = rcompose(&[
        "backup",
        "--to-host",
        "unix:///var/run/docker.sock",
        "--force",
    ]);
    assert_eq!(itself.status.code(), Some(1), "{}", stderr(&itself));
    assert!(
        stderr(&itself).contains("is this one"),
        "{}",
        stderr(&itself)
    );

    // 1. --to-host.
    ok(&rcompose(&["backup", "--to-host", &url]));
    same_on_host("--to-host");
    assert_eq!(s.containers()[&db].state, "running", "started again");

    // The target has content now: refused before anything stops here; --force replaces it.
    let started = s.inspect(&db).state.and_then(|st| st.started_at);
    let again = rcompose(&["backup", "--to-host", &url]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));
    assert_eq!(s.inspect(&db).state.and_then(|st| st.started_at), started);
    ok(&rcompose(&["backup", "--to-host", &url, "--force"]));
    same_on_host("--to-host --force");

    // 2. --to-context, resolved from the docker config's context store.
    ok(&host.docker(&["volume", "rm", &data]));
    let ctx = format!("{}-target", s.name);
    let created = run(Command::new("docker")
        .env("DOCKER_CONFIG", config.path())
        .args([
            "context",
            "create",
            &ctx,
            "--docker",
            &format!("host={url}"),
        ]));
    ok(&created);
    let migrated = rcompose(&["backup", "--to-context", &ctx]);
    ok(&run(Command::new("docker")
        .env("DOCKER_CONFIG", config.path())
        .args(["context", "rm", "-f", &ctx])));
    ok(&migrated);
    same_on_host("--to-context");

    // 3. Through a pipe: `backup -o - | DOCKER_HOST=... restore -i -`.
    ok(&host.docker(&["volume", "rm", &data]));
    let mut backup = s
        .rcompose_cmd(&["backup", "-o", "-"])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("backup");
    let piped = backup.stdout.take().expect("stdout");
    let restored = s
        .rcompose_cmd(&["restore", "-i", "-"])
        .env("TMPDIR", tmp.path())
        .env("DOCKER_HOST", &url)
        .stdin(piped)
        .output()
        .expect("restore");
    let sent = backup.wait_with_output().expect("backup ends");
    assert!(
        sent.status.success() && restored.status.success(),
        "backup: {}\nrestore: {}",
        stderr(&sent),
        stderr(&restored)
    );
    same_on_host("a pipe");

    // 4. With --anonymous: the other engine has no container of the service yet; the restore
    // creates it there (not started, as `create`) and writes its anonymous volume.
    ok(&s.exec(&db, &["sh", "-c", "echo anon > /cache/note"]));
    ok(&host.docker(&["volume", "rm", &data]));
    ok(&rcompose(&["backup", "--anonymous", "--to-host", &url]));
    same_on_host("--anonymous");
    let there = host.docker(&["inspect", "--format", "{{.State.Status}}", &db]);
    assert_eq!(stdout(ok(&there)).trim(), "created");
    let note = host.docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--volumes-from",
        &db,
        IMAGE,
        "cat",
        "/cache/note",
    ]);
    assert_eq!(stdout(ok(&note)), "anon\n");
}

fn backup_includes_anonymous_volumes() {
    let docker = docker();
    let s = Stack::fixture(&docker, "backup_includes_anonymous_volumes");
    ok(&s.rcompose(&["up", "-d"]));
    let app = format!("{}-app-1", s.name);
    ok(&s.exec(
        &app,
        &[
            "sh",
            "-c",
            "echo anon > /cache/x/note && echo named > /data/d",
        ],
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let f = dir.path().join("b.tar").to_string_lossy().to_string();
    ok(&s.rcompose(&["backup", "--compress", "none", "-o", &f]));
    let names = stdout(ok(&run(Command::new("tar").args(["-tf", &f]))));
    assert!(names.contains("volumes/data/d"), "{names}");
    assert!(!names.contains("anon."), "only with --anonymous: {names}");
    ok(&s.rcompose(&["backup", "--anonymous", "--compress", "none", "-o", &f]));
    let names = stdout(ok(&run(Command::new("tar").args(["-tf", &f]))));
    assert!(names.contains("volumes/anon.app.1.cache.x/note"), "{names}");
    assert!(names.contains("volumes/data/d"), "{names}");
    assert_eq!(helpers_left(&s.name), "");

    // Found again in the second project's container of the same service, number and path.
    let other = Stack::fixture(&docker, "backup_includes_anonymous_volumes");
    // Without the compose file, the container cannot be made: refused, nothing changed.
    let bare = tempfile::tempdir().expect("temp dir");
    let none = run(Command::new(bin())
        .args(["-p", &other.name, "restore", "-i", &f])
        .current_dir(bare.path()));
    assert_eq!(none.status.code(), Some(1), "{}", stderr(&none));
    assert!(
        stderr(&none).contains("rcompose create app"),
        "{}",
        stderr(&none)
    );
    assert!(other.volumes().is_empty(), "nothing was changed");
    assert!(other.containers().is_empty(), "nothing was changed");
    // With it, the container is created (not started) as `create` would, then written into.
    ok(&other.rcompose(&["restore", "-i", &f]));
    let other_app = format!("{}-app-1", other.name);
    assert_eq!(other.containers()[&other_app].state, "created");
    ok(&other.rcompose(&["up", "-d"]));
    let got = stdout(ok(
        &other.exec(&other_app, &["sh", "-c", "cat /cache/x/note /data/d"])
    ));
    assert_eq!(got, "anon\nnamed\n");
    assert_eq!(other.containers()[&other_app].state, "running");
    // A second time, the anonymous volume has content: refused, with the way out.
    let again = other.rcompose(&["restore", "--force", "-i", &f]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("--renew-anon-volumes"),
        "{}",
        stderr(&again)
    );
    assert_eq!(helpers_left(&other.name), "");
}

fn backup_runs_the_services_hooks() {
    let docker = docker();
    let s = Stack::fixture(&docker, "backup_runs_the_services_hooks");
    ok(&s.rcompose(&["up", "-d"]));
    let db = format!("{}-db-1", s.name);
    let id = s.containers()[&db].id.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let f = dir.path().join("b.tar").to_string_lossy().to_string();
    ok(&s.rcompose(&["backup", "--compress", "none", "-o", &f]));
    // The pre hook ran in the running container (its hostname), before the copy.
    let dump = stdout(ok(&run(Command::new("tar").args([
        "-xOf",
        &f,
        "volumes/data/dump.sql",
    ]))));
    assert_eq!(dump, format!("dumped by {}\n", &id[..12]));
    // The post hook ran after it, in the container started again.
    let left = stdout(ok(&s.exec(&db, &["ls", "/data"])));
    assert_eq!(left, "pre-ran\n");

    // A failing pre hook: nothing stops, no archive, its output in the error.
    s.use_file("failing.yaml");
    let started = s.inspect(&db).state.and_then(|st| st.started_at);
    let g = dir.path().join("c.tar").to_string_lossy().to_string();
    let failed = s.rcompose(&["backup", "-o", &g]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let err = stderr(&failed);
    assert!(
        err.contains("pre-backup hook of service db failed"),
        "{err}"
    );
    assert!(
        err.contains("exit code 3") && err.contains("no dump today"),
        "{err}"
    );
    assert!(!Path::new(&g).exists() && !Path::new(&format!("{g}.partial")).exists());
    assert_eq!(s.inspect(&db).state.and_then(|st| st.started_at), started);
    assert_eq!(helpers_left(&s.name), "");
}

/// Sends SIGINT to `child` (a running `rcompose what`) and waits up to 60 s for it to end:
/// its exit status and stderr.
fn interrupt(child: &mut std::process::Child, what: &str) -> (std::process::ExitStatus, String) {
    ok(&run(Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} still runs 60 s after SIGINT");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    (status, err)
}

/// Ctrl-C while a backup copies: exit 130, the helper container removed, the stopped services
/// started again (dependencies first), no process left behind.
fn backup_interrupted_cleans_up() {
    let docker = docker();
    let s = Stack::fixture(&docker, "backup_interrupted_cleans_up");
    ok(&s.rcompose(&["up", "-d"]));
    let db = format!("{}-db-1", s.name);
    let web = format!("{}-web-1", s.name);
    ok(&s.exec(
        &db,
        &[
            "sh",
            "-c",
            "dd if=/dev/urandom of=/data/big bs=1M count=64 2>/dev/null",
        ],
    ));
    // To a pipe nobody reads: the copy blocks once the pipe is full, so it is surely under way.
    let mut child = s
        .rcompose_cmd(&["backup", "--compress", "none", "-o", "-"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn backup");
    let before = chrono::Utc::now();
    eventually(
        std::time::Duration::from_secs(30),
        "the copy started",
        || !helpers_left(&s.name).is_empty(),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        s.containers().values().all(|c| c.state != "running"),
        "the services are stopped for the copy"
    );
    let (status, err) = interrupt(&mut child, "backup");
    drop(child.stdout.take());
    assert_eq!(status.code(), Some(130), "{err}");
    assert_eq!(helpers_left(&s.name), "", "the helper container is removed");
    let c = s.containers();
    assert_eq!(c[&db].state, "running", "{err}");
    assert_eq!(c[&web].state, "running", "{err}");
    assert!(time_of(&s, &db, "started") > before);
    assert!(time_of(&s, &db, "started") <= time_of(&s, &web, "started"));
}

/// Feeds the first `part` bytes of `archive` to `rcompose restore ARGS -i -` of `s`, then, once
/// they are read and the copy is under way, sends Ctrl-C. Its exit status and stderr.
fn interrupt_restore(
    s: &Stack,
    args: &[&str],
    archive: &[u8],
    part: usize,
) -> (Option<i32>, String) {
    let mut cmd_args = vec!["restore"];
    cmd_args.extend_from_slice(args);
    cmd_args.extend_from_slice(&["-i", "-"]);
    let mut child = s
        .rcompose_cmd(&cmd_args)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn restore");
    let mut input = child.stdin.take().expect("stdin");
    let head = archive[..part].to_vec();
    let (fed_tx, fed_rx) = std::sync::mpsc::channel::<()>();
    let (end_tx, end_rx) = std::sync::mpsc::channel::<()>();
    let feeder = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut input, &head);
        let _ = fed_tx.send(());
        // Standard input stays open: the restore waits for the rest.
        let _ = end_rx.recv();
    });
    fed_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the restore read the first part of the archive");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        !helpers_left(&s.name).is_empty(),
        "the copy is under way when Ctrl-C comes"
    );
    let (status, err) = interrupt(&mut child, "restore");
    let _ = end_tx.send(());
    let _ = feeder.join();
    (status.code(), err)
}

/// Ctrl-C while a restore writes: exit 130, no helper left; a volume the restore created is
/// removed again, and one it was replacing is named as half-written; the services run again.
fn restore_interrupted_says_what_it_left() {
    let docker = docker();
    let s = Stack::fixture(&docker, "restore_interrupted_says_what_it_left");
    ok(&s.rcompose(&["up", "-d"]));
    let db = format!("{}-db-1", s.name);
    let web = format!("{}-web-1", s.name);
    ok(&s.exec(
        &db,
        &[
            "sh",
            "-c",
            "dd if=/dev/urandom of=/data/big bs=1M count=64 2>/dev/null",
        ],
    ));
    let backup = s
        .rcompose_cmd(&["backup", "--compress", "none", "-o", "-"])
        .output()
        .expect("backup");
    assert!(backup.status.success(), "{}", stderr(&backup));
    let archive = backup.stdout;
    let part = archive.len() / 2;

    // Into a project that has no such volume: the volume made for it is removed again.
    let other = Stack::fixture(&docker, "restore_interrupted_says_what_it_left");
    let (code, err) = interrupt_restore(&other, &[], &archive, part);
    let other_data = format!("{}_data", other.name);
    assert_eq!(code, Some(130), "{err}");
    assert!(
        err.contains(&format!(
            "the volumes this restore created were removed: {other_data}"
        )),
        "{err}"
    );
    assert!(
        !run(Command::new("docker").args(["volume", "inspect", &other_data]))
            .status
            .success(),
        "the half-written volume is gone"
    );
    assert_eq!(helpers_left(&other.name), "");

    // Over the live project's volume: named as half-written, the services started again.
    let data = format!("{}_data", s.name);
    let (code, err) = interrupt_restore(&s, &["--force"], &archive, part);
    assert_eq!(code, Some(130), "{err}");
    assert!(
        err.contains(&format!("these volumes are left half-written: {data}")),
        "{err}"
    );
    assert_eq!(helpers_left(&s.name), "");
    eventually(
        std::time::Duration::from_secs(30),
        "services running",
        || {
            let c = s.containers();
            c.get(&db).is_some_and(|c| c.state == "running")
                && c.get(&web).is_some_and(|c| c.state == "running")
        },
    );
}

cases! {
    engine:
        backup_restore_round_trip,
        restore_streams_from_stdin_and_replaces_a_live_volume,
        migrates_to_another_engine,
        backup_includes_anonymous_volumes,
        backup_runs_the_services_hooks,
        backup_interrupted_cleans_up,
        restore_interrupted_says_what_it_left;
}
