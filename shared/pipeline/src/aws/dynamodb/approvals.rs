//! Approvals in DynamoDB: a decision is one conditional update, so a link works once.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use infra_agent_core::records::{ApprovalRecord, ApprovalStatus, DecideError};
use infra_agent_core::StepError;

use super::{condition_failed, from_item, keys, to_item, DynamoStore};
use crate::aws::error::from_sdk;
use crate::ports::Approvals;

impl DynamoStore {
    /// An update of one approval item.
    fn approval_update(
        &self,
        approval_id: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(
                "pk",
                AttributeValue::S(keys::approval_partition(approval_id)),
            )
            .key("sk", AttributeValue::S(keys::APPROVAL_SORT.into()))
    }
}

#[async_trait]
impl Approvals for DynamoStore {
    /// Stores a new approval. A retried approval step (same id) finds it pending: only the task
    /// token and expiry it now waits with are replaced, so votes already cast are kept. A decided
    /// approval is never reopened.
    async fn put_approval(&self, approval: &ApprovalRecord) -> Result<(), StepError> {
        let item = to_item(
            approval,
            keys::approval_partition(&approval.approval_id),
            keys::APPROVAL_SORT.to_string(),
        )?;
        let created = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match created {
            Ok(_) => return Ok(()),
            Err(e) if condition_failed(&e) => {}
            Err(e) => return Err(from_sdk("dynamodb", "PutItem", &e)),
        }
        let mut update = self
            .approval_update(&approval.approval_id)
            .update_expression(
                "SET task_token = :token, expires_at = :expires_at, expires_epoch = :expires_epoch",
            )
            .condition_expression("#s = :pending")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(
                ":pending",
                AttributeValue::S(ApprovalStatus::Pending.as_str().into()),
            )
            .expression_attribute_values(
                ":expires_at",
                AttributeValue::S(approval.expires_at.clone()),
            )
            .expression_attribute_values(
                ":expires_epoch",
                AttributeValue::N(approval.expires_epoch.to_string()),
            );
        update = match &approval.task_token {
            Some(token) => update
                .expression_attribute_values(":token", AttributeValue::S(token.expose().into())),
            None => update.expression_attribute_values(":token", AttributeValue::Null(true)),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StepError::RecordConflict(format!(
                "approval {} was already decided; it is not asked again",
                approval.approval_id
            ))),
            Err(e) => Err(from_sdk("dynamodb", "UpdateItem", &e)),
        }
    }

    async fn approval(&self, approval_id: &str) -> Result<Option<ApprovalRecord>, StepError> {
        self.get(&keys::approval_partition(approval_id), keys::APPROVAL_SORT)
            .await?
            .map(from_item)
            .transpose()
    }

    /// Adds `approver` to the approvers of a pending, unexpired approval — once per person.
    /// Returns the record with every approver so far.
    async fn add_approver(
        &self,
        approval_id: &str,
        approver: &str,
        now_epoch: i64,
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError> {
        let result = self
            .approval_update(approval_id)
            .update_expression("SET approved_by = list_append(if_not_exists(approved_by, :none), :me)")
            .condition_expression(
                "attribute_exists(pk) AND #s = :pending AND expires_epoch > :epoch AND NOT contains(approved_by, :name)",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(
                ":me",
                AttributeValue::L(vec![AttributeValue::S(approver.into())]),
            )
            .expression_attribute_values(":name", AttributeValue::S(approver.into()))
            .expression_attribute_values(":pending", AttributeValue::S(ApprovalStatus::Pending.as_str().into()))
            .expression_attribute_values(":epoch", AttributeValue::N(now_epoch.to_string()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Ok(from_item(out.attributes.unwrap_or_default())?)),
            Err(e) if condition_failed(&e) => Ok(Err(DecideError::vote_refusal(
                approval_id,
                approver,
                self.approval(approval_id).await?,
            ))),
            Err(e) => Err(from_sdk("dynamodb", "UpdateItem", &e)),
        }
    }

    async fn withdraw_approver(&self, approval_id: &str, approver: &str) -> Result<(), StepError> {
        // A list element is removed by index; the condition makes sure the index still names
        // this approver. Approvals have a handful of votes, so a lost race is simply read again.
        for _ in 0..3 {
            let Some(current) = self.approval(approval_id).await? else {
                return Ok(());
            };
            let Some(index) = current.approved_by.iter().position(|n| n == approver) else {
                return Ok(());
            };
            let result = self
                .approval_update(approval_id)
                .update_expression(format!("REMOVE approved_by[{index}]"))
                .condition_expression(format!("approved_by[{index}] = :me"))
                .expression_attribute_values(":me", AttributeValue::S(approver.into()))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(e) if condition_failed(&e) => continue,
                Err(e) => return Err(from_sdk("dynamodb", "UpdateItem", &e)),
            }
        }
        Err(StepError::Transient {
            service: "dynamodb",
            operation: "UpdateItem",
            message: format!(
                "the approvers of {approval_id} kept changing while withdrawing a vote"
            ),
        })
    }

    /// Moves a pending, unexpired approval to `status`, once. Returns the updated record (with
    /// the task token the caller needs to resume the execution).
    async fn decide_approval(
        &self,
        approval_id: &str,
        status: ApprovalStatus,
        approver: &str,
        comment: Option<&str>,
        now: (&str, i64),
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError> {
        let mut update = self
            .approval_update(approval_id)
            .update_expression(
                "SET #s = :status, approver = :approver, decided_at = :now, #c = :comment",
            )
            .condition_expression(
                "attribute_exists(pk) AND #s = :pending AND expires_epoch > :epoch",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#c", "comment")
            .expression_attribute_values(":status", AttributeValue::S(status.as_str().into()))
            .expression_attribute_values(":approver", AttributeValue::S(approver.into()))
            .expression_attribute_values(":now", AttributeValue::S(now.0.into()))
            .expression_attribute_values(
                ":pending",
                AttributeValue::S(ApprovalStatus::Pending.as_str().into()),
            )
            .expression_attribute_values(":epoch", AttributeValue::N(now.1.to_string()))
            .return_values(ReturnValue::AllNew);
        update = match comment {
            Some(c) => update.expression_attribute_values(":comment", AttributeValue::S(c.into())),
            None => update.expression_attribute_values(":comment", AttributeValue::Null(true)),
        };
        match update.send().await {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                Ok(Ok(from_item(item)?))
            }
            Err(e) if condition_failed(&e) => {
                // Explain why: read what is there now.
                Ok(Err(DecideError::refusal(
                    approval_id,
                    self.approval(approval_id).await?,
                )))
            }
            Err(e) => Err(from_sdk("dynamodb", "UpdateItem", &e)),
        }
    }

    /// Uses an approved teardown approval, once: a second use is refused.
    async fn consume_approval(
        &self,
        approval_id: &str,
        now: &str,
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError> {
        let result = self
            .approval_update(approval_id)
            .update_expression("SET consumed_at = :now")
            .condition_expression(
                "attribute_exists(pk) AND #s = :approved AND (attribute_not_exists(consumed_at) OR consumed_at = :null)",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":now", AttributeValue::S(now.into()))
            .expression_attribute_values(":null", AttributeValue::Null(true))
            .expression_attribute_values(
                ":approved",
                AttributeValue::S(ApprovalStatus::Approved.as_str().into()),
            )
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Ok(from_item(out.attributes.unwrap_or_default())?)),
            Err(e) if condition_failed(&e) => Ok(Err(match self.approval(approval_id).await? {
                Some(a) if a.consumed_at.is_some() => DecideError::AlreadyUsed {
                    id: a.approval_id,
                    at: a.consumed_at.unwrap_or_default(),
                },
                other => DecideError::refusal(approval_id, other),
            })),
            Err(e) => Err(from_sdk("dynamodb", "UpdateItem", &e)),
        }
    }

    /// Marks a decided approval as expired when Step Functions no longer waits for it.
    async fn mark_approval_expired(&self, approval_id: &str) -> Result<(), StepError> {
        self.approval_update(approval_id)
            .update_expression("SET #s = :expired")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(
                ":expired",
                AttributeValue::S(ApprovalStatus::Expired.as_str().into()),
            )
            .send()
            .await
            .map_err(|e| from_sdk("dynamodb", "UpdateItem", &e))?;
        Ok(())
    }
}
