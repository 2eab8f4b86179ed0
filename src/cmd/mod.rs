//! The command line: flags to options, results to text. No YAML and no engine types here.

mod attach;
mod attach_service;
mod backup;
mod build;
mod commit;
mod completion;
mod config;
mod cp;
mod dockercli;
mod down;
pub mod error;
mod events;
mod exec;
pub mod exit;
mod export;
mod images;
mod install;
mod lifecycle;
mod logfmt;
mod logs;
mod ls;
pub mod man;
mod out;
mod port;
mod progress;
mod ps;
mod pull;
mod push;
mod run;
mod scale;
mod stack;
mod stats;
mod table;
mod template;
mod top;
mod up;
mod version;
mod volumes;
mod wait;
mod warn;
mod watch;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

pub use error::CliError;

use crate::parse::{self, LoadOptions, Project};
use crate::runtime::Runtime;

/// A Docker Compose-compatible orchestrator.
#[derive(Debug, Parser)]
#[command(name = "rcompose", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub docker: dockercli::DockerArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every command: which files, which project, how to show progress.
#[derive(Debug, Clone, Args)]
pub struct ProjectArgs {
    /// Compose configuration files (repeatable; `-` reads standard input) [env: COMPOSE_FILE]
    #[arg(short = 'f', long = "file", global = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Project name [env: COMPOSE_PROJECT_NAME]
    #[arg(short = 'p', long = "project-name", global = true, value_name = "NAME")]
    pub project_name: Option<String>,
    /// Alternate working directory (default: the folder of the first compose file)
    #[arg(long, global = true, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Alternate environment files (repeatable) [env: COMPOSE_ENV_FILES]
    #[arg(long = "env-file", global = true, value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// Profiles to enable (repeatable; `*` enables all) [env: COMPOSE_PROFILES]
    #[arg(
        long = "profile",
        id = "profile",
        global = true,
        value_name = "PROFILE"
    )]
    pub profiles: Vec<String>,
    /// When to use colours [env: COMPOSE_ANSI]
    #[arg(long, global = true, value_name = "WHEN", env = "COMPOSE_ANSI", hide_env = true, value_parser = AnsiParser)]
    pub ansi: Option<Ansi>,
    /// How to show progress [env: COMPOSE_PROGRESS]
    #[arg(
        long,
        global = true,
        value_name = "MODE",
        env = "COMPOSE_PROGRESS",
        hide_env = true,
        value_parser = ProgressParser
    )]
    pub progress: Option<ProgressMode>,
    /// Maximum number of engine calls at once [env: COMPOSE_PARALLEL_LIMIT]
    #[arg(
        long,
        global = true,
        value_name = "N",
        env = "COMPOSE_PARALLEL_LIMIT",
        hide_env = true
    )]
    pub parallel: Option<i64>,
    /// Print the plan (`up`, `down`), change nothing
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Include all resources, even those not used by services
    #[arg(long, global = true)]
    pub all_resources: bool,
}

/// `--file` without its short form, for commands whose own `-f` means something else
/// (`logs -f`, `rm -f`, `version -f`), as in docker compose: `-f` after them is theirs.
#[derive(Debug, Clone, Args)]
pub struct LongFileOnly {
    #[arg(long = "file", id = "files", value_name = "FILE", hide = true)]
    files: Vec<String>,
}

/// `--project-name` without its short form, for `run`, whose `-p` is `--publish`.
#[derive(Debug, Clone, Args)]
pub struct LongProjectNameOnly {
    #[arg(
        long = "project-name",
        id = "project_name",
        value_name = "NAME",
        hide = true
    )]
    project_name: Option<String>,
}

/// The words after a command rcompose does not have.
#[derive(Debug, Clone, Args)]
pub struct Unsupported {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    words: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ansi {
    Never,
    Always,
    Auto,
}

/// `--ansi` / `COMPOSE_ANSI`: one of [`Ansi`]; another value means `auto`, as in the reference.
#[derive(Debug, Clone, Copy)]
struct AnsiParser;

impl clap::builder::TypedValueParser for AnsiParser {
    type Value = Ansi;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Ansi, clap::Error> {
        let known = value.to_str().and_then(|v| Ansi::from_str(v, true).ok());
        Ok(known.unwrap_or(Ansi::Auto))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let values = Ansi::value_variants().iter();
        Some(Box::new(values.filter_map(ValueEnum::to_possible_value)))
    }
}

/// `--progress` / `COMPOSE_PROGRESS`: one of [`ProgressMode`] (any case); empty means `auto`,
/// as in the reference, which refuses another value.
#[derive(Debug, Clone, Copy)]
struct ProgressParser;

impl clap::builder::TypedValueParser for ProgressParser {
    type Value = ProgressMode;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<ProgressMode, clap::Error> {
        if value.is_empty() {
            return Ok(ProgressMode::Auto);
        }
        clap::builder::EnumValueParser::<ProgressMode>::new().parse_ref(
            cmd,
            arg,
            &value.to_ascii_lowercase(),
        )
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let values = ProgressMode::value_variants().iter();
        Some(Box::new(values.filter_map(ValueEnum::to_possible_value)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    Auto,
    Tty,
    Plain,
    Json,
    Quiet,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and start containers
    Up(up::UpArgs),
    /// Stop and remove containers, networks (and volumes with -v)
    Down(down::DownArgs),
    /// View output from containers
    Logs(logs::LogsArgs),
    /// Pull service images
    Pull(pull::PullArgs),
    /// Build service images
    Build(build::BuildArgs),
    /// Create containers without starting them
    Create(up::CreateArgs),
    /// Start existing containers
    Start(lifecycle::StartArgs),
    /// Stop running containers without removing them
    Stop(lifecycle::StopArgs),
    /// Restart containers
    Restart(lifecycle::RestartArgs),
    /// Force stop containers with a signal
    Kill(lifecycle::KillArgs),
    /// Remove stopped containers
    Rm(lifecycle::RmArgs),
    /// Pause containers
    Pause(lifecycle::ServicesArgs),
    /// Unpause containers
    Unpause(lifecycle::ServicesArgs),
    /// Validate and print the canonical compose model
    Config(config::ConfigArgs),
    /// List containers
    Ps(ps::PsArgs),
    /// Run a one-off command in a new container of a service
    Run(run::RunArgs),
    /// Run a command in a running container
    Exec(exec::ExecArgs),
    /// Print the public port of a container's port
    Port(port::PortArgs),
    /// List running compose projects
    Ls(ls::LsArgs),
    /// List the images used by the project's containers
    Images(images::ImagesArgs),
    /// Copy files between a service container and this machine
    Cp(cp::CpArgs),
    /// Display the running processes
    Top(top::TopArgs),
    /// Stream the project's container events
    Events(events::EventsArgs),
    /// Block until the containers of services stop; exit with the last one's code
    Wait(wait::WaitArgs),
    /// Watch build context for service and rebuild/refresh containers when files are updated
    Watch(watch::WatchArgs),
    /// Display a live stream of the containers' resource usage
    Stats(stats::StatsArgs),
    /// Attach this terminal to a service's running container
    Attach(attach_service::AttachArgs),
    /// Scale services (`up -d` with these numbers of containers)
    Scale(scale::ScaleArgs),
    /// Export a service container's filesystem as a tar archive
    Export(export::ExportArgs),
    /// Create a new image from a service container's changes
    Commit(commit::CommitArgs),
    /// Push the images of services that build one
    Push(push::PushArgs),
    /// List volumes, with their size and the services that mount them
    Volumes(volumes::VolumesArgs),
    /// Back up the project's volumes into one archive (services stopped in dependency order)
    Backup(backup::BackupArgs),
    /// Restore volumes from a backup archive, with their labels, owners and modes
    Restore(backup::RestoreArgs),
    /// Deploy the project to a swarm, and manage stacks (as `docker stack`)
    Stack(stack::StackArgs),
    /// Not supported: publishing a project to an OCI registry
    #[command(disable_help_flag = true)]
    Publish(Unsupported),
    /// Not supported: converting the project to another model (Kubernetes, Helm)
    #[command(disable_help_flag = true)]
    Bridge(Unsupported),
    /// Show the rcompose version
    Version(version::VersionArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell)
    Completion(completion::CompletionArgs),
    /// Link rcompose in as the docker CLI plugin or a standalone docker-compose (or undo it)
    Install(install::InstallArgs),
}

/// Runs rcompose with these arguments; returns the process exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    // The docker CLI plugin protocol: `docker compose ...` runs `docker-compose compose ...`.
    if dockercli::is_metadata_probe(&args) {
        println!("{}", dockercli::metadata(&version::compat_version()));
        return exit::SUCCESS;
    }
    let args = dockercli::strip_compose(args);
    dockercli::follow_cli_socket();
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return exit::of_usage(e.kind());
        }
    };
    // One worker beside the main thread, which runs the command: the engine's answers are
    // decoded there while the main thread loads the project. A second worker bought no time on
    // client-bound commands and cost each of them memory (its stack and allocations).
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::FAILURE;
        }
    };
    let result = rt.block_on(dispatch(cli));
    // A read of standard input may still be blocked: do not wait for it.
    rt.shutdown_background();
    if matches!(
        result,
        Err(CliError::Interrupted | CliError::InterruptedLeaving(_))
    ) && console::Term::stderr().is_term()
    {
        // After the terminal's `^C`, as the reference: the prompt comes back on its own line.
        eprintln!();
    }
    if let Err(CliError::Load(e)) = &result {
        // What loading warned of before it failed, first, as the reference prints it.
        for w in &e.warnings {
            warn::warn(w);
        }
    }
    if let Err(e) = &result {
        if e.is_reported() {
            let style = console::Style::new().red().bold().for_stderr();
            eprintln!("{} {e}", style.apply_to("error:"));
        }
    }
    exit::code(&result)
}

/// Runs `work` until it ends or Ctrl-C (SIGINT) comes; then the command ends with 130, as the
/// reference's do (what `work` was doing is dropped: its locks and raw terminal are released).
pub(crate) async fn interruptible<T>(
    work: impl std::future::Future<Output = Result<T, CliError>>,
) -> Result<T, CliError> {
    tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(CliError::Interrupted),
    }
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let ctx = Context::new(cli.project, cli.docker);
    match cli.command {
        // Attached `up` stops the stack on Ctrl-C, and `run` removes its `--rm` container: they
        // listen themselves; so do `backup` and `restore`.
        Command::Up(a) => up::run(&ctx, a).await,
        Command::Run(a) => run::run(&ctx, a).await,
        // (`backup` and `restore` remove their helper containers and start the services they
        // stopped; before they change anything, SIGINT ends them as it would.)
        Command::Backup(a) => backup::backup(&ctx, a).await,
        Command::Restore(a) => backup::restore(&ctx, a).await,
        other => interruptible(command(&ctx, other)).await,
    }
}

async fn command(ctx: &Context, command: Command) -> Result<(), CliError> {
    match command {
        Command::Up(a) => up::run(ctx, a).await,
        Command::Down(a) => down::run(ctx, a).await,
        Command::Logs(a) => logs::run(ctx, a).await,
        Command::Pull(a) => pull::run(ctx, a).await,
        Command::Build(a) => build::run(ctx, a).await,
        Command::Create(a) => up::create(ctx, a).await,
        Command::Start(a) => lifecycle::start(ctx, a).await,
        Command::Stop(a) => lifecycle::stop(ctx, a).await,
        Command::Restart(a) => lifecycle::restart(ctx, a).await,
        Command::Kill(a) => lifecycle::kill(ctx, a).await,
        Command::Rm(a) => lifecycle::rm(ctx, a).await,
        Command::Pause(a) => lifecycle::pause(ctx, a).await,
        Command::Unpause(a) => lifecycle::unpause(ctx, a).await,
        Command::Config(a) => config::run(ctx, a).await,
        Command::Ps(a) => ps::run(ctx, a).await,
        Command::Run(a) => run::run(ctx, a).await,
        Command::Exec(a) => exec::run(ctx, a).await,
        Command::Port(a) => port::run(ctx, a).await,
        Command::Ls(a) => ls::run(ctx, a).await,
        Command::Images(a) => images::run(ctx, a).await,
        Command::Cp(a) => cp::run(ctx, a).await,
        Command::Top(a) => top::run(ctx, a).await,
        Command::Events(a) => events::run(ctx, a).await,
        Command::Wait(a) => wait::run(ctx, a).await,
        Command::Watch(a) => watch::run(ctx, a).await,
        Command::Stats(a) => stats::run(ctx, a).await,
        Command::Attach(a) => attach_service::run(ctx, a).await,
        Command::Scale(a) => scale::run(ctx, a).await,
        Command::Export(a) => export::run(ctx, a).await,
        Command::Commit(a) => commit::run(ctx, a).await,
        Command::Push(a) => push::run(ctx, a).await,
        Command::Volumes(a) => volumes::run(ctx, a).await,
        Command::Backup(a) => backup::backup(ctx, a).await,
        Command::Restore(a) => backup::restore(ctx, a).await,
        Command::Stack(a) => stack::run(ctx, a).await,
        Command::Publish(_) => Err(CliError::new(
            "`publish` is not supported by rcompose: it pushes the project to an OCI registry; use `docker compose publish`",
        )),
        Command::Bridge(_) => Err(CliError::new(
            "`bridge` is not supported by rcompose: it converts the project with transformation images; use `docker compose bridge`",
        )),
        Command::Version(a) => version::run(a),
        Command::Completion(a) => completion::run(a),
        Command::Install(a) => install::run(a),
    }
}

/// A project's files, read once, and the name they most likely give ([`Context::guess`]).
pub struct Guess {
    pub name: Option<String>,
    read: Result<parse::Read, parse::LoadError>,
}

/// A loaded project, its warnings printed to stderr.
fn warned(loaded: Result<parse::Loaded, parse::LoadError>) -> Result<Project, CliError> {
    let loaded = loaded?;
    for w in &loaded.warnings {
        warn::warn(w);
    }
    Ok(loaded.project)
}

/// The engine being connected to while a command loads its project ([`Context::connect_early`]).
pub enum Early {
    Connecting(
        tokio::task::JoinHandle<Result<Runtime, crate::runtime::EngineError>>,
        progress::Renderer,
    ),
    /// The endpoint could not be resolved.
    Failed(CliError),
}

impl Early {
    /// The connected runtime and its renderer, as [`Context::runtime`] gives them.
    pub async fn runtime(self) -> Result<(Runtime, progress::Renderer), CliError> {
        match self {
            Early::Connecting(task, renderer) => {
                let rt = task
                    .await
                    .map_err(|e| CliError::new(format!("connecting to the engine: {e}")))??;
                Ok((rt, renderer))
            }
            Early::Failed(e) => Err(e),
        }
    }
}

/// Engine calls at once without `--parallel`: more gain nothing (the engine does the work of a
/// project's containers in turn) and only make each call wait longer inside the engine.
const DEFAULT_PARALLEL: usize = 64;

/// Set to `0` to leave `service_healthy` gates to the engine's own probes (see
/// [`crate::graph::probe`]).
const EARLY_PROBE: &str = "RCOMPOSE_EARLY_PROBE";

/// Whether `service_healthy` gates probe the dependency early: on unless `RCOMPOSE_EARLY_PROBE=0`.
fn early_probe() -> bool {
    std::env::var(EARLY_PROBE).map_or(true, |v| v.trim() != "0")
}

/// What every command gets: the global flags, resolved against the environment.
pub struct Context {
    pub args: ProjectArgs,
    pub docker: dockercli::DockerArgs,
    pub colour: bool,
    pub progress: ProgressMode,
}

impl Context {
    fn new(args: ProjectArgs, docker: dockercli::DockerArgs) -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let ansi = args.ansi.unwrap_or(Ansi::Auto);
        let colour = match ansi {
            Ansi::Never => false,
            Ansi::Always => true,
            Ansi::Auto => env("NO_COLOR").is_none() && console::Term::stdout().is_term(),
        };
        console::set_colors_enabled(colour);
        console::set_colors_enabled_stderr(colour && ansi != Ansi::Never);
        let progress = args.progress.unwrap_or(ProgressMode::Auto);
        let progress = match progress {
            ProgressMode::Auto if console::Term::stderr().is_term() && ansi != Ansi::Never => {
                ProgressMode::Tty
            }
            ProgressMode::Auto => ProgressMode::Plain,
            other => other,
        };
        warn::set_json(progress == ProgressMode::Json);
        Context {
            args,
            docker,
            colour,
            progress,
        }
    }

    /// Load options from the flags and the process environment.
    pub fn load_options(&self, services: &[String]) -> LoadOptions {
        let mut o = LoadOptions::from_process();
        o.files = self.args.files.clone();
        o.project_name = self.args.project_name.clone();
        o.project_directory = self.args.project_directory.clone();
        o.env_files = self.args.env_files.clone();
        o.profiles = self.args.profiles.clone();
        o.services = services.to_vec();
        o.all_resources = self.args.all_resources;
        o
    }

    /// Loads the project, printing warnings to stderr.
    pub fn load(&self, services: &[String]) -> Result<Project, CliError> {
        warned(parse::load(&self.load_options(services)))
    }

    /// [`Context::load`] from the files [`Context::guess`] read.
    pub fn load_guessed(&self, guess: Guess, services: &[String]) -> Result<Project, CliError> {
        let opts = self.load_options(services);
        warned(guess.read.and_then(|r| parse::load_read(&opts, r)))
    }

    /// The project name when there may be no compose file (`down -p x`): `-p`, the environment,
    /// or the loaded project.
    pub fn project_or_name(&self) -> Result<(Arc<Project>, bool), CliError> {
        self.project_or_name_from(parse::load(&self.load_options(&[])))
    }

    /// [`Context::project_or_name`] from the files [`Context::guess`] read.
    pub fn project_or_name_guessed(&self, guess: Guess) -> Result<(Arc<Project>, bool), CliError> {
        let opts = self.load_options(&[]);
        self.project_or_name_from(guess.read.and_then(|r| parse::load_read(&opts, r)))
    }

    fn project_or_name_from(
        &self,
        loaded: Result<parse::Loaded, parse::LoadError>,
    ) -> Result<(Arc<Project>, bool), CliError> {
        match loaded {
            Ok(l) => {
                for w in &l.warnings {
                    warn::warn(w);
                }
                Ok((Arc::new(l.project), true))
            }
            Err(e) => {
                let name = self.args.project_name.clone().or_else(|| {
                    std::env::var("COMPOSE_PROJECT_NAME")
                        .ok()
                        .filter(|v| !v.is_empty())
                });
                // Without files, a named project is found by its labels.
                let no_file =
                    self.args.files.is_empty() && e.kind == parse::LoadErrorKind::NoComposeFile;
                match name {
                    Some(n) if no_file => {
                        let n = parse::name::validate(&n, "-p")?;
                        Ok((
                            Arc::new(Project {
                                name: n,
                                ..Default::default()
                            }),
                            false,
                        ))
                    }
                    _ => Err(e.into()),
                }
            }
        }
    }

    /// Connects to the engine, with progress going to the chosen renderer.
    /// The name of container `index` of `service`, or the error that it has none.
    pub(crate) async fn service_container(
        rt: &Runtime,
        project: &str,
        service: &str,
        index: u64,
    ) -> Result<String, CliError> {
        rt.container_of(project, service, index)
            .await?
            .ok_or_else(|| CliError::new(format!("service \"{service}\" has no container {index}")))
    }

    /// Reads the project's files once and guesses the name they give (see
    /// [`parse::likely_name`]); [`Context::load_guessed`] parses what was read.
    pub fn guess(&self) -> Guess {
        let opts = self.load_options(&[]);
        let read = parse::read(&opts);
        Guess {
            name: parse::likely_name(&opts, read.as_ref().ok()),
            read,
        }
    }

    /// Connects to the engine on a task of its own while the command goes on (loading the
    /// project) and, with a name, asks at once for `what` of that project
    /// ([`Runtime::prefetch`]).
    pub fn connect_early(&self, name: Option<String>, what: crate::runtime::Prefetch) -> Early {
        let (renderer, endpoint, parallel) = match self.engine_target() {
            Ok(t) => t,
            Err(e) => return Early::Failed(e),
        };
        let reporter = renderer.reporter();
        let dry = self.args.dry_run;
        let task = tokio::spawn(async move {
            let rt = Runtime::connect(&endpoint, reporter, parallel).await?;
            let rt = if dry { rt.dry_run() } else { rt };
            if let Some(n) = name {
                rt.prefetch(&n, what);
            }
            Ok(rt)
        });
        Early::Connecting(task, renderer)
    }

    /// The renderer, the engine's endpoint and the bound on parallel calls.
    fn engine_target(
        &self,
    ) -> Result<
        (
            progress::Renderer,
            crate::runtime::endpoint::Endpoint,
            Option<usize>,
        ),
        CliError,
    > {
        let renderer = progress::Renderer::new(self.progress);
        // Unset: a bound, so that a large project queues in rcompose instead of in the engine
        // (where its 500th request would time out); `-1` (or 0): no bound, as asked.
        let parallel = match self.args.parallel {
            None => Some(DEFAULT_PARALLEL),
            Some(n) => usize::try_from(n).ok().filter(|n| *n > 0),
        };
        let endpoint = crate::runtime::endpoint::resolve(&self.docker.endpoint_flags(), &|k| {
            std::env::var(k).ok()
        })?;
        let renderer = if self.args.dry_run {
            renderer.dry_run()
        } else {
            renderer
        };
        Ok((renderer, endpoint, parallel))
    }

    pub async fn runtime(&self) -> Result<(Runtime, progress::Renderer), CliError> {
        let (renderer, endpoint, parallel) = self.engine_target()?;
        let rt = Runtime::connect(&endpoint, renderer.reporter(), parallel).await?;
        let rt = if self.args.dry_run { rt.dry_run() } else { rt };
        Ok((rt, renderer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// `--ansi` and `--progress` read as the reference reads them (also from `COMPOSE_ANSI` and
    /// `COMPOSE_PROGRESS`, through the same parsers).
    #[test]
    fn ansi_and_progress_values() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        let ansi = |v: &str| parse(&["rcompose", "--ansi", v, "ls"]).map(|c| c.project.ansi);
        assert_eq!(ansi("never").ok(), Some(Some(Ansi::Never)));
        assert_eq!(ansi("ALWAYS").ok(), Some(Some(Ansi::Always)));
        assert_eq!(ansi("bogus").ok(), Some(Some(Ansi::Auto)));
        let progress =
            |v: &str| parse(&["rcompose", "--progress", v, "ls"]).map(|c| c.project.progress);
        assert_eq!(progress("plain").ok(), Some(Some(ProgressMode::Plain)));
        assert_eq!(progress("JSON").ok(), Some(Some(ProgressMode::Json)));
        assert_eq!(progress("").ok(), Some(Some(ProgressMode::Auto)));
        assert!(progress("bogus").is_err());
        let parallel = parse(&["rcompose", "--parallel", "x", "ls"]);
        assert!(parallel.is_err());
    }

    #[test]
    fn command_short_flags_win_over_global_ones_after_the_command() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).unwrap();
        let cli = parse(&["rcompose", "-f", "a.yaml", "rm", "-fs"]);
        assert_eq!(cli.project.files, vec!["a.yaml"]);
        assert!(matches!(cli.command, Command::Rm(a) if a.force && a.stop));
        let cli = parse(&["rcompose", "logs", "-f", "--file", "c.yaml"]);
        assert_eq!(cli.project.files, vec!["c.yaml"]);
        assert!(matches!(cli.command, Command::Logs(a) if a.follow));
        let cli = parse(&["rcompose", "-p", "x", "run", "-p", "80:80", "web"]);
        assert_eq!(cli.project.project_name.as_deref(), Some("x"));
        assert!(matches!(cli.command, Command::Run(a) if a.publish == ["80:80"]));
        let cli = parse(&["rcompose", "run", "--project-name", "y", "web"]);
        assert_eq!(cli.project.project_name.as_deref(), Some("y"));
        assert!(matches!(
            parse(&["rcompose", "version", "-f", "json"]).command,
            Command::Version(_)
        ));
    }

    #[test]
    fn global_and_command_flags_parse_together() {
        let cli = Cli::try_parse_from([
            "rcompose",
            "config",
            "--profiles",
            "--profile",
            "a",
            "-p",
            "x",
        ])
        .unwrap();
        assert_eq!(cli.project.profiles, vec!["a"]);
        assert!(matches!(cli.command, Command::Config(ref c) if c.profiles));
    }
}
