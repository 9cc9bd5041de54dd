//! The last step on every path: write the deployment's outcome, clean up an unexecuted change set,
//! release the stack lock and audit it. Safe to run twice.

use crate::ports::Pipeline;
use crate::steps::begin::new_record;
use crate::StepError;
use infra_agent_core::approval::message::finding_line;
use infra_agent_core::clock::now;
use infra_agent_core::contract::approval::{ApprovalDecision, Decision};
use infra_agent_core::contract::change_set::{ChangeSetResult, ChangeSetType};
use infra_agent_core::contract::execute::StackFailure;
use infra_agent_core::contract::record::{DeploymentState, DeploymentStatus};
use infra_agent_core::contract::record::{FinishInput, FinishResult, Outcome};
use infra_agent_core::deploy::checks::Verification;
use infra_agent_core::records::{ApprovalStatus, AuditEntry};
use infra_agent_core::stack::{recommendation_for, StackStatus};

pub async fn finish(pipeline: &Pipeline, input: &FinishInput) -> Result<FinishResult, StepError> {
    let state = &input.state;
    let request = &state.request;
    let stack = request.stack.as_str();
    let (at, _) = now();
    let verification = (state.verification.is_some() || state.verify_error.is_some())
        .then(|| verification_of(state));
    let status = match input.outcome {
        Outcome::Succeeded if verification.as_ref().is_some_and(|v| !v.ok()) => {
            DeploymentStatus::VerifyFailed
        }
        Outcome::Succeeded => DeploymentStatus::Succeeded,
        Outcome::Failed => DeploymentStatus::Failed,
        Outcome::Rejected => DeploymentStatus::Rejected,
        Outcome::NoChanges => DeploymentStatus::NoChanges,
        Outcome::Expired => DeploymentStatus::Expired,
    };

    // A change set that was created but never executed is removed, so nobody executes it later
    // by hand outside the pipeline.
    let executed = state.execution.is_some();
    if let (Some(change_set), false) = (&state.change_set, executed) {
        if change_set.has_changes && !status.is_deployed() {
            pipeline
                .stacks
                .delete_change_set(&change_set.stack_name, &change_set.change_set_name)
                .await?;
        }
    }
    if let Some(change_set) = &state.change_set {
        if !status.is_deployed() {
            remove_unborn_stack(pipeline, change_set).await?;
        }
    }

    let mut record = pipeline
        .store
        .deployment(request.env, stack, &request.deployment_id)
        .await?
        .unwrap_or_else(|| new_record(request, &at));
    let decision = match approval_decision(state) {
        Some(decision) => Some(decision),
        None => stored_decision(pipeline, record.approval_id.as_deref()).await?,
    };
    if status == DeploymentStatus::Expired {
        if let Some(approval_id) = &record.approval_id {
            pipeline.store.mark_approval_expired(approval_id).await?;
        }
    }
    record.status = status;
    record.updated_at = at.clone();
    record.finished_at = Some(at.clone());
    if let Some(validation) = &state.validation {
        record.validation = Some(validation.clone());
    }
    if let Some(cost) = &state.cost {
        record.cost = Some(cost.clone());
    }
    if let Some(change_set) = &state.change_set {
        record.change_set_name = Some(change_set.change_set_name.clone());
        record.change_set_arn = change_set.change_set_arn.clone();
        record.change_summary = Some(change_set.summary.clone());
        record.parameters = change_set.parameters.clone();
    }
    if let Some(decision) = &decision {
        record.approval_id = Some(decision.approval_id.clone());
        record.approver = Some(decision.approver.clone());
    }
    record.stack_status = match &state.execution {
        Some(progress) => Some(progress.status.clone()),
        None => match &state.plan {
            Some(plan) => pipeline
                .stacks
                .describe_stack(&plan.stack_name)
                .await?
                .map(|s| s.status.to_string()),
            None => None,
        },
    };
    record.failure = failure_of(state, status, decision.as_ref());
    if verification.is_some() {
        record.verification = verification;
    }
    pipeline.store.put_deployment(&record).await?;

    let lock_released = pipeline
        .store
        .release_lock(request.env, stack, &request.deployment_id)
        .await?;
    let mut entry = AuditEntry::new(
        request.env,
        stack,
        decision
            .as_ref()
            .map_or("pipeline:record", |d| d.approver.as_str()),
        "deployment.finish",
        status.as_str(),
    )
    .deployment(&request.deployment_id);
    if let Some(failure) = &record.failure {
        entry = entry.detail(failure.reason.clone());
    }
    pipeline.store.audit(&entry).await?;
    tracing::info!(deployment = %request.deployment_id, status = status.as_str(), lock_released, "deployment finished");
    Ok(FinishResult {
        deployment_id: request.deployment_id.clone(),
        status,
        stack_status: record.stack_status,
        failure: record.failure,
        lock_released,
    })
}

/// The decision, whether it arrived as the approval step's result or as a rejection's cause.
fn approval_decision(state: &DeploymentState) -> Option<ApprovalDecision> {
    if let Some(decision) = &state.approval {
        return Some(decision.clone());
    }
    let error = state.error.as_ref()?;
    if error.error != crate::steps::decision::REJECTED_ERROR {
        return None;
    }
    serde_json::from_str(error.cause.as_deref()?).ok()
}

/// The decision as the approval record holds it, for paths where the state does not carry it
/// (Step Functions does not always pass a task failure's cause through unchanged).
async fn stored_decision(
    pipeline: &Pipeline,
    approval_id: Option<&str>,
) -> Result<Option<ApprovalDecision>, StepError> {
    let Some(id) = approval_id else {
        return Ok(None);
    };
    let Some(approval) = pipeline.store.approval(id).await? else {
        return Ok(None);
    };
    let decision = match approval.status {
        ApprovalStatus::Approved => Decision::Approved,
        ApprovalStatus::Rejected => Decision::Rejected,
        ApprovalStatus::Pending | ApprovalStatus::Expired => return Ok(None),
    };
    Ok(Some(ApprovalDecision {
        approval_id: approval.approval_id,
        decision,
        approver: approval.approver.unwrap_or_default(),
        decided_at: approval.decided_at.unwrap_or_default(),
        channel: "unknown".into(),
        comment: approval.comment,
    }))
}

/// The post-deploy checks of an executed change set; checks that could not run fail.
fn verification_of(state: &DeploymentState) -> Verification {
    match (&state.verification, &state.verify_error) {
        (Some(v), _) => v.clone(),
        (None, Some(e)) => Verification::could_not_run(&e.message()),
        (None, None) => Verification::default(),
    }
}

fn failure_of(
    state: &DeploymentState,
    status: DeploymentStatus,
    decision: Option<&ApprovalDecision>,
) -> Option<StackFailure> {
    let plain = |reason: String, recommendation: Option<String>| StackFailure {
        reason,
        resource: None,
        resource_type: None,
        rollback_status: None,
        recommendation,
    };
    match status {
        DeploymentStatus::Succeeded | DeploymentStatus::NoChanges => None,
        DeploymentStatus::VerifyFailed => Some(plain(
            format!(
                "the change set executed, but post-deploy {}",
                verification_of(state).headline()
            ),
            Some(
                "The stack stays as built. Fix what the failed checks show and deploy again, or roll back with `infra-agent rollback`; this version cannot be promoted."
                    .into(),
            ),
        )),
        DeploymentStatus::Rejected => Some(plain(
            match decision {
                Some(d) => format!(
                    "rejected by {}{}",
                    d.approver,
                    d.comment
                        .as_deref()
                        .map(|c| format!(": {c}"))
                        .unwrap_or_default()
                ),
                None => "rejected".into(),
            },
            None,
        )),
        DeploymentStatus::Expired => Some(plain(
            "no approval decision before the approval timed out".into(),
            Some(expired_advice(state)),
        )),
        _ => {
            if let Some(failure) = state.execution.as_ref().and_then(|e| e.failure.clone()) {
                return Some(failure);
            }
            if let Some(validation) = state.validation.as_ref().filter(|v| !v.passed) {
                let errors: Vec<String> = validation
                    .inline_errors()
                    .take(5)
                    .map(finding_line)
                    .collect();
                return Some(plain(
                    format!(
                        "validation failed with {} error(s): {}",
                        validation.errors,
                        errors.join("; ")
                    ),
                    Some("Fix the findings (see the record's validation) and deploy again.".into()),
                ));
            }
            if let Some(error) = &state.error {
                let message = error.message();
                return Some(plain(
                    format!("{}: {message}", error.error),
                    recommendation_for(&message),
                ));
            }
            Some(plain(
                "the deployment failed for an unknown reason".into(),
                None,
            ))
        }
    }
}

/// What to do about an expired approval, with the window this deployment had: the
/// environment's, or the shorter one the request asked for.
fn expired_advice(state: &DeploymentState) -> String {
    let minutes = |seconds: u32| match seconds {
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    };
    match (&state.plan, state.request.approval_timeout_seconds) {
        (Some(plan), Some(_)) => format!(
            "Deploy again and decide within the approval window (this deployment asked for {}; --approval-timeout sets it, the environment's approval_timeout_minutes bounds it).",
            minutes(plan.approval_timeout_seconds)
        ),
        (Some(plan), None) => format!(
            "Deploy again and decide within the environment's approval window ({}, approval_timeout_minutes).",
            minutes(plan.approval_timeout_seconds)
        ),
        (None, _) => "Deploy again and decide within the approval window.".into(),
    }
}

/// A CREATE that did not happen leaves a stack with nothing in it: `REVIEW_IN_PROGRESS` (the
/// change set never ran) or `ROLLBACK_COMPLETE` (it ran, failed and every resource was rolled
/// back), which CloudFormation can only delete. It is deleted, so the next deployment starts
/// clean. `ROLLBACK_FAILED` is left alone: resources may remain, and a person must look.
async fn remove_unborn_stack(
    pipeline: &Pipeline,
    change_set: &ChangeSetResult,
) -> Result<(), StepError> {
    if change_set.change_set_type != ChangeSetType::Create {
        return Ok(());
    }
    let unborn = pipeline
        .stacks
        .describe_stack(&change_set.stack_name)
        .await?
        .is_some_and(|s| {
            matches!(
                s.status,
                StackStatus::ReviewInProgress | StackStatus::RollbackComplete
            )
        });
    if unborn {
        pipeline.stacks.delete_stack(&change_set.stack_name).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use infra_agent_core::contract::change_set::ChangeSummary;
    use infra_agent_core::contract::deploy::DeployRequest;
    use infra_agent_core::contract::record::{DeploymentState, FinishInput, Outcome};

    use super::*;
    use crate::fakes::Fakes;
    use crate::ports::Stacks;
    use crate::steps::begin::begin;

    const STACK: &str = "infra-agent-dev-vpc";

    fn request() -> DeployRequest {
        crate::fakes::deploy_request("dev-vpc-20270115T080000-aaaa")
    }

    /// A CREATE change set as CloudFormation leaves it: computed, on a REVIEW_IN_PROGRESS stack.
    async fn created(fakes: &Fakes, change_set_name: &str) -> ChangeSetResult {
        fakes.stacks.put_create_change_set(STACK, change_set_name);
        ChangeSetResult {
            stack_name: STACK.into(),
            change_set_name: change_set_name.into(),
            change_set_arn: None,
            change_set_type: ChangeSetType::Create,
            has_changes: true,
            summary: ChangeSummary::default(),
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn a_rejected_create_leaves_no_stack_behind() {
        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        let plan = begin(&pipeline, &request()).await.unwrap();
        let change_set = created(&fakes, &plan.change_set_name).await;
        let status = |s: Option<infra_agent_core::stack::StackState>| s.map(|s| s.status);
        assert_eq!(
            status(fakes.stacks.describe_stack(STACK).await.unwrap()),
            Some(StackStatus::ReviewInProgress)
        );

        finish(
            &pipeline,
            &FinishInput {
                outcome: Outcome::Rejected,
                state: DeploymentState {
                    plan: Some(plan),
                    change_set: Some(change_set),
                    ..DeploymentState::of(request())
                },
            },
        )
        .await
        .unwrap();

        assert_eq!(fakes.stacks.describe_stack(STACK).await.unwrap(), None);
        assert!(
            fakes
                .stacks
                .calls()
                .iter()
                .any(|c| c == &format!("DeleteStack {STACK}")),
            "{:?}",
            fakes.stacks.calls()
        );
    }

    #[tokio::test]
    async fn a_rejected_update_never_deletes_the_stack() {
        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        fakes
            .stacks
            .put_stack(STACK, StackStatus::UpdateComplete, &[]);
        let plan = begin(&pipeline, &request()).await.unwrap();
        let mut change_set = created(&fakes, &plan.change_set_name).await;
        change_set.change_set_type = ChangeSetType::Update;

        finish(
            &pipeline,
            &FinishInput {
                outcome: Outcome::Rejected,
                state: DeploymentState {
                    plan: Some(plan),
                    change_set: Some(change_set),
                    ..DeploymentState::of(request())
                },
            },
        )
        .await
        .unwrap();

        assert!(fakes.stacks.describe_stack(STACK).await.unwrap().is_some());
        assert!(!fakes
            .stacks
            .calls()
            .iter()
            .any(|c| c.starts_with("DeleteStack")));
    }

    #[tokio::test]
    async fn an_expired_approval_advises_the_window_this_deployment_had() {
        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        let mut short = request();
        short.approval_timeout_seconds = Some(300);
        let plan = begin(&pipeline, &short).await.unwrap();
        assert_eq!(plan.approval_timeout_seconds, 300);

        let result = finish(
            &pipeline,
            &FinishInput {
                outcome: Outcome::Expired,
                state: DeploymentState {
                    plan: Some(plan),
                    ..DeploymentState::of(short)
                },
            },
        )
        .await
        .unwrap();

        let advice = result
            .failure
            .and_then(|f| f.recommendation)
            .expect("advice for an expired approval");
        assert!(
            advice.contains("5 minutes") && advice.contains("--approval-timeout"),
            "{advice}"
        );
    }
}
