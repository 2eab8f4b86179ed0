//! The volume backup archive: one tar (zstd, gzip or plain) that plain `tar` can read.
//!
//! ```text
//! manifest.json                      what the archive holds (first, always)
//! volumes/<key>/...                  each volume's files, as the engine's archive gave them
//! checksums/<key>/000001.sha256      `sha256sum` lines of the files before it (every 1000 files)
//! end.json                           the counts of each volume (last, always)
//! ```
//!
//! Checksums come after the files they cover, so that nothing is staged: memory holds at most
//! one chunk of checksums, whatever the volume's size. `end.json` tells a truncated archive from
//! a whole one. Everything here is synchronous and reads and writes streams.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::io::{self, BufRead, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The archive format this version writes and the newest it reads.
pub const FORMAT: u32 = 1;
/// What `manifest.json` says the archive is.
pub const KIND: &str = "rcompose-volume-backup";
/// Files whose checksums are written together.
const CHUNK: usize = 1000;

/// How the tar is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    Zstd,
    Gzip,
    None,
}

/// One volume in the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeEntry {
    /// The key in the compose file (`data`), or the real name of a volume the file does not
    /// declare.
    pub key: String,
    /// The engine's name (`myapp_data`).
    pub name: String,
    pub driver: String,
    #[serde(default)]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Bytes, when known before the copy (-1: unknown; `end.json` has the bytes copied).
    pub size: i64,
    #[serde(default)]
    pub external: bool,
    /// The image the backup container was created from.
    #[serde(default)]
    pub image: String,
    /// The services that mount it.
    #[serde(default)]
    pub services: Vec<String>,
    /// An anonymous volume (`backup --anonymous`): where it is mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<AnonymousMount>,
}

/// Where an anonymous volume is mounted: restore finds it again there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonymousMount {
    pub service: String,
    /// The container's number.
    pub number: u64,
    /// The mount's path in the container.
    pub target: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub kind: String,
    pub format: u32,
    pub project: String,
    /// RFC 3339.
    pub created: String,
    pub rcompose_version: String,
    pub engine_version: String,
    /// Taken with the services running (`--no-stop`): crash-consistent only.
    pub live: bool,
    pub volumes: Vec<VolumeEntry>,
}

/// What one volume's files amounted to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub entries: u64,
    pub files: u64,
    pub bytes: u64,
}

/// `end.json`: each volume's counts, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    pub volumes: BTreeMap<String, Counts>,
}

fn bad(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// A `sha256sum` line: names with a newline or backslash are escaped, as `sha256sum` does.
fn sum_line(hash: &str, path: &[u8]) -> Vec<u8> {
    let escape = path.iter().any(|b| *b == b'\n' || *b == b'\\');
    let mut line = Vec::with_capacity(path.len() + 70);
    if escape {
        line.push(b'\\');
    }
    line.extend_from_slice(hash.as_bytes());
    line.extend_from_slice(b"  ");
    for b in path {
        match b {
            b'\n' if escape => line.extend_from_slice(b"\\n"),
            b'\\' if escape => line.extend_from_slice(b"\\\\"),
            b => line.push(*b),
        }
    }
    line.push(b'\n');
    line
}

/// The (hash, path) of each line of a checksum entry.
fn parse_sums(text: &[u8]) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let (escaped, line) = match line.strip_prefix(b"\\") {
            Some(l) => (true, l),
            None => (false, line),
        };
        if line.len() < 66 || &line[64..66] != b"  " {
            return Err(bad("a checksum line is malformed"));
        }
        let hash = String::from_utf8_lossy(&line[..64]).into_owned();
        let mut path = Vec::new();
        let mut raw = line[66..].iter();
        while let Some(b) = raw.next() {
            match (escaped, b) {
                (true, b'\\') => match raw.next() {
                    Some(b'n') => path.push(b'\n'),
                    Some(b) => path.push(*b),
                    None => return Err(bad("a checksum line is malformed")),
                },
                (_, b) => path.push(*b),
            }
        }
        out.push((hash, path));
    }
    Ok(out)
}

/// Reads through, hashing what passes.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Files whose checksums may be pending before the copy waits for them.
const HASHED_AHEAD: usize = 256;
/// The bytes of a file sent to the hashing thread at once.
const HASH_CHUNK: usize = 128 * 1024;

/// A thread that hashes files while the copy goes on: chunks in, one digest per file out, in
/// the order the files were sent. Memory stays bounded by the channel.
struct Offload {
    chunks: Option<std::sync::mpsc::SyncSender<Option<Vec<u8>>>>,
    digests: std::sync::mpsc::Receiver<String>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Offload {
    fn start() -> io::Result<Self> {
        let (chunks, rx) = std::sync::mpsc::sync_channel::<Option<Vec<u8>>>(32);
        let (tx, digests) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("rcompose-sha256".into())
            .spawn(move || {
                let mut hash = Sha256::new();
                for chunk in rx {
                    match chunk {
                        Some(c) => hash.update(&c),
                        None => {
                            let done = std::mem::replace(&mut hash, Sha256::new());
                            if tx.send(hex::encode(done.finalize())).is_err() {
                                return;
                            }
                        }
                    }
                }
            })?;
        Ok(Offload {
            chunks: Some(chunks),
            digests,
            thread: Some(thread),
        })
    }

    /// A reader of one file that passes what it reads on to the thread.
    fn file<R: Read>(&self, inner: R) -> Sending<'_, R> {
        Sending {
            inner,
            pending: Vec::with_capacity(HASH_CHUNK),
            to: self,
        }
    }

    fn send(&self, chunk: Option<Vec<u8>>) -> io::Result<()> {
        self.chunks
            .as_ref()
            .and_then(|c| c.send(chunk).ok())
            .ok_or_else(|| io::Error::other("the hashing thread stopped"))
    }

    /// Writes the checksum lines of the `waiting` files (in the order they were sent).
    fn sums<W: Write>(
        &self,
        waiting: &mut Vec<Vec<u8>>,
        sums: &mut Sums,
        tar: &mut tar::Builder<W>,
    ) -> io::Result<()> {
        for path in waiting.drain(..) {
            let digest = self
                .digests
                .recv()
                .map_err(|_| io::Error::other("the hashing thread stopped"))?;
            sums.add(tar, &digest, &path)?;
        }
        Ok(())
    }

    fn stop(&mut self) {
        self.chunks = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Offload {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads one file through, passing what it reads to an [`Offload`].
struct Sending<'o, R> {
    inner: R,
    pending: Vec<u8>,
    to: &'o Offload,
}

impl<R: Read> Read for Sending<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending.extend_from_slice(&buf[..n]);
        if self.pending.len() >= HASH_CHUNK {
            let full = std::mem::replace(&mut self.pending, Vec::with_capacity(HASH_CHUNK));
            self.to.send(Some(full))?;
        }
        Ok(n)
    }
}

impl<R> Sending<'_, R> {
    /// The file is read: its digest comes next.
    fn end(mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.to.send(Some(std::mem::take(&mut self.pending)))?;
        }
        self.to.send(None)
    }
}

fn is_file(kind: tar::EntryType) -> bool {
    matches!(kind, tar::EntryType::Regular | tar::EntryType::Continuous)
}

/// The PAX records to carry over (those the builder does not write itself).
fn pax_records<R: Read>(entry: &mut tar::Entry<'_, R>) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    if let Some(exts) = entry.pax_extensions()? {
        for ext in exts {
            let ext = ext?;
            let key = ext.key().map_err(|_| bad("a PAX record is not UTF-8"))?;
            if !matches!(key, "path" | "linkpath" | "size") {
                out.push((key.to_string(), ext.value_bytes().to_vec()));
            }
        }
    }
    Ok(out)
}

/// A path of the engine's archive (`./a/b`, `./`) relative to the volume (`a/b`, ``).
fn relative(raw: &[u8]) -> &[u8] {
    let mut p = raw;
    while let Some(rest) = p.strip_prefix(b"./") {
        p = rest;
    }
    if p == b"." {
        return b"";
    }
    p.strip_prefix(b"/").unwrap_or(p)
}

fn join(prefix: &str, rel: &[u8]) -> Vec<u8> {
    let mut v = prefix.as_bytes().to_vec();
    v.extend_from_slice(rel);
    v
}

fn os(bytes: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(bytes))
}

/// Writes an archive.
pub struct Writer<W: Write> {
    tar: tar::Builder<Box<dyn Write + Send>>,
    end: End,
    _out: std::marker::PhantomData<W>,
}

/// Finishes a compressor when the tar is done.
enum Compressor<W: Write> {
    Zstd(zstd::stream::write::Encoder<'static, W>),
    Gzip(flate2::write::GzEncoder<W>),
    None(W),
}

impl<W: Write> Write for Compressor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Compressor::Zstd(e) => e.write(buf),
            Compressor::Gzip(e) => e.write(buf),
            Compressor::None(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Compressor::Zstd(e) => e.flush(),
            Compressor::Gzip(e) => e.flush(),
            Compressor::None(w) => w.flush(),
        }
    }
}

/// Ends the compressed stream on drop of the tar builder's writer (`Builder::into_inner`).
struct Finishing<W: Write>(Option<Compressor<W>>);

impl<W: Write> Finishing<W> {
    fn finish(&mut self) -> io::Result<()> {
        match self.0.take() {
            Some(Compressor::Zstd(e)) => e.finish()?.flush(),
            Some(Compressor::Gzip(e)) => e.finish()?.flush(),
            Some(Compressor::None(mut w)) => w.flush(),
            None => Ok(()),
        }
    }
}

impl<W: Write> Write for Finishing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Some(c) => c.write(buf),
            None => Err(io::Error::other("the archive is already finished")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Some(c) => c.flush(),
            None => Ok(()),
        }
    }
}

/// The archive's last step: the tar's end, then the compressor's.
struct Closer<W: Write + Send + 'static>(std::sync::Arc<std::sync::Mutex<Finishing<W>>>);

impl<W: Write + Send + 'static> Write for Closer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .flush()
    }
}

impl<W: Write + Send + 'static> Writer<W> {
    /// Starts an archive on `out` with its manifest.
    pub fn new(
        out: W,
        compression: Compression,
        manifest: &Manifest,
    ) -> io::Result<(Self, WriterHandle<W>)> {
        let compressor = match compression {
            Compression::Zstd => {
                let mut e = zstd::stream::write::Encoder::new(out, 3)?;
                let threads = std::thread::available_parallelism()
                    .map(|n| n.get() as u32)
                    .unwrap_or(1);
                if threads > 1 {
                    e.multithread(threads)?;
                }
                Compressor::Zstd(e)
            }
            Compression::Gzip => Compressor::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::fast(),
            )),
            Compression::None => Compressor::None(out),
        };
        let shared = std::sync::Arc::new(std::sync::Mutex::new(Finishing(Some(compressor))));
        // Entries are written in small pieces (8 KiB copies): gathered before the compressor.
        let closer: Box<dyn Write + Send> = Box::new(io::BufWriter::with_capacity(
            1 << 20,
            Closer(shared.clone()),
        ));
        let mut tar = tar::Builder::new(closer);
        tar.mode(tar::HeaderMode::Complete);
        let json = serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?;
        append_file(&mut tar, "manifest.json", &json)?;
        Ok((
            Writer {
                tar,
                end: End::default(),
                _out: std::marker::PhantomData,
            },
            WriterHandle(shared),
        ))
    }

    /// Copies one volume from the engine's tar of its folder (`./...` entries).
    pub fn volume(&mut self, key: &str, source: impl Read) -> io::Result<Counts> {
        let prefix = format!("volumes/{key}/");
        let mut counts = Counts::default();
        let mut sums = Sums::new(key);
        let mut archive = tar::Archive::new(source);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let rel = relative(&entry.path_bytes()).to_vec();
            let path = join(&prefix, &rel);
            let mut header = entry.header().clone();
            let kind = header.entry_type();
            let pax = pax_records(&mut entry)?;
            if !pax.is_empty() {
                self.tar
                    .append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
            }
            counts.entries += 1;
            if kind.is_hard_link() || kind.is_symlink() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                let target = if kind.is_hard_link() {
                    join(&prefix, relative(&target))
                } else {
                    target
                };
                header.set_size(0);
                self.tar.append_link(&mut header, os(&path), os(&target))?;
            } else if is_file(kind) {
                let mut hashing = Hashing {
                    inner: &mut entry,
                    hash: Sha256::new(),
                    bytes: 0,
                };
                self.tar.append_data(&mut header, os(&path), &mut hashing)?;
                let hash = hex::encode(hashing.hash.finalize());
                counts.files += 1;
                counts.bytes += hashing.bytes;
                sums.add(&mut self.tar, &hash, &path)?;
            } else {
                self.tar.append_data(&mut header, os(&path), &mut entry)?;
            }
        }
        sums.finish(&mut self.tar)?;
        self.end.volumes.insert(key.to_string(), counts);
        Ok(counts)
    }

    /// Copies one volume straight from its folder on this machine, giving the entries the
    /// engine's archive endpoint would (the folder first, then each entry depth first in name
    /// order; hard links by inode; `security.capability` as a PAX record; sockets skipped).
    /// `progress` counts the file bytes read and says when to stop.
    pub fn volume_dir(
        &mut self,
        key: &str,
        root: &Path,
        progress: &DirProgress,
    ) -> io::Result<Counts> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let prefix = format!("volumes/{key}/");
        let mut counts = Counts::default();
        let mut sums = Sums::new(key);
        let mut links: HashMap<(u64, u64), Vec<u8>> = HashMap::new();
        // Files are hashed on a second thread; their checksum lines follow a little behind.
        let mut hasher = Offload::start()?;
        let mut waiting: Vec<Vec<u8>> = Vec::new();
        // Relative paths still to visit, the next one last.
        let mut pending: Vec<Vec<u8>> = vec![Vec::new()];
        let at = |rel: &[u8]| {
            if rel.is_empty() {
                root.to_path_buf()
            } else {
                root.join(os(rel))
            }
        };
        let context = |rel: &[u8], e: io::Error| {
            io::Error::new(e.kind(), format!("{}: {e}", at(rel).display()))
        };
        while let Some(rel) = pending.pop() {
            progress.check()?;
            let full = at(&rel);
            let meta = match std::fs::symlink_metadata(&full) {
                Ok(m) => m,
                // Removed since its folder was read (a live copy): skipped, as tar does.
                Err(e) if e.kind() == io::ErrorKind::NotFound && !rel.is_empty() => continue,
                Err(e) => return Err(context(&rel, e)),
            };
            let ft = meta.file_type();
            let mut header = tar::Header::new_gnu();
            header.set_mode(meta.mode() & 0o7777);
            header.set_uid(u64::from(meta.uid()));
            header.set_gid(u64::from(meta.gid()));
            header.set_mtime(meta.mtime().max(0) as u64);
            header.set_size(0);
            let path = join(&prefix, &rel);
            if ft.is_dir() {
                header.set_entry_type(tar::EntryType::Directory);
                let mut dir_path = path.clone();
                if !rel.is_empty() {
                    dir_path.push(b'/');
                }
                self.tar
                    .append_data(&mut header, os(&dir_path), io::empty())?;
                let mut names = Vec::new();
                for e in std::fs::read_dir(&full).map_err(|e| context(&rel, e))? {
                    names.push(e.map_err(|e| context(&rel, e))?.file_name());
                }
                names.sort();
                for n in names.into_iter().rev() {
                    let mut child = rel.clone();
                    if !child.is_empty() {
                        child.push(b'/');
                    }
                    child.extend_from_slice(n.as_bytes());
                    pending.push(child);
                }
            } else if ft.is_symlink() {
                let target = std::fs::read_link(&full).map_err(|e| context(&rel, e))?;
                header.set_entry_type(tar::EntryType::Symlink);
                self.tar.append_link(&mut header, os(&path), &target)?;
            } else if ft.is_file() {
                if meta.nlink() > 1 {
                    let inode = (meta.dev(), meta.ino());
                    if let Some(first) = links.get(&inode) {
                        header.set_entry_type(tar::EntryType::Link);
                        self.tar.append_link(&mut header, os(&path), os(first))?;
                        counts.entries += 1;
                        continue;
                    }
                    links.insert(inode, path.clone());
                }
                if let Some(cap) = capability(&full) {
                    self.tar
                        .append_pax_extensions([("SCHILY.xattr.security.capability", &cap[..])])?;
                }
                let file = std::fs::File::open(&full).map_err(|e| context(&rel, e))?;
                let size = meta.len();
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(size);
                let mut source = hasher.file(Exactly {
                    inner: file,
                    left: size,
                    progress,
                });
                self.tar.append_data(&mut header, os(&path), &mut source)?;
                source.end()?;
                counts.files += 1;
                counts.bytes += size;
                waiting.push(path);
                if waiting.len() >= HASHED_AHEAD {
                    hasher.sums(&mut waiting, &mut sums, &mut self.tar)?;
                }
            } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() {
                let kind = if ft.is_char_device() {
                    tar::EntryType::Char
                } else if ft.is_block_device() {
                    tar::EntryType::Block
                } else {
                    tar::EntryType::Fifo
                };
                header.set_entry_type(kind);
                if !ft.is_fifo() {
                    let dev = meta.rdev();
                    header.set_device_major(libc::major(dev))?;
                    header.set_device_minor(libc::minor(dev))?;
                }
                self.tar.append_data(&mut header, os(&path), io::empty())?;
            } else {
                // A socket: the engine's archive leaves it out too.
                continue;
            }
            counts.entries += 1;
        }
        hasher.sums(&mut waiting, &mut sums, &mut self.tar)?;
        hasher.stop();
        sums.finish(&mut self.tar)?;
        self.end.volumes.insert(key.to_string(), counts);
        Ok(counts)
    }

    /// Writes `end.json` and the ends of the tar and of the compressed stream.
    pub fn finish(mut self, handle: WriterHandle<W>) -> io::Result<End> {
        let json = serde_json::to_vec_pretty(&self.end).map_err(io::Error::other)?;
        append_file(&mut self.tar, "end.json", &json)?;
        self.tar.finish()?;
        let mut rest = self.tar.into_inner()?;
        rest.flush()?;
        drop(rest);
        handle
            .0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .finish()?;
        Ok(self.end)
    }
}

/// The `sha256sum` lines of one volume, written every [`CHUNK`] files.
struct Sums {
    key: String,
    lines: Vec<u8>,
    in_chunk: usize,
    chunk: usize,
}

impl Sums {
    fn new(key: &str) -> Self {
        Sums {
            key: key.to_string(),
            lines: Vec::new(),
            in_chunk: 0,
            chunk: 0,
        }
    }

    fn add<W: Write>(
        &mut self,
        tar: &mut tar::Builder<W>,
        hash: &str,
        path: &[u8],
    ) -> io::Result<()> {
        self.lines.extend(sum_line(hash, path));
        self.in_chunk += 1;
        if self.in_chunk == CHUNK {
            self.write(tar)?;
        }
        Ok(())
    }

    fn write<W: Write>(&mut self, tar: &mut tar::Builder<W>) -> io::Result<()> {
        self.chunk += 1;
        let name = format!("checksums/{}/{:06}.sha256", self.key, self.chunk);
        append_file(tar, &name, &self.lines)?;
        self.lines.clear();
        self.in_chunk = 0;
        Ok(())
    }

    /// The last chunk (an empty one when the volume has no file).
    fn finish<W: Write>(mut self, tar: &mut tar::Builder<W>) -> io::Result<()> {
        if self.in_chunk > 0 || self.chunk == 0 {
            self.write(tar)?;
        }
        Ok(())
    }
}

/// Gives exactly `left` bytes: a file that shrank since its size was read is padded with
/// zeros, one that grew is cut (a live copy), so the tar stays whole.
struct Exactly<'c, R> {
    inner: R,
    left: u64,
    progress: &'c DirProgress,
}

/// The bytes a copy from a folder has read, and a flag to stop it (Ctrl-C).
#[derive(Debug, Default)]
pub struct DirProgress {
    pub copied: std::sync::atomic::AtomicU64,
    pub stop: std::sync::atomic::AtomicBool,
}

impl DirProgress {
    fn check(&self) -> io::Result<()> {
        if self.stop.load(std::sync::atomic::Ordering::Relaxed) {
            // Not `ErrorKind::Interrupted`: `io::copy` would retry it.
            return Err(io::Error::other("the backup was interrupted"));
        }
        Ok(())
    }
}

impl<R: Read> Read for Exactly<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        self.progress.check()?;
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = match self.inner.read(&mut buf[..want])? {
            0 => {
                buf[..want].fill(0);
                want
            }
            n => n,
        };
        self.left -= n as u64;
        self.progress
            .copied
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// A file's `security.capability` attribute, which the engine's archive carries.
fn capability(path: &Path) -> Option<Vec<u8>> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut buf = [0u8; 256];
    // SAFETY: both strings are NUL-terminated and `buf` is writable for its length.
    let n = unsafe {
        libc::lgetxattr(
            c.as_ptr(),
            c"security.capability".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n > 0).then(|| buf[..n as usize].to_vec())
}

/// Keeps hold of the compressor to end it after the tar.
pub struct WriterHandle<W: Write>(std::sync::Arc<std::sync::Mutex<Finishing<W>>>);

fn append_file<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, name, data)
}

/// The decompressed stream of an archive, by its first bytes (zstd, gzip, or a plain tar).
pub fn decompress<'a>(input: impl Read + Send + 'a) -> io::Result<Box<dyn Read + Send + 'a>> {
    let mut buffered = io::BufReader::with_capacity(256 * 1024, input);
    let head = buffered.fill_buf()?.to_vec();
    if head.is_empty() {
        return Err(bad("the archive is empty"));
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Ok(Box::new(zstd::stream::read::Decoder::with_buffer(
            buffered,
        )?));
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)));
    }
    Ok(Box::new(buffered))
}

/// What reading an archive tells its caller.
pub enum Event<'a> {
    /// The first entry: which volumes to restore (by key); `Err` to stop before anything else.
    Manifest(&'a Manifest),
    /// A chunk of a tar of volume `key`'s files (`./...` entries), for the engine to unpack.
    Data(&'a str, &'a [u8]),
    /// Volume `key`'s tar is complete.
    End(&'a str, Counts),
}

/// Sends the tar a builder writes to the caller, in chunks.
struct ChunkSink<'s> {
    key: String,
    buf: Vec<u8>,
    sink: &'s mut dyn FnMut(Event<'_>) -> io::Result<()>,
}

const SEND_AT: usize = 256 * 1024;

impl Write for ChunkSink<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= SEND_AT {
            (self.sink)(Event::Data(&self.key, &self.buf))?;
            self.buf.clear();
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            (self.sink)(Event::Data(&self.key, &self.buf))?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// A volume being read: its tar for the engine and the checksums still to check.
struct Current<'s> {
    key: String,
    tar: tar::Builder<ChunkSink<'s>>,
    /// path in the archive -> its hash, until its checksum line is read.
    pending: HashMap<Vec<u8>, String>,
    counts: Counts,
}

/// Bytes read past the tar's end, at most, so that the writer can finish.
const TRAILER_MAX: u64 = 1 << 20;

/// Reads an archive (decompressed), verifying every file's checksum and the counts of
/// `end.json`. `wanted` says, from the manifest, which volume keys to pass on as tars.
pub fn read(
    input: impl Read,
    wanted: &mut dyn FnMut(&Manifest) -> io::Result<Vec<String>>,
    sink: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
) -> io::Result<End> {
    let mut archive = tar::Archive::new(input);
    let mut entries = archive.entries()?;
    let first = entries
        .next()
        .ok_or_else(|| bad("the archive is empty"))??;
    let mut first = first;
    if first.path_bytes().as_ref() != b"manifest.json" {
        return Err(bad(
            "this is not an rcompose volume backup: its first entry is not manifest.json",
        ));
    }
    let mut text = Vec::new();
    first.read_to_end(&mut text)?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| bad(format!("the archive's manifest.json cannot be read: {e}")))?;
    if manifest.kind != KIND {
        return Err(bad(format!(
            "this is not an rcompose volume backup: its manifest is of kind `{}`",
            manifest.kind
        )));
    }
    if manifest.format > FORMAT {
        return Err(bad(format!(
            "this archive is of format {} (written by rcompose {}); this rcompose reads formats up to {FORMAT}: upgrade rcompose",
            manifest.format, manifest.rcompose_version
        )));
    }
    let keys = wanted(&manifest)?;
    // The sink is lent to one volume's tar at a time.
    let sink_ptr: &mut dyn FnMut(Event<'_>) -> io::Result<()> = sink;
    let mut done: BTreeMap<String, Counts> = BTreeMap::new();
    let mut end: Option<End> = None;
    let mut current: Option<Current<'_>> = None;
    let mut seen_keys: Vec<String> = Vec::new();
    let mut sink_slot = Some(sink_ptr);
    for entry in entries {
        let mut entry = entry?;
        let path = entry.path_bytes().into_owned();
        if end.is_some() {
            return Err(bad("the archive goes on after end.json"));
        }
        if path == b"end.json" {
            let mut text = Vec::new();
            entry.read_to_end(&mut text)?;
            end = Some(
                serde_json::from_slice(&text)
                    .map_err(|e| bad(format!("the archive's end.json cannot be read: {e}")))?,
            );
            continue;
        }
        let (section, rest) = match path.iter().position(|b| *b == b'/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => return Err(bad("the archive has an entry rcompose did not write")),
        };
        let key_end = rest.iter().position(|b| *b == b'/').unwrap_or(rest.len());
        let key = String::from_utf8_lossy(&rest[..key_end]).into_owned();
        let inner = rest.get(key_end + 1..).unwrap_or_default().to_vec();
        // A new volume: the previous one's tar is complete.
        if section == b"volumes" && current.as_ref().is_some_and(|c| c.key != key) {
            let c = current.take().ok_or_else(|| bad("internal"))?;
            let (k, counts, s) = close(c)?;
            done.insert(k, counts);
            sink_slot = Some(s);
        }
        match section {
            b"volumes" => {
                if !seen_keys.contains(&key) {
                    if done.contains_key(&key) {
                        return Err(bad(format!("volume `{key}` is split in the archive")));
                    }
                    seen_keys.push(key.clone());
                }
                if current.is_none() {
                    if !keys.contains(&key) {
                        // A volume not asked for: checked for form only.
                        io::copy(&mut entry, &mut io::sink())?;
                        continue;
                    }
                    let sink = sink_slot.take().ok_or_else(|| bad("internal"))?;
                    let mut tar = tar::Builder::new(ChunkSink {
                        key: key.clone(),
                        buf: Vec::with_capacity(SEND_AT + 64 * 1024),
                        sink,
                    });
                    tar.mode(tar::HeaderMode::Complete);
                    current = Some(Current {
                        key: key.clone(),
                        tar,
                        pending: HashMap::new(),
                        counts: Counts::default(),
                    });
                }
                let Some(c) = current.as_mut() else {
                    continue;
                };
                copy_entry(c, &mut entry, &path, &inner, &key)?;
            }
            b"checksums" => {
                let mut text = Vec::new();
                entry.read_to_end(&mut text)?;
                let Some(c) = current.as_mut().filter(|c| c.key == key) else {
                    continue;
                };
                for (hash, file) in parse_sums(&text)? {
                    match c.pending.remove(&file) {
                        Some(h) if h == hash => {}
                        Some(_) => {
                            return Err(bad(format!(
                                "checksum mismatch: {} differs from what was backed up",
                                String::from_utf8_lossy(&file)
                            )))
                        }
                        None => {
                            return Err(bad(format!(
                                "{} is missing from the archive",
                                String::from_utf8_lossy(&file)
                            )))
                        }
                    }
                }
            }
            _ => return Err(bad("the archive has an entry rcompose did not write")),
        }
    }
    if let Some(c) = current.take() {
        let (k, counts, _) = close(c)?;
        done.insert(k, counts);
    }
    let end = end.ok_or_else(|| bad("the archive is truncated: it has no end.json"))?;
    for key in &keys {
        let want = end.volumes.get(key).copied().unwrap_or_default();
        let got = done.get(key).copied().unwrap_or_default();
        if want != got {
            return Err(bad(format!(
                "volume `{key}` is incomplete in the archive: {} of {} entries, {} of {} bytes",
                got.entries, want.entries, got.bytes, want.bytes
            )));
        }
    }
    // The tar ends at its first zero block; the writer still sends the second one and the end
    // of the compressed frame. Reading them lets a backup piped into this restore end well
    // (closing early would break its pipe); bounded, and what is there does not matter.
    let _ = io::copy(&mut archive.into_inner().take(TRAILER_MAX), &mut io::sink());
    Ok(end)
}

fn copy_entry<R: Read>(
    c: &mut Current<'_>,
    entry: &mut tar::Entry<'_, R>,
    path: &[u8],
    inner: &[u8],
    key: &str,
) -> io::Result<()> {
    let mut header = entry.header().clone();
    let kind = header.entry_type();
    let pax = pax_records(entry)?;
    if !pax.is_empty() {
        c.tar
            .append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
    }
    let name = if inner.is_empty() {
        b"./".to_vec()
    } else {
        join("./", inner)
    };
    c.counts.entries += 1;
    if kind.is_hard_link() || kind.is_symlink() {
        let target = entry
            .link_name_bytes()
            .map(|t| t.into_owned())
            .unwrap_or_default();
        let target = if kind.is_hard_link() {
            let prefix = format!("volumes/{key}/");
            let rel = target
                .strip_prefix(prefix.as_bytes())
                .ok_or_else(|| bad("a hard link points outside its volume"))?;
            join("./", rel)
        } else {
            target
        };
        c.tar.append_link(&mut header, os(&name), os(&target))?;
    } else if is_file(kind) {
        let mut hashing = Hashing {
            inner: entry,
            hash: Sha256::new(),
            bytes: 0,
        };
        c.tar.append_data(&mut header, os(&name), &mut hashing)?;
        c.counts.files += 1;
        c.counts.bytes += hashing.bytes;
        c.pending
            .insert(path.to_vec(), hex::encode(hashing.hash.finalize()));
        if c.pending.len() > 4 * CHUNK {
            return Err(bad(format!(
                "volume `{key}`: files without checksums in the archive"
            )));
        }
    } else {
        c.tar.append_data(&mut header, os(&name), entry)?;
    }
    Ok(())
}

type Closed<'s> = (
    String,
    Counts,
    &'s mut dyn FnMut(Event<'_>) -> io::Result<()>,
);

/// Ends a volume's tar: every file's checksum was read.
fn close<'s>(c: Current<'s>) -> io::Result<Closed<'s>> {
    if let Some(path) = c.pending.keys().next() {
        return Err(bad(format!(
            "no checksum for {} in the archive",
            String::from_utf8_lossy(path)
        )));
    }
    let mut sink = c.tar.into_inner()?;
    sink.flush()?;
    let ChunkSink { sink, .. } = sink;
    (sink)(Event::End(&c.key, c.counts))?;
    Ok((c.key, c.counts, sink))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar as the engine's archive endpoint writes a volume's folder.
    fn engine_tar() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let new = || {
            let mut h = tar::Header::new_ustar();
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(1_700_000_000);
            h.set_mode(0o777);
            h
        };
        let mut dir = new();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        b.append_data(&mut dir.clone(), "./", io::empty()).unwrap();
        b.append_data(&mut dir.clone(), "./sub/", io::empty())
            .unwrap();
        let mut f = new();
        f.set_entry_type(tar::EntryType::Regular);
        f.set_mode(0o640);
        f.set_uid(123);
        f.set_gid(456);
        f.set_mtime(981_173_106);
        f.set_size(3);
        b.append_data(&mut f, "./a", &b"hi\n"[..]).unwrap();
        let mut l = new();
        l.set_entry_type(tar::EntryType::Link);
        l.set_size(0);
        b.append_link(&mut l, "./sub/hard", "./a").unwrap();
        let mut s = new();
        s.set_entry_type(tar::EntryType::Symlink);
        s.set_size(0);
        b.append_link(&mut s, "./sub/sym", "../a").unwrap();
        let long = format!("./{}", "x".repeat(150));
        let mut f2 = new();
        f2.set_entry_type(tar::EntryType::Regular);
        f2.set_size(5);
        f2.set_mode(0o600);
        b.append_data(&mut f2, &long, &b"12345"[..]).unwrap();
        b.into_inner().unwrap()
    }

    fn manifest() -> Manifest {
        Manifest {
            kind: KIND.into(),
            format: FORMAT,
            project: "p".into(),
            volumes: vec![VolumeEntry {
                key: "data".into(),
                name: "p_data".into(),
                driver: "local".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// A writer that keeps what it was given.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn archive(compression: Compression) -> Vec<u8> {
        let out = Shared::default();
        let (mut w, h) = Writer::new(out.clone(), compression, &manifest()).unwrap();
        w.volume("data", engine_tar().as_slice()).unwrap();
        w.finish(h).unwrap();
        out.0.lock().map(|g| g.clone()).unwrap()
    }

    fn restore(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut ended = false;
        read(
            decompress(bytes)?,
            &mut |m| Ok(m.volumes.iter().map(|v| v.key.clone()).collect()),
            &mut |e| {
                match e {
                    Event::Data(k, d) => {
                        assert_eq!(k, "data");
                        out.extend_from_slice(d)
                    }
                    Event::End(k, c) => {
                        assert_eq!(k, "data");
                        assert_eq!(c.files, 2);
                        ended = true;
                    }
                    Event::Manifest(_) => {}
                }
                Ok(())
            },
        )?;
        assert!(ended);
        Ok(out)
    }

    fn listing(tar_bytes: &[u8]) -> Vec<String> {
        let mut a = tar::Archive::new(tar_bytes);
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                format!(
                    "{} {:?} {:o} {}:{} {} {}",
                    String::from_utf8_lossy(&e.path_bytes()),
                    h.entry_type(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.gid().unwrap(),
                    h.mtime().unwrap(),
                    e.link_name()
                        .unwrap()
                        .map(|l| l.display().to_string())
                        .unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn a_round_trip_gives_back_the_engine_tar_in_every_compression() {
        for c in [Compression::Zstd, Compression::Gzip, Compression::None] {
            let bytes = archive(c);
            let back = restore(&bytes).unwrap();
            assert_eq!(listing(&back), listing(&engine_tar()), "{c:?}");
        }
    }

    /// A reader that counts what was taken from it.
    struct Counted<'a>(&'a [u8], std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl Read for Counted<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            // A little at a time, as from a pipe: no buffer takes the end along by chance.
            let most = buf.len().min(64);
            let n = self.0.read(&mut buf[..most])?;
            self.1.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
            Ok(n)
        }
    }

    #[test]
    fn a_whole_archive_is_read_to_its_last_byte() {
        // A backup piped into a restore must not find its pipe closed before its last write.
        for c in [Compression::Zstd, Compression::Gzip, Compression::None] {
            let bytes = archive(c);
            let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            read(
                decompress(Counted(&bytes, taken.clone())).unwrap(),
                &mut |m| Ok(m.volumes.iter().map(|v| v.key.clone()).collect()),
                &mut |_| Ok(()),
            )
            .unwrap();
            let taken = taken.load(std::sync::atomic::Ordering::SeqCst);
            assert_eq!(taken, bytes.len(), "{c:?}");
        }
    }

    #[test]
    fn plain_tar_reads_the_layout() {
        let bytes = archive(Compression::None);
        let names: Vec<String> = listing(&bytes)
            .into_iter()
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect();
        assert_eq!(names[0], "manifest.json");
        assert_eq!(names[1], "volumes/data/");
        assert!(names.contains(&"volumes/data/sub/hard".to_string()));
        assert_eq!(names[names.len() - 2], "checksums/data/000001.sha256");
        assert_eq!(names[names.len() - 1], "end.json");
        let hard = listing(&bytes)
            .into_iter()
            .find(|l| l.starts_with("volumes/data/sub/hard"))
            .unwrap();
        assert!(hard.ends_with("volumes/data/a"), "{hard}");
    }

    #[test]
    fn a_changed_byte_fails_the_checksum() {
        let mut bytes = archive(Compression::None);
        let at = bytes
            .windows(3)
            .position(|w| w == b"hi\n")
            .expect("the file's data");
        bytes[at] = b'H';
        let err = restore(&bytes).unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
    }

    #[test]
    fn a_truncated_archive_is_refused() {
        let bytes = archive(Compression::None);
        // Cut at an entry boundary, before end.json.
        let mut a = tar::Archive::new(bytes.as_slice());
        let mut cut = 0;
        for e in a.entries().unwrap() {
            let e = e.unwrap();
            if e.path_bytes().as_ref() == b"end.json" {
                cut = e.raw_header_position() as usize;
            }
        }
        let err = restore(&bytes[..cut]).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let zst = archive(Compression::Zstd);
        assert!(restore(&zst[..zst.len() / 2]).is_err());
    }

    #[test]
    fn a_newer_format_is_refused_before_anything() {
        let mut m = manifest();
        m.format = FORMAT + 1;
        let out = Shared::default();
        let (w, h) = Writer::new(out.clone(), Compression::None, &m).unwrap();
        w.finish(h).unwrap();
        let bytes = out.0.lock().map(|g| g.clone()).unwrap();
        let err = restore(&bytes).unwrap_err();
        assert!(err.to_string().contains("upgrade rcompose"), "{err}");
    }

    #[test]
    fn sum_lines_escape_like_sha256sum() {
        let h = "a".repeat(64);
        assert_eq!(sum_line(&h, b"x/y"), format!("{h}  x/y\n").into_bytes());
        let odd = sum_line(&h, b"a\nb\\c");
        assert_eq!(odd, format!("\\{h}  a\\nb\\\\c\n").into_bytes());
        assert_eq!(parse_sums(&odd).unwrap(), vec![(h, b"a\nb\\c".to_vec())]);
    }
}
