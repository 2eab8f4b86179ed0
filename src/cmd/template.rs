//! Go-template `--format` strings as docker prints rows: `{{.Field}}`, `{{json .Field}}`, `\t`
//! and `\n`, and a leading `table` for a header line and columns aligned like Go's tabwriter.

use serde_json::{Map, Value};

/// A parsed `--format` template.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Template {
    table: bool,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Field { name: String, json: bool },
}

impl Template {
    /// Parses `table {{.Name}}\t{{.Status}}` and the like.
    pub(super) fn parse(format: &str) -> Result<Template, String> {
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) => (true, rest.trim_start()),
            None => (false, format),
        };
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        let mut parts = Vec::new();
        let mut rest = body.as_str();
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("template: unclosed action in `{format}`"))?;
            let action = after[..close].trim();
            let (json, field) = match action.strip_prefix("json ") {
                Some(f) => (true, f.trim()),
                None => (false, action),
            };
            let name = field
                .strip_prefix('.')
                .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric()))
                .ok_or_else(|| {
                    format!("template: unsupported action `{{{{{action}}}}}`: expected {{{{.Field}}}} or {{{{json .Field}}}}")
                })?;
            parts.push(Part::Field {
                name: name.to_string(),
                json,
            });
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { table, parts })
    }

    /// Renders one line per row; `headers` names the columns of a table by field.
    pub(super) fn render(
        &self,
        rows: &[Map<String, Value>],
        header: impl Fn(&str) -> String,
    ) -> Result<String, String> {
        let mut lines = Vec::new();
        if self.table {
            lines.push(self.line(|name, _| Ok(header(name)))?);
        }
        for row in rows {
            lines.push(self.line(|name, json| {
                let v = row
                    .get(name)
                    .ok_or_else(|| format!("template: can't evaluate field {name}"))?;
                Ok(match (v, json) {
                    (_, true) => crate::parse::emit::json_compact(v),
                    (Value::String(s), false) => s.clone(),
                    (other, false) => other.to_string(),
                })
            })?);
        }
        if !self.table {
            return Ok(lines.iter().map(|l| format!("{l}\n")).collect());
        }
        Ok(align(&lines))
    }

    fn line(&self, value: impl Fn(&str, bool) -> Result<String, String>) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field { name, json } => out.push_str(&value(name, *json)?),
            }
        }
        Ok(out)
    }
}

/// Tab-separated cells in columns: each as wide as its widest cell plus 3, at least 10.
fn align(lines: &[String]) -> String {
    let rows: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    super::table::tabwrite(&rows, 10, 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Map<String, Value>> {
        let r = |n: &str, s: &str| json!({"Name": n, "State": s, "ExitCode": 0});
        [r("p-web-1", "running"), r("p-db-1", "exited")]
            .into_iter()
            .filter_map(|v| v.as_object().cloned())
            .collect()
    }

    #[test]
    fn fields_and_escapes() {
        let t = Template::parse("{{.Name}}\\t{{ .State }} {{json .Name}} {{.ExitCode}}").unwrap();
        let out = t.render(&rows(), |f| f.to_uppercase()).unwrap();
        assert_eq!(
            out,
            "p-web-1\trunning \"p-web-1\" 0\np-db-1\texited \"p-db-1\" 0\n"
        );
    }

    #[test]
    fn table_aligns_like_tabwriter() {
        let t = Template::parse("table {{.Name}}\\t{{.State}}").unwrap();
        let out = t.render(&rows(), |f| f.to_uppercase()).unwrap();
        assert_eq!(
            out,
            "NAME      STATE\np-web-1   running\np-db-1    exited\n"
        );
    }

    #[test]
    fn unknown_fields_and_actions_are_errors() {
        let t = Template::parse("{{.Nope}}").unwrap();
        assert!(t
            .render(&rows(), |f| f.into())
            .unwrap_err()
            .contains("Nope"));
        assert!(Template::parse("{{range .}}").is_err());
        assert!(Template::parse("{{.Name").is_err());
    }
}
