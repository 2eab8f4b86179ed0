//! Structural differences between two JSON values, each named by its path (`services.web.ports[2]`).

use serde_json::Value;

/// Every difference between `want` and `got`, as readable lines. Key order is ignored.
pub fn values(want: &Value, got: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(want, got, &mut String::new(), &mut out);
    out
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}...", s.chars().take(117).collect::<String>())
    } else {
        s
    }
}

fn at(path: &str) -> &str {
    if path.is_empty() {
        "(root)"
    } else {
        path
    }
}

fn walk(want: &Value, got: &Value, path: &mut String, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                match g.get(k) {
                    Some(gv) => walk(wv, gv, path, out),
                    None => out.push(format!("{path}: missing, expected {}", show(wv))),
                }
                path.truncate(len);
            }
            for (k, gv) in g {
                if !w.contains_key(k) {
                    let sep = if path.is_empty() { "" } else { "." };
                    out.push(format!("{path}{sep}{k}: unexpected {}", show(gv)));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            for i in 0..w.len().max(g.len()) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                match (w.get(i), g.get(i)) {
                    (Some(wv), Some(gv)) => walk(wv, gv, path, out),
                    (Some(wv), None) => out.push(format!("{path}: missing, expected {}", show(wv))),
                    (None, Some(gv)) => out.push(format!("{path}: unexpected {}", show(gv))),
                    (None, None) => {}
                }
                path.truncate(len);
            }
        }
        (w, g) if w == g => {}
        (w, g) => out.push(format!(
            "{}: expected {}, got {}",
            at(path),
            show(w),
            show(g)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        let d = values(
            &json!({"a": {"b": [1, 2]}, "c": 1}),
            &json!({"a": {"b": [1, 3]}, "d": 1}),
        );
        assert_eq!(
            d,
            vec![
                "a.b[1]: expected 2, got 3",
                "c: missing, expected 1",
                "d: unexpected 1"
            ]
        );
    }
}
