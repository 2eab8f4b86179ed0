//! Finding the compose files and the project directory.

use std::path::{Path, PathBuf};

use super::error::{LoadError, LoadErrorKind};

/// File names looked for, in order of preference.
pub(super) const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Override files picked up beside a discovered file.
pub(super) const OVERRIDE_FILES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// Where the files come from, before reading them.
#[derive(Debug, Clone)]
pub(super) enum Source {
    Stdin,
    File(PathBuf),
}

#[cfg(test)]
impl Source {
    fn display(&self) -> String {
        match self {
            Source::Stdin => "-".into(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

/// Resolves the files to load: those named (by `-f` or `COMPOSE_FILE`), else the first default
/// file found in `start` or a parent folder, with its override file; and the warnings met.
pub(super) fn files(
    named: &[String],
    cwd: &Path,
    start: &Path,
) -> Result<(Vec<Source>, Vec<String>), LoadError> {
    if !named.is_empty() {
        let sources: Result<Vec<Source>, LoadError> = named
            .iter()
            .map(|f| {
                if f == "-" {
                    return Ok(Source::Stdin);
                }
                let p = absolute(cwd, Path::new(f));
                readable(&p)?;
                Ok(Source::File(p))
            })
            .collect();
        return Ok((sources?, Vec::new()));
    }
    let mut dir = Some(start.to_path_buf());
    while let Some(d) = dir {
        let found: Vec<PathBuf> = DEFAULT_FILES
            .iter()
            .map(|n| d.join(n))
            .filter(|p| p.is_file())
            .collect();
        if let Some(first) = found.first() {
            let mut warnings = Vec::new();
            if found.len() > 1 {
                let names: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
                warnings.push(format!(
                    "Found multiple config files with supported names: {}",
                    names.join(", ")
                ));
                warnings.push(format!("Using {}", first.display()));
            }
            let mut out = vec![Source::File(first.clone())];
            if let Some(o) = OVERRIDE_FILES
                .iter()
                .map(|n| d.join(n))
                .find(|p| p.is_file())
            {
                out.push(Source::File(o));
            }
            return Ok((out, warnings));
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    Err(LoadError::new(format!(
        "no compose file found in {} or any parent folder",
        start.display()
    ))
    .hint("create a compose.yaml, or name a file with -f FILE (or COMPOSE_FILE)")
    .kind(LoadErrorKind::NoComposeFile))
}

/// Checks that a named compose file can be read: a regular file, or a FIFO or `/dev/fd/N` (as
/// with `-f <(cmd)`), read once later. A missing file, a folder or a symbolic link loop are
/// each named as such.
fn readable(p: &Path) -> Result<(), LoadError> {
    let shown = p.display();
    let err = match std::fs::metadata(p) {
        Ok(m) if !m.is_dir() => return Ok(()),
        Ok(_) => LoadError::new(format!("compose file `{shown}` is a directory"))
            .hint("name the compose file inside it, e.g. -f DIR/compose.yaml"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            LoadError::new(format!("compose file `{shown}` not found"))
                .hint("check the path given with -f or COMPOSE_FILE")
        }
        Err(e) => {
            let why = e.to_string();
            // "Too many levels of symbolic links (os error 40)" -> "too many levels of symbolic links"
            let why = why
                .split(" (os error")
                .next()
                .unwrap_or(&why)
                .to_lowercase();
            LoadError::new(format!("cannot open compose file `{shown}`: {why}"))
                .hint("check the path given with -f or COMPOSE_FILE, and its symbolic links and permissions")
        }
    };
    Err(err)
}

/// `p` made absolute against `cwd`, with `.` and `..` removed.
pub(super) fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    PathBuf::from(super::canonical::clean(&joined))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_files_that_are_not_regular_files() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let err = |name: &str| files(&[name.to_string()], d, d).unwrap_err().to_string();
        assert!(err("nope.yaml").contains("nope.yaml` not found"));
        std::fs::create_dir(d.join("sub")).unwrap();
        assert!(err("sub").contains("sub` is a directory"), "{}", err("sub"));
        std::os::unix::fs::symlink(d.join("l2"), d.join("l1")).unwrap();
        std::os::unix::fs::symlink(d.join("l1"), d.join("l2")).unwrap();
        assert!(
            err("l1").contains("l1`: too many levels of symbolic links"),
            "{}",
            err("l1")
        );
        // A FIFO is accepted; it is read once, when the project loads.
        let fifo = d.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let (found, _) = files(&["fifo".to_string()], d, d).unwrap();
        assert!(matches!(&found[..], [Source::File(p)] if *p == fifo));
    }

    #[test]
    fn walks_up_and_takes_override() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("compose.yaml"), "services: {}").unwrap();
        std::fs::write(root.join("compose.override.yaml"), "services: {}").unwrap();
        let sub = root.join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let (found, _) = files(&[], &sub, &sub).unwrap();
        let names: Vec<String> = found.iter().map(Source::display).collect();
        assert_eq!(
            names,
            vec![
                root.join("compose.yaml").display().to_string(),
                root.join("compose.override.yaml").display().to_string()
            ]
        );
    }

    #[test]
    fn missing_named_file_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let err = files(&["nope.yaml".into()], tmp.path(), tmp.path()).unwrap_err();
        assert!(err.message.contains("nope.yaml"));
        assert_eq!(err.kind, LoadErrorKind::Invalid);
    }

    #[test]
    fn no_file_found_is_its_own_kind() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = tmp.path().join("a/b");
        std::fs::create_dir_all(&empty).unwrap();
        // A parent of the temporary folder may hold a compose file: only assert when none does.
        if let Err(err) = files(&[], &empty, &empty) {
            assert_eq!(err.kind, LoadErrorKind::NoComposeFile, "{err}");
        }
    }
}
