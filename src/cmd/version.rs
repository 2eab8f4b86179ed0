//! `rcompose version`: rcompose's own version for people; for scripts (`--short`,
//! `--format json`), the Docker Compose version rcompose stands in for, byte for byte as
//! docker compose prints its own, so that checks like testcontainers' `version --short` pass.

use clap::{Args, ValueEnum};

use super::out::outln;
use super::CliError;
use crate::runtime::COMPOSE_VERSION;

/// Overrides the Compose version reported to scripts (`2.40.3` or `v2.40.3`).
pub(super) const COMPAT_VERSION_ENV: &str = "RCOMPOSE_COMPAT_VERSION";

#[derive(Debug, Args)]
pub struct VersionArgs {
    #[command(flatten)]
    pub global_long: super::LongFileOnly,
    /// Print only the Compose-compatible version number [env: RCOMPOSE_COMPAT_VERSION]
    #[arg(long)]
    pub short: bool,
    /// Output format (json: the Compose-compatible version)
    #[arg(short = 'f', long, value_enum, default_value = "pretty")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Pretty,
    Json,
}

/// The Compose version rcompose reports to scripts: `RCOMPOSE_COMPAT_VERSION` (without its
/// leading `v`), or the one it is compatible with.
pub(super) fn compat_version() -> String {
    compat_from(std::env::var(COMPAT_VERSION_ENV).ok())
}

fn compat_from(var: Option<String>) -> String {
    var.map(|v| v.trim().trim_start_matches('v').to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| COMPOSE_VERSION.to_string())
}

pub(super) fn run(args: VersionArgs) -> Result<(), CliError> {
    let compat = compat_version();
    if args.short {
        outln!("{compat}")?;
    } else if args.format == Format::Json {
        outln!("{}", serde_json::json!({ "version": format!("v{compat}") }))?;
    } else {
        outln!(
            "rcompose version v{} (compatible with Docker Compose v{compat})",
            env!("CARGO_PKG_VERSION")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compat_version_comes_from_the_variable_without_its_v() {
        assert_eq!(compat_from(None), COMPOSE_VERSION);
        assert_eq!(compat_from(Some(String::new())), COMPOSE_VERSION);
        assert_eq!(compat_from(Some("v2.99.0".into())), "2.99.0");
        assert_eq!(compat_from(Some("5.0.1".into())), "5.0.1");
    }
}
