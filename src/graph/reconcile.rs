//! Pure planning: (project, observed state) to the plan of `up`, and labels to the plan of `down`.

use indexmap::IndexMap;

use super::hash;
use super::observed::{Observed, ObservedContainer};
use super::plan::{Op, Plan};
use super::{Cycle, ServiceGraph};
use crate::parse::{Condition, Project, Service};

/// What `up` was asked to do, beyond the project itself.
#[derive(Debug, Clone, Default)]
pub struct UpPlanOptions {
    /// Services to bring up (with their dependencies); empty means all.
    pub services: Vec<String>,
    pub remove_orphans: bool,
    pub force_recreate: bool,
    /// Keep existing containers even when their configuration changed.
    pub no_recreate: bool,
    /// Recreate the dependencies of the services named on the command line.
    pub always_recreate_deps: bool,
    /// Recreated containers get fresh anonymous volumes (`-V`).
    pub renew_anon_volumes: bool,
    /// Only the services named, not their dependencies.
    pub no_deps: bool,
    /// service -> id of the image it would run now; a container made from another is recreated.
    pub images: std::collections::HashMap<String, String>,
    pub no_start: bool,
    /// Create only the networks and volumes the selected services use (`run` before its container).
    pub resources_only: bool,
}

/// The container name of replica `number` of a service.
pub fn container_name(project: &str, svc: &Service, number: u64) -> String {
    match &svc.container_name {
        Some(n) => n.clone(),
        None => format!("{project}-{}-{number}", svc.name),
    }
}

/// Containers of the project whose service is neither enabled nor disabled by a profile.
pub fn orphans<'a>(project: &Project, observed: &'a Observed) -> Vec<&'a ObservedContainer> {
    observed
        .containers
        .iter()
        .filter(|c| {
            !c.oneoff
                && !project.services.contains_key(&c.service)
                && !project.disabled_services.contains_key(&c.service)
        })
        .collect()
}

/// Plans `up`: networks and volumes that are missing, containers that are missing or changed,
/// starts in dependency order, each service's start waiting only on its own dependencies.
pub fn up(project: &Project, observed: &Observed, opts: &UpPlanOptions) -> Result<Plan, Cycle> {
    let graph = ServiceGraph::of(project)?;
    let selected: Vec<String> = if opts.services.is_empty() {
        project.services.keys().cloned().collect()
    } else if opts.no_deps {
        opts.services.clone()
    } else {
        graph.with_dependencies(&opts.services)
    };
    let mut plan = Plan::default();

    let mut net_steps: IndexMap<&str, usize> = IndexMap::new();
    let mut vol_steps: IndexMap<&str, usize> = IndexMap::new();
    let used_networks: Vec<&str> = selected
        .iter()
        .flat_map(|s| project.services[s].networks.keys().map(String::as_str))
        .collect();
    for (key, net) in &project.networks {
        if net.external
            || !used_networks.contains(&key.as_str())
            || observed.network(&net.name).is_some()
        {
            continue;
        }
        let i = plan.add(
            Op::CreateNetwork {
                key: key.clone(),
                name: net.name.clone(),
            },
            vec![],
            "missing",
        );
        net_steps.insert(key, i);
    }
    let used_volumes: Vec<&str> = selected
        .iter()
        .flat_map(|s| {
            project.services[s]
                .volumes
                .iter()
                .filter(|v| v.kind == "volume")
                .filter_map(|v| v.source.as_deref())
        })
        .collect();
    for (key, vol) in &project.volumes {
        if vol.external
            || !used_volumes.contains(&key.as_str())
            || observed.volume(&vol.name).is_some()
        {
            continue;
        }
        let i = plan.add(
            Op::CreateVolume {
                key: key.clone(),
                name: vol.name.clone(),
            },
            vec![],
            "missing",
        );
        vol_steps.insert(key, i);
    }
    // Per service: create steps, then start steps; `starts` records what dependents wait on.
    let mut starts: IndexMap<&str, Vec<usize>> = IndexMap::new();
    let mut awaits: IndexMap<(String, Condition), usize> = IndexMap::new();
    let mut recreated: Vec<String> = Vec::new();
    let order = match opts.resources_only {
        true => vec![],
        false => topological(&graph, &selected),
    };
    for name in &order {
        let svc = &project.services[name.as_str()];
        let want = hash::service(svc);
        let mut resource_deps: Vec<usize> = svc
            .networks
            .keys()
            .filter_map(|n| net_steps.get(n.as_str()).copied())
            .collect();
        resource_deps.extend(
            svc.volumes
                .iter()
                .filter_map(|v| v.source.as_deref())
                .filter_map(|s| vol_steps.get(s).copied()),
        );
        // Namespaces shared with another service need that service's container first.
        for shared in shared_services(svc) {
            if let Some(s) = starts.get(shared.as_str()) {
                resource_deps.extend(s);
            }
        }
        let mut dep_waits = Vec::new();
        for (dep, d) in &svc.depends_on {
            if !selected.contains(dep) {
                continue;
            }
            let key = (dep.clone(), d.condition);
            let i = match awaits.get(&key) {
                Some(i) => *i,
                None => {
                    let deps = starts.get(dep.as_str()).cloned().unwrap_or_default();
                    let i = plan.add(
                        Op::Await {
                            service: dep.clone(),
                            condition: d.condition,
                        },
                        deps,
                        format!("{name} depends on it"),
                    );
                    awaits.insert(key, i);
                    i
                }
            };
            dep_waits.push(i);
        }

        let mut existing: Vec<&ObservedContainer> = observed
            .containers
            .iter()
            .filter(|c| !c.oneoff && c.service == *name)
            .collect();
        // The canonical name first, so that leftovers of an interrupted recreation lose.
        existing.sort_by_key(|c| {
            (
                c.number,
                c.name != container_name(&project.name, svc, c.number),
            )
        });
        let replicas = svc.replicas();
        let forced = if opts.force_recreate {
            Some("--force-recreate".to_string())
        } else if opts.always_recreate_deps
            && !opts.services.is_empty()
            && !opts.services.contains(name)
        {
            Some("--always-recreate-deps".to_string())
        } else {
            svc.depends_on
                .iter()
                .filter(|(d, dep)| dep.restart && recreated.contains(*d))
                .map(|(d, _)| d.clone())
                .chain(
                    shared_services(svc)
                        .into_iter()
                        .filter(|d| recreated.contains(d)),
                )
                .next()
                .map(|d| format!("{d} was recreated"))
        };
        let mut svc_starts = Vec::new();
        let mut kept: Vec<&str> = Vec::new();
        for number in 1..=replicas {
            let cname = container_name(&project.name, svc, number);
            let current = existing.iter().find(|c| c.number == number).copied();
            let mut create_deps = resource_deps.clone();
            let image_changed = current.is_some_and(|c| {
                opts.images
                    .get(name)
                    .is_some_and(|id| !c.image.is_empty() && c.image != *id)
            });
            let changed =
                image_changed || current.is_some_and(|c| c.config_hash != want || c.name != cname);
            let (created, cause) = match current {
                Some(c) if forced.is_none() && (!changed || opts.no_recreate) => {
                    kept.push(&c.name);
                    if c.running() || opts.no_start {
                        svc_starts.push(plan.add(
                            Op::Await {
                                service: name.clone(),
                                condition: Condition::ServiceStarted,
                            },
                            vec![],
                            format!("{} is up to date", c.name),
                        ));
                        continue;
                    }
                    (None, "stopped".to_string())
                }
                Some(c) => {
                    kept.push(&c.name);
                    recreated.push(name.clone());
                    let cause = forced.clone().unwrap_or_else(|| {
                        if image_changed && c.config_hash == want {
                            "image changed".into()
                        } else {
                            "configuration changed".into()
                        }
                    });
                    // As the reference: stop, set the old container aside, create the new one
                    // with the old one's anonymous volumes, then remove the old one.
                    let mut prev = vec![];
                    if c.running() || c.state == "paused" || c.state == "restarting" {
                        prev.push(plan.add(
                            Op::StopContainer {
                                name: c.name.clone(),
                            },
                            vec![],
                            cause.clone(),
                        ));
                    }
                    let aside = format!("{}_{cname}", &c.id[..c.id.len().min(12)]);
                    let old = if c.name == aside {
                        c.name.clone()
                    } else {
                        let rename = plan.add(
                            Op::RenameContainer {
                                name: c.name.clone(),
                                to: aside.clone(),
                            },
                            prev,
                            cause.clone(),
                        );
                        prev = vec![rename];
                        aside
                    };
                    create_deps.extend(prev);
                    (
                        Some((
                            create_deps,
                            (!opts.renew_anon_volumes).then(|| old.clone()),
                            Some(old),
                        )),
                        cause,
                    )
                }
                None => (Some((create_deps, None, None)), "missing".to_string()),
            };
            let mut start_deps = dep_waits.clone();
            if let Some((deps, inherit, old)) = created {
                let c = plan.add(
                    Op::CreateContainer {
                        service: name.clone(),
                        number,
                        name: cname.clone(),
                        inherit,
                    },
                    deps,
                    cause.clone(),
                );
                start_deps.push(c);
                if let Some(old) = old {
                    start_deps.push(plan.add(
                        Op::RemoveContainer {
                            name: old,
                            volumes: false,
                        },
                        vec![c],
                        cause.clone(),
                    ));
                }
            }
            if !opts.no_start {
                svc_starts.push(plan.add(
                    Op::StartContainer {
                        service: name.clone(),
                        name: cname,
                    },
                    start_deps,
                    cause,
                ));
            }
        }
        for extra in existing.iter().filter(|c| !kept.contains(&c.name.as_str())) {
            let cause = if extra.number > replicas {
                "scaled down"
            } else {
                "left over from an interrupted recreation"
            };
            let stop = plan.add(
                Op::StopContainer {
                    name: extra.name.clone(),
                },
                vec![],
                cause,
            );
            plan.add(
                Op::RemoveContainer {
                    name: extra.name.clone(),
                    volumes: false,
                },
                vec![stop],
                cause,
            );
        }
        starts.insert(name.as_str(), svc_starts);
    }

    let orphans = orphans(project, observed);
    if !orphans.is_empty() {
        if opts.remove_orphans {
            for o in orphans {
                let stop = plan.add(
                    Op::StopContainer {
                        name: o.name.clone(),
                    },
                    vec![],
                    "orphan",
                );
                plan.add(
                    Op::RemoveContainer {
                        name: o.name.clone(),
                        volumes: false,
                    },
                    vec![stop],
                    "orphan",
                );
            }
        } else {
            let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
            plan.warnings.push(format!(
                "Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
                names.join(" ")
            ));
        }
    }
    Ok(plan)
}

pub(crate) fn shared_services(svc: &Service) -> Vec<String> {
    svc.implicit_dependencies()
        .into_iter()
        .map(|d| d.service)
        .collect()
}

/// `selected` with every service after its dependencies (file order otherwise).
pub(crate) fn topological(graph: &ServiceGraph, selected: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    fn visit(g: &ServiceGraph, s: &str, sel: &[String], out: &mut Vec<String>) {
        if out.iter().any(|o| o == s) || !sel.iter().any(|x| x == s) {
            return;
        }
        for d in g.dependencies(s) {
            visit(g, d, sel, out);
        }
        out.push(s.to_string());
    }
    for s in selected {
        visit(graph, s, selected, &mut out);
    }
    out
}

/// What `down` removes: the project's services (with their dependencies, for ordering), its
/// networks and, with `-v`, its volumes.
#[derive(Debug, Clone, Default)]
pub struct DownTarget {
    /// service -> services it depends on.
    pub services: IndexMap<String, Vec<String>>,
    /// Engine names of networks to remove (those that exist).
    pub networks: Vec<String>,
    /// Engine names of volumes to remove (those that exist).
    pub volumes: Vec<String>,
    /// Images to remove once the containers are gone (`--rmi`).
    pub images: Vec<String>,
    pub remove_orphans: bool,
    /// Remove anonymous volumes with the containers.
    pub anonymous_volumes: bool,
    /// Only stop containers (Ctrl-C in attached `up`, `stop`): remove nothing.
    pub stop_only: bool,
}

/// Plans `down`: each container is stopped once the containers of services that depend on it are
/// gone; networks and volumes go last.
pub fn down(target: &DownTarget, observed: &Observed) -> Result<Plan, Cycle> {
    let mut deps = target.services.clone();
    // Services known only from labels (orphans, or a project with no file) join the graph.
    for c in observed.containers.iter().filter(|c| !c.oneoff) {
        if !deps.contains_key(&c.service) && (target.remove_orphans || target.services.is_empty()) {
            deps.insert(c.service.clone(), c.depends_on.clone());
        }
    }
    let graph = ServiceGraph::new(&deps)?;
    let mut plan = Plan::default();
    let mut removed: IndexMap<String, Vec<usize>> = IndexMap::new();
    let mut all = Vec::new();
    // Visit dependents first.
    let mut order: Vec<String> = topological(&graph, &deps.keys().cloned().collect::<Vec<_>>());
    order.reverse();
    for svc in &order {
        let wait: Vec<usize> = graph
            .dependents(svc)
            .iter()
            .flat_map(|d| removed.get(*d).cloned().unwrap_or_default())
            .collect();
        let mut mine = Vec::new();
        for c in observed
            .containers
            .iter()
            .filter(|c| &c.service == svc && !c.oneoff)
        {
            let stop = if c.running() || c.state == "paused" || c.state == "restarting" {
                Some(plan.add(
                    Op::StopContainer {
                        name: c.name.clone(),
                    },
                    wait.clone(),
                    "down",
                ))
            } else {
                None
            };
            if target.stop_only {
                mine.extend(stop);
                continue;
            }
            let rm = plan.add(
                Op::RemoveContainer {
                    name: c.name.clone(),
                    volumes: target.anonymous_volumes,
                },
                stop.map(|s| vec![s]).unwrap_or_else(|| wait.clone()),
                "down",
            );
            mine.push(rm);
        }
        all.extend(mine.iter().copied());
        removed.insert(svc.clone(), mine);
    }
    if target.stop_only {
        return Ok(plan);
    }
    if target.remove_orphans {
        for c in observed.containers.iter().filter(|c| c.oneoff) {
            let rm = plan.add(
                Op::RemoveContainer {
                    name: c.name.clone(),
                    volumes: true,
                },
                vec![],
                "one-off container",
            );
            all.push(rm);
        }
    }
    for n in &target.networks {
        if observed.network(n).is_some() {
            plan.add(Op::RemoveNetwork { name: n.clone() }, all.clone(), "down");
        }
    }
    for v in &target.volumes {
        if observed.volume(v).is_some() {
            plan.add(Op::RemoveVolume { name: v.clone() }, all.clone(), "down -v");
        }
    }
    for i in &target.images {
        plan.add(
            Op::RemoveImage { name: i.clone() },
            all.clone(),
            "down --rmi",
        );
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{DependsOn, Network};

    fn project(services: &[(&str, &[&str])]) -> Project {
        let mut p = Project {
            name: "p".into(),
            ..Default::default()
        };
        p.networks.insert(
            "default".into(),
            Network {
                name: "p_default".into(),
                ..Default::default()
            },
        );
        for (name, deps) in services {
            let mut s = Service {
                name: name.to_string(),
                image: Some("img".into()),
                ..Default::default()
            };
            s.networks.insert("default".into(), None);
            for d in *deps {
                s.depends_on.insert(d.to_string(), DependsOn::default());
            }
            p.services.insert(name.to_string(), s);
        }
        p
    }

    #[test]
    fn fresh_up_plan() {
        let p = project(&[("db", &[]), ("web", &["db"])]);
        let plan = up(&p, &Observed::default(), &UpPlanOptions::default()).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 create network p_default (missing)\n\
             #1 create container p-db-1 <- #0 (missing)\n\
             #2 start container p-db-1 <- #1 (missing)\n\
             #3 await db service_started <- #2 (web depends on it)\n\
             #4 create container p-web-1 <- #0 (missing)\n\
             #5 start container p-web-1 <- #3,#4 (missing)\n"
        );
    }

    #[test]
    fn second_up_does_nothing_to_engine() {
        let p = project(&[("db", &[])]);
        let observed = Observed {
            containers: vec![ObservedContainer {
                name: "p-db-1".into(),
                service: "db".into(),
                number: 1,
                config_hash: hash::service(&p.services["db"]),
                state: "running".into(),
                ..Default::default()
            }],
            networks: vec![super::super::observed::ObservedResource {
                name: "p_default".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let plan = up(&p, &observed, &UpPlanOptions::default()).unwrap();
        assert!(
            plan.steps.iter().all(|s| matches!(s.op, Op::Await { .. })),
            "{plan}"
        );
    }

    #[test]
    fn resources_only_creates_the_network_and_no_container() {
        let p = project(&[("db", &[]), ("web", &["db"])]);
        let opts = UpPlanOptions {
            services: vec!["web".into()],
            no_deps: true,
            resources_only: true,
            ..Default::default()
        };
        let plan = up(&p, &Observed::default(), &opts).unwrap();
        assert_eq!(plan.to_string(), "#0 create network p_default (missing)\n");
    }

    #[test]
    fn down_walks_in_reverse() {
        let target = DownTarget {
            services: [
                ("db".to_string(), vec![]),
                ("web".to_string(), vec!["db".to_string()]),
            ]
            .into_iter()
            .collect(),
            networks: vec!["p_default".into()],
            ..Default::default()
        };
        let c = |name: &str, svc: &str| ObservedContainer {
            name: name.into(),
            service: svc.into(),
            number: 1,
            state: "running".into(),
            ..Default::default()
        };
        let observed = Observed {
            containers: vec![c("p-db-1", "db"), c("p-web-1", "web")],
            networks: vec![super::super::observed::ObservedResource {
                name: "p_default".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let plan = down(&target, &observed).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 stop container p-web-1 (down)\n\
             #1 remove container p-web-1 <- #0 (down)\n\
             #2 stop container p-db-1 <- #1 (down)\n\
             #3 remove container p-db-1 <- #2 (down)\n\
             #4 remove network p_default <- #1,#3 (down)\n"
        );
    }
}

#[cfg(test)]
mod golden {
    //! One golden plan per convergence situation the end-to-end tests exercise.
    use super::*;
    use crate::graph::observed::ObservedResource;
    use crate::parse::{DependsOn, Network};

    fn project(services: &[(&str, &[(&str, bool)])]) -> Project {
        let mut p = Project {
            name: "p".into(),
            ..Default::default()
        };
        p.networks.insert(
            "default".into(),
            Network {
                name: "p_default".into(),
                ..Default::default()
            },
        );
        for (name, deps) in services {
            let mut s = Service {
                name: name.to_string(),
                image: Some("img".into()),
                ..Default::default()
            };
            s.networks.insert("default".into(), None);
            for (d, restart) in *deps {
                s.depends_on.insert(
                    d.to_string(),
                    DependsOn {
                        restart: *restart,
                        ..Default::default()
                    },
                );
            }
            p.services.insert(name.to_string(), s);
        }
        p
    }

    /// The engine state after `up` of `p`: every container running and up to date.
    fn converged(p: &Project) -> Observed {
        Observed {
            containers: p
                .services
                .values()
                .flat_map(|s| {
                    (1..=s.replicas()).map(move |n| ObservedContainer {
                        id: format!("{:0>64}", format!("{}{n}", s.name)),
                        name: format!("p-{}-{n}", s.name),
                        service: s.name.clone(),
                        number: n,
                        config_hash: hash::service(s),
                        state: "running".into(),
                        ..Default::default()
                    })
                })
                .collect(),
            networks: vec![ObservedResource {
                name: "p_default".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn chain() -> Project {
        project(&[
            ("db", &[]),
            ("api", &[("db", false)]),
            ("web", &[("api", true)]),
            ("worker", &[("api", false)]),
        ])
    }

    fn engine_ops(plan: &Plan) -> String {
        plan.steps
            .iter()
            .filter(|s| !matches!(s.op, Op::Await { .. }))
            .map(|s| format!("{} ({})\n", s.op, s.cause))
            .collect()
    }

    #[test]
    fn nothing_changed_means_no_engine_operation() {
        let p = chain();
        let plan = up(&p, &converged(&p), &UpPlanOptions::default()).unwrap();
        assert_eq!(engine_ops(&plan), "");
    }

    #[test]
    fn a_change_recreates_the_service_and_restart_dependents() {
        let p = chain();
        let before = converged(&p);
        let mut p2 = p.clone();
        if let Some(api) = p2.services.get_mut("api") {
            api.environment.insert("X".into(), Some("2".into()));
        }
        let plan = up(&p2, &before, &UpPlanOptions::default()).unwrap();
        assert_eq!(
            engine_ops(&plan),
            "stop container p-api-1 (configuration changed)\n\
             rename container p-api-1 to 000000000000_p-api-1 (configuration changed)\n\
             create container p-api-1 with the anonymous volumes of 000000000000_p-api-1 (configuration changed)\n\
             remove container 000000000000_p-api-1 (configuration changed)\n\
             start container p-api-1 (configuration changed)\n\
             stop container p-web-1 (api was recreated)\n\
             rename container p-web-1 to 000000000000_p-web-1 (api was recreated)\n\
             create container p-web-1 with the anonymous volumes of 000000000000_p-web-1 (api was recreated)\n\
             remove container 000000000000_p-web-1 (api was recreated)\n\
             start container p-web-1 (api was recreated)\n"
        );
        let renew = UpPlanOptions {
            renew_anon_volumes: true,
            ..Default::default()
        };
        let plan = up(&p2, &before, &renew).unwrap();
        assert!(engine_ops(&plan).contains("create container p-api-1 (configuration changed)"));
        let keep = UpPlanOptions {
            no_recreate: true,
            ..Default::default()
        };
        assert_eq!(engine_ops(&up(&p2, &before, &keep).unwrap()), "");
    }

    #[test]
    fn start_waits_for_the_dependency_await() {
        let p = chain();
        let plan = up(&p, &Observed::default(), &UpPlanOptions::default()).unwrap();
        let text = plan.to_string();
        assert!(text.contains("await db service_started"), "{text}");
        assert!(text.contains("await api service_started"), "{text}");
        // web and worker both wait on the one await of api.
        assert_eq!(text.matches("await api").count(), 1, "{text}");
    }

    #[test]
    fn scale_up_adds_numbers_and_scale_down_removes_the_highest() {
        let mut p = project(&[("w", &[])]);
        let before = converged(&p);
        if let Some(w) = p.services.get_mut("w") {
            w.scale = Some(3);
        }
        let plan = up(&p, &before, &UpPlanOptions::default()).unwrap();
        assert_eq!(
            engine_ops(&plan),
            "create container p-w-2 (missing)\n\
             start container p-w-2 (missing)\n\
             create container p-w-3 (missing)\n\
             start container p-w-3 (missing)\n"
        );
        let three = converged(&p);
        if let Some(w) = p.services.get_mut("w") {
            w.scale = Some(1);
        }
        let plan = up(&p, &three, &UpPlanOptions::default()).unwrap();
        assert_eq!(
            engine_ops(&plan),
            "stop container p-w-2 (scaled down)\n\
             remove container p-w-2 (scaled down)\n\
             stop container p-w-3 (scaled down)\n\
             remove container p-w-3 (scaled down)\n"
        );
    }

    #[test]
    fn orphans_warn_or_go() {
        let p = project(&[("a", &[]), ("b", &[])]);
        let before = converged(&p);
        let only_a = project(&[("a", &[])]);
        let plan = up(&only_a, &before, &UpPlanOptions::default()).unwrap();
        assert_eq!(engine_ops(&plan), "");
        assert_eq!(
            plan.warnings,
            ["Found orphan containers ([p-b-1]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up."]
        );
        let remove = UpPlanOptions {
            remove_orphans: true,
            ..Default::default()
        };
        let plan = up(&only_a, &before, &remove).unwrap();
        assert_eq!(
            engine_ops(&plan),
            "stop container p-b-1 (orphan)\nremove container p-b-1 (orphan)\n"
        );
    }

    #[test]
    fn interrupted_runs_are_finished() {
        let p = chain();
        // Killed after the first containers were created: the rest is created, nothing redone.
        let mut partial = converged(&p);
        partial.containers.retain(|c| c.service == "db");
        let plan = up(&p, &partial, &UpPlanOptions::default()).unwrap();
        let ops = engine_ops(&plan);
        assert!(!ops.contains("p-db-1"), "{ops}");
        assert!(ops.contains("create container p-api-1 (missing)"), "{ops}");

        // Killed after the old container was set aside: it is replaced, inheriting its volumes.
        let mut aside = converged(&p);
        for c in &mut aside.containers {
            if c.service == "api" {
                c.name = "000000000000_p-api-1".into();
            }
        }
        let plan = up(&p, &aside, &UpPlanOptions::default()).unwrap();
        let ops = engine_ops(&plan);
        assert!(
            ops.starts_with(
                "stop container 000000000000_p-api-1 (configuration changed)\n\
                 create container p-api-1 with the anonymous volumes of 000000000000_p-api-1"
            ),
            "{ops}"
        );

        // Killed after the new container was created: the set-aside one is removed.
        let mut both = converged(&p);
        let mut old = both.containers[1].clone();
        old.name = "000000000000_p-api-1".into();
        old.config_hash = "old".into();
        both.containers.push(old);
        let plan = up(&p, &both, &UpPlanOptions::default()).unwrap();
        assert_eq!(
            engine_ops(&plan),
            "stop container 000000000000_p-api-1 (left over from an interrupted recreation)\n\
             remove container 000000000000_p-api-1 (left over from an interrupted recreation)\n"
        );
    }
}
