//! Which services a command works on: profiles enable services, naming a disabled service on the
//! command line enables its profiles, and a selection is the named services with everything they
//! depend on.

use indexmap::IndexMap;

use super::model::{Project, Service};

/// The active profiles plus those of each named service that they leave disabled (naming a
/// service enables its profiles, so services sharing them come along, as in docker compose).
pub fn with_named(
    active: Vec<String>,
    services: &IndexMap<String, Service>,
    named: &[String],
) -> Vec<String> {
    let mut out = active;
    for name in named {
        let Some(svc) = services.get(name) else {
            continue;
        };
        if !enabled(svc, &out) {
            out.extend(svc.profiles.iter().cloned());
        }
    }
    out
}

/// Whether `svc` is enabled by the `active` profiles (`*` enables every one).
pub fn enabled(svc: &Service, active: &[String]) -> bool {
    svc.profiles.is_empty()
        || active.iter().any(|p| p == "*")
        || svc.profiles.iter().any(|p| active.contains(p))
}

/// Keeps the `named` services and those they depend on, directly or not (every service when
/// none is named), then drops the resources no kept service uses.
pub fn select(project: &mut Project, named: &[String]) {
    if named.is_empty() {
        return;
    }
    let mut keep: Vec<String> = Vec::new();
    let mut todo: Vec<String> = named.to_vec();
    while let Some(name) = todo.pop() {
        if keep.contains(&name) {
            continue;
        }
        if let Some(svc) = project.services.get(&name) {
            todo.extend(svc.depends_on.keys().cloned());
            keep.push(name);
        }
    }
    project.services.retain(|k, _| keep.contains(k));
    super::prune(project);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(profiles: &[&str], deps: &[&str]) -> Service {
        let mut s = Service {
            profiles: profiles.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        };
        for d in deps {
            s.depends_on.insert(d.to_string(), Default::default());
        }
        s
    }

    #[test]
    fn naming_a_service_enables_its_profiles() {
        let mut services = IndexMap::new();
        services.insert("web".to_string(), svc(&[], &[]));
        services.insert("db".to_string(), svc(&["backend", "x"], &[]));
        services.insert("dbg".to_string(), svc(&["debug"], &[]));
        let active = with_named(vec![], &services, &["db".into(), "web".into()]);
        assert_eq!(active, vec!["backend", "x"]);
        let active = with_named(vec!["x".into()], &services, &["db".into()]);
        assert_eq!(active, vec!["x"]);
        assert!(enabled(&services["dbg"], &["*".to_string()]));
    }

    #[test]
    fn selection_follows_dependencies() {
        let mut p = Project::default();
        p.services.insert("web".into(), svc(&[], &["api"]));
        p.services.insert("api".into(), svc(&[], &["db"]));
        p.services.insert("db".into(), svc(&[], &[]));
        p.services.insert("other".into(), svc(&[], &[]));
        select(&mut p, &["web".into()]);
        let names: Vec<&String> = p.services.keys().collect();
        assert_eq!(names, ["web", "api", "db"]);
    }
}
