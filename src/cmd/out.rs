//! Standard output that ends quietly when its reader goes away (`rcompose config | head -1`).

use std::io::Write;

use super::error::CliError;

/// Writes `text` to standard output; a closed pipe is [`CliError::BrokenPipe`].
pub(super) fn write(text: &str) -> Result<(), CliError> {
    write_bytes(text.as_bytes())
}

/// Writes `bytes` (a tar stream, say) to standard output, as [`write`] does.
pub(super) fn write_bytes(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(CliError::BrokenPipe),
        Err(e) => Err(CliError::new(format!("writing to standard output: {e}"))),
    }
}

/// `println!` that returns a `Result` (see [`write`]).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cmd::out::write(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that returns a `Result` (see [`write`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cmd::out::write(&format!($($arg)*))
    };
}

pub(crate) use {out, outln};
