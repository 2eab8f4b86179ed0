//! `backup` and `restore`: which volumes a command names, and the plans that quiesce the
//! services mounting them (stopped dependents first, started again in dependency order with
//! their health conditions, as `up` starts them).

use super::lifecycle::{self, Action, Dependencies};
use super::observed::{ContainerState, Observed, ObservedResource};
use super::plan::{Op, Plan};
use super::stop::StopTimeouts;
use super::Cycle;
use crate::parse::{MountKind, Project};

/// A volume to back up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The key in the compose file, or the engine's name for a volume it does not declare.
    pub key: String,
    /// The engine's name.
    pub name: String,
    pub external: bool,
}

/// A word of the command line that names no service and no volume.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no such service or volume: {0}")]
pub struct Unknown(pub String);

/// The volumes `words` name (services: the named volumes they mount, external ones left out;
/// volumes: by key or by name, external ones included). With no words, every volume of the
/// project on the engine (by its labels, or by the name the file gives it), external ones left
/// out. `observed` holds the project's volumes and those named by the file.
pub fn select(
    project: &Project,
    observed: &[ObservedResource],
    words: &[String],
) -> Result<Vec<Target>, Unknown> {
    let on_engine = |name: &str| observed.iter().any(|v| v.name == name);
    let of_key = |key: &str| -> Option<Target> {
        let v = project.volumes.get(key)?;
        Some(Target {
            key: key.to_string(),
            name: v.name.clone(),
            external: v.external,
        })
    };
    let mut out: Vec<Target> = Vec::new();
    let push = |t: Target, out: &mut Vec<Target>| {
        if !out.iter().any(|o| o.name == t.name) {
            out.push(t);
        }
    };
    if words.is_empty() {
        for key in project.volumes.keys() {
            if let Some(t) = of_key(key).filter(|t| !t.external && on_engine(&t.name)) {
                push(t, &mut out);
            }
        }
        for v in observed
            .iter()
            .filter(|v| v.project.as_deref() == Some(project.name.as_str()))
        {
            let key = v.key.clone().unwrap_or_else(|| v.name.clone());
            push(
                Target {
                    key,
                    name: v.name.clone(),
                    external: false,
                },
                &mut out,
            );
        }
        return Ok(out);
    }
    for word in words {
        if let Some(svc) = project.services.get(word) {
            for m in &svc.volumes {
                let Some(source) = m.source.as_deref() else {
                    continue;
                };
                if m.kind != MountKind::Volume {
                    continue;
                }
                if let Some(t) = of_key(source).filter(|t| !t.external) {
                    push(t, &mut out);
                }
            }
            continue;
        }
        if let Some(t) = of_key(word) {
            push(t, &mut out);
            continue;
        }
        let found = observed.iter().find(|v| {
            v.name == *word
                || (v.key.as_deref() == Some(word.as_str())
                    && v.project.as_deref() == Some(project.name.as_str()))
        });
        match found {
            Some(v) => push(
                Target {
                    key: v.key.clone().unwrap_or_else(|| v.name.clone()),
                    name: v.name.clone(),
                    external: v.project.as_deref() != Some(project.name.as_str()),
                },
                &mut out,
            ),
            None => return Err(Unknown(word.clone())),
        }
    }
    Ok(out)
}

/// A volume mount of a container of the project, as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerMount {
    pub service: String,
    /// The container's number (`com.docker.compose.container-number`).
    pub number: u64,
    /// Where it is mounted in the container.
    pub target: String,
    /// The volume's name.
    pub volume: String,
}

/// An anonymous volume to back up: found again by its service, container number and mount
/// target (its own name is random).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anonymous {
    /// The archive's key for it: `anon.<service>.<number><target with / as .>`.
    pub key: String,
    pub mount: ContainerMount,
}

/// The key of an anonymous volume in the archive (no `/`: the archive's paths hold keys).
pub fn anonymous_key(service: &str, number: u64, target: &str) -> String {
    let target: String = target
        .chars()
        .map(|c| if c == '/' { '.' } else { c })
        .collect();
    format!("anon.{service}.{number}{target}")
}

/// The anonymous volumes `backup --anonymous` takes: the volume mounts of the containers of the
/// services `words` name (all services when `words` names none) that are none of the
/// project's named volumes (those `named` lists by their engine name).
pub fn anonymous(
    project: &Project,
    mounts: &[ContainerMount],
    named: &[String],
    words: &[String],
) -> Vec<Anonymous> {
    let services: Vec<&String> = words
        .iter()
        .filter(|w| project.services.contains_key(*w))
        .collect();
    let mut out: Vec<Anonymous> = mounts
        .iter()
        .filter(|m| services.is_empty() || services.contains(&&m.service))
        .filter(|m| !named.contains(&m.volume))
        .map(|m| Anonymous {
            key: anonymous_key(&m.service, m.number, &m.target),
            mount: m.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out.dedup_by(|a, b| a.mount.volume == b.mount.volume);
    out
}

/// The plans around a copy: stop the running containers of `services` (dependents first), then
/// start again exactly those, each service after its dependencies meet their conditions.
pub fn quiesce(
    deps: &Dependencies,
    observed: &Observed,
    services: &[String],
    timeouts: &StopTimeouts,
) -> Result<(Plan, Plan), Cycle> {
    if services.is_empty() {
        return Ok((Plan::default(), Plan::default()));
    }
    let stop = lifecycle::plan(&Action::Stop, deps, observed, services, timeouts)?;
    // Only those that ran start again.
    let stopped: Vec<&str> = stop
        .steps
        .iter()
        .filter_map(|s| match &s.op {
            Op::StopContainer { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .filter(|n| {
            observed
                .containers
                .iter()
                .any(|c| c.name == *n && c.active())
        })
        .collect();
    let mut after = observed.clone();
    after
        .containers
        .retain(|c| stopped.contains(&c.name.as_str()));
    for c in &mut after.containers {
        c.state = ContainerState::Exited;
    }
    let start = lifecycle::plan(&Action::Start, deps, &after, services, timeouts)?;
    Ok((stop, start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::observed::ObservedContainer;
    use crate::parse::Condition;
    use indexmap::IndexMap;

    fn container(service: &str, state: ContainerState) -> ObservedContainer {
        ObservedContainer {
            id: format!("id-{service}"),
            name: format!("p-{service}-1"),
            service: service.into(),
            number: 1,
            state,
            ..Default::default()
        }
    }

    #[test]
    fn dependents_stop_first_and_start_last_with_conditions() {
        let mut deps: Dependencies = IndexMap::new();
        deps.insert("db".into(), vec![]);
        deps.insert(
            "api".into(),
            vec![("db".into(), Condition::ServiceHealthy, false)],
        );
        deps.insert(
            "web".into(),
            vec![("api".into(), Condition::ServiceStarted, false)],
        );
        deps.insert(
            "idle".into(),
            vec![("db".into(), Condition::ServiceStarted, false)],
        );
        let observed = Observed {
            containers: vec![
                container("db", ContainerState::Running),
                container("api", ContainerState::Running),
                container("web", ContainerState::Running),
                // Already stopped before the backup: it stays stopped.
                container("idle", ContainerState::Exited),
            ],
            ..Default::default()
        };
        let services: Vec<String> = ["db", "api", "web", "idle"].map(String::from).to_vec();
        let (stop, start) = quiesce(&deps, &observed, &services, &StopTimeouts::default()).unwrap();
        let stops: Vec<String> = stop.steps.iter().map(|s| format!("{:?}", s.op)).collect();
        // The stopped one too (the reference's `stop` does), but it does not start again.
        assert_eq!(stops.len(), 4, "{stops:?}");
        // web stops before api, api before db.
        let at = |name: &str| {
            stop.steps
                .iter()
                .position(|s| matches!(&s.op, Op::StopContainer { name: n, .. } if n == name))
                .unwrap()
        };
        assert!(stop.steps[at("p-db-1")].deps.contains(&at("p-api-1")));
        assert!(stop.steps[at("p-api-1")].deps.contains(&at("p-web-1")));
        let starts: Vec<&str> = start
            .steps
            .iter()
            .filter_map(|s| match &s.op {
                Op::StartContainer { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(starts, vec!["p-db-1", "p-api-1", "p-web-1"]);
        // api waits for db to be healthy.
        assert!(start.steps.iter().any(|s| matches!(
            &s.op,
            Op::Await { service, condition: Condition::ServiceHealthy, .. } if service == "db"
        )));
    }

    #[test]
    fn anonymous_volumes_are_the_mounts_no_named_volume_explains() {
        let mut project = crate::graph::fixture::project();
        for name in ["db", "web"] {
            project
                .services
                .insert(name.into(), crate::graph::fixture::service(name, &[]));
        }
        let m = |service: &str, number: u64, target: &str, volume: &str| ContainerMount {
            service: service.into(),
            number,
            target: target.into(),
            volume: volume.into(),
        };
        let mounts = vec![
            m("db", 1, "/data", "p_data"),
            m("db", 1, "/var/cache/x", "3f9a"),
            m("web", 2, "/tmp", "77bc"),
        ];
        let named = vec!["p_data".to_string()];
        let all = anonymous(&project, &mounts, &named, &[]);
        let keys: Vec<&str> = all.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["anon.db.1.var.cache.x", "anon.web.2.tmp"]);
        let web = anonymous(&project, &mounts, &named, &["web".into(), "data".into()]);
        assert_eq!(web.len(), 1);
        assert_eq!(web[0].mount.volume, "77bc");
    }

    #[test]
    fn words_name_services_or_volumes() {
        use crate::parse::{ServiceVolume, Volume};
        let mut project = crate::graph::fixture::project();
        let mut db = crate::graph::fixture::service("db", &[]);
        let mount = |source: Option<&str>, target: &str| ServiceVolume {
            kind: MountKind::Volume,
            source: source.map(String::from),
            target: target.into(),
            ..Default::default()
        };
        db.volumes = vec![
            mount(Some("data"), "/d"),
            mount(Some("ext"), "/e"),
            mount(None, "/anon"),
        ];
        project.services.insert("db".into(), db);
        let vol = |name: &str, external: bool| Volume {
            name: name.into(),
            external,
            ..Default::default()
        };
        project.volumes.insert("data".into(), vol("p_data", false));
        project.volumes.insert("ext".into(), vol("ext", true));
        project
            .volumes
            .insert("unused".into(), vol("p_unused", false));
        let res = |name: &str, key: Option<&str>, project: Option<&str>| ObservedResource {
            id: name.into(),
            name: name.into(),
            project: project.map(String::from),
            key: key.map(String::from),
        };
        let observed = vec![
            res("p_data", Some("data"), Some("p")),
            res("ext", None, None),
            res("other", None, None),
        ];
        let all = select(&project, &observed, &[]).unwrap();
        assert_eq!(
            all.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["p_data"]
        );
        let db = select(&project, &observed, &["db".into()]).unwrap();
        assert_eq!(
            db.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
            ["data"]
        );
        let ext = select(&project, &observed, &["ext".into()]).unwrap();
        assert!(ext[0].external);
        let other = select(&project, &observed, &["other".into()]).unwrap();
        assert_eq!(other[0].key, "other");
        assert_eq!(
            select(&project, &observed, &["nope".into()]),
            Err(Unknown("nope".into()))
        );
    }
}
