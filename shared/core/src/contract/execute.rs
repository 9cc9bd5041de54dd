//! Progress of an executing change set, as reported by the execute step's start and poll actions.

use super::change_set::ChangeSetResult;
use super::deploy::{DeployRequest, DeploymentPlan};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StackPhase {
    InProgress,
    Succeeded,
    Failed,
}

/// Why a stack operation failed: the first failed resource event, the rollback state and, where
/// the cause is recognised, what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackFailure {
    pub reason: String,
    pub resource: Option<String>,
    pub resource_type: Option<String>,
    pub rollback_status: Option<String>,
    pub recommendation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackProgress {
    pub stack_name: String,
    /// CloudFormation's stack status, e.g. `CREATE_COMPLETE`.
    pub status: String,
    pub phase: StackPhase,
    pub failure: Option<StackFailure>,
    /// When the deployment stops waiting for the stack (epoch seconds), set when execution
    /// starts and carried by every poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_epoch: Option<i64>,
}

/// Input of the execute step, for both its actions (start and poll).
#[derive(Deserialize)]
pub struct ExecuteInput {
    pub request: DeployRequest,
    pub plan: DeploymentPlan,
    pub change_set: ChangeSetResult,
    /// The progress the last poll reported (absent on start).
    #[serde(default)]
    pub execution: Option<StackProgress>,
}
