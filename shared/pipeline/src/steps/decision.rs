//! Taking a decision on an approval: claim it once in DynamoDB, then resume the waiting execution.
//! Shared by the link's page and the decision endpoint, so both have the same guarantees.

use infra_agent_core::clock::now;
use infra_agent_core::contract::approval::{ApprovalDecision, Decision};
use infra_agent_core::records::{ApprovalRecord, ApprovalStatus, AuditEntry, DecideError};
use infra_agent_core::StepError;

use crate::ports::{Executions, Store, TaskOutcome, TaskResumed};

/// Error name the state machine's Catch matches for a rejection.
pub const REJECTED_ERROR: &str = "ApprovalRejected";

/// The audit entry of a decision on `approval` that was refused before anything changed (the
/// caller is no approver there, the channel may not approve, the request did not verify):
/// `actor` as the channel names them, `detail` saying why.
pub fn refused_entry(approval: &ApprovalRecord, actor: &str, detail: String) -> AuditEntry {
    AuditEntry::new(
        approval.env,
        &approval.stack,
        actor,
        "approval.decide",
        "REFUSED",
    )
    .deployment(&approval.deployment_id)
    .detail(detail)
}

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
        Err(refused) => {
            // Another decision landed between this approval's vote and its decision: the vote
            // approved nothing, so it is not left listed on the approval.
            if decision == Decision::Approved {
                for voter in approver.split(", ") {
                    store.withdraw_approver(approval_id, voter).await?;
                }
            }
            return Ok(Err(refused));
        }
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

#[cfg(test)]
mod tests {
    use infra_agent_core::contract::approval::TaskToken;
    use infra_agent_core::naming::Env;

    use super::*;
    use crate::fakes::Fakes;
    use crate::ports::{Approvals, AuditTrail};

    const ID: &str = "a1b2c3d4-0123456789ab";

    async fn pending(fakes: &Fakes, required_approvers: u32) {
        let expires_epoch = now().1 + 3600;
        fakes
            .store
            .put_approval(&crate::fakes::pending_approval(
                ID,
                required_approvers,
                expires_epoch,
            ))
            .await
            .unwrap();
    }

    async fn vote(
        fakes: &Fakes,
        decision: Decision,
        who: &str,
    ) -> Result<ApprovalRecord, DecideError> {
        decide(
            fakes.store.as_ref(),
            fakes.executions.as_ref(),
            ID,
            decision,
            who,
            None,
            "iam",
        )
        .await
        .expect("no infrastructure failure")
    }

    #[tokio::test]
    async fn the_execution_resumes_only_when_enough_distinct_people_approved() {
        let fakes = Fakes::new();
        pending(&fakes, 2).await;

        let first = vote(&fakes, Decision::Approved, "ada").await.unwrap();
        assert_eq!(first.status, ApprovalStatus::Pending);
        assert!(
            fakes.executions.resumed().is_empty(),
            "one of two resumes nothing"
        );
        let twice = vote(&fakes, Decision::Approved, "ada").await;
        assert!(
            matches!(twice, Err(DecideError::AlreadyApprovedBy { .. })),
            "{twice:?}"
        );
        assert!(fakes.executions.resumed().is_empty());

        let second = vote(&fakes, Decision::Approved, "grace").await.unwrap();

        assert_eq!(second.status, ApprovalStatus::Approved);
        assert_eq!(second.approver.as_deref(), Some("ada, grace"));
        let resumed = fakes.executions.resumed();
        assert_eq!(resumed.len(), 1);
        assert!(
            matches!(&resumed[0], TaskOutcome::Success { output } if output.contains("APPROVED"))
        );
    }

    #[tokio::test]
    async fn a_rejection_fails_the_waiting_task_and_a_later_approval_changes_nothing() {
        let fakes = Fakes::new();
        pending(&fakes, 1).await;

        vote(&fakes, Decision::Rejected, "bob").await.unwrap();
        let late = vote(&fakes, Decision::Approved, "ada").await;

        assert!(
            matches!(late, Err(DecideError::AlreadyDecided { .. })),
            "{late:?}"
        );
        let resumed = fakes.executions.resumed();
        assert_eq!(resumed.len(), 1, "{resumed:?}");
        assert!(
            matches!(&resumed[0], TaskOutcome::Failure { error, .. } if error == REJECTED_ERROR)
        );
    }

    #[tokio::test]
    async fn a_decision_after_the_execution_stopped_waiting_is_expired() {
        let fakes = Fakes::new();
        pending(&fakes, 1).await;
        fakes
            .executions
            .stop_waiting(&TaskToken::new("token-1".into()));

        let late = vote(&fakes, Decision::Approved, "ada").await;

        assert!(matches!(late, Err(DecideError::Expired { .. })), "{late:?}");
        let stored = fakes.store.approval(ID).await.unwrap().unwrap();
        assert_eq!(stored.status, ApprovalStatus::Expired);
        let trail = fakes.store.audit_trail(Env::Prd, "vpc").await.unwrap();
        assert_eq!(trail.last().map(|e| e.outcome.as_str()), Some("EXPIRED"));
    }

    #[tokio::test]
    async fn an_approval_that_loses_the_race_to_a_rejection_is_not_listed() {
        let fakes = Fakes::new();
        pending(&fakes, 1).await;
        fakes.store.after_next_vote(|approval| {
            approval.status = ApprovalStatus::Rejected;
            approval.approver = Some("bob".into());
        });

        let lost = vote(&fakes, Decision::Approved, "ada").await;

        assert!(
            matches!(lost, Err(DecideError::AlreadyDecided { .. })),
            "{lost:?}"
        );
        let stored = fakes.store.approval(ID).await.unwrap().unwrap();
        assert_eq!(stored.status, ApprovalStatus::Rejected);
        assert!(stored.approved_by.is_empty(), "{:?}", stored.approved_by);
        assert!(fakes.executions.resumed().is_empty());
    }
}
