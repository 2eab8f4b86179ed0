//! What can go wrong above the loader, as data: the loader's and the runtime's errors as they
//! are, command-line mistakes, and the ends that are not failures to report (a process's own
//! exit code, Ctrl-C, a closed standard output). [`super::exit`] maps each to its exit code.

use std::path::PathBuf;

use crate::parse::LoadError;
use crate::runtime::{self, EngineError};

/// Why a command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The compose files, or the options that name them (with file, line and key).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A plan that failed on the engine, or a dependency cycle.
    #[error(transparent)]
    Runtime(#[from] runtime::Error),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A service named on the command line that the project does not have.
    #[error("no such service: {0}")]
    NoSuchService(String),
    /// A flag value or combination that cannot be used; the message says what is expected.
    #[error("{0}")]
    Invalid(String),
    /// A file the user asked rcompose to write.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Standard output was closed (`rcompose config | head -1`): end quietly.
    #[error("standard output is closed")]
    BrokenPipe,
    /// A container or process ended with this non-zero code: pass it on, say nothing more.
    #[error("exited with code {0}")]
    Exit(i32),
    /// Ctrl-C during an attached `up`.
    #[error("interrupted")]
    Interrupted,
    /// Ctrl-C that left something the user must know of: said, and the exit code of Ctrl-C.
    #[error("interrupted; {0}")]
    InterruptedLeaving(String),
}

impl CliError {
    /// A command-line mistake, said as it is.
    pub fn new(message: impl ToString) -> Self {
        CliError::Invalid(message.to_string())
    }

    /// Whether the error has something to say on stderr.
    pub fn is_reported(&self) -> bool {
        !matches!(
            self,
            CliError::BrokenPipe | CliError::Exit(_) | CliError::Interrupted
        )
    }
}

impl From<String> for CliError {
    fn from(message: String) -> Self {
        CliError::Invalid(message)
    }
}

/// A process's exit code as the command's result.
pub fn exit_with(code: i64) -> Result<(), CliError> {
    match code {
        0 => Ok(()),
        c => Err(CliError::Exit(c as i32)),
    }
}
