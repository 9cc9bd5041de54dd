//! Deployment records: one per execution, plus a per-stack head item holding the latest one.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{condition_failed, from_item, keys, to_item, Store};
use crate::contract::change_set::ChangeSummary;
use crate::contract::deploy::TemplateRef;
use crate::contract::execute::StackFailure;
use crate::contract::record::DeploymentStatus;
use crate::naming::{Env, StackKey};
use crate::pipeline::cost::CostReport;
use crate::validation::ValidationReport;
use crate::StepError;

/// Everything needed to understand — and redeploy — one deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub deployment_id: String,
    pub env: Env,
    pub stack: StackKey,
    pub stack_name: String,
    pub status: DeploymentStatus,
    pub requested_by: String,
    pub iac_version: String,
    pub template_bucket: String,
    pub template_key: String,
    pub template_sha256: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    #[serde(default)]
    pub change_set_name: Option<String>,
    #[serde(default)]
    pub change_set_arn: Option<String>,
    #[serde(default)]
    pub change_summary: Option<ChangeSummary>,
    #[serde(default)]
    pub validation: Option<ValidationReport>,
    #[serde(default)]
    pub cost: Option<CostReport>,
    #[serde(default)]
    pub approval_id: Option<String>,
    #[serde(default)]
    pub approver: Option<String>,
    #[serde(default)]
    pub stack_status: Option<String>,
    #[serde(default)]
    pub failure: Option<StackFailure>,
    pub started_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// The latest deployment of a stack in an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackHead {
    pub env: Env,
    pub stack: StackKey,
    pub stack_name: String,
    pub last_deployment_id: String,
    pub last_status: DeploymentStatus,
    #[serde(default)]
    pub stack_status: Option<String>,
    pub updated_at: String,
}

impl DeploymentRecord {
    /// Where the deployment's template is stored.
    pub fn template_ref(&self) -> TemplateRef {
        TemplateRef {
            bucket: self.template_bucket.clone(),
            key: self.template_key.clone(),
            sha256: self.template_sha256.clone(),
        }
    }
}

impl Store {
    /// Writes a record and moves the stack's head to it.
    pub async fn put_deployment(&self, record: &DeploymentRecord) -> Result<(), StepError> {
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

    async fn put_head(&self, record: &DeploymentRecord) -> Result<(), StepError> {
        let head = StackHead {
            env: record.env,
            stack: record.stack.clone(),
            stack_name: record.stack_name.clone(),
            last_deployment_id: record.deployment_id.clone(),
            last_status: record.status,
            stack_status: record.stack_status.clone(),
            updated_at: record.updated_at.clone(),
        };
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
            Err(e) => Err(StepError::from_sdk("dynamodb", "PutItem", &e)),
        }
    }

    pub async fn deployment(
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
    pub async fn history(
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

    /// The stack's latest successful deployment (among its 50 latest): what is deployed now,
    /// for a cost delta to compare with.
    pub async fn last_succeeded(
        &self,
        env: Env,
        stack: &str,
    ) -> Result<Option<DeploymentRecord>, StepError> {
        Ok(self
            .history(env, stack, Some(50))
            .await?
            .into_iter()
            .find(|r| r.status == DeploymentStatus::Succeeded))
    }

    /// The latest deployment of every stack ever deployed to `env`.
    pub async fn environment_status(&self, env: Env) -> Result<Vec<StackHead>, StepError> {
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
    pub async fn next_change_set_sequence(
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
            .map_err(|e| StepError::from_sdk("dynamodb", "UpdateItem", &e))?;
        out.attributes
            .as_ref()
            .and_then(|a| a.get("seq"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StepError::RecordConflict("change-set counter returned no value".into()))
    }
}
