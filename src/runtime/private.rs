//! The per-user folder of rcompose's private files (project locks, the files of environment and
//! content secrets): `$XDG_RUNTIME_DIR/rcompose`, else `/run/rcompose` for root and
//! `/tmp/rcompose-<uid>` for other users; mode 0700 and owned by the user, so that one user's
//! files neither block nor show to another.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::engine::{EngineError, ErrorKind};

/// Where the private folder of user `uid` is, given `XDG_RUNTIME_DIR` (used when it is an
/// absolute path).
pub(crate) fn choose(xdg_runtime_dir: Option<&Path>, uid: u32) -> PathBuf {
    match xdg_runtime_dir.filter(|d| d.is_absolute()) {
        Some(d) => d.join("rcompose"),
        None if uid == 0 => PathBuf::from("/run/rcompose"),
        None => PathBuf::from(format!("/tmp/rcompose-{uid}")),
    }
}

/// Creates `dir` (mode 0700) if it is missing, and checks that it is a folder of `uid`'s that
/// nobody else can enter (a folder with a wider mode is narrowed).
pub(crate) fn ensure(dir: &Path, uid: u32) -> Result<(), String> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !meta.file_type().is_dir() {
        return Err(format!(
            "{} is not a folder: remove it, or set XDG_RUNTIME_DIR to a private folder of yours",
            dir.display()
        ));
    }
    if meta.uid() != uid {
        return Err(format!(
            "{} belongs to user {}, not to you (user {uid}): remove it, or set XDG_RUNTIME_DIR \
             to a private folder of yours",
            dir.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot make {} private: {e}", dir.display()))?;
    }
    Ok(())
}

/// The current user's private folder (not created nor checked: see [`dir`]).
pub(crate) fn path() -> PathBuf {
    let xdg = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    choose(xdg.as_deref(), effective_uid())
}

/// The current user's private folder, created and checked once per process.
pub(crate) fn dir() -> Result<PathBuf, EngineError> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = path();
        ensure(&dir, effective_uid()).map(|()| dir)
    })
    .clone()
    .map_err(|e| EngineError::new(ErrorKind::Api, format!("rcompose's private folder: {e}")))
}

/// Where the private files of environment and content secrets go, once the private folder is
/// there and checked.
pub(crate) fn secrets_root() -> Result<PathBuf, EngineError> {
    Ok(dir()?.join(SECRETS))
}

/// Where the private files of environment and content secrets are (not created nor checked).
pub(crate) fn secrets_path() -> PathBuf {
    path().join(SECRETS)
}

const SECRETS: &str = "secrets";

/// Where rcompose before the per-user folder kept root's secret files of `project`, when that
/// folder is there and is root's (a project named like one of today's subfolders has none).
pub(crate) fn legacy_project_dir(project: &str) -> Option<PathBuf> {
    if effective_uid() != 0 || matches!(project, SECRETS | "locks") || project.is_empty() {
        return None;
    }
    let dir = Path::new("/run/rcompose").join(project);
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    (meta.file_type().is_dir() && meta.uid() == 0).then_some(dir)
}

/// The effective user id (the owner of the files this process creates).
pub(crate) fn effective_uid() -> u32 {
    // The kernel gives a process's /proc folder its effective uid.
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_is_per_user() {
        let xdg = Path::new("/run/user/1000");
        assert_eq!(
            choose(Some(xdg), 1000),
            PathBuf::from("/run/user/1000/rcompose")
        );
        assert_eq!(choose(None, 0), PathBuf::from("/run/rcompose"));
        assert_eq!(choose(None, 1000), PathBuf::from("/tmp/rcompose-1000"));
        // A relative XDG_RUNTIME_DIR is ignored, as the XDG specification says.
        assert_eq!(
            choose(Some(Path::new("rel")), 1000),
            PathBuf::from("/tmp/rcompose-1000")
        );
    }

    #[test]
    fn the_folder_is_private_and_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let me = effective_uid();
        let d = tmp.path().join("rc");
        ensure(&d, me).unwrap();
        let mode = std::fs::metadata(&d).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
        // Too wide a mode is narrowed.
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure(&d, me).unwrap();
        assert_eq!(std::fs::metadata(&d).unwrap().mode() & 0o777, 0o700);
        // Someone else's folder is refused, with what to do.
        let e = ensure(&d, me + 1).unwrap_err();
        assert!(
            e.contains("belongs to user") && e.contains("XDG_RUNTIME_DIR"),
            "{e}"
        );
        // So is a symlink (to a folder of ours).
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&d, &link).unwrap();
        assert!(ensure(&link, me).unwrap_err().contains("not a folder"));
    }
}
