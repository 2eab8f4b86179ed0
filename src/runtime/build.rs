//! Image builds through the Engine API: the context as a tar (honouring `.dockerignore`), the
//! service's build options, output streamed as progress, the failing step shown on error.

use futures::StreamExt;
use std::collections::HashMap;
use std::path::Path;

use super::dockerignore::Ignore;
use super::engine::{BuildOutput, BuildRequest, Engine, EngineError, ErrorKind};
use super::progress::{event, Reporter, Status};
use crate::parse::{Build, Project, Service};

/// Options of `build` that are not in the file.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub no_cache: bool,
    pub pull: bool,
    /// `--build-arg KEY=VALUE`, over the file's `args`.
    pub args: Vec<(String, String)>,
    /// Print the engine's output lines too.
    pub verbose: bool,
}

/// The name of the inline Dockerfile written into the context tar.
const INLINE: &str = ".rcompose.inline.Dockerfile";

fn fail(doing: &str, msg: impl std::fmt::Display) -> EngineError {
    EngineError::new(ErrorKind::Api, format!("{doing}: {msg}"))
}

/// The context folder as a tar, without what `.dockerignore` leaves out (the Dockerfile and the
/// `.dockerignore` itself always go).
pub(super) fn context_tar(
    dir: &Path,
    dockerfile: &str,
    inline: Option<&str>,
) -> Result<Vec<u8>, String> {
    let ignore = match std::fs::read_to_string(dir.join(".dockerignore")) {
        Ok(t) => Ignore::parse(&t)?,
        Err(_) => Ignore::parse("")?,
    };
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    let keep = [dockerfile.trim_start_matches("./"), ".dockerignore"];
    fn walk(
        tar: &mut tar::Builder<Vec<u8>>,
        root: &Path,
        rel: &str,
        ignore: &Ignore,
        keep: &[&str],
    ) -> Result<(), String> {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("reading {}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let excluded = ignore.excluded(&r) && !keep.contains(&r.as_str());
            let ft = e.file_type().map_err(|err| err.to_string())?;
            if ft.is_dir() {
                if excluded && !ignore.has_exceptions() {
                    continue;
                }
                if !excluded {
                    tar.append_dir(&r, e.path())
                        .map_err(|err| err.to_string())?;
                }
                walk(tar, root, &r, ignore, keep)?;
            } else if !excluded {
                tar.append_path_with_name(e.path(), &r)
                    .map_err(|err| format!("adding {r}: {err}"))?;
            }
        }
        Ok(())
    }
    walk(&mut tar, dir, "", &ignore, &keep)?;
    if let Some(text) = inline {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, INLINE, text.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    tar.into_inner().map_err(|e| e.to_string())
}

/// Builds the image of `svc`; returns its id.
pub(super) async fn build(
    engine: &dyn Engine,
    report: &Reporter,
    project: &Project,
    svc: &Service,
    opts: &BuildOptions,
) -> Result<String, EngineError> {
    let b: Build = svc.build.clone().unwrap_or_default();
    let image = svc.image_name(&project.name);
    let doing = format!("building {image} (service {})", svc.name);
    let res = format!("Service {}", svc.name);
    let context = b.context.clone().unwrap_or_else(|| ".".into());
    if crate::parse::canonical::is_remote(&context) {
        return Err(fail(
            &doing,
            "remote build contexts are not supported; clone the repository and use a folder",
        ));
    }
    let dockerfile = match &b.dockerfile_inline {
        Some(_) => INLINE.to_string(),
        None => b.dockerfile.clone().unwrap_or_else(|| "Dockerfile".into()),
    };
    let dir = Path::new(&context);
    if b.dockerfile_inline.is_none() && !dir.join(&dockerfile).is_file() {
        return Err(fail(
            &doing,
            format!("no Dockerfile at {}", dir.join(&dockerfile).display()),
        ));
    }
    report(event(&res, Status::Working, "Building"));
    let tar = context_tar(dir, &dockerfile, b.dockerfile_inline.as_deref())
        .map_err(|e| fail(&doing, e))?;
    let mut args: HashMap<String, String> = b
        .args
        .iter()
        .filter_map(|(k, v)| {
            v.clone()
                .or_else(|| std::env::var(k).ok())
                .map(|v| (k.clone(), v))
        })
        .collect();
    args.extend(opts.args.iter().cloned());
    let request = BuildRequest {
        dockerfile: dockerfile.clone(),
        tag: image.clone(),
        no_cache: b.no_cache || opts.no_cache,
        pull: opts.pull || b.pull,
        args,
        labels: b.labels.clone().into_iter().collect(),
        target: b.target.clone(),
        network: b.network.clone(),
        extra_hosts: (!b.extra_hosts.is_empty()).then(|| {
            let hosts: Vec<String> = b
                .extra_hosts
                .iter()
                .map(|h| format!("{}:{}", h.host, h.address))
                .collect();
            hosts.join(",")
        }),
        shm_size: b.shm_size.map(|s| s.0),
        cache_from: b.cache_from.clone(),
    };
    let mut stream = engine.build_image(&request, tar);
    // The output since the last step header, to show the failing step.
    let mut step: Vec<String> = Vec::new();
    while let Some(item) = stream.next().await {
        let msg = match item {
            Ok(BuildOutput::Text(text)) => Ok(text),
            Ok(BuildOutput::Error(error)) => Err(error),
            Err(e) => return Err(EngineError::new(e.kind, format!("{doing}: {e}"))),
        };
        match msg {
            Ok(text) => {
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    if line.starts_with("Step ") {
                        step.clear();
                    }
                    step.push(line.to_string());
                    if opts.verbose {
                        report(event(&res, Status::Working, line.trim_end()));
                    }
                }
            }
            Err(error) => {
                report(event(&res, Status::Error, "Error"));
                let output = step.join("\n  ");
                return Err(fail(&doing, format!("{error}\n  {output}")));
            }
        }
    }
    for tag in &b.tags {
        let (repo, t) = match tag.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r.to_string(), t.to_string()),
            _ => (tag.clone(), "latest".to_string()),
        };
        engine.tag_image(&image, &repo, &t).await.map_err(|e| {
            EngineError::new(e.kind, e.message.replace(&format!("{repo}:{t}"), tag))
        })?;
    }
    let id = engine
        .inspect_image(&image)
        .await
        .map_err(|e| EngineError::new(e.kind, format!("{doing}: {e}")))?
        .id;
    report(event(&res, Status::Done, "Built"));
    Ok(id)
}
