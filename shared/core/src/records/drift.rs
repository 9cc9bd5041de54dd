//! Drift records: one per scan (in the environment's partition) and one per stack checked (in the
//! stack's, newest first), plus each stack's latest check for the environment's status.

use serde::{Deserialize, Serialize};

use crate::contract::drift::StackCheckResult;
use crate::drift::{StackDrift, StackDriftStatus};
use crate::naming::{Env, StackKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScanStatus {
    Running,
    /// Every stack was judged (in sync, drifted, skipped or failed).
    Completed,
}

/// One drift scan of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftScan {
    pub scan_id: String,
    pub env: Env,
    pub status: ScanStatus,
    pub requested_by: String,
    pub stacks: Vec<StackKey>,
    #[serde(default)]
    pub results: Vec<StackCheckResult>,
    #[serde(default)]
    pub notified: bool,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// One stack's check within a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftRecord {
    pub scan_id: String,
    pub checked_at: String,
    pub drift: StackDrift,
}

/// A stack's latest check, kept beside its deployment head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftHead {
    pub env: Env,
    pub stack: StackKey,
    pub scan_id: String,
    pub checked_at: String,
    pub status: StackDriftStatus,
    pub drifted_resources: Vec<String>,
}

impl DriftHead {
    pub fn of(record: &DriftRecord) -> DriftHead {
        DriftHead {
            env: record.drift.env,
            stack: record.drift.stack.clone(),
            scan_id: record.scan_id.clone(),
            checked_at: record.checked_at.clone(),
            status: record.drift.status,
            drifted_resources: record
                .drift
                .resources
                .iter()
                .map(|r| r.logical_id.clone())
                .collect(),
        }
    }
}
