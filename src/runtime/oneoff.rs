//! One-off containers (`run`): dependencies brought up and waited for, then a container named
//! `project-service-run-<12 hex>` with the one-off labels, attached or in the background.

use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use std::sync::Arc;

use super::engine::EngineError;
use super::{attach, convert, events, labels, wait, Error, Runtime, UpOptions};
use crate::graph::reconcile::UpPlanOptions;
use crate::graph::ServiceGraph;
use crate::parse::{Condition, Project, Service};

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
        let svc = &run.service;
        if run.deps && !svc.depends_on.is_empty() {
            let graph = ServiceGraph::of(&project)?;
            let direct: Vec<String> = svc.depends_on.keys().cloned().collect();
            let opts = UpOptions {
                plan: UpPlanOptions {
                    services: graph.with_dependencies(&direct),
                    ..Default::default()
                },
                ..Default::default()
            };
            self.up(project.clone(), &opts).await?;
            let hub = events::Hub::start(&self.docker, &project.name);
            for (dep, d) in &svc.depends_on {
                let target = match d.condition {
                    Condition::ServiceStarted => continue,
                    Condition::ServiceHealthy => wait::Target::Healthy,
                    Condition::ServiceCompletedSuccessfully => wait::Target::Completed,
                };
                let Some(dsvc) = project.services.get(dep) else {
                    continue;
                };
                for n in 1..=dsvc.replicas() {
                    let cname = crate::graph::reconcile::container_name(&project.name, dsvc, n);
                    wait::container(&self.docker, &hub, &cname, dep, target).await?;
                }
            }
        }
        // The networks and volumes of the one-off container itself, even without dependencies.
        let own = UpOptions {
            plan: UpPlanOptions {
                services: vec![svc.name.clone()],
                no_deps: true,
                resources_only: true,
                remove_orphans: run.remove_orphans,
                ..Default::default()
            },
            ..Default::default()
        };
        self.up(project.clone(), &own).await?;
        let slug = slug();
        let name = run
            .name
            .clone()
            .unwrap_or_else(|| format!("{}-{}-run-{}", project.name, svc.name, &slug[..12]));
        let image = svc.image_name(&project.name);
        let image_id = self
            .docker
            .inspect_image(&image)
            .await
            .map_err(|e| EngineError::from_bollard(&format!("inspecting image {image}"), e))?
            .id
            .unwrap_or_default();
        let mut spec = convert::container(&project, svc, 1, &image_id);
        if let Some(l) = spec.body.labels.as_mut() {
            l.insert(labels::ONEOFF.into(), "True".into());
            l.insert(labels::SLUG.into(), slug.clone());
        }
        spec.body.attach_stdin = Some(run.stdin && !run.detach);
        spec.body.open_stdin = Some(run.stdin && !run.detach);
        spec.body.stdin_once = Some(run.stdin && !run.detach);
        let service_name = &svc.name;
        let fix = |aliases: &mut Option<Vec<String>>| {
            if run.use_aliases {
                if let Some(a) = aliases.as_mut() {
                    a.retain(|x| x != service_name);
                    a.insert(0, service_name.clone());
                }
            } else {
                *aliases = None;
            }
        };
        if let Some(eps) = spec
            .body
            .networking_config
            .as_mut()
            .and_then(|n| n.endpoints_config.as_mut())
        {
            for ep in eps.values_mut() {
                fix(&mut ep.aliases);
            }
        }
        for (_, ep) in spec.extra_networks.iter_mut() {
            fix(&mut ep.aliases);
        }
        let opts = CreateContainerOptionsBuilder::default().name(&name).build();
        self.docker
            .create_container(Some(opts), spec.body)
            .await
            .map_err(|e| EngineError::from_bollard(&format!("creating container {name}"), e))?;
        for (net, ep) in spec.extra_networks {
            let req = bollard::models::NetworkConnectRequest {
                container: name.clone(),
                endpoint_config: Some(ep),
            };
            self.docker.connect_network(&net, req).await.map_err(|e| {
                EngineError::from_bollard(&format!("connecting {name} to network {net}"), e)
            })?;
        }
        if run.detach {
            self.docker
                .start_container(&name, None)
                .await
                .map_err(|e| EngineError::from_bollard(&format!("starting container {name}"), e))?;
            return Ok((name, 0));
        }
        let code = attach::run_attached(&self.docker, &name, run.stdin).await;
        if run.rm {
            let opts = RemoveContainerOptionsBuilder::default()
                .force(true)
                .v(true)
                .build();
            let _ = self.docker.remove_container(&name, Some(opts)).await;
        }
        Ok((name, code?))
    }
}
