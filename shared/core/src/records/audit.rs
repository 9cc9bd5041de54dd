//! The audit trail: who did what to which stack, when, and how it ended. Append-only.

use serde::{Deserialize, Serialize};

use crate::clock::now;
use crate::naming::Env;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: String,
    pub env: Env,
    pub stack: String,
    /// IAM identity, approver name or the pipeline step.
    pub actor: String,
    /// e.g. `lock.acquire`, `approval.decide`, `deployment.finish`.
    pub action: String,
    pub outcome: String,
    #[serde(default)]
    pub deployment_id: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

impl AuditEntry {
    pub fn new(env: Env, stack: &str, actor: &str, action: &str, outcome: &str) -> Self {
        AuditEntry {
            at: now().0,
            env,
            stack: stack.to_string(),
            actor: actor.to_string(),
            action: action.to_string(),
            outcome: outcome.to_string(),
            deployment_id: None,
            detail: None,
        }
    }

    pub fn deployment(mut self, id: &str) -> Self {
        self.deployment_id = Some(id.to_string());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}
