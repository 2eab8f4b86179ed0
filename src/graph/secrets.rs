//! Secrets and configs given by `environment` or `content`: which private host files a container
//! needs (path, value, owner, mode). Planned as one step before the container is created.

use std::path::{Path, PathBuf};

use crate::parse::{FileRef, Project, Service};

/// One private file: the value of a secret or config, its owner and mode.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretFile {
    pub host_path: PathBuf,
    pub value: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    /// Set when the value comes from an environment variable that is not set: the reference's
    /// message; nothing may be created then.
    pub unset: Option<String>,
}

impl std::fmt::Debug for SecretFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the value.
        write!(f, "SecretFile({})", self.host_path.display())
    }
}

/// The folder of one project's private files, under `root` (the user's private folder of
/// secrets, chosen by the runtime).
pub fn project_dir(root: &Path, project: &str) -> PathBuf {
    root.join(project)
}

/// The folder of one container's private files.
pub fn container_dir(root: &Path, project: &str, container: &str) -> PathBuf {
    project_dir(root, project).join(container)
}

/// The host file that holds one materialized secret of one container (a bind source).
pub fn host_path(root: &Path, project: &str, container: &str, target: &str) -> PathBuf {
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
    container_dir(root, project, container).join(file)
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
/// written to private host files (under `root`) and bound read-only, so they work for
/// `read_only` services too.
pub fn files(project: &Project, svc: &Service, container: &str, root: &Path) -> Vec<SecretFile> {
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
            let (value, unset) = match (&def.environment, &def.content) {
                (Some(var), _) => match project
                    .environment
                    .get(var)
                    .cloned()
                    .or_else(|| std::env::var(var).ok())
                {
                    Some(v) => (v, None),
                    None => (
                        String::new(),
                        Some(format!(
                            "environment variable {var:?} required by {kind} {:?} is not set",
                            def.name
                        )),
                    ),
                },
                (None, Some(c)) => (c.clone(), None),
                (None, None) => continue,
            };
            let target = mount_target(kind, r);
            out.push(SecretFile {
                host_path: host_path(root, &project.name, container, &target),
                value,
                unset,
                uid: r.uid.as_ref().and_then(|u| u.id).unwrap_or(0),
                gid: r.gid.as_ref().and_then(|g| g.id).unwrap_or(0),
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
            host_path(Path::new("/r"), "p", "p-web-1", "/run/secrets/a b"),
            Path::new("/r/p/p-web-1/run_secrets_a_b")
        );
    }

    #[test]
    fn a_secret_from_an_unset_variable_carries_the_references_message() {
        let mut p = crate::graph::fixture::project();
        let mut svc = crate::graph::fixture::service("app", &[]);
        for (key, var) in [
            ("set", "RCOMPOSE_TEST_SET_92"),
            ("unset", "RCOMPOSE_TEST_UNSET_92"),
        ] {
            svc.secrets.push(FileRef {
                source: key.into(),
                ..Default::default()
            });
            p.secrets.insert(
                key.into(),
                crate::parse::FileObject {
                    name: format!("p_{key}"),
                    environment: Some(var.into()),
                    ..Default::default()
                },
            );
        }
        p.environment
            .insert("RCOMPOSE_TEST_SET_92".into(), String::new());
        let f = files(&p, &svc, "p-app-1", Path::new("/r"));
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].unset, None);
        assert_eq!(
            f[1].unset.as_deref(),
            Some(
                "environment variable \"RCOMPOSE_TEST_UNSET_92\" required by secret \"p_unset\" is not set"
            )
        );
    }
}
