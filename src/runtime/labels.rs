//! The `com.docker.compose.*` labels: the interop contract with docker compose v2.

pub(super) const PROJECT: &str = "com.docker.compose.project";
pub(super) const SERVICE: &str = "com.docker.compose.service";
pub(super) const NUMBER: &str = "com.docker.compose.container-number";
pub(super) const ONEOFF: &str = "com.docker.compose.oneoff";
pub(super) const SLUG: &str = "com.docker.compose.slug";
pub(super) const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub(super) const VERSION: &str = "com.docker.compose.version";
pub(super) const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub(super) const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub(super) const ENVIRONMENT_FILE: &str = "com.docker.compose.project.environment_file";
pub(super) const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub(super) const IMAGE: &str = "com.docker.compose.image";
pub(super) const NETWORK: &str = "com.docker.compose.network";
pub(super) const VOLUME: &str = "com.docker.compose.volume";

/// The version written in `com.docker.compose.version`: the docker compose release whose
/// behaviour rcompose matches, so that either tool reads the other's resources as its own.
pub const COMPOSE_VERSION: &str = "2.40.3";

/// `label=<project label>=<name>` filter value.
pub(super) fn project_filter(project: &str) -> String {
    format!("{PROJECT}={project}")
}
