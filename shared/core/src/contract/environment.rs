//! The deploy-environment state machine's contract: the catalog's waves as planned by the caller,
//! and the run's progress as each wave goes through the deploy machine, one stack per execution.

use serde::{Deserialize, Serialize};

use super::deploy::{DeployRequest, TemplateRef};
use super::record::{CaughtError, DeploymentStatus};
use crate::catalog::Wire;
use crate::naming::{Env, StackKey};

/// What a user asked for; the state machine's input is
/// `{"request": EnvironmentRequest, "progress": null, "wave_results": []}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentRequest {
    pub version: u32,
    /// The execution name of the run (`{env}-all-{timestamp}-{id}`); also its id in records.
    pub run_id: String,
    pub env: Env,
    pub requested_by: String,
    pub iac_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_timeout_seconds: Option<u32>,
    /// The catalog's waves in order; the stacks of a wave deploy at once.
    pub waves: Vec<Vec<PlannedStack>>,
}

impl EnvironmentRequest {
    /// The deploy-environment machine's input for a new run of this request.
    pub fn machine_input(&self) -> serde_json::Value {
        serde_json::json!({ "request": self, "progress": null, "wave_results": [] })
    }
}

/// One stack of a wave: its stored template and where its wired parameters come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedStack {
    pub stack: StackKey,
    pub template: TemplateRef,
    /// Every stack that must be deployed first: wired upstreams and explicit dependencies.
    #[serde(default)]
    pub upstreams: Vec<StackKey>,
    /// Parameters read from upstream outputs when the stack's wave starts.
    #[serde(default)]
    pub wiring: Vec<Wire>,
    /// Set when this backend cannot deploy the stack: it is reported as skipped, with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
}

/// How one stack of the run ended (or why it never started).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StackOutcome {
    /// Its deployment succeeded, or found nothing to change.
    Deployed {
        deployment_id: String,
        status: DeploymentStatus,
    },
    /// Its deployment ran and did not succeed (failed, rejected, expired, locked).
    Failed {
        #[serde(default)]
        deployment_id: Option<String>,
        reason: String,
    },
    /// Refused before any AWS call: an upstream is not deployed.
    Refused { reason: String },
    /// This backend cannot deploy it (stated reason).
    Skipped { reason: String },
    /// An earlier wave failed.
    NotAttempted,
}

impl StackOutcome {
    pub fn label(&self) -> &'static str {
        match self {
            StackOutcome::Deployed { .. } => "deployed",
            StackOutcome::Failed { .. } => "failed",
            StackOutcome::Refused { .. } => "refused",
            StackOutcome::Skipped { .. } => "skipped",
            StackOutcome::NotAttempted => "not attempted",
        }
    }

    /// Whether this outcome stops the run.
    pub fn stops_the_run(&self) -> bool {
        matches!(
            self,
            StackOutcome::Failed { .. } | StackOutcome::Refused { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackResult {
    pub stack: StackKey,
    /// 1-based wave number.
    pub wave: usize,
    #[serde(flatten)]
    pub outcome: StackOutcome,
}

/// A deployment started for the current wave and not yet judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub stack: StackKey,
    pub deployment_id: String,
}

/// Where the run stands between waves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentProgress {
    /// Index of the next wave to start.
    pub next_wave: usize,
    pub results: Vec<StackResult>,
    pub in_flight: Vec<InFlight>,
}

/// What the deploy machine's Map iteration returns for one deployment: the request it ran, and
/// either the child execution's status or the error that ended it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveResult {
    pub request: DeployRequest,
    #[serde(default)]
    pub execution: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<CaughtError>,
}

/// The state between steps of the deploy-environment machine (each step's input and output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentState {
    pub request: EnvironmentRequest,
    #[serde(default)]
    pub progress: Option<EnvironmentProgress>,
    /// Results of the wave that just ran (empty before the first).
    #[serde(default)]
    pub wave_results: Vec<WaveResult>,
    /// The next wave's deployments, each `{"request": DeployRequest}`.
    #[serde(default)]
    pub deployments: Vec<WaveDeployment>,
    /// No more waves will start.
    #[serde(default)]
    pub done: bool,
    /// The run ended with a stack failed or refused.
    #[serde(default)]
    pub failed: bool,
    /// One line per stack once done.
    #[serde(default)]
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveDeployment {
    pub request: DeployRequest,
}

/// The Catch path of the machine: the run state and the error that stopped it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbandonedRun {
    pub request: EnvironmentRequest,
    #[serde(default)]
    pub progress: Option<EnvironmentProgress>,
    pub error: CaughtError,
}
