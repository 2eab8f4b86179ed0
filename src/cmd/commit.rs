//! `rcompose commit SERVICE [REPOSITORY[:TAG]]`: a new image from a service container's changes.

use clap::Args;

use super::{CliError, Context};
use crate::runtime::CommitRequest;

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// `-p` is `--pause` here, as in the reference: the project name only as `--project-name`.
    #[command(flatten)]
    pub global_long: super::LongProjectNameOnly,
    /// Author (e.g. "Jane Doe <jane@example.com>")
    #[arg(short = 'a', long)]
    pub author: Option<String>,
    /// Apply a Dockerfile instruction to the created image (repeatable)
    #[arg(short = 'c', long = "change")]
    pub changes: Vec<String>,
    /// The container number of the service when it has several
    #[arg(long, default_value_t = 1)]
    pub index: u64,
    /// Commit message
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Pause the container during the commit
    #[arg(short = 'p', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub pause: bool,
    pub service: String,
    /// The new image's name
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

pub(super) async fn run(ctx: &Context, args: CommitArgs) -> Result<(), CliError> {
    let (project, _) = ctx.project_or_name()?;
    let (rt, renderer) = ctx.runtime().await?;
    let container =
        Context::service_container(&rt, &project.name, &args.service, args.index).await?;
    let request = CommitRequest {
        container,
        reference: args.reference,
        author: args.author,
        message: args.message,
        changes: args.changes,
        pause: args.pause,
    };
    let out = rt.commit(&request).await;
    renderer.finish();
    out?;
    Ok(())
}
