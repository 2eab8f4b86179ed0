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
    super::table::tabwrite(rows, 4, 2)
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
