//! `rcompose volumes`: the project's volumes, as the reference lists them, with their size and
//! the services that mount them.

use crate::parse::emit::json_compact;
use clap::Args;
use serde_json::{json, Map, Value};

use super::out::{out, outln};
use super::template::Template;
use super::{CliError, Context};
use crate::runtime::VolumeRow;

#[derive(Debug, Args)]
pub struct VolumesArgs {
    /// Only display volume names
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Output format: `table`, `json` (one object per line), or a Go template such as
    /// `table {{.Name}}\t{{.Size}}`
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only the volumes that running containers of these services mount
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

/// Sizes as `docker system df -v` prints them: four significant digits, decimal units.
fn size(bytes: i64) -> String {
    if bytes < 0 {
        return "N/A".into();
    }
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    let int_digits = (v.max(1.0).log10().floor() as usize) + 1;
    let text = format!("{v:.prec$}", prec = 4usize.saturating_sub(int_digits));
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{}", units[u])
}

/// The fields of a row, named as the reference's formatter names them (and `Services`).
fn fields(r: &VolumeRow) -> Map<String, Value> {
    let labels: Vec<String> = r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let v = json!({
        "Availability": "N/A",
        "Driver": r.driver,
        "Group": "N/A",
        "Labels": labels.join(","),
        "Links": r.links.filter(|l| *l >= 0).map(|l| l.to_string()).unwrap_or_else(|| "N/A".into()),
        "Mountpoint": r.mountpoint,
        "Name": r.name,
        "Scope": r.scope,
        "Services": r.services.join(","),
        "Size": r.size.map(size).unwrap_or_else(|| "N/A".into()),
        "Status": "N/A",
    });
    v.as_object().cloned().unwrap_or_default()
}

fn header(field: &str) -> String {
    match field {
        "Name" => "VOLUME NAME".into(),
        other => other.to_uppercase(),
    }
}

pub(super) async fn run(ctx: &Context, args: VolumesArgs) -> Result<(), CliError> {
    let (project, _) = ctx.project_or_name()?;
    let format = match args.format.as_str() {
        "table" => "table {{.Driver}}\t{{.Name}}\t{{.Size}}\t{{.Services}}".to_string(),
        other => other.to_string(),
    };
    let usage =
        !args.quiet && (format == "json" || format.contains(".Size") || format.contains(".Links"));
    let (rt, _) = ctx.runtime().await?;
    let rows = rt.volumes(&project.name, &args.services, usage).await?;
    if args.quiet {
        for r in &rows {
            outln!("{}", r.name)?;
        }
        return Ok(());
    }
    if format == "json" {
        for r in &rows {
            outln!("{}", json_compact(&Value::Object(fields(r))))?;
        }
        return Ok(());
    }
    let template = Template::parse(&format)?;
    let rows: Vec<Map<String, Value>> = rows.iter().map(fields).collect();
    out!("{}", template.render(&rows, header)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_have_four_significant_digits() {
        assert_eq!(size(0), "0B");
        assert_eq!(size(-1), "N/A");
        assert_eq!(size(1_234_567), "1.235MB");
        assert_eq!(size(209_715_200), "209.7MB");
        assert_eq!(size(1_000_000_000), "1GB");
        assert_eq!(size(999), "999B");
    }
}
