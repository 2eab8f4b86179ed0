//! `rcompose images`: the images the project's containers use.

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
pub struct ImagesArgs {
    /// Only print image ids
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Output format: a table, or a JSON array
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Only these services
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

/// Sizes as docker prints them: decimal units, three significant digits (`1.99MB`).
fn size(bytes: i64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    let int_digits = if v >= 100.0 {
        3
    } else if v >= 10.0 {
        2
    } else {
        1
    };
    let text = format!("{v:.prec$}", prec = 3 - int_digits);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{}", units[u])
}

pub(super) async fn run(ctx: &Context, args: ImagesArgs) -> Result<(), CliError> {
    let (project, _) = ctx.project_or_name()?;
    let (rt, _) = ctx.runtime().await?;
    let rows = rt.ps(&project.name, true).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| args.services.is_empty() || args.services.contains(&r.service))
        .collect();
    let images = rt
        .images(rows.iter().map(|r| r.image_id.clone()).collect())
        .await?;
    if args.quiet {
        let mut seen = Vec::new();
        for i in &images {
            let id = i.id.trim_start_matches("sha256:").to_string();
            if !seen.contains(&id) {
                outln!("{id}")?;
                seen.push(id);
            }
        }
        return Ok(());
    }
    let info = |id: &str| images.iter().find(|i| i.id == id);
    if args.format == Format::Json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .filter_map(|r| {
                let i = info(&r.image_id)?;
                Some(json!({
                    "ID": i.id, "ContainerName": r.name, "Repository": i.repository, "Tag": i.tag,
                    "Platform": i.platform, "Size": i.size, "LastTagTime": i.last_tag_time,
                }))
            })
            .collect();
        outln!("{}", json_compact(&serde_json::Value::Array(list)))?;
        return Ok(());
    }
    let mut table = vec![[
        "CONTAINER".to_string(),
        "REPOSITORY".into(),
        "TAG".into(),
        "PLATFORM".into(),
        "IMAGE ID".into(),
        "SIZE".into(),
        "CREATED".into(),
    ]];
    for r in &rows {
        let Some(i) = info(&r.image_id) else { continue };
        table.push([
            r.name.clone(),
            i.repository.clone(),
            i.tag.clone(),
            i.platform.clone(),
            i.id.trim_start_matches("sha256:")
                .chars()
                .take(12)
                .collect(),
            size(i.size),
            i.created_ago.clone(),
        ]);
    }
    let rows: Vec<Vec<String>> = table.into_iter().map(Vec::from).collect();
    out!("{}", super::table::tabwrite(&rows, 20, 3))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_have_three_significant_digits() {
        assert_eq!(super::size(1_985_637), "1.99MB");
        assert_eq!(super::size(512), "512B");
        assert_eq!(super::size(1_000_000), "1MB");
        assert_eq!(super::size(19_850_000), "19.9MB");
    }
}
