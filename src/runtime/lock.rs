//! A per-project lock, so that two rcompose commands changing one project take turns instead of
//! racing (two `up`s would otherwise both create the same containers).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use super::engine::{EngineError, ErrorKind};

/// Held until dropped; the lock is released when the process ends, however it ends.
pub struct ProjectLock {
    _file: File,
}

fn lock_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir)
        .join("rcompose-locks")
}

impl ProjectLock {
    /// Takes the lock of `project`, waiting (and saying so on stderr) while another command holds it.
    pub async fn acquire(project: &str) -> Result<ProjectLock, EngineError> {
        let dir = lock_dir();
        let fail = |e: std::io::Error| {
            EngineError::new(
                ErrorKind::Api,
                format!("cannot take the project lock in {}: {e}", dir.display()),
            )
        };
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{project}.lock")))
            .map_err(fail)?;
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
