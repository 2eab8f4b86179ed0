//! Durations (`1m30s`) and byte sizes (`512m`) as compose files write them, and ages in words
//! as docker prints them (`2 hours`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A duration in nanoseconds, written like Go's `time.Duration` (`1m30s`, `500ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

impl Duration {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{s}` is not a duration (expected a number and a unit, e.g. 30s, 1m30s, 500ms)"
            )
        };
        let s = s.trim();
        if s.is_empty() {
            return Err(bad());
        }
        // A bare number is a count of seconds (docker compose accepts it in a few places).
        if let Ok(n) = s.parse::<f64>() {
            return Ok(Duration((n * 1e9) as i64));
        }
        let (neg, mut rest) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let mut total: f64 = 0.0;
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if num_len == 0 {
                return Err(bad());
            }
            let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
            rest = &rest[num_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let scale = match &rest[..unit_len] {
                "ns" => 1.0,
                "us" | "µs" | "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => return Err(bad()),
            };
            total += n * scale;
            rest = &rest[unit_len..];
        }
        let v = total.round() as i64;
        Ok(Duration(if neg { -v } else { v }))
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl fmt::Display for Duration {
    /// Formats as Go does: `1m30s`, `1h0m0s`, `500ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut n = self.0;
        if n == 0 {
            return f.write_str("0s");
        }
        if n < 0 {
            f.write_str("-")?;
            n = -n;
        }
        if n < 1_000_000_000 {
            let (unit, div) = if n < 1_000 {
                ("ns", 1)
            } else if n < 1_000_000 {
                ("µs", 1_000)
            } else {
                ("ms", 1_000_000)
            };
            return write!(f, "{}{unit}", trim_frac(n as f64 / div as f64));
        }
        let hours = n / 3_600_000_000_000;
        n -= hours * 3_600_000_000_000;
        let mins = n / 60_000_000_000;
        n -= mins * 60_000_000_000;
        let secs = trim_frac(n as f64 / 1e9);
        if hours > 0 {
            write!(f, "{hours}h{mins}m{secs}s")
        } else if mins > 0 {
            write!(f, "{mins}m{secs}s")
        } else {
            write!(f, "{secs}s")
        }
    }
}

fn trim_frac(v: f64) -> String {
    let s = format!("{v:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match StrOrNum::deserialize(d)? {
            StrOrNum::Str(s) => Duration::parse(&s).map_err(serde::de::Error::custom),
            StrOrNum::Num(n) => Err(serde::de::Error::custom(format!(
                "expected a duration with a unit, e.g. `{n}s`, found the number {n}"
            ))),
        }
    }
}

/// A size in bytes, read from `512m`, `1g`, `100kb` or a plain number; written as a string of
/// bytes, as docker compose does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes(pub i64);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl Bytes {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad =
            || format!("`{s}` is not a size in bytes (expected e.g. 512m, 1g, 100k or a number)");
        let t = s.trim().to_ascii_lowercase();
        let num_len = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = t[..num_len].parse().map_err(|_| bad())?;
        let scale: f64 = match t[num_len..].trim() {
            "" | "b" => 1.0,
            "k" | "kb" | "kib" => 1024.0,
            "m" | "mb" | "mib" => 1024.0 * 1024.0,
            "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
            "t" | "tb" | "tib" => 1024f64.powi(4),
            "p" | "pb" | "pib" => 1024f64.powi(5),
            _ => return Err(bad()),
        };
        Ok(Bytes((n * scale) as i64))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match StrOrNum::deserialize(d)? {
            StrOrNum::Str(s) => Bytes::parse(&s).map_err(serde::de::Error::custom),
            StrOrNum::Num(n) => Ok(Bytes(n as i64)),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrNum {
    Num(f64),
    Str(String),
}

/// An age in words as docker's `HumanDuration` says it: `Less than a second`, `About a
/// minute`, `3 hours` (hours rounded), `5 days`, `3 weeks`, `4 months`, `2 years`.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let minutes = secs / 60;
    let hours = (secs as f64 / 3600.0).round() as i64;
    match secs {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        2..=59 => format!("{secs} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", secs / 3600 / 24 / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (s, want) in [
            ("30s", "30s"),
            ("1m30s", "1m30s"),
            ("90s", "1m30s"),
            ("500ms", "500ms"),
            ("1h", "1h0m0s"),
            ("1.5s", "1.5s"),
            ("10", "10s"),
        ] {
            assert_eq!(Duration::parse(s).unwrap().to_string(), want, "{s}");
        }
        assert!(Duration::parse("abc").is_err());
        assert!(Duration::parse("10x").is_err());
    }

    #[test]
    fn bytes() {
        assert_eq!(Bytes::parse("512m").unwrap().0, 512 * 1024 * 1024);
        assert_eq!(Bytes::parse("1g").unwrap().0, 1 << 30);
        assert_eq!(Bytes::parse("100kb").unwrap().0, 102_400);
        assert_eq!(Bytes::parse("64").unwrap().0, 64);
        assert!(Bytes::parse("lots").is_err());
    }

    #[test]
    fn ages_in_words_as_docker_says_them() {
        use super::human_duration as h;
        assert_eq!(h(0), "Less than a second");
        assert_eq!(h(90), "About a minute");
        assert_eq!(h(3599), "59 minutes");
        assert_eq!(h(5399), "About an hour");
        assert_eq!(h(6400), "2 hours");
        assert_eq!(h(3 * 86400), "3 days");
        assert_eq!(h(20 * 86400), "2 weeks");
        assert_eq!(h(90 * 86400), "3 months");
        assert_eq!(h(800 * 86400), "2 years");
    }
}
