//! The deployment request (the state machine's input) and the plan the first step derives from it.

use serde::{Deserialize, Serialize};

use crate::naming::{Env, StackKey};

/// Where the template of a deployment is stored: content-addressed, so a record can be redeployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateRef {
    pub bucket: String,
    /// `templates/{stack}/{sha256}.yaml`
    pub key: String,
    pub sha256: String,
}

/// Why a deployment runs. A remediation puts the stack back to its deployed template, reverting
/// drift (`DeploymentMode: REVERT_DRIFT`); it goes through the same approval as any change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentKind {
    #[default]
    Deploy,
    Remediation,
    /// Back to an earlier successful deployment's template and parameters (`returns_to`).
    Rollback,
    /// The deployed, verified version of the previous environment (`promoted_from`).
    Promotion,
}

impl DeploymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentKind::Deploy => "deploy",
            DeploymentKind::Remediation => "remediation",
            DeploymentKind::Rollback => "rollback",
            DeploymentKind::Promotion => "promotion",
        }
    }

    /// How people call one: "Deployment", "Remediation", "Rollback".
    pub fn label(self) -> &'static str {
        match self {
            DeploymentKind::Deploy => "Deployment",
            DeploymentKind::Remediation => "Remediation",
            DeploymentKind::Rollback => "Rollback",
            DeploymentKind::Promotion => "Promotion",
        }
    }

    pub fn is_deploy(&self) -> bool {
        *self == DeploymentKind::Deploy
    }
}

/// What a user asked for; the state machine's input is `{"request": DeployRequest}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    pub version: u32,
    /// The Step Functions execution name; also the deployment's id in records.
    pub deployment_id: String,
    pub stack: StackKey,
    pub env: Env,
    pub template: TemplateRef,
    /// Who started the deployment (IAM identity or user name).
    pub requested_by: String,
    /// Version of the infrastructure code (semver or git sha), applied as the IaC_Version tag.
    pub iac_version: String,
    /// Values wired from upstream stacks' outputs by the catalog; they take precedence over the
    /// environment's parameters.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub parameters: std::collections::BTreeMap<String, String>,
    /// A shorter approval window than the environment's, in seconds; never a longer one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_timeout_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "DeploymentKind::is_deploy")]
    pub kind: DeploymentKind,
    /// The deployment a rollback returns to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns_to: Option<String>,
    /// The environment, deployment and template a promotion brings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_from: Option<super::promote::PromotedFrom>,
}

impl DeployRequest {
    /// The deploy machine's input for this request.
    pub fn machine_input(&self) -> serde_json::Value {
        serde_json::json!({ "request": self })
    }
}

/// Derived by the first step once the stack lock is held: names and timings fixed for the whole run,
/// so every later step (and every retry) uses the same ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentPlan {
    pub stack_name: String,
    pub change_set_name: String,
    pub started_at: String,
    pub lock_expires_at: String,
    pub approval_timeout_seconds: u32,
    pub poll_interval_seconds: u32,
    /// How long the change set may execute (the environment's `stack_timeout_minutes`).
    #[serde(default = "default_stack_timeout_seconds")]
    pub stack_timeout_seconds: u32,
}

/// Plans written before stack timeouts existed: three hours.
fn default_stack_timeout_seconds() -> u32 {
    3 * 60 * 60
}
