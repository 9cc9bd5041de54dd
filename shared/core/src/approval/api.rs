//! The decision endpoint's JSON: what a signed client sends to `POST /decisions/{approval_id}`
//! and what it is answered. The approver is never part of a request: it is the signed caller.

use serde::{Deserialize, Serialize};

use crate::contract::approval::Decision;
use crate::naming::Env;
use crate::records::{ApprovalKind, ApprovalRecord, ApprovalStatus};

/// The request body. Unknown fields are refused, so a client that believes it can name the
/// approver (`"approver": …`) is told it cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: DecisionVerb,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionVerb {
    Approve,
    Reject,
}

impl DecisionVerb {
    pub fn decision(self) -> Decision {
        match self {
            DecisionVerb::Approve => Decision::Approved,
            DecisionVerb::Reject => Decision::Rejected,
        }
    }
}

/// A decision taken: the approval as it stands after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionAnswer {
    pub approval_id: String,
    pub deployment_id: String,
    pub kind: ApprovalKind,
    pub env: Env,
    pub stack_name: String,
    pub decision: Decision,
    /// `PENDING` while more distinct approvers are needed.
    pub status: ApprovalStatus,
    /// The caller IAM authenticated, recorded as this decision's approver.
    pub recorded_approver: String,
    pub approved_by: Vec<String>,
    pub approvers_required: u32,
    pub approvers_still_needed: u32,
}

impl DecisionAnswer {
    pub fn new(record: &ApprovalRecord, decision: Decision, caller: &str) -> Self {
        DecisionAnswer {
            approval_id: record.approval_id.clone(),
            deployment_id: record.deployment_id.clone(),
            kind: record.kind,
            env: record.env,
            stack_name: record.stack_name.clone(),
            decision,
            status: record.status,
            recorded_approver: caller.to_string(),
            approved_by: record.approved_by.clone(),
            approvers_required: record.required_approvers,
            approvers_still_needed: record.approvers_still_needed(),
        }
    }
}

/// A decision not taken; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRefusal {
    /// A stable name: `Unauthenticated`, `NotAnApprover`, `BadRequest`, `MethodNotAllowed`,
    /// `Unavailable`, or a `DecideError` code (`NotFound`, `AlreadyDecided`, `Expired`, …).
    pub error: String,
    pub message: String,
}
