//! Splitting a `command`, `entrypoint` or watch `exec.command` string into words the way the
//! reference does (the Go `shellwords` package, without environment or backtick expansion), which
//! is not POSIX word splitting:
//! - parsing stops at the first unquoted `;`, `&`, `|`, `<` or `>` and the rest is dropped
//!   (`a & b` is `[a]`); before `>` a word that starts with a digit is a file descriptor and is
//!   dropped too (`echo 2>&1` is `[echo]`);
//! - a backslash escapes the next character everywhere but inside single quotes, also inside double
//!   quotes and substitutions (`"x\ty"` is `xty`);
//! - `` `...` `` and `$(...)` keep their spaces and stay in one word; an unbalanced `(` or `)` is an
//!   error;
//! - an unterminated quote, backtick, `$(` or a trailing backslash is an error.

/// What the reference says of a string it cannot split.
pub const INVALID: &str = "invalid command line string";

/// Splits `line` into words as the reference does; `Err` holds [`INVALID`].
pub fn split(line: &str) -> Result<Vec<String>, &'static str> {
    let mut args = Vec::new();
    let mut buf = String::new();
    let (mut escaped, mut double, mut single, mut back, mut dollar) =
        (false, false, false, false, false);
    // Whether `buf` holds a word (possibly empty, after `""`).
    let mut got = false;
    for r in line.chars() {
        if escaped {
            escaped = false;
            buf.push(r);
            got = true;
            continue;
        }
        if r == '\\' {
            if single {
                buf.push(r);
            } else {
                escaped = true;
            }
            continue;
        }
        if matches!(r, ' ' | '\t' | '\r' | '\n') {
            if single || double || back || dollar {
                buf.push(r);
            } else if got {
                args.push(std::mem::take(&mut buf));
                got = false;
            }
            continue;
        }
        match r {
            '`' if !single && !double && !dollar => back = !back,
            ')' if !single && !double && !back => dollar = !dollar,
            '(' if !single && !double && !back => {
                if !dollar && buf.ends_with('$') {
                    dollar = true;
                    buf.push('(');
                    continue;
                }
                return Err(INVALID);
            }
            '"' if !single && !dollar && !back => {
                if double {
                    got = true;
                }
                double = !double;
                continue;
            }
            '\'' if !double && !dollar && !back => {
                if single {
                    got = true;
                }
                single = !single;
                continue;
            }
            ';' | '&' | '|' | '<' | '>' if !(single || double || back || dollar) => {
                if r == '>' && buf.starts_with(|c: char| c.is_ascii_digit()) {
                    got = false;
                }
                break;
            }
            _ => {}
        }
        got = true;
        buf.push(r);
    }
    if got {
        args.push(buf);
    }
    if escaped || single || double || back || dollar {
        return Err(INVALID);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::split;

    fn ok(s: &str) -> Vec<String> {
        split(s).expect("splits")
    }

    #[test]
    fn words_as_the_reference_splits_them() {
        assert_eq!(ok("a 'b c' \"d e\""), ["a", "b c", "d e"]);
        assert_eq!(ok("a \"\" b"), ["a", "", "b"]);
        assert_eq!(ok("p\\ q r"), ["p q", "r"]);
        assert_eq!(ok("a\"b c\"d"), ["ab cd"]);
        assert_eq!(ok("a \"x\\ty\" 'p\\q'"), ["a", "xty", "p\\q"]);
        assert_eq!(ok("a\\tb"), ["atb"]);
        assert_eq!(ok("  "), Vec::<String>::new());
    }

    #[test]
    fn stops_at_a_shell_operator() {
        assert_eq!(
            ok("./start-backend & ./start-frontend"),
            ["./start-backend"]
        );
        assert_eq!(ok("a&&b c"), ["a"]);
        assert_eq!(ok("a \"b;c\" d;e"), ["a", "b;c", "d"]);
        assert_eq!(ok("a b>c"), ["a", "b"]);
        assert_eq!(ok("echo 2>&1"), ["echo"]);
        assert_eq!(ok("a 1b>x"), ["a"]);
        assert_eq!(ok("a 12 >x"), ["a", "12"]);
        assert_eq!(ok("> x"), Vec::<String>::new());
    }

    #[test]
    fn substitutions_stay_one_word() {
        assert_eq!(ok("a $(b c) d"), ["a", "$(b c)", "d"]);
        assert_eq!(ok("a$(b c)d e"), ["a$(b c)d", "e"]);
        assert_eq!(ok("a `b c` d"), ["a", "`b c`", "d"]);
        assert_eq!(ok("a $(b\\ c)"), ["a", "$(b c)"]);
    }

    #[test]
    fn rejects_what_the_reference_rejects() {
        for s in [
            "a )",
            "a (b)",
            "a $(b",
            "a $(b $(c))",
            "$(a)(b)",
            "a `b",
            "x \"y",
            "a \\",
        ] {
            assert!(split(s).is_err(), "{s}");
        }
    }
}
