//! Ended executions whose record is still open: the local emulator sends no Step Functions events,
//! so `wait`, `status` and `unlock` run the pipeline's reconciler when they find one.

use anyhow::Context;
use infra_agent_core::contract::reconcile::{ended, ExecutionEnd};
use infra_agent_core::records::DeploymentRecord;
use infra_agent_pipeline::steps::reconcile::{reconcile, Reconciled};

use crate::backend::Backend;

/// How an execution stands, as Step Functions says.
pub struct ExecutionState {
    pub arn: String,
    /// `None` while it runs.
    pub end: Option<ExecutionEnd>,
    pub status: String,
    input: Option<String>,
    error: Option<String>,
    cause: Option<String>,
}

/// The deploy execution of `deployment_id` (its name), if Step Functions knows it.
pub async fn execution(
    backend: &Backend,
    deployment_id: &str,
) -> anyhow::Result<Option<ExecutionState>> {
    let arn = backend.deploy_execution_arn(deployment_id);
    match backend
        .sfn
        .describe_execution()
        .execution_arn(&arn)
        .send()
        .await
    {
        Ok(out) => Ok(Some(ExecutionState {
            end: ExecutionEnd::parse(out.status.as_str()),
            status: out.status.as_str().to_string(),
            arn,
            input: out.input,
            error: out.error,
            cause: out.cause,
        })),
        Err(e)
            if infra_agent_pipeline::aws::error::sdk_code(&e) == Some("ExecutionDoesNotExist") =>
        {
            Ok(None)
        }
        Err(e) => Err(anyhow::anyhow!(
            "could not read execution {deployment_id}: {}",
            infra_agent_pipeline::aws::error::sdk_message(&e)
        )),
    }
}

/// Makes `record` true if its execution ended without recording; returns what changed, or `None`
/// when there was nothing to do (the execution runs, or the record is final).
pub async fn if_ended(
    backend: &Backend,
    record: &DeploymentRecord,
    state: &ExecutionState,
    actor: &str,
) -> anyhow::Result<Option<Reconciled>> {
    let Some(end) = state.end else {
        return Ok(None);
    };
    if record.status.is_final() {
        return Ok(None);
    }
    let input = state
        .input
        .as_deref()
        .with_context(|| format!("execution {} shows no input", state.arn))?;
    let ended = ended(
        &record.deployment_id,
        end,
        input,
        state.error.clone(),
        state.cause.clone(),
    )
    .with_context(|| format!("execution {} is not a deployment", state.arn))?;
    Ok(Some(
        reconcile(&backend.store, &backend.stacks, &ended, actor).await?,
    ))
}
