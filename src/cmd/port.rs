//! `rcompose port SERVICE PRIVATE_PORT`: the public address of a container's port.

use clap::Args;

use super::out::outln;
use super::{CliError, Context};

#[derive(Debug, Args)]
pub struct PortArgs {
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// The container number of the service when it has several
    #[arg(long, default_value_t = 1)]
    pub index: u64,
    pub service: String,
    pub private_port: u16,
}

pub(super) async fn run(ctx: &Context, args: PortArgs) -> Result<(), CliError> {
    let (project, has_model) = ctx.project_or_name()?;
    if has_model && !project.services.contains_key(&args.service) {
        return Err(CliError::NoSuchService(args.service.clone()));
    }
    let (rt, _) = ctx.runtime().await?;
    let rows = rt.ps(&project.name, true).await?;
    let Some(c) = rows
        .iter()
        .find(|r| r.service == args.service && r.number == args.index)
    else {
        return Err(CliError::new(format!(
            "service \"{}\" is not running container #{}",
            args.service, args.index
        )));
    };
    let found = c.publishers.iter().find(|p| {
        p.target_port == args.private_port && p.protocol == args.protocol && p.published_port != 0
    });
    match found {
        Some(p) => {
            outln!("{}:{}", p.url, p.published_port)?;
            Ok(())
        }
        None => {
            let published: Vec<String> = c
                .publishers
                .iter()
                .filter(|p| p.published_port != 0)
                .map(|p| format!("{}/{}", p.published_port, p.protocol))
                .collect();
            Err(CliError::new(format!(
                "no port {}/{} for container {}: {}",
                args.private_port,
                args.protocol,
                c.name,
                published.join(", ")
            )))
        }
    }
}
