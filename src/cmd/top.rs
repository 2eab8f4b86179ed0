//! `rcompose top [SERVICE...]`: the processes of the project's running containers.

use clap::Args;

use super::out::out;
use super::{CliError, Context};

#[derive(Debug, Args)]
pub struct TopArgs {
    /// Only these services
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

/// Columns as Go's tabwriter lays them out for the reference (min width 4, padding 2).
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count() + 2).max(4);
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}", w = widths[i]));
            }
        }
        out.push('\n');
    }
    out
}

pub(super) async fn run(ctx: &Context, args: TopArgs) -> Result<(), CliError> {
    let (project, _) = ctx.project_or_name()?;
    let (rt, _) = ctx.runtime().await?;
    let rows = rt.ps(&project.name, false).await?;
    let mut out: Vec<Vec<String>> = Vec::new();
    for r in rows
        .iter()
        .filter(|r| args.services.is_empty() || args.services.contains(&r.service))
    {
        let (titles, procs) = rt.top(&r.name).await?;
        if out.is_empty() {
            let mut head = vec!["SERVICE".to_string(), "#".to_string()];
            head.extend(titles);
            out.push(head);
        }
        for p in procs {
            let mut row = vec![r.service.clone(), r.number.to_string()];
            row.extend(p);
            out.push(row);
        }
    }
    out!("{}", table(&out))?;
    Ok(())
}
