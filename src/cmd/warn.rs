//! Warnings on stderr as the reference's logger writes them: `WARN[0000] msg` on a terminal,
//! `time="..." level=warning msg="..."` (logfmt) otherwise, and JSON objects with
//! `--progress json`, so that log collectors read them all.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// `--progress json`: warnings are JSON objects too.
static JSON: AtomicBool = AtomicBool::new(false);

/// Chooses JSON warnings (with `--progress json`).
pub(super) fn set_json(json: bool) {
    JSON.store(json, Ordering::Relaxed);
}
use std::time::Instant;

/// When rcompose started: the terminal form counts seconds from it.
fn start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Prints one warning.
pub(super) fn warn(msg: &str) {
    let time = || chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if JSON.load(Ordering::Relaxed) {
        let line = serde_json::json!({"level": "warning", "msg": msg, "time": time()});
        eprintln!("{line}");
    } else if std::io::stderr().is_terminal() {
        eprintln!("WARN[{:04}] {msg}", start().elapsed().as_secs());
    } else {
        eprintln!(
            "time=\"{}\" level=warning msg={}",
            time(),
            logfmt_value(msg)
        );
    }
}

/// A value as logrus writes it: bare when it is made of safe characters, else quoted as Go's
/// `%q` quotes.
fn logfmt_value(v: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-._/@^+".contains(c);
    if !v.is_empty() && v.chars().all(safe) {
        return v.to_string();
    }
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::logfmt_value;

    #[test]
    fn values_are_quoted_as_logrus_quotes_them() {
        assert_eq!(logfmt_value("plain"), "plain");
        assert_eq!(
            logfmt_value("the attribute `version` is \"obsolete\""),
            r#""the attribute `version` is \"obsolete\"""#
        );
        assert_eq!(logfmt_value("a\nb"), r#""a\nb""#);
    }
}
