//! The plan of `run`: the dependencies brought up and awaited, the one-off container's own
//! networks, volumes and secret files, then the container itself (started here when detached;
//! an attached one is started by the session that attaches to it).

use std::collections::HashMap;

use super::observed::Observed;
use super::plan::{Op, Plan};
use super::reconcile::{self, UpPlanOptions};
use super::{secrets, Cycle};
use crate::parse::{Condition, Project};

/// What `run` asks for. The project holds the service as the command line changed it.
#[derive(Debug, Clone, Default)]
pub struct OneOffPlan {
    pub service: String,
    /// The container's name (`--name`, else `project-service-run-<slug>`).
    pub name: String,
    pub slug: String,
    /// Bring up and await the services it depends on.
    pub deps: bool,
    pub detach: bool,
    /// Standard input stays open (attached runs).
    pub stdin: bool,
    pub use_aliases: bool,
    pub remove_orphans: bool,
    /// service -> id of the image it would run now (see [`UpPlanOptions::images`]).
    pub images: HashMap<String, String>,
    /// Images the engine does not have (see [`UpPlanOptions::missing_images`]).
    pub missing_images: Vec<String>,
    /// See [`UpPlanOptions::secrets_root`].
    pub secrets_root: std::path::PathBuf,
    /// See [`UpPlanOptions::early_probe`].
    pub early_probe: bool,
}

const CAUSE: &str = "one-off container";

/// Plans `run`; a service that is not in the project plans nothing.
pub fn plan(project: &Project, observed: &Observed, run: &OneOffPlan) -> Result<Plan, Cycle> {
    let Some(svc) = project.services.get(&run.service) else {
        return Ok(Plan::default());
    };
    let direct: Vec<String> = if run.deps {
        svc.depends_on.keys().cloned().collect()
    } else {
        vec![]
    };
    let mut opts = UpPlanOptions {
        remove_orphans: run.remove_orphans,
        images: run.images.clone(),
        missing_images: run.missing_images.clone(),
        secrets_root: run.secrets_root.clone(),
        early_probe: run.early_probe,
        no_deps: true,
        ..Default::default()
    };
    if direct.is_empty() {
        opts.services = vec![run.service.clone()];
        opts.resources_only = true;
    } else {
        opts.services = super::select(project, &direct, true)?;
        opts.resources_of = vec![run.service.clone()];
    }
    let mut plan = reconcile::up(project, observed, &opts)?;
    // The dependencies and resources first, then the awaits and the container.
    let before: Vec<usize> = (0..plan.steps.len()).collect();
    let mut create_deps = before.clone();
    for dep in &direct {
        let condition = svc.depends_on[dep].condition;
        if condition == Condition::ServiceStarted || !project.services.contains_key(dep) {
            continue;
        }
        create_deps.push(
            plan.add(
                Op::Await {
                    service: dep.clone(),
                    condition,
                    probe: run
                        .early_probe
                        .then(|| project.services.get(dep))
                        .flatten()
                        .and_then(|d| super::probe::early(d, condition)),
                },
                before.clone(),
                format!("{} depends on it", run.service),
            ),
        );
    }
    let files = secrets::files(project, svc, &run.name, &run.secrets_root);
    if !files.is_empty() {
        create_deps.push(plan.add(
            Op::WriteSecretFiles {
                container: run.name.clone(),
                files,
            },
            before.clone(),
            CAUSE,
        ));
    }
    let create = plan.add(
        Op::CreateOneOff {
            service: run.service.clone(),
            name: run.name.clone(),
            slug: run.slug.clone(),
            stdin: run.stdin && !run.detach,
            use_aliases: run.use_aliases,
        },
        create_deps,
        CAUSE,
    );
    if run.detach {
        plan.add(
            Op::StartContainer {
                service: run.service.clone(),
                name: run.name.clone(),
            },
            vec![create],
            CAUSE,
        );
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{DependsOn, FileObject, FileRef};

    fn project() -> Project {
        let mut p = crate::graph::fixture::project();
        let db = crate::graph::fixture::service("db", &[]);
        let healthy = DependsOn {
            condition: Condition::ServiceHealthy,
            ..Default::default()
        };
        let mut app = crate::graph::fixture::service("app", &[("db", healthy)]);
        app.secrets.push(FileRef {
            source: "token".into(),
            ..Default::default()
        });
        p.secrets.insert(
            "token".into(),
            FileObject {
                content: Some("s3cret".into()),
                ..Default::default()
            },
        );
        p.services.insert("db".into(), db);
        p.services.insert("app".into(), app);
        p
    }

    fn run(deps: bool, detach: bool) -> OneOffPlan {
        OneOffPlan {
            service: "app".into(),
            name: "p-app-run-0123456789ab".into(),
            slug: "0123456789ab".into(),
            deps,
            detach,
            stdin: true,
            ..Default::default()
        }
    }

    #[test]
    fn fresh_project_with_dependencies() {
        let plan = plan(&project(), &Observed::default(), &run(true, false)).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 create network p_default (missing)\n\
             #1 create container p-db-1 <- #0 (missing)\n\
             #2 start container p-db-1 <- #1 (missing)\n\
             #3 await db service_healthy <- #0,#1,#2 (app depends on it)\n\
             #4 write 1 secret files of p-app-run-0123456789ab <- #0,#1,#2 (one-off container)\n\
             #5 create one-off container p-app-run-0123456789ab <- #0,#1,#2,#3,#4 (one-off container)\n"
        );
        assert!(!format!("{plan:?}").contains("s3cret"), "the value leaks");
    }

    #[test]
    fn no_deps_detached_creates_only_its_resources_and_starts() {
        let plan = plan(&project(), &Observed::default(), &run(false, true)).unwrap();
        assert_eq!(
            plan.to_string(),
            "#0 create network p_default (missing)\n\
             #1 write 1 secret files of p-app-run-0123456789ab <- #0 (one-off container)\n\
             #2 create one-off container p-app-run-0123456789ab <- #0,#1 (one-off container)\n\
             #3 start container p-app-run-0123456789ab <- #2 (one-off container)\n"
        );
        let Op::CreateOneOff { stdin, .. } = &plan.steps[2].op else {
            panic!("{plan}")
        };
        assert!(!stdin, "a detached run has no standard input");
    }
}
