//! Stack locks in DynamoDB: a conditional put with an expiry.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use infra_agent_core::naming::Env;
use infra_agent_core::records::StackLock;
use infra_agent_core::StepError;

use super::{condition_failed, from_item, keys, to_item, DynamoStore};
use crate::aws::error::from_sdk;
use crate::ports::Locks;

#[async_trait]
impl Locks for DynamoStore {
    /// Takes the lock for `lock.holder`. Succeeds again for the same holder (a retried step), and
    /// over an expired lock; otherwise fails with `StackLocked` naming the holder.
    async fn acquire_lock(&self, lock: &StackLock, now_epoch: i64) -> Result<(), StepError> {
        let mut item = to_item(
            lock,
            keys::lock_partition(lock.env, &lock.stack),
            keys::LOCK_SORT.to_string(),
        )?;
        item.insert(
            keys::TTL_ATTRIBUTE.into(),
            AttributeValue::N(
                (lock.expires_epoch + keys::LOCK_TTL_AFTER_EXPIRY_SECONDS).to_string(),
            ),
        );
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_epoch < :now OR holder = :me",
            )
            .expression_attribute_values(":now", AttributeValue::N(now_epoch.to_string()))
            .expression_attribute_values(":me", AttributeValue::S(lock.holder.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => {
                let current = self.lock(lock.env, &lock.stack).await?;
                Err(match current {
                    Some(held) => StepError::StackLocked {
                        env: held.env.to_string(),
                        stack: held.stack,
                        holder: held.holder,
                        since: held.acquired_at,
                        expires: held.expires_at,
                    },
                    // Released between our write and our read: let the step retry.
                    None => StepError::Transient {
                        service: "dynamodb",
                        operation: "PutItem",
                        message: "lock changed hands while acquiring it".into(),
                    },
                })
            }
            Err(e) => Err(from_sdk("dynamodb", "PutItem", &e)),
        }
    }

    /// Releases the lock if `holder` still holds it. Returns whether it did.
    async fn release_lock(&self, env: Env, stack: &str, holder: &str) -> Result<bool, StepError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(keys::lock_partition(env, stack)))
            .key("sk", AttributeValue::S(keys::LOCK_SORT.into()))
            .condition_expression("holder = :me")
            .expression_attribute_values(":me", AttributeValue::S(holder.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(from_sdk("dynamodb", "DeleteItem", &e)),
        }
    }

    async fn lock(&self, env: Env, stack: &str) -> Result<Option<StackLock>, StepError> {
        self.get(&keys::lock_partition(env, stack), keys::LOCK_SORT)
            .await?
            .map(from_item)
            .transpose()
    }
}
