//! Which host files a watch rule cares about: inside its `path`, not ignored (the build
//! context's `<Dockerfile>.dockerignore` or `.dockerignore`, the rule's own `ignore`, `.git/`,
//! editor temp files), and matching `include` when it has one. Also which folders need no
//! watch at all: those an ignore rule covers entirely.

use std::path::{Path, PathBuf};

use super::super::dockerignore::Ignore;
use crate::parse::develop::{WatchAction, WatchRule};
use crate::parse::Service;

/// A watch rule ready to match paths.
pub(super) struct Rule {
    pub(super) service: String,
    pub(super) rule: WatchRule,
    /// The rule's path with symlinks resolved (events name real paths).
    pub(super) root: PathBuf,
    /// The rule's path is a file.
    pub(super) file: bool,
    /// The build context (real path) and its ignore file.
    context: Option<(PathBuf, Ignore)>,
    own: Ignore,
    include: Option<Ignore>,
}

/// Editor temp files and swap files: JetBrains `___jb_*`, emacs `.#*` and `#*#`, vim `4913`,
/// `*~` and `.*.sw[pxon]`.
pub(super) fn editor_temp(name: &str) -> bool {
    name.starts_with("___jb_")
        || name.starts_with(".#")
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
        || name.ends_with('~')
        || (name.starts_with('.')
            && [".swp", ".swx", ".swo", ".swn"]
                .iter()
                .any(|s| name.ends_with(s)))
}

fn slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn real(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

impl Rule {
    pub(super) fn new(svc: &Service, rule: WatchRule) -> Result<Rule, String> {
        let root = real(&rule.path);
        let file = root.is_file();
        let context = match &svc.build {
            Some(b) if rule.action != WatchAction::Rebuild || b.context.is_some() => {
                let dir = PathBuf::from(b.context.clone().unwrap_or_else(|| ".".into()));
                let dockerfile = b.dockerfile.clone().unwrap_or_else(|| "Dockerfile".into());
                let specific = dir.join(format!("{dockerfile}.dockerignore"));
                let text = std::fs::read_to_string(&specific)
                    .or_else(|_| std::fs::read_to_string(dir.join(".dockerignore")))
                    .unwrap_or_default();
                Some((real(&dir), Ignore::parse(&text)?))
            }
            _ => None,
        };
        let own = Ignore::parse(&rule.ignore.join("\n"))?;
        let include = if rule.include.is_empty() {
            None
        } else {
            Some(Ignore::parse(&rule.include.join("\n"))?)
        };
        Ok(Rule {
            service: svc.name.clone(),
            rule,
            root,
            file,
            context,
            own,
            include,
        })
    }

    fn rel(&self, path: &Path) -> Option<String> {
        if self.file {
            return (path == self.root).then(|| {
                self.root
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        }
        path.strip_prefix(&self.root).ok().map(slash)
    }

    /// Whether `path` (a real path) is left out by an ignore rule.
    pub(super) fn ignored(&self, path: &Path) -> bool {
        let Some(rel) = self.rel(path) else {
            return true;
        };
        if rel.split('/').any(|s| s == ".git") {
            return true;
        }
        if path
            .file_name()
            .is_some_and(|n| editor_temp(&n.to_string_lossy()))
        {
            return true;
        }
        if !self.file && !rel.is_empty() && self.own.excluded(&rel) {
            return true;
        }
        if let Some((dir, ignore)) = &self.context {
            if let Ok(r) = path.strip_prefix(dir) {
                let r = slash(r);
                if !r.is_empty() && ignore.excluded(&r) {
                    return true;
                }
            }
        }
        false
    }

    /// Whether a change of `path` triggers the rule.
    pub(super) fn wants(&self, path: &Path) -> bool {
        if self.ignored(path) {
            return false;
        }
        match (&self.include, self.rel(path)) {
            (Some(inc), Some(rel)) => inc.excluded(&rel),
            _ => true,
        }
    }

    /// Whether folder `dir` and everything under it can go unwatched: outside the rule, or
    /// ignored by a rule no `!` exception can undo.
    pub(super) fn skips_dir(&self, dir: &Path) -> bool {
        let Some(rel) = self.rel(dir) else {
            return true;
        };
        if rel.split('/').any(|s| s == ".git") {
            return true;
        }
        if !rel.is_empty() && !self.own.has_exceptions() && self.own.excluded(&rel) {
            return true;
        }
        if let Some((ctx, ignore)) = &self.context {
            if let Ok(r) = dir.strip_prefix(ctx) {
                let r = slash(r);
                if !r.is_empty() && !ignore.has_exceptions() && ignore.excluded(&r) {
                    return true;
                }
            }
        }
        false
    }

    /// Where host `path` goes in the container.
    pub(super) fn container_path(&self, path: &Path) -> Option<String> {
        let target = self.rule.target.as_deref()?.trim_end_matches('/');
        let rel = if self.file {
            String::new()
        } else {
            slash(path.strip_prefix(&self.root).ok()?)
        };
        Some(if rel.is_empty() {
            if target.is_empty() {
                "/".into()
            } else {
                target.to_string()
            }
        } else {
            format!("{target}/{rel}")
        })
    }

    /// The folder whose content the rule watches (the parent of a file rule).
    pub(super) fn watch_dir(&self) -> PathBuf {
        if self.file {
            self.root
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| self.root.clone())
        } else {
            self.root.clone()
        }
    }
}

/// Every file and folder under `dir` (real paths) that `rules` do not skip: `enter` is called
/// with each folder before its entries are read (so that a watch set there misses nothing created
/// meanwhile); files found (for an initial sync, or a folder that appeared) go to `files`.
pub(super) fn walk(
    dir: &Path,
    rules: &[&Rule],
    enter: &mut dyn FnMut(&Path),
    files: &mut Vec<PathBuf>,
) {
    if rules.iter().all(|r| r.skips_dir(dir)) {
        return;
    }
    enter(dir);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else {
            continue;
        };
        let p = e.path();
        if ft.is_dir() {
            walk(&p, rules, enter, files);
        } else {
            files.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::develop::WatchAction;

    fn rule(dir: &Path, ignore: &[&str], include: &[&str]) -> Rule {
        let svc = Service {
            name: "web".into(),
            ..Default::default()
        };
        Rule::new(
            &svc,
            WatchRule {
                path: dir.to_path_buf(),
                action: WatchAction::Sync,
                target: Some("/app/".into()),
                ignore: ignore.iter().map(|s| s.to_string()).collect(),
                include: include.iter().map(|s| s.to_string()).collect(),
                initial_sync: false,
                exec: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn ignore_include_and_editor_files() {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        let r = rule(&root, &["node_modules/", "*.log", "!keep.log"], &[]);
        assert!(r.wants(&root.join("src/a.js")));
        assert!(!r.wants(&root.join("node_modules/x/y.js")));
        assert!(!r.wants(&root.join("a.log")));
        assert!(r.wants(&root.join("keep.log")));
        assert!(!r.wants(&root.join(".git/HEAD")));
        for temp in [
            "a.txt~",
            ".#a.txt",
            "#a#",
            ".a.txt.swp",
            "4913",
            "___jb_tmp___",
        ] {
            assert!(!r.wants(&root.join("src").join(temp)), "{temp}");
        }
        assert!(!r.wants(Path::new("/elsewhere/a")));
        assert_eq!(
            r.container_path(&root.join("src/a.js")).unwrap(),
            "/app/src/a.js"
        );
        // An exception may re-include below: the folder stays watched.
        assert!(!r.skips_dir(&root.join("node_modules")));
        let plain = rule(&root, &["node_modules/"], &["**/*.js"]);
        assert!(plain.skips_dir(&root.join("node_modules")));
        assert!(!plain.skips_dir(&root.join("src")));
        assert!(plain.wants(&root.join("src/a.js")));
        assert!(!plain.wants(&root.join("src/a.css")), "include narrows");
        let (mut dirs, mut files) = (vec![], vec![]);
        std::fs::write(root.join("node_modules/x/y.js"), "").unwrap();
        std::fs::write(root.join("src/a.js"), "").unwrap();
        walk(
            &root,
            &[&plain],
            &mut |d| dirs.push(d.to_path_buf()),
            &mut files,
        );
        assert_eq!(dirs, vec![root.clone(), root.join("src")]);
        assert_eq!(files, vec![root.join("src/a.js")]);
    }

    /// A folder is entered (watched) before it is read: what is written there meanwhile is
    /// either seen by the walk or reported by the watch, never lost between the two.
    #[test]
    fn a_folder_is_entered_before_it_is_read() {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        std::fs::create_dir_all(root.join("d1/sub")).unwrap();
        let r = rule(&root, &[], &[]);
        let mut files = vec![];
        walk(
            &root,
            &[&r],
            &mut |d| std::fs::write(d.join("late"), "").unwrap(),
            &mut files,
        );
        files.sort();
        let want = ["d1/late", "d1/sub/late", "late"].map(|f| root.join(f));
        assert_eq!(files, want);
    }

    #[test]
    fn a_file_rule() {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        std::fs::write(root.join("index.html"), "").unwrap();
        let r = rule(&root.join("index.html"), &[], &[]);
        assert!(r.file);
        assert!(r.wants(&root.join("index.html")));
        assert!(!r.wants(&root.join("other.html")));
        assert_eq!(r.container_path(&root.join("index.html")).unwrap(), "/app");
        assert_eq!(r.watch_dir(), root);
    }
}
