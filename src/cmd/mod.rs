//! The command line: flags to options, results to text. No YAML and no engine types here.

mod attach;
mod build;
mod completion;
mod config;
mod cp;
mod down;
pub mod error;
mod events;
mod exec;
pub mod exit;
mod images;
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
mod run;
mod template;
mod top;
mod up;
mod version;
mod wait;

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
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub ansi: Option<Ansi>,
    /// How to show progress [env: COMPOSE_PROGRESS]
    #[arg(long, global = true, value_enum, value_name = "MODE")]
    pub progress: Option<ProgressMode>,
    /// Maximum number of engine calls at once [env: COMPOSE_PARALLEL_LIMIT]
    #[arg(long, global = true, value_name = "N")]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ansi {
    Never,
    Always,
    Auto,
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
    /// Show the rcompose version
    Version(version::VersionArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell)
    Completion(completion::CompletionArgs),
}

/// Runs rcompose with these arguments; returns the process exit code.
pub fn run(mut args: Vec<OsString>) -> i32 {
    // The docker CLI plugin protocol: `docker compose ...` runs `docker-compose compose ...`.
    if args
        .get(1)
        .is_some_and(|a| a == "docker-cli-plugin-metadata")
    {
        println!(
            "{}",
            serde_json::json!({
                "SchemaVersion": "0.1.0",
                "Vendor": "rcompose",
                "Version": format!("v{}", env!("CARGO_PKG_VERSION")),
                "ShortDescription": "Docker Compose (rcompose)",
            })
        );
        return exit::SUCCESS;
    }
    if args.get(1).is_some_and(|a| a == "compose") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return exit::of_usage(e.kind());
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
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
    if let Err(e) = &result {
        if e.is_reported() {
            let style = console::Style::new().red().bold().for_stderr();
            eprintln!("{} {e}", style.apply_to("error:"));
        }
    }
    exit::code(&result)
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let ctx = Context::new(cli.project);
    match cli.command {
        Command::Up(a) => up::run(&ctx, a).await,
        Command::Down(a) => down::run(&ctx, a).await,
        Command::Logs(a) => logs::run(&ctx, a).await,
        Command::Pull(a) => pull::run(&ctx, a).await,
        Command::Build(a) => build::run(&ctx, a).await,
        Command::Create(a) => up::create(&ctx, a).await,
        Command::Start(a) => lifecycle::start(&ctx, a).await,
        Command::Stop(a) => lifecycle::stop(&ctx, a).await,
        Command::Restart(a) => lifecycle::restart(&ctx, a).await,
        Command::Kill(a) => lifecycle::kill(&ctx, a).await,
        Command::Rm(a) => lifecycle::rm(&ctx, a).await,
        Command::Pause(a) => lifecycle::pause(&ctx, a).await,
        Command::Unpause(a) => lifecycle::unpause(&ctx, a).await,
        Command::Config(a) => config::run(&ctx, a).await,
        Command::Ps(a) => ps::run(&ctx, a).await,
        Command::Run(a) => run::run(&ctx, a).await,
        Command::Exec(a) => exec::run(&ctx, a).await,
        Command::Port(a) => port::run(&ctx, a).await,
        Command::Ls(a) => ls::run(&ctx, a).await,
        Command::Images(a) => images::run(&ctx, a).await,
        Command::Cp(a) => cp::run(&ctx, a).await,
        Command::Top(a) => top::run(&ctx, a).await,
        Command::Events(a) => events::run(&ctx, a).await,
        Command::Wait(a) => wait::run(&ctx, a).await,
        Command::Version(a) => version::run(a),
        Command::Completion(a) => completion::run(a),
    }
}

/// What every command gets: the global flags, resolved against the environment.
pub struct Context {
    pub args: ProjectArgs,
    pub colour: bool,
    pub progress: ProgressMode,
}

impl Context {
    fn new(args: ProjectArgs) -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let ansi = args
            .ansi
            .or_else(|| env("COMPOSE_ANSI").and_then(|v| Ansi::from_str(&v, true).ok()))
            .unwrap_or(Ansi::Auto);
        let colour = match ansi {
            Ansi::Never => false,
            Ansi::Always => true,
            Ansi::Auto => env("NO_COLOR").is_none() && console::Term::stdout().is_term(),
        };
        console::set_colors_enabled(colour);
        console::set_colors_enabled_stderr(colour && ansi != Ansi::Never);
        let progress = args
            .progress
            .or_else(|| env("COMPOSE_PROGRESS").and_then(|v| ProgressMode::from_str(&v, true).ok()))
            .unwrap_or(ProgressMode::Auto);
        let progress = match progress {
            ProgressMode::Auto if console::Term::stderr().is_term() && ansi != Ansi::Never => {
                ProgressMode::Tty
            }
            ProgressMode::Auto => ProgressMode::Plain,
            other => other,
        };
        Context {
            args,
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
        let loaded = parse::load(&self.load_options(services))?;
        for w in &loaded.warnings {
            eprintln!("WARN[0000] {w}");
        }
        Ok(loaded.project)
    }

    /// The project name when there may be no compose file (`down -p x`): `-p`, the environment,
    /// or the loaded project.
    pub fn project_or_name(&self) -> Result<(Arc<Project>, bool), CliError> {
        match parse::load(&self.load_options(&[])) {
            Ok(l) => {
                for w in &l.warnings {
                    eprintln!("WARN[0000] {w}");
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
                    self.args.files.is_empty() && e.message.starts_with("no compose file found");
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
    pub async fn runtime(&self) -> Result<(Runtime, progress::Renderer), CliError> {
        let renderer = progress::Renderer::new(self.progress);
        let parallel = self.args.parallel.or_else(|| {
            std::env::var("COMPOSE_PARALLEL_LIMIT")
                .ok()
                .and_then(|v| v.parse().ok())
        });
        let parallel = parallel.filter(|n| *n > 0).map(|n| n as usize);
        let rt = Runtime::connect(renderer.reporter(), parallel).await?;
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
