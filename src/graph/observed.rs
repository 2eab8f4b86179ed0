//! What the engine has for a project: plain data filled by the runtime's one snapshot.

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
    /// Engine state: `running`, `exited`, `created`, `paused`, ...
    pub state: String,
    pub oneoff: bool,
    /// Services named in the `com.docker.compose.depends_on` label.
    pub depends_on: Vec<String>,
}

impl ObservedContainer {
    pub fn running(&self) -> bool {
        self.state == "running"
    }
}

/// A network or volume found by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedResource {
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
}
