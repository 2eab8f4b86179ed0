//! One label-filtered snapshot of a project's containers, networks and volumes.

use super::engine::{ContainerSummary, Engine, EngineError};
use super::labels;
use super::prefetch::Prefetched;
use crate::graph::observed::{Observed, ObservedContainer, ObservedResource};

/// Lists every container of the project (running or not).
pub(super) async fn containers(
    engine: &dyn Engine,
    project: &str,
) -> Result<Vec<ContainerSummary>, EngineError> {
    engine
        .list_containers(&labels::project_filter(project))
        .await
}

/// Lists every container that carries a compose project label, of any project.
pub(super) async fn all_projects(
    engine: &dyn Engine,
) -> Result<Vec<ContainerSummary>, EngineError> {
    engine.list_containers(labels::PROJECT).await
}

/// Turns a container summary into what planning needs.
pub(super) fn container(c: &ContainerSummary) -> ObservedContainer {
    let get = |k: &str| c.labels.get(k).cloned().unwrap_or_default();
    ObservedContainer {
        id: c.id.clone(),
        name: c.name.clone(),
        service: get(labels::SERVICE),
        number: get(labels::NUMBER).parse().unwrap_or(0),
        config_hash: get(labels::CONFIG_HASH),
        image: get(labels::IMAGE),
        state: c.state.as_str().into(),
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
pub(super) async fn snapshot(
    engine: &dyn Engine,
    project: &str,
    network_names: &[String],
    volume_names: &[String],
) -> Result<Observed, EngineError> {
    snapshot_with(engine, project, network_names, volume_names, None).await
}

/// [`snapshot`] from the lists asked for early, when there are some.
pub(super) async fn snapshot_with(
    engine: &dyn Engine,
    project: &str,
    network_names: &[String],
    volume_names: &[String],
    early: Option<Prefetched>,
) -> Result<Observed, EngineError> {
    let (cs, nets, vols) = match early {
        Some(early) => early.everything(engine).await,
        None => {
            tokio::join!(
                containers(engine, project),
                engine.list_networks(),
                engine.list_volumes(),
            )
        }
    };
    let containers = cs?
        .iter()
        .filter(|c| c.labels.contains_key(labels::CONFIG_HASH))
        .map(container)
        .collect();
    let pick = |list: Vec<super::engine::ResourceSummary>, names: &[String], key: &str| {
        list.into_iter()
            .filter_map(|r| {
                let ours = r.labels.get(labels::PROJECT).is_some_and(|p| p == project);
                (ours || names.contains(&r.name)).then(|| ObservedResource {
                    project: r.labels.get(labels::PROJECT).cloned(),
                    key: r.labels.get(key).cloned(),
                    id: r.id,
                    name: r.name,
                })
            })
            .collect()
    };
    Ok(Observed {
        containers,
        networks: pick(nets?, network_names, labels::NETWORK),
        volumes: pick(vols?, volume_names, labels::VOLUME),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::engine::fake::{service_labels, FakeContainer, FakeEngine};
    use std::collections::HashMap;

    #[tokio::test]
    async fn snapshot_keeps_the_projects_own_and_the_named_resources() {
        let engine = FakeEngine::default();
        let mut labels = service_labels("p", "web", 2);
        labels.insert(labels::DEPENDS_ON.into(), "db:service_healthy:true".into());
        engine.add_container(
            "p-web-2",
            FakeContainer {
                id: "abc".into(),
                state: "running".into(),
                labels,
                ..Default::default()
            },
        );
        // Another project's container, and one of this project without a config hash.
        engine.add_container(
            "q-web-1",
            FakeContainer {
                labels: service_labels("q", "web", 1),
                ..Default::default()
            },
        );
        let mut unmanaged = service_labels("p", "x", 1);
        unmanaged.remove(labels::CONFIG_HASH);
        engine.add_container(
            "p-x-1",
            FakeContainer {
                labels: unmanaged,
                ..Default::default()
            },
        );
        let ours = HashMap::from([
            (labels::PROJECT.to_string(), "p".to_string()),
            (labels::NETWORK.to_string(), "default".to_string()),
        ]);
        engine.add_network("p_default", ours);
        engine.add_network("shared", HashMap::new());
        engine.add_network("other", HashMap::new());
        let o = snapshot(&engine, "p", &["shared".to_string()], &[])
            .await
            .unwrap();
        assert_eq!(o.containers.len(), 1);
        let c = &o.containers[0];
        assert_eq!(
            (c.name.as_str(), c.service.as_str(), c.number, c.running()),
            ("p-web-2", "web", 2, true)
        );
        assert_eq!(c.depends_on, ["db"]);
        let nets: Vec<(&str, Option<&str>)> = o
            .networks
            .iter()
            .map(|n| (n.name.as_str(), n.key.as_deref()))
            .collect();
        assert_eq!(nets, [("p_default", Some("default")), ("shared", None)]);
    }
}
