//! One label-filtered snapshot of a project's containers, networks and volumes.

use bollard::models::ContainerSummary;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
};
use bollard::Docker;
use std::collections::HashMap;

use super::engine::EngineError;
use super::labels;
use crate::graph::observed::{Observed, ObservedContainer, ObservedResource};

fn filters(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![labels::project_filter(project)])])
}

/// Lists every container of the project (running or not), with its raw summary.
pub async fn containers(
    docker: &Docker,
    project: &str,
) -> Result<Vec<ContainerSummary>, EngineError> {
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters(project))
        .build();
    docker
        .list_containers(Some(opts))
        .await
        .map_err(|e| EngineError::from_bollard("listing containers", e))
}

/// Lists every container that carries a compose project label, of any project.
pub async fn all_projects(docker: &Docker) -> Result<Vec<ContainerSummary>, EngineError> {
    let f = HashMap::from([("label".to_string(), vec![labels::PROJECT.to_string()])]);
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&f)
        .build();
    docker
        .list_containers(Some(opts))
        .await
        .map_err(|e| EngineError::from_bollard("listing containers", e))
}

/// Turns a container summary into what planning needs.
pub fn container(c: &ContainerSummary) -> ObservedContainer {
    let empty = HashMap::new();
    let l = c.labels.as_ref().unwrap_or(&empty);
    let get = |k: &str| l.get(k).cloned().unwrap_or_default();
    ObservedContainer {
        id: c.id.clone().unwrap_or_default(),
        name: c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_default(),
        service: get(labels::SERVICE),
        number: get(labels::NUMBER).parse().unwrap_or(0),
        config_hash: get(labels::CONFIG_HASH),
        image: get(labels::IMAGE),
        state: c.state.map(|s| s.to_string()).unwrap_or_default(),
        oneoff: get(labels::ONEOFF) == "True",
        depends_on: get(labels::DEPENDS_ON)
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.split(':').next().unwrap_or(s).to_string())
            .collect(),
    }
}

/// The snapshot: project containers (managed ones, with a config hash), and networks and
/// volumes that carry the project label or whose names are asked for.
pub async fn snapshot(
    docker: &Docker,
    project: &str,
    network_names: &[String],
    volume_names: &[String],
) -> Result<Observed, EngineError> {
    let (cs, nets, vols) = tokio::join!(
        containers(docker, project),
        docker.list_networks(Some(ListNetworksOptionsBuilder::default().build())),
        docker.list_volumes(Some(ListVolumesOptionsBuilder::default().build())),
    );
    let containers = cs?
        .iter()
        .filter(|c| {
            c.labels
                .as_ref()
                .is_some_and(|l| l.contains_key(labels::CONFIG_HASH))
        })
        .map(container)
        .collect();
    let nets = nets.map_err(|e| EngineError::from_bollard("listing networks", e))?;
    let networks = nets
        .into_iter()
        .filter_map(|n| {
            let name = n.name?;
            let l = n.labels.unwrap_or_default();
            let ours = l.get(labels::PROJECT).is_some_and(|p| p == project);
            (ours || network_names.contains(&name)).then(|| ObservedResource {
                name,
                project: l.get(labels::PROJECT).cloned(),
                key: l.get(labels::NETWORK).cloned(),
            })
        })
        .collect();
    let vols = vols.map_err(|e| EngineError::from_bollard("listing volumes", e))?;
    let volumes = vols
        .volumes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| {
            let l = v.labels;
            let ours = l.get(labels::PROJECT).is_some_and(|p| p == project);
            (ours || volume_names.contains(&v.name)).then(|| ObservedResource {
                name: v.name,
                project: l.get(labels::PROJECT).cloned(),
                key: l.get(labels::VOLUME).cloned(),
            })
        })
        .collect();
    Ok(Observed {
        containers,
        networks,
        volumes,
    })
}
