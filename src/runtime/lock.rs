//! A per-project lock, so that two rcompose commands changing one project take turns instead of
//! racing (two `up`s would otherwise both create the same containers).

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::engine::{EngineError, ErrorKind};

/// Held until dropped; the lock is released when the process ends, however it ends.
pub struct ProjectLock {
    _file: File,
}

/// In the user's private folder: another user's lock never blocks this one.
fn lock_dir() -> Result<PathBuf, EngineError> {
    Ok(super::private::dir()?.join("locks"))
}

/// The lock file of `project` on the engine this process connected to: one
/// per engine, so that `backup -o - | DOCKER_HOST=... restore -i -` of one project between two
/// engines does not wait for itself. The local engine's keeps the plain name.
/// (Taken after the connection; the watch lock, taken before, is per project only.)
fn lock_name(project: &str) -> String {
    match super::endpoint::current_host() {
        Some(h) if h != super::endpoint::DEFAULT_HOST => {
            let id = super::endpoint::context_id(h);
            format!("{project}@{}.lock", &id[..12])
        }
        _ => format!("{project}.lock"),
    }
}

/// Opens (creating it and its private folder if need be) the lock file `name` in `dir`.
fn open_lock_file(dir: &Path, name: &str) -> std::io::Result<File> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(name))
}

impl ProjectLock {
    /// The lock when it is free now; `None` when another command holds it (or it cannot be
    /// taken), without a word: the caller takes it later with [`ProjectLock::acquire`].
    pub fn try_now(project: &str) -> Option<ProjectLock> {
        let file = open_lock_file(&lock_dir().ok()?, &lock_name(project)).ok()?;
        file.try_lock().ok()?;
        Some(ProjectLock { _file: file })
    }

    /// Takes the lock of `project`, waiting (and saying so on stderr) while another command holds it.
    pub async fn acquire(project: &str) -> Result<ProjectLock, EngineError> {
        let dir = lock_dir()?;
        let fail = |e: std::io::Error| {
            EngineError::new(
                ErrorKind::Api,
                format!("cannot take the project lock in {}: {e}", dir.display()),
            )
        };
        let file = open_lock_file(&dir, &lock_name(project)).map_err(fail)?;
        match file.try_lock() {
            Ok(()) => return Ok(ProjectLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                eprintln!("waiting for another rcompose command on project {project} to finish");
            }
            Err(TryLockError::Error(e)) => return Err(fail(e)),
        }
        let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
            .await
            .map_err(|e| fail(std::io::Error::other(e)))?
            .map_err(fail)?;
        Ok(ProjectLock { _file: file })
    }
}

/// The lock one `watch` (or `up --watch`) of a project holds: a second one is refused, not
/// queued.
pub struct WatchLock {
    _file: File,
}

impl WatchLock {
    /// Takes the watch lock of `project`, or fails when another watch holds it.
    pub fn try_acquire(project: &str) -> Result<WatchLock, EngineError> {
        let dir = lock_dir()?;
        let fail = |e: std::io::Error| {
            EngineError::new(
                ErrorKind::Conflict,
                format!("cannot take exclusive lock for project {project:?}: {e}"),
            )
        };
        let file = open_lock_file(&dir, &format!("{project}.watch.lock")).map_err(fail)?;
        match file.try_lock() {
            Ok(()) => Ok(WatchLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(fail(std::io::Error::other(
                "another watch of this project is running",
            ))),
            Err(TryLockError::Error(e)) => Err(fail(e)),
        }
    }
}
