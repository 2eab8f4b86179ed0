//! The end-to-end harness: a unique project per test, the real `rcompose` binary, engine state
//! read through the Engine API, and cleanup by label even when the test fails.

use bollard::query_parameters::{
    InspectContainerOptions, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
    ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::Docker;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub(crate) use crate::runner::cases;

pub const IMAGE: &str = "rcompose-test:latest";
pub const PROJECT_LABEL: &str = "com.docker.compose.project";

/// A command that stops at once on SIGTERM, for compose files built in code (fixture files
/// under `testdata/` spell it out).
#[allow(dead_code)]
pub const IDLE: &str = r#"["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]"#;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Runs async engine calls from synchronous tests.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// Whether `CI` asks for every end-to-end test to run (a missing engine then fails them).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A fresh handle on the engine, if one answers within a few seconds. Whether it answers is
/// probed once per test binary; each caller gets its own handle (a handle's pooled connections
/// belong to the runtime that opened them).
pub fn engine() -> Option<Docker> {
    static ANSWERS: OnceLock<bool> = OnceLock::new();
    let connect = || {
        block_on(async {
            let d = Docker::connect_with_defaults().ok()?;
            tokio::time::timeout(Duration::from_secs(10), d.negotiate_version())
                .await
                .ok()?
                .ok()
        })
    };
    if !*ANSWERS.get_or_init(|| connect().is_some()) {
        return None;
    }
    connect()
}

/// The engine for a test registered as needing one: the harness runs such a test only when the
/// engine answered at start-up (or under CI, where its absence fails the test here).
#[track_caller]
pub fn docker() -> Docker {
    engine().expect("no Docker engine answers: the end-to-end tests cannot run")
}

/// Whether the reference `docker compose` v2 is installed (required under CI).
pub fn reference_available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        Command::new("docker")
            .args(["compose", "version"])
            .output()
            .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("v2."))
    })
}

/// The path of the built `rcompose` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rcompose"))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One test's project: a folder for its files and a unique name; removes everything labelled
/// with that name when dropped.
pub struct Stack {
    pub name: String,
    pub dir: tempfile::TempDir,
    pub docker: Docker,
}

impl Stack {
    /// A new project named after the test, with `compose.yaml` holding `yaml`.
    pub fn new(docker: &Docker, test: &str, yaml: &str) -> Stack {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("e2e-{}-{}-{n}", test.replace('_', "-"), std::process::id());
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("compose.yaml"), yaml).expect("write compose.yaml");
        let stack = Stack {
            name,
            dir,
            docker: docker.clone(),
        };
        stack.cleanup();
        stack
    }

    /// A new project whose folder is a copy of the running test's `testdata/<test>/` folder
    /// (its `compose.yaml` and any other file it needs).
    pub fn fixture(docker: &Docker, test: &str) -> Stack {
        let s = Stack::new(docker, test, "");
        copy_dir(&testdata(), s.path());
        s
    }

    /// Replaces `compose.yaml` with the file `name` of the test's own folder (a later state).
    pub fn use_file(&self, name: &str) {
        std::fs::copy(testdata().join(name), self.path().join("compose.yaml"))
            .unwrap_or_else(|e| panic!("testdata {name}: {e}"));
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `rcompose -p <name> ARGS` in the project folder.
    pub fn rcompose(&self, args: &[&str]) -> Output {
        run(Command::new(bin())
            .arg("-p")
            .arg(&self.name)
            .args(args)
            .current_dir(self.path()))
    }

    /// `rcompose -p <name> ARGS` in the project folder, not yet started.
    pub fn rcompose_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.arg("-p")
            .arg(&self.name)
            .args(args)
            .current_dir(self.path())
            .stdin(Stdio::null());
        c
    }

    /// Replaces `compose.yaml`.
    pub fn write(&self, yaml: &str) {
        std::fs::write(self.path().join("compose.yaml"), yaml).expect("write compose.yaml");
    }

    /// The ids of the project's containers by name.
    pub fn ids(&self) -> std::collections::BTreeMap<String, String> {
        self.containers()
            .into_iter()
            .map(|(n, c)| (n, c.id))
            .collect()
    }

    /// Runs the reference `docker compose -p <name> ARGS` in the project folder.
    pub fn reference(&self, args: &[&str]) -> Output {
        run(Command::new("docker")
            .arg("compose")
            .arg("-p")
            .arg(&self.name)
            .args(args)
            .current_dir(self.path()))
    }

    /// The project's containers by name: (id, state, labels).
    pub fn containers(&self) -> HashMap<String, Container> {
        block_on(list_containers(&self.docker, &self.name))
    }

    pub fn networks(&self) -> Vec<String> {
        block_on(async {
            let f = HashMap::from([(
                "label".to_string(),
                vec![format!("{PROJECT_LABEL}={}", self.name)],
            )]);
            let nets = self
                .docker
                .list_networks(Some(
                    ListNetworksOptionsBuilder::default().filters(&f).build(),
                ))
                .await
                .expect("list networks");
            let mut names: Vec<String> = nets.into_iter().filter_map(|n| n.name).collect();
            names.sort();
            names
        })
    }

    pub fn volumes(&self) -> Vec<String> {
        block_on(async {
            let f = HashMap::from([(
                "label".to_string(),
                vec![format!("{PROJECT_LABEL}={}", self.name)],
            )]);
            let vols = self
                .docker
                .list_volumes(Some(
                    ListVolumesOptionsBuilder::default().filters(&f).build(),
                ))
                .await
                .expect("list volumes");
            let mut names: Vec<String> = vols
                .volumes
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.name)
                .collect();
            names.sort();
            names
        })
    }

    /// The labels of an image.
    pub fn image_labels(&self, image: &str) -> HashMap<String, String> {
        block_on(self.docker.inspect_image(image))
            .expect("inspect image")
            .config
            .and_then(|c| c.labels)
            .unwrap_or_default()
    }

    /// Full inspect of a container.
    pub fn inspect(&self, container: &str) -> bollard::models::ContainerInspectResponse {
        block_on(
            self.docker
                .inspect_container(container, None::<InspectContainerOptions>),
        )
        .expect("inspect container")
    }

    /// Runs a command in a running container (through the docker CLI) and returns its output.
    pub fn exec(&self, container: &str, cmd: &[&str]) -> Output {
        run(Command::new("docker").arg("exec").arg(container).args(cmd))
    }

    /// Removes every container, network and volume labelled with this project.
    pub fn cleanup(&self) {
        block_on(remove_project(&self.docker, &self.name));
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// The running test's own folder: `tests/e2e/testdata/<test function>/`.
pub fn testdata() -> PathBuf {
    let dir = root()
        .join("tests/e2e/testdata")
        .join(crate::runner::current_test());
    assert!(dir.is_dir(), "missing test data folder {}", dir.display());
    dir
}

/// A temporary folder holding a copy of the running test's `testdata/<test>/` folder.
pub fn fixture_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&testdata(), dir.path());
    dir
}

/// Copies the files and folders of `from` into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read test data") {
        let e = e.expect("dir entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

/// A container as the tests see it.
#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub state: String,
    pub labels: HashMap<String, String>,
}

async fn list_containers(docker: &Docker, project: &str) -> HashMap<String, Container> {
    let f = HashMap::from([(
        "label".to_string(),
        vec![format!("{PROJECT_LABEL}={project}")],
    )]);
    let list = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&f)
                .build(),
        ))
        .await
        .expect("list containers");
    list.into_iter()
        .map(|c| {
            let name = c
                .names
                .unwrap_or_default()
                .first()
                .cloned()
                .unwrap_or_default();
            (
                name.trim_start_matches('/').to_string(),
                Container {
                    id: c.id.unwrap_or_default(),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    labels: c.labels.unwrap_or_default(),
                },
            )
        })
        .collect()
}

async fn remove_project(docker: &Docker, project: &str) {
    let f = HashMap::from([(
        "label".to_string(),
        vec![format!("{PROJECT_LABEL}={project}")],
    )]);
    for (name, _) in list_containers(docker, project).await {
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        let _ = docker.remove_container(&name, Some(opts)).await;
    }
    if let Ok(nets) = docker
        .list_networks(Some(
            ListNetworksOptionsBuilder::default().filters(&f).build(),
        ))
        .await
    {
        // By id: a project may hold two networks of one name.
        for n in nets.into_iter().filter_map(|n| n.id) {
            let _ = docker.remove_network(&n).await;
        }
    }
    if let Ok(vols) = docker
        .list_volumes(Some(
            ListVolumesOptionsBuilder::default().filters(&f).build(),
        ))
        .await
    {
        for v in vols.volumes.unwrap_or_default() {
            let _ = docker
                .remove_volume(
                    &v.name,
                    None::<bollard::query_parameters::RemoveVolumeOptions>,
                )
                .await;
        }
    }
}

/// Runs a command with no standard input and returns its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run command")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and shows both streams when it is not.
#[track_caller]
pub fn ok(o: &Output) -> &Output {
    assert!(
        o.status.success(),
        "command failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    o
}

/// Polls `check` until it holds or `timeout` passes.
#[track_caller]
pub fn eventually(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {timeout:?} waiting for: {what}");
}

/// A child's output, read by a thread as it comes, so a test can poll it with [`eventually`].
pub struct Reader {
    text: std::sync::Arc<std::sync::Mutex<String>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Reader {
    pub fn new(mut from: impl std::io::Read + Send + 'static) -> Reader {
        let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = text.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let chunk = String::from_utf8_lossy(&buf[..n]).into_owned();
                sink.lock().expect("output lock").push_str(&chunk);
            }
        });
        Reader {
            text,
            thread: Some(thread),
        }
    }

    /// What was read so far.
    pub fn text(&self) -> String {
        self.text.lock().expect("output lock").clone()
    }

    /// Everything, once the stream has ended.
    pub fn finish(mut self) -> String {
        if let Some(t) = self.thread.take() {
            t.join().expect("reader thread");
        }
        self.text()
    }
}

/// Held by every test that puts the engine in swarm mode, and by the tests that need it out of
/// swarm mode (the overlay-without-swarm preflight): the runner runs tests in parallel threads.
pub static SWARM_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The engine's swarm state (`active`, `inactive`).
pub fn swarm_state() -> String {
    let o = run(Command::new("docker").args(["info", "-f", "{{.Swarm.LocalNodeState}}"]));
    stdout(&o).trim().to_string()
}

/// A single-node swarm for one test: takes [`SWARM_LOCK`], inits the swarm when the engine is
/// not in one, and on drop removes the test's stacks and leaves the swarm it made (also when
/// the test fails).
pub struct Swarm {
    made: bool,
    /// Whether `docker_gwbridge` (which the engine makes for swarm) was there before.
    had_gwbridge: bool,
    pub stacks: std::cell::RefCell<Vec<String>>,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl Swarm {
    pub fn join() -> Swarm {
        let lock = SWARM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let made = swarm_state() != "active";
        let had_gwbridge =
            run(Command::new("docker").args(["network", "inspect", "docker_gwbridge"]))
                .status
                .success();
        if made {
            ok(&run(Command::new("docker").args([
                "swarm",
                "init",
                "--advertise-addr",
                "127.0.0.1",
            ])));
        }
        Swarm {
            made,
            had_gwbridge,
            stacks: Default::default(),
            _lock: lock,
        }
    }

    /// A stack name for this test, removed on drop.
    pub fn stack(&self, name: &str) -> String {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{name}{}x{n}", std::process::id());
        self.stacks.borrow_mut().push(name.clone());
        name
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        for s in self.stacks.borrow().iter() {
            let _ = run(Command::new("docker").args(["stack", "rm", s]));
        }
        // The volumes the stacks' tasks made stay after `stack rm`: removed once their
        // containers are gone.
        for s in self.stacks.borrow().iter() {
            let label = format!("label=com.docker.stack.namespace={s}");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                let left = run(Command::new("docker").args(["ps", "-aq", "--filter", &label]));
                if String::from_utf8_lossy(&left.stdout).trim().is_empty() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            let vols = run(Command::new("docker").args(["volume", "ls", "-q", "--filter", &label]));
            for v in String::from_utf8_lossy(&vols.stdout).split_whitespace() {
                let _ = run(Command::new("docker").args(["volume", "rm", v]));
            }
        }
        if self.made {
            let _ = run(Command::new("docker").args(["swarm", "leave", "--force"]));
            if !self.had_gwbridge {
                let _ = run(Command::new("docker").args(["network", "rm", "docker_gwbridge"]));
            }
        }
    }
}
