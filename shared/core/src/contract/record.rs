//! Input of the record step: the whole execution state at its end, and how it ended.

use serde::{Deserialize, Serialize};

use super::approval::ApprovalDecision;
use super::change_set::ChangeSetResult;
use super::deploy::{DeployRequest, DeploymentPlan};
use super::execute::{StackFailure, StackProgress};
use crate::contract::cost::CostReport;
use crate::contract::validation::ValidationSummary;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStatus {
    InProgress,
    AwaitingApproval,
    Executing,
    Succeeded,
    Failed,
    Rejected,
    NoChanges,
    /// The approval was not given in time.
    Expired,
    /// Refused before doing anything (e.g. the stack was locked).
    Refused,
    /// The execution was stopped (StopExecution) before it recorded an outcome.
    Aborted,
    /// The execution ran past its state machine's TimeoutSeconds.
    TimedOut,
    /// The change set was executed, but a post-deploy check failed: the stack stays as built
    /// (no automatic rollback for a check), and the version cannot be promoted.
    VerifyFailed,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::InProgress => "IN_PROGRESS",
            DeploymentStatus::AwaitingApproval => "AWAITING_APPROVAL",
            DeploymentStatus::Executing => "EXECUTING",
            DeploymentStatus::Succeeded => "SUCCEEDED",
            DeploymentStatus::Failed => "FAILED",
            DeploymentStatus::Rejected => "REJECTED",
            DeploymentStatus::NoChanges => "NO_CHANGES",
            DeploymentStatus::Expired => "EXPIRED",
            DeploymentStatus::Refused => "REFUSED",
            DeploymentStatus::Aborted => "ABORTED",
            DeploymentStatus::TimedOut => "TIMED_OUT",
            DeploymentStatus::VerifyFailed => "VERIFY_FAILED",
        }
    }

    /// The deployment's template is what the stack runs now (its checks may have failed).
    pub fn is_deployed(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Succeeded | DeploymentStatus::VerifyFailed
        )
    }

    pub fn is_final(self) -> bool {
        !matches!(
            self,
            DeploymentStatus::InProgress
                | DeploymentStatus::AwaitingApproval
                | DeploymentStatus::Executing
        )
    }
}

/// An error caught by a `Catch` clause (`ResultPath: $.error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaughtError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

impl CaughtError {
    /// The readable message inside a Lambda error's cause (`{"errorType","errorMessage"}`).
    pub fn message(&self) -> String {
        let Some(cause) = &self.cause else {
            return self.error.clone();
        };
        serde_json::from_str::<serde_json::Value>(cause)
            .ok()
            .and_then(|v| {
                v.get("errorMessage")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| cause.clone())
    }
}

/// The state as the state machine accumulates it (`$`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentState {
    pub request: DeployRequest,
    #[serde(default)]
    pub plan: Option<DeploymentPlan>,
    #[serde(default)]
    pub validation: Option<ValidationSummary>,
    #[serde(default)]
    pub change_set: Option<ChangeSetResult>,
    #[serde(default)]
    pub cost: Option<CostReport>,
    #[serde(default)]
    pub approval: Option<ApprovalDecision>,
    #[serde(default)]
    pub execution: Option<StackProgress>,
    /// The post-deploy checks, after a successful execution.
    #[serde(default)]
    pub verification: Option<crate::deploy::checks::Verification>,
    /// The post-deploy checks could not run (caught by the machine).
    #[serde(default)]
    pub verify_error: Option<CaughtError>,
    #[serde(default)]
    pub error: Option<CaughtError>,
}

impl DeploymentState {
    /// The state as the machine starts it: the request, and nothing yet of the steps.
    pub fn of(request: DeployRequest) -> Self {
        DeploymentState {
            request,
            plan: None,
            validation: None,
            change_set: None,
            cost: None,
            approval: None,
            execution: None,
            verification: None,
            verify_error: None,
            error: None,
        }
    }
}

/// How the execution ended, as the state machine's branch knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Succeeded,
    Failed,
    Rejected,
    NoChanges,
    Expired,
}

#[derive(Deserialize)]
pub struct FinishInput {
    pub outcome: Outcome,
    pub state: DeploymentState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishResult {
    pub deployment_id: String,
    pub status: DeploymentStatus,
    pub stack_status: Option<String>,
    pub failure: Option<StackFailure>,
    pub lock_released: bool,
}
