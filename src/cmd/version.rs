//! `rcompose version`.

use clap::{Args, ValueEnum};

use super::out::outln;
use super::CliError;
use crate::runtime::COMPOSE_VERSION;

#[derive(Debug, Args)]
pub struct VersionArgs {
    #[command(flatten)]
    pub global_long: super::LongFileOnly,
    /// Print only the version number
    #[arg(long)]
    pub short: bool,
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value = "pretty")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Pretty,
    Json,
}

pub(super) fn run(args: VersionArgs) -> Result<(), CliError> {
    let version = env!("CARGO_PKG_VERSION");
    if args.short {
        outln!("{version}")?;
    } else if args.format == Format::Json {
        outln!(
            "{}",
            serde_json::json!({"version": format!("v{version}"), "compose_compatibility": format!("v{COMPOSE_VERSION}")})
        )?;
    } else {
        outln!("rcompose version v{version} (compatible with Docker Compose v{COMPOSE_VERSION})")?;
    }
    Ok(())
}
