//! Engine lists asked for before the project is loaded, under the name it most likely has
//! ([`crate::parse::likely_name`]): the command's first observation of that project takes them
//! instead of asking again, so the engine works while the files are parsed.

use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

use super::engine::{ContainerSummary, Engine, EngineError, ErrorKind, ResourceSummary};
use super::labels;

/// What a command reads first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefetch {
    /// The project's containers (`ps`).
    Containers,
    /// Its containers, and every network and volume (`up`'s snapshot).
    Everything,
}

type List<T> = JoinHandle<Result<Vec<T>, EngineError>>;

/// Lists being asked for one project.
pub(super) struct Prefetched {
    project: String,
    containers: List<ContainerSummary>,
    networks: Option<List<ResourceSummary>>,
    volumes: Option<List<ResourceSummary>>,
}

/// The lists one runtime (and its clones) asked for early: at most one project's.
#[derive(Clone, Default)]
pub(super) struct Slot(Arc<Mutex<Option<Prefetched>>>);

impl Slot {
    /// Asks the engine for `what` of `project`, each list on a task of its own.
    pub(super) fn start(&self, engine: &Arc<dyn Engine>, project: &str, what: Prefetch) {
        let filter = labels::project_filter(project);
        let e = engine.clone();
        let containers = tokio::spawn(async move { e.list_containers(&filter).await });
        let (networks, volumes) = match what {
            Prefetch::Containers => (None, None),
            Prefetch::Everything => {
                let (n, v) = (engine.clone(), engine.clone());
                (
                    Some(tokio::spawn(async move { n.list_networks().await })),
                    Some(tokio::spawn(async move { v.list_volumes().await })),
                )
            }
        };
        let earlier = self.lock().replace(Prefetched {
            project: project.to_string(),
            containers,
            networks,
            volumes,
        });
        earlier.into_iter().for_each(Prefetched::abort);
    }

    /// The lists asked for `project`, once: a later observation asks the engine again. Lists
    /// asked for another project are dropped.
    pub(super) fn take(&self, project: &str) -> Option<Prefetched> {
        let p = self.lock().take()?;
        if p.project == project {
            Some(p)
        } else {
            p.abort();
            None
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Prefetched>> {
        // A panic while holding it leaves only a finished `Option` behind.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The answer of a list's task.
async fn answer<T>(list: List<T>) -> Result<Vec<T>, EngineError> {
    list.await.unwrap_or_else(|e| {
        Err(EngineError::new(
            ErrorKind::Api,
            format!("listing from the engine: {e}"),
        ))
    })
}

impl Prefetched {
    fn abort(self) {
        self.containers.abort();
        self.networks.iter().for_each(JoinHandle::abort);
        self.volumes.iter().for_each(JoinHandle::abort);
    }

    /// The project's containers.
    pub(super) async fn containers(self) -> Result<Vec<ContainerSummary>, EngineError> {
        self.networks.iter().for_each(JoinHandle::abort);
        self.volumes.iter().for_each(JoinHandle::abort);
        answer(self.containers).await
    }

    /// The project's containers, the networks and the volumes; what was not asked for early is
    /// asked for now.
    pub(super) async fn everything(
        self,
        engine: &dyn Engine,
    ) -> (
        Result<Vec<ContainerSummary>, EngineError>,
        Result<Vec<ResourceSummary>, EngineError>,
        Result<Vec<ResourceSummary>, EngineError>,
    ) {
        let networks = async {
            match self.networks {
                Some(n) => answer(n).await,
                None => engine.list_networks().await,
            }
        };
        let volumes = async {
            match self.volumes {
                Some(v) => answer(v).await,
                None => engine.list_volumes().await,
            }
        };
        tokio::join!(answer(self.containers), networks, volumes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::engine::fake::{service_labels, FakeContainer, FakeEngine};

    fn engine_with(name: &str, project: &str) -> Arc<FakeEngine> {
        let engine = Arc::new(FakeEngine::default());
        engine.add_container(
            name,
            FakeContainer {
                labels: service_labels(project, "web", 1),
                ..Default::default()
            },
        );
        engine
    }

    #[tokio::test]
    async fn the_first_observation_of_the_project_takes_the_lists_once() {
        let fake = engine_with("p-web-1", "p");
        let engine: Arc<dyn Engine> = fake.clone();
        let slot = Slot::default();
        slot.start(&engine, "p", Prefetch::Everything);
        let taken = slot.take("p").expect("prefetched");
        let (cs, nets, vols) = taken.everything(engine.as_ref()).await;
        assert_eq!(cs.expect("containers").len(), 1);
        assert!(nets.is_ok() && vols.is_ok());
        assert!(slot.take("p").is_none(), "taken twice");
    }

    #[tokio::test]
    async fn lists_of_another_project_are_dropped() {
        let fake = engine_with("q-web-1", "q");
        let engine: Arc<dyn Engine> = fake.clone();
        let slot = Slot::default();
        slot.start(&engine, "q", Prefetch::Containers);
        assert!(slot.take("p").is_none());
        assert!(slot.take("q").is_none(), "dropped with the mismatch");
    }

    #[tokio::test]
    async fn the_taken_list_is_the_answer_asked_for_early() {
        let fake = engine_with("p-web-1", "p");
        let engine: Arc<dyn Engine> = fake.clone();
        let slot = Slot::default();
        slot.start(&engine, "p", Prefetch::Containers);
        let taken = slot.take("p").expect("prefetched");
        let early = taken.containers().await.expect("listed");
        // A container made after the early answer is not in it.
        fake.add_container(
            "p-web-2",
            FakeContainer {
                labels: service_labels("p", "web", 2),
                ..Default::default()
            },
        );
        assert_eq!(early.len(), 1);
    }
}
