//! The connection to the Docker Engine and the mapping of its errors.

use bollard::Docker;
use std::fmt;

/// An engine failure, with what we were doing.
#[derive(Debug, Clone)]
pub struct EngineError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No engine answers.
    Connect,
    NotFound,
    Conflict,
    /// The engine refused or failed the request.
    Api,
    /// Something the engine cannot do here, found before any change.
    Unsupported,
    /// A dependency or a container did not reach its condition.
    Condition,
}

impl EngineError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        EngineError {
            kind,
            message: message.into(),
        }
    }

    /// Wraps a bollard error with what was being done (`creating container p-web-1`).
    pub fn from_bollard(doing: &str, err: bollard::errors::Error) -> Self {
        use bollard::errors::Error as B;
        match err {
            B::DockerResponseServerError {
                status_code,
                message,
            } => {
                let kind = match status_code {
                    404 => ErrorKind::NotFound,
                    409 => ErrorKind::Conflict,
                    _ => ErrorKind::Api,
                };
                EngineError::new(kind, format!("{doing}: {message}"))
            }
            B::IOError { err } => EngineError::new(
                ErrorKind::Connect,
                format!("{doing}: cannot reach the Docker engine: {err}"),
            ),
            B::HyperResponseError { err } => EngineError::new(
                ErrorKind::Connect,
                format!("{doing}: cannot reach the Docker engine: {err}"),
            ),
            other => EngineError::new(ErrorKind::Api, format!("{doing}: {other}")),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EngineError {}

/// Connects to the engine named by `DOCKER_HOST` (or the local socket) and agrees on an API
/// version with it (our engines speak 1.41).
pub async fn connect() -> Result<Docker, EngineError> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let docker = Docker::connect_with_defaults().map_err(|e| {
        EngineError::new(
            ErrorKind::Connect,
            format!("cannot connect to the Docker engine {host}: {e}"),
        )
    })?;
    docker.negotiate_version().await.map_err(|e| {
        let at = if host.is_empty() {
            "unix:///var/run/docker.sock".to_string()
        } else {
            host
        };
        EngineError::new(
            ErrorKind::Connect,
            format!(
                "cannot connect to the Docker engine at {at}: {e}. Is the docker daemon running?"
            ),
        )
    })
}
