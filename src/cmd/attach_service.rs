//! `rcompose attach SERVICE`: this terminal's streams joined to a service's running container.

use clap::Args;

use super::{CliError, Context};

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Accepted for compatibility (Ctrl-C ends the attachment)
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// The container number of the service when it has several
    #[arg(long, default_value_t = 1)]
    pub index: u64,
    /// Do not attach standard input
    #[arg(long)]
    pub no_stdin: bool,
    /// Accepted for compatibility
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    pub service: String,
}

pub(super) async fn run(ctx: &Context, args: AttachArgs) -> Result<(), CliError> {
    let (project, _) = ctx.project_or_name()?;
    let (rt, _) = ctx.runtime().await?;
    let container =
        Context::service_container(&rt, &project.name, &args.service, args.index).await?;
    match rt.attach(&container, !args.no_stdin).await? {
        0 => Ok(()),
        c => Err(CliError::Exit(c as i32)),
    }
}
