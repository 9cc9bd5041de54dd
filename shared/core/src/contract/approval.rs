//! The approval decision: the output a human's decision sends back to the waiting state machine.

use super::change_set::ChangeSetResult;
use super::cost::CostReport;
use super::deploy::{DeployRequest, DeploymentPlan};
use crate::contract::validation::ValidationSummary;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Decision {
    Approved,
    Rejected,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "APPROVED",
            Decision::Rejected => "REJECTED",
        }
    }
}

/// Sent with `SendTaskSuccess` (approved) or as the `Cause` of `SendTaskFailure` (rejected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDecision {
    pub approval_id: String,
    pub decision: Decision,
    pub approver: String,
    pub decided_at: String,
    /// How the decision was made: "link" (the signed link's page) or "iam" (the IAM-authenticated
    /// decision endpoint, which `infra-agent approve` calls).
    pub channel: String,
    #[serde(default)]
    pub comment: Option<String>,
}

/// Input of the approval request: the state plus the task token Step Functions waits on.
#[derive(Deserialize)]
pub struct ApprovalRequest {
    pub task_token: TaskToken,
    pub request: DeployRequest,
    pub plan: DeploymentPlan,
    pub change_set: ChangeSetResult,
    #[serde(default)]
    pub validation: Option<ValidationSummary>,
    #[serde(default)]
    pub cost: Option<CostReport>,
}

/// What the step returns to its (asynchronous) caller; the execution's result is the decision.
#[derive(Debug, serde::Serialize)]
pub struct ApprovalRequested {
    pub approval_id: String,
    pub expires_at: String,
    pub message_id: Option<String>,
}

/// A Step Functions task token. Never printed: `Debug` redacts it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskToken(String);

impl TaskToken {
    pub fn new(token: String) -> Self {
        TaskToken(token)
    }
    /// The token itself, for the Step Functions call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TaskToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TaskToken(<redacted>)")
    }
}
