//! How the docker CLI runs rcompose: as its `compose` plugin (`docker-compose` in a
//! `cli-plugins` folder, probed with `docker-cli-plugin-metadata`, then run as
//! `docker-compose [docker's global flags] compose ARGS`), as a standalone `docker-compose`,
//! or as `rcompose`: one binary, the same flags.

use clap::Args;
use std::ffi::OsString;
use std::path::PathBuf;

use crate::runtime::endpoint::EndpointFlags;

/// The docker CLI's global flags: `docker -H X compose ps` hands them to the plugin before
/// `compose`. They choose the engine; `--debug` and `--log-level` are accepted and ignored.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Docker options (as the docker CLI passes them)")]
pub struct DockerArgs {
    /// Daemon socket to connect to [env: DOCKER_HOST]
    #[arg(short = 'H', long = "host", value_name = "HOST")]
    pub host: Option<String>,
    /// Name of the docker context to use [env: DOCKER_CONTEXT]
    #[arg(short = 'c', long = "context", value_name = "NAME")]
    pub context: Option<String>,
    /// Location of the docker client config files [env: DOCKER_CONFIG]
    #[arg(long = "config", value_name = "DIR")]
    pub config: Option<PathBuf>,
    /// Accepted for the docker CLI; ignored
    #[arg(short = 'D', long = "debug")]
    pub debug: bool,
    /// Accepted for the docker CLI; ignored
    #[arg(short = 'l', long = "log-level", value_name = "LEVEL", value_parser = ["debug", "info", "warn", "error", "fatal"])]
    pub log_level: Option<String>,
    /// Use TLS; implied by --tlsverify
    #[arg(long)]
    pub tls: bool,
    /// Trust certs signed only by this CA [default: DOCKER_CERT_PATH or the config dir, ca.pem]
    #[arg(long, value_name = "FILE")]
    pub tlscacert: Option<PathBuf>,
    /// Path to TLS certificate file [default: cert.pem]
    #[arg(long, value_name = "FILE")]
    pub tlscert: Option<PathBuf>,
    /// Path to TLS key file [default: key.pem]
    #[arg(long, value_name = "FILE")]
    pub tlskey: Option<PathBuf>,
    /// Use TLS and verify the remote [env: DOCKER_TLS_VERIFY]
    #[arg(long)]
    pub tlsverify: bool,
}

impl DockerArgs {
    pub fn endpoint_flags(&self) -> EndpointFlags {
        EndpointFlags {
            host: self.host.clone(),
            context: self.context.clone(),
            config_dir: self.config.clone(),
            tls: self.tls,
            tls_verify: self.tlsverify,
            tls_ca: self.tlscacert.clone(),
            tls_cert: self.tlscert.clone(),
            tls_key: self.tlskey.clone(),
        }
    }
}

/// The docker CLI's global flags that take a value (as a separate argument).
const WITH_VALUE: &[&str] = &[
    "-H",
    "--host",
    "-c",
    "--context",
    "--config",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];
const BOOLEAN: &[&str] = &["-D", "--debug", "--tls", "--tlsverify"];

/// Whether the docker CLI is asking the plugin for its metadata.
pub(super) fn is_metadata_probe(args: &[OsString]) -> bool {
    args.len() == 2 && args[1] == "docker-cli-plugin-metadata"
}

/// The plugin's metadata, as the docker CLI reads it (`docker info` shows it).
pub(super) fn metadata(compat_version: &str) -> String {
    let v = serde_json::json!({
        "SchemaVersion": "0.1.0",
        "Vendor": "rcompose",
        "Version": format!("v{compat_version}"),
        "ShortDescription": format!("Docker Compose (rcompose v{})", env!("CARGO_PKG_VERSION")),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// Removes the `compose` the docker CLI puts after its global flags
/// (`docker-compose -H X compose ps` → `docker-compose -H X ps`); other shapes pass unchanged.
pub(super) fn strip_compose(mut args: Vec<OsString>) -> Vec<OsString> {
    let mut i = 1;
    while let Some(a) = args.get(i).and_then(|a| a.to_str()) {
        if a == "compose" {
            args.remove(i);
            break;
        }
        if WITH_VALUE.contains(&a) {
            i += 2;
        } else if BOOLEAN.contains(&a)
            || (a.starts_with("--") && WITH_VALUE.contains(&a.split('=').next().unwrap_or("")))
        {
            i += 1;
        } else {
            break;
        }
    }
    args
}

/// Under the docker CLI, follows its plugin socket (`DOCKER_CLI_PLUGIN_SOCKET`): the CLI closes it
/// when it is told to stop without a terminal (a program signalling `docker` alone, not its
/// process group), and the plugin is then to stop as on Ctrl-C. Without the variable, nothing.
pub(super) fn follow_cli_socket() {
    use std::io::Read;
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixStream};
    let Some(name) = std::env::var("DOCKER_CLI_PLUGIN_SOCKET")
        .ok()
        .filter(|n| !n.is_empty())
    else {
        return;
    };
    let stream = match name.strip_prefix('@') {
        Some(abstract_name) => SocketAddr::from_abstract_name(abstract_name.as_bytes())
            .and_then(|a| UnixStream::connect_addr(&a)),
        None => UnixStream::connect(&name),
    };
    let Ok(mut stream) = stream else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("docker-cli-socket".into())
        .spawn(move || {
            let mut buf = [0u8; 64];
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            interrupt();
        });
}

/// Stops as Ctrl-C would: a command that handles SIGINT (attached `up`) gets it; any other ends
/// with 130, the code of a process ended by Ctrl-C (the docker CLI passes exit codes on, and
/// says 255 for a plugin killed by a signal).
fn interrupt() {
    // SAFETY: sigaction(2) only reads the current disposition into a zeroed struct, and kill(2)
    // sends a valid signal to this process.
    let handled = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction != libc::SIG_DFL
            && old.sa_sigaction != libc::SIG_IGN
    };
    if handled {
        // SAFETY: see above.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGINT);
        }
    } else {
        std::process::exit(super::exit::INTERRUPTED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(args: &[&str]) -> Vec<String> {
        strip_compose(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn compose_after_dockers_global_flags_is_removed() {
        // What `docker ... compose ...` runs, as seen by a plugin that prints its argv.
        assert_eq!(strip(&["p", "compose", "ps"]), ["p", "ps"]);
        assert_eq!(
            strip(&["p", "-H", "unix:///x.sock", "compose", "ps"]),
            ["p", "-H", "unix:///x.sock", "ps"]
        );
        assert_eq!(
            strip(&[
                "p",
                "-D",
                "-l",
                "warn",
                "--tls",
                "--tlsverify",
                "compose",
                "ps"
            ]),
            ["p", "-D", "-l", "warn", "--tls", "--tlsverify", "ps"]
        );
        assert_eq!(
            strip(&["p", "--config", "/d", "-c", "x", "compose", "-f", "a.yml", "ps"]),
            ["p", "--config", "/d", "-c", "x", "-f", "a.yml", "ps"]
        );
        assert_eq!(
            strip(&["p", "--context=x", "compose", "ps"]),
            ["p", "--context=x", "ps"]
        );
    }

    #[test]
    fn other_shapes_are_left_alone() {
        assert_eq!(strip(&["docker-compose", "ps"]), ["docker-compose", "ps"]);
        assert_eq!(
            strip(&["rcompose", "-H", "unix:///x", "ps"]),
            ["rcompose", "-H", "unix:///x", "ps"]
        );
        // A service named `compose` after a command stays.
        assert_eq!(
            strip(&["rcompose", "logs", "compose"]),
            ["rcompose", "logs", "compose"]
        );
        assert_eq!(
            strip(&["rcompose", "-f", "x", "compose"]),
            ["rcompose", "-f", "x", "compose"]
        );
    }

    #[test]
    fn the_metadata_probe_is_answered() {
        let probe: Vec<OsString> = ["docker-compose", "docker-cli-plugin-metadata"]
            .iter()
            .map(OsString::from)
            .collect();
        assert!(is_metadata_probe(&probe));
        let v: serde_json::Value = serde_json::from_str(&metadata("2.40.3")).unwrap();
        assert_eq!(v["SchemaVersion"], "0.1.0");
        assert_eq!(v["Version"], "v2.40.3");
        assert_eq!(v["Vendor"], "rcompose");
    }
}
