//! The execute step: start the approved change set, then report progress each time the state
//! machine polls, down to the first failed resource's reason when it fails.

use serde::Deserialize;

use crate::aws::Pipeline;
use crate::contract::change_set::ChangeSetResult;
use crate::contract::deploy::{DeployRequest, DeploymentPlan};
use crate::contract::execute::{StackFailure, StackPhase, StackProgress};
use crate::contract::record::DeploymentStatus;
use crate::error::{sdk_code, sdk_message};
use crate::stacks;
use crate::store::{now, AuditEntry};
use crate::StepError;

#[derive(Deserialize)]
pub struct ExecuteInput {
    pub request: DeployRequest,
    pub plan: DeploymentPlan,
    pub change_set: ChangeSetResult,
}

/// Starts executing the change set. Safe to retry: an already executing or executed change set is
/// reported through the stack's status instead.
pub async fn start(pipeline: &Pipeline, input: &ExecuteInput) -> Result<StackProgress, StepError> {
    let stack_name = &input.plan.stack_name;
    let result = pipeline
        .cfn
        .execute_change_set()
        .stack_name(stack_name)
        .change_set_name(&input.plan.change_set_name)
        .send()
        .await;
    match result {
        Ok(_) => {}
        // Executed already by an earlier attempt of this step.
        Err(e) if sdk_code(&e) == Some("InvalidChangeSetStatus") => {}
        Err(e) => match StepError::from_sdk("cloudformation", "ExecuteChangeSet", &e) {
            transient @ StepError::Transient { .. } => return Err(transient),
            _ => {
                // CloudFormation refused or aborted the execution; its message is the reason.
                let reason = sdk_message(&e);
                let status = stacks::describe_stack(&pipeline.cfn, stack_name)
                    .await?
                    .map(|s| s.status)
                    .unwrap_or_else(|| "UNKNOWN".into());
                let progress = StackProgress {
                    stack_name: stack_name.clone(),
                    status,
                    phase: StackPhase::Failed,
                    failure: Some(StackFailure {
                        recommendation: stacks::recommendation_for(&reason),
                        reason,
                        resource: None,
                        resource_type: None,
                        rollback_status: None,
                    }),
                };
                audit_progress(pipeline, &input.request, &progress, "stack.execute").await?;
                return Ok(progress);
            }
        },
    }
    mark_executing(pipeline, &input.request).await?;
    audit_progress(
        pipeline,
        &input.request,
        &StackProgress {
            stack_name: stack_name.clone(),
            status: "EXECUTING".into(),
            phase: StackPhase::InProgress,
            failure: None,
        },
        "stack.execute",
    )
    .await?;
    poll(pipeline, input).await
}

/// Reads the stack's status; on a failed terminal status, finds the first failed resource event.
pub async fn poll(pipeline: &Pipeline, input: &ExecuteInput) -> Result<StackProgress, StepError> {
    let stack_name = &input.plan.stack_name;
    let Some(stack) = stacks::describe_stack(&pipeline.cfn, stack_name).await? else {
        return Ok(StackProgress {
            stack_name: stack_name.clone(),
            status: "DELETE_COMPLETE".into(),
            phase: StackPhase::Failed,
            failure: Some(StackFailure {
                reason: "the stack disappeared while its change set was executing".into(),
                resource: None,
                resource_type: None,
                rollback_status: None,
                recommendation: None,
            }),
        });
    };
    progress_from(pipeline, stack_name, stack).await
}

async fn progress_from(
    pipeline: &Pipeline,
    stack_name: &str,
    stack: stacks::StackState,
) -> Result<StackProgress, StepError> {
    let (terminal, success) = stacks::classify_status(&stack.status);
    let phase = match (terminal, success) {
        (false, _) => StackPhase::InProgress,
        (true, true) => StackPhase::Succeeded,
        (true, false) => StackPhase::Failed,
    };
    let failure = if phase == StackPhase::Failed {
        let found = stacks::first_failure(&pipeline.cfn, stack_name).await?;
        Some(found.unwrap_or_else(|| {
            StackFailure {
                reason: stack
                    .status_reason
                    .clone()
                    .unwrap_or_else(|| format!("stack ended in {}", stack.status)),
                resource: None,
                resource_type: None,
                rollback_status: Some(stack.status.clone()).filter(|s| s.contains("ROLLBACK")),
                recommendation: stack
                    .status_reason
                    .as_deref()
                    .and_then(stacks::recommendation_for),
            }
        }))
    } else {
        None
    };
    Ok(StackProgress {
        stack_name: stack_name.to_string(),
        status: stack.status,
        phase,
        failure,
    })
}

async fn mark_executing(pipeline: &Pipeline, request: &DeployRequest) -> Result<(), StepError> {
    if let Some(mut record) = pipeline
        .store
        .deployment(request.env, request.stack.as_str(), &request.deployment_id)
        .await?
    {
        record.status = DeploymentStatus::Executing;
        record.updated_at = now().0;
        pipeline.store.put_deployment(&record).await?;
    }
    Ok(())
}

async fn audit_progress(
    pipeline: &Pipeline,
    request: &DeployRequest,
    progress: &StackProgress,
    action: &str,
) -> Result<(), StepError> {
    let mut entry = AuditEntry::new(
        request.env,
        request.stack.as_str(),
        "pipeline:execute",
        action,
        &progress.status,
    )
    .deployment(&request.deployment_id);
    if let Some(failure) = &progress.failure {
        entry = entry.detail(failure.reason.clone());
    }
    pipeline.store.audit(&entry).await
}
