//! One-off containers (`run`): planned by [`crate::graph::oneoff`] (dependencies brought up and
//! awaited, secret files, the container named `project-service-run-<12 hex>`), then attached to
//! or left in the background.

use std::sync::Arc;

use super::{attach, events, EngineError, Error, ProjectLock, Runtime};
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
    /// `service_healthy` dependencies are probed early (`RCOMPOSE_EARLY_PROBE`).
    pub early_probe: bool,
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
    /// Runs a one-off container; returns its name and (attached) its exit code. `lock` (the
    /// project's) is held while resources are created and released before the container runs;
    /// `before_attach` is called once the container is created, before it owns the terminal
    /// (the progress view is left there).
    pub async fn run_oneoff(
        &self,
        project: Arc<Project>,
        run: &OneOff,
        lock: Option<ProjectLock>,
        before_attach: impl FnOnce(),
    ) -> Result<(String, i64), Error> {
        // The project as this run sees it: the service changed by the command line.
        let mut changed = (*project).clone();
        changed
            .services
            .insert(run.service.name.clone(), run.service.clone());
        let project = Arc::new(changed);
        let slug = slug();
        let name = run.name.clone().unwrap_or_else(|| {
            crate::parse::name::oneoff_container(&project.name, &run.service.name, &slug)
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
            secrets_root: super::private::secrets_root()?,
            early_probe: run.early_probe,
        };
        let mut request = request;
        request.missing_images = self.missing_images(&project, &request.images);
        let plan = oneoff::plan(&project, &observed, &request)?;
        super::unset_secret(&plan)?;
        let executed = tokio::select! {
            r = self.execute(project.clone(), &plan, false) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        };
        match executed {
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                self.sweep_secrets(&project.name).await;
                return Err(e);
            }
            None => {
                // Interrupted before the container ran: a `--rm` one is not left behind.
                if run.rm {
                    let _ = self.engine.remove_container(&name, true).await;
                }
                self.sweep_secrets(&project.name).await;
                return Err(Error::Interrupted);
            }
        }
        drop(lock);
        before_attach();
        if run.detach {
            return Ok((name, 0));
        }
        let code = self.attach_oneoff(&name, run.stdin).await;
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

    /// The one-off container attached until it ends. Ctrl-C, when it reaches rcompose (no
    /// terminal in raw mode), is passed on to the container as the reference's signal proxy
    /// does: SIGINT first, SIGKILL on the next.
    async fn attach_oneoff(&self, name: &str, stdin: bool) -> Result<i64, EngineError> {
        let engine = self.engine.as_ref();
        let attached = attach::run_attached(engine, name, stdin);
        tokio::pin!(attached);
        let mut interrupts = 0;
        loop {
            tokio::select! {
                code = &mut attached => return code,
                _ = tokio::signal::ctrl_c() => {
                    interrupts += 1;
                    let signal = if interrupts == 1 { "SIGINT" } else { "SIGKILL" };
                    let _ = engine.kill_container(name, signal).await;
                }
            }
        }
    }
}
