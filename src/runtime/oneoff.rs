//! One-off containers (`run`): planned by [`crate::graph::oneoff`] (dependencies brought up and
//! awaited, secret files, the container named `project-service-run-<12 hex>`), then attached to
//! or left in the background.

use std::sync::Arc;

use super::{attach, events, Error, Runtime};
use crate::graph::oneoff::{self, OneOffPlan};
use crate::graph::plan::{Op, Plan};
use crate::parse::{Project, Service};

/// How the one-off container runs.
#[derive(Debug, Clone, Default)]
pub struct OneOff {
    /// The service, already changed by the command line (command, env, ports...).
    pub service: Service,
    /// `--name`, else `project-service-run-<slug>`.
    pub name: Option<String>,
    /// Start and wait for the dependencies.
    pub deps: bool,
    pub detach: bool,
    /// Remove the container (and its anonymous volumes) when it exits.
    pub rm: bool,
    /// Copy standard input into the container.
    pub stdin: bool,
    /// Keep the service's network aliases.
    pub use_aliases: bool,
    /// Remove the containers of services no longer in the file first.
    pub remove_orphans: bool,
}

/// A random 64-hex slug, as the reference's one-off containers carry.
fn slug() -> String {
    use sha2::{Digest, Sha256};
    let seed = format!(
        "{}-{}-{:?}",
        std::process::id(),
        events::now_nanos(),
        std::thread::current().id()
    );
    hex::encode(Sha256::digest(seed.as_bytes()))
}

impl Runtime {
    /// Runs a one-off container; returns its name and (attached) its exit code.
    pub async fn run_oneoff(
        &self,
        project: Arc<Project>,
        run: &OneOff,
    ) -> Result<(String, i64), Error> {
        // The project as this run sees it: the service changed by the command line.
        let mut changed = (*project).clone();
        changed
            .services
            .insert(run.service.name.clone(), run.service.clone());
        let project = Arc::new(changed);
        let slug = slug();
        let name = run.name.clone().unwrap_or_else(|| {
            format!("{}-{}-run-{}", project.name, run.service.name, &slug[..12])
        });
        let observed = self.observe_for_up(&project).await?;
        let request = OneOffPlan {
            service: run.service.name.clone(),
            name: name.clone(),
            slug,
            deps: run.deps,
            detach: run.detach,
            stdin: run.stdin,
            use_aliases: run.use_aliases,
            remove_orphans: run.remove_orphans,
            images: self.image_ids(&project).await,
            missing_images: Vec::new(),
        };
        let mut request = request;
        request.missing_images = self.missing_images(&project, &request.images);
        let plan = oneoff::plan(&project, &observed, &request)?;
        self.execute(project.clone(), &plan, false).await?;
        if run.detach {
            return Ok((name, 0));
        }
        let code = attach::run_attached(self.engine.as_ref(), &name, run.stdin).await;
        if run.rm {
            let mut rm = Plan::default();
            rm.add(
                Op::RemoveContainer {
                    name: name.clone(),
                    volumes: true,
                },
                vec![],
                "run --rm",
            );
            // Quietly, as the reference: the container's output was the last thing shown.
            let _ = self.quiet().execute(project, &rm, false).await;
        }
        Ok((name, code?))
    }
}
