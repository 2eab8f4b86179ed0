//! `stack`: a project deployed to a swarm as `docker stack deploy` deploys it, and the stack read
//! back (`ls`, `ps`, `services`) and removed. What to change is decided in
//! [`crate::graph::swarm`]; this file reads the engine and performs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::Value;

use super::convert::NetworkSpec;
use super::engine::{EngineError, ErrorKind, SwarmKind};
use super::{Error, Runtime};
use crate::graph::swarm::{self, Stack, StackObserved, StackOp, NAMESPACE};
use crate::parse::{Condition, Project};

/// Options of `stack deploy`.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    pub stack: String,
    /// Remove services of the stack no longer in the project.
    pub prune: bool,
    /// Return only when every service has converged.
    pub wait: bool,
    /// Bound on each wait (dependency gates and `--wait`).
    pub timeout: Option<Duration>,
}

/// What a deploy did.
#[derive(Debug, Default)]
pub struct DeployReport {
    pub warnings: Vec<String>,
    /// One line per change (`Creating service web_app`).
    pub changes: Vec<String>,
    /// Why `--wait` failed once the changes were made (a rollback, a timeout, a failed job).
    pub wait_failed: Option<Error>,
}

/// A service of a stack, for `stack services` and `stack ls`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackServiceRow {
    pub id: String,
    pub name: String,
    pub stack: String,
    /// `replicated`, `global`, `replicated job`, `global job`.
    pub mode: String,
    pub running: u64,
    /// Desired tasks (`None` for global services: the tasks wanted).
    pub desired: u64,
    pub completed: Option<u64>,
    pub image: String,
    /// `*:8080->80/tcp`, comma-separated.
    pub ports: String,
}

/// A task of a stack, for `stack ps`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackTaskRow {
    pub id: String,
    /// `stack_web.1` (`\_ stack_web.1` for a replaced task).
    pub name: String,
    pub image: String,
    pub node: String,
    pub desired_state: String,
    pub state: String,
    /// RFC 3339 of the state's change.
    pub since: String,
    pub error: String,
    pub ports: String,
}

fn api(message: impl Into<String>) -> Error {
    Error::Engine(EngineError::new(ErrorKind::Api, message))
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The values of the secrets and configs the project defines: kind and key → bytes.
pub(super) fn read_values(project: &Project) -> Result<swarm::Values, Error> {
    let mut values = swarm::Values::new();
    for (kind, objects) in [("secrets", &project.secrets), ("configs", &project.configs)] {
        for (key, obj) in objects {
            if obj.external {
                continue;
            }
            let data = if let Some(f) = &obj.file {
                let path = project.working_dir.join(f);
                std::fs::read(&path).map_err(|e| {
                    api(format!("{kind}.{key}: cannot read {}: {e}", path.display()))
                })?
            } else if let Some(var) = &obj.environment {
                match project
                    .environment
                    .get(var)
                    .cloned()
                    .or_else(|| std::env::var(var).ok())
                {
                    Some(v) => v.into_bytes(),
                    None => {
                        return Err(api(format!(
                            "{kind}.{key}: environment variable {var} is not set"
                        )))
                    }
                }
            } else if let Some(c) = &obj.content {
                c.clone().into_bytes()
            } else {
                continue;
            };
            values.insert((kind.to_string(), key.clone()), data);
        }
    }
    Ok(values)
}

impl Runtime {
    /// Fails unless this engine is a swarm manager.
    async fn need_manager(&self) -> Result<(), Error> {
        let info = self.engine.swarm_info().await?;
        if info.manager {
            return Ok(());
        }
        Err(Error::Engine(EngineError::new(
            ErrorKind::Unsupported,
            "this node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again",
        )))
    }

    async fn observe_stack(&self, stack: &Stack) -> Result<StackObserved, Error> {
        let label = format!("{NAMESPACE}={}", stack.name);
        let mut o = StackObserved::default();
        for n in self.engine.list_networks().await? {
            o.networks.insert(n.name, n.id);
        }
        for (kind, files, out) in [
            (SwarmKind::Secret, &stack.secrets, &mut o.secrets),
            (SwarmKind::Config, &stack.configs, &mut o.configs),
        ] {
            let mut list = self.engine.list_swarm(kind, &[("label", &label)]).await?;
            if files.iter().any(|f| f.external) {
                let all = self.engine.list_swarm(kind, &[]).await?;
                list.extend(all.into_iter().filter(|v| {
                    files
                        .iter()
                        .any(|f| f.external && v["Spec"]["Name"].as_str() == Some(f.name.as_str()))
                }));
            }
            for v in list {
                let digest = v["Spec"]["Labels"][swarm::DIGEST]
                    .as_str()
                    .map(String::from);
                out.push((s(&v["ID"]), s(&v["Spec"]["Name"]), digest));
            }
        }
        for v in self
            .engine
            .list_swarm(SwarmKind::Service, &[("label", &label)])
            .await?
        {
            o.services.insert(
                s(&v["Spec"]["Name"]),
                (
                    s(&v["ID"]),
                    v["Version"]["Index"].as_u64().unwrap_or(0),
                    v["Spec"].clone(),
                ),
            );
        }
        Ok(o)
    }

    /// Checks what can be checked before anything changes: images on this node, published
    /// ports taken by services of other stacks.
    async fn stack_preflight(&self, stack: &Stack) -> Result<(), Error> {
        let mut missing = Vec::new();
        for svc in &stack.services {
            let image = s(&svc.spec["TaskTemplate"]["ContainerSpec"]["Image"]);
            if let Err(e) = self.engine.inspect_image(&image).await {
                if e.is_not_found() {
                    missing.push(format!(
                        "service {}: image {image} is not on this node",
                        svc.key
                    ));
                } else {
                    return Err(e.into());
                }
            }
        }
        if !missing.is_empty() {
            return Err(api(missing.join("\n")));
        }
        let mut taken: BTreeMap<(u64, String), String> = BTreeMap::new();
        for v in self.engine.list_swarm(SwarmKind::Service, &[]).await? {
            if v["Spec"]["Labels"][NAMESPACE].as_str() == Some(stack.name.as_str()) {
                continue;
            }
            for p in v["Endpoint"]["Ports"].as_array().into_iter().flatten() {
                if let Some(n) = p["PublishedPort"].as_u64() {
                    taken.insert((n, s(&p["Protocol"])), s(&v["Spec"]["Name"]));
                }
            }
        }
        let mut conflicts = Vec::new();
        let mut ours: BTreeMap<(u64, String), String> = BTreeMap::new();
        for svc in &stack.services {
            for p in svc.spec["EndpointSpec"]["Ports"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let Some(n) = p["PublishedPort"].as_u64() else {
                    continue;
                };
                let key = (n, s(&p["Protocol"]));
                if let Some(other) = taken.get(&key).or(ours.get(&key)) {
                    conflicts.push(format!(
                        "service {}: port {n}/{} is already published by service {other}",
                        svc.key, key.1
                    ));
                }
                ours.insert(key, svc.name.clone());
            }
        }
        if !conflicts.is_empty() {
            return Err(api(conflicts.join("\n")));
        }
        Ok(())
    }

    /// `stack deploy`: creates or updates the stack's objects, services in dependency order
    /// (each after its dependencies meet their condition), then waits with `--wait`.
    pub async fn stack_deploy(
        &self,
        project: &Project,
        opts: &DeployOptions,
    ) -> Result<DeployReport, Error> {
        self.need_manager().await?;
        let values = read_values(project)?;
        let stack = swarm::desired(project, &opts.stack, &values).map_err(|e| api(e.0))?;
        let mut report = DeployReport {
            warnings: stack.warnings.clone(),
            ..DeployReport::default()
        };
        self.stack_preflight(&stack).await?;
        let observed = self.observe_stack(&stack).await?;
        let ops = swarm::plan(&stack, &observed, opts.prune).map_err(|e| api(e.0))?;
        let timeout = opts.timeout.unwrap_or(Duration::from_secs(300));
        let mut created: IndexMap<String, String> = IndexMap::new();
        let mut touched: Vec<String> = Vec::new();
        for op in ops {
            match op {
                StackOp::CreateNetwork { name, spec } => {
                    let body: NetworkSpec = serde_json::from_value(spec)
                        .map_err(|e| api(format!("network {name}: {e}")))?;
                    report.changes.push(format!("Creating network {name}"));
                    self.engine.create_network(&body).await?;
                }
                StackOp::CreateFile {
                    kind, name, spec, ..
                } => {
                    let k = if kind == "secret" {
                        SwarmKind::Secret
                    } else {
                        SwarmKind::Config
                    };
                    report.changes.push(format!("Creating {kind} {name}"));
                    let id = self.engine.create_swarm(k, &spec).await?;
                    created.insert(name, id);
                }
                StackOp::CreateService {
                    key,
                    name,
                    mut spec,
                } => {
                    self.await_dependencies(&stack, &key, timeout).await?;
                    swarm::fill_ids(&mut spec, &created);
                    report.changes.push(format!("Creating service {name}"));
                    self.engine.create_swarm(SwarmKind::Service, &spec).await?;
                    touched.push(key);
                }
                StackOp::UpdateService {
                    key,
                    name,
                    id,
                    version,
                    mut spec,
                } => {
                    self.await_dependencies(&stack, &key, timeout).await?;
                    swarm::fill_ids(&mut spec, &created);
                    report
                        .changes
                        .push(format!("Updating service {name} (id: {id})"));
                    self.engine.update_service(&id, version, &spec).await?;
                    touched.push(key);
                }
                StackOp::RemoveService { name, id } => {
                    report.changes.push(format!("Removing service {name}"));
                    self.engine.remove_swarm(SwarmKind::Service, &id).await?;
                }
            }
        }
        if self.dry {
            return Ok(report);
        }
        self.prune_versions(&stack).await;
        if opts.wait {
            let deadline = Instant::now() + timeout;
            for svc in &stack.services {
                let cond = if svc.job {
                    Condition::ServiceCompletedSuccessfully
                } else {
                    Condition::ServiceHealthy
                };
                if let Err(e) = self.await_service(&stack, &svc.key, cond, deadline).await {
                    report.wait_failed = Some(e);
                    break;
                }
            }
        }
        Ok(report)
    }

    /// Removes the old versions of secrets and configs rcompose made that no service uses any
    /// more (best effort: one still in use stays).
    async fn prune_versions(&self, stack: &Stack) {
        let label = format!("{NAMESPACE}={}", stack.name);
        let Ok(services) = self
            .engine
            .list_swarm(SwarmKind::Service, &[("label", &label)])
            .await
        else {
            return;
        };
        let used = |id: &str| {
            services.iter().any(|v| {
                let cs = &v["Spec"]["TaskTemplate"]["ContainerSpec"];
                ["Secrets", "Configs"].iter().any(|k| {
                    cs[k].as_array().into_iter().flatten().any(|r| {
                        r["SecretID"].as_str() == Some(id) || r["ConfigID"].as_str() == Some(id)
                    })
                })
            })
        };
        for (kind, files) in [
            (SwarmKind::Secret, &stack.secrets),
            (SwarmKind::Config, &stack.configs),
        ] {
            let Ok(list) = self.engine.list_swarm(kind, &[("label", &label)]).await else {
                continue;
            };
            for v in list {
                let name = s(&v["Spec"]["Name"]);
                let ours = v["Spec"]["Labels"][swarm::DIGEST].is_string();
                let versioned = files
                    .iter()
                    .any(|f| name == f.name || name.starts_with(&format!("{}-", f.name)));
                let id = s(&v["ID"]);
                if ours && versioned && !used(&id) {
                    let _ = self.engine.remove_swarm(kind, &id).await;
                }
            }
        }
    }

    async fn await_dependencies(
        &self,
        stack: &Stack,
        key: &str,
        timeout: Duration,
    ) -> Result<(), Error> {
        if self.dry {
            return Ok(());
        }
        let Some(svc) = stack.services.iter().find(|s| s.key == key) else {
            return Ok(());
        };
        let deadline = Instant::now() + timeout;
        for (dep, cond) in &svc.depends_on {
            self.await_service(stack, dep, *cond, deadline).await?;
        }
        Ok(())
    }

    /// Waits until service `key`'s tasks meet `cond`: all replicas of its current spec running
    /// (healthy when it has a healthcheck: swarm holds a task in `starting` until then), or
    /// completed for a job. A spec swarm rolled back (its [`swarm::SPEC_HASH`] is no longer the
    /// one sent) fails the wait once the rollback is over, with the update's message, as does a
    /// paused update.
    async fn await_service(
        &self,
        stack: &Stack,
        key: &str,
        cond: Condition,
        deadline: Instant,
    ) -> Result<(), Error> {
        let Some(svc) = stack.services.iter().find(|s| s.key == key) else {
            return Ok(());
        };
        let sent = swarm::spec_hash(&svc.spec);
        // The message of a rollback is replaced by "rollback completed" once it ends.
        let mut why = String::new();
        loop {
            let Some(service) = self
                .engine
                .list_swarm(SwarmKind::Service, &[("name", &svc.name)])
                .await?
                .into_iter()
                .find(|v| v["Spec"]["Name"].as_str() == Some(svc.name.as_str()))
            else {
                return Err(api(format!("service {} is gone", svc.name)));
            };
            let id = s(&service["ID"]);
            let update = s(&service["UpdateStatus"]["State"]);
            let message = s(&service["UpdateStatus"]["Message"]);
            let have = swarm::spec_hash(&service["Spec"]);
            let ours = sent.is_none() || have.is_none() || have == sent;
            let all = self
                .engine
                .list_swarm(SwarmKind::Task, &[("service", &id)])
                .await?;
            if !ours {
                if update == "rollback_started" && why.is_empty() {
                    why = message.clone();
                }
                if update != "rollback_started" {
                    if why.is_empty() {
                        why = message;
                    }
                    let failed = failed_tasks(&all, &svc.name);
                    return Err(condition(format!(
                        "service {} rolled back: {why}{}",
                        svc.name,
                        failed.iter().map(|f| format!("\n{f}")).collect::<String>()
                    )));
                }
            } else if update == "paused" || update == "rollback_paused" {
                let failed = failed_tasks(&all, &svc.name);
                return Err(condition(format!(
                    "service {}: update {update}: {message}{}",
                    svc.name,
                    failed.iter().map(|f| format!("\n{f}")).collect::<String>()
                )));
            }
            // Tasks of the service's current spec only (not the ones an update replaces).
            let tasks = self
                .engine
                .list_swarm(
                    SwarmKind::Task,
                    &[("service", &id), ("_up-to-date", "true")],
                )
                .await?;
            let want = svc.replicas;
            let state = |t: &Value| s(&t["Status"]["State"]);
            let live: Vec<&Value> = tasks
                .iter()
                .filter(|t| t["DesiredState"].as_str() == Some("running"))
                .collect();
            // An update is over once its last task's monitor period has passed.
            let settled = update != "updating" && update != "rollback_started";
            let met = ours
                && settled
                && match cond {
                    Condition::ServiceCompletedSuccessfully => {
                        let done = tasks.iter().filter(|t| state(t) == "complete").count() as u64;
                        match want {
                            Some(n) => done >= n,
                            None => {
                                !tasks.is_empty()
                                    && tasks.iter().all(|t| {
                                        state(t) == "complete" || t["DesiredState"] != "complete"
                                    })
                            }
                        }
                    }
                    _ => {
                        let running = live.iter().filter(|t| state(t) == "running").count() as u64;
                        let old_alive = all.iter().any(|t| {
                            t["DesiredState"] == "running"
                                && !tasks.iter().any(|u| u["ID"] == t["ID"])
                        });
                        !old_alive
                            && match want {
                                Some(n) => running >= n && live.len() as u64 == n,
                                None => !live.is_empty() && running == live.len() as u64,
                            }
                    }
                };
            if met {
                return Ok(());
            }
            let failed = failed_tasks(&all, &svc.name);
            if cond == Condition::ServiceCompletedSuccessfully && !failed.is_empty() {
                return Err(condition(failed.join("\n")));
            }
            if Instant::now() >= deadline {
                let mut msg = format!(
                    "service {} did not become {} in time",
                    svc.name,
                    match cond {
                        Condition::ServiceCompletedSuccessfully => "completed",
                        Condition::ServiceHealthy => "running and healthy",
                        Condition::ServiceStarted => "running",
                    }
                );
                for f in failed.iter().rev().take(5) {
                    msg.push('\n');
                    msg.push_str(f);
                }
                return Err(condition(msg));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The services of stacks (one stack, or all).
    pub async fn stack_services(&self, stack: Option<&str>) -> Result<Vec<StackServiceRow>, Error> {
        self.need_manager().await?;
        let label = match stack {
            Some(st) => format!("{NAMESPACE}={st}"),
            None => NAMESPACE.to_string(),
        };
        let services = self
            .engine
            .list_swarm(SwarmKind::Service, &[("label", &label)])
            .await?;
        let tasks = if services.is_empty() {
            Vec::new()
        } else {
            self.engine.list_swarm(SwarmKind::Task, &[]).await?
        };
        let mut rows = Vec::new();
        for v in services {
            let id = s(&v["ID"]);
            let spec = &v["Spec"];
            let mine: Vec<&Value> = tasks
                .iter()
                .filter(|t| t["ServiceID"].as_str() == Some(id.as_str()))
                .collect();
            let running = mine
                .iter()
                .filter(|t| t["Status"]["State"] == "running" && t["DesiredState"] == "running")
                .count() as u64;
            let completed = mine
                .iter()
                .filter(|t| t["Status"]["State"] == "complete")
                .count() as u64;
            let live = mine
                .iter()
                .filter(|t| t["DesiredState"] != "shutdown")
                .count() as u64;
            let (mode, desired, completed) =
                if let Some(n) = spec["Mode"]["Replicated"]["Replicas"].as_u64() {
                    ("replicated", n, None)
                } else if spec["Mode"].get("Global").is_some() {
                    ("global", live, None)
                } else if let Some(n) = spec["Mode"]["ReplicatedJob"]["TotalCompletions"].as_u64() {
                    ("replicated job", n, Some(completed))
                } else {
                    ("global job", live, Some(completed))
                };
            let ports: Vec<String> = v["Endpoint"]["Ports"]
                .as_array()
                .or(spec["EndpointSpec"]["Ports"].as_array())
                .into_iter()
                .flatten()
                .map(port_text)
                .collect();
            rows.push(StackServiceRow {
                id,
                name: s(&spec["Name"]),
                stack: s(&spec["Labels"][NAMESPACE]),
                mode: mode.into(),
                running,
                desired,
                completed,
                image: s(&spec["TaskTemplate"]["ContainerSpec"]["Image"]),
                ports: ports.join(", "),
            });
        }
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }

    /// The tasks of a stack's services, newest first within a slot.
    pub async fn stack_tasks(&self, stack: &str) -> Result<Vec<StackTaskRow>, Error> {
        self.need_manager().await?;
        let label = format!("{NAMESPACE}={stack}");
        let services = self
            .engine
            .list_swarm(SwarmKind::Service, &[("label", &label)])
            .await?;
        let names: IndexMap<String, String> = services
            .iter()
            .map(|v| (s(&v["ID"]), s(&v["Spec"]["Name"])))
            .collect();
        let nodes: IndexMap<String, String> = self
            .engine
            .list_swarm(SwarmKind::Node, &[])
            .await?
            .iter()
            .map(|n| (s(&n["ID"]), s(&n["Description"]["Hostname"])))
            .collect();
        let tasks = self.engine.list_swarm(SwarmKind::Task, &[]).await?;
        let mut tasks: Vec<&Value> = tasks
            .iter()
            .filter(|t| names.contains_key(t["ServiceID"].as_str().unwrap_or_default()))
            .collect();
        let slot = |t: &Value| {
            let svc = names.get(&s(&t["ServiceID"])).cloned().unwrap_or_default();
            match t["Slot"].as_u64() {
                Some(n) if n > 0 => format!("{svc}.{n}"),
                _ => format!("{svc}.{}", s(&t["NodeID"])),
            }
        };
        tasks.sort_by(|a, b| {
            slot(a)
                .cmp(&slot(b))
                .then_with(|| s(&b["Status"]["Timestamp"]).cmp(&s(&a["Status"]["Timestamp"])))
        });
        let mut rows = Vec::new();
        let mut last = String::new();
        for t in tasks {
            let name = slot(t);
            let shown = if name == last {
                format!(" \\_ {name}")
            } else {
                name.clone()
            };
            last = name;
            let ports: Vec<String> = t["Status"]["PortStatus"]["Ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(port_text)
                .collect();
            let image = s(&t["Spec"]["ContainerSpec"]["Image"]);
            rows.push(StackTaskRow {
                id: s(&t["ID"]),
                name: shown,
                image: image.split('@').next().unwrap_or_default().to_string(),
                node: nodes.get(&s(&t["NodeID"])).cloned().unwrap_or_default(),
                desired_state: s(&t["DesiredState"]),
                state: s(&t["Status"]["State"]),
                since: s(&t["Status"]["Timestamp"]),
                error: s(&t["Status"]["Err"]),
                ports: ports.join(","),
            });
        }
        Ok(rows)
    }

    /// `stack rm`: the stack's services, secrets, configs and networks (networks once the
    /// tasks are gone). Returns what was removed, one line each; `None` when there is no such stack.
    pub async fn stack_rm(&self, stack: &str) -> Result<Option<Vec<String>>, Error> {
        self.need_manager().await?;
        let label = format!("{NAMESPACE}={stack}");
        let services = self
            .engine
            .list_swarm(SwarmKind::Service, &[("label", &label)])
            .await?;
        let secrets = self
            .engine
            .list_swarm(SwarmKind::Secret, &[("label", &label)])
            .await?;
        let configs = self
            .engine
            .list_swarm(SwarmKind::Config, &[("label", &label)])
            .await?;
        let networks: Vec<_> = self
            .engine
            .list_networks()
            .await?
            .into_iter()
            .filter(|n| n.labels.get(NAMESPACE).map(String::as_str) == Some(stack))
            .collect();
        if services.is_empty() && secrets.is_empty() && configs.is_empty() && networks.is_empty() {
            return Ok(None);
        }
        let mut done = Vec::new();
        let mut errors = Vec::new();
        let mut sorted = services.clone();
        sorted.sort_by_key(|v| s(&v["Spec"]["Name"]));
        for v in &sorted {
            done.push(format!("Removing service {}", s(&v["Spec"]["Name"])));
            if let Err(e) = self
                .engine
                .remove_swarm(SwarmKind::Service, &s(&v["ID"]))
                .await
            {
                errors.push(e);
            }
        }
        for (kind, list) in [(SwarmKind::Secret, &secrets), (SwarmKind::Config, &configs)] {
            for v in list {
                done.push(format!(
                    "Removing {} {}",
                    kind.noun(),
                    s(&v["Spec"]["Name"])
                ));
                if let Err(e) = self.engine.remove_swarm(kind, &s(&v["ID"])).await {
                    errors.push(e);
                }
            }
        }
        // A network stays busy until the removed services' tasks are gone.
        let ids: Vec<String> = services.iter().map(|v| s(&v["ID"])).collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.dry && !ids.is_empty() && Instant::now() < deadline {
            let tasks = self.engine.list_swarm(SwarmKind::Task, &[]).await?;
            if !tasks.iter().any(|t| {
                ids.iter()
                    .any(|i| t["ServiceID"].as_str() == Some(i.as_str()))
            }) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        for n in &networks {
            done.push(format!("Removing network {}", n.name));
            let mut tries = 0;
            loop {
                match self.engine.remove_network(&n.id).await {
                    Ok(()) => break,
                    Err(e) if e.is_not_found() => break,
                    Err(e) if tries < 40 && !self.dry => {
                        let _ = e;
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                    Err(e) => {
                        errors.push(e);
                        break;
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::Failed(errors));
        }
        Ok(Some(done))
    }
}

fn condition(message: String) -> Error {
    Error::Engine(EngineError::new(ErrorKind::Condition, message))
}

/// `task ID of SERVICE: error` of the failed and rejected tasks.
fn failed_tasks(tasks: &[Value], service: &str) -> Vec<String> {
    tasks
        .iter()
        .filter(|t| matches!(s(&t["Status"]["State"]).as_str(), "failed" | "rejected"))
        .map(|t| {
            let err = s(&t["Status"]["Err"]);
            format!(
                "task {} of {service}: {}",
                s(&t["ID"]).chars().take(12).collect::<String>(),
                if err.is_empty() {
                    s(&t["Status"]["Message"])
                } else {
                    err
                }
            )
        })
        .collect()
}

/// A published port as `docker stack services`/`ps` print it: `*:8080->80/tcp`.
fn port_text(p: &Value) -> String {
    format!(
        "*:{}->{}/{}",
        p["PublishedPort"].as_u64().unwrap_or(0),
        p["TargetPort"].as_u64().unwrap_or(0),
        s(&p["Protocol"])
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::graph::fixture;
    use crate::parse::{DependsOn, FileObject, FileRef};
    use crate::runtime::engine::fake::FakeEngine;
    use crate::runtime::engine::Engine;
    use crate::runtime::progress;

    fn project(token: &str) -> Project {
        let mut p = fixture::project();
        let mut db = fixture::service("db", &[]);
        db.secrets.push(FileRef {
            source: "token".into(),
            ..FileRef::default()
        });
        let web = fixture::service(
            "web",
            &[(
                "db",
                DependsOn {
                    condition: Condition::ServiceHealthy,
                    ..DependsOn::default()
                },
            )],
        );
        // Declared first: the dependency order, not the file order, decides.
        p.services.insert("web".into(), web);
        p.services.insert("db".into(), db);
        p.secrets.insert(
            "token".into(),
            FileObject {
                name: "p_token".into(),
                content: Some(token.into()),
                ..FileObject::default()
            },
        );
        p
    }

    fn setup() -> (Arc<FakeEngine>, Runtime) {
        let engine = Arc::new(FakeEngine::default());
        engine.add_image("img", "sha256:1");
        engine.swarm_init();
        let rt = Runtime::new(engine.clone(), progress::silent(), None);
        (engine, rt)
    }

    fn opts(prune: bool) -> DeployOptions {
        DeployOptions {
            stack: "st".into(),
            prune,
            wait: true,
            timeout: Some(Duration::from_secs(5)),
        }
    }

    #[tokio::test]
    async fn deploys_in_dependency_order_with_stack_names() {
        let (engine, rt) = setup();
        let report = rt.stack_deploy(&project("a"), &opts(false)).await;
        assert!(
            report.as_ref().is_ok_and(|r| r.wait_failed.is_none()),
            "{report:?}"
        );
        assert_eq!(
            engine.calls(),
            [
                "create network st_default",
                "create secret st_token",
                "create service st_db",
                "create service st_web",
            ]
        );
        let services = engine
            .list_swarm(
                SwarmKind::Service,
                &[("label", "com.docker.stack.namespace=st")],
            )
            .await
            .unwrap_or_default();
        let web = services
            .iter()
            .find(|v| v["Spec"]["Name"] == "st_web")
            .cloned()
            .unwrap_or_default();
        assert_eq!(web["Spec"]["Labels"]["com.docker.stack.image"], "img");
        assert_eq!(
            web["Spec"]["TaskTemplate"]["Networks"][0],
            serde_json::json!({"Target": "st_default", "Aliases": ["web"]})
        );
        let db = services
            .iter()
            .find(|v| v["Spec"]["Name"] == "st_db")
            .cloned()
            .unwrap_or_default();
        let secret = &db["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"][0];
        assert_eq!(secret["SecretName"], "st_token");
        assert!(secret["SecretID"]
            .as_str()
            .is_some_and(|i| i.starts_with("secret")));
        assert_eq!(secret["File"]["Name"], "token");
    }

    #[tokio::test]
    async fn unchanged_redeploy_changes_nothing_and_a_changed_secret_is_versioned() {
        let (engine, rt) = setup();
        assert!(rt
            .stack_deploy(&project("a"), &opts(false))
            .await
            .is_ok_and(|r| r.wait_failed.is_none()));
        let before = engine.calls().len();
        assert!(rt
            .stack_deploy(&project("a"), &opts(false))
            .await
            .is_ok_and(|r| r.wait_failed.is_none()));
        assert_eq!(engine.calls().len(), before, "{:?}", engine.calls());
        assert!(rt
            .stack_deploy(&project("b"), &opts(false))
            .await
            .is_ok_and(|r| r.wait_failed.is_none()));
        let new: Vec<String> = engine.calls()[before..].to_vec();
        assert_eq!(
            new[0],
            format!("create secret st_token-{}", &digest_of("b")[..12])
        );
        assert_eq!(new[1], "update service st_db");
        assert_eq!(new[2], "remove secret st_token");
        assert_eq!(new.len(), 3, "{new:?}");
    }

    fn digest_of(s: &str) -> String {
        use sha2::{Digest, Sha256};
        format!("{:x}", Sha256::digest(s.as_bytes()))
    }

    #[tokio::test]
    async fn prune_removes_services_gone_from_the_file() {
        let (engine, rt) = setup();
        assert!(rt
            .stack_deploy(&project("a"), &opts(false))
            .await
            .is_ok_and(|r| r.wait_failed.is_none()));
        let mut p = project("a");
        p.services.shift_remove("web");
        assert!(rt
            .stack_deploy(&p, &opts(false))
            .await
            .is_ok_and(|r| r.wait_failed.is_none()));
        assert!(!engine.calls().iter().any(|c| c == "remove service st_web"));
        assert!(rt
            .stack_deploy(&p, &opts(true))
            .await
            .is_ok_and(|r| r.wait_failed.is_none()));
        assert!(engine.calls().iter().any(|c| c == "remove service st_web"));
    }

    #[tokio::test]
    async fn refuses_without_a_manager_or_an_image_before_changing_anything() {
        let engine = Arc::new(FakeEngine::default());
        engine.add_image("img", "sha256:1");
        let rt = Runtime::new(engine.clone(), progress::silent(), None);
        let e = rt.stack_deploy(&project("a"), &opts(false)).await;
        assert!(e.is_err_and(|e| e.to_string().contains("not a swarm manager")));
        let (engine, rt) = setup();
        let mut p = project("a");
        if let Some(s) = p.services.get_mut("web") {
            s.image = Some("missing:1".into());
        }
        let e = rt.stack_deploy(&p, &opts(false)).await;
        assert!(e.is_err_and(|e| e.to_string().contains("missing:1 is not on this node")));
        assert!(engine.calls().is_empty());
    }

    #[tokio::test]
    async fn a_rolled_back_update_fails_the_wait_after_the_changes_are_made() {
        let (engine, rt) = setup();
        assert!(rt
            .stack_deploy(&project("a"), &opts(false))
            .await
            .is_ok_and(|r| r.wait_failed.is_none()));
        engine.roll_back_updates();
        let r = rt.stack_deploy(&project("b"), &opts(false)).await;
        let Ok(r) = r else {
            panic!("{r:?}");
        };
        assert!(r
            .changes
            .iter()
            .any(|c| c.starts_with("Updating service st_db")));
        let e = r.wait_failed.map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(e, "service st_db rolled back: rollback completed", "{e}");
        // Without --wait, nothing is waited for: no error.
        let mut o = opts(false);
        o.wait = false;
        let r = rt.stack_deploy(&project("c"), &o).await;
        assert!(r.is_ok_and(|r| r.wait_failed.is_none()));
    }

    #[tokio::test]
    async fn rm_removes_what_the_stack_made() {
        let (engine, rt) = setup();
        assert!(rt
            .stack_deploy(&project("a"), &opts(false))
            .await
            .is_ok_and(|r| r.wait_failed.is_none()));
        let removed = rt.stack_rm("st").await;
        assert!(
            matches!(&removed, Ok(Some(l)) if l.len() == 4),
            "{removed:?}"
        );
        let left = engine
            .list_swarm(SwarmKind::Service, &[])
            .await
            .unwrap_or_default();
        assert!(left.is_empty());
        assert!(engine
            .calls()
            .iter()
            .any(|c| c == "remove network st_default"));
        assert!(matches!(rt.stack_rm("st").await, Ok(None)));
    }
}
