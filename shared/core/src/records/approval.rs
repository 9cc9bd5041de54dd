//! Approvals: the Step Functions task token lives in the approval record and only there; links and
//! messages carry the approval id. A decision is taken once, by a conditional write.

use serde::{Deserialize, Serialize};

use crate::contract::approval::TaskToken;
use crate::naming::Env;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    /// Decided too late: the state machine had already given up waiting.
    Expired,
}

impl ApprovalStatus {
    /// The stored form, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "PENDING",
            ApprovalStatus::Approved => "APPROVED",
            ApprovalStatus::Rejected => "REJECTED",
            ApprovalStatus::Expired => "EXPIRED",
        }
    }
}

/// What an approval lets happen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalKind {
    /// A change set of one deployment; an execution waits on the task token.
    #[default]
    Deployment,
    /// Tearing down an environment's stacks (`destroy`); nothing waits, the approval is
    /// presented, once, by the command that deletes.
    Teardown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub approval_id: String,
    #[serde(default)]
    pub kind: ApprovalKind,
    pub deployment_id: String,
    pub env: Env,
    pub stack: String,
    pub stack_name: String,
    pub change_set_name: String,
    pub requested_by: String,
    /// Readable change lines shown on the confirmation page.
    pub summary_lines: Vec<String>,
    pub replacements: Vec<String>,
    pub deletions: Vec<String>,
    /// What approvers must know beyond the change, headline first: the version a rollback
    /// returns to; the drift a deployment overwrites or a remediation reverts.
    #[serde(default)]
    pub notes: Vec<String>,
    pub validation_passed: bool,
    /// The full validation report, listed on the confirmation page.
    #[serde(default)]
    pub validation_report: Option<crate::contract::deploy::TemplateRef>,
    /// The whole cost report (every resource's line), listed on the confirmation page.
    #[serde(default)]
    pub cost_report: Option<crate::contract::deploy::TemplateRef>,
    /// The cost headline shown to approvers.
    #[serde(default)]
    pub cost_line: Option<String>,
    #[serde(default)]
    pub exceeds_budget: bool,
    /// Distinct approvers needed before the change is approved.
    #[serde(default = "one")]
    pub required_approvers: u32,
    /// Who approved so far, in order.
    #[serde(default)]
    pub approved_by: Vec<String>,
    /// The waiting execution's token; none for a teardown.
    #[serde(default)]
    pub task_token: Option<TaskToken>,
    pub status: ApprovalStatus,
    pub created_at: String,
    pub expires_at: String,
    pub expires_epoch: i64,
    #[serde(default)]
    pub approver: Option<String>,
    #[serde(default)]
    pub decided_at: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    /// When an approved teardown was used (an approval is used once).
    #[serde(default)]
    pub consumed_at: Option<String>,
}

impl ApprovalRecord {
    /// How many more distinct people must approve before the change is approved.
    pub fn approvers_still_needed(&self) -> u32 {
        let approved = u32::try_from(self.approved_by.len()).unwrap_or(u32::MAX);
        self.required_approvers.saturating_sub(approved)
    }
}

/// Why a decision was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("approval {0} does not exist")]
    NotFound(String),
    #[error("approval {id} was already decided ({status:?})")]
    AlreadyDecided { id: String, status: ApprovalStatus },
    #[error("approval {id} expired at {expires_at}")]
    Expired { id: String, expires_at: String },
    #[error("{approver} has already approved {id}; a second approver must be someone else")]
    AlreadyApprovedBy { id: String, approver: String },
    #[error("approval {id} was already used at {at}")]
    AlreadyUsed { id: String, at: String },
}

impl DecideError {
    /// A stable name for programs that read the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            DecideError::NotFound(_) => "NotFound",
            DecideError::AlreadyDecided { .. } => "AlreadyDecided",
            DecideError::Expired { .. } => "Expired",
            DecideError::AlreadyApprovedBy { .. } => "AlreadyApprovedBy",
            DecideError::AlreadyUsed { .. } => "AlreadyUsed",
        }
    }

    /// Why a vote on `current` (as read after a refused conditional write) was not counted: the
    /// same person voting twice on a pending approval, or any reason a decision is refused.
    pub fn vote_refusal(
        approval_id: &str,
        approver: &str,
        current: Option<ApprovalRecord>,
    ) -> DecideError {
        match current {
            Some(a)
                if a.status == ApprovalStatus::Pending
                    && a.approved_by.iter().any(|n| n == approver) =>
            {
                DecideError::AlreadyApprovedBy {
                    id: a.approval_id,
                    approver: approver.to_string(),
                }
            }
            other => DecideError::refusal(approval_id, other),
        }
    }

    /// Why a decision on `current` (as read after a refused conditional write) was not taken.
    pub fn refusal(approval_id: &str, current: Option<ApprovalRecord>) -> DecideError {
        match current {
            None => DecideError::NotFound(approval_id.to_string()),
            // Nobody decided it: it ran out of time.
            Some(a) if a.status == ApprovalStatus::Expired => DecideError::Expired {
                id: a.approval_id,
                expires_at: a.expires_at,
            },
            Some(a) if a.status != ApprovalStatus::Pending => DecideError::AlreadyDecided {
                id: a.approval_id,
                status: a.status,
            },
            Some(a) => DecideError::Expired {
                id: a.approval_id,
                expires_at: a.expires_at,
            },
        }
    }
}

fn one() -> u32 {
    1
}
