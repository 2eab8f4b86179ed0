//! `rcompose ls`: the projects on this engine, found by their labels.

use crate::parse::emit::json_compact;
use clap::{Args, ValueEnum};
use serde_json::json;

use super::out::{out, outln};
use super::{CliError, Context};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Show stopped projects too
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only print project names
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Output format: a table, or a JSON array
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Filter by a property (`name=NAME`)
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
}

pub(super) async fn run(ctx: &Context, args: LsArgs) -> Result<(), CliError> {
    let mut names = Vec::new();
    for f in &args.filter {
        match f.split_once('=') {
            Some(("name", v)) => names.push(v.to_string()),
            _ => {
                return Err(CliError::new(format!(
                    "invalid filter `{f}`: the supported filter is name=NAME"
                )))
            }
        }
    }
    let (rt, _) = ctx.runtime().await?;
    let projects = rt.projects(args.all).await?;
    let projects: Vec<_> = projects
        .into_iter()
        .filter(|p| names.is_empty() || names.iter().any(|n| p.name.contains(n.as_str())))
        .collect();
    if args.quiet {
        for p in &projects {
            outln!("{}", p.name)?;
        }
        return Ok(());
    }
    let status = |p: &crate::runtime::ProjectRow| {
        let s: Vec<String> = p.states.iter().map(|(k, n)| format!("{k}({n})")).collect();
        s.join(", ")
    };
    if args.format == Format::Json {
        let list: Vec<serde_json::Value> = projects
            .iter()
            .map(|p| json!({"Name": p.name, "Status": status(p), "ConfigFiles": p.config_files}))
            .collect();
        outln!("{}", json_compact(&serde_json::Value::Array(list)))?;
        return Ok(());
    }
    let mut rows = vec![vec![
        "NAME".to_string(),
        "STATUS".into(),
        "CONFIG FILES".into(),
    ]];
    rows.extend(
        projects
            .iter()
            .map(|p| vec![p.name.clone(), status(p), p.config_files.clone()]),
    );
    out!("{}", super::table::tabwrite(&rows, 20, 3))?;
    Ok(())
}
