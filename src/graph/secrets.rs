//! Secrets and configs given by `environment` or `content`: which private host files a container
//! needs (path, value, owner, mode). Planned as one step before the container is created.

use std::path::{Path, PathBuf};

use crate::parse::{FileRef, Project, Service};

/// Where the engine's host keeps the private folders of a project's materialized secrets.
pub const SECRETS_ROOT: &str = "/run/rcompose";

/// One private file: the value of a secret or config, its owner and mode.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretFile {
    pub host_path: PathBuf,
    pub value: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

impl std::fmt::Debug for SecretFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the value.
        write!(f, "SecretFile({})", self.host_path.display())
    }
}

/// The folder of one container's private files.
pub fn container_dir(project: &str, container: &str) -> PathBuf {
    Path::new(SECRETS_ROOT).join(project).join(container)
}

/// The host file that holds one materialized secret of one container (a bind source).
pub fn host_path(project: &str, container: &str, target: &str) -> PathBuf {
    let file: String = target
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    container_dir(project, container).join(file)
}

/// Where a secret (`/run/secrets/...` by default) or config (`/...`) reference is mounted;
/// a relative target is taken inside that folder.
pub fn mount_target(kind: &str, r: &FileRef) -> String {
    let name = r.target.as_deref().unwrap_or(&r.source);
    match kind {
        _ if name.starts_with('/') => name.to_string(),
        "secret" => format!("/run/secrets/{name}"),
        _ => format!("/{name}"),
    }
}

/// The secrets and configs of container `container` (of `svc`) that are not files: they are
/// written to private host files and bound read-only, so they work for `read_only` services too.
pub fn files(project: &Project, svc: &Service, container: &str) -> Vec<SecretFile> {
    let mut out = Vec::new();
    for (kind, refs, defs) in [
        ("secret", &svc.secrets, &project.secrets),
        ("config", &svc.configs, &project.configs),
    ] {
        for r in refs {
            let Some(def) = defs.get(&r.source) else {
                continue;
            };
            if def.file.is_some() || def.external {
                continue;
            }
            let value = match (&def.environment, &def.content) {
                (Some(var), _) => project
                    .environment
                    .get(var)
                    .cloned()
                    .or_else(|| std::env::var(var).ok())
                    .unwrap_or_default(),
                (None, Some(c)) => c.clone(),
                (None, None) => continue,
            };
            let target = mount_target(kind, r);
            out.push(SecretFile {
                host_path: host_path(&project.name, container, &target),
                value,
                uid: r.uid.as_deref().and_then(|u| u.parse().ok()).unwrap_or(0),
                gid: r.gid.as_deref().and_then(|g| g.parse().ok()).unwrap_or(0),
                mode: r.mode.map_or(0o444, |m| m as u32),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_and_config_targets() {
        let r = |source: &str, target: Option<&str>| FileRef {
            source: source.into(),
            target: target.map(str::to_string),
            ..Default::default()
        };
        assert_eq!(mount_target("secret", &r("db", None)), "/run/secrets/db");
        assert_eq!(
            mount_target("secret", &r("db", Some("pw"))),
            "/run/secrets/pw"
        );
        assert_eq!(mount_target("secret", &r("db", Some("/etc/pw"))), "/etc/pw");
        assert_eq!(mount_target("config", &r("app", None)), "/app");
        assert_eq!(
            mount_target("config", &r("app", Some("etc/app"))),
            "/etc/app"
        );
        assert_eq!(
            host_path("p", "p-web-1", "/run/secrets/a b"),
            Path::new("/run/rcompose/p/p-web-1/run_secrets_a_b")
        );
    }
}
