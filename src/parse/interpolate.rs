//! Variable interpolation in compose values: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, nesting inside the word, and `$$`.

use serde_json::Value;

use super::path::{Path, Seg};

/// Looks a variable up; `None` when it is unset.
pub trait Lookup {
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// Why a template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `${VAR:?msg}` or `${VAR?msg}` with the variable missing.
    Required { name: String, message: String },
    /// A template that does not parse, e.g. an unclosed `${`.
    Invalid { template: String },
    /// `${` nested deeper than [`MAX_NESTING`].
    TooDeep,
}

/// How deep `${...}` may nest inside one value (real files use a handful of levels); deeper
/// input is rejected before any expansion, so work and stack stay linear in the input.
pub const MAX_NESTING: usize = 64;

/// At most this many characters of a template are quoted in a message.
const QUOTED: usize = 80;

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateError::Required { name, message } => {
                write!(f, "required variable {name} is missing a value")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            TemplateError::Invalid { template } => {
                let cut: String = template.chars().take(QUOTED).collect();
                let more = if cut.len() < template.len() {
                    "..."
                } else {
                    ""
                };
                write!(f, "invalid template: \"{cut}{more}\"")
            }
            TemplateError::TooDeep => {
                write!(f, "`${{` nested more than {MAX_NESTING} levels deep")
            }
        }
    }
}

/// The reference's warning for a variable used but not set.
pub fn unset_warning(name: &str) -> String {
    format!("The \"{name}\" variable is not set. Defaulting to a blank string.")
}

/// Expands one string. Names of variables that were unset and had no default go to `unset`.
pub fn expand(s: &str, env: &dyn Lookup, unset: &mut Vec<String>) -> Result<String, TemplateError> {
    let invalid = || TemplateError::Invalid {
        template: s.to_string(),
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = rest.strip_prefix('{') {
            let (end, depth) = closing_brace(r).ok_or_else(invalid)?;
            if depth > MAX_NESTING {
                return Err(TemplateError::TooDeep);
            }
            out.push_str(&braced(&r[..end], env, unset).map_err(|e| match e {
                TemplateError::Invalid { .. } => invalid(),
                other => other,
            })?);
            rest = &r[end + 1..];
        } else {
            let len = name_len(rest);
            if len == 0 {
                // A lone `$` followed by something that is not a name is kept as is.
                out.push('$');
                continue;
            }
            let name = &rest[..len];
            out.push_str(&value_of(name, env, unset));
            rest = &rest[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn name_len(s: &str) -> usize {
    let mut n = 0;
    for (i, c) in s.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        n = i + c.len_utf8();
    }
    n
}

/// The index of the `}` closing a `${` whose inside starts `s`, and how deep `${` nests inside
/// it (1 for `${A}`). Stops scanning past [`MAX_NESTING`] levels, so a hostile value costs at
/// most that many passes over itself.
fn closing_brace(s: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut deepest = 1usize;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                deepest = deepest.max(depth + 1);
                if deepest > MAX_NESTING {
                    return Some((i, deepest));
                }
                i += 1;
            }
            b'}' if depth == 0 => return Some((i, deepest)),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn value_of(name: &str, env: &dyn Lookup, unset: &mut Vec<String>) -> String {
    match env.get(name) {
        Some(v) => v,
        None => {
            // One warning per use, as docker compose prints them.
            unset.push(name.to_string());
            String::new()
        }
    }
}

fn braced(inner: &str, env: &dyn Lookup, unset: &mut Vec<String>) -> Result<String, TemplateError> {
    let len = name_len(inner);
    let name = &inner[..len];
    let op = &inner[len..];
    if name.is_empty() {
        return Err(TemplateError::Invalid {
            template: inner.to_string(),
        });
    }
    if op.is_empty() {
        return Ok(value_of(name, env, unset));
    }
    let value = env.get(name);
    let (colon, op) = match op.strip_prefix(':') {
        Some(r) => (true, r),
        None => (false, op),
    };
    let Some(kind) = op.chars().next() else {
        return Err(TemplateError::Invalid {
            template: inner.to_string(),
        });
    };
    let word = &op[kind.len_utf8()..];
    // With a colon, an empty value counts as unset.
    let present = match &value {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    };
    match kind {
        '-' => match value {
            Some(v) if present => Ok(v),
            _ => expand(word, env, unset),
        },
        '?' => match value {
            Some(v) if present => Ok(v),
            _ => Err(TemplateError::Required {
                name: name.to_string(),
                message: expand(word, env, unset)?,
            }),
        },
        '+' => {
            if present {
                expand(word, env, unset)
            } else {
                Ok(String::new())
            }
        }
        _ => Err(TemplateError::Invalid {
            template: inner.to_string(),
        }),
    }
}

/// A variable a template uses, as `config --variables` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Variable {
    pub name: String,
    /// The word of `${VAR:-word}` / `${VAR-word}`, as written.
    pub default_value: String,
    /// The word of `${VAR:+word}` / `${VAR+word}`, as written.
    pub presence_value: String,
    /// `${VAR:?err}` / `${VAR?err}`.
    pub required: bool,
}

/// The variables one string uses, nested ones included (`$$` is no variable).
pub fn variables(s: &str, out: &mut Vec<Variable>) {
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('{') {
            let Some((end, depth)) = closing_brace(r) else {
                return;
            };
            if depth > MAX_NESTING {
                return;
            }
            let inner = &r[..end];
            let len = name_len(inner);
            let op = &inner[len..];
            let mut v = Variable {
                name: inner[..len].to_string(),
                ..Default::default()
            };
            let word = op.strip_prefix(':').unwrap_or(op);
            let mut chars = word.chars();
            let kind = chars.next();
            let arg = chars.as_str();
            match kind {
                Some('-') => v.default_value = arg.to_string(),
                Some('+') => v.presence_value = arg.to_string(),
                Some('?') => v.required = true,
                _ => {}
            }
            variables(arg, out);
            if !v.name.is_empty() {
                out.push(v);
            }
            rest = &r[end + 1..];
        } else {
            let len = name_len(rest);
            if len > 0 {
                out.push(Variable {
                    name: rest[..len].to_string(),
                    ..Default::default()
                });
            }
            rest = &rest[len..];
        }
    }
}

/// The variables of every string in a tree, by name (the first use of a name wins).
pub fn tree_variables(value: &Value) -> std::collections::BTreeMap<String, Variable> {
    fn walk(value: &Value, out: &mut Vec<Variable>) {
        match value {
            Value::String(s) => variables(s, out),
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            Value::Object(m) => m.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    walk(value, &mut all);
    let mut by_name = std::collections::BTreeMap::new();
    for v in all {
        by_name.entry(v.name.clone()).or_insert(v);
    }
    by_name
}

/// An interpolation failure at a path of the tree.
#[derive(Debug, Clone)]
pub struct TreeError {
    pub path: Path,
    pub error: TemplateError,
}

/// Interpolates every string value of a tree (keys are left alone, as in docker compose).
/// Returns the names of unset variables that were used without a default.
pub fn tree(value: &mut Value, env: &dyn Lookup) -> Result<Vec<String>, TreeError> {
    let mut unset = Vec::new();
    let mut path = Path::root();
    walk(value, env, &mut path, &mut unset)?;
    Ok(unset)
}

fn walk(
    value: &mut Value,
    env: &dyn Lookup,
    path: &mut Path,
    unset: &mut Vec<String>,
) -> Result<(), TreeError> {
    match value {
        Value::String(s) if s.contains('$') => {
            *s = expand(s, env, unset).map_err(|error| TreeError {
                path: path.clone(),
                error,
            })?;
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                path.push(Seg::Index(i));
                walk(v, env, path, unset)?;
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                path.push(Seg::Key(k.clone()));
                walk(v, env, path, unset)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_multibyte_operator_is_an_error_not_a_panic() {
        // Found by the fuzzer: `${VAR:Ӑ...}` sliced inside the character.
        let mut unset = Vec::new();
        let e = expand("${A:Ӑatest}", &|_: &str| None, &mut unset);
        assert!(matches!(e, Err(TemplateError::Invalid { .. })), "{e:?}");
        let mut vars = Vec::new();
        variables("${A:Ӑx} ${Bé}", &mut vars);
        assert_eq!(vars[0].name, "A");
    }

    #[test]
    fn variables_lists_names_defaults_and_nesting() {
        let mut out = Vec::new();
        variables("a $$X ${B:?e} ${C:+alt} $D ${F:-${G-n}}", &mut out);
        let got: Vec<(&str, &str, &str, bool)> = out
            .iter()
            .map(|v| {
                (
                    v.name.as_str(),
                    v.default_value.as_str(),
                    v.presence_value.as_str(),
                    v.required,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("B", "", "", true),
                ("C", "", "alt", false),
                ("D", "", "", false),
                ("G", "n", "", false),
                ("F", "${G-n}", "", false),
            ]
        );
    }

    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("a".into()),
            "EMPTY" => Some(String::new()),
            "B_2" => Some("b2".into()),
            _ => None,
        }
    }

    fn x(s: &str) -> Result<String, TemplateError> {
        expand(s, &env, &mut Vec::new())
    }

    #[test]
    fn simple_forms() {
        assert_eq!(x("$A-${A}").unwrap(), "a-a");
        assert_eq!(x("${B_2}x").unwrap(), "b2x");
        assert_eq!(x("$$A").unwrap(), "$A");
        assert_eq!(x("cost: 5$").unwrap(), "cost: 5$");
    }

    #[test]
    fn defaults_and_alternatives() {
        assert_eq!(x("${EMPTY:-d}").unwrap(), "d");
        assert_eq!(x("${EMPTY-d}").unwrap(), "");
        assert_eq!(x("${NOPE-d}").unwrap(), "d");
        assert_eq!(x("${A:+alt}").unwrap(), "alt");
        assert_eq!(x("${EMPTY:+alt}").unwrap(), "");
        assert_eq!(x("${EMPTY+alt}").unwrap(), "alt");
        assert_eq!(x("${NOPE:-${A:-z}}").unwrap(), "a");
        assert_eq!(x("${NOPE:-${NADA:-z}}/x").unwrap(), "z/x");
    }

    #[test]
    fn required_and_invalid() {
        assert_eq!(
            x("${NOPE:?must be set}").unwrap_err().to_string(),
            "required variable NOPE is missing a value: must be set"
        );
        assert!(matches!(
            x("${EMPTY?e}"),
            Ok(ref s) if s.is_empty()
        ));
        assert!(matches!(x("${A"), Err(TemplateError::Invalid { .. })));
        assert!(matches!(x("${}"), Err(TemplateError::Invalid { .. })));
    }

    #[test]
    fn unset_are_reported_at_each_use() {
        let mut unset = Vec::new();
        expand("$NOPE ${NOPE} ${OTHER:-x}", &env, &mut unset).unwrap();
        assert_eq!(unset, vec!["NOPE".to_string(), "NOPE".to_string()]);
    }
}
