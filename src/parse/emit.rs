//! Text output byte for byte as docker compose (Go) writes it: encoding/json's JSON and go-yaml's
//! YAML, for a tree whose key order is already decided (see [`super::shape`]).

use serde_json::Value;

/// encoding/json's HTML-safe escaping, applied to serde_json's output: `<`, `>`, `&`, U+2028 and
/// U+2029 only ever occur inside strings there.
fn go_escapes(text: String) -> String {
    // A timestamp's mark (see `yaml::TIME_MARK`), as serde_json escapes it: JSON has no
    // timestamps, the text alone is the value.
    let text = if text.contains("\\u0002") {
        text.replace("\\u0002", "")
    } else {
        text
    };
    if !text.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `json.MarshalIndent(v, "", "  ")`: no final newline.
pub fn json_pretty(v: &Value) -> String {
    json_indented(v, b"  ")
}

/// `json.MarshalIndent(v, "", indent)`.
pub fn json_indented(v: &Value, indent: &[u8]) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let fmt = GoJson(serde_json::ser::PrettyFormatter::with_indent(indent));
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    if v.serialize(&mut ser).is_err() {
        return String::new();
    }
    go_escapes(String::from_utf8(buf).unwrap_or_default())
}

/// `json.Marshal(v)`: compact.
pub fn json_compact(v: &Value) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut buf, GoJson(serde_json::ser::CompactFormatter));
    if v.serialize(&mut ser).is_err() {
        return String::new();
    }
    go_escapes(String::from_utf8(buf).unwrap_or_default())
}

/// A serde_json formatter that writes floats as Go's encoding/json does (`1e+21`, `1e-7`,
/// `1000` for 1e3), everything else as the formatter it wraps.
struct GoJson<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for GoJson<F> {
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, f: f64) -> std::io::Result<()> {
        w.write_all(go_json_float(f).as_bytes())
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// encoding/json's float: shortest digits, plain unless below 1e-6 or from 1e21 (`1e-7`, `1e+21`).
fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{f:e}");
        let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{}", exp.abs());
    }
    if f == 0.0 && f.is_sign_negative() {
        return "-0".into();
    }
    format!("{f}")
}

/// go-yaml (v3/v4) block output with an indent of 2 (what compose-go sets), ending with a newline.
pub fn yaml(v: &Value) -> String {
    yaml_indented(v, 2)
}

/// go-yaml block output with `step` spaces of indentation (go-yaml's default is 4).
pub fn yaml_indented(v: &Value, step: usize) -> String {
    let mut out = String::new();
    let e = Emitter { step };
    match v {
        Value::Object(m) if !m.is_empty() => e.mapping(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => e.sequence(&mut out, a, 0),
        other => {
            out.push_str(&e.inline(other, 0, false));
            out.push('\n');
        }
    }
    out
}

struct Emitter {
    step: usize,
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

impl Emitter {
    fn mapping(&self, out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
        let mut first = true;
        for (k, v) in m {
            if !first {
                pad(out, indent);
            }
            first = false;
            if k.len() > 128 || k.contains('\n') {
                // Not a simple key for libyaml: `? key` and `: value` on lines of their own.
                out.push_str("? ");
                out.push_str(&self.scalar(k, indent + self.step, false));
                out.push('\n');
                pad(out, indent);
            } else {
                out.push_str(&self.scalar(k, 0, true));
            }
            out.push(':');
            self.value_after(out, v, indent, true);
        }
    }

    fn sequence(&self, out: &mut String, a: &[Value], indent: usize) {
        let mut first = true;
        for v in a {
            if !first {
                pad(out, indent);
            }
            first = false;
            out.push('-');
            self.value_after(out, v, indent, false);
        }
    }

    /// Writes a value after `key:` or `-` at `indent`, through its final newline.
    fn value_after(&self, out: &mut String, v: &Value, indent: usize, in_map: bool) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                if in_map {
                    out.push('\n');
                    pad(out, indent + self.step);
                } else {
                    out.push(' ');
                }
                self.mapping(out, m, indent + self.step);
            }
            Value::Array(a) if !a.is_empty() => {
                if in_map {
                    out.push('\n');
                    pad(out, indent + self.step);
                } else {
                    out.push(' ');
                }
                self.sequence(out, a, indent + self.step);
            }
            other => {
                out.push(' ');
                out.push_str(&self.inline(other, indent + self.step, false));
                out.push('\n');
            }
        }
    }

    fn scalar(&self, s: &str, indent: usize, simple_key: bool) -> String {
        scalar_string(s, indent, simple_key, self.step)
    }

    /// A scalar or empty collection on one line (a literal block spans lines from `indent`).
    fn inline(&self, v: &Value, indent: usize, simple_key: bool) -> String {
        match v {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => number(n),
            Value::String(s) => self.scalar(s, indent, simple_key),
            Value::Array(_) => "[]".into(),
            Value::Object(_) => "{}".into(),
        }
    }
}

/// go-yaml prints floats with Go's `%g`-like shortest form (`1e+06`, `0.5`).
fn number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        if let Some(f) = n.as_f64() {
            if f.is_infinite() {
                return if f > 0.0 { ".inf" } else { "-.inf" }.into();
            }
            if f.is_nan() {
                return ".nan".into();
            }
            return go_g(f);
        }
    }
    n.to_string()
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` (also what Go's `fmt.Sprint` prints for a float).
pub fn go_g(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let e = format!("{f:e}"); // shortest digits, e.g. "1.5e-5"
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// How go-yaml writes a string: plain when it reads back as the same string, else quoted.
fn scalar_string(s: &str, indent: usize, simple_key: bool, step: usize) -> String {
    if let Some(time) = s.strip_prefix(super::yaml::TIME_MARK) {
        // A timestamp read from an `x-` extension: go-yaml writes a time.Time plain.
        return time.to_string();
    }
    let a = analyze(s);
    if s.contains('\n') {
        if simple_key || !a.block_allowed {
            return double_quoted(s);
        }
        return literal(s, indent, step);
    }
    if !resolves_as_string(s) {
        return double_quoted(s);
    }
    if a.block_plain_allowed {
        return s.to_string();
    }
    if a.single_quoted_allowed {
        return single_quoted(s, indent);
    }
    double_quoted(s)
}

/// libyaml's single-quoted scalar: `'` doubled; a line break (U+2028, U+2029) is written as
/// is and the text goes on at `indent` on the next line.
fn single_quoted(s: &str, indent: usize) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    let mut breaks = false;
    for c in s.chars() {
        if is_break(c) {
            out.push(c);
            breaks = true;
            continue;
        }
        if breaks {
            out.extend(std::iter::repeat_n(' ', indent));
            breaks = false;
        }
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// libyaml's scalar analysis (the parts that decide the style in block context).
struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut special = false;
    let mut tabs = false;
    let mut line_breaks = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let blankz =
        |i: usize| i >= chars.len() || matches!(chars[i], ' ' | '\t') || is_break(chars[i]);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = blankz(i + 1);
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                block_indicators = true;
            }
            if (c == '?' || c == ':') && followed_by_whitespace {
                block_indicators = true;
            }
            if c == '-' && followed_by_whitespace {
                block_indicators = true;
            }
        } else {
            if c == ':' && followed_by_whitespace {
                block_indicators = true;
            }
            if c == '#' && preceded_by_whitespace {
                block_indicators = true;
            }
        }
        // go-yaml: a tab forbids plain and single quotes, not a literal block.
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        let last = i + 1 == chars.len();
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = matches!(c, ' ' | '\t') || is_break(c);
    }
    let mut a = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tabs || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// `|`, `|-` or `|+` with an indentation hint when the text starts with a space or a break.
fn literal(s: &str, indent: usize, step: usize) -> String {
    let mut out = String::from("|");
    if s.starts_with([' ', '\n', '\r']) {
        out.push_str(&step.to_string());
    }
    if !s.ends_with('\n') {
        out.push('-');
    } else if s == "\n" || s.ends_with("\n\n") {
        out.push('+');
    }
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
    out
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    // go-yaml's `is_bom` looks at the start of the text whatever the position: a text that
    // starts with U+FEFF has every character escaped (`"\uFEFF\x78"` for U+FEFF `x`).
    let bom = s.starts_with('\u{feff}');
    for c in s.chars() {
        match c {
            '\u{a0}' if bom => out.push_str("\\_"),
            c if bom
                && !matches!(
                    c,
                    '\0'..='\u{1b}' | '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}'
                ) =>
            {
                push_escape(&mut out, c)
            }
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if !is_printable(c) || c == '\u{feff}' => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `\xXX`, `\uXXXX` or `\UXXXXXXXX`, as go-yaml escapes a character it has no short escape for.
fn push_escape(out: &mut String, c: char) {
    let u = c as u32;
    if u <= 0xFF {
        out.push_str(&format!("\\x{u:02X}"));
    } else if u <= 0xFFFF {
        out.push_str(&format!("\\u{u:04X}"));
    } else {
        out.push_str(&format!("\\U{u:08X}"));
    }
}

/// Whether go-yaml reads `s`, unquoted, back as a string (not null, bool, number, timestamp,
/// nor a YAML 1.1 bool or base-60 number, which it quotes too).
fn resolves_as_string(s: &str) -> bool {
    match s {
        "" | "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False"
        | "FALSE" | ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf"
        | "+.INF" | "-.inf" | "-.Inf" | "-.INF" => return false,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "n" | "N" | "no" | "No" | "NO"
        | "off" | "Off" | "OFF" => return false,
        _ => {}
    }
    let first = s.as_bytes()[0];
    match first {
        b'.' => return !go_parse_float(s),
        b'+' | b'-' | b'0'..=b'9' => {}
        _ => return true,
    }
    if is_base60_float(s) || is_timestamp(s) {
        return false;
    }
    let plain = s.replace('_', "");
    if go_parse_int(&plain) {
        return false;
    }
    if yaml_style_float(&plain) && go_parse_float(&plain) {
        return false;
    }
    true
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint` succeeds.
fn go_parse_int(s: &str) -> bool {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() {
        return false;
    }
    match u64::from_str_radix(digits, radix) {
        Ok(v) => !neg || v <= 1 << 63,
        Err(_) => false,
    }
}

fn go_parse_float(s: &str) -> bool {
    s.parse::<f64>().map(|f| f.is_finite()).unwrap_or(false)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    if !s.contains(':') {
        return false;
    }
    let b = s.as_bytes();
    let mut i = 0;
    if b[0] == b'+' || b[0] == b'-' {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        match i - start {
            1 => {}
            2 if b[start] <= b'5' => {}
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml's timestamps: `YYYY-M-D`, optionally followed by a time (`T`, `t` or a space).
fn is_timestamp(s: &str) -> bool {
    super::yaml::timestamp(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quoting_follows_go_yaml() {
        let cases = [
            ("1", "\"1\""),
            ("no", "\"no\""),
            ("12:30", "\"12:30\""),
            ("80:80", "80:80"),
            ("1_000", "\"1_000\""),
            ("<&>", "<&>"),
            ("0x1F", "\"0x1F\""),
            ("1e3", "\"1e3\""),
            ("", "\"\""),
            ("~", "\"~\""),
            ("-", "'-'"),
            ("a: b", "'a: b'"),
            ("- x", "'- x'"),
            ("#c", "'#c'"),
            (" lead", "' lead'"),
            ("2001-01-01", "\"2001-01-01\""),
            ("it's", "it's"),
            ("a\tb", "\"a\\tb\""),
            ("08", "\"08\""),
            ("nginx:1.25", "nginx:1.25"),
            // A leading BOM: every character escaped (the reference's output).
            ("\u{feff}x\u{a0}\"", "\"\\uFEFF\\x78\\_\\\"\""),
            ("x\u{feff}", "\"x\\uFEFF\""),
        ];
        for (s, want) in cases {
            assert_eq!(scalar_string(s, 0, false, 2), want, "{s}");
        }
    }

    #[test]
    fn blocks_and_lists() {
        let v = json!({"a": {"b": ["x", {"c": 1, "d": "multi\nline"}], "e": {}}, "N": null});
        assert_eq!(
            yaml(&v),
            "a:\n  b:\n    - x\n    - c: 1\n      d: |-\n        multi\n        line\n  e: {}\n\"N\": null\n"
        );
    }

    #[test]
    fn long_keys_are_complex() {
        let k = "k".repeat(129);
        assert_eq!(yaml(&json!({ &k: "v" })), format!("? {k}\n: v\n"));
    }

    #[test]
    fn go_yaml_default_indent() {
        let v = json!({"A": {"name": "A", "l": ["x"]}});
        assert_eq!(
            yaml_indented(&v, 4),
            "A:\n    name: A\n    l:\n        - x\n"
        );
        assert_eq!(
            json_indented(&json!({"a": 1}), b"    "),
            "{\n    \"a\": 1\n}"
        );
    }

    #[test]
    fn json_escapes_html() {
        assert_eq!(
            json_compact(&json!({"a": "<&>"})),
            r#"{"a":"\u003c\u0026\u003e"}"#
        );
    }
}
