//! `volumes`, `backup` and `restore`. Data leaves and enters a volume through the engine's
//! archive endpoints of a container created from an image the engine already has and never
//! started; the archive ([`super::archive`]) is written and read on a blocking thread, fed
//! through bounded channels, so memory stays flat whatever the volume's size.

use bytes::Bytes;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::archive::{self, AnonymousMount, Compression, Counts, Manifest, VolumeEntry};
use super::engine::{ContainerSummary, Engine, EngineError, ErrorKind, ExecRequest};
use super::{convert, labels, observe, pipe, progress, Error, Runtime, Status};
use crate::graph::lifecycle::dependencies;
use crate::graph::plan::Plan;
use crate::graph::reconcile::UpPlanOptions;
use crate::graph::stop::StopTimeouts;
use crate::graph::volumes as select;
use crate::parse::hooks::{BackupHooks, Hook};
use crate::parse::Project;

/// Where the volume is mounted in the helper container.
const HELPER_PATH: &str = "/rcompose-volume";
/// The label that marks a helper container (its value: the volume).
const HELPER_LABEL: &str = "io.rcompose.volume-helper";

/// A volume as `volumes` lists it.
#[derive(Debug, Clone, Default)]
pub struct VolumeRow {
    pub name: String,
    pub driver: String,
    pub scope: String,
    pub mountpoint: String,
    pub labels: BTreeMap<String, String>,
    /// Bytes, from the engine's disk usage (`None`: not asked; -1: unknown).
    pub size: Option<i64>,
    /// Containers mounting it, from the engine's disk usage.
    pub links: Option<i64>,
    /// The services whose containers mount it.
    pub services: Vec<String>,
}

/// Options of `backup`.
#[derive(Debug, Clone, Default)]
pub struct BackupOptions {
    /// Services or volumes; all the project's volumes when empty.
    pub words: Vec<String>,
    /// `--no-stop`: a live, crash-consistent copy.
    pub no_stop: bool,
    /// `--anonymous`: also the anonymous volumes of the services.
    pub anonymous: bool,
    /// The services' `x-backup` hooks (those of services mounting a volume run).
    pub hooks: Vec<(String, BackupHooks)>,
    pub compression: Compression,
    pub timeout: Option<i64>,
    /// Report bytes and throughput while copying (a terminal).
    pub ticks: bool,
}

/// Options of `restore`.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Volume keys or names of the archive; all when empty.
    pub words: Vec<String>,
    /// Overwrite volumes that are not empty.
    pub force: bool,
    pub timeout: Option<i64>,
    pub ticks: bool,
    /// The project comes from compose files (not only a name).
    pub has_model: bool,
}

/// Opens the archive to restore (twice when it is a file: verified first, then written).
pub type Opener = Arc<dyn Fn() -> io::Result<Box<dyn Read + Send>> + Send + Sync>;

fn api(message: impl Into<String>) -> EngineError {
    EngineError::new(ErrorKind::Api, message)
}

/// Sizes as docker prints them (decimal units, three significant digits).
pub fn human(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{v:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{}", units[u])
}

fn rate(bytes: u64, since: Instant) -> String {
    let secs = since.elapsed().as_secs_f64().max(0.001);
    format!(
        "{} in {:.1}s ({}/s)",
        human(bytes),
        secs,
        human((bytes as f64 / secs) as u64)
    )
}

fn service_of(c: &ContainerSummary) -> Option<&String> {
    c.labels.get(labels::SERVICE)
}

fn mounts(c: &ContainerSummary, volume: &str) -> bool {
    c.mounts.iter().any(|m| m.name == volume)
}

/// The project's container (not a one-off) of the service and number that mounted `a`.
fn holder<'a>(
    containers: &'a [ContainerSummary],
    a: &AnonymousMount,
) -> Option<&'a ContainerSummary> {
    let number = a.number.to_string();
    containers.iter().find(|c| {
        service_of(c) == Some(&a.service)
            && c.labels.get(labels::NUMBER) == Some(&number)
            && c.labels.get(labels::ONEOFF).map(String::as_str) != Some("True")
    })
}

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let pid = std::process::id() as u128;
    format!(
        "rcompose-volume-{:012x}",
        (nanos ^ (pid << 40)) & 0xffff_ffff_ffff
    )
}

/// Helper containers created and not yet removed: removed on every way out.
#[derive(Clone, Default)]
struct Helpers(Arc<Mutex<Vec<String>>>);

impl Helpers {
    fn add(&self, name: &str) {
        if let Ok(mut v) = self.0.lock() {
            v.push(name.to_string());
        }
    }

    async fn remove(&self, engine: &dyn Engine, name: &str) {
        let _ = engine.remove_container(name, true).await;
        if let Ok(mut v) = self.0.lock() {
            v.retain(|n| n != name);
        }
    }

    async fn remove_all(&self, engine: &dyn Engine) {
        let names: Vec<String> = self.0.lock().map(|v| v.clone()).unwrap_or_default();
        for n in names {
            self.remove(engine, &n).await;
        }
    }
}

/// What a restore changed, kept outside its work so that Ctrl-C, which drops the work, can
/// still undo and say it.
#[derive(Clone, Default)]
struct Touched(Arc<Mutex<TouchedNames>>);

#[derive(Default)]
struct TouchedNames {
    /// Volumes made (or made again) by this restore.
    created: Vec<String>,
    /// Volumes whose files this restore began to write.
    written: Vec<String>,
}

impl Touched {
    fn created(&self, name: &str) {
        if let Ok(mut t) = self.0.lock() {
            t.created.push(name.to_string());
        }
    }

    fn written(&self, name: &str) {
        if let Ok(mut t) = self.0.lock() {
            t.written.push(name.to_string());
        }
    }

    fn names(&self) -> (Vec<String>, Vec<String>) {
        self.0
            .lock()
            .map(|t| (t.created.clone(), t.written.clone()))
            .unwrap_or_default()
    }
}

/// What the copy task tells the archive writer.
enum Msg {
    Begin(String),
    Data(Bytes),
    End,
    /// A volume read from its folder on this machine; `done` says when it is copied.
    Dir {
        key: String,
        folder: PathBuf,
        progress: Arc<archive::DirProgress>,
        done: tokio::sync::oneshot::Sender<()>,
    },
    Finish,
}

/// Set to copy every volume through the engine's archive endpoint, never from its folder.
const API_ONLY: &str = "RCOMPOSE_VOLUMES_API";

/// The engine's data folder when volumes may be read from this machine: not asked to use
/// the API only, run as root (the engine's files are root's), the engine not remapping owners.
async fn local_root(engine: &dyn Engine) -> Option<PathBuf> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root_user = unsafe { libc::geteuid() } == 0;
    if std::env::var_os(API_ONLY).is_some() || !root_user {
        return None;
    }
    engine
        .plain_root_dir()
        .await
        .ok()
        .flatten()
        .map(PathBuf::from)
}

/// The folder of volume `v` under the engine's data folder `root`, when reading it gives what
/// the archive endpoint of `helper` (a container mounting it) would: the `local` driver with no
/// options (others mount the data elsewhere, and only while in use) and the helper's own folder
/// under `root` (so the engine is on this machine, in this mount namespace).
fn volume_folder(root: &Path, helper_id: &str, v: &VolumeEntry) -> Option<PathBuf> {
    local_folder(
        root,
        helper_id,
        &v.name,
        &v.driver,
        v.driver_opts.is_empty(),
    )
}

/// [`volume_folder`] of a volume by its name, driver and whether it has driver options.
fn local_folder(
    root: &Path,
    helper_id: &str,
    name: &str,
    driver: &str,
    no_options: bool,
) -> Option<PathBuf> {
    let hex = !helper_id.is_empty() && helper_id.bytes().all(|b| b.is_ascii_hexdigit());
    let plain = driver == "local" && no_options && !name.contains('/');
    let ours = root.join("containers").join(helper_id).is_dir();
    let folder = root.join("volumes").join(name).join("_data");
    (hex && plain && ours && folder.is_dir()).then_some(folder)
}

/// Where a restore writes a volume on this machine: its folder, when [`local_root`] allows and
/// the engine says the volume is mounted from there (else the archive endpoint writes it).
async fn restore_folder(
    engine: &dyn Engine,
    root: Option<&Path>,
    helper: &str,
    volume: &str,
) -> Result<Option<PathBuf>, EngineError> {
    let Some(root) = root else { return Ok(None) };
    let id = engine.inspect_container(helper).await?.id;
    let v = engine.inspect_volume(volume).await?;
    Ok(
        local_folder(root, &id, &v.name, &v.driver, v.options.is_empty())
            .filter(|f| Path::new(&v.mountpoint) == f),
    )
}

/// A volume's tar as the restore passes it on, read on a blocking thread.
struct BodyRead {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, io::Error>>,
    current: Bytes,
}

impl Read for BodyRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// Writes the tar read from `rx` into `folder`, then reads what is left of it.
fn write_folder(
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, io::Error>>,
    folder: &Path,
    volume: &str,
) -> Result<(), EngineError> {
    let mut body = BodyRead {
        rx,
        current: Bytes::new(),
    };
    let fail = |e: io::Error| api(format!("writing volume {volume}: {e}"));
    super::unpack::unpack(&mut body, folder).map_err(fail)?;
    io::copy(&mut body, &mut io::sink()).map_err(fail)?;
    Ok(())
}

/// Stops a copy from a folder when the task waiting for it goes away (Ctrl-C).
struct StopOnDrop(Arc<archive::DirProgress>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0
            .stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The engine's tar of one volume, read from the channel until [`Msg::End`].
struct ChannelRead<'a> {
    rx: &'a mut tokio::sync::mpsc::Receiver<Msg>,
    current: Bytes,
    done: bool,
}

impl Read for ChannelRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Msg::Data(b)) => self.current = b,
                Some(Msg::End) => self.done = true,
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the engine's stream of the volume ended early",
                    ))
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

impl ChannelRead<'_> {
    /// Reads what the tar reader left (the end-of-archive blocks).
    fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }
}

fn write_archive(
    out: Box<dyn Write + Send>,
    compression: Compression,
    manifest: Manifest,
    mut rx: tokio::sync::mpsc::Receiver<Msg>,
) -> io::Result<archive::End> {
    let (mut writer, handle) = archive::Writer::new(out, compression, &manifest)?;
    loop {
        match rx.blocking_recv() {
            Some(Msg::Begin(key)) => {
                let mut r = ChannelRead {
                    rx: &mut rx,
                    current: Bytes::new(),
                    done: false,
                };
                writer.volume(&key, &mut r)?;
                r.drain()?;
            }
            Some(Msg::Dir {
                key,
                folder,
                progress,
                done,
            }) => {
                writer.volume_dir(&key, &folder, &progress)?;
                let _ = done.send(());
            }
            Some(Msg::Finish) => return writer.finish(handle),
            _ => return Err(io::Error::other("the backup was interrupted")),
        }
    }
}

/// Whether a volume has anything in it: the engine's tar of its folder has more than the
/// folder's own entry.
async fn is_empty(engine: &dyn Engine, helper: &str) -> Result<bool, EngineError> {
    let mut stream = engine.download(helper, &format!("{HELPER_PATH}/."));
    let mut head: Vec<u8> = Vec::new();
    while head.len() < 1024 {
        match stream.next().await {
            Some(chunk) => head.extend_from_slice(&chunk?),
            None => break,
        }
    }
    // The folder's own entry (no data) is the first header; a second one is content.
    Ok(head.len() < 1024 || head[512..1024].iter().all(|b| *b == 0))
}

impl Runtime {
    /// The project's volumes, with their disk usage when `usage`; with `services`, only those
    /// that running containers of these services mount.
    pub async fn volumes(
        &self,
        project: &str,
        services: &[String],
        usage: bool,
    ) -> Result<Vec<VolumeRow>, EngineError> {
        let engine = self.engine.as_ref();
        // Disk usage is the slow call (the engine walks every volume): asked beside the lists.
        let sizes = async {
            if usage {
                engine.volume_usage().await.unwrap_or_default()
            } else {
                Vec::new()
            }
        };
        let (listed, sizes) = futures::join!(
            futures::future::try_join(
                engine.volume_details(&labels::project_filter(project)),
                observe::containers(engine, project)
            ),
            sizes
        );
        let (vols, containers) = listed?;
        let mut rows = Vec::new();
        for v in vols {
            let picked = services.is_empty()
                || containers.iter().any(|c| {
                    c.state == "running"
                        && service_of(c).is_some_and(|s| services.contains(s))
                        && mounts(c, &v.name)
                });
            if !picked {
                continue;
            }
            let mut svcs: Vec<String> = containers
                .iter()
                .filter(|c| mounts(c, &v.name))
                .filter_map(|c| service_of(c).cloned())
                .collect();
            svcs.sort();
            svcs.dedup();
            let u = sizes.iter().find(|u| u.name == v.name);
            rows.push(VolumeRow {
                name: v.name,
                driver: v.driver,
                scope: v.scope,
                mountpoint: v.mountpoint,
                labels: v.labels.into_iter().collect(),
                size: u.map(|u| u.size),
                links: u.map(|u| u.ref_count),
                services: svcs,
            });
        }
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }

    /// An image to create a helper container from: `preferred` ones first (when the engine has
    /// them), else the smallest the engine has.
    async fn helper_image(&self, preferred: &[String]) -> Result<String, EngineError> {
        for p in preferred.iter().filter(|p| !p.is_empty()) {
            if let Ok(i) = self.engine.inspect_image(p).await {
                return Ok(i.id);
            }
        }
        match self.engine.image_ids().await?.into_iter().next() {
            Some(id) => Ok(id),
            None => Err(api(
                "the engine has no image to create the container that reaches the volume from \
                 (none is pulled): build or load one first, for instance the project's own",
            )),
        }
    }

    async fn create_helper(
        &self,
        helpers: &Helpers,
        image: &str,
        volume: &str,
        read_only: bool,
    ) -> Result<String, EngineError> {
        let name = unique_name();
        let spec =
            convert::volume_helper(&name, image, volume, HELPER_PATH, read_only, HELPER_LABEL);
        self.engine.create_container(&spec).await?;
        helpers.add(&name);
        Ok(name)
    }

    /// Runs `work`, then the `start` plan whatever came of it; Ctrl-C stops `work`, removes
    /// the helper containers and starts the services again.
    async fn guarded<T>(
        &self,
        project: &Arc<Project>,
        helpers: &Helpers,
        work: impl std::future::Future<Output = Result<T, Error>>,
        start: &crate::graph::plan::Plan,
    ) -> Result<T, Error> {
        let out = tokio::select! {
            r = work => r,
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        };
        helpers.remove_all(self.engine.as_ref()).await;
        let started = self.execute(project.clone(), start, false).await;
        let out = out?;
        started?;
        Ok(out)
    }

    /// Backs up volumes of the project into one archive written to `out`.
    pub async fn backup(
        &self,
        project: Arc<Project>,
        opts: &BackupOptions,
        out: Box<dyn Write + Send>,
    ) -> Result<(Manifest, archive::End), Error> {
        let prepared = self.prepare_backup(&project, opts).await?;
        self.run_backup(project, prepared, opts, out).await
    }

    /// Backs up volumes of the project straight into a restore into project `into` on the
    /// engine of `target`: the archive passes through a pipe of bounded memory, nothing is
    /// written to disk. The target refuses (a volume with content, without `--force`) before
    /// any service stops here.
    pub async fn migrate(
        &self,
        target: &Runtime,
        project: Arc<Project>,
        into: Arc<Project>,
        opts: &BackupOptions,
        restore: &RestoreOptions,
    ) -> Result<(Manifest, archive::End), Error> {
        let (here, there) = futures::join!(self.engine.engine_id(), target.engine.engine_id());
        if let (Ok(Some(a)), Ok(Some(b))) = (here, there) {
            if a == b && into.name == project.name {
                return Err(api(format!(
                    "the other engine is this one (engine ID {a}): a volume cannot be restored \
                     into itself; to copy into another project on it add `--to-project NAME`"
                ))
                .into());
            }
        }
        let prepared = self.prepare_backup(&project, opts).await?;
        target
            .plan_restore(&into, &prepared.manifest, restore)
            .await?;
        let (writer, reader) = pipe::pipe();
        let reader = Arc::new(Mutex::new(Some(reader)));
        let open: Opener = Arc::new(move || {
            reader
                .lock()
                .ok()
                .and_then(|mut r| r.take())
                .map(|r| Box::new(r) as Box<dyn Read + Send>)
                .ok_or_else(|| io::Error::other("the stream was already read"))
        });
        let out = Box::new(io::BufWriter::with_capacity(256 << 10, writer));
        let (sent, received) = tokio::join!(
            self.run_backup(project.clone(), prepared, opts, out),
            target.restore(into, restore, open, false)
        );
        match (sent, received) {
            (Ok(done), Ok(_)) => Ok(done),
            (Ok(_), Err(e)) => Err(e),
            // The backup stopped because the restore did: the restore's error is the cause.
            (Err(b), Err(r)) if b.to_string().contains(pipe::CLOSED) => Err(r),
            (Err(b), Err(r)) => Err(api(format!("{b}; on the other engine: {r}")).into()),
            (Err(b), Ok(_)) => Err(b),
        }
    }

    /// The manifest of a backup and the plans around its copy; nothing is changed yet.
    async fn prepare_backup(
        &self,
        project: &Arc<Project>,
        opts: &BackupOptions,
    ) -> Result<PreparedBackup, Error> {
        let engine = self.engine.as_ref();
        let mut names: Vec<String> = project.volumes.values().map(|v| v.name.clone()).collect();
        names.extend(opts.words.iter().cloned());
        let observed = observe::snapshot(engine, &project.name, &[], &names).await?;
        let mut targets = select::select(project, &observed.volumes, &opts.words)
            .map_err(|e| api(e.to_string()))?;
        let containers = observe::containers(engine, &project.name).await?;
        let mut anonymous: BTreeMap<String, AnonymousMount> = BTreeMap::new();
        if opts.anonymous {
            for a in self
                .anonymous_volumes(project, &containers, &observed.volumes, &opts.words)
                .await?
            {
                targets.push(select::Target {
                    key: a.key.clone(),
                    name: a.mount.volume.clone(),
                    external: false,
                });
                anonymous.insert(
                    a.key,
                    AnonymousMount {
                        service: a.mount.service,
                        number: a.mount.number,
                        target: a.mount.target,
                    },
                );
            }
        }
        if targets.is_empty() {
            return Err(api(format!(
                "project {} has no volume on the engine to back up",
                project.name
            ))
            .into());
        }
        // No disk-usage call here: engines before API 1.42 compute it for every image, container
        // and volume (seconds); the archive's end.json has the bytes copied.
        let mut entries = Vec::new();
        for t in &targets {
            let d = engine.inspect_volume(&t.name).await?;
            let users: Vec<&ContainerSummary> =
                containers.iter().filter(|c| mounts(c, &t.name)).collect();
            let mut services: Vec<String> = users
                .iter()
                .filter_map(|c| service_of(c).cloned())
                .collect();
            services.sort();
            services.dedup();
            let mut preferred: Vec<String> = users.iter().map(|c| c.image_id.clone()).collect();
            preferred.extend(
                project
                    .services
                    .values()
                    .map(|s| s.image_name(&project.name)),
            );
            let image = self.helper_image(&preferred).await?;
            entries.push(VolumeEntry {
                key: t.key.clone(),
                name: t.name.clone(),
                driver: d.driver,
                driver_opts: d.options.into_iter().collect(),
                labels: d.labels.into_iter().collect(),
                size: -1,
                external: t.external,
                image,
                services,
                anonymous: anonymous.get(&t.key).cloned(),
            });
        }
        let manifest = Manifest {
            kind: archive::KIND.into(),
            format: archive::FORMAT,
            project: project.name.clone(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            rcompose_version: env!("CARGO_PKG_VERSION").into(),
            engine_version: engine.version().await.unwrap_or_default(),
            live: opts.no_stop,
            volumes: entries,
        };
        // The services whose running containers mount a volume: stopped for the copy.
        let to_stop: Vec<String> = if opts.no_stop {
            Vec::new()
        } else {
            let mut v: Vec<String> = containers
                .iter()
                .filter(|c| {
                    c.state == "running"
                        && c.labels.get(labels::ONEOFF).map(String::as_str) != Some("True")
                })
                .filter(|c| targets.iter().any(|t| mounts(c, &t.name)))
                .filter_map(|c| service_of(c).cloned())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let timeouts = StopTimeouts::of(project, opts.timeout);
        let (stop, start) =
            select::quiesce(&dependencies(project), &observed, &to_stop, &timeouts)?;
        Ok(PreparedBackup {
            manifest,
            stop,
            start,
        })
    }

    /// The project's containers, after creating (as `rcompose create` would, without starting
    /// them) those of the services whose anonymous volumes the archive holds and this engine
    /// lacks: when the compose file is at hand and declares the services.
    async fn anonymous_holders(
        &self,
        project: &Arc<Project>,
        opts: &RestoreOptions,
        anonymous: &[&VolumeEntry],
    ) -> Result<Vec<ContainerSummary>, Error> {
        let engine = self.engine.as_ref();
        let containers = observe::containers(engine, &project.name).await?;
        let mut missing: Vec<String> = anonymous
            .iter()
            .filter_map(|v| v.anonymous.as_ref())
            .filter(|a| holder(&containers, a).is_none())
            .map(|a| a.service.clone())
            .filter(|s| opts.has_model && project.services.contains_key(s))
            .collect();
        if missing.is_empty() {
            return Ok(containers);
        }
        missing.sort();
        missing.dedup();
        let create = super::UpOptions {
            plan: UpPlanOptions {
                services: missing,
                no_start: true,
                ..Default::default()
            },
            timeout: opts.timeout,
            ..Default::default()
        };
        self.up(project.clone(), &create).await?;
        Ok(observe::containers(engine, &project.name).await?)
    }

    /// The anonymous volume mounted where `a` says, in the project's container of that
    /// service and number.
    async fn anonymous_target(
        &self,
        project: &Project,
        containers: &[ContainerSummary],
        a: &AnonymousMount,
    ) -> Result<String, Error> {
        let Some(c) = holder(containers, a) else {
            return Err(api(format!(
                "the archive has an anonymous volume of service {} (container {}, at {}): \
                 project {} has no such container to restore it into; create it first \
                 (`rcompose create {}`); nothing was changed",
                a.service, a.number, a.target, project.name, a.service
            ))
            .into());
        };
        let details = self.engine.inspect_container(&c.name).await?;
        details
            .mounts
            .into_iter()
            .find(|m| m.kind == "volume" && m.destination == a.target)
            .and_then(|m| m.name)
            .ok_or_else(|| {
                api(format!(
                    "container {} has no volume at {} to restore the archive's anonymous volume \
                     into; nothing was changed",
                    c.name, a.target
                ))
                .into()
            })
    }

    /// The anonymous volumes of the project's containers (see [`select::anonymous`]).
    async fn anonymous_volumes(
        &self,
        project: &Project,
        containers: &[ContainerSummary],
        volumes: &[crate::graph::observed::ObservedResource],
        words: &[String],
    ) -> Result<Vec<select::Anonymous>, Error> {
        let mut named: Vec<String> = project.volumes.values().map(|v| v.name.clone()).collect();
        named.extend(volumes.iter().map(|v| v.name.clone()));
        let mut mounts = Vec::new();
        for c in containers {
            let (Some(service), Some(number)) = (
                service_of(c),
                c.labels.get(labels::NUMBER).and_then(|n| n.parse().ok()),
            ) else {
                continue;
            };
            if c.labels.get(labels::ONEOFF).map(String::as_str) == Some("True") {
                continue;
            }
            let details = self.engine.inspect_container(&c.name).await?;
            for m in details.mounts.into_iter().filter(|m| m.kind == "volume") {
                let Some(volume) = m.name else { continue };
                mounts.push(select::ContainerMount {
                    service: service.clone(),
                    number,
                    target: m.destination,
                    volume,
                });
            }
        }
        Ok(select::anonymous(project, &mounts, &named, words))
    }

    /// Stops the services, copies the volumes into `out`, starts the services again.
    async fn run_backup(
        &self,
        project: Arc<Project>,
        prepared: PreparedBackup,
        opts: &BackupOptions,
        out: Box<dyn Write + Send>,
    ) -> Result<(Manifest, archive::End), Error> {
        let PreparedBackup {
            manifest,
            stop,
            start,
        } = prepared;
        // The hooks of the services that mount the volumes, in the file's order.
        let hooked: Vec<&(String, BackupHooks)> = opts
            .hooks
            .iter()
            .filter(|(s, _)| manifest.volumes.iter().any(|v| v.services.contains(s)))
            .collect();
        for (service, h) in &hooked {
            self.run_hooks(&project.name, service, &h.pre, "pre-backup")
                .await?;
        }
        let helpers = Helpers::default();
        // From the first stop on, Ctrl-C starts the services again.
        let copy = async {
            self.execute(project.clone(), &stop, false).await?;
            self.copy_out(manifest.clone(), opts, out, &helpers).await
        };
        let end = self.guarded(&project, &helpers, copy, &start).await;
        // After the copy, also a failed one (a post hook cleans up after its pre hook); a
        // failing post hook is a warning: the archive is whole.
        for (service, h) in &hooked {
            if let Err(e) = self
                .run_hooks(&project.name, service, &h.post, "post-backup")
                .await
            {
                (self.report)(progress::event(
                    format!("Service {service}"),
                    Status::Warning,
                    e.to_string(),
                ));
            }
        }
        Ok((manifest, end?))
    }

    /// Runs `commands` in each running container of `service`, in turn; the first that fails
    /// (exit code not 0) ends with an error holding its output.
    async fn run_hooks(
        &self,
        project: &str,
        service: &str,
        commands: &[Hook],
        what: &str,
    ) -> Result<(), Error> {
        if commands.is_empty() {
            return Ok(());
        }
        let engine = self.engine.as_ref();
        let mut running: Vec<String> = observe::containers(engine, project)
            .await?
            .into_iter()
            .filter(|c| {
                c.state == "running"
                    && service_of(c).map(String::as_str) == Some(service)
                    && c.labels.get(labels::ONEOFF).map(String::as_str) != Some("True")
            })
            .map(|c| c.name)
            .collect();
        running.sort();
        if running.is_empty() {
            (self.report)(progress::event(
                format!("Service {service}"),
                Status::Warning,
                format!("no running container: {what} hook not run"),
            ));
            return Ok(());
        }
        for c in &running {
            let resource = format!("Container {c}");
            (self.report)(progress::event(
                &resource,
                Status::Working,
                format!("Running {what} hook"),
            ));
            for hook in commands {
                let cmd = &hook.cmd;
                let request = ExecRequest {
                    cmd: cmd.clone(),
                    env: hook.env.clone(),
                    user: hook.user.clone(),
                    workdir: hook.workdir.clone(),
                    attach_output: true,
                    ..Default::default()
                };
                let (code, output) = super::watch::run(engine, c, &request).await?;
                if code != 0 {
                    let output = output.trim();
                    let tail: String = output
                        .char_indices()
                        .rev()
                        .nth(2000)
                        .map_or(output, |(i, _)| &output[i..])
                        .to_string();
                    return Err(api(format!(
                        "the {what} hook of service {service} failed in container {c} (exit code \
                         {code}): {}{}",
                        cmd.join(" "),
                        if tail.is_empty() {
                            String::new()
                        } else {
                            format!(": {tail}")
                        }
                    ))
                    .into());
                }
            }
            (self.report)(progress::event(
                &resource,
                Status::Done,
                format!("Ran {what} hook"),
            ));
        }
        Ok(())
    }

    async fn copy_out(
        &self,
        manifest: Manifest,
        opts: &BackupOptions,
        out: Box<dyn Write + Send>,
        helpers: &Helpers,
    ) -> Result<archive::End, Error> {
        let engine = self.engine.as_ref();
        let (tx, rx) = tokio::sync::mpsc::channel::<Msg>(32);
        let volumes = manifest.volumes.clone();
        let compression = opts.compression;
        let writer =
            tokio::task::spawn_blocking(move || write_archive(out, compression, manifest, rx));
        let root = local_root(engine).await;
        let sent: Result<(), EngineError> = async {
            for v in &volumes {
                let what = format!("Volume {}", v.name);
                (self.report)(progress::event(&what, Status::Working, "Backing up"));
                let helper = self.create_helper(helpers, &v.image, &v.name, true).await?;
                let folder = match &root {
                    Some(root) => {
                        let id = engine.inspect_container(&helper).await?.id;
                        volume_folder(root, &id, v)
                    }
                    None => None,
                };
                if let Some(folder) = folder {
                    let shared = Arc::new(archive::DirProgress::default());
                    let _stop = StopOnDrop(shared.clone());
                    let (done, mut copied) = tokio::sync::oneshot::channel();
                    let msg = Msg::Dir {
                        key: v.key.clone(),
                        folder,
                        progress: shared.clone(),
                        done,
                    };
                    if tx.send(msg).await.is_err() {
                        return Ok(());
                    }
                    let started = Instant::now();
                    let bytes = || shared.copied.load(std::sync::atomic::Ordering::Relaxed);
                    loop {
                        tokio::select! {
                            r = &mut copied => match r {
                                Ok(()) => break,
                                // The writer failed: its error is the cause.
                                Err(_) => return Ok(()),
                            },
                            _ = tokio::time::sleep(std::time::Duration::from_millis(500)),
                                if opts.ticks => {
                                let text = format!("Backing up {}", rate(bytes(), started));
                                (self.report)(
                                    progress::event(&what, Status::Working, text).bytes(bytes()),
                                );
                            }
                        }
                    }
                    helpers.remove(engine, &helper).await;
                    let text = format!("Backed up {}", rate(bytes(), started));
                    (self.report)(progress::event(&what, Status::Done, text).bytes(bytes()));
                    continue;
                }
                if tx.send(Msg::Begin(v.key.clone())).await.is_err() {
                    return Ok(());
                }
                let mut stream = engine.download(&helper, &format!("{HELPER_PATH}/."));
                let started = Instant::now();
                let mut tick = Instant::now();
                let mut bytes = 0u64;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk
                        .map_err(|e| api(format!("reading volume {}: {}", v.name, e.message)))?;
                    bytes += chunk.len() as u64;
                    if tx.send(Msg::Data(chunk)).await.is_err() {
                        return Ok(());
                    }
                    if opts.ticks && tick.elapsed().as_millis() >= 500 {
                        tick = Instant::now();
                        let text = format!("Backing up {}", rate(bytes, started));
                        (self.report)(progress::event(&what, Status::Working, text).bytes(bytes));
                    }
                }
                helpers.remove(engine, &helper).await;
                if tx.send(Msg::End).await.is_err() {
                    return Ok(());
                }
                let text = format!("Backed up {}", rate(bytes, started));
                (self.report)(progress::event(&what, Status::Done, text).bytes(bytes));
            }
            let _ = tx.send(Msg::Finish).await;
            Ok(())
        }
        .await;
        drop(tx);
        let written = writer
            .await
            .map_err(|e| api(format!("writing the archive: {e}")))?;
        // The writer's failure (a full disk, a closed pipe) is the cause of a stopped copy.
        let end = written.map_err(|e| api(format!("writing the archive: {e}")))?;
        sent?;
        Ok(end)
    }

    /// Restores volumes from an archive into the project.
    pub async fn restore(
        &self,
        project: Arc<Project>,
        opts: &RestoreOptions,
        open: Opener,
        reopenable: bool,
    ) -> Result<Vec<(String, Counts)>, Error> {
        let engine = self.engine.clone();
        let (manifest_tx, manifest_rx) = tokio::sync::oneshot::channel::<Manifest>();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<Option<Vec<String>>>();
        let (data_tx, mut data_rx) = tokio::sync::mpsc::channel::<(String, Option<Bytes>)>(16);
        let opener = open.clone();
        let reader = tokio::task::spawn_blocking(move || -> io::Result<archive::End> {
            let input = archive::decompress(opener()?)?;
            let mut manifest_tx = Some(manifest_tx);
            archive::read(
                input,
                &mut |m| {
                    if let Some(tx) = manifest_tx.take() {
                        let _ = tx.send(m.clone());
                    }
                    match go_rx.recv() {
                        Ok(Some(keys)) => Ok(keys),
                        _ => Err(io::Error::other("stopped before anything was written")),
                    }
                },
                &mut |e| {
                    let msg = match e {
                        archive::Event::Data(k, d) => {
                            (k.to_string(), Some(Bytes::copy_from_slice(d)))
                        }
                        archive::Event::End(k, _) => (k.to_string(), None),
                        archive::Event::Manifest(_) => return Ok(()),
                    };
                    data_tx
                        .blocking_send(msg)
                        .map_err(|_| io::Error::other("the restore stopped"))
                },
            )
        });
        let fail_read = |e: io::Error| api(format!("reading the archive: {e}"));
        let manifest = match manifest_rx.await {
            Ok(m) => m,
            Err(_) => {
                let e = match reader.await {
                    Ok(Err(e)) => fail_read(e),
                    _ => api("reading the archive: it ended before its manifest"),
                };
                return Err(e.into());
            }
        };
        let planned = self.plan_restore(&project, &manifest, opts).await;
        let planned = match planned {
            Ok(p) => p,
            Err(e) => {
                let _ = go_tx.send(None);
                let _ = reader.await;
                return Err(e);
            }
        };
        // An archive that would replace data is verified whole before anything is touched.
        if planned.iter().any(|p| p.replaces) && reopenable {
            let keys: Vec<String> = planned.iter().map(|p| p.key.clone()).collect();
            let opener = open.clone();
            let check = tokio::task::spawn_blocking(move || {
                archive::read(
                    archive::decompress(opener()?)?,
                    &mut |_| Ok(keys.clone()),
                    &mut |_| Ok(()),
                )
            })
            .await
            .map_err(|e| api(e.to_string()));
            let failed = match check {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some(fail_read(e)),
                Err(e) => Some(e),
            };
            if let Some(e) = failed {
                let _ = go_tx.send(None);
                let _ = reader.await;
                return Err(api(format!("{e}; no volume was changed")).into());
            }
        }
        // Quiesce: the running containers that mount a target stop; those whose volume is
        // replaced are removed (a volume in use cannot be), and made again by `up`.
        let containers = observe::containers(engine.as_ref(), &project.name).await?;
        let mut to_stop: Vec<String> = Vec::new();
        let mut to_remove: Vec<(String, String)> = Vec::new();
        for p in &planned {
            for c in containers.iter().filter(|c| mounts(c, &p.name)) {
                let Some(svc) = service_of(c) else { continue };
                if c.state == "running" {
                    to_stop.push(svc.clone());
                }
                if p.recreate {
                    to_remove.push((c.name.clone(), svc.clone()));
                }
            }
        }
        to_stop.sort();
        to_stop.dedup();
        if !to_remove.is_empty() && !opts.has_model {
            let _ = go_tx.send(None);
            let _ = reader.await;
            let names: Vec<&str> = to_remove.iter().map(|(n, _)| n.as_str()).collect();
            return Err(api(format!(
                "the volumes to replace are used by containers {}: without the project's compose \
                 file they cannot be made again; run this in the project's folder, or remove them \
                 first (`rcompose down`)",
                names.join(", ")
            ))
            .into());
        }
        let observed = observe::snapshot(engine.as_ref(), &project.name, &[], &[]).await?;
        let timeouts = StopTimeouts::of(&project, opts.timeout);
        let (stop, mut start) =
            select::quiesce(&dependencies(&project), &observed, &to_stop, &timeouts)?;
        let recreated: Vec<String> = {
            let mut v: Vec<String> = to_remove.iter().map(|(_, s)| s.clone()).collect();
            v.sort();
            v.dedup();
            v
        };
        if !recreated.is_empty() {
            // `up` makes them again and starts them in order: only the others are started.
            start = crate::graph::plan::Plan::default();
        }
        let helpers = Helpers::default();
        let touched = Touched::default();
        // From the first stop on, Ctrl-C starts the services again.
        let work = async {
            if let Err(e) = self.execute(project.clone(), &stop, false).await {
                let _ = go_tx.send(None);
                let _ = reader.await;
                return Err(e);
            }
            self.write_volumes(
                &planned,
                &to_remove,
                &helpers,
                &touched,
                go_tx,
                &mut data_rx,
                reader,
                opts.ticks,
            )
            .await
        };
        let mut done = self.guarded(&project, &helpers, work, &start).await;
        if matches!(done, Err(Error::Interrupted)) {
            let undone = self.undo(&planned, &touched).await;
            if let Some(said) = undone.strip_prefix("; ") {
                done = Err(Error::InterruptedLeaving(said.to_string()));
            }
        }
        if !recreated.is_empty() {
            let up = super::UpOptions {
                plan: UpPlanOptions {
                    services: recreated,
                    ..Default::default()
                },
                timeout: opts.timeout,
                ..Default::default()
            };
            let upped = self.up(project.clone(), &up).await;
            let done = done?;
            upped?;
            return Ok(done);
        }
        done
    }

    /// Where each volume of the archive goes, and whether the engine has it with content.
    async fn plan_restore(
        &self,
        project: &Arc<Project>,
        manifest: &Manifest,
        opts: &RestoreOptions,
    ) -> Result<Vec<Planned>, Error> {
        let engine = self.engine.as_ref();
        let mut picked: Vec<&VolumeEntry> = Vec::new();
        for w in &opts.words {
            match manifest
                .volumes
                .iter()
                .find(|v| v.key == *w || v.name == *w)
            {
                Some(v) => picked.push(v),
                None => {
                    let have: Vec<&str> = manifest.volumes.iter().map(|v| v.key.as_str()).collect();
                    return Err(api(format!(
                        "the archive has no volume {w} (it has: {})",
                        have.join(", ")
                    ))
                    .into());
                }
            }
        }
        if opts.words.is_empty() {
            picked = manifest.volumes.iter().collect();
        }
        let moved = manifest.project != project.name;
        let mut planned = Vec::new();
        let mut full: Vec<String> = Vec::new();
        let mut anon_full: Vec<String> = Vec::new();
        let helpers = Helpers::default();
        // Named volumes are checked first: nothing is created for an archive refused.
        let (anonymous, named): (Vec<&VolumeEntry>, Vec<&VolumeEntry>) =
            picked.iter().partition(|v| v.anonymous.is_some());
        let result: Result<(), Error> = async {
            for v in named {
                let (name, spec) = match project.volumes.get(&v.key).filter(|_| opts.has_model) {
                    Some(decl) => (
                        decl.name.clone(),
                        convert::volume(project, &v.key, &decl.name),
                    ),
                    None => {
                        let old = format!("{}_{}", manifest.project, v.key);
                        let name = if moved && v.name == old {
                            format!("{}_{}", project.name, v.key)
                        } else {
                            v.name.clone()
                        };
                        let mut l = v.labels.clone();
                        if moved && l.contains_key(labels::PROJECT) {
                            l.insert(labels::PROJECT.into(), project.name.clone());
                            l.remove(labels::CONFIG_HASH);
                        }
                        (
                            name.clone(),
                            convert::volume_as(&name, &v.driver, &v.driver_opts, &l),
                        )
                    }
                };
                let mut preferred = vec![v.image.clone()];
                preferred.extend(
                    project
                        .services
                        .values()
                        .map(|s| s.image_name(&project.name)),
                );
                let image = self.helper_image(&preferred).await?;
                let exists = match engine.inspect_volume(&name).await {
                    Ok(_) => true,
                    Err(e) if e.is_not_found() => false,
                    Err(e) => return Err(e.into()),
                };
                let mut replaces = false;
                if exists {
                    let h = self.create_helper(&helpers, &image, &name, true).await?;
                    let empty = is_empty(engine, &h).await;
                    helpers.remove(engine, &h).await;
                    replaces = !empty?;
                    if replaces && !opts.force {
                        full.push(name.clone());
                    }
                }
                planned.push(Planned {
                    key: v.key.clone(),
                    name,
                    spec,
                    image,
                    existed: exists,
                    replaces,
                    recreate: replaces,
                });
            }
            if !full.is_empty() || anonymous.is_empty() {
                return Ok(());
            }
            let containers = self.anonymous_holders(project, opts, &anonymous).await?;
            for v in anonymous {
                let Some(a) = &v.anonymous else { continue };
                let name = self.anonymous_target(project, &containers, a).await?;
                let image = self.helper_image(std::slice::from_ref(&v.image)).await?;
                let h = self.create_helper(&helpers, &image, &name, true).await?;
                let empty = is_empty(engine, &h).await;
                helpers.remove(engine, &h).await;
                if !empty? {
                    anon_full.push(format!("{name} ({} at {})", a.service, a.target));
                }
                planned.push(Planned {
                    key: v.key.clone(),
                    spec: convert::volume_as(&name, &v.driver, &v.driver_opts, &v.labels),
                    name,
                    image,
                    existed: true,
                    replaces: false,
                    recreate: false,
                });
            }
            Ok(())
        }
        .await;
        helpers.remove_all(engine).await;
        result?;
        // In the archive's order.
        planned.sort_by_key(|p| picked.iter().position(|v| v.key == p.key));
        if !anon_full.is_empty() {
            // An anonymous volume in use cannot be removed and made again: it must be new.
            return Err(api(format!(
                "anonymous volume {} is not empty: restore writes only into new anonymous \
                 volumes; renew them with `rcompose up -d --renew-anon-volumes SERVICE`; nothing \
                 was changed",
                anon_full.join(", ")
            ))
            .into());
        }
        if !full.is_empty() {
            return Err(api(format!(
                "volume {} is not empty: restore refuses to overwrite it without --force; nothing \
                 was changed",
                full.join(", ")
            ))
            .into());
        }
        Ok(planned)
    }

    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    async fn write_volumes(
        &self,
        planned: &[Planned],
        to_remove: &[(String, String)],
        helpers: &Helpers,
        touched: &Touched,
        go: std::sync::mpsc::Sender<Option<Vec<String>>>,
        data: &mut tokio::sync::mpsc::Receiver<(String, Option<Bytes>)>,
        reader: tokio::task::JoinHandle<io::Result<archive::End>>,
        ticks: bool,
    ) -> Result<Vec<(String, Counts)>, Error> {
        let engine = self.engine.clone();
        // Made ready before the archive's data flows: volumes (re)created, helpers created.
        // key -> (helper, the volume's folder when written from here)
        let mut ready: Vec<(String, (String, Option<PathBuf>))> = Vec::new();
        let root = local_root(engine.as_ref()).await;
        let prepared: Result<(), EngineError> = async {
            for (name, _) in to_remove {
                engine.remove_container(name, false).await?;
            }
            for p in planned {
                if p.recreate {
                    engine.remove_volume(&p.name).await?;
                }
                if p.recreate || !p.existed {
                    engine.create_volume(&p.spec).await?;
                    touched.created(&p.name);
                }
                let h = self
                    .create_helper(helpers, &p.image, &p.name, false)
                    .await?;
                let folder = restore_folder(engine.as_ref(), root.as_deref(), &h, &p.name).await?;
                ready.push((p.key.clone(), (h, folder)));
            }
            Ok(())
        }
        .await;
        if let Err(e) = prepared {
            let _ = go.send(None);
            let _ = reader.await;
            return Err(e.into());
        }
        let keys: Vec<String> = planned.iter().map(|p| p.key.clone()).collect();
        let _ = go.send(Some(keys));
        let mut upload: Option<(
            String,
            tokio::sync::mpsc::Sender<Result<Bytes, io::Error>>,
            tokio::task::JoinHandle<Result<(), EngineError>>,
            Instant,
            u64,
            Instant,
        )> = None;
        let mut failure: Option<EngineError> = None;
        while let Some((key, chunk)) = data.recv().await {
            let Some(p) = planned.iter().find(|p| p.key == key) else {
                continue;
            };
            let what = format!("Volume {}", p.name);
            if upload.as_ref().is_none_or(|u| u.0 != key) {
                let (helper, folder) = ready
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, h)| h.clone())
                    .unwrap_or_default();
                let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(8);
                let task = match folder {
                    Some(folder) => {
                        let name = p.name.clone();
                        tokio::task::spawn_blocking(move || write_folder(rx, &folder, &name))
                    }
                    None => {
                        let body = futures::stream::unfold(rx, |mut rx| async move {
                            rx.recv().await.map(|item| (item, rx))
                        })
                        .boxed();
                        let e = engine.clone();
                        tokio::spawn(
                            async move { e.upload_stream(&helper, HELPER_PATH, body).await },
                        )
                    }
                };
                (self.report)(progress::event(&what, Status::Working, "Restoring"));
                touched.written(&p.name);
                upload = Some((key.clone(), tx, task, Instant::now(), 0, Instant::now()));
            }
            let Some(u) = upload.as_mut() else { continue };
            match chunk {
                Some(bytes) => {
                    u.4 += bytes.len() as u64;
                    if u.1.send(Ok(bytes)).await.is_err() {
                        // The engine refused the upload: its answer says why.
                        break;
                    }
                    if ticks && u.5.elapsed().as_millis() >= 500 {
                        u.5 = Instant::now();
                        let text = format!("Restoring {}", rate(u.4, u.3));
                        (self.report)(progress::event(&what, Status::Working, text).bytes(u.4));
                    }
                }
                None => {
                    let Some((_, tx, task, started, bytes, _)) = upload.take() else {
                        continue;
                    };
                    drop(tx);
                    match task.await {
                        Ok(Ok(())) => {
                            let text = format!("Restored {}", rate(bytes, started));
                            (self.report)(progress::event(&what, Status::Done, text).bytes(bytes));
                        }
                        Ok(Err(e)) => {
                            failure = Some(e);
                            break;
                        }
                        Err(e) => {
                            failure = Some(api(e.to_string()));
                            break;
                        }
                    }
                }
            }
        }
        // A volume whose upload was under way when the data stopped.
        if let Some((_, tx, task, ..)) = upload.take() {
            let _ = tx
                .send(Err(io::Error::other("the archive could not be read")))
                .await;
            drop(tx);
            if let Ok(Err(e)) = task.await {
                failure.get_or_insert(e);
            }
        }
        data.close();
        let read = reader.await.map_err(|e| api(e.to_string()))?;
        let failure = match (read, failure) {
            (Err(e), _) => Some(api(format!("reading the archive: {e}"))),
            (Ok(_), Some(f)) => Some(f),
            (Ok(end), None) => {
                let counts = planned
                    .iter()
                    .map(|p| {
                        (
                            p.name.clone(),
                            end.volumes.get(&p.key).copied().unwrap_or_default(),
                        )
                    })
                    .collect();
                return Ok(counts);
            }
        };
        let failure = failure.unwrap_or_else(|| api("the restore failed"));
        helpers.remove_all(engine.as_ref()).await;
        let undone = self.undo(planned, touched).await;
        Err(api(format!("{}{undone}", failure.message)).into())
    }

    /// After a failed or interrupted restore: removes the volumes it made that were not there
    /// before, and says so, and names those it left half-written or emptied (the helper
    /// containers must be gone). Empty when it changed nothing.
    async fn undo(&self, planned: &[Planned], touched: &Touched) -> String {
        let (created, written) = touched.names();
        let mut removed = Vec::new();
        let mut half = Vec::new();
        let mut emptied = Vec::new();
        for p in planned {
            if created.contains(&p.name) && !p.existed {
                if self.engine.remove_volume(&p.name).await.is_ok() {
                    removed.push(p.name.clone());
                } else {
                    half.push(p.name.clone());
                }
            } else if written.contains(&p.name) {
                half.push(p.name.clone());
            } else if created.contains(&p.name) {
                emptied.push(p.name.clone());
            }
        }
        let mut message = String::new();
        if !removed.is_empty() {
            message.push_str(&format!(
                "; the volumes this restore created were removed: {}",
                removed.join(", ")
            ));
        }
        if !half.is_empty() {
            message.push_str(&format!(
                "; these volumes are left half-written: {}",
                half.join(", ")
            ));
        }
        if !emptied.is_empty() {
            message.push_str(&format!(
                "; these volumes were emptied and not written: {}",
                emptied.join(", ")
            ));
        }
        message
    }
}

/// A backup ready to copy.
struct PreparedBackup {
    manifest: Manifest,
    /// Stops the services that mount the volumes (dependents first).
    stop: Plan,
    /// Starts them again, in dependency order.
    start: Plan,
}

/// A volume of the archive and where it goes.
struct Planned {
    key: String,
    name: String,
    spec: convert::VolumeSpec,
    image: String,
    /// The engine had it before.
    existed: bool,
    /// It has content that the restore replaces (`--force`).
    replaces: bool,
    /// Removed and made again with the archive's labels.
    recreate: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_dockers() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(1_985_637), "1.99MB");
        assert_eq!(human(200_000_000), "200MB");
    }
}
