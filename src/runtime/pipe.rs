//! An in-process pipe of bounded memory: the archive a backup writes is read by a restore on
//! another engine, with nothing staged on disk. Both ends are synchronous (they run on the
//! blocking threads of the archive writer and reader).

use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Chunks in flight at most: memory is bounded by this times the writer's write size.
const DEPTH: usize = 8;

/// The writing end; dropping it ends the stream (the archive's own `end.json` tells a whole
/// archive from a cut one).
pub(super) struct PipeWriter {
    tx: SyncSender<Vec<u8>>,
}

/// The reading end.
pub(super) struct PipeReader {
    rx: Receiver<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
}

/// A new pipe.
pub(super) fn pipe() -> (PipeWriter, PipeReader) {
    let (tx, rx) = sync_channel(DEPTH);
    (
        PipeWriter { tx },
        PipeReader {
            rx,
            current: Vec::new(),
            at: 0,
        },
    )
}

/// What a write says when the reading end is gone.
pub(super) const CLOSED: &str = "the restore on the other engine stopped reading";

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, CLOSED)
}

impl Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.tx.send(buf.to_vec()).map_err(|_| closed())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.current.len() {
            match self.rx.recv() {
                Ok(d) => {
                    self.current = d;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_pass_in_order_and_a_closed_reader_is_a_broken_pipe() {
        let (mut w, mut r) = pipe();
        let t = std::thread::spawn(move || {
            for i in 0..100u8 {
                w.write_all(&[i; 1000]).unwrap();
            }
        });
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        t.join().unwrap();
        assert_eq!(got.len(), 100_000);
        assert_eq!(got[99_999], 99);

        let (mut w, r) = pipe();
        drop(r);
        assert_eq!(
            w.write_all(b"x").unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    }
}
