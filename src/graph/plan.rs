//! A plan: engine operations, each with the steps it waits for and why it is there.

use std::fmt;

use super::probe::Probe;
use super::secrets::SecretFile;
use crate::parse::Condition;

/// One engine operation (or one wait), the unit the executor runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// An image the engine does not have, pulled before the containers that use it.
    PullImage {
        image: String,
    },
    CreateNetwork {
        key: String,
        name: String,
    },
    CreateVolume {
        key: String,
        name: String,
    },
    CreateContainer {
        service: String,
        number: u64,
        name: String,
        /// A container (being replaced) whose anonymous volumes the new one keeps.
        inherit: Option<String>,
    },
    RenameContainer {
        name: String,
        to: String,
    },
    /// The private files of a container's `environment` and `content` secrets and configs.
    WriteSecretFiles {
        container: String,
        files: Vec<SecretFile>,
    },
    /// The one-off container of `run`, from the (command-line adjusted) `service`.
    CreateOneOff {
        service: String,
        name: String,
        /// `com.docker.compose.slug`.
        slug: String,
        /// Keep standard input open for an attached run.
        stdin: bool,
        /// Keep the service's network aliases.
        use_aliases: bool,
    },
    StartContainer {
        service: String,
        name: String,
    },
    /// A container that is up to date: nothing to do; `Running` is said when it runs.
    KeepContainer {
        service: String,
        name: String,
        running: bool,
    },
    /// `--wait`: done when container `name` is running (healthy with a healthcheck), or, with
    /// `completed`, when it exited 0.
    AwaitContainer {
        service: String,
        name: String,
        completed: bool,
    },
    /// Done when the service's containers meet the condition; dependents wait on it.
    Await {
        service: String,
        condition: Condition,
        /// `service_healthy`: the healthcheck rcompose runs itself from the start (see
        /// [`super::probe`]); `None` leaves the verdict to the engine's own probes.
        probe: Option<Probe>,
    },
    /// Stop, killing after `timeout` seconds (`None`: the container's own stop timeout).
    StopContainer {
        name: String,
        timeout: Option<i64>,
    },
    RestartContainer {
        name: String,
        timeout: Option<i64>,
    },
    KillContainer {
        name: String,
        signal: String,
    },
    PauseContainer {
        name: String,
    },
    UnpauseContainer {
        name: String,
    },
    RemoveContainer {
        name: String,
        volumes: bool,
    },
    /// By id: a project may hold two networks of one name (made by a race before the lock).
    RemoveNetwork {
        name: String,
        id: String,
    },
    RemoveVolume {
        name: String,
    },
    /// `down --rmi`: an image by name or id; one that is gone already is fine.
    RemoveImage {
        name: String,
    },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::PullImage { image } => write!(f, "pull image {image}"),
            Op::AwaitContainer {
                name, completed, ..
            } => {
                let what = if *completed {
                    "to exit 0"
                } else {
                    "running or healthy"
                };
                write!(f, "await container {name} {what}")
            }
            Op::CreateNetwork { name, .. } => write!(f, "create network {name}"),
            Op::CreateVolume { name, .. } => write!(f, "create volume {name}"),
            Op::CreateContainer { name, inherit, .. } => {
                write!(f, "create container {name}")?;
                if let Some(old) = inherit {
                    write!(f, " with the anonymous volumes of {old}")?;
                }
                Ok(())
            }
            Op::RenameContainer { name, to } => write!(f, "rename container {name} to {to}"),
            Op::WriteSecretFiles { container, files } => {
                write!(f, "write {} secret files of {container}", files.len())
            }
            Op::CreateOneOff { name, .. } => write!(f, "create one-off container {name}"),
            Op::StartContainer { name, .. } => write!(f, "start container {name}"),
            Op::KeepContainer { name, .. } => write!(f, "keep container {name}"),
            Op::Await {
                service,
                condition,
                probe,
            } => {
                write!(f, "await {service} {}", condition.as_str())?;
                if probe.is_some() {
                    write!(f, ", probing early")?;
                }
                Ok(())
            }
            Op::StopContainer { name, timeout } => {
                write!(f, "stop container {name}")?;
                within(f, *timeout)
            }
            Op::RestartContainer { name, timeout } => {
                write!(f, "restart container {name}")?;
                within(f, *timeout)
            }
            Op::KillContainer { name, signal } => write!(f, "kill container {name} with {signal}"),
            Op::PauseContainer { name } => write!(f, "pause container {name}"),
            Op::UnpauseContainer { name } => write!(f, "unpause container {name}"),
            Op::RemoveContainer { name, volumes } => {
                write!(f, "remove container {name}")?;
                if *volumes {
                    f.write_str(" with anonymous volumes")?;
                }
                Ok(())
            }
            Op::RemoveNetwork { name, .. } => write!(f, "remove network {name}"),
            Op::RemoveVolume { name } => write!(f, "remove volume {name}"),
            Op::RemoveImage { name } => write!(f, "remove image {name}"),
        }
    }
}

/// ` within Ns` when a stop has its own timeout.
fn within(f: &mut fmt::Formatter<'_>, timeout: Option<i64>) -> fmt::Result {
    match timeout {
        Some(t) => write!(f, " within {t}s"),
        None => Ok(()),
    }
}

/// An operation in a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub op: Op,
    /// Indexes of the steps that must finish first.
    pub deps: Vec<usize>,
    pub cause: String,
}

/// Steps in an order where every step comes after its dependencies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Things to tell the user that are not operations (e.g. orphans left in place).
    pub warnings: Vec<String>,
}

impl Plan {
    /// Why the plan cannot run: a secret it would write comes from an environment variable
    /// that is not set (the reference's message).
    pub fn unset_secret(&self) -> Option<&str> {
        self.steps.iter().find_map(|s| match &s.op {
            Op::WriteSecretFiles { files, .. } => files.iter().find_map(|f| f.unset.as_deref()),
            _ => None,
        })
    }

    /// Adds a step and returns its index.
    pub fn add(&mut self, op: Op, deps: Vec<usize>, cause: impl Into<String>) -> usize {
        let mut deps = deps;
        deps.sort_unstable();
        deps.dedup();
        self.steps.push(Step {
            op,
            deps,
            cause: cause.into(),
        });
        self.steps.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan of a dry run: nothing will run, so there is nothing to wait for. Waits are
    /// dropped; a step that came after one comes after what the wait came after.
    pub fn without_waits(&self) -> Plan {
        let is_wait = |op: &Op| matches!(op, Op::Await { .. } | Op::AwaitContainer { .. });
        // Old index -> new index, or the new indexes that stand in for a dropped wait.
        let mut map: Vec<Vec<usize>> = Vec::with_capacity(self.steps.len());
        let mut plan = Plan {
            steps: Vec::new(),
            warnings: self.warnings.clone(),
        };
        for step in &self.steps {
            let deps: Vec<usize> = step
                .deps
                .iter()
                .flat_map(|d| map.get(*d).cloned().unwrap_or_default())
                .collect();
            if is_wait(&step.op) {
                map.push(deps);
            } else {
                map.push(vec![plan.add(step.op.clone(), deps, step.cause.clone())]);
            }
        }
        plan
    }
}

impl fmt::Display for Plan {
    /// One line per step: `#i op <- #deps (cause)`; golden tests assert on this text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.steps.iter().enumerate() {
            write!(f, "#{i} {}", s.op)?;
            if !s.deps.is_empty() {
                let deps: Vec<String> = s.deps.iter().map(|d| format!("#{d}")).collect();
                write!(f, " <- {}", deps.join(","))?;
            }
            writeln!(f, " ({})", s.cause)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_plan_keeps_the_order_waits_gave() {
        let mut p = Plan::default();
        let start = |n: &str| Op::StartContainer {
            service: n.into(),
            name: format!("p-{n}-1"),
        };
        let db = p.add(start("db"), vec![], "missing");
        let wait = p.add(
            Op::Await {
                service: "db".into(),
                condition: Condition::ServiceHealthy,
                probe: None,
            },
            vec![db],
            "web depends on it",
        );
        p.add(start("web"), vec![wait], "missing");
        assert_eq!(
            p.without_waits().to_string(),
            "#0 start container p-db-1 (missing)\n#1 start container p-web-1 <- #0 (missing)\n"
        );
    }
}
