//! `.dockerignore`: which files of a build context are sent to the engine, with the engine's
//! rules: paths relative to the context, `*` within one path segment, `**` across segments, `!`
//! re-includes, the last matching line wins, and a folder's rule covers what is inside it.

use globset::{Glob, GlobMatcher};

/// The compiled patterns of one `.dockerignore`.
pub(super) struct Ignore {
    rules: Vec<(GlobMatcher, bool)>,
}

impl Ignore {
    /// Parses the file's text; comments (`#`) and blank lines are skipped.
    pub(super) fn parse(text: &str) -> Result<Ignore, String> {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (include, pat) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let pat = clean(pat);
            if pat.is_empty() {
                continue;
            }
            let glob = globset::GlobBuilder::new(&pat)
                .literal_separator(true)
                .build()
                .or_else(|_| Glob::new(&globset::escape(&pat)))
                .map_err(|e| format!("invalid .dockerignore pattern `{line}`: {e}"))?;
            rules.push((glob.compile_matcher(), include));
        }
        Ok(Ignore { rules })
    }

    /// Whether some line re-includes files (`!pattern`).
    pub(super) fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|(_, include)| *include)
    }

    /// Whether `rel` (slash-separated, relative to the context) is left out.
    pub(super) fn excluded(&self, rel: &str) -> bool {
        let mut out = false;
        for (glob, include) in &self.rules {
            if matches_or_parent(glob, rel) {
                out = !include;
            }
        }
        out
    }
}

fn matches_or_parent(glob: &GlobMatcher, rel: &str) -> bool {
    if glob.is_match(rel) {
        return true;
    }
    let mut p = rel;
    while let Some((parent, _)) = p.rsplit_once('/') {
        if glob.is_match(parent) {
            return true;
        }
        p = parent;
    }
    false
}

/// A pattern as the engine cleans it: no leading `/` or `./`, no `.` segments, no trailing `/`.
fn clean(p: &str) -> String {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_as_the_engine_applies_them() {
        let i = Ignore::parse("# comment\n*.log\n/secret\nnode_modules\n**/*.tmp\n!keep.log\n")
            .unwrap();
        assert!(i.excluded("a.log"));
        assert!(!i.excluded("keep.log"), "exception wins when last");
        assert!(!i.excluded("dir/a.log"), "* does not cross folders");
        assert!(i.excluded("secret"));
        assert!(
            i.excluded("node_modules/x/y.js"),
            "a folder's rule covers its content"
        );
        assert!(i.excluded("deep/er/x.tmp"));
        assert!(!i.excluded("src/main.rs"));
        assert!(i.has_exceptions());
    }
}
