//! `rcompose ps`.

use clap::Args;

use super::{CliError, Context};

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers, stopped ones too
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only print container ids
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Only these services
    pub services: Vec<String>,
}

/// "2 minutes ago" as docker prints it.
fn ago(created: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let s = (now - created).max(0);
    match s {
        0..=1 => "Less than a second ago".into(),
        2..=59 => format!("{s} seconds ago"),
        60..=119 => "About a minute ago".into(),
        120..=3599 => format!("{} minutes ago", s / 60),
        3600..=7199 => "About an hour ago".into(),
        7200..=172_799 => format!("{} hours ago", s / 3600),
        _ => format!("{} days ago", s / 86400),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

pub async fn run(ctx: &Context, args: PsArgs) -> Result<(), CliError> {
    let (project, _) = ctx.project_or_name()?;
    let (rt, _) = ctx.runtime().await?;
    let rows = rt.ps(&project.name, args.all).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| args.services.is_empty() || args.services.contains(&r.service))
        .collect();
    if args.quiet {
        for r in rows {
            println!("{}", r.id);
        }
        return Ok(());
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.image.clone(),
                format!("\"{}\"", truncate(&r.command, 20)),
                r.service.clone(),
                ago(r.created),
                r.status.clone(),
                r.ports.join(", "),
            ]
        })
        .collect();
    let header = [
        "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &table {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}   ", w = widths[i]));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in &table {
        line(row.iter().map(String::as_str).collect());
    }
    Ok(())
}
