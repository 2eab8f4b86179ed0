//! Plans of the lifecycle commands (`start`, `stop`, `restart`, `kill`, `pause`, `unpause`, `rm`)
//! on containers that exist: pure functions of the dependency map and the observed state.

use indexmap::IndexMap;

use super::observed::{ContainerState, Observed, ObservedContainer};
use super::plan::{Op, Plan};
use super::stop::StopTimeouts;
use super::{Cycle, ServiceGraph};
use crate::parse::Condition;

/// What to do to the selected services' containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start stopped containers, each service after its dependencies meet their conditions.
    Start,
    /// Stop the containers (stopped ones too, as the reference), each service after the
    /// services that depend on it.
    Stop,
    /// Restart containers, each service after its dependencies; `dependents`: also the services
    /// that depend on the named ones.
    Restart {
        dependents: bool,
    },
    Kill {
        signal: String,
    },
    Pause,
    Unpause,
    /// Remove stopped containers (`stop`: stop running ones first).
    Remove {
        stop: bool,
        volumes: bool,
    },
}

/// service -> (dependency, condition, whether the service restarts with it).
pub type Dependencies = IndexMap<String, Vec<(String, Condition, bool)>>;

/// The dependencies of `project`'s services, as the lifecycle commands read them.
pub fn dependencies(project: &crate::parse::Project) -> Dependencies {
    project
        .services
        .iter()
        .map(|(name, s)| {
            let d = s
                .depends_on
                .iter()
                .map(|(d, o)| (d.clone(), o.condition, o.restart))
                .collect();
            (name.clone(), d)
        })
        .collect()
}

fn is_running(c: &ObservedContainer) -> bool {
    c.active()
}

/// Plans `action` on the containers of `services` (all services when empty).
pub fn plan(
    action: &Action,
    deps: &Dependencies,
    observed: &Observed,
    services: &[String],
    timeouts: &StopTimeouts,
) -> Result<Plan, Cycle> {
    let mut all = deps.clone();
    for c in observed.containers.iter().filter(|c| !c.oneoff) {
        all.entry(c.service.clone()).or_insert_with(|| {
            c.depends_on
                .iter()
                .map(|d| (d.clone(), Condition::ServiceStarted, false))
                .collect()
        });
    }
    let names: IndexMap<String, Vec<String>> = all
        .iter()
        .map(|(s, d)| (s.clone(), d.iter().map(|(n, _, _)| n.clone()).collect()))
        .collect();
    let graph = ServiceGraph::new(&names)?;
    let mut selected: Vec<String> = if services.is_empty() {
        all.keys().cloned().collect()
    } else {
        services.to_vec()
    };
    // As the reference: a restart takes along the services that declare `restart: true` on it.
    if let Action::Restart { dependents: true } = action {
        let mut i = 0;
        while i < selected.len() {
            for (svc, ds) in &all {
                let restarts = ds.iter().any(|(d, _, r)| *r && *d == selected[i]);
                if restarts && !selected.contains(svc) {
                    selected.push(svc.clone());
                }
            }
            i += 1;
        }
    }
    let mut order = super::reconcile::topological(&graph, &selected);
    let reverse = matches!(action, Action::Stop | Action::Remove { .. });
    if reverse {
        order.reverse();
    }
    let containers = |svc: &str| -> Vec<&ObservedContainer> {
        let mut v: Vec<&ObservedContainer> = observed
            .containers
            .iter()
            .filter(|c| !c.oneoff && c.service == svc)
            .collect();
        v.sort_by_key(|c| c.number);
        v
    };
    let mut plan = Plan::default();
    // service -> the steps that others wait for.
    let mut done: IndexMap<String, Vec<usize>> = IndexMap::new();
    let mut awaits: IndexMap<(String, Condition), usize> = IndexMap::new();
    for svc in &order {
        let before: Vec<usize> = if reverse {
            graph
                .dependents(svc)
                .iter()
                .flat_map(|d| done.get(*d).cloned().unwrap_or_default())
                .collect()
        } else {
            let mut waits = Vec::new();
            for (dep, cond, _) in all.get(svc.as_str()).into_iter().flatten() {
                // A start waits for the conditions of its dependencies even when they are not
                // started with it (the reference's `start web` waits for a healthy `db`).
                let gate = *action == Action::Start
                    && *cond != Condition::ServiceStarted
                    && !containers(dep).is_empty();
                if !selected.contains(dep) && !gate {
                    continue;
                }
                let after = done.get(dep.as_str()).cloned().unwrap_or_default();
                if *action == Action::Start && *cond != Condition::ServiceStarted {
                    let i = *awaits.entry((dep.clone(), *cond)).or_insert_with(|| {
                        plan.add(
                            Op::Await {
                                service: dep.clone(),
                                condition: *cond,
                                probe: None,
                            },
                            after,
                            format!("{svc} depends on it"),
                        )
                    });
                    waits.push(i);
                } else {
                    waits.extend(after);
                }
            }
            waits
        };
        let mut mine = Vec::new();
        for c in containers(svc) {
            let name = c.name.clone();
            let timeout = timeouts.get(svc);
            let step = match action {
                Action::Start if !is_running(c) => Some(plan.add(
                    Op::StartContainer {
                        service: svc.clone(),
                        name,
                    },
                    before.clone(),
                    "start",
                )),
                // Stopped ones too, as the reference (the engine says "not modified", the line
                // says Stopped).
                Action::Stop => {
                    Some(plan.add(Op::StopContainer { name, timeout }, before.clone(), "stop"))
                }
                Action::Restart { .. } => Some(plan.add(
                    Op::RestartContainer { name, timeout },
                    before.clone(),
                    "restart",
                )),
                Action::Kill { signal } if is_running(c) => Some(plan.add(
                    Op::KillContainer {
                        name,
                        signal: signal.clone(),
                    },
                    vec![],
                    "kill",
                )),
                Action::Pause if c.state == ContainerState::Running => {
                    Some(plan.add(Op::PauseContainer { name }, vec![], "pause"))
                }
                Action::Unpause if c.state == ContainerState::Paused => {
                    Some(plan.add(Op::UnpauseContainer { name }, vec![], "unpause"))
                }
                Action::Remove { stop, volumes } if *stop || !is_running(c) => {
                    let mut after = before.clone();
                    if *stop {
                        after = vec![plan.add(
                            Op::StopContainer {
                                name: name.clone(),
                                timeout,
                            },
                            before.clone(),
                            "rm --stop",
                        )];
                    }
                    Some(plan.add(
                        Op::RemoveContainer {
                            name,
                            volumes: *volumes,
                        },
                        after,
                        "rm",
                    ))
                }
                _ => None,
            };
            mine.extend(step);
        }
        if mine.is_empty() {
            mine = before;
        }
        done.insert(svc.clone(), mine);
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(cs: &[(&str, &str, &str)]) -> Observed {
        Observed {
            containers: cs
                .iter()
                .map(|(name, svc, state)| ObservedContainer {
                    name: name.to_string(),
                    service: svc.to_string(),
                    number: 1,
                    state: (*state).into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn deps() -> Dependencies {
        [
            ("db".to_string(), vec![]),
            (
                "web".to_string(),
                vec![("db".to_string(), Condition::ServiceHealthy, false)],
            ),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn start_waits_for_conditions() {
        let o = observed(&[("p-db-1", "db", "exited"), ("p-web-1", "web", "exited")]);
        let plan = plan(&Action::Start, &deps(), &o, &[], &StopTimeouts::default()).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 start container p-db-1 (start)\n\
             #1 await db service_healthy <- #0 (web depends on it)\n\
             #2 start container p-web-1 <- #1 (start)\n"
        );
        // Starting web alone still waits for its running dependency's condition.
        let o = observed(&[("p-db-1", "db", "running"), ("p-web-1", "web", "exited")]);
        let web = ["web".to_string()];
        let plan =
            super::plan(&Action::Start, &deps(), &o, &web, &StopTimeouts::default()).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 await db service_healthy (web depends on it)\n\
             #1 start container p-web-1 <- #0 (start)\n"
        );
    }

    #[test]
    fn stop_goes_in_reverse_and_includes_stopped_ones() {
        let o = observed(&[("p-db-1", "db", "running"), ("p-web-1", "web", "running")]);
        let plan = plan(&Action::Stop, &deps(), &o, &[], &StopTimeouts::default()).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 stop container p-web-1 (stop)\n\
             #1 stop container p-db-1 <- #0 (stop)\n"
        );
        let o = observed(&[("p-db-1", "db", "running"), ("p-web-1", "web", "exited")]);
        let plan = super::plan(&Action::Stop, &deps(), &o, &[], &StopTimeouts::default()).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 stop container p-web-1 (stop)\n\
             #1 stop container p-db-1 <- #0 (stop)\n"
        );
    }

    #[test]
    fn rm_removes_only_stopped_unless_asked_to_stop() {
        let o = observed(&[("p-db-1", "db", "running"), ("p-web-1", "web", "exited")]);
        let rm = |stop| Action::Remove {
            stop,
            volumes: false,
        };
        let plan = plan(&rm(false), &deps(), &o, &[], &StopTimeouts::default()).unwrap();
        assert_eq!(plan.to_string(), "#0 remove container p-web-1 (rm)\n");
        let plan = super::plan(&rm(true), &deps(), &o, &[], &StopTimeouts::default()).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 stop container p-web-1 (rm --stop)\n\
             #1 remove container p-web-1 <- #0 (rm)\n\
             #2 stop container p-db-1 <- #1 (rm --stop)\n\
             #3 remove container p-db-1 <- #2 (rm)\n"
        );
    }

    #[test]
    fn kill_and_restart_of_named_services() {
        let o = observed(&[("p-db-1", "db", "running"), ("p-web-1", "web", "running")]);
        let kill = Action::Kill {
            signal: "SIGTERM".into(),
        };
        let plan = plan(
            &kill,
            &deps(),
            &o,
            &["web".to_string()],
            &StopTimeouts::default(),
        )
        .unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 kill container p-web-1 with SIGTERM (kill)\n"
        );
        let restart = |dependents| Action::Restart { dependents };
        // Without `restart: true` on the dependency, a dependent stays as it is.
        let plan = super::plan(
            &restart(true),
            &deps(),
            &o,
            &["db".to_string()],
            &StopTimeouts::default(),
        )
        .unwrap();
        assert_eq!(plan.to_string(), "#0 restart container p-db-1 (restart)\n");
        let mut with_restart = deps();
        with_restart["web"][0].2 = true;
        let plan = super::plan(
            &restart(true),
            &with_restart,
            &o,
            &["db".to_string()],
            &StopTimeouts::default(),
        )
        .unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 restart container p-db-1 (restart)\n\
             #1 restart container p-web-1 <- #0 (restart)\n"
        );
        let plan = super::plan(
            &restart(false),
            &deps(),
            &o,
            &["db".to_string()],
            &StopTimeouts::default(),
        )
        .unwrap();
        assert_eq!(plan.to_string(), "#0 restart container p-db-1 (restart)\n");
    }
}
