//! `rcompose install`: links this binary in as the docker CLI's `compose` plugin
//! (`<docker config>/cli-plugins/docker-compose`) and/or as a standalone `docker-compose`, or
//! removes those links (`--uninstall`). An existing file that is not this rcompose is never
//! replaced without `--force`, and then it is kept beside as `docker-compose.rcompose-backup`,
//! which `--uninstall` puts back.

use clap::Args;
use std::path::{Path, PathBuf};

use super::out::outln;
use super::CliError;

/// The name both shapes answer to.
const LINK: &str = "docker-compose";
const BACKUP_SUFFIX: &str = ".rcompose-backup";

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("shape").required(true).multiple(true))]
pub struct InstallArgs {
    /// As the docker CLI plugin: `docker compose` runs rcompose
    #[arg(long, group = "shape")]
    pub plugin: bool,
    /// As a standalone `docker-compose` (for podman compose, Dev Containers, scripts)
    #[arg(long, group = "shape")]
    pub standalone: bool,
    /// Folder of the plugin link [default: $DOCKER_CONFIG/cli-plugins or ~/.docker/cli-plugins]
    #[arg(long, value_name = "DIR")]
    pub plugin_dir: Option<PathBuf>,
    /// Folder of the standalone link [default: ~/.local/bin]
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// Shell completions for bash, zsh and fish, where each shell looks for a user's
    /// ($XDG_DATA_HOME/bash-completion/completions, $XDG_DATA_HOME/zsh/site-functions,
    /// $XDG_CONFIG_HOME/fish/completions)
    #[arg(long, group = "shape")]
    pub completions: bool,
    /// The man pages, in $XDG_DATA_HOME/man/man1 (`man rcompose` finds them through ~/.local/bin
    /// on the PATH)
    #[arg(long, group = "shape")]
    pub man: bool,
    /// Replace an existing docker-compose that is not this rcompose (it is kept as a backup)
    #[arg(long)]
    pub force: bool,
    /// Remove the links instead (and put back what --force replaced)
    #[arg(long)]
    pub uninstall: bool,
}

/// What one link step did.
#[derive(Debug, PartialEq, Eq)]
enum Done {
    Linked { backup: Option<PathBuf> },
    AlreadyLinked,
    Removed { restored: bool },
    NothingThere,
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
}

fn io(what: String, e: std::io::Error) -> CliError {
    CliError::new(format!("{what}: {e}"))
}

/// Whether `path` is a symbolic link that leads to `target`.
fn links_to(path: &Path, target: &Path) -> bool {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    is_link && std::fs::canonicalize(path).is_ok_and(|p| p == target)
}

fn backup_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(BACKUP_SUFFIX);
    PathBuf::from(name)
}

/// Puts the link `dir/docker-compose` → `target` in place.
fn link(dir: &Path, target: &Path, force: bool) -> Result<Done, CliError> {
    std::fs::create_dir_all(dir).map_err(|e| io(format!("cannot create {}", dir.display()), e))?;
    let path = dir.join(LINK);
    let mut backup = None;
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(format!("cannot look at {}", path.display()), e)),
        Ok(_) if links_to(&path, target) => return Ok(Done::AlreadyLinked),
        Ok(meta) => {
            let what = if meta.file_type().is_symlink() {
                match std::fs::read_link(&path) {
                    Ok(to) => format!("a link to {}", to.display()),
                    Err(_) => "a link".to_string(),
                }
            } else {
                "a file".to_string()
            };
            let keep = backup_of(&path);
            if !force {
                return Err(CliError::new(format!(
                    "{} exists and is {what}, not this rcompose: left as it is; move it away, or \
                     run again with --force to replace it (it is then kept as {})",
                    path.display(),
                    keep.display()
                )));
            }
            if std::fs::symlink_metadata(&keep).is_ok() {
                return Err(CliError::new(format!(
                    "{} exists and {} too: move one of them away first",
                    path.display(),
                    keep.display()
                )));
            }
            std::fs::rename(&path, &keep)
                .map_err(|e| io(format!("cannot move {} away", path.display()), e))?;
            backup = Some(keep);
        }
    }
    std::os::unix::fs::symlink(target, &path)
        .map_err(|e| io(format!("cannot create the link {}", path.display()), e))?;
    Ok(Done::Linked { backup })
}

/// Removes the link `dir/docker-compose` if it leads to `target`, and puts back a backup.
fn unlink(dir: &Path, target: &Path, force: bool) -> Result<Done, CliError> {
    let path = dir.join(LINK);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Done::NothingThere),
        Err(e) => return Err(io(format!("cannot look at {}", path.display()), e)),
        Ok(_) if links_to(&path, target) || force => {}
        Ok(_) => {
            return Err(CliError::new(format!(
                "{} is not a link to this rcompose ({}): left as it is (--force removes it)",
                path.display(),
                target.display()
            )))
        }
    }
    std::fs::remove_file(&path).map_err(|e| io(format!("cannot remove {}", path.display()), e))?;
    let keep = backup_of(&path);
    let restored = std::fs::symlink_metadata(&keep).is_ok();
    if restored {
        std::fs::rename(&keep, &path)
            .map_err(|e| io(format!("cannot put {} back", keep.display()), e))?;
    }
    Ok(Done::Removed { restored })
}

/// `$XDG_DATA_HOME` (`~/.local/share`) and `$XDG_CONFIG_HOME` (`~/.config`).
fn xdg_homes() -> (PathBuf, PathBuf) {
    let dir = |var: &str, default: &[&str]| {
        std::env::var(var)
            .ok()
            .filter(|d| Path::new(d).is_absolute())
            .map(PathBuf::from)
            .unwrap_or_else(|| default.iter().fold(home(), |p, c| p.join(c)))
    };
    (
        dir("XDG_DATA_HOME", &[".local", "share"]),
        dir("XDG_CONFIG_HOME", &[".config"]),
    )
}

/// The completion scripts of bash, zsh and fish, each where that shell loads a user's from.
fn completion_files(data: &Path, config: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let places = [
        (
            Shell::Bash,
            data.join("bash-completion/completions/rcompose"),
        ),
        (Shell::Zsh, data.join("zsh/site-functions/_rcompose")),
        (Shell::Fish, config.join("fish/completions/rcompose.fish")),
    ];
    places
        .into_iter()
        .map(|(shell, path)| {
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut super::Cli::command(), "rcompose", &mut text);
            (path, text)
        })
        .collect()
}

/// The man pages under `data/man/man1`.
fn man_files(data: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, CliError> {
    let pages = super::man::pages().map_err(|e| io("cannot render the man pages".into(), e))?;
    let dir = data.join("man").join("man1");
    Ok(pages.into_iter().map(|(n, t)| (dir.join(n), t)).collect())
}

/// Writes (or, uninstalling, removes) `files`; what it did, one line each.
fn put_files(files: &[(PathBuf, Vec<u8>)], uninstall: bool) -> Result<Vec<String>, CliError> {
    let mut said = Vec::new();
    for (path, text) in files {
        if uninstall {
            match std::fs::remove_file(path) {
                Ok(()) => said.push(format!("removed {}", path.display())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(format!("cannot remove {}", path.display()), e)),
            }
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| io(format!("cannot create {}", dir.display()), e))?;
        }
        std::fs::write(path, text)
            .map_err(|e| io(format!("cannot write {}", path.display()), e))?;
        said.push(format!("wrote {}", path.display()));
    }
    Ok(said)
}

/// `--completions` and `--man`: files written from this binary's own definitions.
fn install_docs(args: &InstallArgs) -> Result<(), CliError> {
    let (data, config) = xdg_homes();
    let mut files = Vec::new();
    if args.completions {
        files.extend(completion_files(&data, &config));
    }
    if args.man {
        files.extend(man_files(&data)?);
    }
    let said = put_files(&files, args.uninstall)?;
    if args.uninstall && said.is_empty() {
        outln!("nothing to remove")?;
    }
    if args.man && !args.uninstall {
        outln!(
            "{} man pages in {}",
            files
                .iter()
                .filter(|(p, _)| p.extension().is_some_and(|e| e == "1"))
                .count(),
            data.join("man/man1").display()
        )?;
    }
    for line in said.iter().filter(|l| args.uninstall || !l.ends_with(".1")) {
        outln!("{line}")?;
    }
    if !args.uninstall {
        let flags = [(args.completions, " --completions"), (args.man, " --man")];
        let flags: String = flags.iter().filter(|f| f.0).map(|f| f.1).collect();
        outln!("to undo: rcompose install --uninstall{flags}")?;
    }
    Ok(())
}

pub(super) fn run(args: InstallArgs) -> Result<(), CliError> {
    if args.completions || args.man {
        install_docs(&args)?;
    }
    let target = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| io("cannot find the rcompose binary".into(), e))?;
    let mut places = Vec::new();
    if args.plugin {
        let dir = args.plugin_dir.clone().unwrap_or_else(|| {
            std::env::var("DOCKER_CONFIG")
                .ok()
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| home().join(".docker"))
                .join("cli-plugins")
        });
        places.push(("--plugin", "--plugin-dir", dir));
    }
    if args.standalone {
        let dir = args
            .bin_dir
            .clone()
            .unwrap_or_else(|| home().join(".local").join("bin"));
        places.push(("--standalone", "--bin-dir", dir));
    }
    for (shape, dir_flag, dir) in places {
        let path = dir.join(LINK);
        if args.uninstall {
            match unlink(&dir, &target, args.force)? {
                Done::Removed { restored: true } => outln!(
                    "removed {}; put back the docker-compose that was there before",
                    path.display()
                )?,
                Done::Removed { .. } => outln!("removed {}", path.display())?,
                _ => outln!("nothing to remove: {} does not exist", path.display())?,
            }
            continue;
        }
        match link(&dir, &target, args.force)? {
            Done::AlreadyLinked => {
                outln!("{} already links to {}", path.display(), target.display())?
            }
            Done::Linked { backup } => {
                outln!("linked {} -> {}", path.display(), target.display())?;
                if let Some(b) = backup {
                    outln!("the file that was there is kept as {}", b.display())?;
                }
            }
            _ => {}
        }
        outln!(
            "to undo: rcompose install --uninstall {shape} {dir_flag} {}",
            dir.display()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Completions for the three shells and every man page land where those tools look, and
    /// go again on uninstall.
    #[test]
    fn completions_and_man_pages_are_written_and_removed() {
        let t = tempfile::tempdir().unwrap();
        let (data, config) = (t.path().join("data"), t.path().join("config"));
        let mut files = completion_files(&data, &config);
        files.extend(man_files(&data).unwrap());
        let said = put_files(&files, false).unwrap();
        assert_eq!(said.len(), files.len());
        let bash =
            std::fs::read_to_string(data.join("bash-completion/completions/rcompose")).unwrap();
        assert!(bash.contains("complete") && bash.contains("rcompose"));
        assert!(data.join("zsh/site-functions/_rcompose").is_file());
        assert!(config.join("fish/completions/rcompose.fish").is_file());
        let page = std::fs::read_to_string(data.join("man/man1/rcompose-up.1")).unwrap();
        assert!(page.contains(".TH"));
        assert!(data.join("man/man1/rcompose.1").is_file());
        assert_eq!(put_files(&files, true).unwrap().len(), files.len());
        assert!(files.iter().all(|(p, _)| !p.exists()));
    }

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let bin = t.path().join("rcompose");
        std::fs::write(&bin, "binary").unwrap();
        let bin = std::fs::canonicalize(bin).unwrap();
        let dir = t.path().join("cli-plugins");
        (t, bin, dir)
    }

    #[test]
    fn links_then_undoes() {
        let (_t, bin, dir) = setup();
        assert_eq!(
            link(&dir, &bin, false).unwrap(),
            Done::Linked { backup: None }
        );
        assert!(links_to(&dir.join(LINK), &bin));
        assert_eq!(link(&dir, &bin, false).unwrap(), Done::AlreadyLinked);
        assert_eq!(
            unlink(&dir, &bin, false).unwrap(),
            Done::Removed { restored: false }
        );
        assert!(std::fs::symlink_metadata(dir.join(LINK)).is_err());
        assert_eq!(unlink(&dir, &bin, false).unwrap(), Done::NothingThere);
    }

    #[test]
    fn another_docker_compose_is_kept_unless_forced_and_put_back_on_undo() {
        let (_t, bin, dir) = setup();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(LINK);
        std::fs::write(&path, "the reference").unwrap();
        let e = link(&dir, &bin, false).unwrap_err().to_string();
        assert!(
            e.contains("exists and is a file") && e.contains("--force"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "the reference");
        let e = unlink(&dir, &bin, false).unwrap_err().to_string();
        assert!(e.contains("not a link to this rcompose"), "{e}");
        assert_eq!(
            link(&dir, &bin, true).unwrap(),
            Done::Linked {
                backup: Some(backup_of(&path))
            }
        );
        assert!(links_to(&path, &bin));
        assert_eq!(
            unlink(&dir, &bin, false).unwrap(),
            Done::Removed { restored: true }
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "the reference");
    }

    #[test]
    fn a_link_elsewhere_is_not_ours() {
        let (t, bin, dir) = setup();
        let other = t.path().join("other");
        std::fs::write(&other, "x").unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(&other, dir.join(LINK)).unwrap();
        let e = link(&dir, &bin, false).unwrap_err().to_string();
        assert!(e.contains("is a link to"), "{e}");
    }
}
