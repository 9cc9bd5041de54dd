//! Drift and promotion records in DynamoDB: scans and promotions beside the environment's runs, each stack's checks in its own
//! partition (newest first by a Query), its latest check beside its deployment head.

use async_trait::async_trait;
use infra_agent_core::naming::Env;
use infra_agent_core::records::{DriftHead, DriftRecord, DriftScan, PromotionRecord};
use infra_agent_core::StepError;

use super::{from_item, keys, to_item, DynamoStore};
use crate::ports::{DriftRecords, Promotions};

#[async_trait]
impl DriftRecords for DynamoStore {
    async fn put_scan(&self, scan: &DriftScan) -> Result<(), StepError> {
        let item = to_item(
            scan,
            keys::environment_partition(scan.env),
            keys::scan_sort(&scan.scan_id),
        )?;
        self.put(item).await
    }

    async fn scan(&self, env: Env, scan_id: &str) -> Result<Option<DriftScan>, StepError> {
        self.get(&keys::environment_partition(env), &keys::scan_sort(scan_id))
            .await?
            .map(from_item)
            .transpose()
    }

    async fn put_drift(&self, record: &DriftRecord) -> Result<(), StepError> {
        let drift = &record.drift;
        let item = to_item(
            record,
            keys::stack_partition(drift.env, drift.stack.as_str()),
            keys::drift_sort(&record.checked_at, &record.scan_id),
        )?;
        self.put(item).await?;
        let head = to_item(
            &DriftHead::of(record),
            keys::environment_partition(drift.env),
            keys::drift_head_sort(drift.stack.as_str()),
        )?;
        self.put(head).await
    }

    async fn drift(
        &self,
        env: Env,
        stack: &str,
        checked_at: &str,
        scan_id: &str,
    ) -> Result<Option<DriftRecord>, StepError> {
        self.get(
            &keys::stack_partition(env, stack),
            &keys::drift_sort(checked_at, scan_id),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    async fn drift_history(
        &self,
        env: Env,
        stack: &str,
        limit: Option<i32>,
    ) -> Result<Vec<DriftRecord>, StepError> {
        self.query_prefix(
            &keys::stack_partition(env, stack),
            keys::DRIFT_PREFIX,
            true,
            limit,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }

    async fn drift_heads(&self, env: Env) -> Result<Vec<DriftHead>, StepError> {
        self.query_prefix(
            &keys::environment_partition(env),
            keys::DRIFT_HEAD_PREFIX,
            false,
            None,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }
}

#[async_trait]
impl Promotions for DynamoStore {
    async fn put_promotion(&self, promotion: &PromotionRecord) -> Result<(), StepError> {
        let item = to_item(
            promotion,
            keys::environment_partition(promotion.to),
            keys::promotion_sort(&promotion.promotion_id),
        )?;
        self.put(item).await
    }

    async fn promotion(
        &self,
        to: Env,
        promotion_id: &str,
    ) -> Result<Option<PromotionRecord>, StepError> {
        self.get(
            &keys::environment_partition(to),
            &keys::promotion_sort(promotion_id),
        )
        .await?
        .map(from_item)
        .transpose()
    }
}
