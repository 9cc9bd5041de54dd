//! `rollback`: return a stack to an earlier successful deployment — its recorded template and
//! parameters, validated again under today's policy, through the approval like any change.

use std::process::ExitCode;

use infra_agent_core::deploy::rollback::{rollback_request, rollback_target, version_line};
use infra_agent_core::naming::{new_execution_name, Env, StackKey};
use infra_agent_pipeline::ports::Deployments;

use crate::backend::Backend;
use crate::output::{eprint_line, Format};

#[derive(clap::Args)]
pub struct RollbackArgs {
    /// Stack of the catalog, e.g. `vpc`.
    stack: String,
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
    /// The deployment to return to (default: the successful one before the current).
    #[arg(long)]
    to: Option<String>,
    /// Keep following after the approval request until the rollback ends.
    #[arg(long)]
    wait: bool,
    /// Approval window in seconds, if shorter than the environment's.
    #[arg(long)]
    approval_timeout: Option<u32>,
}

/// How many of a stack's latest deployments a rollback can return to.
const HISTORY: i32 = 100;

pub async fn rollback(
    backend: &Backend,
    args: RollbackArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let stack: StackKey = args.stack.parse()?;
    let history = backend
        .store
        .history(args.env, stack.as_str(), Some(HISTORY))
        .await?;
    let (current, target) = rollback_target(&history, args.to.as_deref())?;
    eprint_line(format!("Current: {}", version_line(current)));
    eprint_line(format!("Target:  {}", version_line(target)));
    if current.template_sha256 == target.template_sha256 && current.parameters == target.parameters
    {
        eprint_line("note: the target has the current template and parameters; CloudFormation will find no changes unless the stack drifted");
    }
    let request = rollback_request(
        target,
        new_execution_name(args.env, &stack),
        backend.caller().await?,
        args.approval_timeout,
    );
    let execution_arn = super::deploy::start_deployment(backend, &request).await?;
    super::deploy::follow(
        backend,
        &execution_arn,
        &request.deployment_id,
        !args.wait,
        format,
    )
    .await
}
