//! The Price List API cache: one item per listed price with its expiry (also the TTL attribute),
//! so a deployment prices from DynamoDB and asks the API about once a week.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use infra_agent_core::cost::{CachedPrice, PriceCache};
use infra_agent_core::StepError;

use super::{from_item, keys, to_item, DynamoStore, Item};
use crate::aws::error::from_sdk;

/// BatchGetItem reads at most this many keys per call.
const BATCH_GET_LIMIT: usize = 100;
/// Rounds spent on keys DynamoDB left unprocessed (throttling); what is still left is treated
/// as a miss and fetched from the API, which is slower but correct.
const UNPROCESSED_ROUNDS: usize = 3;

#[async_trait]
impl PriceCache for DynamoStore {
    async fn cached_prices(
        &self,
        region: &str,
        query_ids: &[String],
        now_epoch: i64,
    ) -> Result<BTreeMap<String, CachedPrice>, StepError> {
        let mut found = BTreeMap::new();
        for chunk in query_ids.chunks(BATCH_GET_LIMIT) {
            for item in self.batch_get(region, chunk).await? {
                // A malformed item is a miss: the fresh price fetched for it overwrites it.
                match from_item::<CachedPrice>(item) {
                    Ok(price) if price.is_fresh(now_epoch) => {
                        found.insert(price.query_id.clone(), price);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "ignoring unreadable cached price"),
                }
            }
        }
        Ok(found)
    }

    async fn cache_price(&self, price: &CachedPrice) -> Result<(), StepError> {
        let mut item = to_item(
            price,
            keys::price_partition(&price.region, &price.query_id),
            keys::PRICE_SORT.to_string(),
        )?;
        item.insert(
            keys::TTL_ATTRIBUTE.into(),
            AttributeValue::N(
                (price.expires_epoch + keys::PRICE_TTL_AFTER_EXPIRY_SECONDS).to_string(),
            ),
        );
        self.put(item).await?;
        Ok(())
    }
}

impl DynamoStore {
    async fn batch_get(&self, region: &str, query_ids: &[String]) -> Result<Vec<Item>, StepError> {
        let keys: Vec<Item> = query_ids
            .iter()
            .map(|id| {
                HashMap::from([
                    (
                        "pk".to_string(),
                        AttributeValue::S(keys::price_partition(region, id)),
                    ),
                    ("sk".to_string(), AttributeValue::S(keys::PRICE_SORT.into())),
                ])
            })
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut request = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .build()
                .map_err(|e| StepError::Configuration(e.to_string()))?,
        );
        let mut items = Vec::new();
        for _ in 0..UNPROCESSED_ROUNDS {
            let Some(wanted) = request.take() else { break };
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, wanted)
                .send()
                .await
                .map_err(|e| from_sdk("dynamodb", "BatchGetItem", &e))?;
            if let Some(mut responses) = out.responses {
                items.extend(responses.remove(&self.table).unwrap_or_default());
            }
            request = out
                .unprocessed_keys
                .and_then(|mut left| left.remove(&self.table))
                .filter(|left| !left.keys().is_empty());
        }
        Ok(items)
    }
}
