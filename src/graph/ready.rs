//! `--wait`: what each selected service's containers must reach once `up` or `start` ran:
//! running (healthy when they have a healthcheck), or exited 0 for services that others wait
//! for with `service_completed_successfully`.

use super::plan::{Op, Plan};
use super::reconcile::container_name;
use crate::parse::{Condition, Project};

/// Plans the waits of `--wait` for `services` (all when empty).
pub fn plan(project: &Project, services: &[String]) -> Plan {
    let completes = |name: &str| {
        project.services.values().any(|s| {
            s.depends_on
                .get(name)
                .is_some_and(|d| d.condition == Condition::ServiceCompletedSuccessfully)
        })
    };
    let mut plan = Plan::default();
    for (name, svc) in &project.services {
        if !services.is_empty() && !services.contains(name) {
            continue;
        }
        for n in 1..=svc.replicas() {
            plan.add(
                Op::AwaitContainer {
                    service: name.clone(),
                    name: container_name(&project.name, svc, n),
                    completed: completes(name),
                },
                vec![],
                "--wait",
            );
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{DependsOn, Service};

    #[test]
    fn ready_or_completed() {
        let mut p = Project {
            name: "p".into(),
            ..Default::default()
        };
        let mut web = Service {
            name: "web".into(),
            scale: Some(2),
            ..Default::default()
        };
        web.depends_on.insert(
            "migrate".into(),
            DependsOn {
                condition: Condition::ServiceCompletedSuccessfully,
                ..Default::default()
            },
        );
        let migrate = Service {
            name: "migrate".into(),
            ..Default::default()
        };
        p.services.insert("migrate".into(), migrate);
        p.services.insert("web".into(), web);
        assert_eq!(
            plan(&p, &[]).to_string(),
            "#0 await container p-migrate-1 to exit 0 (--wait)\n\
             #1 await container p-web-1 running or healthy (--wait)\n\
             #2 await container p-web-2 running or healthy (--wait)\n"
        );
        assert_eq!(plan(&p, &["web".to_string()]).steps.len(), 2);
    }
}
