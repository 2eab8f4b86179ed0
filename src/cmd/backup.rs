//! `rcompose backup` and `rcompose restore`: a project's volumes to one archive and back.

use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use super::{warn, CliError, Context, ProgressMode};
use crate::parse::{hooks, Project};
use crate::runtime::archive::{self, Compression, Manifest};
use crate::runtime::endpoint::{self, EndpointFlags};
use crate::runtime::{self, BackupOptions, ProjectLock, Reporter, RestoreOptions, Runtime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compress {
    Zstd,
    Gzip,
    None,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Write the archive to FILE (`-` for standard output)
    #[arg(
        short = 'o',
        long,
        value_name = "FILE",
        required_unless_present_any = ["to_host", "to_context", "to_project"],
        conflicts_with_all = ["to_host", "to_context"]
    )]
    pub output: Option<String>,
    /// Restore straight into the engine at URL (`unix:///...`, `tcp://...`), with nothing
    /// written to disk: the same project name, refusing non-empty volumes without `--force`
    #[arg(long, value_name = "URL", conflicts_with = "to_context")]
    pub to_host: Option<String>,
    /// Restore straight into the engine of docker context NAME (as `--to-host`)
    #[arg(long, value_name = "NAME")]
    pub to_context: Option<String>,
    /// With `--to-host`/`--to-context`: restore into project NAME there (default: this
    /// project's name); alone: into project NAME on this engine
    #[arg(long, value_name = "NAME", conflicts_with = "output")]
    pub to_project: Option<String>,
    /// With `--to-host`/`--to-context`: replace volumes of the other engine that are not empty
    #[arg(long)]
    pub force: bool,
    /// How the archive is compressed
    #[arg(long, value_enum, default_value = "zstd")]
    pub compress: Compress,
    /// Also the anonymous volumes of the services (of those named, or of all), found again
    /// by restore in the container of the same service and number at the same path
    #[arg(long)]
    pub anonymous: bool,
    /// Do not stop the services that mount the volumes: a live, crash-consistent copy
    #[arg(long)]
    pub no_stop: bool,
    /// Seconds to wait for each container to stop before killing it
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<i64>,
    /// Services (their named volumes) or volumes (by key or name); every volume of the project
    /// when none
    #[arg(value_name = "SERVICE|VOLUME")]
    pub words: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Read the archive from FILE (`-` for standard input)
    #[arg(short = 'i', long, value_name = "FILE")]
    pub input: String,
    /// Replace volumes that are not empty
    #[arg(long)]
    pub force: bool,
    /// Seconds to wait for each container to stop before killing it
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<i64>,
    /// Volumes of the archive to restore (by key or name); all when none
    #[arg(value_name = "VOLUME")]
    pub volumes: Vec<String>,
}

fn failed(e: runtime::Error) -> CliError {
    match e {
        runtime::Error::Interrupted => CliError::Interrupted,
        runtime::Error::InterruptedLeaving(said) => CliError::InterruptedLeaving(said),
        e => CliError::Runtime(e),
    }
}

fn backup_options(
    ctx: &Context,
    args: &BackupArgs,
    project: &Project,
) -> Result<BackupOptions, CliError> {
    Ok(BackupOptions {
        hooks: hooks::project_hooks(project).map_err(CliError::new)?,
        words: args.words.clone(),
        no_stop: args.no_stop,
        anonymous: args.anonymous,
        compression: match args.compress {
            Compress::Zstd => Compression::Zstd,
            Compress::Gzip => Compression::Gzip,
            Compress::None => Compression::None,
        },
        timeout: args.timeout,
        ticks: ctx.progress != ProgressMode::Quiet && ctx.progress != ProgressMode::Plain,
    })
}

/// The summary after a backup: a warning for a live copy, the counts as JSON.
fn summary(ctx: &Context, manifest: &Manifest, end: &archive::End) {
    if manifest.live && ctx.progress != ProgressMode::Quiet {
        warn::warn("the services were not stopped (--no-stop): this is a crash-consistent copy");
    }
    if ctx.progress == ProgressMode::Json {
        eprintln!("{}", summary_line(manifest, end));
    }
}

fn summary_line(manifest: &Manifest, end: &archive::End) -> String {
    let files: u64 = end.volumes.values().map(|c| c.files).sum();
    let bytes: u64 = end.volumes.values().map(|c| c.bytes).sum();
    serde_json::json!({"volumes": manifest.volumes.len(), "files": files, "bytes": bytes})
        .to_string()
}

/// `backup --to-host/--to-context`: a restore on the other engine, fed by the backup.
async fn migrate(ctx: &Context, args: BackupArgs) -> Result<(), CliError> {
    let mut flags = EndpointFlags {
        config_dir: ctx.docker.endpoint_flags().config_dir,
        ..Default::default()
    };
    flags.host = args.to_host.clone();
    flags.context = args.to_context.clone();
    let env = |k: &str| std::env::var(k).ok();
    // Only the target's own name counts: the environment's DOCKER_HOST and DOCKER_CONTEXT name
    // the source.
    let target_env = |k: &str| match k {
        "DOCKER_HOST" | "DOCKER_CONTEXT" => None,
        k => env(k),
    };
    // Without --to-host/--to-context (only --to-project): this engine.
    let to = if flags.host.is_none() && flags.context.is_none() {
        endpoint::resolve(&ctx.docker.endpoint_flags(), &env)?
    } else {
        endpoint::resolve(&flags, &target_env)?
    };
    let (project, has_model) = ctx.project_or_name()?;
    // The project on the other side: this one, or the same files under another name.
    let (into, into_model) = match &args.to_project {
        None => (project.clone(), has_model),
        Some(name) => {
            let name = crate::parse::name::validate(name, "--to-project")?;
            if has_model {
                let mut o = ctx.load_options(&[]);
                o.project_name = Some(name);
                (Arc::new(crate::parse::load(&o)?.project), true)
            } else {
                let p = Project {
                    name,
                    ..Default::default()
                };
                (Arc::new(p), false)
            }
        }
    };
    let (rt, renderer) = ctx.runtime().await?;
    let label = match (&args.to_context, &args.to_project) {
        (Some(c), _) => c.clone(),
        (None, Some(p)) if args.to_host.is_none() => format!("project {p}"),
        _ => to.host.clone(),
    };
    let report = renderer.reporter();
    let relabel: Reporter = Arc::new(move |mut e| {
        e.resource = format!("{} on {label}", e.resource);
        report(e)
    });
    let target = Runtime::connect(&to, relabel, None).await?;
    let _lock = ProjectLock::acquire(&project.name).await?;
    let opts = backup_options(ctx, &args, &project)?;
    let restore = RestoreOptions {
        words: Vec::new(),
        force: args.force,
        timeout: args.timeout,
        ticks: opts.ticks,
        has_model: into_model,
    };
    let result = rt.migrate(&target, project, into, &opts, &restore).await;
    renderer.finish();
    let (manifest, end) = result.map_err(failed)?;
    summary(ctx, &manifest, &end);
    Ok(())
}

pub(super) async fn backup(ctx: &Context, args: BackupArgs) -> Result<(), CliError> {
    let Some(output) = args.output.clone() else {
        return migrate(ctx, args).await;
    };
    if args.force {
        return Err(CliError::new(
            "--force is for --to-host and --to-context (a file is always written whole)",
        ));
    }
    let to_stdout = output == "-";
    if to_stdout && std::io::stdout().is_terminal() {
        return Err(CliError::new(
            "refusing to write an archive to a terminal: use -o FILE or redirect the output",
        ));
    }
    let (project, _) = ctx.project_or_name()?;
    let (rt, renderer) = ctx.runtime().await?;
    let _lock = ProjectLock::acquire(&project.name).await?;
    let path = PathBuf::from(&output);
    // A file is written beside its target and renamed once complete: never half an archive.
    let partial = (!to_stdout).then(|| {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        path.with_file_name(name)
    });
    let out: Box<dyn Write + Send> = match &partial {
        Some(p) => Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(p).map_err(|e| CliError::Write {
                path: p.clone(),
                source: e,
            })?,
        )),
        None => Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::io::stdout(),
        )),
    };
    let opts = backup_options(ctx, &args, &project)?;
    let result = rt.backup(Arc::clone(&project), &opts, out).await;
    renderer.finish();
    match (&partial, &result) {
        (Some(p), Ok(_)) => std::fs::rename(p, &path).map_err(|e| CliError::Write {
            path: path.clone(),
            source: e,
        })?,
        (Some(p), Err(_)) => {
            let _ = std::fs::remove_file(p);
        }
        _ => {}
    }
    let (manifest, end) = result.map_err(failed)?;
    summary(ctx, &manifest, &end);
    Ok(())
}

pub(super) async fn restore(ctx: &Context, args: RestoreArgs) -> Result<(), CliError> {
    let (project, has_model) = ctx.project_or_name()?;
    let from_stdin = args.input == "-";
    let path = PathBuf::from(&args.input);
    if !from_stdin && !path.is_file() {
        return Err(CliError::new(format!(
            "cannot read {}: no such file",
            path.display()
        )));
    }
    let open: runtime::Opener = if from_stdin {
        // Standard input can be read once.
        let taken = Arc::new(std::sync::Mutex::new(false));
        Arc::new(move || {
            let mut t = taken
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?;
            if *t {
                return Err(std::io::Error::other("standard input was already read"));
            }
            *t = true;
            Ok(Box::new(std::io::stdin()) as Box<dyn std::io::Read + Send>)
        })
    } else {
        Arc::new(move || {
            std::fs::File::open(&path).map(|f| Box::new(f) as Box<dyn std::io::Read + Send>)
        })
    };
    let (rt, renderer) = ctx.runtime().await?;
    let _lock = ProjectLock::acquire(&project.name).await?;
    let opts = RestoreOptions {
        words: args.volumes,
        force: args.force,
        timeout: args.timeout,
        ticks: ctx.progress != ProgressMode::Quiet && ctx.progress != ProgressMode::Plain,
        has_model,
    };
    let result = rt.restore(project, &opts, open, !from_stdin).await;
    renderer.finish();
    result.map_err(failed)?;
    Ok(())
}
