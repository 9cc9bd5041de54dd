//! Deployment records in DynamoDB: one item per deployment, plus a per-stack head item holding
//! the latest one.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::naming::Env;
use infra_agent_core::records::{DeploymentRecord, StackHead};
use infra_agent_core::StepError;

use super::{condition_failed, from_item, keys, to_item, DynamoStore};
use crate::aws::error::from_sdk;
use crate::ports::Deployments;

#[async_trait]
impl Deployments for DynamoStore {
    /// Writes a record and moves the stack's head to it.
    async fn put_deployment(&self, record: &DeploymentRecord) -> Result<(), StepError> {
        let item = to_item(
            record,
            keys::stack_partition(record.env, record.stack.as_str()),
            keys::deployment_sort(&record.deployment_id),
        )?;
        self.put(item).await?;
        // A refused attempt changed nothing, so the stack's head stays on the deployment that did.
        if record.status == DeploymentStatus::Refused {
            return Ok(());
        }
        self.put_head(record).await
    }

    async fn deployment(
        &self,
        env: Env,
        stack: &str,
        deployment_id: &str,
    ) -> Result<Option<DeploymentRecord>, StepError> {
        self.get(
            &keys::stack_partition(env, stack),
            &keys::deployment_sort(deployment_id),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    /// Deployments of one stack, newest first.
    async fn history(
        &self,
        env: Env,
        stack: &str,
        limit: Option<i32>,
    ) -> Result<Vec<DeploymentRecord>, StepError> {
        self.query_prefix(
            &keys::stack_partition(env, stack),
            keys::DEPLOYMENT_PREFIX,
            true,
            limit,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }

    /// The latest deployment of every stack ever deployed to `env`.
    async fn environment_status(&self, env: Env) -> Result<Vec<StackHead>, StepError> {
        self.query_prefix(
            &keys::environment_partition(env),
            keys::STACK_HEAD_PREFIX,
            false,
            None,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }

    /// Next change-set sequence number of a stack for a day (`yyyymmdd`), starting at 1.
    async fn next_change_set_sequence(
        &self,
        env: Env,
        stack: &str,
        day: &str,
    ) -> Result<u32, StepError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(keys::stack_partition(env, stack)))
            .key("sk", AttributeValue::S(keys::change_set_counter_sort(day)))
            .update_expression("ADD seq :one")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| from_sdk("dynamodb", "UpdateItem", &e))?;
        out.attributes
            .as_ref()
            .and_then(|a| a.get("seq"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StepError::RecordConflict("change-set counter returned no value".into()))
    }
}

impl DynamoStore {
    async fn put_head(&self, record: &DeploymentRecord) -> Result<(), StepError> {
        let head = StackHead::of(record);
        let item = to_item(
            &head,
            keys::environment_partition(record.env),
            keys::stack_head_sort(record.stack.as_str()),
        )?;
        // An older deployment finishing late must not hide a newer one.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR last_deployment_id <= :id")
            .expression_attribute_values(":id", AttributeValue::S(record.deployment_id.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(from_sdk("dynamodb", "PutItem", &e)),
        }
    }
}
