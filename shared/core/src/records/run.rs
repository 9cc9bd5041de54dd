//! Environment runs: one record per deploy-environment execution, holding every stack's outcome,
//! so an auditor sees what an environment deployment did without replaying its executions.

use serde::{Deserialize, Serialize};

use crate::contract::environment::{InFlight, StackResult};
use crate::naming::Env;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Succeeded => "SUCCEEDED",
            RunStatus::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentRun {
    pub run_id: String,
    pub env: Env,
    pub status: RunStatus,
    pub requested_by: String,
    pub iac_version: String,
    /// Stacks judged so far, wave by wave.
    #[serde(default)]
    pub results: Vec<StackResult>,
    /// Deployments of the wave under way.
    #[serde(default)]
    pub in_flight: Vec<InFlight>,
    /// Why the run stopped without judging every stack (an error of the run itself).
    #[serde(default)]
    pub reason: Option<String>,
    pub started_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
}
