//! `--dry-run`: an [`Engine`] that reads from the real one and changes nothing. Every change is
//! answered as if it had been made, so each verb runs its whole plan and reports each step, as
//! the reference's dry-run client does.

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::{
    Attached, BuildOutput, BuildRequest, CommitRequest, ContainerDetails, ContainerSummary, Engine,
    EngineError, EngineFuture, EngineStream, ErrorKind, EventMessage, ExecRequest, ImageDetails,
    LogsRequest, Output, ResourceSummary, StatsSample, SwarmInfo, SwarmKind, UploadBody,
    VolumeDetails, VolumeUsage,
};
use crate::runtime::convert::{ContainerSpec, Endpoint, NetworkSpec, VolumeSpec};

/// Reads pass through to `inner`; changes are not made.
pub(crate) struct DryRun {
    inner: Arc<dyn Engine>,
    /// Containers "created" by this run, which the real engine does not know.
    created: Mutex<HashSet<String>>,
    /// Containers "renamed" by this run: new name -> the name the engine knows.
    renamed: Mutex<HashMap<String, String>>,
}

impl DryRun {
    pub(crate) fn new(inner: Arc<dyn Engine>) -> Self {
        DryRun {
            inner,
            created: Mutex::default(),
            renamed: Mutex::default(),
        }
    }

    /// The name the real engine knows a container by.
    fn real_name(&self, name: &str) -> String {
        self.renamed
            .lock()
            .ok()
            .and_then(|r| r.get(name).cloned())
            .unwrap_or_else(|| name.to_string())
    }

    fn was_created(&self, name: &str) -> bool {
        self.created
            .lock()
            .map(|c| c.contains(name))
            .unwrap_or(false)
    }
}

fn done<'a, T: Send + 'a>(value: T) -> EngineFuture<'a, T> {
    futures::future::ready(Ok(value)).boxed()
}

fn refused<'a, T: Send + 'a>(what: &str) -> EngineFuture<'a, T> {
    let e = EngineError::new(
        ErrorKind::Unsupported,
        format!("{what} is not supported in dry-run mode"),
    );
    futures::future::ready(Err(e)).boxed()
}

impl Engine for DryRun {
    fn list_containers(&self, label: &str) -> EngineFuture<'_, Vec<ContainerSummary>> {
        self.inner.list_containers(label)
    }

    fn root_dir(&self) -> EngineFuture<'_, Option<String>> {
        self.inner.root_dir()
    }

    fn engine_id(&self) -> EngineFuture<'_, Option<String>> {
        self.inner.engine_id()
    }

    fn inspect_container<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ContainerDetails> {
        if self.was_created(name) {
            // As if it had started and passed its healthcheck.
            return done(ContainerDetails {
                id: format!("dry-run-{name}"),
                status: "running".into(),
                health: Some("healthy".into()),
                ..Default::default()
            });
        }
        let real = self.real_name(name);
        async move { self.inner.inspect_container(&real).await }.boxed()
    }

    fn create_container<'a>(&'a self, spec: &'a ContainerSpec) -> EngineFuture<'a, ()> {
        if let Ok(mut c) = self.created.lock() {
            c.insert(spec.name.clone());
        }
        done(())
    }

    fn connect_network<'a>(
        &'a self,
        _network: &'a str,
        _container: &'a str,
        _endpoint: &'a Endpoint,
    ) -> EngineFuture<'a, ()> {
        done(())
    }

    fn start_container<'a>(&'a self, _name: &'a str) -> EngineFuture<'a, ()> {
        done(())
    }

    fn stop_container<'a>(&'a self, _name: &'a str, _timeout: Option<i64>) -> EngineFuture<'a, ()> {
        done(())
    }

    fn restart_container<'a>(
        &'a self,
        _name: &'a str,
        _timeout: Option<i64>,
    ) -> EngineFuture<'a, ()> {
        done(())
    }

    fn kill_container<'a>(&'a self, _name: &'a str, _signal: &'a str) -> EngineFuture<'a, ()> {
        done(())
    }

    fn pause_container<'a>(&'a self, _name: &'a str) -> EngineFuture<'a, ()> {
        done(())
    }

    fn unpause_container<'a>(&'a self, _name: &'a str) -> EngineFuture<'a, ()> {
        done(())
    }

    fn remove_container<'a>(&'a self, _name: &'a str, _volumes: bool) -> EngineFuture<'a, ()> {
        done(())
    }

    fn rename_container<'a>(&'a self, name: &'a str, to: &'a str) -> EngineFuture<'a, ()> {
        let real = self.real_name(name);
        if let Ok(mut r) = self.renamed.lock() {
            r.insert(to.to_string(), real);
        }
        done(())
    }

    fn wait_container<'a>(&'a self, _name: &'a str) -> EngineFuture<'a, i64> {
        done(0)
    }

    fn top<'a>(&'a self, name: &'a str) -> EngineFuture<'a, (Vec<String>, Vec<Vec<String>>)> {
        self.inner.top(name)
    }

    fn attach_container<'a>(&'a self, _name: &'a str, _stdin: bool) -> EngineFuture<'a, Attached> {
        refused("attaching to a container")
    }

    fn logs(&self, name: &str, request: &LogsRequest) -> EngineStream<Output> {
        self.inner.logs(name, request)
    }

    fn list_networks(&self) -> EngineFuture<'_, Vec<ResourceSummary>> {
        self.inner.list_networks()
    }

    fn create_network<'a>(&'a self, _spec: &'a NetworkSpec) -> EngineFuture<'a, ()> {
        done(())
    }

    fn remove_network<'a>(&'a self, _name: &'a str) -> EngineFuture<'a, ()> {
        done(())
    }

    fn list_volumes(&self) -> EngineFuture<'_, Vec<ResourceSummary>> {
        self.inner.list_volumes()
    }

    fn create_volume<'a>(&'a self, _spec: &'a VolumeSpec) -> EngineFuture<'a, ()> {
        done(())
    }

    fn remove_volume<'a>(&'a self, _name: &'a str) -> EngineFuture<'a, ()> {
        done(())
    }

    fn volume_details(&self, label: &str) -> EngineFuture<'_, Vec<VolumeDetails>> {
        self.inner.volume_details(label)
    }

    fn inspect_volume<'a>(&'a self, name: &'a str) -> EngineFuture<'a, VolumeDetails> {
        self.inner.inspect_volume(name)
    }

    fn volume_usage(&self) -> EngineFuture<'_, Vec<VolumeUsage>> {
        self.inner.volume_usage()
    }

    fn image_ids(&self) -> EngineFuture<'_, Vec<String>> {
        self.inner.image_ids()
    }

    fn version(&self) -> EngineFuture<'_, String> {
        self.inner.version()
    }

    fn inspect_image<'a>(&'a self, name: &'a str) -> EngineFuture<'a, ImageDetails> {
        self.inner.inspect_image(name)
    }

    fn pull_image(&self, _name: &str, _tag: &str) -> EngineStream<()> {
        futures::stream::empty().boxed()
    }

    fn remove_image<'a>(&'a self, _name: &'a str) -> EngineFuture<'a, ()> {
        done(())
    }

    fn build_image(&self, _request: &BuildRequest, _context: Vec<u8>) -> EngineStream<BuildOutput> {
        futures::stream::empty().boxed()
    }

    fn tag_image<'a>(
        &'a self,
        _image: &'a str,
        _repo: &'a str,
        _tag: &'a str,
    ) -> EngineFuture<'a, ()> {
        done(())
    }

    fn create_exec<'a>(
        &'a self,
        container: &'a str,
        _request: &'a ExecRequest,
    ) -> EngineFuture<'a, String> {
        // The container must exist; the process is not made.
        async move { Ok(self.inner.inspect_container(container).await?.id) }.boxed()
    }

    fn start_exec<'a>(
        &'a self,
        _id: &'a str,
        detach: bool,
        _tty: bool,
    ) -> EngineFuture<'a, Option<Attached>> {
        if detach {
            return done(None);
        }
        refused("interactive exec")
    }

    fn resize_exec<'a>(&'a self, _id: &'a str, _height: u16, _width: u16) -> EngineFuture<'a, ()> {
        done(())
    }

    fn exec_exit_code<'a>(&'a self, _id: &'a str) -> EngineFuture<'a, i64> {
        done(0)
    }

    fn download(&self, container: &str, path: &str) -> EngineStream<Bytes> {
        self.inner.download(container, path)
    }

    fn path_is_dir<'a>(
        &'a self,
        container: &'a str,
        path: &'a str,
    ) -> EngineFuture<'a, Option<bool>> {
        self.inner.path_is_dir(container, path)
    }

    fn upload<'a>(
        &'a self,
        _container: &'a str,
        _dir: &'a str,
        _tar: Vec<u8>,
    ) -> EngineFuture<'a, ()> {
        done(())
    }

    fn upload_owned<'a>(
        &'a self,
        _container: &'a str,
        _dir: &'a str,
        _tar: Vec<u8>,
    ) -> EngineFuture<'a, ()> {
        done(())
    }

    fn upload_stream<'a>(
        &'a self,
        _container: &'a str,
        _dir: &'a str,
        _body: UploadBody,
    ) -> EngineFuture<'a, ()> {
        done(())
    }

    fn events(&self, label: &str, since: i64) -> EngineStream<EventMessage> {
        self.inner.events(label, since)
    }

    fn export_container(&self, _name: &str) -> EngineStream<Bytes> {
        futures::stream::empty().boxed()
    }

    fn commit_container<'a>(&'a self, request: &'a CommitRequest) -> EngineFuture<'a, String> {
        async move {
            // The container must exist; no image is made.
            self.inner.inspect_container(&request.container).await?;
            Ok(String::new())
        }
        .boxed()
    }

    fn push_image(&self, _name: &str, _tag: &str) -> EngineStream<()> {
        futures::stream::empty().boxed()
    }

    fn stats(&self, name: &str, stream: bool) -> EngineStream<StatsSample> {
        self.inner.stats(name, stream)
    }

    fn swarm_state(&self) -> EngineFuture<'_, String> {
        self.inner.swarm_state()
    }

    fn swarm_info(&self) -> EngineFuture<'_, SwarmInfo> {
        self.inner.swarm_info()
    }

    fn list_swarm<'a>(
        &'a self,
        kind: SwarmKind,
        filters: &'a [(&'a str, &'a str)],
    ) -> EngineFuture<'a, Vec<serde_json::Value>> {
        self.inner.list_swarm(kind, filters)
    }

    fn create_swarm<'a>(
        &'a self,
        kind: SwarmKind,
        spec: &'a serde_json::Value,
    ) -> EngineFuture<'a, String> {
        let name = spec.get("Name").and_then(|n| n.as_str()).unwrap_or("");
        done(format!("dry-run-{}-{name}", kind.noun()))
    }

    fn update_service<'a>(
        &'a self,
        _id: &'a str,
        _version: u64,
        _spec: &'a serde_json::Value,
    ) -> EngineFuture<'a, ()> {
        done(())
    }

    fn remove_swarm<'a>(&'a self, _kind: SwarmKind, _id: &'a str) -> EngineFuture<'a, ()> {
        done(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeEngine;
    use super::*;

    #[tokio::test]
    async fn changes_nothing_and_reads_through() {
        let fake = Arc::new(FakeEngine::default());
        fake.add_network("p_default", Default::default());
        let dry = DryRun::new(fake.clone());
        dry.remove_network("p_default").await.unwrap();
        dry.stop_container("p-web-1", None).await.unwrap();
        assert_eq!(fake.calls(), [] as [String; 0]);
        assert_eq!(dry.list_networks().await.unwrap().len(), 1);
        assert!(dry.start_exec("x", false, false).await.is_err());
        // A renamed container is still found by its new name.
        fake.add_container("p-web-1", Default::default());
        dry.rename_container("p-web-1", "old_p-web-1")
            .await
            .unwrap();
        assert!(dry.inspect_container("old_p-web-1").await.is_ok());
    }
}
