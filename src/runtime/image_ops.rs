//! The verbs on one container's filesystem and on images that other tools reach for: `export`,
//! `commit`, `push`, and the samples of `stats`.

use bytes::Bytes;

use super::engine::{CommitRequest, EngineError, EngineStream, StatsSample};
use super::progress::{event, Status};
use super::{pull, Runtime};
use crate::parse::Project;

impl Runtime {
    /// The name of container `index` of `service` in `project`, when it exists.
    pub async fn container_of(
        &self,
        project: &str,
        service: &str,
        index: u64,
    ) -> Result<Option<String>, EngineError> {
        let rows = self.ps(project, true).await?;
        Ok(rows
            .into_iter()
            .find(|r| r.service == service && r.number == index)
            .map(|r| r.name))
    }

    /// `export`: the container's filesystem as a tar stream; `to` names where it goes.
    pub fn export(&self, container: &str, to: &str) -> EngineStream<Bytes> {
        let res = format!("{container} export {container} to {to}");
        (self.report)(event(&res, Status::Working, "Exporting"));
        self.engine.export_container(container)
    }

    /// `commit`: a new image from the container's changes; its id.
    pub async fn commit(&self, request: &CommitRequest) -> Result<String, EngineError> {
        let c = &request.container;
        let res = format!("{c} Commit {c}");
        (self.report)(event(&res, Status::Working, "Committing"));
        let id = self.engine.commit_container(request).await;
        match &id {
            Ok(id) => (self.report)(event(&res, Status::Done, format!("Committed as {id}"))),
            Err(e) => (self.report)(event(&res, Status::Error, e.to_string())),
        }
        id
    }

    /// `push`: the images of the services that build one (others are skipped, as the
    /// reference skips them); with `ignore_failures`, a failed push is only reported.
    pub async fn push(
        &self,
        project: &Project,
        services: &[String],
        ignore_failures: bool,
    ) -> Result<(), EngineError> {
        for svc in project.services.values() {
            if !services.is_empty() && !services.contains(&svc.name) {
                continue;
            }
            let (Some(_), Some(image)) = (&svc.build, &svc.image) else {
                (self.report)(event(&svc.name, Status::Done, "Skipped"));
                continue;
            };
            match pull::push(self.engine.as_ref(), &self.report, image).await {
                Err(e) if !ignore_failures => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Resource usage of `container`: one sample, or a sample a second with `stream`.
    pub fn stats(&self, container: &str, stream: bool) -> EngineStream<StatsSample> {
        self.engine.stats(container, stream)
    }

    /// `attach`: our streams joined to a running container's; its exit code.
    pub async fn attach(&self, container: &str, stdin: bool) -> Result<i64, EngineError> {
        super::attach::attach_running(self.engine.as_ref(), container, stdin).await
    }
}
