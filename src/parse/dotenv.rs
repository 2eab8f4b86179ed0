//! The env-file syntax docker compose reads: `KEY=VALUE` lines, `export` prefixes, `#` comments,
//! single quotes (literal), double quotes (escapes, multi-line) and unquoted values (trimmed, inline
//! comments dropped); double-quoted and unquoted values are interpolated against the variables
//! defined so far, then `lookup`. The `raw` format takes every value as written.

use super::env::Vars;
use super::interpolate::{self, Lookup};

/// A line that cannot be read, with its 1-based number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DotenvError {
    pub line: usize,
    pub message: String,
}

/// Parses `text`; keys without `=` take their value from `lookup` or are skipped.
#[cfg(test)]
pub(super) fn parse(text: &str, raw: bool, lookup: &dyn Lookup) -> Result<Vars, DotenvError> {
    parse_noting(text, raw, lookup, &mut Vec::new())
}

/// [`parse`], pushing to `unset` each variable a value refers to that is not set (once per use).
pub(super) fn parse_noting(
    text: &str,
    raw: bool,
    lookup: &dyn Lookup,
    unset: &mut Vec<String>,
) -> Result<Vars, DotenvError> {
    let mut out = Vars::new();
    // Editors on Windows start files with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].trim_start();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        // `KEY=VALUE`, or `KEY: VALUE` as docker compose also reads.
        let Some(eq) = line.find(['=', ':']) else {
            let key = line.trim();
            check_key(key, number)?;
            if let Some(v) = out.get(key).cloned().or_else(|| lookup.get(key)) {
                out.insert(key.to_string(), v);
            }
            continue;
        };
        let key = line[..eq].trim();
        check_key(key, number)?;
        let rest = line[eq + 1..].trim_start();
        let value = if raw {
            rest.trim_end().to_string()
        } else if let Some(body) = rest.strip_prefix('\'') {
            let (text, used) = quoted(body, '\'', &lines[i..], number)?;
            i += used;
            text
        } else if let Some(body) = rest.strip_prefix('"') {
            let (text, used) = quoted(body, '"', &lines[i..], number)?;
            i += used;
            expand(&unescape(&text), &out, lookup, number, unset)?
        } else {
            let v = match rest.find(" #") {
                Some(c) => &rest[..c],
                None if rest.starts_with('#') => "",
                None => rest,
            };
            expand(v.trim_end(), &out, lookup, number, unset)?
        };
        out.insert(key.to_string(), value);
    }
    Ok(out)
}

fn check_key(key: &str, line: usize) -> Result<(), DotenvError> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(DotenvError {
            line,
            message: format!("unexpected character in variable name `{key}`"),
        })
    }
}

/// The text up to the closing `quote` (which may be on a later line), and how many more lines it used.
fn quoted(
    first: &str,
    quote: char,
    more: &[&str],
    line: usize,
) -> Result<(String, usize), DotenvError> {
    let mut text = String::new();
    let mut current = first;
    let mut used = 0;
    loop {
        let mut escaped = false;
        for (pos, c) in current.char_indices() {
            if c == quote && !escaped {
                text.push_str(&current[..pos]);
                return Ok((text, used));
            }
            escaped = quote == '"' && c == '\\' && !escaped;
        }
        text.push_str(current);
        text.push('\n');
        match more.get(used) {
            Some(next) => {
                current = next;
                used += 1;
            }
            None => {
                return Err(DotenvError {
                    line,
                    message: format!("unterminated quoted value (missing closing {quote})"),
                })
            }
        }
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('$') => out.push_str("$$"),
            Some(other @ ('"' | '\\')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn expand(
    value: &str,
    defined: &Vars,
    lookup: &dyn Lookup,
    line: usize,
    unset: &mut Vec<String>,
) -> Result<String, DotenvError> {
    let env = |k: &str| defined.get(k).cloned().or_else(|| lookup.get(k));
    interpolate::expand(value, &env, unset).map_err(|e| DotenvError {
        line,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn syntax() {
        let text = "# c\nA=plain # comment\nB='single $X'\nC=\"x\\\"y\\n\"\nexport D=d\nE=\nF=${A}-${U:-u}\nG=\"two\nlines\"\nH=a b\n";
        let v = parse(text, false, &none).unwrap();
        assert_eq!(v["A"], "plain");
        assert_eq!(v["B"], "single $X");
        assert_eq!(v["C"], "x\"y\n");
        assert_eq!(v["D"], "d");
        assert_eq!(v["E"], "");
        assert_eq!(v["F"], "plain-u");
        assert_eq!(v["G"], "two\nlines");
        assert_eq!(v["H"], "a b");
    }

    #[test]
    fn raw_keeps_text() {
        let v = parse("A=\"q\"\nB=$X\nC: y\n", true, &none).unwrap();
        assert_eq!(v["C"], "y");
        assert_eq!(v["A"], "\"q\"");
        assert_eq!(v["B"], "$X");
    }

    #[test]
    fn bad_key() {
        assert_eq!(parse("A B=1\n", false, &none).unwrap_err().line, 1);
    }
}
