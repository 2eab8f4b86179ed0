//! `develop.watch` as a typed model: what `watch` and `up --watch` act on. The loader keeps the
//! section as read (for `config` and the config hash, in `Service::other`); this reads it, with
//! the legacy `x-develop` / `x-initialSync` spellings (and their deprecation warnings) and the
//! reference's checks.

use indexmap::IndexMap;
use serde_json::Value;
use std::path::{Path, PathBuf};

use super::model::{MountKind, Project, Service};

/// What a watch rule does when a file under its `path` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchAction {
    Sync,
    Rebuild,
    Restart,
    SyncRestart,
    SyncExec,
}

impl WatchAction {
    pub fn parse(s: &str) -> Option<WatchAction> {
        Some(match s {
            "sync" => WatchAction::Sync,
            "rebuild" => WatchAction::Rebuild,
            "restart" => WatchAction::Restart,
            "sync+restart" => WatchAction::SyncRestart,
            "sync+exec" => WatchAction::SyncExec,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WatchAction::Sync => "sync",
            WatchAction::Rebuild => "rebuild",
            WatchAction::Restart => "restart",
            WatchAction::SyncRestart => "sync+restart",
            WatchAction::SyncExec => "sync+exec",
        }
    }

    /// Whether the rule copies files into the containers.
    pub fn syncs(self) -> bool {
        matches!(
            self,
            WatchAction::Sync | WatchAction::SyncRestart | WatchAction::SyncExec
        )
    }
}

/// `exec` of a `sync+exec` rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchExec {
    pub command: Vec<String>,
    pub user: Option<String>,
    pub privileged: bool,
    pub working_dir: Option<String>,
    /// `KEY=VALUE` (a key without a value: from rcompose's environment).
    pub environment: IndexMap<String, Option<String>>,
}

/// One `develop.watch` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRule {
    /// Absolute host path (file or folder).
    pub path: PathBuf,
    pub action: WatchAction,
    /// Where it goes in the container (sync actions).
    pub target: Option<String>,
    /// `.dockerignore`-style patterns, relative to `path`.
    pub ignore: Vec<String>,
    /// When set, only matching files trigger the rule.
    pub include: Vec<String>,
    pub initial_sync: bool,
    pub exec: Option<WatchExec>,
}

/// A service's watch rules and the warnings reading them gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Develop {
    pub rules: Vec<WatchRule>,
    pub warnings: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    }
}

fn boolean(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "1"),
        _ => false,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn exec(v: &Value) -> Option<WatchExec> {
    let Value::Object(e) = v else {
        return None;
    };
    let command = match e.get("command") {
        Some(Value::String(s)) => super::shellwords::split(s).unwrap_or_else(|_| vec![s.clone()]),
        other => strings(other),
    };
    let environment = match e.get("environment") {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), text(Some(v)))).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| match s.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (s.to_string(), None),
            })
            .collect(),
        _ => IndexMap::new(),
    };
    Some(WatchExec {
        command,
        user: text(e.get("user")),
        privileged: boolean(e.get("privileged")),
        working_dir: text(e.get("working_dir")),
        environment,
    })
}

/// The watch rules of `svc` (`None`: no `develop` section). `base` resolves the relative paths
/// of a legacy `x-develop` section (the loader made `develop` paths absolute already).
pub fn develop(svc: &Service, base: &Path) -> Result<Option<Develop>, String> {
    let mut warnings = Vec::new();
    let section = match (svc.other.get("develop"), svc.other.get("x-develop")) {
        (Some(d), _) => d,
        (None, Some(d)) => {
            warnings.push(
                "x-develop is DEPRECATED, please use the official `develop` attribute".to_string(),
            );
            d
        }
        (None, None) => return Ok(None),
    };
    let mut rules = Vec::new();
    let list = match section.get("watch") {
        Some(Value::Array(l)) => l.as_slice(),
        _ => &[],
    };
    for (i, w) in list.iter().enumerate() {
        let at = format!("services.{}.develop.watch[{i}]", svc.name);
        let Value::Object(w) = w else {
            return Err(format!("{at}: expected a watch rule mapping"));
        };
        let action = w
            .get("action")
            .and_then(Value::as_str)
            .and_then(WatchAction::parse)
            .ok_or_else(|| {
                format!("{at}.action: expected sync, sync+restart, sync+exec, rebuild or restart")
            })?;
        let path = w
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{at}.path: the watch rule has no path"))?;
        let path = if Path::new(path).is_absolute() {
            PathBuf::from(path)
        } else {
            base.join(path.trim_start_matches("./"))
        };
        let initial_sync = if w.contains_key("initial_sync") {
            boolean(w.get("initial_sync"))
        } else if w.contains_key("x-initialSync") {
            warnings.push(
                "x-initialSync is DEPRECATED, please use the official `initial_sync` attribute"
                    .to_string(),
            );
            boolean(w.get("x-initialSync"))
        } else {
            false
        };
        let exec = w.get("exec").and_then(exec);
        if action == WatchAction::Rebuild && svc.build.is_none() {
            return Err(format!(
                "can't watch service {:?} with action {} without a build context",
                svc.name,
                action.as_str()
            ));
        }
        if action == WatchAction::SyncExec && exec.as_ref().is_none_or(|e| e.command.is_empty()) {
            return Err(format!(
                "can't watch service {:?} with action {} without a command (set exec.command)",
                svc.name,
                action.as_str()
            ));
        }
        if action.syncs() && text(w.get("target")).is_none() {
            return Err(format!(
                "{at}.target: a {} rule needs a target (the folder in the container)",
                action.as_str()
            ));
        }
        rules.push(WatchRule {
            path,
            action,
            target: text(w.get("target")),
            ignore: strings(w.get("ignore")),
            include: strings(w.get("include")),
            initial_sync,
            exec,
        });
    }
    Ok(Some(Develop { rules, warnings }))
}

/// The bind mount of `svc` whose host source holds `path`, if any (such a rule is skipped: the
/// container already sees the files).
pub fn bind_mounted(svc: &Service, path: &Path) -> Option<String> {
    svc.volumes
        .iter()
        .filter(|v| v.kind == MountKind::Bind)
        .filter_map(|v| v.source.as_deref())
        .find(|src| path.starts_with(src))
        .map(str::to_string)
}

/// The watch rules of the selected `services` (all when empty): services without rules are left
/// out. Fails with the reference's message when none has any.
pub fn watched(project: &Project, services: &[String]) -> Result<Vec<(String, Develop)>, String> {
    let mut out = Vec::new();
    for svc in project.services.values() {
        if !services.is_empty() && !services.contains(&svc.name) {
            continue;
        }
        if let Some(d) = develop(svc, &project.working_dir)? {
            out.push((svc.name.clone(), d));
        }
    }
    if out.is_empty() {
        return Err(
            "none of the selected services is configured for watch, consider setting a 'develop' section"
                .to_string(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(other: Value, build: bool) -> Service {
        let mut s = Service {
            name: "web".into(),
            ..Default::default()
        };
        if let Value::Object(m) = other {
            s.other = m.into_iter().collect();
        }
        if build {
            s.build = Some(Default::default());
        }
        s
    }

    #[test]
    fn rules_are_typed_and_legacy_spellings_warn() {
        let s = svc(
            json!({"x-develop": {"watch": [
                {"path": "./src", "action": "sync+exec", "target": "/app", "x-initialSync": true,
                 "ignore": ["node_modules/"], "exec": {"command": "kill -HUP 1", "user": "root",
                 "privileged": true, "environment": ["A=1", "B"]}}
            ]}}),
            false,
        );
        let d = develop(&s, Path::new("/p")).unwrap().unwrap();
        assert_eq!(d.warnings.len(), 2);
        assert!(d.warnings[0].starts_with("x-develop is DEPRECATED"));
        assert!(d.warnings[1].starts_with("x-initialSync is DEPRECATED"));
        let r = &d.rules[0];
        assert_eq!(r.path, PathBuf::from("/p/src"));
        assert_eq!(r.action, WatchAction::SyncExec);
        assert!(r.initial_sync);
        let e = r.exec.as_ref().unwrap();
        assert_eq!(e.command, vec!["kill", "-HUP", "1"]);
        assert!(e.privileged);
        assert_eq!(e.environment.get("B"), Some(&None));
        assert_eq!(e.environment.get("A"), Some(&Some("1".into())));
    }

    #[test]
    fn the_reference_checks() {
        let rebuild = svc(
            json!({"develop": {"watch": [{"path": "/p", "action": "rebuild"}]}}),
            false,
        );
        assert_eq!(
            develop(&rebuild, Path::new("/")).unwrap_err(),
            "can't watch service \"web\" with action rebuild without a build context"
        );
        let exec = svc(
            json!({"develop": {"watch": [{"path": "/p", "action": "sync+exec", "target": "/a",
                   "exec": {"command": null}}]}}),
            false,
        );
        assert!(develop(&exec, Path::new("/"))
            .unwrap_err()
            .contains("without a command"));
        let none = svc(json!({}), false);
        assert_eq!(develop(&none, Path::new("/")).unwrap(), None);
    }
}
