//! The approval step: store the task token with a fresh approval id, and publish a signed link.
//! The execution then waits until a human decides or the approval times out.

use serde::Deserialize;

use crate::approval::link::{ApprovalLink, SigningKey};
use crate::approval::message;
use crate::aws::Pipeline;
use crate::contract::change_set::ChangeSetResult;
use crate::contract::deploy::{DeployRequest, DeploymentPlan};
use crate::contract::record::DeploymentStatus;
use crate::environment::EnvironmentConfig;
use crate::pipeline::cost::CostReport;
use crate::store::{
    now, rfc3339, ApprovalKind, ApprovalRecord, ApprovalStatus, AuditEntry, TaskToken,
};
use crate::validation::ValidationReport;
use crate::StepError;

/// Input of the approval request: the state plus the task token Step Functions waits on.
#[derive(Deserialize)]
pub struct ApprovalRequest {
    pub task_token: TaskToken,
    pub request: DeployRequest,
    pub plan: DeploymentPlan,
    pub change_set: ChangeSetResult,
    #[serde(default)]
    pub validation: Option<ValidationReport>,
    #[serde(default)]
    pub cost: Option<CostReport>,
}

/// What the step returns to its (asynchronous) caller; the execution's result is the decision.
#[derive(Debug, serde::Serialize)]
pub struct ApprovalRequested {
    pub approval_id: String,
    pub expires_at: String,
    pub message_id: Option<String>,
}

pub async fn request_approval(
    pipeline: &Pipeline,
    input: &ApprovalRequest,
) -> Result<ApprovalRequested, StepError> {
    let request = &input.request;
    let created = time::OffsetDateTime::now_utc();
    let expires = created + time::Duration::seconds(i64::from(input.plan.approval_timeout_seconds));
    // Derived from the deployment, so a retried step reuses the same approval.
    let approval_id = approval_id_for(&pipeline.settings.approval_key, &request.deployment_id);
    let summary = &input.change_set.summary;
    let config = EnvironmentConfig::builtin(request.env)
        .map_err(|e| StepError::Configuration(e.to_string()))?;
    let exceeds_budget = input.cost.as_ref().is_some_and(|c| c.exceeds_budget);
    let record = ApprovalRecord {
        approval_id: approval_id.clone(),
        kind: ApprovalKind::Deployment,
        deployment_id: request.deployment_id.clone(),
        env: request.env,
        stack: request.stack.to_string(),
        stack_name: input.plan.stack_name.clone(),
        change_set_name: input.plan.change_set_name.clone(),
        requested_by: request.requested_by.clone(),
        summary_lines: summary.count_lines(),
        replacements: summary.replacements.clone(),
        deletions: summary.deletions.clone(),
        validation_passed: input.validation.as_ref().is_some_and(|v| v.passed),
        cost_line: input.cost.as_ref().map(CostReport::headline),
        exceeds_budget,
        required_approvers: required_approvers(&config, exceeds_budget),
        approved_by: Vec::new(),
        task_token: Some(input.task_token.clone()),
        status: ApprovalStatus::Pending,
        created_at: rfc3339(created),
        expires_at: rfc3339(expires),
        expires_epoch: expires.unix_timestamp(),
        approver: None,
        decided_at: None,
        comment: None,
        consumed_at: None,
    };
    pipeline.store.put_approval(&record).await?;

    let link = ApprovalLink::new(
        &pipeline.settings.approval_key,
        &approval_id,
        record.expires_epoch,
    )
    .url(&pipeline.settings.approval_base_url);
    let composed = message::compose(
        request,
        &input.change_set,
        input.validation.as_ref(),
        input.cost.as_ref(),
        &link,
        &record.expires_at,
    );
    let attribute = |value: &str| {
        aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(|e| StepError::Configuration(e.to_string()))
    };
    let published = pipeline
        .sns
        .publish()
        .topic_arn(&pipeline.settings.approval_topic_arn)
        .subject(&composed.subject)
        .message(&composed.body)
        .message_attributes("environment", attribute(request.env.as_str())?)
        .message_attributes("stack", attribute(request.stack.as_str())?)
        .message_attributes("deployment_id", attribute(&request.deployment_id)?)
        .message_attributes("approval_id", attribute(&approval_id)?)
        .message_attributes(
            "exceeds_budget",
            attribute(if record.exceeds_budget {
                "true"
            } else {
                "false"
            })?,
        )
        .message_attributes(
            "has_replacements",
            attribute(if summary.replacements.is_empty() {
                "false"
            } else {
                "true"
            })?,
        )
        .send()
        .await
        .map_err(|e| StepError::from_sdk("sns", "Publish", &e))?;

    if let Some(mut deployment) = pipeline
        .store
        .deployment(request.env, request.stack.as_str(), &request.deployment_id)
        .await?
    {
        deployment.status = DeploymentStatus::AwaitingApproval;
        deployment.approval_id = Some(approval_id.clone());
        deployment.updated_at = now().0;
        pipeline.store.put_deployment(&deployment).await?;
    }
    pipeline
        .store
        .audit(
            &AuditEntry::new(
                request.env,
                request.stack.as_str(),
                "pipeline:approval",
                "approval.request",
                "PENDING",
            )
            .deployment(&request.deployment_id)
            .detail(format!(
                "approval {approval_id} expires {}",
                record.expires_at
            )),
        )
        .await?;
    tracing::info!(deployment = %request.deployment_id, approval_id = %approval_id, "approval requested");
    Ok(ApprovalRequested {
        approval_id,
        expires_at: record.expires_at,
        message_id: published.message_id,
    })
}

/// Distinct approvers a change needs: more when its cost delta exceeds the environment's budget.
pub fn required_approvers(config: &EnvironmentConfig, exceeds_budget: bool) -> u32 {
    if exceeds_budget {
        config
            .approvers_required
            .max(config.approvers_required_over_budget)
    } else {
        config.approvers_required
    }
}

/// Stable across retries of one deployment, yet not guessable from its name: an HMAC of the
/// deployment id under the signing key.
pub fn approval_id_for(key: &SigningKey, deployment_id: &str) -> String {
    let digest = key.sign(&format!("approval-id:{deployment_id}"), 0);
    format!("{}-{}", &digest[..8], &digest[8..20])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::Env;

    #[test]
    fn prd_needs_two_approvers_and_budget_overruns_never_need_fewer() {
        let dev = EnvironmentConfig::builtin(Env::Dev).unwrap();
        let prd = EnvironmentConfig::builtin(Env::Prd).unwrap();
        assert_eq!(required_approvers(&dev, false), 1);
        assert_eq!(required_approvers(&prd, false), 2);
        assert_eq!(required_approvers(&prd, true), 2);
        let strict = EnvironmentConfig {
            approvers_required: 1,
            approvers_required_over_budget: 3,
            ..dev
        };
        assert_eq!(required_approvers(&strict, false), 1);
        assert_eq!(required_approvers(&strict, true), 3);
    }
}
