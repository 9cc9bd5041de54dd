//! The execute step: start the approved change set, then report progress each time the state
//! machine polls, down to the first failed resource's reason when it fails.

use crate::ports::ExecuteStart;
use crate::ports::Pipeline;
use crate::StepError;
use infra_agent_core::clock::now;
use infra_agent_core::contract::deploy::DeployRequest;
use infra_agent_core::contract::execute::ExecuteInput;
use infra_agent_core::contract::execute::{StackFailure, StackPhase, StackProgress};
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::records::AuditEntry;
use infra_agent_core::stack::{first_failure, recommendation_for, StackState};

/// Starts executing the change set. Safe to retry: an already executing or executed change set is
/// reported through the stack's status instead.
pub async fn start(pipeline: &Pipeline, input: &ExecuteInput) -> Result<StackProgress, StepError> {
    let stack_name = &input.plan.stack_name;
    let started = pipeline
        .stacks
        .execute_change_set(stack_name, &input.plan.change_set_name)
        .await?;
    match started {
        ExecuteStart::Started => {}
        // Executed already by an earlier attempt of this step — or made obsolete by a change to
        // the stack outside this deployment, which must not pass for success.
        ExecuteStart::NotExecutable => {
            let view = pipeline
                .stacks
                .describe_change_set(stack_name, &input.plan.change_set_name)
                .await?;
            if let Some(reason) = view.execution_refusal(&input.plan.change_set_name) {
                let advice = "The stack changed after this change set was created: deploy again to get a current one.";
                return not_executed(pipeline, input, reason, Some(advice.into())).await;
            }
        }
        // CloudFormation refused or aborted the execution; its message is the reason.
        ExecuteStart::Refused(reason) => {
            let advice = recommendation_for(&reason);
            return not_executed(pipeline, input, reason, advice).await;
        }
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
            deadline_epoch: None,
        },
        "stack.execute",
    )
    .await?;
    let deadline = now().1 + i64::from(input.plan.stack_timeout_seconds);
    poll_until(pipeline, input, Some(deadline)).await
}

/// The change set did not run: report the stack as it is, with the reason, and audit it.
async fn not_executed(
    pipeline: &Pipeline,
    input: &ExecuteInput,
    reason: String,
    recommendation: Option<String>,
) -> Result<StackProgress, StepError> {
    let stack_name = &input.plan.stack_name;
    let status = pipeline
        .stacks
        .describe_stack(stack_name)
        .await?
        .map_or_else(|| "UNKNOWN".into(), |s| s.status.to_string());
    let progress = StackProgress {
        stack_name: stack_name.clone(),
        status,
        phase: StackPhase::Failed,
        failure: Some(StackFailure {
            reason,
            resource: None,
            resource_type: None,
            rollback_status: None,
            recommendation,
        }),
        deadline_epoch: None,
    };
    audit_progress(pipeline, &input.request, &progress, "stack.execute").await?;
    Ok(progress)
}

/// Reads the stack's status; on a failed terminal status, finds the first failed resource event.
/// A stack still in progress past the deadline set at start is `StackTimedOut`.
pub async fn poll(pipeline: &Pipeline, input: &ExecuteInput) -> Result<StackProgress, StepError> {
    let deadline = input.execution.as_ref().and_then(|e| e.deadline_epoch);
    poll_until(pipeline, input, deadline).await
}

async fn poll_until(
    pipeline: &Pipeline,
    input: &ExecuteInput,
    deadline_epoch: Option<i64>,
) -> Result<StackProgress, StepError> {
    let stack_name = &input.plan.stack_name;
    let Some(stack) = pipeline.stacks.describe_stack(stack_name).await? else {
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
            deadline_epoch,
        });
    };
    let mut progress = progress_from(pipeline, stack_name, stack).await?;
    progress.deadline_epoch = deadline_epoch;
    let overdue = deadline_epoch.is_some_and(|deadline| now().1 > deadline);
    if progress.phase == StackPhase::InProgress && overdue {
        audit_progress(pipeline, &input.request, &progress, "stack.timeout").await?;
        return Err(StepError::StackTimedOut {
            stack_name: stack_name.clone(),
            status: progress.status,
            minutes: input.plan.stack_timeout_seconds / 60,
        });
    }
    Ok(progress)
}

async fn progress_from(
    pipeline: &Pipeline,
    stack_name: &str,
    stack: StackState,
) -> Result<StackProgress, StepError> {
    let phase = if !stack.status.is_terminal() {
        StackPhase::InProgress
    } else if stack.status.is_success() {
        StackPhase::Succeeded
    } else {
        StackPhase::Failed
    };
    let failure = if phase == StackPhase::Failed {
        let events = pipeline.stacks.latest_operation_events(stack_name).await?;
        let found = first_failure(stack_name, &events);
        Some(found.unwrap_or_else(|| {
            StackFailure {
                reason: stack
                    .status_reason
                    .clone()
                    .unwrap_or_else(|| format!("stack ended in {}", stack.status)),
                resource: None,
                resource_type: None,
                rollback_status: stack.status.is_rollback().then(|| stack.status.to_string()),
                recommendation: stack.status_reason.as_deref().and_then(recommendation_for),
            }
        }))
    } else {
        None
    };
    Ok(StackProgress {
        stack_name: stack_name.to_string(),
        status: stack.status.to_string(),
        phase,
        failure,
        deadline_epoch: None,
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

#[cfg(test)]
mod tests {
    //! Start and the status poll against scripted CloudFormation: the emulator executes change
    //! sets synchronously and never rolls back, so it cannot show a stack in progress or rolled
    //! back, nor an obsolete change set or a refused execution.

    use std::collections::BTreeMap;

    use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
    use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
    use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
    use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
    use aws_sdk_cloudformation::types::{ChangeSetStatus, ExecutionStatus};
    use aws_sdk_cloudformation::Client;
    use aws_smithy_mocks::{mock, Rule};

    use super::*;
    use crate::aws::cloudformation::fakes::*;
    use infra_agent_core::contract::change_set::ChangeSetResult;
    use infra_agent_core::contract::change_set::{ChangeSetType, ChangeSummary};
    use infra_agent_core::contract::deploy::DeploymentPlan;
    use infra_agent_core::contract::deploy::TemplateRef;
    use infra_agent_core::naming::Env;

    fn input() -> ExecuteInput {
        let change_set_name = "infra-agent-dev-app-20260301-001".to_string();
        ExecuteInput {
            request: DeployRequest {
                promoted_from: None,
                returns_to: None,
                kind: Default::default(),
                version: 1,
                deployment_id: "dev-app-20260301T120000-a1b2".into(),
                stack: "app".parse().expect("a valid stack key"),
                env: Env::Dev,
                template: TemplateRef {
                    bucket: "infra-agent-test-templates".into(),
                    key: "templates/app/0f1e.yaml".into(),
                    sha256: "0f1e".into(),
                },
                requested_by: "alice".into(),
                iac_version: "1.4.0".into(),
                approval_timeout_seconds: None,
                parameters: Default::default(),
            },
            plan: DeploymentPlan {
                stack_name: STACK_NAME.into(),
                change_set_name: change_set_name.clone(),
                started_at: "2026-03-01T12:00:00Z".into(),
                lock_expires_at: "2026-03-01T14:00:00Z".into(),
                approval_timeout_seconds: 3600,
                poll_interval_seconds: 0,
                stack_timeout_seconds: 3600,
            },
            change_set: ChangeSetResult {
                stack_name: STACK_NAME.into(),
                change_set_name,
                change_set_arn: Some(
                    "arn:aws:cloudformation:us-east-1:123456789012:changeSet/x/y".into(),
                ),
                change_set_type: ChangeSetType::Create,
                has_changes: true,
                summary: ChangeSummary::default(),
                parameters: BTreeMap::new(),
                tags: BTreeMap::new(),
            },
            execution: None,
        }
    }

    /// The input of a poll after an earlier one that set `deadline_epoch`.
    fn polled_with_deadline(deadline_epoch: i64) -> ExecuteInput {
        ExecuteInput {
            execution: Some(StackProgress {
                stack_name: STACK_NAME.into(),
                status: "UPDATE_IN_PROGRESS".into(),
                phase: StackPhase::InProgress,
                failure: None,
                deadline_epoch: Some(deadline_epoch),
            }),
            ..input()
        }
    }

    #[tokio::test]
    async fn a_stack_still_executing_past_its_deadline_is_a_typed_timeout() {
        let executing = stack_is("UPDATE_IN_PROGRESS", None);
        let pipeline = offline_pipeline(cfn_client(&[&executing]));

        let err = poll(&pipeline, &polled_with_deadline(now().1 - 1))
            .await
            .unwrap_err();

        assert_eq!(err.error_type(), "StackTimedOut");
        let message = err.to_string();
        assert!(
            message.contains("UPDATE_IN_PROGRESS") && message.contains("60 minutes"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_poll_before_the_deadline_carries_it_forward() {
        let executing = stack_is("UPDATE_IN_PROGRESS", None);
        let pipeline = offline_pipeline(cfn_client(&[&executing]));
        let deadline = now().1 + 600;

        let progress = poll(&pipeline, &polled_with_deadline(deadline))
            .await
            .expect("not yet overdue");

        assert_eq!(progress.phase, StackPhase::InProgress);
        assert_eq!(progress.deadline_epoch, Some(deadline));
    }

    #[tokio::test]
    async fn a_stack_that_finished_after_the_deadline_still_counts_as_finished() {
        let updated = stack_is("UPDATE_COMPLETE", None);
        let pipeline = offline_pipeline(cfn_client(&[&updated]));

        let progress = poll(&pipeline, &polled_with_deadline(now().1 - 1))
            .await
            .expect("a finished stack is not overdue");

        assert_eq!(progress.phase, StackPhase::Succeeded);
    }

    fn stack_is(status: &str, reason: Option<&str>) -> Rule {
        let output = DescribeStacksOutput::builder()
            .stacks(stack(status, reason))
            .build();
        mock!(Client::describe_stacks)
            .match_requests(|req| req.stack_name() == Some(STACK_NAME))
            .then_output(move || output.clone())
    }

    /// Polls with only `rules` scripted: a call the poll should not make panics in the fake.
    async fn poll_with(rules: &[&Rule]) -> StackProgress {
        let pipeline = offline_pipeline(cfn_client(rules));
        poll(&pipeline, &input()).await.expect("the poll succeeds")
    }

    #[tokio::test]
    async fn stack_still_executing_is_in_progress_without_failure() {
        let executing = stack_is("CREATE_IN_PROGRESS", Some("User Initiated"));

        let progress = poll_with(&[&executing]).await;

        assert_eq!(progress.phase, StackPhase::InProgress);
        assert_eq!(progress.status, "CREATE_IN_PROGRESS");
        assert_eq!(progress.failure, None);
    }

    #[tokio::test]
    async fn rolled_back_stack_fails_with_the_first_failed_resource_reason() {
        let rolled_back = stack_is(
            "ROLLBACK_COMPLETE",
            Some("The following resource(s) failed to create: [AppInstance, AppSecurityGroup]. Rollback requested by user."),
        );
        let events = DescribeStackEventsOutput::builder()
            .set_stack_events(Some(failed_create_events()))
            .build();
        let history = mock!(Client::describe_stack_events).then_output(move || events.clone());

        let progress = poll_with(&[&rolled_back, &history]).await;

        assert_eq!(progress.phase, StackPhase::Failed);
        assert_eq!(progress.status, "ROLLBACK_COMPLETE");
        let failure = progress.failure.expect("a failed stack says why");
        assert_eq!(failure.reason, MISSING_EXPORT);
        assert_eq!(failure.resource.as_deref(), Some("AppSecurityGroup"));
        assert_eq!(
            failure.rollback_status.as_deref(),
            Some("ROLLBACK_COMPLETE")
        );
        assert!(failure.recommendation.is_some());
        assert_eq!(history.num_calls(), 1);
    }

    #[tokio::test]
    async fn updated_stack_succeeds() {
        let updated = stack_is("UPDATE_COMPLETE", None);

        let progress = poll_with(&[&updated]).await;

        assert_eq!(progress.phase, StackPhase::Succeeded);
        assert_eq!(progress.failure, None);
    }

    #[tokio::test]
    async fn stack_that_disappeared_during_execution_is_a_failure() {
        let body = error_document(
            "ValidationError",
            "Stack with id infra-agent-dev-app does not exist",
        );
        let gone = mock!(Client::describe_stacks)
            .sequence()
            .http_status(400, Some(body))
            .build();

        let progress = poll_with(&[&gone]).await;

        assert_eq!(progress.phase, StackPhase::Failed);
        let failure = progress.failure.expect("a vanished stack says why");
        assert!(failure.reason.contains("disappeared"), "{}", failure.reason);
    }

    // ---------------------------------------------------------------- start

    fn execute_refused(code: &str, message: &str) -> Rule {
        let body = error_document(code, message);
        mock!(Client::execute_change_set)
            .match_requests(|req| {
                req.stack_name() == Some(STACK_NAME)
                    && req.change_set_name() == Some(input().plan.change_set_name.as_str())
            })
            .sequence()
            .http_status(400, Some(body))
            .build()
    }

    fn change_set_is(execution: ExecutionStatus, reason: Option<&str>) -> Rule {
        let output = DescribeChangeSetOutput::builder()
            .change_set_name(input().plan.change_set_name)
            .stack_name(STACK_NAME)
            .stack_id(STACK_ID)
            .status(ChangeSetStatus::CreateComplete)
            .execution_status(execution)
            .set_status_reason(reason.map(str::to_string))
            .build();
        mock!(Client::describe_change_set)
            .match_requests(|req| req.stack_name() == Some(STACK_NAME))
            .then_output(move || output.clone())
    }

    /// Starts with only `rules` scripted; returns the progress and the step's audit trail.
    async fn start_with(rules: &[&Rule]) -> (StackProgress, Vec<AuditEntry>) {
        let pipeline = offline_pipeline(cfn_client(rules));
        let progress = start(&pipeline, &input()).await.expect("the step answers");
        let request = &input().request;
        let trail = pipeline
            .store
            .audit_trail(request.env, request.stack.as_str())
            .await
            .unwrap();
        (progress, trail)
    }

    #[tokio::test]
    async fn obsolete_change_set_fails_even_though_the_stack_is_complete() {
        // Someone updated the stack after this change set was made: CloudFormation refuses to
        // run it, and the stack's own status (UPDATE_COMPLETE) says nothing about this change.
        let refused = execute_refused(
            "InvalidChangeSetStatus",
            "ChangeSet [infra-agent-dev-app-20260301-001] cannot be executed in its current status of [OBSOLETE]",
        );
        let obsolete = change_set_is(ExecutionStatus::Obsolete, None);
        let updated_elsewhere = stack_is("UPDATE_COMPLETE", None);

        let (progress, trail) = start_with(&[&refused, &obsolete, &updated_elsewhere]).await;

        assert_eq!(progress.phase, StackPhase::Failed, "{progress:?}");
        assert_eq!(progress.status, "UPDATE_COMPLETE");
        let failure = progress.failure.expect("says why");
        assert!(failure.reason.contains("OBSOLETE"), "{}", failure.reason);
        assert!(
            failure
                .recommendation
                .as_deref()
                .is_some_and(|r| r.contains("deploy again")),
            "{failure:?}"
        );
        assert_eq!(trail.len(), 1, "{trail:?}");
        assert_eq!(trail[0].action, "stack.execute");
        assert_eq!(trail[0].outcome, "UPDATE_COMPLETE");
        for rule in [&refused, &obsolete, &updated_elsewhere] {
            assert_eq!(rule.num_calls(), 1);
        }
    }

    #[tokio::test]
    async fn change_set_executed_by_an_earlier_attempt_is_followed_to_its_end() {
        // The same refusal, for a retried step whose first attempt started the change set.
        let refused = execute_refused(
            "InvalidChangeSetStatus",
            "ChangeSet [infra-agent-dev-app-20260301-001] cannot be executed in its current status of [EXECUTE_COMPLETE]",
        );
        let executed = change_set_is(ExecutionStatus::ExecuteComplete, None);
        let created = stack_is("CREATE_COMPLETE", None);

        let (progress, trail) = start_with(&[&refused, &executed, &created]).await;

        assert_eq!(progress.phase, StackPhase::Succeeded, "{progress:?}");
        assert_eq!(progress.failure, None);
        assert_eq!(trail.len(), 1, "{trail:?}");
        assert_eq!(trail[0].outcome, "EXECUTING");
    }

    #[tokio::test]
    async fn refused_execution_fails_with_cloudformations_reason() {
        let message = "Requires capabilities : [CAPABILITY_NAMED_IAM]";
        let refused = execute_refused("InsufficientCapabilitiesException", message);
        let waiting = stack_is("REVIEW_IN_PROGRESS", None);

        // No DescribeChangeSet: a refusal is not mistaken for an earlier attempt's execution.
        let (progress, trail) = start_with(&[&refused, &waiting]).await;

        assert_eq!(progress.phase, StackPhase::Failed, "{progress:?}");
        assert_eq!(progress.status, "REVIEW_IN_PROGRESS");
        let failure = progress.failure.expect("says why");
        assert_eq!(
            failure.reason,
            format!("InsufficientCapabilitiesException: {message}")
        );
        assert_eq!(trail.len(), 1, "{trail:?}");
        assert_eq!(trail[0].detail.as_deref(), Some(failure.reason.as_str()));
    }

    #[tokio::test]
    async fn throttled_execution_is_left_to_the_machines_retry() {
        let throttled = execute_refused("Throttling", "Rate exceeded");

        let pipeline = offline_pipeline(cfn_client(&[&throttled]));
        let err = start(&pipeline, &input()).await.unwrap_err();

        assert_eq!(err.error_type(), "TransientError", "{err}");
    }

    #[tokio::test]
    async fn started_execution_is_polled_at_once() {
        let output = ExecuteChangeSetOutput::builder().build();
        let started = mock!(Client::execute_change_set).then_output(move || output.clone());
        let executing = stack_is("CREATE_IN_PROGRESS", Some("User Initiated"));

        let (progress, trail) = start_with(&[&started, &executing]).await;

        assert_eq!(progress.phase, StackPhase::InProgress);
        assert_eq!(trail[0].outcome, "EXECUTING");
    }
}
