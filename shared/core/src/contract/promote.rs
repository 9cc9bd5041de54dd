//! The promote state machine's contract: a promotion of one stack's deployed version from one
//! environment to the next, its pre-promotion checks, and the deployment it starts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::deploy::{DeployRequest, TemplateRef};
use crate::naming::{Env, StackKey};

/// The machine's input: `{"request": PromotionRequest}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionRequest {
    pub version: u32,
    /// The execution's name; also the promotion's id in records.
    pub promotion_id: String,
    pub stack: StackKey,
    pub from: Env,
    pub to: Env,
    pub requested_by: String,
    /// The target deployment's id (its deploy execution's name), fixed by the caller.
    pub deployment_id: String,
    /// Wired parameter values in the target environment (from its upstream stacks' outputs).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_timeout_seconds: Option<u32>,
}

impl PromotionRequest {
    pub fn machine_input(&self) -> serde_json::Value {
        serde_json::json!({ "request": self, "scanned": false })
    }
}

/// Where a promoted deployment's version comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotedFrom {
    pub env: Env,
    pub deployment_id: String,
    pub template_sha256: String,
}

/// One pre-promotion check, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionCheck {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// What the checks found, and the deployment to start when all passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionPlan {
    pub promotion_id: String,
    pub checks: Vec<PromotionCheck>,
    pub passed: bool,
    /// The source's drift could not be judged (never or not recently scanned): scan it, then
    /// check again.
    pub needs_scan: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployRequest>,
}
