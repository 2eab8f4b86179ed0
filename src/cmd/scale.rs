//! `rcompose scale SERVICE=REPLICAS...`: `up -d` of those services with those numbers of
//! containers, as the reference does.

use clap::{Args, Parser};

use super::up::UpArgs;
use super::{CliError, Context};

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// Do not start the services they depend on
    #[arg(long)]
    pub no_deps: bool,
    #[arg(value_name = "SERVICE=REPLICAS", required = true)]
    pub scale: Vec<String>,
}

/// `up`'s flags, parsed from the words `scale` stands for.
#[derive(Debug, Parser)]
struct AsUp {
    #[command(flatten)]
    up: UpArgs,
}

pub(super) async fn run(ctx: &Context, args: ScaleArgs) -> Result<(), CliError> {
    let mut words = vec!["scale".to_string(), "--detach".into()];
    if args.no_deps {
        words.push("--no-deps".into());
    }
    let mut services = Vec::new();
    for s in &args.scale {
        let Some((service, n)) = s.split_once('=').filter(|(_, n)| n.parse::<u64>().is_ok()) else {
            return Err(CliError::new(format!(
                "invalid scale `{s}`: expected SERVICE=REPLICAS, e.g. web=3"
            )));
        };
        words.push("--scale".into());
        words.push(s.clone());
        let _ = n;
        services.push(service.to_string());
    }
    words.extend(services);
    let up = AsUp::try_parse_from(words)
        .map_err(|e| CliError::new(format!("scale: {e}")))?
        .up;
    super::up::run(ctx, up).await
}
