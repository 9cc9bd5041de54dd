//! Taking a decision on an approval: claim it once in DynamoDB, then resume the waiting execution.
//! Shared by the link handler and the CLI so both paths have the same guarantees.

use crate::contract::approval::{ApprovalDecision, Decision};
use crate::store::{
    now, ApprovalRecord, ApprovalStatus, AuditEntry, DecideError, Store, TaskToken,
};
use crate::StepError;

/// Error name the state machine's Catch matches for a rejection.
pub const REJECTED_ERROR: &str = "ApprovalRejected";

/// Decides approval `approval_id`. The outer error is an infrastructure failure; the inner one is
/// a refusal to decide (unknown, already decided, expired, same approver twice), which changes
/// nothing. An approval that needs more distinct approvers than it has is returned still
/// `Pending`, with the approver recorded: the execution goes on waiting.
pub async fn decide(
    store: &Store,
    sfn: &aws_sdk_sfn::Client,
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
    let Some(token) = record.task_token.as_ref().map(TaskToken::expose) else {
        store.audit(&audit).await?;
        return Ok(Ok(record));
    };
    let sent = match decision {
        Decision::Approved => sfn
            .send_task_success()
            .task_token(token)
            .output(output_json)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| code_and_message(&e)),
        Decision::Rejected => sfn
            .send_task_failure()
            .task_token(token)
            .error(REJECTED_ERROR)
            .cause(output_json)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| code_and_message(&e)),
    };
    match sent {
        Ok(()) => {
            store.audit(&audit).await?;
            Ok(Ok(record))
        }
        Err((Some(code), _))
            if matches!(
                code.as_str(),
                "TaskTimedOut" | "TaskDoesNotExist" | "InvalidToken"
            ) =>
        {
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
        Err((_, message)) => Err(StepError::Aws {
            service: "sfn",
            operation: "SendTaskSuccess",
            message,
        }),
    }
}

fn code_and_message<E>(err: &crate::error::SdkError<E>) -> (Option<String>, String)
where
    E: aws_sdk_sfn::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    (
        crate::error::sdk_code(err).map(str::to_string),
        crate::error::sdk_message(err),
    )
}
