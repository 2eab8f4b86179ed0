//! Pure planning: (project, observed state) to the plan of `up`, and labels to the plan of `down`.

use indexmap::IndexMap;
use std::collections::HashMap;

use super::hash;
use super::observed::{Observed, ObservedContainer};
use super::plan::{Op, Plan};
use super::secrets;
use super::stop::StopTimeouts;
use super::{Cycle, ServiceGraph};
use crate::parse::{name, Condition, MountKind, Project, Service};

/// What `up` was asked to do, beyond the project itself.
#[derive(Debug, Clone, Default)]
pub struct UpPlanOptions {
    /// Services to bring up (with their dependencies); empty means all.
    pub services: Vec<String>,
    pub remove_orphans: bool,
    /// Which existing containers are replaced.
    pub recreate: Recreate,
    /// Recreated containers get fresh anonymous volumes (`-V`).
    pub renew_anon_volumes: bool,
    /// Only the services named, not their dependencies.
    pub no_deps: bool,
    /// service -> id of the image it would run now; a container made from another is recreated.
    pub images: std::collections::HashMap<String, String>,
    pub no_start: bool,
    /// Create only the networks and volumes the selected services use (`run` before its container).
    pub resources_only: bool,
    /// Services whose networks and volumes are created too, without their containers (the
    /// service of a one-off container).
    pub resources_of: Vec<String>,
    /// `-t`: stop timeout in seconds for every container stopped, over `stop_grace_period`.
    pub timeout: Option<i64>,
    /// Images the engine does not have: pulled before the containers that use them.
    pub missing_images: Vec<String>,
    /// The user's folder of private secret files (chosen by the runtime).
    pub secrets_root: std::path::PathBuf,
    /// `service_healthy` gates run the dependency's healthcheck early (see [`super::probe`]).
    pub early_probe: bool,
    /// service -> its config hash, computed ahead ([`hash::services`]); the others are hashed
    /// while planning.
    pub config_hashes: HashMap<String, String>,
}

/// Which existing containers `up` replaces (`--force-recreate`, `--no-recreate`,
/// `--always-recreate-deps`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Recreate {
    /// Those whose configuration or image changed, or whose dependency (with `restart: true`,
    /// or a shared namespace or volumes) was recreated.
    #[default]
    Changed,
    /// As `Changed`, and every dependency of the services named on the command line.
    ChangedAndDependencies,
    /// All of them.
    Always,
    /// None of them, even changed.
    Never,
}

impl Recreate {
    /// From the flags (clap keeps `--no-recreate` apart from the two others; `--force-recreate`
    /// wins over `--always-recreate-deps`).
    pub fn from_flags(force: bool, never: bool, dependencies: bool) -> Self {
        match (force, never, dependencies) {
            (true, _, _) => Recreate::Always,
            (false, true, _) => Recreate::Never,
            (false, false, true) => Recreate::ChangedAndDependencies,
            (false, false, false) => Recreate::Changed,
        }
    }
}

pub use crate::parse::name::container as container_name;

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
    let selected = super::select(project, &opts.services, !opts.no_deps)?;
    let mut plan = Plan::default();
    let timeouts = StopTimeouts::of(project, opts.timeout);
    let mut with_resources = selected.clone();
    with_resources.extend(opts.resources_of.iter().cloned());

    let mut net_steps: IndexMap<&str, usize> = IndexMap::new();
    let mut vol_steps: IndexMap<&str, usize> = IndexMap::new();
    let used_networks: Vec<&str> = with_resources
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
    let used_volumes: Vec<&str> = with_resources
        .iter()
        .flat_map(|s| {
            project.services[s]
                .volumes
                .iter()
                .filter(|v| v.kind == MountKind::Volume)
                .filter_map(|v| v.source.as_deref())
        })
        .collect();
    for (key, vol) in &project.volumes {
        if vol.external || !used_volumes.contains(&key.as_str()) {
            continue;
        }
        if let Some(found) = observed.volume(&vol.name) {
            // Reused, as the reference does, with its warning when it is not this project's.
            match found.project.as_deref() {
                None => plan.warnings.push(format!(
                    "volume {:?} already exists but was not created by Docker Compose. Use \
                     `external: true` to use an existing volume",
                    vol.name
                )),
                Some(p) if p != project.name => plan.warnings.push(format!(
                    "volume {:?} already exists but was created for project {p:?} (expected \
                     {:?}). Use `external: true` to use an existing volume",
                    vol.name, project.name
                )),
                Some(_) => {}
            }
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
    // Containers stopped because a `restart: true` dependency is recreated, by service: they
    // start again after it (the reference restarts them; it does not recreate them).
    let mut restart_stops: IndexMap<String, Vec<usize>> = IndexMap::new();
    let mut pulls: IndexMap<String, usize> = IndexMap::new();
    let order = match opts.resources_only {
        true => vec![],
        false => topological(&graph, &selected),
    };
    // Each service's containers, found once: a per-service scan is quadratic in large projects.
    let mut by_service: HashMap<&str, Vec<&ObservedContainer>> = HashMap::new();
    for c in observed.containers.iter().filter(|c| !c.oneoff) {
        by_service.entry(c.service.as_str()).or_default().push(c);
    }
    for name in &order {
        let svc = &project.services[name.as_str()];
        let want = match opts.config_hashes.get(name.as_str()) {
            Some(h) => h.clone(),
            None => hash::service(svc),
        };
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
                            probe: opts
                                .early_probe
                                .then(|| project.services.get(dep.as_str()))
                                .flatten()
                                .and_then(|s| super::probe::early(s, d.condition)),
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

        let mut existing = by_service.remove(name.as_str()).unwrap_or_default();
        // The canonical name first, so that leftovers of an interrupted recreation lose.
        existing.sort_by_key(|c| {
            (
                c.number,
                c.name != container_name(&project.name, svc, c.number),
            )
        });
        let replicas = svc.replicas();
        let forced = if opts.recreate == Recreate::Always {
            Some("--force-recreate".to_string())
        } else if opts.recreate == Recreate::ChangedAndDependencies
            && !opts.services.is_empty()
            && !opts.services.contains(name)
        {
            Some("--always-recreate-deps".to_string())
        } else {
            // A shared namespace needs a new container; `restart: true` only a restart.
            shared_services(svc)
                .into_iter()
                .find(|d| recreated.contains(d))
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
            let restarted = restart_stops.get(name.as_str()).cloned();
            let (created, cause) = match current {
                Some(c) if forced.is_none() && (!changed || opts.recreate == Recreate::Never) => {
                    kept.push(&c.name);
                    if let Some(stops) = restarted.as_ref().filter(|_| c.running()) {
                        // Stopped while its dependency was recreated: started again after it.
                        let why = restart_cause(svc, &recreated);
                        let mut deps = dep_waits.clone();
                        deps.extend(stops);
                        svc_starts.push(plan.add(
                            Op::StartContainer {
                                service: name.clone(),
                                name: c.name.clone(),
                            },
                            deps,
                            why,
                        ));
                        continue;
                    }
                    if c.running() || opts.no_start {
                        svc_starts.push(plan.add(
                            Op::KeepContainer {
                                service: name.clone(),
                                name: c.name.clone(),
                                running: c.running(),
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
                    // Dependents with `restart: true` stop first, as the reference does.
                    let dependent_stops = stop_restart_dependents(
                        project,
                        observed,
                        &selected,
                        name,
                        &timeouts,
                        &mut plan,
                        &mut restart_stops,
                    );
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
                    let mut prev = dependent_stops;
                    if let Some(stops) = &restarted {
                        // Already stopped for a dependency's recreation.
                        prev.extend(stops);
                    } else if c.active() {
                        prev.push(plan.add(
                            Op::StopContainer {
                                name: c.name.clone(),
                                timeout: timeouts.get(name),
                            },
                            vec![],
                            cause.clone(),
                        ));
                    }
                    let aside = name::set_aside(&c.id, &cname);
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
            if let Some((mut deps, inherit, old)) = created {
                let image = svc.image_name(&project.name);
                if opts.missing_images.contains(&image) {
                    let pull = match pulls.get(&image) {
                        Some(i) => *i,
                        None => {
                            let i = plan.add(
                                Op::PullImage {
                                    image: image.clone(),
                                },
                                vec![],
                                "missing",
                            );
                            pulls.insert(image, i);
                            i
                        }
                    };
                    deps.push(pull);
                }
                let files = secrets::files(project, svc, &cname, &opts.secrets_root);
                if !files.is_empty() {
                    let w = plan.add(
                        Op::WriteSecretFiles {
                            container: cname.clone(),
                            files,
                        },
                        deps.clone(),
                        cause.clone(),
                    );
                    deps.push(w);
                }
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
                    timeout: timeouts.get(name),
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
                        timeout: timeouts.get(&o.service),
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

/// Stops the running containers of the services that depend on `recreated` with
/// `restart: true` (once per service); the steps the recreation must wait for.
fn stop_restart_dependents(
    project: &Project,
    observed: &Observed,
    selected: &[String],
    recreated: &str,
    timeouts: &StopTimeouts,
    plan: &mut Plan,
    restart_stops: &mut IndexMap<String, Vec<usize>>,
) -> Vec<usize> {
    let mut steps = Vec::new();
    for dependent in project.services.values() {
        let restarts = dependent
            .depends_on
            .get(recreated)
            .is_some_and(|d| d.restart);
        if !restarts
            || !selected.contains(&dependent.name)
            || restart_stops.contains_key(&dependent.name)
        {
            continue;
        }
        let mut stops = Vec::new();
        for c in observed
            .containers
            .iter()
            .filter(|c| !c.oneoff && c.service == dependent.name && c.running())
        {
            stops.push(plan.add(
                Op::StopContainer {
                    name: c.name.clone(),
                    timeout: timeouts.get(&dependent.name),
                },
                vec![],
                format!("{recreated} is recreated"),
            ));
        }
        steps.extend(&stops);
        restart_stops.insert(dependent.name.clone(), stops);
    }
    steps
}

/// Why a kept container is started again: the `restart: true` dependency that was recreated.
fn restart_cause(svc: &Service, recreated: &[String]) -> String {
    svc.depends_on
        .iter()
        .find(|(d, dep)| dep.restart && recreated.contains(*d))
        .map(|(d, _)| format!("{d} was recreated"))
        .unwrap_or_else(|| "restart".into())
}

pub(crate) fn shared_services(svc: &Service) -> Vec<String> {
    svc.implicit_dependencies()
        .into_iter()
        .map(|d| d.service)
        .collect()
}

/// `selected` with every service after its dependencies (file order otherwise).
pub(crate) fn topological(graph: &ServiceGraph, selected: &[String]) -> Vec<String> {
    use std::collections::HashSet;
    fn visit<'a>(
        g: &'a ServiceGraph,
        s: &'a str,
        sel: &HashSet<&str>,
        done: &mut HashSet<&'a str>,
        out: &mut Vec<String>,
    ) {
        if !sel.contains(s) || !done.insert(s) {
            return;
        }
        for d in g.dependencies(s) {
            visit(g, d, sel, done, out);
        }
        out.push(s.to_string());
    }
    let sel: HashSet<&str> = selected.iter().map(String::as_str).collect();
    let (mut done, mut out) = (HashSet::new(), Vec::new());
    for s in selected {
        visit(graph, s, &sel, &mut done, &mut out);
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
    /// How long each container gets to stop.
    pub timeouts: StopTimeouts,
}

/// Which images `down --rmi` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveImages {
    /// Images built without a custom name (`project-service`).
    Local,
    /// Every image the services use.
    All,
}

/// What `down` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct DownRequest {
    /// The project comes from its files (else it is known by its labels alone).
    pub has_model: bool,
    pub volumes: bool,
    pub remove_orphans: bool,
    pub stop_only: bool,
    pub timeout: Option<i64>,
    pub images: Option<RemoveImages>,
}

/// What `down` removes: from the model when there is one, else from the engine's labels.
pub fn down_target(project: &Project, observed: &Observed, request: &DownRequest) -> DownTarget {
    let mut target = DownTarget {
        remove_orphans: request.remove_orphans,
        anonymous_volumes: request.volumes,
        stop_only: request.stop_only,
        timeouts: StopTimeouts::of(project, request.timeout),
        ..Default::default()
    };
    if request.has_model {
        for (name, s) in project
            .services
            .iter()
            .chain(project.disabled_services.iter())
        {
            target
                .services
                .insert(name.clone(), s.depends_on.keys().cloned().collect());
        }
        target.networks = project
            .networks
            .values()
            .filter(|n| !n.external)
            .map(|n| n.name.clone())
            .collect();
        if request.volumes {
            target.volumes = project
                .volumes
                .values()
                .filter(|v| !v.external)
                .map(|v| v.name.clone())
                .collect();
        }
        target.images = match request.images {
            None => vec![],
            Some(mode) => {
                let mut names: Vec<String> = project
                    .services
                    .values()
                    .filter(|s| mode == RemoveImages::All || s.image.is_none())
                    .map(|s| s.image_name(&project.name))
                    .collect();
                names.dedup();
                names
            }
        };
    } else {
        target.images = match request.images {
            None => vec![],
            Some(RemoveImages::Local) => observed
                .containers
                .iter()
                .map(|c| name::built_image(&project.name, &c.service))
                .collect(),
            Some(RemoveImages::All) => observed
                .containers
                .iter()
                .map(|c| c.image.clone())
                .collect(),
        };
        target.images.sort();
        target.images.dedup();
        target.images.retain(|i| !i.is_empty());
        target.networks = observed
            .networks
            .iter()
            .filter(|n| n.project.as_deref() == Some(&project.name))
            .map(|n| n.name.clone())
            .collect();
        target.networks.sort();
        target.networks.dedup();
        if request.volumes {
            target.volumes = observed
                .volumes
                .iter()
                .filter(|v| v.project.as_deref() == Some(&project.name))
                .map(|v| v.name.clone())
                .collect();
        }
    }
    target
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
            // Stopped ones too, as the reference (the engine says "not modified").
            let stop = plan.add(
                Op::StopContainer {
                    name: c.name.clone(),
                    timeout: target.timeouts.get(&c.service),
                },
                wait.clone(),
                "down",
            );
            if target.stop_only {
                mine.push(stop);
                continue;
            }
            let rm = plan.add(
                Op::RemoveContainer {
                    name: c.name.clone(),
                    volumes: target.anonymous_volumes,
                },
                vec![stop],
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
    // Every network of the name: a race (or another tool) may have made two.
    for n in &target.networks {
        for found in observed.networks.iter().filter(|o| &o.name == n) {
            let op = Op::RemoveNetwork {
                name: n.clone(),
                id: found.id.clone(),
            };
            plan.add(op, all.clone(), "down");
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
    use crate::parse::DependsOn;

    fn project(services: &[(&str, &[&str])]) -> Project {
        let mut p = crate::graph::fixture::project();
        for (name, deps) in services {
            let deps: Vec<_> = deps.iter().map(|d| (*d, DependsOn::default())).collect();
            p.services.insert(
                name.to_string(),
                crate::graph::fixture::service(name, &deps),
            );
        }
        p
    }

    #[test]
    fn a_volume_of_another_project_is_reused_with_the_references_warning() {
        let mut p = project(&[("web", &[])]);
        let web = p.services.get_mut("web").unwrap();
        for key in ["a", "b", "c"] {
            web.volumes.push(crate::parse::ServiceVolume {
                kind: crate::parse::MountKind::Volume,
                source: Some(key.into()),
                target: format!("/{key}"),
                ..Default::default()
            });
            p.volumes.insert(
                key.into(),
                crate::parse::Volume {
                    name: format!("shared-{key}"),
                    ..Default::default()
                },
            );
        }
        let vol = |key: &str, project: Option<&str>| super::super::observed::ObservedResource {
            id: format!("shared-{key}"),
            name: format!("shared-{key}"),
            project: project.map(str::to_string),
            key: None,
        };
        let observed = Observed {
            volumes: vec![vol("a", Some("q")), vol("b", None), vol("c", Some("p"))],
            ..Default::default()
        };
        let plan = up(&p, &observed, &UpPlanOptions::default()).unwrap();
        assert!(!plan
            .steps
            .iter()
            .any(|s| matches!(s.op, Op::CreateVolume { .. })));
        assert_eq!(
            plan.warnings,
            [
                "volume \"shared-a\" already exists but was created for project \"q\" (expected \"p\"). Use `external: true` to use an existing volume",
                "volume \"shared-b\" already exists but was not created by Docker Compose. Use `external: true` to use an existing volume",
            ]
        );
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
            plan.steps
                .iter()
                .all(|s| matches!(s.op, Op::Await { .. } | Op::KeepContainer { .. })),
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
    #[test]
    fn down_removes_every_network_of_the_name_by_id() {
        let net = |id: &str| super::super::observed::ObservedResource {
            id: id.into(),
            name: "p_default".into(),
            project: Some("p".into()),
            ..Default::default()
        };
        let observed = Observed {
            networks: vec![net("n1"), net("n2")],
            ..Default::default()
        };
        let p = Project {
            name: "p".into(),
            ..Default::default()
        };
        for has_model in [false, true] {
            let mut p = p.clone();
            if has_model {
                p.networks.insert(
                    "default".into(),
                    crate::parse::Network {
                        name: "p_default".into(),
                        ..Default::default()
                    },
                );
            }
            let request = DownRequest {
                has_model,
                ..Default::default()
            };
            let plan = down(&down_target(&p, &observed, &request), &observed).unwrap();
            let ids: Vec<&str> = plan
                .steps
                .iter()
                .filter_map(|s| match &s.op {
                    Op::RemoveNetwork { name, id } if name == "p_default" => Some(id.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(ids, ["n1", "n2"], "has_model {has_model}");
        }
    }

    #[test]
    fn down_without_a_model_goes_by_labels() {
        let p = Project {
            name: "p".into(),
            ..Default::default()
        };
        let observed = Observed {
            containers: vec![ObservedContainer {
                name: "p-web-1".into(),
                service: "web".into(),
                number: 1,
                image: "sha256:abc".into(),
                state: "running".into(),
                ..Default::default()
            }],
            networks: vec![super::super::observed::ObservedResource {
                name: "p_default".into(),
                project: Some("p".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let request = DownRequest {
            images: Some(RemoveImages::Local),
            timeout: Some(3),
            ..Default::default()
        };
        let target = down_target(&p, &observed, &request);
        assert_eq!(target.networks, ["p_default"]);
        assert_eq!(target.images, ["p-web"]);
        let plan = down(&target, &observed).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 stop container p-web-1 within 3s (down)\n\
             #1 remove container p-web-1 <- #0 (down)\n\
             #2 remove network p_default <- #1 (down)\n\
             #3 remove image p-web <- #1 (down --rmi)\n"
        );
    }

    #[test]
    fn a_missing_image_is_pulled_once_before_its_containers() {
        let mut p = project(&[("a", &[]), ("b", &[])]);
        p.services["b"].scale = Some(2);
        let opts = UpPlanOptions {
            missing_images: vec!["img".into()],
            no_start: true,
            ..Default::default()
        };
        let plan = up(&p, &Observed::default(), &opts).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 create network p_default (missing)\n\
             #1 pull image img (missing)\n\
             #2 create container p-a-1 <- #0,#1 (missing)\n\
             #3 create container p-b-1 <- #0,#1 (missing)\n\
             #4 create container p-b-2 <- #0,#1 (missing)\n"
        );
    }

    #[test]
    fn stop_timeouts_follow_the_service_not_a_name_prefix() {
        // `web` comes first and its containers' names prefix those of `web-api`.
        let mut p = project(&[("web", &[]), ("web-api", &[])]);
        let grace = |s: i64| Some(crate::parse::units::Duration(s * 1_000_000_000));
        p.services["web"].stop_grace_period = grace(1);
        p.services["web-api"].stop_grace_period = grace(30);
        let c = |name: &str, svc: &str| ObservedContainer {
            name: name.into(),
            service: svc.into(),
            number: 1,
            state: "running".into(),
            ..Default::default()
        };
        let observed = Observed {
            containers: vec![c("p-web-1", "web"), c("p-web-api-1", "web-api")],
            ..Default::default()
        };
        let target = DownTarget {
            services: [("web".to_string(), vec![]), ("web-api".to_string(), vec![])]
                .into_iter()
                .collect(),
            stop_only: true,
            timeouts: StopTimeouts::of(&p, None),
            ..Default::default()
        };
        let plan = down(&target, &observed).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 stop container p-web-api-1 within 30s (down)\n\
             #1 stop container p-web-1 within 1s (down)\n"
        );
        // `-t` wins over both.
        let forced = DownTarget {
            timeouts: StopTimeouts::of(&p, Some(0)),
            ..target
        };
        let plan = down(&forced, &observed).unwrap();
        assert!(
            plan.steps.iter().all(|s| matches!(
                s.op,
                Op::StopContainer {
                    timeout: Some(0),
                    ..
                }
            )),
            "{plan}"
        );
        // A recreation stops the old container with its own service's grace period.
        let mut changed = p.clone();
        changed.services["web-api"]
            .environment
            .insert("X".into(), Some("1".into()));
        let mut before = observed.clone();
        for c in &mut before.containers {
            c.id = format!("{:0>64}", c.name.len());
            c.config_hash = hash::service(&p.services[c.service.as_str()]);
        }
        let plan = up(&changed, &before, &UpPlanOptions::default()).unwrap();
        assert!(
            plan.to_string()
                .contains("stop container p-web-api-1 within 30s (configuration changed)"),
            "{plan}"
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
            .filter(|s| !matches!(s.op, Op::Await { .. } | Op::KeepContainer { .. }))
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
            // As the reference: the `restart: true` dependent keeps its container; it is
            // stopped before and started after.
            "stop container p-web-1 (api is recreated)\n\
             stop container p-api-1 (configuration changed)\n\
             rename container p-api-1 to 000000000000_p-api-1 (configuration changed)\n\
             create container p-api-1 with the anonymous volumes of 000000000000_p-api-1 (configuration changed)\n\
             remove container 000000000000_p-api-1 (configuration changed)\n\
             start container p-api-1 (configuration changed)\n\
             start container p-web-1 (api was recreated)\n"
        );
        let renew = UpPlanOptions {
            renew_anon_volumes: true,
            ..Default::default()
        };
        let plan = up(&p2, &before, &renew).unwrap();
        assert!(engine_ops(&plan).contains("create container p-api-1 (configuration changed)"));
        let keep = UpPlanOptions {
            recreate: Recreate::Never,
            ..Default::default()
        };
        assert_eq!(engine_ops(&up(&p2, &before, &keep).unwrap()), "");
    }

    #[test]
    fn recreate_policy_from_flags() {
        assert_eq!(Recreate::from_flags(false, false, false), Recreate::Changed);
        assert_eq!(Recreate::from_flags(true, false, true), Recreate::Always);
        assert_eq!(Recreate::from_flags(false, true, false), Recreate::Never);
        assert_eq!(
            Recreate::from_flags(false, false, true),
            Recreate::ChangedAndDependencies
        );
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
                "stop container p-web-1 (api is recreated)\n\
                 stop container 000000000000_p-api-1 (configuration changed)\n\
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
