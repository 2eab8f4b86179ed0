//! `watch` and `up --watch`: file changes under the `develop.watch` rules become syncs (one tar
//! stream per batch into every container of the service, through the archive endpoint),
//! deletions (`rm -rf` in the container), restarts, execs and rebuilds.
//!
//! Watches are inotify (notify) watches of single folders, added only for folders no ignore
//! rule covers, and for new folders as they appear. Events are batched: a batch is flushed after
//! a quiet period (`RCOMPOSE_WATCH_QUIET_MS`, 60 ms by default) or, during a stream of
//! changes, after a maximum latency (`RCOMPOSE_WATCH_MAX_LATENCY_MS`, 1 s).

mod rules;

use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::engine::{ContainerSummary, Engine, EngineError, ErrorKind, ExecRequest, Output};
use super::{labels, observe, Error, Runtime, UpOptions};
use crate::graph::reconcile::{Recreate, UpPlanOptions};
use crate::parse::develop::{Develop, WatchAction};
use crate::parse::Project;
use rules::Rule;

/// How `watch` runs.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Remove the images a rebuild replaced.
    pub prune: bool,
    /// Build without printing progress.
    pub quiet_build: bool,
    /// A batch is flushed after this long without a new change...
    pub quiet: Duration,
    /// ... or this long after its first change.
    pub max_latency: Duration,
}

fn env_ms(key: &str, default: u64) -> Duration {
    Duration::from_millis(
        std::env::var(key)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default),
    )
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            prune: true,
            quiet_build: false,
            quiet: env_ms("RCOMPOSE_WATCH_QUIET_MS", 60),
            max_latency: env_ms("RCOMPOSE_WATCH_MAX_LATENCY_MS", 1000),
        }
    }
}

/// What `watch` tells its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// Watches are in place.
    Enabled,
    Syncing {
        service: String,
        changes: usize,
    },
    Rebuilding {
        services: Vec<String>,
    },
    /// A service's containers were restarted.
    Restarted {
        service: String,
    },
    Warning(String),
    /// An action failed; watching goes on.
    Failed(String),
}

/// Where watch events go.
pub type WatchReporter = Arc<dyn Fn(WatchEvent) + Send + Sync>;

/// The inotify hint, when the system's limit on watches is reached.
const LIMIT_HINT: &str = "the system's limit on file watches is reached. Run 'sysctl fs.inotify.max_user_watches' to check it; to raise it, run 'sudo sysctl fs.inotify.max_user_watches=524288'";

fn watch_error(dir: &Path, e: notify::Error) -> EngineError {
    let msg = match e.kind {
        notify::ErrorKind::MaxFilesWatch => LIMIT_HINT.to_string(),
        _ => format!("cannot watch {}: {e}", dir.display()),
    };
    EngineError::new(ErrorKind::Api, msg)
}

/// The folders watched, and the watcher.
struct Watches {
    watcher: notify::RecommendedWatcher,
    dirs: HashSet<PathBuf>,
}

impl Watches {
    fn add(&mut self, dir: &Path) -> Result<(), EngineError> {
        use notify::Watcher;
        if self.dirs.contains(dir) {
            return Ok(());
        }
        match self.watcher.watch(dir, notify::RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.dirs.insert(dir.to_path_buf());
                Ok(())
            }
            // Gone already (a folder created and removed at once).
            Err(_) if !dir.exists() => Ok(()),
            Err(e) => Err(watch_error(dir, e)),
        }
    }

    /// Watches every folder under `dir` that `rules` do not skip, each before it is read (what
    /// is written there meanwhile is then either found or reported); files found go to `found`.
    fn walk(
        &mut self,
        dir: &Path,
        rules: &[&Rule],
        found: &mut Vec<PathBuf>,
    ) -> Result<(), EngineError> {
        let mut failed = None;
        rules::walk(
            dir,
            rules,
            &mut |d| {
                if failed.is_none() {
                    failed = self.add(d).err();
                }
            },
            found,
        );
        failed.map_or(Ok(()), Err)
    }
}

/// The changes of one batch, by rule.
type Batch = BTreeMap<usize, BTreeSet<PathBuf>>;

/// Files under new folder `dir` that rules want (and watches for its folders).
fn expand(
    rules: &[Rule],
    watches: &mut Watches,
    dir: &Path,
    found: &mut Vec<PathBuf>,
) -> Result<(), EngineError> {
    let all: Vec<&Rule> = rules.iter().collect();
    watches.walk(dir, &all, found)
}

/// Adds a changed path to the batch, for every rule that wants it.
fn note(rules: &[Rule], batch: &mut Batch, path: &Path) {
    for (i, r) in rules.iter().enumerate() {
        if r.wants(path) {
            batch.entry(i).or_default().insert(path.to_path_buf());
        }
    }
}

impl Runtime {
    /// Watches the `develop` rules of the services until the future is dropped (Ctrl-C) or a
    /// watch cannot be set.
    pub async fn watch(
        &self,
        project: Arc<Project>,
        develop: Vec<(String, Develop)>,
        opts: WatchOptions,
        tell: WatchReporter,
    ) -> Result<(), Error> {
        let mut rules = Vec::new();
        for (service, d) in develop {
            let Some(svc) = project.services.get(&service) else {
                continue;
            };
            for w in &d.warnings {
                tell(WatchEvent::Warning(w.clone()));
            }
            for rule in d.rules {
                if rule.action.syncs()
                    && crate::parse::develop::bind_mounted(svc, &rule.path).is_some()
                {
                    tell(WatchEvent::Warning(format!(
                        "path '{}' also declared by a bind mount volume, this path won't be monitored!",
                        rule.path.display()
                    )));
                    continue;
                }
                let r = Rule::new(svc, rule).map_err(|e| {
                    EngineError::new(ErrorKind::Api, format!("service {service}: {e}"))
                })?;
                rules.push(r);
            }
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<notify::Result<notify::Event>>();
        let watcher = notify::recommended_watcher(move |ev| {
            let _ = tx.send(ev);
        })
        .map_err(|e| EngineError::new(ErrorKind::Api, format!("cannot start watching: {e}")))?;
        let mut watches = Watches {
            watcher,
            dirs: HashSet::new(),
        };
        // Watches first, then the initial sync: a change made meanwhile is not lost.
        let mut initial: Batch = Batch::new();
        for (i, r) in rules.iter().enumerate() {
            if r.file {
                watches.add(&r.watch_dir())?;
                if r.rule.initial_sync && r.rule.action.syncs() {
                    initial.entry(i).or_default().insert(r.root.clone());
                }
                continue;
            }
            if !r.root.is_dir() {
                tell(WatchEvent::Warning(format!(
                    "path '{}' does not exist: nothing to watch there yet",
                    r.rule.path.display()
                )));
                continue;
            }
            let mut files = Vec::new();
            watches.walk(&r.root, &[r], &mut files)?;
            if r.rule.initial_sync && r.rule.action.syncs() {
                let set = initial.entry(i).or_default();
                set.extend(files.into_iter().filter(|f| r.wants(f)));
            }
        }
        tell(WatchEvent::Enabled);
        if !initial.is_empty() {
            self.act(&project, &rules, initial, &opts, &tell).await;
        }
        let rules = rules;
        loop {
            let Some(first) = rx.recv().await else {
                return Ok(());
            };
            let mut batch = Batch::new();
            let mut pending = vec![first];
            let start = Instant::now();
            let mut last = start;
            loop {
                for ev in pending.drain(..) {
                    let ev = match ev {
                        Ok(ev) => ev,
                        Err(e) => {
                            if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) {
                                tell(WatchEvent::Failed(LIMIT_HINT.into()));
                            }
                            continue;
                        }
                    };
                    if !relevant(&ev.kind) {
                        continue;
                    }
                    for p in ev.paths {
                        if p.is_dir() {
                            let mut found = Vec::new();
                            if let Err(e) = expand(&rules, &mut watches, &p, &mut found) {
                                tell(WatchEvent::Failed(e.message));
                            }
                            note(&rules, &mut batch, &p);
                            for f in found {
                                note(&rules, &mut batch, &f);
                            }
                        } else {
                            if !p.exists() {
                                watches.dirs.remove(&p);
                            }
                            note(&rules, &mut batch, &p);
                        }
                    }
                }
                let deadline = (last + opts.quiet).min(start + opts.max_latency);
                match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
                    Ok(Some(ev)) => {
                        pending.push(ev);
                        last = Instant::now();
                    }
                    Ok(None) | Err(_) => break,
                }
            }
            if !batch.is_empty() {
                self.act(&project, &rules, batch, &opts, &tell).await;
            }
        }
    }

    /// Performs one batch: rebuilds, then syncs (services in parallel), restarts, execs.
    async fn act(
        &self,
        project: &Arc<Project>,
        rules: &[Rule],
        batch: Batch,
        opts: &WatchOptions,
        tell: &WatchReporter,
    ) {
        let mut rebuild: BTreeSet<String> = BTreeSet::new();
        let mut sync: BTreeMap<String, Vec<(usize, Vec<PathBuf>)>> = BTreeMap::new();
        let mut restart: BTreeSet<String> = BTreeSet::new();
        let mut exec: Vec<usize> = Vec::new();
        for (i, paths) in batch {
            let r = &rules[i];
            match r.rule.action {
                WatchAction::Rebuild => {
                    rebuild.insert(r.service.clone());
                }
                WatchAction::Restart => {
                    restart.insert(r.service.clone());
                }
                a => {
                    sync.entry(r.service.clone())
                        .or_default()
                        .push((i, paths.into_iter().collect()));
                    match a {
                        WatchAction::SyncRestart => {
                            restart.insert(r.service.clone());
                        }
                        WatchAction::SyncExec => exec.push(i),
                        _ => {}
                    }
                }
            }
        }
        if !rebuild.is_empty() {
            let services: Vec<String> = rebuild.iter().cloned().collect();
            tell(WatchEvent::Rebuilding {
                services: services.clone(),
            });
            if let Err(e) = self.rebuild(project, &services, opts).await {
                tell(WatchEvent::Failed(format!(
                    "rebuilding {}: {e}",
                    services.join(", ")
                )));
            }
        }
        // A rebuilt service has the new files already.
        let syncs = sync.into_iter().filter(|(s, _)| !rebuild.contains(s)).map(
            |(service, work)| async move {
                let changes: usize = work.iter().map(|(_, p)| p.len()).sum();
                tell(WatchEvent::Syncing {
                    service: service.clone(),
                    changes,
                });
                if let Err(e) = self.sync(project, rules, &service, &work).await {
                    tell(WatchEvent::Failed(e.message));
                }
            },
        );
        futures::future::join_all(syncs).await;
        for service in restart.iter().filter(|s| !rebuild.contains(*s)) {
            match self.restart_service(project, service).await {
                Ok(()) => tell(WatchEvent::Restarted {
                    service: service.clone(),
                }),
                Err(e) => tell(WatchEvent::Failed(e.message)),
            }
        }
        let execs = exec
            .into_iter()
            .filter(|i| !rebuild.contains(&rules[*i].service))
            .map(|i| async move {
                if let Err(e) = self.exec_rule(project, &rules[i]).await {
                    tell(WatchEvent::Failed(e.message));
                }
            });
        futures::future::join_all(execs).await;
    }

    /// Every container of `service` (stopped ones too), not one-off ones.
    async fn service_containers(
        &self,
        project: &Project,
        service: &str,
    ) -> Result<Vec<ContainerSummary>, EngineError> {
        let all = observe::containers(self.engine.as_ref(), &project.name).await?;
        Ok(all
            .into_iter()
            .filter(|c| c.labels.get(labels::SERVICE).map(String::as_str) == Some(service))
            .filter(|c| c.labels.get(labels::ONEOFF).map(String::as_str) != Some("True"))
            .collect())
    }

    /// Copies the changed files into every container of `service` (one tar), and deletes there
    /// what is gone here.
    async fn sync(
        &self,
        project: &Project,
        rules: &[Rule],
        service: &str,
        work: &[(usize, Vec<PathBuf>)],
    ) -> Result<(), EngineError> {
        let fail = |e: std::io::Error| {
            EngineError::new(ErrorKind::Api, format!("syncing service {service}: {e}"))
        };
        let mut tar = tar::Builder::new(Vec::new());
        tar.follow_symlinks(false);
        let mut written: HashSet<String> = HashSet::new();
        let mut dirs_written: HashSet<String> = HashSet::new();
        let mut deletes: Vec<String> = Vec::new();
        for (i, paths) in work {
            let r = &rules[*i];
            let target = r
                .rule
                .target
                .as_deref()
                .unwrap_or("/")
                .trim_end_matches('/')
                .to_string();
            for p in paths {
                let Some(dest) = r.container_path(p) else {
                    continue;
                };
                let meta = match std::fs::symlink_metadata(p) {
                    Ok(m) => m,
                    Err(_) => {
                        deletes.push(dest);
                        continue;
                    }
                };
                // The folders between the target and the file, owned by the container's user.
                let mut parent = Path::new(&dest).parent();
                let mut implied = Vec::new();
                while let Some(d) = parent {
                    let ds = d.to_string_lossy().into_owned();
                    if ds.len() <= target.len() || !ds.starts_with(&target) {
                        break;
                    }
                    implied.push(ds);
                    parent = d.parent();
                }
                for d in implied.into_iter().rev() {
                    if dirs_written.insert(d.clone()) {
                        let mut h = tar::Header::new_gnu();
                        h.set_entry_type(tar::EntryType::Directory);
                        h.set_mode(0o755);
                        h.set_size(0);
                        h.set_mtime(
                            std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .map(|d| d.as_secs())
                                .unwrap_or(0),
                        );
                        tar.append_data(
                            &mut h,
                            format!("{}/", d.trim_start_matches('/')),
                            std::io::empty(),
                        )
                        .map_err(fail)?;
                    }
                }
                let name = dest.trim_start_matches('/').to_string();
                if meta.is_dir() {
                    if dirs_written.insert(dest.clone()) {
                        tar.append_dir(&name, p).map_err(fail)?;
                    }
                } else if written.insert(dest.clone()) {
                    match tar.append_path_with_name(p, &name) {
                        Ok(()) => {}
                        // Removed since the event: delete it there too.
                        Err(_) if !p.exists() => deletes.push(dest),
                        Err(e) => return Err(fail(e)),
                    }
                }
            }
        }
        let tar = tar.into_inner().map_err(fail)?;
        let containers = self.service_containers(project, service).await?;
        let engine = self.engine.as_ref();
        let copy = !written.is_empty() || !dirs_written.is_empty();
        let copies = containers.iter().map(|c| {
            let tar = tar.clone();
            let deletes = &deletes;
            async move {
                if copy {
                    engine.upload_owned(&c.name, "/", tar).await.map_err(|e| {
                        EngineError::new(
                            e.kind,
                            format!("syncing service {service} into {}: {e}", c.name),
                        )
                    })?;
                }
                if !deletes.is_empty() && c.state == "running" {
                    delete(engine, &c.name, deletes).await?;
                }
                Ok::<(), EngineError>(())
            }
        });
        let errors: Vec<EngineError> = futures::future::join_all(copies)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect();
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Restarts every container of `service`, in parallel.
    async fn restart_service(&self, project: &Project, service: &str) -> Result<(), EngineError> {
        let containers = self.service_containers(project, service).await?;
        let engine = self.engine.as_ref();
        let restarts = containers
            .iter()
            .map(|c| async move { engine.restart_container(&c.name, None).await });
        for r in futures::future::join_all(restarts).await {
            r.map_err(|e| EngineError::new(e.kind, format!("restarting service {service}: {e}")))?;
        }
        Ok(())
    }

    /// Runs a `sync+exec` rule's command in every running container of its service.
    async fn exec_rule(&self, project: &Project, rule: &Rule) -> Result<(), EngineError> {
        let Some(x) = &rule.rule.exec else {
            return Ok(());
        };
        let containers = self.service_containers(project, &rule.service).await?;
        let request = ExecRequest {
            cmd: x.command.clone(),
            env: x
                .environment
                .iter()
                .filter_map(|(k, v)| {
                    v.clone()
                        .or_else(|| std::env::var(k).ok())
                        .map(|v| format!("{k}={v}"))
                })
                .collect(),
            user: x.user.clone(),
            workdir: x.working_dir.clone(),
            privileged: x.privileged,
            attach_output: true,
            ..Default::default()
        };
        let engine = self.engine.as_ref();
        let runs = containers.iter().filter(|c| c.state == "running").map(|c| {
            let request = &request;
            async move {
                let (code, out) = run(engine, &c.name, request).await?;
                if code != 0 {
                    return Err(EngineError::new(
                        ErrorKind::Api,
                        format!(
                            "service {}: `{}` exited with code {code} in {}: {}",
                            rule.service,
                            request.cmd.join(" "),
                            c.name,
                            out.trim()
                        ),
                    ));
                }
                Ok(())
            }
        });
        for r in futures::future::join_all(runs).await {
            r?;
        }
        Ok(())
    }

    /// Builds `services`, recreates their containers (anonymous volumes kept), restarts the
    /// services that depend on them, and removes the images they replaced.
    async fn rebuild(
        &self,
        project: &Arc<Project>,
        services: &[String],
        opts: &WatchOptions,
    ) -> Result<(), Error> {
        let before = self.image_ids(project).await;
        let builder = if opts.quiet_build {
            self.quiet()
        } else {
            self.clone()
        };
        builder
            .build(project, services, false, &Default::default())
            .await?;
        let lock = super::ProjectLock::acquire(&project.name).await?;
        let up = UpOptions {
            plan: UpPlanOptions {
                services: services.to_vec(),
                no_deps: true,
                recreate: Recreate::Always,
                ..Default::default()
            },
            ..Default::default()
        };
        self.up_locked(project.clone(), &up, Some(lock)).await?;
        let dependents: Vec<&String> = project
            .services
            .values()
            .filter(|s| !services.contains(&s.name))
            .filter(|s| s.depends_on.keys().any(|d| services.contains(d)))
            .map(|s| &s.name)
            .collect();
        for d in dependents {
            self.restart_service(project, d).await?;
        }
        if opts.prune {
            let after = self.image_ids(project).await;
            for s in services {
                if let (Some(old), Some(new)) = (before.get(s), after.get(s)) {
                    if old != new {
                        // Refused while a container (or a tag) still uses it: then it stays.
                        let _ = self.engine.remove_image(old).await;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Which notify events are changes: creations, writes, renames, removals, metadata.
fn relevant(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    use notify::EventKind;
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Other => false,
        _ => true,
    }
}

/// Runs `request` in `container`; its exit code and output (also the backup hooks).
pub(super) async fn run(
    engine: &dyn Engine,
    container: &str,
    request: &ExecRequest,
) -> Result<(i64, String), EngineError> {
    let id = engine.create_exec(container, request).await?;
    let mut out = String::new();
    if let Some(mut a) = engine.start_exec(&id, false, false).await? {
        while let Some(chunk) = a.output.next().await {
            match chunk? {
                Output::Stdout(b) | Output::Stderr(b) => out.push_str(&String::from_utf8_lossy(&b)),
            }
        }
    }
    Ok((engine.exec_exit_code(&id).await?, out))
}

/// `rm -rf` of `paths` in `container`; an image without `rm` gets a one-line explanation.
async fn delete(engine: &dyn Engine, container: &str, paths: &[String]) -> Result<(), EngineError> {
    let mut cmd = vec!["rm".to_string(), "-rf".to_string(), "--".to_string()];
    cmd.extend(paths.iter().cloned());
    let request = ExecRequest {
        cmd,
        attach_output: true,
        ..Default::default()
    };
    let no_rm = |detail: &str| {
        EngineError::new(
            ErrorKind::Api,
            format!(
                "cannot delete {} in {container}: the image has no `rm` ({detail}); the files stay there until the container is recreated",
                paths.join(", "),
            ),
        )
    };
    match run(engine, container, &request).await {
        Ok((0, _)) => Ok(()),
        Ok((126 | 127, out)) => Err(no_rm(out.trim())),
        Ok((code, out)) => Err(EngineError::new(
            ErrorKind::Api,
            format!(
                "deleting {} in {container}: rm exited with code {code}: {}",
                paths.join(", "),
                out.trim()
            ),
        )),
        Err(e)
            if e.message.contains("executable file not found")
                || e.message.contains("no such file or directory") =>
        {
            Err(no_rm(e.message.lines().next().unwrap_or_default()))
        }
        Err(e) => Err(e),
    }
}
