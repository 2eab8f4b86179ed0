//! Writes a volume's tar (as [`super::archive::read`] passes it on) into the volume's folder on
//! this machine, as the engine's archive endpoint would extract it: owners, modes (set-id bits
//! too), times, symlinks, hard links, extended attributes, device nodes and FIFOs; the folder
//! itself takes the `./` entry's owner, mode and time. No entry may land outside the folder.

use std::ffi::CString;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Unpacks `input` into `dest`, an existing folder.
pub(super) fn unpack(input: impl Read, dest: &Path) -> io::Result<()> {
    let dest = dest.canonicalize()?;
    let mut archive = tar::Archive::new(input);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_preserve_mtime(true);
    archive.set_unpack_xattrs(true);
    archive.set_overwrite(true);
    let mut root: Option<tar::Header> = None;
    // Folders last, deepest first: their times and modes are not disturbed by what goes in.
    let mut folders = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let kind = entry.header().entry_type();
        let rel = inside(&entry.path_bytes())?;
        if rel.as_os_str().is_empty() {
            if kind.is_dir() {
                root = Some(entry.header().clone());
            }
            continue;
        }
        if kind.is_dir() {
            folders.push(entry);
        } else if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
            special(&dest, &rel, entry.header())?;
        } else if !entry.unpack_in(&dest)? {
            return Err(refused(&rel));
        }
    }
    folders.sort_by(|a, b| b.path_bytes().cmp(&a.path_bytes()));
    for mut f in folders {
        let rel = inside(&f.path_bytes())?;
        if !f.unpack_in(&dest)? {
            return Err(refused(&rel));
        }
        // The tar crate leaves a folder's time as its files' writing made it.
        time(&cstring(&dest.join(&rel))?, f.header())?;
    }
    if let Some(h) = root {
        attributes(&dest, &h)?;
    }
    Ok(())
}

fn refused(rel: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: the entry would land outside the volume", rel.display()),
    )
}

/// The entry's path relative to the volume, refusing absolute paths and `..`.
fn inside(raw: &[u8]) -> io::Result<PathBuf> {
    let path = Path::new(std::ffi::OsStr::from_bytes(raw));
    let mut rel = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => rel.push(p),
            Component::CurDir => {}
            _ => return Err(refused(path)),
        }
    }
    Ok(rel)
}

/// A device node or FIFO, which the tar crate would write as a regular file.
fn special(dest: &Path, rel: &Path, h: &tar::Header) -> io::Result<()> {
    let path = dest.join(rel);
    let parent = path.parent().unwrap_or(dest);
    std::fs::create_dir_all(parent)?;
    if !parent.canonicalize()?.starts_with(dest) {
        return Err(refused(rel));
    }
    let kind = h.entry_type();
    let format = if kind.is_fifo() {
        libc::S_IFIFO
    } else if kind.is_character_special() {
        libc::S_IFCHR
    } else {
        libc::S_IFBLK
    };
    // Empty fields (a FIFO's, often) are 0.
    let device = libc::makedev(
        h.device_major().ok().flatten().unwrap_or(0),
        h.device_minor().ok().flatten().unwrap_or(0),
    );
    let c = cstring(&path)?;
    let _ = std::fs::remove_file(&path);
    // SAFETY: `c` is a valid NUL-terminated path; mknod reads it and returns a status.
    if unsafe { libc::mknod(c.as_ptr(), format | (h.mode()? & 0o7777), device) } != 0 {
        return Err(io::Error::last_os_error());
    }
    attributes(&path, h)
}

/// Owner, then mode (so set-id bits stay), then times, from header `h`.
fn attributes(path: &Path, h: &tar::Header) -> io::Result<()> {
    let c = cstring(path)?;
    let uid = libc::uid_t::try_from(h.uid()?).map_err(io::Error::other)?;
    let gid = libc::gid_t::try_from(h.gid()?).map_err(io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated path; lchown and chmod only read it.
    if unsafe { libc::lchown(c.as_ptr(), uid, gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::chmod(c.as_ptr(), h.mode()? & 0o7777) } != 0 {
        return Err(io::Error::last_os_error());
    }
    time(&c, h)
}

/// The access and modification times of `c` (not followed if a symlink), from `h`.
fn time(c: &CString, h: &tar::Header) -> io::Result<()> {
    let t = libc::timespec {
        tv_sec: libc::time_t::try_from(h.mtime()?).map_err(io::Error::other)?,
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: `c` is a valid path and `times` two timespecs, as utimensat expects.
    let nofollow = libc::AT_SYMLINK_NOFOLLOW;
    if unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), nofollow) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn header(kind: tar::EntryType, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_000_000_000);
        h.set_size(0);
        h
    }

    #[test]
    fn writes_files_folders_links_and_the_roots_attributes() {
        let mut b = tar::Builder::new(Vec::new());
        let mut root = header(tar::EntryType::Directory, 0o750);
        b.append_data(&mut root, "./", io::empty()).unwrap();
        let mut dir = header(tar::EntryType::Directory, 0o700);
        dir.set_mtime(1_100_000_000);
        b.append_data(&mut dir, "./d/", io::empty()).unwrap();
        let mut f = header(tar::EntryType::Regular, 0o4755);
        f.set_size(3);
        b.append_data(&mut f, "./d/f", &b"abc"[..]).unwrap();
        let mut hard = header(tar::EntryType::Link, 0o644);
        b.append_link(&mut hard, "./h", "./d/f").unwrap();
        let mut sym = header(tar::EntryType::Symlink, 0o777);
        b.append_link(&mut sym, "./s", "d/f").unwrap();
        let mut fifo = header(tar::EntryType::Fifo, 0o600);
        b.append_data(&mut fifo, "./p", io::empty()).unwrap();
        let data = b.into_inner().unwrap();
        let dest = tempfile::tempdir().unwrap();
        unpack(&data[..], dest.path()).unwrap();
        let at = |p: &str| std::fs::symlink_metadata(dest.path().join(p)).unwrap();
        assert_eq!(at("").mode() & 0o7777, 0o750);
        assert_eq!(at("").mtime(), 1_000_000_000);
        assert_eq!(at("d").mode() & 0o7777, 0o700);
        assert_eq!(at("d").mtime(), 1_100_000_000, "set after its file");
        assert_eq!(at("d/f").mode() & 0o7777, 0o4755);
        assert_eq!(at("d/f").ino(), at("h").ino());
        assert_eq!(
            std::fs::read_link(dest.path().join("s")).unwrap(),
            Path::new("d/f")
        );
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(
            &at("p").file_type()
        ));
    }

    #[test]
    fn refuses_entries_outside_the_folder() {
        for name in ["../x", "/etc/x", "a/../../x"] {
            let mut h = header(tar::EntryType::Regular, 0o644);
            h.set_size(1);
            let mut raw = Vec::new();
            {
                // Written raw: the builder itself refuses such names.
                let mut b = tar::Builder::new(&mut raw);
                h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
                h.set_cksum();
                b.append(&h, &b"x"[..]).unwrap();
                b.finish().unwrap();
            }
            let dest = tempfile::tempdir().unwrap();
            assert!(unpack(&raw[..], dest.path()).is_err(), "{name}");
        }
    }
}
