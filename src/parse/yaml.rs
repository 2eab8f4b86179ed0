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
        let mut value: yaml_serde::Value =
            serde::Deserialize::deserialize(de).map_err(|e| syntax(&e))?;
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
                match n.as_f64().and_then(serde_json::Number::from_f64) {
                    Some(f) => Value::Number(f),
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
    fn several_documents_are_all_read() {
        let docs = parse_all("a: 1\n---\nb: !reset 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].tags, vec![Tag::Reset(Path::parse("b"))]);
    }
}
