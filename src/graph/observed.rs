//! What the engine has for a project: plain data filled by the runtime's one snapshot.

use crate::parse::Project;

/// A container of the project, as listed by labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedContainer {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u64,
    pub config_hash: String,
    /// The image id the container was created from (`com.docker.compose.image`).
    pub image: String,
    pub state: ContainerState,
    pub oneoff: bool,
    /// Services named in the `com.docker.compose.depends_on` label.
    pub depends_on: Vec<String>,
}

impl ObservedContainer {
    pub fn running(&self) -> bool {
        self.state == ContainerState::Running
    }

    /// Running, or about to run again (`restarting`), or `paused`: stopped before it is removed
    /// or replaced.
    pub fn active(&self) -> bool {
        matches!(
            self.state,
            ContainerState::Running | ContainerState::Restarting | ContainerState::Paused
        )
    }
}

/// A container's state, as the engine reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ContainerState {
    #[default]
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    /// A state this version of rcompose does not know, as the engine said it.
    Other(String),
}

impl ContainerState {
    pub fn as_str(&self) -> &str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Restarting => "restarting",
            ContainerState::Removing => "removing",
            ContainerState::Exited => "exited",
            ContainerState::Dead => "dead",
            ContainerState::Other(s) => s,
        }
    }
}

impl From<&str> for ContainerState {
    fn from(s: &str) -> Self {
        match s {
            "created" => ContainerState::Created,
            "running" => ContainerState::Running,
            "paused" => ContainerState::Paused,
            "restarting" => ContainerState::Restarting,
            "removing" => ContainerState::Removing,
            "exited" => ContainerState::Exited,
            "dead" => ContainerState::Dead,
            other => ContainerState::Other(other.to_string()),
        }
    }
}

/// A network or volume found by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedResource {
    /// The engine's id: two networks can share a name, never an id.
    pub id: String,
    pub name: String,
    /// The `com.docker.compose.project` label, if any.
    pub project: Option<String>,
    /// The `com.docker.compose.network` / `.volume` label, if any.
    pub key: Option<String>,
}

/// One snapshot of everything that matters to a plan.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub containers: Vec<ObservedContainer>,
    pub networks: Vec<ObservedResource>,
    pub volumes: Vec<ObservedResource>,
}

impl Observed {
    pub fn network(&self, name: &str) -> Option<&ObservedResource> {
        self.networks.iter().find(|n| n.name == name)
    }

    pub fn volume(&self, name: &str) -> Option<&ObservedResource> {
        self.volumes.iter().find(|n| n.name == name)
    }

    /// Every external network a service uses, and every external volume, is on the engine.
    pub fn check_external(&self, project: &Project) -> Result<(), MissingExternal> {
        for (key, n) in project.networks.iter().filter(|(_, n)| n.external) {
            let used = project
                .services
                .values()
                .any(|s| s.networks.contains_key(key));
            if used && self.network(&n.name).is_none() {
                return Err(MissingExternal::Network(n.name.clone()));
            }
        }
        for v in project.volumes.values().filter(|v| v.external) {
            if self.volume(&v.name).is_none() {
                return Err(MissingExternal::Volume(v.name.clone()));
            }
        }
        Ok(())
    }
}

/// An external resource the project needs and the engine does not have (by engine name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MissingExternal {
    #[error("network {0} declared as external, but could not be found")]
    Network(String),
    #[error("external volume \"{0}\" not found")]
    Volume(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Network, Service, Volume};

    #[test]
    fn external_resources_must_be_observed() {
        let mut p = Project::default();
        let net = Network {
            name: "shared".into(),
            external: true,
            ..Default::default()
        };
        p.networks.insert("front".into(), net);
        let mut observed = Observed::default();
        // An external network no service uses is not needed.
        assert_eq!(observed.check_external(&p), Ok(()));
        let mut web = Service::default();
        web.networks.insert("front".into(), None);
        p.services.insert("web".into(), web);
        assert_eq!(
            observed.check_external(&p).unwrap_err().to_string(),
            "network shared declared as external, but could not be found"
        );
        observed.networks.push(ObservedResource {
            name: "shared".into(),
            ..Default::default()
        });
        assert_eq!(observed.check_external(&p), Ok(()));
        let vol = Volume {
            name: "data".into(),
            external: true,
            ..Default::default()
        };
        p.volumes.insert("data".into(), vol);
        assert_eq!(
            observed.check_external(&p),
            Err(MissingExternal::Volume("data".into()))
        );
        assert_eq!(
            MissingExternal::Volume("data".into()).to_string(),
            "external volume \"data\" not found"
        );
    }
}
