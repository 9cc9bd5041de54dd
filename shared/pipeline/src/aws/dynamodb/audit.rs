//! The audit trail in DynamoDB: append-only items under the stack's partition.

use async_trait::async_trait;
use infra_agent_core::naming::Env;
use infra_agent_core::records::AuditEntry;
use infra_agent_core::StepError;

use super::{from_item, keys, to_item, DynamoStore};
use crate::ports::AuditTrail;

#[async_trait]
impl AuditTrail for DynamoStore {
    async fn audit(&self, entry: &AuditEntry) -> Result<(), StepError> {
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
    async fn audit_trail(&self, env: Env, stack: &str) -> Result<Vec<AuditEntry>, StepError> {
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
