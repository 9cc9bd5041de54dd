//! The audit trail: who did what to which stack, when, and how it ended. Append-only.

use serde::{Deserialize, Serialize};

use super::{from_item, keys, now, to_item, Store};
use crate::naming::Env;
use crate::StepError;

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

impl Store {
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StepError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let item = to_item(
            entry,
            keys::stack_partition(entry.env, &entry.stack),
            keys::audit_sort(&entry.at, &id[..8]),
        )?;
        self.put(item).await?;
        Ok(())
    }

    /// Audit entries of one stack, oldest first.
    pub async fn audit_trail(&self, env: Env, stack: &str) -> Result<Vec<AuditEntry>, StepError> {
        self.query_prefix(
            &keys::stack_partition(env, stack),
            keys::AUDIT_PREFIX,
            false,
            None,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }
}
