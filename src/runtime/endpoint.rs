//! Which engine to talk to, chosen as the docker CLI chooses it: `--host`, `--context`,
//! `DOCKER_HOST`, `DOCKER_CONTEXT`, the docker config's `currentContext`, and the context store
//! (`<config dir>/contexts/meta/<sha256 of name>/meta.json`, TLS material under
//! `contexts/tls/<sha256>/docker/`). Pure logic over files and the environment; the connection
//! itself is made in `engine/docker.rs`.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::engine::{EngineError, ErrorKind};

/// The local engine's socket when nothing names another.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The docker CLI's global flags that choose the engine (the plugin receives them before
/// `compose`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointFlags {
    /// `-H/--host`
    pub host: Option<String>,
    /// `-c/--context`
    pub context: Option<String>,
    /// `--config`: the docker config directory
    pub config_dir: Option<PathBuf>,
    /// `--tls`
    pub tls: bool,
    /// `--tlsverify`
    pub tls_verify: bool,
    pub tls_ca: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// TLS material for a TCP endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Whether the server's certificate is checked against `ca`.
    pub verify: bool,
}

/// The chosen engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The context it comes from (`default` for flags and the environment).
    pub context: String,
    /// `unix:///path`, `tcp://host:port`, ...
    pub host: String,
    pub tls: Option<Tls>,
}

impl Endpoint {
    /// Whether the engine runs on this machine (a unix socket).
    pub fn is_local(&self) -> bool {
        self.host.starts_with("unix://")
    }

    /// The unix socket's path, for a local engine.
    pub fn socket_path(&self) -> Option<&str> {
        self.host.strip_prefix("unix://")
    }
}

static CURRENT: OnceLock<Endpoint> = OnceLock::new();

/// Records the endpoint this process connected to (the first one wins).
pub(crate) fn set_current(e: &Endpoint) {
    let _ = CURRENT.set(e.clone());
}

/// The engine URL this process connected to first (`None` before any connection).
pub(crate) fn current_host() -> Option<&'static str> {
    CURRENT.get().map(|e| e.host.as_str())
}

/// The endpoint this process connected to; before any connection, the local engine.
pub(crate) fn current_is_local() -> bool {
    CURRENT.get().is_none_or(Endpoint::is_local)
}

fn err(msg: String) -> EngineError {
    EngineError::new(ErrorKind::Connect, msg)
}

/// The docker config directory: `--config`, `DOCKER_CONFIG`, or `~/.docker`.
pub fn config_dir(flags: &EndpointFlags, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(d) = &flags.config_dir {
        return d.clone();
    }
    if let Some(d) = env("DOCKER_CONFIG") {
        return PathBuf::from(d);
    }
    PathBuf::from(env("HOME").unwrap_or_else(|| "/root".into())).join(".docker")
}

/// The context name, by the docker CLI's rules: `--context` (an error together with `--host`),
/// then `--host` or `DOCKER_HOST` (the default context), `DOCKER_CONTEXT`, the config's
/// `currentContext`, and `default`.
fn context_name(
    flags: &EndpointFlags,
    env: &dyn Fn(&str) -> Option<String>,
    config: &Path,
) -> Result<String, EngineError> {
    if let Some(c) = &flags.context {
        if flags.host.is_some() {
            return Err(err(
                "conflicting options: cannot specify both --host and --context".into(),
            ));
        }
        return Ok(c.clone());
    }
    if flags.host.is_some() || env("DOCKER_HOST").is_some() {
        return Ok("default".into());
    }
    if let Some(c) = env("DOCKER_CONTEXT") {
        return Ok(c);
    }
    let file = config.join("config.json");
    match std::fs::read(&file) {
        Ok(bytes) => {
            let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
                err(format!(
                    "cannot read the docker config {}: {e}; fix the file or point DOCKER_CONFIG elsewhere",
                    file.display()
                ))
            })?;
            if let Some(c) = v.get("currentContext").and_then(|c| c.as_str()) {
                if !c.is_empty() {
                    return Ok(c.to_string());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(err(format!(
                "cannot read the docker config {}: {e}",
                file.display()
            )))
        }
    }
    Ok("default".into())
}

/// The folder of a context in the store: the SHA-256 of its name.
pub fn context_id(name: &str) -> String {
    hex::encode(Sha256::digest(name.as_bytes()))
}

/// Resolves the engine from the flags, the environment (`env`) and the docker config.
pub fn resolve(
    flags: &EndpointFlags,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Endpoint, EngineError> {
    let env = |k: &str| env(k).filter(|v| !v.is_empty());
    let config = config_dir(flags, &env);
    let name = context_name(flags, &env, &config)?;
    if name == "default" {
        return default_endpoint(flags, &env, &config);
    }
    let id = context_id(&name);
    let meta = config
        .join("contexts")
        .join("meta")
        .join(&id)
        .join("meta.json");
    let bytes = std::fs::read(&meta).map_err(|e| {
        err(format!(
            "context \"{name}\": context not found: open {}: {e}; `docker context ls` lists the contexts",
            meta.display()
        ))
    })?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        err(format!(
            "context \"{name}\": cannot read {}: {e}",
            meta.display()
        ))
    })?;
    let docker = v.get("Endpoints").and_then(|e| e.get("docker"));
    let host = docker
        .and_then(|d| d.get("Host"))
        .and_then(|h| h.as_str())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            err(format!(
                "context \"{name}\": no docker endpoint (Endpoints.docker.Host) in {}",
                meta.display()
            ))
        })?
        .to_string();
    let skip_verify = docker
        .and_then(|d| d.get("SkipTLSVerify"))
        .and_then(|s| s.as_bool())
        .unwrap_or(false);
    let tls_dir = config.join("contexts").join("tls").join(&id).join("docker");
    // As the docker CLI: TLS when the context has material, or skips verification.
    let tls = if skip_verify
        || tls_dir.join("ca.pem").exists()
        || tls_dir.join("cert.pem").exists()
        || tls_dir.join("key.pem").exists()
    {
        Some(Tls {
            ca: tls_dir.join("ca.pem"),
            cert: tls_dir.join("cert.pem"),
            key: tls_dir.join("key.pem"),
            verify: !skip_verify,
        })
    } else {
        None
    };
    Ok(Endpoint {
        context: name,
        host,
        tls,
    })
}

/// The default context: `--host`, `DOCKER_HOST` or the local socket; TLS from the `--tls*`
/// flags, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` (default: the config directory).
fn default_endpoint(
    flags: &EndpointFlags,
    env: &dyn Fn(&str) -> Option<String>,
    config: &Path,
) -> Result<Endpoint, EngineError> {
    let host = flags
        .host
        .clone()
        .or_else(|| env("DOCKER_HOST"))
        .unwrap_or_else(|| DEFAULT_HOST.to_string());
    let verify = flags.tls_verify || env("DOCKER_TLS_VERIFY").is_some();
    let tls_on = flags.tls || verify || env("DOCKER_TLS").is_some();
    let tls = tls_on.then(|| {
        let dir = env("DOCKER_CERT_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| config.to_path_buf());
        Tls {
            ca: flags.tls_ca.clone().unwrap_or_else(|| dir.join("ca.pem")),
            cert: flags
                .tls_cert
                .clone()
                .unwrap_or_else(|| dir.join("cert.pem")),
            key: flags.tls_key.clone().unwrap_or_else(|| dir.join("key.pem")),
            verify,
        }
    });
    Ok(Endpoint {
        context: "default".into(),
        host,
        tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Store {
        dir: tempfile::TempDir,
    }

    impl Store {
        fn new() -> Self {
            Store {
                dir: tempfile::tempdir().unwrap(),
            }
        }
        fn path(&self) -> &Path {
            self.dir.path()
        }
        fn context(&self, name: &str, host: &str, tls: bool) {
            let d = self.path().join("contexts/meta").join(context_id(name));
            std::fs::create_dir_all(&d).unwrap();
            let meta = serde_json::json!({
                "Name": name, "Metadata": {},
                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}
            });
            std::fs::write(d.join("meta.json"), meta.to_string()).unwrap();
            if tls {
                let t = self
                    .path()
                    .join("contexts/tls")
                    .join(context_id(name))
                    .join("docker");
                std::fs::create_dir_all(&t).unwrap();
                for f in ["ca.pem", "cert.pem", "key.pem"] {
                    std::fs::write(t.join(f), "x").unwrap();
                }
            }
        }
        fn current(&self, name: &str) {
            std::fs::write(
                self.path().join("config.json"),
                serde_json::json!({"auths": {}, "currentContext": name}).to_string(),
            )
            .unwrap();
        }
        fn resolve(
            &self,
            flags: &EndpointFlags,
            vars: &[(&str, &str)],
        ) -> Result<Endpoint, String> {
            let mut env: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            env.insert(
                "DOCKER_CONFIG".into(),
                self.path().to_string_lossy().into_owned(),
            );
            resolve(flags, &|k| env.get(k).cloned()).map_err(|e| e.to_string())
        }
    }

    fn host(h: &str) -> EndpointFlags {
        EndpointFlags {
            host: Some(h.into()),
            ..Default::default()
        }
    }

    fn context(c: &str) -> EndpointFlags {
        EndpointFlags {
            context: Some(c.into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_store_names_a_context_by_the_sha256_of_its_name() {
        // As `docker context create bad` names its folder.
        assert_eq!(
            context_id("bad"),
            "2f05d4b689d270cafb02285f35f44866f7dc8a2d368a3f9d1124373eeab31fb1"
        );
    }

    #[test]
    fn nothing_set_is_the_local_socket() {
        let s = Store::new();
        let e = s.resolve(&EndpointFlags::default(), &[]).unwrap();
        assert_eq!(e.context, "default");
        assert_eq!(e.host, DEFAULT_HOST);
        assert!(e.tls.is_none() && e.is_local());
    }

    #[test]
    fn precedence_follows_the_docker_cli() {
        let s = Store::new();
        s.context("remote", "tcp://10.0.0.1:2376", false);
        s.context("other", "unix:///run/other.sock", false);
        s.current("remote");
        // The config's current context.
        assert_eq!(
            s.resolve(&EndpointFlags::default(), &[]).unwrap().host,
            "tcp://10.0.0.1:2376"
        );
        // DOCKER_CONTEXT beats the config.
        let e = s
            .resolve(&EndpointFlags::default(), &[("DOCKER_CONTEXT", "other")])
            .unwrap();
        assert_eq!(
            (e.context.as_str(), e.host.as_str()),
            ("other", "unix:///run/other.sock")
        );
        // DOCKER_HOST beats DOCKER_CONTEXT and the config.
        let e = s
            .resolve(
                &EndpointFlags::default(),
                &[
                    ("DOCKER_CONTEXT", "other"),
                    ("DOCKER_HOST", "unix:///h.sock"),
                ],
            )
            .unwrap();
        assert_eq!(
            (e.context.as_str(), e.host.as_str()),
            ("default", "unix:///h.sock")
        );
        // --context beats DOCKER_HOST.
        let e = s
            .resolve(&context("other"), &[("DOCKER_HOST", "unix:///h.sock")])
            .unwrap();
        assert_eq!(e.host, "unix:///run/other.sock");
        // --host beats DOCKER_CONTEXT and DOCKER_HOST.
        let e = s
            .resolve(
                &host("unix:///f.sock"),
                &[
                    ("DOCKER_CONTEXT", "other"),
                    ("DOCKER_HOST", "unix:///h.sock"),
                ],
            )
            .unwrap();
        assert_eq!(e.host, "unix:///f.sock");
        // An empty variable counts as unset.
        let e = s
            .resolve(&EndpointFlags::default(), &[("DOCKER_HOST", "")])
            .unwrap();
        assert_eq!(e.context, "remote");
        // `--context default` is the flags' and the environment's engine.
        let e = s
            .resolve(&context("default"), &[("DOCKER_HOST", "unix:///h.sock")])
            .unwrap();
        assert_eq!(e.host, "unix:///h.sock");
    }

    #[test]
    fn host_and_context_together_are_refused() {
        let s = Store::new();
        s.context("other", "unix:///run/other.sock", false);
        let f = EndpointFlags {
            host: Some("unix:///f.sock".into()),
            context: Some("other".into()),
            ..Default::default()
        };
        assert_eq!(
            s.resolve(&f, &[]).unwrap_err(),
            "conflicting options: cannot specify both --host and --context"
        );
    }

    #[test]
    fn an_unknown_context_is_an_error_never_the_local_engine() {
        let s = Store::new();
        for (flags, vars) in [
            (context("nope"), vec![]),
            (EndpointFlags::default(), vec![("DOCKER_CONTEXT", "nope")]),
        ] {
            let e = s.resolve(&flags, &vars).unwrap_err();
            assert!(
                e.starts_with("context \"nope\": context not found: open "),
                "{e}"
            );
            assert!(e.contains(&context_id("nope")), "{e}");
        }
        s.current("gone");
        let e = s.resolve(&EndpointFlags::default(), &[]).unwrap_err();
        assert!(e.starts_with("context \"gone\": context not found"), "{e}");
    }

    #[test]
    fn a_broken_config_or_context_says_which_file() {
        let s = Store::new();
        std::fs::write(s.path().join("config.json"), "{not json").unwrap();
        let e = s.resolve(&EndpointFlags::default(), &[]).unwrap_err();
        assert!(e.contains("config.json"), "{e}");
        let d = s.path().join("contexts/meta").join(context_id("x"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("meta.json"), r#"{"Name":"x","Endpoints":{}}"#).unwrap();
        let e = s.resolve(&context("x"), &[]).unwrap_err();
        assert!(
            e.contains("no docker endpoint") && e.contains("meta.json"),
            "{e}"
        );
    }

    #[test]
    fn a_context_with_tls_material_uses_it() {
        let s = Store::new();
        s.context("secure", "tcp://10.0.0.2:2376", true);
        let e = s.resolve(&context("secure"), &[]).unwrap();
        let tls = e.tls.unwrap();
        let dir = s
            .path()
            .join("contexts/tls")
            .join(context_id("secure"))
            .join("docker");
        assert_eq!(tls.ca, dir.join("ca.pem"));
        assert_eq!(tls.cert, dir.join("cert.pem"));
        assert_eq!(tls.key, dir.join("key.pem"));
        assert!(tls.verify);
        s.context("plain", "tcp://10.0.0.3:2375", false);
        assert!(s.resolve(&context("plain"), &[]).unwrap().tls.is_none());
    }

    #[test]
    fn tls_flags_and_variables_of_the_default_context() {
        let s = Store::new();
        let e = s
            .resolve(
                &EndpointFlags::default(),
                &[
                    ("DOCKER_HOST", "tcp://10.0.0.4:2376"),
                    ("DOCKER_TLS_VERIFY", "1"),
                    ("DOCKER_CERT_PATH", "/certs"),
                ],
            )
            .unwrap();
        assert_eq!(
            e.tls,
            Some(Tls {
                ca: "/certs/ca.pem".into(),
                cert: "/certs/cert.pem".into(),
                key: "/certs/key.pem".into(),
                verify: true,
            })
        );
        let f = EndpointFlags {
            host: Some("tcp://10.0.0.4:2376".into()),
            tls: true,
            tls_ca: Some("/a/ca.pem".into()),
            ..Default::default()
        };
        let t = s.resolve(&f, &[]).unwrap().tls.unwrap();
        assert_eq!(t.ca, PathBuf::from("/a/ca.pem"));
        assert_eq!(t.cert, s.path().join("cert.pem"));
        assert!(!t.verify);
        let f = EndpointFlags {
            config_dir: Some("/elsewhere".into()),
            tls_verify: true,
            ..Default::default()
        };
        let t = s.resolve(&f, &[]).unwrap().tls.unwrap();
        assert_eq!(t.key, PathBuf::from("/elsewhere/key.pem"));
    }

    #[test]
    fn the_config_flag_chooses_the_store() {
        let s = Store::new();
        let other = Store::new();
        other.context("there", "unix:///there.sock", false);
        other.current("there");
        let f = EndpointFlags {
            config_dir: Some(other.path().to_path_buf()),
            ..Default::default()
        };
        assert_eq!(s.resolve(&f, &[]).unwrap().host, "unix:///there.sock");
    }

    /// What `DockerEngine::connect` says when it cannot: the context and the endpoint.
    async fn connect_error(e: Endpoint) -> String {
        match crate::runtime::engine::docker::DockerEngine::connect(&e).await {
            Ok(_) => panic!("connected to {e:?}"),
            Err(err) => err.to_string(),
        }
    }

    #[tokio::test]
    async fn a_failed_connection_names_the_context_and_the_endpoint() {
        let t = tempfile::tempdir().unwrap();
        let sock = t.path().join("none.sock");
        let e = connect_error(Endpoint {
            context: "bad".into(),
            host: format!("unix://{}", sock.display()),
            tls: None,
        })
        .await;
        assert!(
            e.contains("context \"bad\"") && e.contains(&sock.display().to_string()),
            "{e}"
        );
        let e = connect_error(Endpoint {
            context: "default".into(),
            host: "npipe:////./pipe/docker_engine".into(),
            tls: None,
        })
        .await;
        assert!(
            e.contains("npipe:////./pipe/docker_engine") && e.contains("not supported"),
            "{e}"
        );
        // A path after an ssh host is refused before ssh runs.
        let e = connect_error(Endpoint {
            context: "default".into(),
            host: "ssh://user@127.0.0.1/var/run".into(),
            tls: None,
        })
        .await;
        assert!(e.contains("extra path after the host"), "{e}");
        // TLS files are checked before anything is dialled.
        let e = connect_error(Endpoint {
            context: "secure".into(),
            host: "tcp://127.0.0.1:1".into(),
            tls: Some(Tls {
                ca: t.path().join("ca.pem"),
                cert: t.path().join("cert.pem"),
                key: t.path().join("key.pem"),
                verify: true,
            }),
        })
        .await;
        assert!(e.contains("ca.pem") && e.contains("missing"), "{e}");
    }
}
