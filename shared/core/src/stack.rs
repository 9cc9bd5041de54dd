//! CloudFormation stacks and change sets as the pipeline reasons about them: typed statuses, what a
//! computed change set means, and the cause of a failed operation read from its events.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::contract::change_set::{ChangeSetType, ResourceChange};
use crate::contract::execute::StackFailure;

/// Largest template CloudFormation accepts inline; bigger ones must be passed by URL.
pub const MAX_INLINE_TEMPLATE_BYTES: usize = 51_200;

/// What CloudFormation says when a change set would change nothing.
const NO_CHANGES_REASONS: [&str; 2] = ["didn't contain changes", "No updates are to be performed"];

/// A stack's status. CloudFormation's spelling is kept (`CREATE_COMPLETE`); a status this version
/// does not know is kept as written and judged by its suffix, as CloudFormation names them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum StackStatus {
    CreateInProgress,
    CreateComplete,
    CreateFailed,
    RollbackInProgress,
    RollbackComplete,
    RollbackFailed,
    UpdateInProgress,
    UpdateCompleteCleanupInProgress,
    UpdateComplete,
    UpdateFailed,
    UpdateRollbackInProgress,
    UpdateRollbackCompleteCleanupInProgress,
    UpdateRollbackComplete,
    UpdateRollbackFailed,
    DeleteInProgress,
    DeleteComplete,
    DeleteFailed,
    ReviewInProgress,
    ImportInProgress,
    ImportComplete,
    ImportRollbackInProgress,
    ImportRollbackComplete,
    ImportRollbackFailed,
    Other(String),
}

const KNOWN: [(StackStatus, &str); 23] = [
    (StackStatus::CreateInProgress, "CREATE_IN_PROGRESS"),
    (StackStatus::CreateComplete, "CREATE_COMPLETE"),
    (StackStatus::CreateFailed, "CREATE_FAILED"),
    (StackStatus::RollbackInProgress, "ROLLBACK_IN_PROGRESS"),
    (StackStatus::RollbackComplete, "ROLLBACK_COMPLETE"),
    (StackStatus::RollbackFailed, "ROLLBACK_FAILED"),
    (StackStatus::UpdateInProgress, "UPDATE_IN_PROGRESS"),
    (
        StackStatus::UpdateCompleteCleanupInProgress,
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    ),
    (StackStatus::UpdateComplete, "UPDATE_COMPLETE"),
    (StackStatus::UpdateFailed, "UPDATE_FAILED"),
    (
        StackStatus::UpdateRollbackInProgress,
        "UPDATE_ROLLBACK_IN_PROGRESS",
    ),
    (
        StackStatus::UpdateRollbackCompleteCleanupInProgress,
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    ),
    (
        StackStatus::UpdateRollbackComplete,
        "UPDATE_ROLLBACK_COMPLETE",
    ),
    (StackStatus::UpdateRollbackFailed, "UPDATE_ROLLBACK_FAILED"),
    (StackStatus::DeleteInProgress, "DELETE_IN_PROGRESS"),
    (StackStatus::DeleteComplete, "DELETE_COMPLETE"),
    (StackStatus::DeleteFailed, "DELETE_FAILED"),
    (StackStatus::ReviewInProgress, "REVIEW_IN_PROGRESS"),
    (StackStatus::ImportInProgress, "IMPORT_IN_PROGRESS"),
    (StackStatus::ImportComplete, "IMPORT_COMPLETE"),
    (
        StackStatus::ImportRollbackInProgress,
        "IMPORT_ROLLBACK_IN_PROGRESS",
    ),
    (
        StackStatus::ImportRollbackComplete,
        "IMPORT_ROLLBACK_COMPLETE",
    ),
    (StackStatus::ImportRollbackFailed, "IMPORT_ROLLBACK_FAILED"),
];

impl StackStatus {
    pub fn parse(text: &str) -> StackStatus {
        KNOWN
            .iter()
            .find(|(_, name)| *name == text)
            .map_or_else(|| StackStatus::Other(text.to_string()), |(s, _)| s.clone())
    }

    pub fn as_str(&self) -> &str {
        match self {
            StackStatus::Other(text) => text,
            known => KNOWN
                .iter()
                .find(|(s, _)| s == known)
                .map_or("", |(_, name)| name),
        }
    }

    /// No operation is running: the status will not change by itself.
    pub fn is_terminal(&self) -> bool {
        !self.as_str().ends_with("_IN_PROGRESS")
    }

    /// The operation ended as asked.
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            StackStatus::CreateComplete
                | StackStatus::UpdateComplete
                | StackStatus::ImportComplete
                | StackStatus::DeleteComplete
        )
    }

    /// The operation ended without doing what was asked (failed, or rolled back).
    pub fn is_failure(&self) -> bool {
        self.is_terminal() && !self.is_success()
    }

    /// A rollback ran or runs: the stack is not what the last operation asked for.
    pub fn is_rollback(&self) -> bool {
        self.as_str().contains("ROLLBACK")
    }

    /// The stack is there to read outputs from (and to build on).
    pub fn is_deployed(&self) -> bool {
        matches!(
            self,
            StackStatus::CreateComplete
                | StackStatus::UpdateComplete
                | StackStatus::UpdateRollbackComplete
                | StackStatus::ImportComplete
        )
    }
}

impl From<String> for StackStatus {
    fn from(text: String) -> Self {
        StackStatus::parse(&text)
    }
}

impl From<StackStatus> for String {
    fn from(status: StackStatus) -> Self {
        status.as_str().to_string()
    }
}

impl fmt::Display for StackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stack as CloudFormation describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackState {
    pub stack_id: String,
    pub status: StackStatus,
    pub status_reason: Option<String>,
}

/// Whether a new change set must CREATE the stack or UPDATE it. A stack left in
/// `REVIEW_IN_PROGRESS` by an earlier, never-executed CREATE change set is created again.
pub fn change_set_type_for(stack: Option<&StackState>) -> Result<ChangeSetType, String> {
    let Some(stack) = stack else {
        return Ok(ChangeSetType::Create);
    };
    match &stack.status {
        StackStatus::ReviewInProgress => Ok(ChangeSetType::Create),
        StackStatus::RollbackComplete
        | StackStatus::RollbackFailed
        | StackStatus::DeleteFailed => Err(format!(
            "stack is in {} after a failed operation and cannot be updated; delete it, then deploy again",
            stack.status
        )),
        s if !s.is_terminal() => Err(format!(
            "stack is busy ({s}); wait for the running operation to finish"
        )),
        _ => Ok(ChangeSetType::Update),
    }
}

/// A change set's status while and after CloudFormation computes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetStatus {
    Computing,
    Complete,
    Failed,
    Deleted,
}

/// A change set as described, with every page of its changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetView {
    pub arn: String,
    pub status: ChangeSetStatus,
    pub status_reason: Option<String>,
    /// `AVAILABLE`, `EXECUTE_IN_PROGRESS`, `EXECUTE_COMPLETE`, … as CloudFormation writes it.
    pub execution_status: String,
    pub changes: Vec<ResourceChange>,
}

/// A change set once CloudFormation has finished computing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetOutcome {
    Ready {
        arn: String,
        changes: Vec<ResourceChange>,
    },
    NoChanges {
        arn: String,
    },
    Failed {
        reason: String,
    },
}

impl ChangeSetView {
    /// What the computed change set means; `None` while CloudFormation still computes it.
    pub fn outcome(self) -> Option<ChangeSetOutcome> {
        match self.status {
            ChangeSetStatus::Computing => None,
            ChangeSetStatus::Complete => Some(ChangeSetOutcome::Ready {
                arn: self.arn,
                changes: self.changes,
            }),
            ChangeSetStatus::Deleted => Some(ChangeSetOutcome::Failed {
                reason: "the change set was deleted while it was being created".into(),
            }),
            ChangeSetStatus::Failed => {
                let reason = self
                    .status_reason
                    .unwrap_or_else(|| "no reason given".into());
                if NO_CHANGES_REASONS.iter().any(|r| reason.contains(r)) {
                    Some(ChangeSetOutcome::NoChanges { arn: self.arn })
                } else {
                    Some(ChangeSetOutcome::Failed { reason })
                }
            }
        }
    }

    /// Whether the change set was executed (or is executing), and if not, why it cannot be: a
    /// change set made obsolete by a change outside this deployment must not pass for success.
    pub fn execution_refusal(&self, change_set_name: &str) -> Option<String> {
        match self.execution_status.as_str() {
            "EXECUTE_IN_PROGRESS" | "EXECUTE_COMPLETE" | "EXECUTE_FAILED" => None,
            other => Some(format!(
                "change set {change_set_name} is {other} and cannot be executed{}",
                self.status_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )),
        }
    }
}

/// One stack event, newest first as CloudFormation lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub stack_id: Option<String>,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

impl StackEvent {
    /// The event that started the stack's latest operation: events before it belong to earlier
    /// operations.
    pub fn starts_operation(&self, stack_name: &str) -> bool {
        let is_stack = self.physical_id == self.stack_id || self.logical_id == stack_name;
        is_stack && self.status.ends_with("_IN_PROGRESS") && self.reason == "User Initiated"
    }
}

/// The first failed resource event of an operation (`events` newest first, down to the event that
/// started it): the cause, not the cascade of "Resource creation cancelled" that follows it.
pub fn first_failure(stack_name: &str, events: &[StackEvent]) -> Option<StackFailure> {
    let rollback_status = events
        .iter()
        .find(|e| e.logical_id == stack_name)
        .map(|e| e.status.clone())
        .filter(|s| s.contains("ROLLBACK"));
    let failure = events.iter().rev().find(|e| {
        e.logical_id != stack_name && e.status.ends_with("_FAILED") && !is_cascade(&e.reason)
    })?;
    Some(StackFailure {
        reason: failure.reason.clone(),
        resource: Some(failure.logical_id.clone()),
        resource_type: Some(failure.resource_type.clone()),
        rollback_status,
        recommendation: recommendation_for(&failure.reason),
    })
}

fn is_cascade(reason: &str) -> bool {
    reason.contains("Resource creation cancelled")
        || reason.contains("Resource update cancelled")
        || reason.is_empty()
}

/// Advice for failure reasons whose cause is known.
pub fn recommendation_for(reason: &str) -> Option<String> {
    if reason.contains("the deployment stopped waiting for it") {
        return Some(
            "CloudFormation may still be working on the stack: follow its events, and deploy again once it is stable (a stack still in progress cannot be changed)."
                .into(),
        );
    }
    if let Some(rest) = reason.split("No export named ").nth(1) {
        let export = rest.split_whitespace().next().unwrap_or(rest);
        return Some(format!(
            "The export {export} does not exist: deploy the upstream stack that exports it first."
        ));
    }
    if reason.contains("Stack with id") && reason.contains("does not exist") {
        return Some(
            "An upstream stack this template refers to is missing: deploy it first.".into(),
        );
    }
    if reason.contains("already exists") {
        return Some(
            "A resource with this name already exists outside this stack: rename it, or import or delete the existing one."
                .into(),
        );
    }
    if reason.contains("not authorized") || reason.contains("AccessDenied") {
        return Some(
            "The deployment role lacks a permission: grant the action named in the reason.".into(),
        );
    }
    if reason.contains("LimitExceeded") || reason.contains("limit exceeded") {
        return Some(
            "An account quota was reached: request a limit increase or free capacity.".into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_out_stack_is_explained() {
        let err = crate::StepError::StackTimedOut {
            stack_name: "infra-agent-dev-vpc".into(),
            status: "UPDATE_IN_PROGRESS".into(),
            minutes: 60,
        };
        let advice = recommendation_for(&err.to_string()).expect("advice for a timeout");
        assert!(advice.contains("still be working"), "{advice}");
    }

    #[test]
    fn missing_export_gets_an_upstream_recommendation() {
        let advice = recommendation_for("No export named infra-agent-dev-vpc-VpcId found").unwrap();
        assert!(advice.contains("infra-agent-dev-vpc-VpcId"));
        assert!(advice.contains("upstream"));
    }

    #[test]
    fn stacks_that_cannot_be_updated_are_explained() {
        let stack = |status: &str| StackState {
            stack_id: "id".into(),
            status: StackStatus::parse(status),
            status_reason: None,
        };
        assert_eq!(change_set_type_for(None), Ok(ChangeSetType::Create));
        assert_eq!(
            change_set_type_for(Some(&stack("REVIEW_IN_PROGRESS"))),
            Ok(ChangeSetType::Create)
        );
        assert_eq!(
            change_set_type_for(Some(&stack("UPDATE_COMPLETE"))),
            Ok(ChangeSetType::Update)
        );
        assert!(change_set_type_for(Some(&stack("ROLLBACK_COMPLETE")))
            .unwrap_err()
            .contains("delete it"));
        assert!(change_set_type_for(Some(&stack("UPDATE_IN_PROGRESS")))
            .unwrap_err()
            .contains("busy"));
    }
}

#[cfg(test)]
mod status_tests {
    use super::*;

    #[test]
    fn statuses_read_and_write_as_cloudformation_spells_them() {
        for (status, name) in KNOWN.iter() {
            assert_eq!(&StackStatus::parse(name), status);
            assert_eq!(status.as_str(), *name);
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(name)
            );
        }
        let future = StackStatus::parse("UPDATE_SOMETHING_NEW_IN_PROGRESS");
        assert_eq!(future.as_str(), "UPDATE_SOMETHING_NEW_IN_PROGRESS");
        assert!(!future.is_terminal());
    }

    #[test]
    fn only_completed_operations_succeed_and_rollbacks_fail() {
        assert!(StackStatus::CreateComplete.is_success());
        assert!(StackStatus::UpdateRollbackComplete.is_failure());
        assert!(StackStatus::RollbackComplete.is_failure());
        assert!(!StackStatus::UpdateCompleteCleanupInProgress.is_terminal());
        assert!(!StackStatus::ReviewInProgress.is_terminal());
        assert!(StackStatus::UpdateRollbackComplete.is_deployed());
        assert!(!StackStatus::RollbackComplete.is_deployed());
    }
}
