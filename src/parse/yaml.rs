//! The one module that speaks YAML (through `yaml_serde`).
//!
//! A file is read into an ordered JSON tree (`serde_json::Value` with key order kept), with `<<`
//! merge keys applied and the compose tags `!reset` / `!override` recorded by path. Source positions
//! are not kept in the tree: [`locate`] re-reads the source and returns the line and column of any
//! path, which is cheap because it only runs when something is reported.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

use super::path::{Path, Seg};

/// A compose tag found in a file, with the path of the node it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    /// `!reset`: the attribute is removed from what earlier files set.
    Reset(Path),
    /// `!override`: the attribute replaces what earlier files set, without merging.
    Override(Path),
}

/// A parsed file: its tree and its tags.
#[derive(Debug, Clone)]
pub struct Document {
    pub tree: Value,
    pub tags: Vec<Tag>,
}

/// A YAML syntax or structure error, with its 1-based position when the parser knows it.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The node at fault, when the parser gave no position.
    pub path: Option<Path>,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn syntax(err: &yaml_serde::Error) -> SyntaxError {
    let loc = err.location();
    let mut message = err.to_string();
    // yaml_serde appends " at line L column C"; the caller prints the position itself.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    SyntaxError {
        message,
        line: loc.as_ref().map(|l| l.line()),
        column: loc.as_ref().map(|l| l.column()),
        path: None,
    }
}

/// Parses one compose file; its first document only (an empty file is a null tree).
pub fn parse(source: &str) -> Result<Document, SyntaxError> {
    Ok(parse_all(source)?.into_iter().next().unwrap_or(Document {
        tree: Value::Null,
        tags: vec![],
    }))
}

/// Parses every document of a compose file; docker compose merges them in order, as if each
/// were its own file.
pub fn parse_all(source: &str) -> Result<Vec<Document>, SyntaxError> {
    flow_depth(source)?;
    let mut out = Vec::new();
    for de in yaml_serde::Deserializer::from_str(source) {
        let mut value = Node { source }.deserialize(de).map_err(|e| syntax(&e))?;
        // A merged mapping may itself hold `<<` (an anchored mapping that merges another):
        // merge again until none is left, the nearest keys winning.
        for _ in 0..MAX_MERGE_DEPTH {
            value.apply_merge().map_err(|e| {
                let mut err = syntax(&e);
                if err.line.is_none() {
                    if let Some((l, c)) = bad_merge_key(source) {
                        err.line = Some(l);
                        err.column = Some(c);
                    }
                }
                err
            })?;
            if !has_merge_key(&value) {
                break;
            }
        }
        let mut tags = Vec::new();
        let tree = convert(value, &mut Path::root(), &mut tags)?;
        out.push(Document { tree, tags });
    }
    Ok(out)
}

/// Reads one node as go-yaml v3 (the reference's YAML reader) resolves it: a plain scalar such as
/// `0755` (octal), `08` (a float), `1_000`, `0X1F` or a number too big for 64 bits is a number, a
/// plain date (`2001-12-14`) a timestamp, where yaml_serde alone (YAML 1.2) would see strings.
/// Quoted and block scalars stay strings.
#[derive(Clone, Copy)]
struct Node<'s> {
    source: &'s str,
}

/// The tag put on a plain scalar go-yaml reads as a timestamp (its value is the RFC 3339 text).
const TIMESTAMP: &str = "\u{1}timestamp";

/// Put before the RFC 3339 text of a timestamp kept inside an `x-` extension: go-yaml prints
/// a `time.Time` plain (`2021-05-06T00:00:00Z`) where the same text as a string is quoted.
/// The emitters drop it (see [`super::emit`]).
pub(crate) const TIME_MARK: char = '\u{2}';

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = yaml_serde::Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = yaml_serde::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(yaml_serde::Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
        Ok(yaml_serde::Value::Number(i.into()))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Self::Value, E> {
        // Beyond int64, `+9223372036854775808` is a float for go-yaml: strconv.ParseUint takes
        // no sign. (The scalar's text is not at hand here: look for it in the source.)
        // Only when every occurrence of the digits is signed.
        let signed = |u: u64| {
            let digits = u.to_string();
            let before = |i: usize| self.source[..i].chars().next_back();
            let signs: Vec<Option<char>> = self
                .source
                .match_indices(&digits)
                .map(|(i, _)| before(i))
                .filter(|c| *c != Some('-'))
                .collect();
            !signs.is_empty() && signs.iter().all(|c| *c == Some('+'))
        };
        if u > i64::MAX as u64 && signed(u) {
            return Ok(yaml_serde::Value::Number((u as f64).into()));
        }
        Ok(yaml_serde::Value::Number(u.into()))
    }
    // Beyond 64 bits go-yaml reads a float.
    fn visit_i128<E: de::Error>(self, i: i128) -> Result<Self::Value, E> {
        Ok(yaml_serde::Value::Number((i as f64).into()))
    }
    fn visit_u128<E: de::Error>(self, u: u128) -> Result<Self::Value, E> {
        Ok(yaml_serde::Value::Number((u as f64).into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
        Ok(yaml_serde::Value::Number(f.into()))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(yaml_serde::Value::String(s.to_owned()))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        if plain_in(self.source, s) {
            return Ok(go_resolve(s));
        }
        self.visit_str(s)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(yaml_serde::Value::Null)
    }
    // An empty document.
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(yaml_serde::Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(yaml_serde::Value::Sequence(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = yaml_serde::Mapping::new();
        while let Some(key) = map.next_key_seed(self)? {
            match out.entry(key) {
                yaml_serde::mapping::Entry::Occupied(taken) => {
                    let what = match taken.key() {
                        yaml_serde::Value::String(s) => format!("with key {s:?}"),
                        yaml_serde::Value::Number(n) => format!("with key {n}"),
                        _ => "in YAML map".to_string(),
                    };
                    return Err(de::Error::custom(format!("duplicate entry {what}")));
                }
                yaml_serde::mapping::Entry::Vacant(place) => {
                    place.insert(map.next_value_seed(self)?);
                }
            }
        }
        Ok(yaml_serde::Value::Mapping(out))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let (tag, contents): (String, _) = data.variant()?;
        if tag.is_empty() {
            return Err(de::Error::custom("empty YAML tag is not allowed"));
        }
        let value = de::VariantAccess::newtype_variant_seed(contents, self)?;
        Ok(yaml_serde::Value::Tagged(Box::new(
            yaml_serde::value::TaggedValue {
                tag: yaml_serde::value::Tag::new(tag),
                value,
            },
        )))
    }
}

/// Whether `s`, borrowed from `source`, is a plain scalar there: not quoted (the character
/// before a quoted scalar's text is its quote) and not tagged `!!str`.
fn plain_in(source: &str, s: &str) -> bool {
    let start = s.as_ptr() as usize;
    let base = source.as_ptr() as usize;
    if start < base || start + s.len() > base + source.len() {
        return false;
    }
    let before = source[..start - base].trim_end_matches([' ', '\t']);
    !before.ends_with(['"', '\'']) && !before.ends_with("!!str") && !before.ends_with(":str>")
}

/// go-yaml v3's reading of a plain scalar that yaml_serde read as a string: `resolve()` for the
/// plain style (the null and boolean words are already read alike).
fn go_resolve(s: &str) -> yaml_serde::Value {
    use yaml_serde::Value as Y;
    let string = || Y::String(s.to_owned());
    match s.as_bytes().first() {
        Some(b'.') => match s.parse::<f64>() {
            Ok(f) if f.is_finite() && go_float_syntax(s, true) => Y::Number(f.into()),
            _ => string(),
        },
        Some(b'+' | b'-' | b'0'..=b'9') => {
            if let Some(t) = timestamp(s) {
                return Y::Tagged(Box::new(yaml_serde::value::TaggedValue {
                    tag: yaml_serde::value::Tag::new(TIMESTAMP),
                    value: Y::String(t),
                }));
            }
            let plain = s.replace('_', "");
            if let Some(n) = go_parse_int(&plain) {
                return n;
            }
            if go_float_syntax(&plain, false) {
                if let Ok(f) = plain.parse::<f64>() {
                    if f.is_finite() {
                        return Y::Number(f.into());
                    }
                }
            }
            string()
        }
        _ => string(),
    }
}

/// `strconv.ParseInt(s, 0, 64)`, then `strconv.ParseUint(s, 0, 64)`: an optional sign, then
/// `0x`, `0o`, `0b` (any case) or a leading `0` (octal) for the base.
fn go_parse_int(s: &str) -> Option<yaml_serde::Value> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.get(..2).map(|p| p.to_ascii_lowercase());
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0o") => (8, &body[2..]),
        Some("0b") => (2, &body[2..]),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        let v = i64::try_from(-(i128::try_from(magnitude).ok()?)).ok()?;
        Some(yaml_serde::Value::Number(v.into()))
    } else if let Ok(v) = i64::try_from(magnitude) {
        Some(yaml_serde::Value::Number(v.into()))
    } else {
        // ParseUint takes no sign; `+` with a value beyond int64 is not a number for it.
        let v = u64::try_from(magnitude)
            .ok()
            .filter(|_| !s.starts_with('+'))?;
        Some(yaml_serde::Value::Number(v.into()))
    }
}

/// go-yaml's float syntax, `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` (with `dot`:
/// what `strconv.ParseFloat` takes from a scalar starting with `.`, the same without a sign).
fn go_float_syntax(s: &str, dot: bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if !dot && matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// go-yaml's timestamps (`2006-1-2`, `2006-1-2 15:4:5.999999999`, `2006-1-2T15:4:5.999999999Z07:00`,
/// lower-case `t` too) as `time.Time` prints them (RFC 3339, fraction without trailing zeros).
pub(crate) fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    // Reads 1 or 2 digits (or exactly `n` when `exact`), within `max`.
    fn num(b: &[u8], i: &mut usize, exact: Option<usize>, max: u32) -> Option<u32> {
        let start = *i;
        let most = exact.unwrap_or(2);
        while *i < b.len() && *i - start < most && b[*i].is_ascii_digit() {
            *i += 1;
        }
        let n = *i - start;
        if n == 0 || exact.is_some_and(|e| e != n) {
            return None;
        }
        let v: u32 = std::str::from_utf8(&b[start..*i]).ok()?.parse().ok()?;
        (v <= max).then_some(v)
    }
    let year: u32 = s[..4].parse().ok()?;
    let mut i = 5;
    let month = num(b, &mut i, None, 12).filter(|m| *m >= 1)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i += 1;
    let day = num(b, &mut i, None, 31).filter(|d| *d >= 1)?;
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > days {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if i == b.len() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let zoned = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    i += 1;
    let hour = num(b, &mut i, None, 23)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let min = num(b, &mut i, None, 59)?;
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let sec = num(b, &mut i, None, 59)?;
    let mut frac = String::new();
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 9 {
            return None;
        }
        let digits = s[start..i].trim_end_matches('0');
        if !digits.is_empty() {
            frac = format!(".{digits}");
        }
    }
    let zone = if zoned {
        match b.get(i) {
            Some(b'Z') if i + 1 == b.len() => "Z".to_string(),
            Some(b'+' | b'-') => {
                let sign = b[i] as char;
                i += 1;
                let h = num(b, &mut i, Some(2), 23)?;
                if b.get(i) != Some(&b':') {
                    return None;
                }
                i += 1;
                let m = num(b, &mut i, Some(2), 59)?;
                if i != b.len() {
                    return None;
                }
                if h == 0 && m == 0 {
                    "Z".to_string()
                } else {
                    format!("{sign}{h:02}:{m:02}")
                }
            }
            _ => return None,
        }
    } else if i == b.len() {
        "Z".to_string()
    } else {
        return None;
    };
    Some(format!("{date}T{hour:02}:{min:02}:{sec:02}{frac}{zone}"))
}

/// How deep `[` and `{` may nest, as the reference allows (go-yaml's limit).
pub const MAX_FLOW_DEPTH: usize = 10_000;

/// Rejects flow collections nested deeper than [`MAX_FLOW_DEPTH`] in one linear pass, before the
/// parser (whose work grows with the square of the depth) sees them. Quoted scalars and comments
/// are skipped; the count is reset at each line that starts at column 1, where no flow collection
/// can continue.
fn flow_depth(source: &str) -> Result<(), SyntaxError> {
    let mut depth = 0usize;
    for (i, line) in source.lines().enumerate() {
        if !line.starts_with([' ', '\t', ']', '}']) {
            depth = 0;
        }
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for (j, c) in line.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if !prev.is_alphanumeric() => quote = Some(c),
                (None, '#') if prev.is_whitespace() => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Err(SyntaxError {
                            message: format!("exceeded max depth of {MAX_FLOW_DEPTH}"),
                            line: Some(i + 1),
                            column: Some(line[..j].chars().count() + 1),
                            path: None,
                        });
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
    }
    Ok(())
}

/// How many levels of merge keys nested in merged mappings are resolved.
const MAX_MERGE_DEPTH: usize = 64;

/// Whether a `<<` key is left anywhere in `v`.
fn has_merge_key(v: &yaml_serde::Value) -> bool {
    match v {
        yaml_serde::Value::Mapping(m) => m
            .iter()
            .any(|(k, v)| k.as_str() == Some("<<") || has_merge_key(v)),
        yaml_serde::Value::Sequence(s) => s.iter().any(has_merge_key),
        yaml_serde::Value::Tagged(t) => has_merge_key(&t.value),
        _ => false,
    }
}

/// The position of the first `<<:` whose value is not an alias or a collection (the parser
/// reports merge errors without one).
fn bad_merge_key(source: &str) -> Option<(usize, usize)> {
    source.lines().enumerate().find_map(|(i, line)| {
        let col = line.find("<<:")?;
        let rest = line[col + 3..].trim();
        let ok = rest.is_empty() || rest.starts_with(['*', '[', '{', '#']);
        (!ok).then_some((i + 1, col + 1))
    })
}

/// Mapping keys are strings in compose files (docker compose rejects `1:` or `true:`).
fn key_string(key: &yaml_serde::Value) -> Option<String> {
    match key {
        yaml_serde::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn convert(
    value: yaml_serde::Value,
    path: &mut Path,
    tags: &mut Vec<Tag>,
) -> Result<Value, SyntaxError> {
    Ok(match value {
        yaml_serde::Value::Null => Value::Null,
        yaml_serde::Value::Bool(b) => Value::Bool(b),
        yaml_serde::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                match n.as_f64() {
                    Some(f) => match serde_json::Number::from_f64(f) {
                        Some(f) => Value::Number(f),
                        // JSON holds no infinity: the text Go prints for it (`+Inf`, `NaN`).
                        None if f.is_nan() => Value::String("NaN".into()),
                        None if f > 0.0 => Value::String("+Inf".into()),
                        None => Value::String("-Inf".into()),
                    },
                    None => Value::String(n.to_string()),
                }
            }
        }
        yaml_serde::Value::String(s) => Value::String(s),
        yaml_serde::Value::Sequence(seq) => {
            let mut out = Vec::with_capacity(seq.len());
            for (i, v) in seq.into_iter().enumerate() {
                path.push(Seg::Index(i));
                out.push(convert(v, path, tags)?);
                path.pop();
            }
            Value::Array(out)
        }
        yaml_serde::Value::Mapping(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let key = key_string(&k).ok_or_else(|| SyntaxError {
                    message: "a mapping key must be a string (quote numbers and booleans)".into(),
                    line: None,
                    column: None,
                    path: Some(path.clone()),
                })?;
                path.push(Seg::Key(key.clone()));
                let v = convert(v, path, tags)?;
                path.pop();
                out.insert(key, v);
            }
            Value::Object(out)
        }
        yaml_serde::Value::Tagged(tagged) if tagged.tag == TIMESTAMP => {
            // The reference's schema check fails on a timestamp wherever a type is expected,
            // that is everywhere but inside `x-` extensions.
            let in_extension = path
                .segs()
                .iter()
                .any(|s| matches!(s, Seg::Key(k) if k.starts_with("x-")));
            match tagged.value {
                yaml_serde::Value::String(t) if in_extension => {
                    Value::String(format!("{TIME_MARK}{t}"))
                }
                _ => {
                    return Err(SyntaxError {
                        message: "an unquoted date or time is read as a timestamp, which is not \
                                  allowed here (quote it to keep it as text)"
                            .into(),
                        line: None,
                        column: None,
                        path: Some(path.clone()),
                    })
                }
            }
        }
        yaml_serde::Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            match tag.as_str() {
                "!reset" => tags.push(Tag::Reset(path.clone())),
                "!override" => tags.push(Tag::Override(path.clone())),
                _ => {}
            }
            convert(tagged.value, path, tags)?
        }
    })
}

/// Serialises a tree as YAML (for `config`), as go-yaml writes it (see [`super::emit::yaml`]).
pub fn to_string(value: &Value) -> Result<String, String> {
    Ok(super::emit::yaml(value))
}

/// Returns the 1-based line and column of the node at `path` in `source` (the key itself when the
/// path ends in a key and `key` is true), or of its closest existing ancestor.
pub fn locate(source: &str, path: &Path, key: bool) -> Option<(usize, usize)> {
    let segs = path.segs();
    for len in (0..=segs.len()).rev() {
        let target = &segs[..len];
        let want_key = (key || len < segs.len()) && matches!(target.last(), Some(Seg::Key(_)));
        let de = yaml_serde::Deserializer::from_str(source).next()?;
        let seek = Seek {
            path: target,
            key: want_key,
        };
        if let Err(e) = seek.deserialize(de) {
            if e.to_string().contains(FOUND) {
                if let Some(loc) = e.location() {
                    return Some((loc.line(), loc.column()));
                }
            }
        }
    }
    None
}

/// Whether the scalar at `path` in `source` is written without quotes.
pub fn is_plain_scalar(source: &str, path: &Path) -> bool {
    let Some((line, col)) = locate(source, path, false) else {
        return false;
    };
    source
        .lines()
        .nth(line.saturating_sub(1))
        .and_then(|l| l.chars().nth(col.saturating_sub(1)))
        .is_some_and(|c| c != '\'' && c != '"')
}

const FOUND: &str = "\u{1}found";

/// Walks a document along a path and fails on purpose at the target, so that the deserializer
/// attaches the target's position to the error.
struct Seek<'a> {
    path: &'a [Seg],
    key: bool,
}

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.path.is_empty() {
            return d.deserialize_any(Fail);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any node")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(want), rest)) = self.path.split_first() else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let at_key = self.key && rest.is_empty();
        while let Some(found) = map.next_key_seed(KeySeek { want, fail: at_key })? {
            if found {
                return map.next_value_seed(Seek {
                    path: rest,
                    key: self.key,
                });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(want), rest)) = self.path.split_first() else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Seek {
            path: rest,
            key: self.key,
        })?;
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged node: walk into its value.
        let (_, variant): (IgnoredAny, _) = data.variant()?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }
}

/// Reads a mapping key; answers whether it is the wanted one, or fails there when asked to.
struct KeySeek<'a> {
    want: &'a str,
    fail: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeek<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeek<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        let hit = v == self.want;
        if hit && self.fail {
            return Err(E::custom(FOUND));
        }
        Ok(hit)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.visit_str("null")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

/// Fails at whatever node it is given.
struct Fail;

impl<'de> Visitor<'de> for Fail {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any node")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "services:\n  web:\n    image: x\n    ports:\n      - \"80:80\"\n      - 90\n  db:\n    imgae: y\n";

    #[test]
    fn locates_values_and_keys() {
        let p = Path::parse("services.web.ports[1]");
        assert_eq!(locate(SRC, &p, false), Some((6, 9)));
        let p = Path::parse("services.db.imgae");
        assert_eq!(locate(SRC, &p, true), Some((8, 5)));
        let p = Path::parse("services.db");
        assert_eq!(locate(SRC, &p, true), Some((7, 3)));
    }

    #[test]
    fn missing_path_falls_back_to_ancestor() {
        let p = Path::parse("services.web.nope");
        assert_eq!(locate(SRC, &p, true), Some((2, 3)));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("services:\n  web:\n   image: x\n  bad: [\n").unwrap_err();
        assert!(err.line.is_some());
    }

    #[test]
    fn merge_keys_and_tags() {
        let doc =
            parse("x: &a {p: 1}\ny:\n  <<: *a\n  q: !reset []\n  r: !override {s: 1}\n").unwrap();
        assert_eq!(doc.tree["y"]["p"], 1);
        assert!(doc.tags.contains(&Tag::Reset(Path::parse("y.q"))));
        assert!(doc.tags.contains(&Tag::Override(Path::parse("y.r"))));
    }

    #[test]
    fn plain_scalars_resolve_as_go_yaml_does() {
        let doc = parse(
            "a: 0755\nb: 08\nc: 1_000\nd: 0X1F\ne: '0755'\nf: \"010\"\ng: !!str 010\n\
             h: 123456789012345678901234567890\ni: +12\nj: 0x_1F\nk: 2023-13-01\nl: .5\n\
             m: +9223372036854775808\nn: 9223372036854775809\no: -9223372036854775808\n",
        )
        .unwrap();
        let t = &doc.tree;
        assert_eq!(t["a"], 493);
        assert_eq!(t["b"], 8.0);
        assert_eq!(t["c"], 1000);
        assert_eq!(t["d"], 31);
        assert_eq!(t["e"], "0755");
        assert_eq!(t["f"], "010");
        assert_eq!(t["g"], "010");
        assert_eq!(t["h"], 1.2345678901234568e29);
        assert_eq!(t["i"], 12);
        assert_eq!(t["j"], 31);
        assert_eq!(t["k"], "2023-13-01");
        assert_eq!(t["l"], 0.5);
        // ParseUint takes no sign: beyond int64, `+` makes a float.
        assert_eq!(t["m"], 9.223372036854776e18);
        assert_eq!(t["n"], 9223372036854775809u64);
    }

    #[test]
    fn timestamps_only_in_extensions() {
        let doc = parse("x-a: {t: 2001-12-14 21:59:43.10}\n").unwrap();
        assert_eq!(doc.tree["x-a"]["t"], "\u{2}2001-12-14T21:59:43.1Z");
        // Printed as go-yaml prints a time.Time (plain) and as encoding/json does (a string).
        assert_eq!(
            crate::parse::emit::yaml(&doc.tree),
            "x-a:\n  t: 2001-12-14T21:59:43.1Z\n"
        );
        assert_eq!(
            crate::parse::emit::json_compact(&doc.tree),
            r#"{"x-a":{"t":"2001-12-14T21:59:43.1Z"}}"#
        );
        let err = parse("services: {a: {labels: {t: 2001-12-14}}}\n").unwrap_err();
        assert_eq!(err.path, Some(Path::parse("services.a.labels.t")));
        assert_eq!(
            timestamp("2001-12-14t21:59:43.10-05:00").as_deref(),
            Some("2001-12-14T21:59:43.1-05:00")
        );
        assert_eq!(timestamp("2023-02-29"), None);
        assert_eq!(
            timestamp("2024-2-29").as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
    }

    #[test]
    fn empty_documents_are_null() {
        assert_eq!(parse("").unwrap().tree, Value::Null);
        assert_eq!(parse("# only a comment\n").unwrap().tree, Value::Null);
    }

    #[test]
    fn several_documents_are_all_read() {
        let docs = parse_all("a: 1\n---\nb: !reset 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].tags, vec![Tag::Reset(Path::parse("b"))]);
    }
}
