//! `rcompose exec SERVICE COMMAND...`: a command in a running container of a service, with
//! rcompose's standard streams and the command's exit code.

use clap::Args;
use std::io::IsTerminal;

use super::{CliError, Context};
use crate::graph::reconcile::container_name;
use crate::runtime::attach::{self, ExecSpec};

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
pub fn env_pairs(env: &[String]) -> Vec<String> {
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

pub async fn run(ctx: &Context, args: ExecArgs) -> Result<(), CliError> {
    let (project, has_model) = ctx.project_or_name()?;
    if has_model && !project.services.contains_key(&args.service) {
        return Err(CliError::new(format!("no such service: {}", args.service)));
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
    // The container's name is known from the model: try it first, and list the project's
    // containers only when that fails (another naming, or not running: then say so).
    let direct = match project.services.get(&args.service) {
        Some(svc) if has_model => Some(container_name(&project.name, svc, args.index)),
        _ => None,
    };
    let created = match &direct {
        Some(name) => attach::create_exec(&rt.docker, name, &spec)
            .await
            .ok()
            .map(|id| (name.clone(), id)),
        None => None,
    };
    let (name, id) = match created {
        Some(found) => found,
        None => {
            let rows = rt.ps(&project.name, false).await?;
            let Some(c) = rows
                .iter()
                .find(|r| r.service == args.service && r.number == args.index)
            else {
                return Err(CliError::new(format!(
                    "service \"{}\" is not running",
                    args.service
                )));
            };
            let id = attach::create_exec(&rt.docker, &c.name, &spec).await?;
            (c.name.clone(), id)
        }
    };
    let code = attach::start_exec(&rt.docker, &name, &id, &spec).await?;
    match code {
        0 => Ok(()),
        c => Err(CliError::exit(c as i32)),
    }
}
