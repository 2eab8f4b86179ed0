//! `rcompose run SERVICE [COMMAND...]`: a one-off container of a service, its exit code as ours.

use clap::Args;
use std::io::IsTerminal;
use std::sync::Arc;

use super::exec::env_pairs;
use super::out::outln;
use super::{CliError, Context};
use crate::parse::canonical;
use crate::runtime::{OneOff, ProjectLock};

#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    #[command(flatten)]
    pub global_long: super::LongProjectNameOnly,
    /// Run in the background and print the container name
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Do not allocate a TTY (default: a TTY only when stdin and stdout are terminals)
    #[arg(short = 'T', long = "no-TTY", alias = "no-tty")]
    pub no_tty: bool,
    /// Accepted for compatibility: standard input is always attached
    #[arg(short = 'i', long, hide = true)]
    pub interactive: bool,
    /// Set an environment variable (repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Add or override a label (repeatable)
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Override the image's entrypoint
    #[arg(long, value_name = "CMD")]
    pub entrypoint: Option<String>,
    /// Do not start the services the service depends on
    #[arg(long)]
    pub no_deps: bool,
    /// Name of the container
    #[arg(long)]
    pub name: Option<String>,
    /// Run as this user
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// Bind mount a volume (repeatable)
    #[arg(short = 'v', long = "volume", value_name = "VOLUME")]
    pub volumes: Vec<String>,
    /// Publish a port (repeatable)
    #[arg(short = 'p', long = "publish", value_name = "PORT")]
    pub publish: Vec<String>,
    /// Publish the service's ports
    #[arg(short = 'P', long)]
    pub service_ports: bool,
    /// Keep the service's network aliases
    #[arg(long)]
    pub use_aliases: bool,
    /// Remove containers of services not in the file [env: COMPOSE_REMOVE_ORPHANS]
    #[arg(long, env = "COMPOSE_REMOVE_ORPHANS", hide_env = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub remove_orphans: bool,
    /// Build the image before starting the container
    #[arg(long)]
    pub build: bool,
    /// Do not print anything but the container's output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Add Linux capabilities (repeatable)
    #[arg(long, value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities (repeatable)
    #[arg(long, value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Set environment variables from a file (repeatable; before -e)
    #[arg(long, value_name = "FILE")]
    pub env_from_file: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub images: super::up::ImageFlags,
    pub service: String,
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
}

pub(super) async fn run(ctx: &Context, args: RunArgs) -> Result<(), CliError> {
    if ctx.args.dry_run && !args.detach {
        return Err(CliError::new(
            "interactive run is not supported in dry-run mode",
        ));
    }
    let mut project = ctx.load(std::slice::from_ref(&args.service))?;
    crate::parse::validate::runnable(&project).map_err(CliError::new)?;
    args.images.pull.apply(&mut project);
    let Some(svc) = project.services.get(&args.service) else {
        return Err(CliError::NoSuchService(args.service.clone()));
    };
    let mut svc = svc.clone();
    if !args.command.is_empty() {
        svc.command = Some(args.command.clone());
    }
    if let Some(e) = &args.entrypoint {
        let words = shell_words::split(e)
            .map_err(|err| CliError::new(format!("invalid --entrypoint `{e}`: {err}")))?;
        svc.entrypoint = Some(words);
        if args.command.is_empty() {
            svc.command = None;
        }
    }
    for file in &args.env_from_file {
        let vars = crate::parse::env::read_file(file, false, &|_: &str| None)
            .map_err(|e| CliError::new(format!("--env-from-file: {e}")))?;
        for (k, v) in vars {
            svc.environment.insert(k, Some(v));
        }
    }
    for pair in env_pairs(&args.env) {
        if let Some((k, v)) = pair.split_once('=') {
            svc.environment.insert(k.to_string(), Some(v.to_string()));
        }
    }
    for l in &args.labels {
        let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
        svc.labels.insert(k.to_string(), v.to_string());
    }
    svc.cap_add.extend(args.cap_add.iter().cloned());
    svc.cap_drop.extend(args.cap_drop.iter().cloned());
    if args.user.is_some() {
        svc.user = args.user.clone();
    }
    if args.workdir.is_some() {
        svc.working_dir = args.workdir.clone();
    }
    if !args.volumes.is_empty() {
        let extra = canonical::cli_volumes(&args.volumes, &project.working_dir)
            .map_err(|e| CliError::new(format!("invalid --volume: {e}")))?;
        svc.volumes.extend(extra);
    }
    if !args.publish.is_empty() {
        svc.ports = canonical::cli_ports(&args.publish)
            .map_err(|e| CliError::new(format!("invalid --publish: {e}")))?;
    } else if !args.service_ports {
        svc.ports.clear();
    }
    // A one-off container is not restarted, and has the terminal only when there is one.
    svc.restart = None;
    if let Some(d) = svc.deploy.as_mut() {
        d.restart_policy = None;
    }
    svc.tty = !args.no_tty && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let run = OneOff {
        service: svc,
        name: args.name.clone(),
        deps: !args.no_deps,
        detach: args.detach,
        rm: args.rm,
        stdin: true,
        use_aliases: args.use_aliases,
        remove_orphans: args.remove_orphans,
        early_probe: super::early_probe(),
    };
    let (rt, renderer) = ctx.runtime().await?;
    // The reference's header for what `run` makes before its container.
    renderer.title("Creating");
    let rt = if args.quiet { rt.quiet() } else { rt };
    // Like `up`, `run` creates the project's networks and volumes: one command at a time.
    let lock = ProjectLock::acquire(&project.name).await?;
    let named = vec![args.service.clone()];
    let needed = crate::graph::select(&project, &named, !args.no_deps).unwrap_or(named);
    let prepared = args.images.pull.prepare(
        &rt,
        &project,
        &needed,
        Some(args.build),
        args.images.quiet_build,
    );
    if let Err(e) = super::interruptible(prepared).await {
        renderer.finish();
        return Err(e);
    }
    let out = rt
        .run_oneoff(Arc::new(project), &run, Some(lock), || renderer.finish())
        .await;
    renderer.finish();
    let (name, code) = match out {
        Err(crate::runtime::Error::Interrupted) => return Err(CliError::Interrupted),
        other => other?,
    };
    if args.detach {
        outln!("{name}")?;
    }
    match code {
        0 => Ok(()),
        c => {
            // The reference ends a failed one-off with an empty line on stderr (after `^C` too).
            eprintln!();
            Err(CliError::Exit(c as i32))
        }
    }
}
