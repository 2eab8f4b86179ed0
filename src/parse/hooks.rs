//! `x-backup` on a service: commands `backup` runs in the service's running containers before
//! the copy (`pre`, e.g. a database dump into the volume) and after it (`post`). The loader
//! keeps the section as read (in `Service::other`, so `config` shows it); this reads it.
//!
//! ```yaml
//! x-backup:
//!   pre:
//!     - pg_dump -U app -f /var/lib/postgresql/data/dump.sql   # a string: run by /bin/sh -c
//!     - ["sync"]                                               # a list: run as is
//!   post:
//!     - rm /var/lib/postgresql/data/dump.sql
//! ```

use serde_json::Value;

use super::model::{Project, Service};

/// The key on a service.
pub const KEY: &str = "x-backup";

/// The hooks of one service: each command as the process's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupHooks {
    pub pre: Vec<Vec<String>>,
    pub post: Vec<Vec<String>>,
}

fn commands(svc: &str, field: &str, v: Option<&Value>) -> Result<Vec<Vec<String>>, String> {
    let at = |i: usize| format!("services.{svc}.{KEY}.{field}[{i}]");
    let list = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(l)) => l.clone(),
        Some(one @ Value::String(_)) => vec![one.clone()],
        Some(_) => {
            return Err(format!(
                "services.{svc}.{KEY}.{field}: expected a list of commands"
            ))
        }
    };
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let argv = match c {
            Value::String(s) if !s.trim().is_empty() => {
                vec!["/bin/sh".to_string(), "-c".to_string(), s.clone()]
            }
            Value::Array(words) if !words.is_empty() => words
                .iter()
                .map(|w| match w {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(format!("{}: expected strings", at(i))),
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(format!(
                    "{}: expected a command (a string, or a list of strings)",
                    at(i)
                ))
            }
        };
        out.push(argv);
    }
    Ok(out)
}

/// The backup hooks of `svc` (`None`: no `x-backup`).
pub fn backup_hooks(svc: &Service) -> Result<Option<BackupHooks>, String> {
    let Some(section) = svc.other.get(KEY) else {
        return Ok(None);
    };
    let Value::Object(m) = section else {
        return Err(format!(
            "services.{}.{KEY}: expected a mapping with `pre` and `post`",
            svc.name
        ));
    };
    if let Some(k) = m.keys().find(|k| !matches!(k.as_str(), "pre" | "post")) {
        return Err(format!(
            "services.{}.{KEY}: unknown key `{k}` (expected `pre` and `post`)",
            svc.name
        ));
    }
    Ok(Some(BackupHooks {
        pre: commands(&svc.name, "pre", m.get("pre"))?,
        post: commands(&svc.name, "post", m.get("post"))?,
    }))
}

/// The backup hooks of every service of `project` that has some, by service.
pub fn project_hooks(project: &Project) -> Result<Vec<(String, BackupHooks)>, String> {
    let mut out = Vec::new();
    for (name, svc) in &project.services {
        if let Some(h) = backup_hooks(svc)? {
            out.push((name.clone(), h));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(section: Value) -> Service {
        let mut s = Service {
            name: "db".into(),
            ..Default::default()
        };
        s.other.insert(KEY.into(), section);
        s
    }

    #[test]
    fn strings_run_in_a_shell_and_lists_as_is() {
        let h = backup_hooks(&service(json!({
            "pre": ["pg_dump -f /d/x.sql", ["sync", 1]],
            "post": "rm /d/x.sql"
        })))
        .unwrap()
        .unwrap();
        assert_eq!(
            h.pre,
            vec![
                vec![
                    "/bin/sh".to_string(),
                    "-c".into(),
                    "pg_dump -f /d/x.sql".into()
                ],
                vec!["sync".to_string(), "1".into()],
            ]
        );
        assert_eq!(h.post, vec![vec!["/bin/sh", "-c", "rm /d/x.sql"]]);
        assert_eq!(backup_hooks(&Service::default()), Ok(None));
    }

    #[test]
    fn bad_sections_say_where() {
        let e = backup_hooks(&service(json!({"pre": [""]}))).unwrap_err();
        assert!(e.starts_with("services.db.x-backup.pre[0]:"), "{e}");
        let e = backup_hooks(&service(json!({"before": []}))).unwrap_err();
        assert!(e.contains("unknown key `before`"), "{e}");
        let e = backup_hooks(&service(json!(["x"]))).unwrap_err();
        assert!(e.contains("expected a mapping"), "{e}");
    }
}
