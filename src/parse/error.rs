//! Load errors that say where: file, line and column, the YAML path, what was expected, a hint.

use std::fmt;
use std::path::{Path as FsPath, PathBuf};

use super::path::Path;
use super::yaml;

/// Something wrong with the compose files or the options that name them.
#[derive(Debug, Clone, Default)]
pub struct LoadError {
    pub kind: LoadErrorKind,
    pub message: String,
    pub hint: Option<String>,
    /// Where, when known (boxed: errors travel far and are rare).
    pub at: Box<Location>,
    /// The warnings loading gave before it failed: the reference prints them before the error.
    pub warnings: Vec<String>,
}

/// What kind of load error, for callers that act on it (the message is for people).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// The files are wrong, or cannot be read.
    #[default]
    Invalid,
    /// No file was named and none was found in the folder or its parents.
    NoComposeFile,
}

/// The place an error points at.
#[derive(Debug, Clone, Default)]
pub struct Location {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The line of source at `line`, shown under the header with a caret.
    pub source_line: Option<String>,
    pub yaml_path: Option<Path>,
}

impl LoadError {
    pub fn new(message: impl Into<String>) -> Self {
        LoadError {
            message: message.into(),
            ..Default::default()
        }
    }

    /// Sets the YAML path shown before the message.
    pub fn with_path(mut self, path: &Path) -> Self {
        self.at.yaml_path = Some(path.clone());
        self
    }

    pub fn kind(mut self, kind: LoadErrorKind) -> Self {
        self.kind = kind;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn in_file(mut self, file: &FsPath) -> Self {
        self.at.file = Some(file.to_path_buf());
        self
    }

    /// Points the error at `path` in `source` (the key itself when `key`), read from `file`.
    pub fn at(mut self, file: &FsPath, source: &str, path: &Path, key: bool) -> Self {
        self.at.file = Some(file.to_path_buf());
        if !path.is_root() {
            self.at.yaml_path = Some(path.clone());
        }
        if let Some((line, col)) = yaml::locate(source, path, key) {
            self.set_position(source, line, col);
        }
        self
    }

    pub fn set_position(&mut self, source: &str, line: usize, column: usize) {
        self.at.line = Some(line);
        self.at.column = Some(column);
        self.at.source_line = source
            .lines()
            .nth(line.saturating_sub(1))
            .map(str::to_string);
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = &self.at;
        match &at.yaml_path {
            Some(p) => write!(f, "{p}: {}", self.message)?,
            None => write!(f, "{}", self.message)?,
        }
        if let Some(file) = &at.file {
            write!(f, "\n  --> {}", file.display())?;
            if let (Some(l), Some(c)) = (at.line, at.column) {
                write!(f, ":{l}:{c}")?;
            }
        }
        if let (Some(src), Some(l), Some(c)) = (&at.source_line, at.line, at.column) {
            let gutter = l.to_string().len();
            let pad = " ".repeat(gutter);
            let (src, c) = excerpt(src, c);
            write!(
                f,
                "\n{pad} |\n{l} | {src}\n{pad} | {}^",
                " ".repeat(c.saturating_sub(1))
            )?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// Source lines longer than this are cut around the column shown.
const SNIPPET_WIDTH: usize = 100;

/// `line` cut to [`SNIPPET_WIDTH`] characters around the 1-based `column` (with `...` where cut),
/// and the column within the cut.
fn excerpt(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= SNIPPET_WIDTH {
        return (line.to_string(), column);
    }
    let at = column.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(SNIPPET_WIDTH / 2);
    let end = (start + SNIPPET_WIDTH).min(chars.len());
    let start = end.saturating_sub(SNIPPET_WIDTH);
    let mut out = String::new();
    let mut col = at - start + 1;
    if start > 0 {
        out.push_str("...");
        col += 3;
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push_str("...");
    }
    (out, col)
}

/// The closest of `candidates` to `word`, when close enough to suggest.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(&str, usize)> = None;
    for c in candidates {
        let d = distance(word, c);
        if d <= word.len().max(2) / 3 + 1 && best.is_none_or(|(_, bd)| d < bd) {
            best = Some((c, d));
        }
    }
    best.map(|(c, _)| c)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_source_lines_are_cut_around_the_column() {
        let line = format!("image: {}", "[".repeat(100_000));
        let mut e = LoadError::new("too deep").in_file(FsPath::new("c.yaml"));
        e.set_position(&line, 1, 50_000);
        let text = e.to_string();
        assert!(text.lines().all(|l| l.len() < 120), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        let (src, caret) = (lines[3], lines[4]);
        assert!(
            src.starts_with("1 | ...[") && src.ends_with("[..."),
            "{src}"
        );
        assert_eq!(caret.find('^'), Some(4 + 3 + SNIPPET_WIDTH / 2), "{text}");
        let (short, col) = excerpt("image: x", 8);
        assert_eq!((short.as_str(), col), ("image: x", 8));
        let (tail, col) = excerpt(&"ab".repeat(200), 400);
        assert!(tail.starts_with("...") && !tail.ends_with("..."));
        assert_eq!(col, 3 + SNIPPET_WIDTH);
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("imgae", ["image", "build"]), Some("image"));
        assert_eq!(did_you_mean("dbx", ["db", "web"]), Some("db"));
        assert_eq!(did_you_mean("zzzzzz", ["db", "web"]), None);
    }

    #[test]
    fn renders_snippet() {
        let src = "services:\n  web:\n    depends_on: [dbx]\n";
        let e = LoadError::new("service `dbx` is not defined").at(
            FsPath::new("compose.yaml"),
            src,
            &Path::parse("services.web.depends_on[0]"),
            false,
        );
        let text = e.to_string();
        assert!(text.contains("compose.yaml:3:18"), "{text}");
        assert!(text.contains("depends_on: [dbx]"), "{text}");
    }
}
