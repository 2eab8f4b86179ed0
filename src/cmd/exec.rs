//! `rcompose exec SERVICE COMMAND...`: a command in a running container of a service, with
//! rcompose's standard streams and the command's exit code.

use clap::Args;
use std::io::IsTerminal;

use super::{CliError, Context};
use crate::runtime::ExecSpec;

#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct ExecArgs {
    /// Run the command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Do not allocate a TTY (default: a TTY only when stdin and stdout are terminals)
    #[arg(short = 'T', long = "no-TTY", alias = "no-tty")]
    pub no_tty: bool,
    /// Accepted for compatibility: standard input is always attached
    #[arg(short = 'i', long, hide = true)]
    pub interactive: bool,
    /// Accepted for compatibility
    #[arg(short = 't', long, hide = true)]
    pub tty: bool,
    /// Set an environment variable (repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Run as this user
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    /// Working directory for the command
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// The container number of the service when it has several
    #[arg(long, default_value_t = 1)]
    pub index: u64,
    /// Give extended privileges to the command
    #[arg(long)]
    pub privileged: bool,
    pub service: String,
    #[arg(required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `-e KEY` takes the value from rcompose's environment, as docker does.
pub(super) fn env_pairs(env: &[String]) -> Vec<String> {
    env.iter()
        .filter_map(|e| {
            if e.contains('=') {
                Some(e.clone())
            } else {
                std::env::var(e).ok().map(|v| format!("{e}={v}"))
            }
        })
        .collect()
}

pub(super) async fn run(ctx: &Context, args: ExecArgs) -> Result<(), CliError> {
    if ctx.args.dry_run && !args.detach {
        return Err(CliError::new(
            "interactive exec is not supported in dry-run mode",
        ));
    }
    let (project, has_model) = ctx.project_or_name()?;
    if has_model && !project.services.contains_key(&args.service) {
        return Err(CliError::NoSuchService(args.service.clone()));
    }
    let (rt, _) = ctx.runtime().await?;
    let tty = !args.no_tty && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let spec = ExecSpec {
        cmd: args.command.clone(),
        env: env_pairs(&args.env),
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        tty,
        privileged: args.privileged,
        stdin: true,
        detach: args.detach,
    };
    let code = rt
        .exec(&project, has_model, &args.service, args.index, &spec)
        .await?;
    match code {
        None => Err(CliError::new(format!(
            "service \"{}\" is not running",
            args.service
        ))),
        Some(0) => Ok(()),
        Some(c) => Err(CliError::Exit(c as i32)),
    }
}
