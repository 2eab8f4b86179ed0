//! `cp` between a container and this machine, through the engine's archive endpoints (tar).

use futures::StreamExt;
use std::path::{Component, Path, PathBuf};

use super::engine::{Engine, EngineError, ErrorKind};

fn io_error(doing: &str, e: std::io::Error) -> EngineError {
    EngineError::new(ErrorKind::Api, format!("{doing}: {e}"))
}

/// Copies `path` out of `container` to `dest`: into it when it is a folder, else to that name.
pub(super) async fn from_container(
    engine: &dyn Engine,
    container: &str,
    path: &str,
    dest: &Path,
) -> Result<(), EngineError> {
    let doing = format!("copying {container}:{path} to {}", dest.display());
    let mut stream = engine.download(container, path);
    let mut tar_bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| EngineError::new(e.kind, format!("{doing}: {e}")))?;
        tar_bytes.extend_from_slice(&chunk);
    }
    let into_dir = dest.is_dir();
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let rename = dest.file_name().map(PathBuf::from);
    let mut archive = tar::Archive::new(tar_bytes.as_slice());
    archive.set_preserve_permissions(true);
    let entries = archive.entries().map_err(|e| io_error(&doing, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| io_error(&doing, e))?;
        let inner = entry.path().map_err(|e| io_error(&doing, e))?.into_owned();
        if inner
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::RootDir))
        {
            continue;
        }
        let target = if into_dir {
            dest.join(&inner)
        } else {
            // The archive's top entry is the source's own name: it becomes `dest`.
            let mut rest = inner.components();
            rest.next();
            let mut t = parent.join(rename.clone().unwrap_or_default());
            let rest = rest.as_path();
            if !rest.as_os_str().is_empty() {
                t = t.join(rest);
            }
            t
        };
        if let Some(p) = target.parent() {
            std::fs::create_dir_all(p).map_err(|e| io_error(&doing, e))?;
        }
        entry.unpack(&target).map_err(|e| io_error(&doing, e))?;
    }
    Ok(())
}

/// Copies `src` from this machine into `container` at `path`: into it when it is a folder there,
/// else to that name.
pub(super) async fn to_container(
    engine: &dyn Engine,
    container: &str,
    src: &Path,
    path: &str,
) -> Result<(), EngineError> {
    let doing = format!("copying {} to {container}:{path}", src.display());
    let is_dir = matches!(engine.path_is_dir(container, path).await, Ok(Some(true)));
    let trimmed = path.trim_end_matches('/');
    let (dir, name) = if is_dir || path.ends_with('/') {
        let base = src
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".into());
        (path.to_string(), base)
    } else {
        match trimmed.rsplit_once('/') {
            Some((d, n)) => (
                if d.is_empty() {
                    "/".into()
                } else {
                    d.to_string()
                },
                n.to_string(),
            ),
            None => (".".into(), trimmed.to_string()),
        }
    };
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let added = if src.is_dir() {
        builder.append_dir_all(&name, src)
    } else {
        builder.append_path_with_name(src, &name)
    };
    added.map_err(|e| io_error(&doing, e))?;
    let tar_bytes = builder.into_inner().map_err(|e| io_error(&doing, e))?;
    engine
        .upload(container, &dir, tar_bytes)
        .await
        .map_err(|e| EngineError::new(e.kind, format!("{doing}: {e}")))
}
