//! Taking a decision on an approval: claim it once in DynamoDB, then resume the waiting execution.
//! Shared by the link handler and the CLI so both paths have the same guarantees.

use infra_agent_core::clock::now;
use infra_agent_core::contract::approval::{ApprovalDecision, Decision};
use infra_agent_core::records::{ApprovalRecord, ApprovalStatus, AuditEntry, DecideError};
use infra_agent_core::StepError;

use crate::ports::{Executions, Store, TaskOutcome, TaskResumed};

/// Error name the state machine's Catch matches for a rejection.
pub const REJECTED_ERROR: &str = "ApprovalRejected";

/// Decides approval `approval_id`. The outer error is an infrastructure failure; the inner one is
/// a refusal to decide (unknown, already decided, expired, same approver twice), which changes
/// nothing. An approval that needs more distinct approvers than it has is returned still
/// `Pending`, with the approver recorded: the execution goes on waiting.
pub async fn decide(
    store: &dyn Store,
    executions: &dyn Executions,
    approval_id: &str,
    decision: Decision,
    approver: &str,
    comment: Option<&str>,
    channel: &str,
) -> Result<Result<ApprovalRecord, DecideError>, StepError> {
    let (at, epoch) = now();
    let status = match decision {
        Decision::Approved => ApprovalStatus::Approved,
        Decision::Rejected => ApprovalStatus::Rejected,
    };
    let mut approver = approver.to_string();
    if decision == Decision::Approved {
        let voted = match store.add_approver(approval_id, &approver, epoch).await? {
            Ok(record) => record,
            Err(refused) => return Ok(Err(refused)),
        };
        if (voted.approved_by.len() as u32) < voted.required_approvers {
            store
                .audit(
                    &AuditEntry::new(
                        voted.env,
                        &voted.stack,
                        &approver,
                        "approval.vote",
                        "APPROVED",
                    )
                    .deployment(&voted.deployment_id)
                    .detail(format!(
                        "approval {approval_id} via {channel}: {} of {} approvers",
                        voted.approved_by.len(),
                        voted.required_approvers
                    )),
                )
                .await?;
            return Ok(Ok(voted));
        }
        approver = voted.approved_by.join(", ");
    }
    let approver = approver.as_str();
    let record = match store
        .decide_approval(approval_id, status, approver, comment, (&at, epoch))
        .await?
    {
        Ok(record) => record,
        Err(refused) => return Ok(Err(refused)),
    };
    let output = ApprovalDecision {
        approval_id: approval_id.to_string(),
        decision,
        approver: approver.to_string(),
        decided_at: at.clone(),
        channel: channel.to_string(),
        comment: comment.map(str::to_string),
    };
    let output_json = serde_json::to_string(&output)
        .map_err(|e| StepError::RecordConflict(format!("cannot encode decision: {e}")))?;
    let audit = AuditEntry::new(
        record.env,
        &record.stack,
        approver,
        "approval.decide",
        decision.as_str(),
    )
    .deployment(&record.deployment_id)
    .detail(format!("approval {approval_id} via {channel}"));
    // A teardown approval resumes nothing: the destroy command presents it later.
    let Some(token) = record.task_token.as_ref() else {
        store.audit(&audit).await?;
        return Ok(Ok(record));
    };
    let outcome = match decision {
        Decision::Approved => TaskOutcome::Success {
            output: output_json,
        },
        Decision::Rejected => TaskOutcome::Failure {
            error: REJECTED_ERROR.to_string(),
            cause: output_json,
        },
    };
    match executions.resume(token, &outcome).await? {
        TaskResumed::Resumed => {
            store.audit(&audit).await?;
            Ok(Ok(record))
        }
        TaskResumed::NoLongerWaiting => {
            // The execution stopped waiting (timeout, abort): the decision came too late.
            store.mark_approval_expired(approval_id).await?;
            store
                .audit(&AuditEntry {
                    outcome: "EXPIRED".into(),
                    ..audit
                })
                .await?;
            Ok(Err(DecideError::Expired {
                id: approval_id.to_string(),
                expires_at: record.expires_at,
            }))
        }
    }
}
