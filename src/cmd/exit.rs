//! The exit codes of rcompose, in one table (documented in README.md, "Exit codes").

use super::error::CliError;

/// Everything went as asked.
pub const SUCCESS: i32 = 0;
/// Any failure rcompose reports: bad files or flags, an engine error, a dependency that did not
/// become healthy, a `--wait` that timed out.
pub const FAILURE: i32 = 1;
/// Ctrl-C stopped an attached `up` (128 + SIGINT).
pub const INTERRUPTED: i32 = 130;
/// Standard output was closed by its reader (128 + SIGPIPE, as for other command-line tools).
pub const BROKEN_PIPE: i32 = 141;

/// The exit code of a command's result. A process's own code (`run`, `exec`, `wait`,
/// `up --exit-code-from` / `--abort-on-container-exit`) is passed on unchanged.
pub fn code(result: &Result<(), CliError>) -> i32 {
    match result {
        Ok(()) => SUCCESS,
        Err(CliError::Exit(c)) => *c,
        Err(CliError::Interrupted | CliError::InterruptedLeaving(_)) => INTERRUPTED,
        Err(CliError::BrokenPipe) => BROKEN_PIPE,
        Err(_) => FAILURE,
    }
}

/// The exit code of a command line clap could not parse: 0 for `--help` and `--version`.
pub fn of_usage(kind: clap::error::ErrorKind) -> i32 {
    match kind {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => SUCCESS,
        _ => FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(code(&Ok(())), 0);
        assert_eq!(code(&Err(CliError::Exit(3))), 3);
        assert_eq!(code(&Err(CliError::Interrupted)), 130);
        assert_eq!(code(&Err(CliError::InterruptedLeaving("x".into()))), 130);
        assert_eq!(code(&Err(CliError::BrokenPipe)), 141);
        assert_eq!(code(&Err(CliError::NoSuchService("x".into()))), 1);
        assert_eq!(of_usage(clap::error::ErrorKind::DisplayHelp), 0);
        assert_eq!(of_usage(clap::error::ErrorKind::UnknownArgument), 1);
    }
}
