//! The records port on DynamoDB: deployment records, stack locks, approvals, runs and the audit
//! trail in one table keyed `pk`/`sk`. Hot paths (environment status, stack history) are Queries.

mod approvals;
mod audit;
mod drift;
mod keys;
pub use keys::TTL_ATTRIBUTE;
mod locks;
mod prices;
mod records;
mod runs;

use aws_sdk_dynamodb::types::AttributeValue;

use infra_agent_core::StepError;

use crate::aws::error::{from_sdk, sdk_code};

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

type Item = std::collections::HashMap<String, AttributeValue>;

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoStore { client, table }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// Reads all items of one partition whose sort key starts with `prefix`, newest first when
    /// `newest_first` (sort keys embed timestamps).
    async fn query_prefix(
        &self,
        pk: &str,
        prefix: &str,
        newest_first: bool,
        limit: Option<i32>,
    ) -> Result<Vec<Item>, StepError> {
        let mut items = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_string()))
            .scan_index_forward(!newest_first)
            .set_limit(limit)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let out = page.map_err(|e| from_sdk("dynamodb", "Query", &e))?;
            items.extend(out.items.unwrap_or_default());
            if limit.is_some_and(|l| items.len() >= l as usize) {
                break;
            }
        }
        Ok(items)
    }

    /// Writes an item unconditionally.
    async fn put(&self, item: Item) -> Result<(), StepError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| from_sdk("dynamodb", "PutItem", &e))?;
        Ok(())
    }

    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StepError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_string()))
            .key("sk", AttributeValue::S(sk.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk("dynamodb", "GetItem", &e))?;
        Ok(out.item)
    }
}

/// Whether a write was refused by its condition expression.
fn condition_failed<E>(err: &crate::aws::error::SdkError<E>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    sdk_code(err) == Some("ConditionalCheckFailedException")
}

/// Serialises `value` as a DynamoDB item under the given keys.
fn to_item<T: serde::Serialize>(value: &T, pk: String, sk: String) -> Result<Item, StepError> {
    let mut item: Item = serde_dynamo::to_item(value)
        .map_err(|e| StepError::RecordConflict(format!("cannot encode record {pk}/{sk}: {e}")))?;
    item.insert("pk".into(), AttributeValue::S(pk));
    item.insert("sk".into(), AttributeValue::S(sk));
    Ok(item)
}

fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StepError> {
    let where_ = format!(
        "{}/{}",
        item.get("pk")
            .and_then(|v| v.as_s().ok())
            .map_or("?", |s| s.as_str()),
        item.get("sk")
            .and_then(|v| v.as_s().ok())
            .map_or("?", |s| s.as_str())
    );
    serde_dynamo::from_item(item)
        .map_err(|e| StepError::RecordConflict(format!("cannot decode record {where_}: {e}")))
}
