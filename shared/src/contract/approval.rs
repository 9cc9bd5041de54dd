//! The approval decision: the output a human's decision sends back to the waiting state machine.

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
    /// How the decision was made: "link" or "cli".
    pub channel: String,
    #[serde(default)]
    pub comment: Option<String>,
}
