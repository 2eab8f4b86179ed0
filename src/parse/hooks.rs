//! `x-backup` on a service: commands `backup` runs in the service's running containers before
//! the copy (`pre`, e.g. a database dump into the volume) and after it (`post`). The loader
//! keeps the section as read (in `Service::other`, so `config` shows it); this reads it.
//!
//! ```yaml
//! x-backup:
//!   user: postgres                 # for every hook of the section (as `exec --user`)
//!   environment: {PGDATABASE: app} # likewise (as `exec --env`); a mapping or KEY=VALUE list
//!   pre:
//!     - pg_dump -U app -f /var/lib/postgresql/data/dump.sql   # a string: run by /bin/sh -c
//!     - ["sync"]                                               # a list: run as is
//!     - command: psql -c 'checkpoint'                          # a mapping: its own options
//!       user: root
//!       environment: [PGPASSWORD=secret]
//!       working_dir: /tmp
//!   post:
//!     - rm /var/lib/postgresql/data/dump.sql
//! ```

use serde_json::{Map, Value};

use super::model::{Project, Service};

/// The key on a service.
pub const KEY: &str = "x-backup";

/// One hook: a command and how `exec` runs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hook {
    /// The process's arguments.
    pub cmd: Vec<String>,
    /// `exec --user`; `None`: the container's user.
    pub user: Option<String>,
    /// `KEY=VALUE` pairs added to the container's environment (the section's, then the hook's).
    pub env: Vec<String>,
    /// `exec --workdir`.
    pub workdir: Option<String>,
}

/// The hooks of one service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupHooks {
    pub pre: Vec<Hook>,
    pub post: Vec<Hook>,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A command: a string (run by `/bin/sh -c`) or a list of words.
fn argv(v: &Value, at: &str) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => {
            Ok(vec!["/bin/sh".to_string(), "-c".to_string(), s.clone()])
        }
        Value::Array(words) if !words.is_empty() => words
            .iter()
            .map(|w| match w {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(format!("{at}: expected strings")),
            })
            .collect(),
        _ => Err(format!(
            "{at}: expected a command (a string, or a list of strings)"
        )),
    }
}

/// `environment`: a mapping (`KEY: value`) or a list of `KEY=VALUE`.
fn environment(v: Option<&Value>, at: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match scalar(v) {
                Some(v) if !k.is_empty() => Ok(format!("{k}={v}")),
                _ => Err(format!("{at}.{k}: expected a string, number or boolean")),
            })
            .collect(),
        Some(Value::Array(l)) => l
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) if s.split_once('=').is_some_and(|(k, _)| !k.is_empty()) => {
                    Ok(s.clone())
                }
                _ => Err(format!("{at}[{i}]: expected KEY=VALUE")),
            })
            .collect(),
        Some(_) => Err(format!("{at}: expected a mapping or a list of KEY=VALUE")),
    }
}

fn string(v: Option<&Value>, at: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match scalar(v) {
            Some(s) if !s.is_empty() => Ok(Some(s)),
            _ => Err(format!("{at}: expected a string")),
        },
    }
}

/// The options a section and a hook share, read from `m` at `at` (no command yet).
fn options(m: &Map<String, Value>, at: &str) -> Result<Hook, String> {
    Ok(Hook {
        cmd: Vec::new(),
        user: string(m.get("user"), &format!("{at}.user"))?,
        env: environment(m.get("environment"), &format!("{at}.environment"))?,
        workdir: string(m.get("working_dir"), &format!("{at}.working_dir"))?,
    })
}

fn hooks(svc: &str, field: &str, v: Option<&Value>, base: &Hook) -> Result<Vec<Hook>, String> {
    let at = |i: usize| format!("services.{svc}.{KEY}.{field}[{i}]");
    let list = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(l)) => l.clone(),
        Some(one @ (Value::String(_) | Value::Object(_))) => vec![one.clone()],
        Some(_) => {
            return Err(format!(
                "services.{svc}.{KEY}.{field}: expected a list of commands"
            ))
        }
    };
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let hook = match c {
            Value::Object(m) => {
                if let Some(k) = m.keys().find(|k| {
                    !matches!(
                        k.as_str(),
                        "command" | "user" | "environment" | "working_dir"
                    )
                }) {
                    return Err(format!(
                        "{}: unknown key `{k}` (expected `command`, `user`, `environment`, \
                         `working_dir`)",
                        at(i)
                    ));
                }
                let Some(command) = m.get("command") else {
                    return Err(format!("{}: `command` is required", at(i)));
                };
                let own = options(m, &at(i))?;
                let mut env = base.env.clone();
                env.extend(own.env);
                Hook {
                    cmd: argv(command, &format!("{}.command", at(i)))?,
                    user: own.user.or_else(|| base.user.clone()),
                    env,
                    workdir: own.workdir.or_else(|| base.workdir.clone()),
                }
            }
            c => Hook {
                cmd: argv(c, &at(i))?,
                ..base.clone()
            },
        };
        out.push(hook);
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
    if let Some(k) = m.keys().find(|k| {
        !matches!(
            k.as_str(),
            "pre" | "post" | "user" | "environment" | "working_dir"
        )
    }) {
        return Err(format!(
            "services.{}.{KEY}: unknown key `{k}` (expected `pre`, `post`, `user`, \
             `environment`, `working_dir`)",
            svc.name
        ));
    }
    let base = options(m, &format!("services.{}.{KEY}", svc.name))?;
    Ok(Some(BackupHooks {
        pre: hooks(&svc.name, "pre", m.get("pre"), &base)?,
        post: hooks(&svc.name, "post", m.get("post"), &base)?,
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
        let cmds: Vec<Vec<String>> = h.pre.iter().map(|h| h.cmd.clone()).collect();
        assert_eq!(
            cmds,
            vec![
                vec![
                    "/bin/sh".to_string(),
                    "-c".into(),
                    "pg_dump -f /d/x.sql".into()
                ],
                vec!["sync".to_string(), "1".into()],
            ]
        );
        assert_eq!(h.post.len(), 1);
        assert_eq!(h.post[0].cmd, vec!["/bin/sh", "-c", "rm /d/x.sql"]);
        assert_eq!(h.post[0].user, None);
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
        let e = backup_hooks(&service(json!({"pre": [{"user": "x"}]}))).unwrap_err();
        assert!(e.contains("pre[0]: `command` is required"), "{e}");
        let e = backup_hooks(&service(json!({"environment": ["=x"]}))).unwrap_err();
        assert!(
            e.contains("x-backup.environment[0]: expected KEY=VALUE"),
            "{e}"
        );
    }

    #[test]
    fn user_and_environment_come_from_the_section_or_the_hook() {
        let h = backup_hooks(&service(json!({
            "user": "postgres",
            "environment": {"A": "1", "N": 2},
            "pre": ["dump", {"command": ["sync"], "user": "root", "environment": ["B=x=y"],
                    "working_dir": "/tmp"}],
        })))
        .unwrap()
        .unwrap();
        assert_eq!(h.pre[0].user.as_deref(), Some("postgres"));
        assert_eq!(h.pre[0].env, vec!["A=1", "N=2"]);
        assert_eq!(h.pre[0].workdir, None);
        assert_eq!(h.pre[1].cmd, vec!["sync"]);
        assert_eq!(h.pre[1].user.as_deref(), Some("root"));
        assert_eq!(h.pre[1].env, vec!["A=1", "N=2", "B=x=y"]);
        assert_eq!(h.pre[1].workdir.as_deref(), Some("/tmp"));
    }
}
