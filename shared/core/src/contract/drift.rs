//! The drift-scan state machine's contract: the scan's input (what the schedule sends), each
//! stack's check as it moves through detection, and what the scan reports at its end.

use serde::{Deserialize, Serialize};

use crate::drift::{StackDrift, StackDriftStatus};
use crate::naming::{stack_name, Env, StackKey};

/// The machine's input. The schedule sends `{"env": "prd"}`; the CLI names stacks and itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    pub env: Env,
    /// The stacks to check; every stack deployed to the environment when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacks: Option<Vec<StackKey>>,
    /// Who asked; the schedule when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// The execution that started this scan as a nested one (a promotion's), as Step Functions
    /// links them.
    #[serde(
        default,
        rename = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_by: Option<String>,
}

/// Who a scan without `requested_by` was started by.
pub const SCHEDULE: &str = "schedule";

/// The first step's answer: the scan's id and the stacks the Map checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanPlan {
    pub scan_id: String,
    pub env: Env,
    pub stacks: Vec<StackCheck>,
}

/// One stack of the scan: the Map's item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackCheck {
    pub scan_id: String,
    pub env: Env,
    pub stack: StackKey,
    pub stack_name: String,
}

/// Where a stack's detection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DetectionPhase {
    /// Not checked (locked, not in a complete state, not deployed): `reason` says why.
    Skipped,
    /// CloudFormation is comparing; poll again after `wait_seconds`.
    Detecting,
    /// Detection ended (complete or failed): collect the results.
    Detected,
}

/// A stack's detection between polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    pub phase: DetectionPhase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_id: Option<String>,
    /// Why the stack was skipped, or why detection failed (AWS's reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Detections started for this stack: a throttled detection is started again, with backoff.
    pub attempt: u32,
    /// How long the machine waits before the next poll.
    pub wait_seconds: u32,
    /// Polls so far of the current detection.
    #[serde(default)]
    pub polls: u32,
}

/// What one stack's check returns to the Map: small, so a scan of hundreds of stacks stays
/// within Step Functions' payload limit; the full result is in the stack's drift record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackCheckResult {
    pub stack: StackKey,
    pub status: StackDriftStatus,
    pub drifted_resources: u32,
    #[serde(default)]
    pub controls: Vec<String>,
    /// The drift record's time (its key), absent for a check that wrote none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl StackCheckResult {
    /// The stack's drift as this result states it (status and reason, no resources): for a
    /// stack whose drift record is not read, or that wrote none.
    pub fn as_drift(&self, env: Env) -> StackDrift {
        StackDrift {
            status: self.status,
            ..StackDrift::skipped(
                env,
                self.stack.clone(),
                stack_name(env, &self.stack),
                self.reason.clone().unwrap_or_default(),
            )
        }
    }
}

/// The scan's end: counts by outcome and whether people were told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSummary {
    pub scan_id: String,
    pub env: Env,
    pub in_sync: u32,
    pub drifted: u32,
    pub skipped: u32,
    pub failed: u32,
    pub notified: bool,
}
