//! Makes the record of a deployment whose execution ended without recording (stopped, timed out,
//! killed host) true, and frees its lock. Run by the record function on Step Functions' status
//! change events, and by the CLI when it finds an ended execution with an open record (the local
//! emulator sends no events). Safe to run any number of times.

use infra_agent_core::clock::now;
use infra_agent_core::contract::execute::StackFailure;
use infra_agent_core::contract::reconcile::{EndedExecution, ExecutionEnd};
use infra_agent_core::records::{ApprovalStatus, AuditEntry};
use infra_agent_core::StepError;

use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::stack::StackStatus;

use crate::ports::{Stacks, Store};

/// What reconciling changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reconciled {
    pub deployment_id: String,
    /// The record's status after reconciling; `None` when there is no record.
    pub status: Option<String>,
    /// The record was open and is now final.
    pub record_closed: bool,
    pub lock_released: bool,
}

pub async fn reconcile(
    store: &dyn Store,
    stacks: &dyn Stacks,
    ended: &EndedExecution,
    actor: &str,
) -> Result<Reconciled, StepError> {
    let request = &ended.request;
    let stack = request.stack.as_str();
    let id = &ended.name;
    let record = store.deployment(request.env, stack, id).await?;
    let mut record_closed = false;
    let status = match record {
        Some(mut record) if !record.status.is_final() => {
            // A change set that never ran is removed, as the record step would have: nobody
            // executes it later by hand, and a CREATE's empty stack does not linger.
            let never_executed = matches!(
                record.status,
                DeploymentStatus::InProgress | DeploymentStatus::AwaitingApproval
            );
            if let (true, Some(change_set)) = (never_executed, record.change_set_name.as_deref()) {
                stacks
                    .delete_change_set(&record.stack_name, change_set)
                    .await?;
                let unborn = stacks
                    .describe_stack(&record.stack_name)
                    .await?
                    .is_some_and(|s| s.status == StackStatus::ReviewInProgress);
                if unborn {
                    stacks.delete_stack(&record.stack_name).await?;
                }
            }
            let (at, _) = now();
            record.status = ended.end.deployment_status();
            record.failure = Some(failure(ended));
            record.updated_at = at.clone();
            record.finished_at = Some(at);
            store.put_deployment(&record).await?;
            // A link to an execution that no longer waits must not look decidable.
            if let Some(approval_id) = &record.approval_id {
                if let Some(approval) = store.approval(approval_id).await? {
                    if approval.status == ApprovalStatus::Pending {
                        store.mark_approval_expired(approval_id).await?;
                    }
                }
            }
            record_closed = true;
            Some(record.status.as_str().to_string())
        }
        Some(record) => Some(record.status.as_str().to_string()),
        None => None,
    };
    let lock_released = store.release_lock(request.env, stack, id).await?;
    if record_closed || lock_released {
        store
            .audit(
                &AuditEntry::new(
                    request.env,
                    stack,
                    actor,
                    "deployment.reconcile",
                    status.as_deref().unwrap_or("NO_RECORD"),
                )
                .deployment(id)
                .detail(format!(
                    "execution ended {:?} without recording{}; lock released: {lock_released}",
                    ended.end,
                    ended
                        .error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                )),
            )
            .await?;
    }
    tracing::info!(deployment = %id, record_closed, lock_released, "execution reconciled");
    Ok(Reconciled {
        deployment_id: id.clone(),
        status,
        record_closed,
        lock_released,
    })
}

fn failure(ended: &EndedExecution) -> StackFailure {
    let how = match ended.end {
        ExecutionEnd::Aborted => "was stopped",
        ExecutionEnd::TimedOut => "timed out",
        ExecutionEnd::Failed => "failed",
        ExecutionEnd::Succeeded => "ended",
    };
    let present = |text: &Option<String>| text.clone().filter(|t| !t.trim().is_empty());
    let detail = match (present(&ended.error), present(&ended.cause)) {
        (Some(error), Some(cause)) => format!(": {error}: {cause}"),
        (Some(error), None) => format!(": {error}"),
        (None, Some(cause)) => format!(": {cause}"),
        (None, None) => String::new(),
    };
    StackFailure {
        reason: format!(
            "execution {} {how} before it recorded an outcome{detail}",
            ended.name
        ),
        resource: None,
        resource_type: None,
        rollback_status: None,
        recommendation: Some(
            "Check the stack's status and events: a change set that had started executing may still have changed it. Deploy again when the stack is stable.".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use infra_agent_core::contract::deploy::DeployRequest;
    use infra_agent_core::contract::record::DeploymentStatus;

    use infra_agent_core::naming::Env;

    use super::*;
    use crate::fakes::Fakes;
    use crate::ports::{AuditTrail, Deployments, Locks};
    use crate::steps::begin::begin;

    fn request() -> DeployRequest {
        crate::fakes::deploy_request("dev-vpc-20270115T080000-aaaa")
    }

    fn ended(end: ExecutionEnd) -> EndedExecution {
        EndedExecution {
            name: request().deployment_id,
            end,
            error: Some("States.Runtime".into()),
            cause: Some("the Lambda host went away".into()),
            request: request(),
        }
    }

    #[tokio::test]
    async fn a_stopped_execution_closes_its_record_and_frees_the_stack() {
        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        begin(&pipeline, &request()).await.unwrap();

        let done = reconcile(
            fakes.store.as_ref(),
            fakes.stacks.as_ref(),
            &ended(ExecutionEnd::Aborted),
            "test",
        )
        .await
        .unwrap();

        assert!(done.record_closed && done.lock_released, "{done:?}");
        let record = fakes
            .store
            .deployment(Env::Dev, "vpc", &request().deployment_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.status, DeploymentStatus::Aborted);
        assert!(record.finished_at.is_some());
        let reason = record.failure.unwrap().reason;
        assert!(
            reason.contains("was stopped") && reason.contains("States.Runtime"),
            "{reason}"
        );
        assert!(fakes.store.lock(Env::Dev, "vpc").await.unwrap().is_none());
        let trail = fakes.store.audit_trail(Env::Dev, "vpc").await.unwrap();
        assert_eq!(
            trail.last().map(|e| e.action.as_str()),
            Some("deployment.reconcile")
        );
    }

    #[tokio::test]
    async fn a_recorded_outcome_is_kept_and_another_deployments_lock_is_not_touched() {
        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        begin(&pipeline, &request()).await.unwrap();
        let first = reconcile(
            fakes.store.as_ref(),
            fakes.stacks.as_ref(),
            &ended(ExecutionEnd::TimedOut),
            "test",
        )
        .await
        .unwrap();
        assert_eq!(first.status.as_deref(), Some("TIMED_OUT"));
        let mut next = request();
        next.deployment_id = "dev-vpc-20270115T090000-bbbb".into();
        begin(&pipeline, &next).await.unwrap();

        let again = reconcile(
            fakes.store.as_ref(),
            fakes.stacks.as_ref(),
            &ended(ExecutionEnd::Failed),
            "test",
        )
        .await
        .unwrap();

        assert!(!again.record_closed && !again.lock_released, "{again:?}");
        assert_eq!(again.status.as_deref(), Some("TIMED_OUT"));
        let lock = fakes.store.lock(Env::Dev, "vpc").await.unwrap().unwrap();
        assert_eq!(lock.holder, next.deployment_id);
    }

    #[tokio::test]
    async fn a_deployment_stopped_while_awaiting_approval_leaves_no_change_set_or_empty_stack() {
        use crate::ports::Stacks;

        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        let plan = begin(&pipeline, &request()).await.unwrap();
        fakes
            .stacks
            .put_create_change_set(&plan.stack_name, &plan.change_set_name);
        let mut record = fakes
            .store
            .deployment(Env::Dev, "vpc", &request().deployment_id)
            .await
            .unwrap()
            .unwrap();
        record.status = DeploymentStatus::AwaitingApproval;
        fakes.store.put_deployment(&record).await.unwrap();

        let mut stopped = ended(ExecutionEnd::Aborted);
        stopped.error = Some(String::new());
        stopped.cause = Some(" ".into());
        reconcile(
            fakes.store.as_ref(),
            fakes.stacks.as_ref(),
            &stopped,
            "test",
        )
        .await
        .unwrap();

        assert!(fakes.stacks.change_sets(&plan.stack_name).is_empty());
        assert_eq!(
            fakes.stacks.describe_stack(&plan.stack_name).await.unwrap(),
            None
        );
        let reason = fakes
            .store
            .deployment(Env::Dev, "vpc", &request().deployment_id)
            .await
            .unwrap()
            .unwrap()
            .failure
            .unwrap()
            .reason;
        assert!(
            reason.ends_with("before it recorded an outcome"),
            "empty error and cause are not quoted: {reason}"
        );
    }
}
