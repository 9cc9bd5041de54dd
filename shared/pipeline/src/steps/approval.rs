//! The approval step: store the task token with a fresh approval id, and publish a signed link.
//! The execution then waits until a human decides or the approval times out.

use crate::ports::Notification;
use crate::ports::Pipeline;
use crate::StepError;
use infra_agent_core::approval::link::ApprovalLink;
use infra_agent_core::approval::message;
use infra_agent_core::approval::rules::{approval_id_for, required_approvers};
use infra_agent_core::clock::{now, rfc3339};
use infra_agent_core::contract::approval::{ApprovalRequest, ApprovalRequested};
use infra_agent_core::contract::cost::CostReport;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::deploy::rollback::rollback_lines;
use infra_agent_core::drift::approval_lines;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::records::{ApprovalKind, ApprovalRecord, ApprovalStatus, AuditEntry};
use std::collections::BTreeMap;

/// What approvers must know beyond the change: the version a rollback returns to, and the
/// stack's drift as its last scan found it.
async fn notes(
    pipeline: &Pipeline,
    request: &infra_agent_core::contract::deploy::DeployRequest,
) -> Result<Vec<String>, StepError> {
    let mut notes = Vec::new();
    if let Some(target) = &request.returns_to {
        let record = pipeline
            .store
            .deployment(request.env, request.stack.as_str(), target)
            .await?
            .ok_or_else(|| {
                StepError::RecordConflict(format!(
                    "deployment {target}, which the rollback returns to, is not recorded"
                ))
            })?;
        notes.extend(rollback_lines(&record));
    }
    let last = pipeline
        .store
        .drift_history(request.env, request.stack.as_str(), Some(1))
        .await?;
    if let Some(record) = last.first() {
        notes.extend(approval_lines(
            request.kind,
            &record.drift,
            &record.scan_id,
            &record.checked_at,
        ));
    }
    Ok(notes)
}

pub async fn request_approval(
    pipeline: &Pipeline,
    input: &ApprovalRequest,
) -> Result<ApprovalRequested, StepError> {
    let request = &input.request;
    let created = time::OffsetDateTime::now_utc();
    let expires = created + time::Duration::seconds(i64::from(input.plan.approval_timeout_seconds));
    // Derived from the deployment, so a retried step reuses the same approval.
    let approval_id = approval_id_for(pipeline.settings.approval_key()?, &request.deployment_id);
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
        notes: notes(pipeline, request).await?,
        validation_passed: input.validation.as_ref().is_some_and(|v| v.passed),
        validation_report: input.validation.as_ref().and_then(|v| v.report.clone()),
        cost_report: input.cost.as_ref().and_then(|c| c.report.clone()),
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
        pipeline.settings.approval_key()?,
        &approval_id,
        record.expires_epoch,
    )
    .url(pipeline.settings.approval_base_url()?);
    let composed = message::compose(
        request,
        &input.change_set,
        input.validation.as_ref(),
        input.cost.as_ref(),
        &record.notes,
        &link,
        &record.expires_at,
    );
    let deployment = pipeline
        .store
        .deployment(request.env, request.stack.as_str(), &request.deployment_id)
        .await?;
    // A retried step finds its approval announced already: the waiting execution has its new
    // token (above), and approvers are not told twice.
    let announced = deployment.as_ref().is_some_and(|d| {
        d.status == DeploymentStatus::AwaitingApproval
            && d.approval_id.as_deref() == Some(approval_id.as_str())
    });
    let message_id = if announced {
        None
    } else {
        let bool_text = |b: bool| if b { "true" } else { "false" }.to_string();
        let notification = Notification {
            subject: composed.subject,
            body: composed.body,
            attributes: BTreeMap::from([
                ("environment".to_string(), request.env.as_str().to_string()),
                ("stack".to_string(), request.stack.as_str().to_string()),
                ("deployment_id".to_string(), request.deployment_id.clone()),
                ("approval_id".to_string(), approval_id.clone()),
                // The page's signed link, for the View button of the Slack message.
                ("approval_url".to_string(), link.clone()),
                (
                    "exceeds_budget".to_string(),
                    bool_text(record.exceeds_budget),
                ),
                (
                    "has_replacements".to_string(),
                    bool_text(!summary.replacements.is_empty()),
                ),
            ]),
        };
        pipeline
            .notifier
            .publish(pipeline.settings.approval_topic_arn()?, &notification)
            .await?
    };

    if let Some(mut deployment) = deployment.filter(|_| !announced) {
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
        message_id,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::fakes::Fakes;
    use crate::ports::Approvals;
    use infra_agent_core::contract::approval::TaskToken;
    use infra_agent_core::contract::change_set::{ChangeSetResult, ChangeSetType, ChangeSummary};
    use infra_agent_core::contract::deploy::{DeployRequest, DeploymentPlan, TemplateRef};
    use infra_agent_core::naming::Env;

    fn approval_request(deployment_id: &str, token: &str) -> ApprovalRequest {
        let change_set_name = "infra-agent-dev-vpc-20270115-001".to_string();
        ApprovalRequest {
            task_token: TaskToken::new(token.into()),
            request: DeployRequest {
                promoted_from: None,
                returns_to: None,
                kind: Default::default(),
                version: 1,
                deployment_id: deployment_id.into(),
                stack: "vpc".parse().expect("a valid stack key"),
                env: Env::Dev,
                template: TemplateRef {
                    bucket: "infra-agent-test-templates".into(),
                    key: "templates/vpc/0f1e.yaml".into(),
                    sha256: "0f1e".into(),
                },
                requested_by: "alice".into(),
                iac_version: "1.4.0".into(),
                approval_timeout_seconds: None,
                parameters: BTreeMap::new(),
            },
            plan: DeploymentPlan {
                stack_name: "infra-agent-dev-vpc".into(),
                change_set_name: change_set_name.clone(),
                started_at: "2027-01-15T08:00:00Z".into(),
                lock_expires_at: "2027-01-15T10:00:00Z".into(),
                approval_timeout_seconds: 3600,
                poll_interval_seconds: 0,
                stack_timeout_seconds: 3600,
            },
            change_set: ChangeSetResult {
                stack_name: "infra-agent-dev-vpc".into(),
                change_set_name,
                change_set_arn: None,
                change_set_type: ChangeSetType::Create,
                has_changes: true,
                summary: ChangeSummary::default(),
                parameters: BTreeMap::new(),
                tags: BTreeMap::new(),
            },
            validation: None,
            cost: None,
        }
    }

    #[tokio::test]
    async fn a_retried_approval_step_asks_again_under_the_same_approval_id() {
        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        let deployment = "dev-vpc-20270115T080000-abcd1234";

        let first = request_approval(&pipeline, &approval_request(deployment, "token-1"))
            .await
            .expect("first attempt");
        let retried = request_approval(&pipeline, &approval_request(deployment, "token-2"))
            .await
            .expect("retried attempt");

        assert_eq!(first.approval_id, retried.approval_id);
        let stored = fakes
            .store
            .approval(&first.approval_id)
            .await
            .unwrap()
            .expect("one approval, stored under that id");
        assert_eq!(
            stored.task_token.as_ref().map(TaskToken::expose),
            Some("token-2"),
            "the retry's token is the one waited on"
        );
        let announced: Vec<String> = fakes
            .notifier
            .published()
            .iter()
            .map(|(_, n)| n.attributes["approval_id"].clone())
            .collect();
        // (Whether the retry announces again depends on the deployment record, which this test
        // does not open; `retries::every_step_run_twice…` checks approvers are told once.)
        assert!(!announced.is_empty());
        assert!(
            announced.iter().all(|id| *id == first.approval_id),
            "{announced:?}"
        );
    }

    #[tokio::test]
    async fn another_deployment_is_asked_under_another_approval_id() {
        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        let first = request_approval(
            &pipeline,
            &approval_request("dev-vpc-20270115T080000-abcd1234", "token-1"),
        )
        .await
        .unwrap();
        let other = request_approval(
            &pipeline,
            &approval_request("dev-vpc-20270115T090000-ef567890", "token-2"),
        )
        .await
        .unwrap();
        assert_ne!(first.approval_id, other.approval_id);
        let stored = fakes.store.approval(&first.approval_id).await.unwrap();
        assert_eq!(
            stored
                .and_then(|a| a.task_token)
                .as_ref()
                .map(TaskToken::expose),
            Some("token-1"),
            "the first deployment's approval is untouched"
        );
    }

    #[tokio::test]
    async fn the_approval_names_the_stored_cost_report_for_its_page() {
        let fakes = Fakes::new();
        let mut input = approval_request("dev-vpc-20270115T080000-abcd1234", "token-1");
        let at = |name: &str| TemplateRef {
            bucket: "infra-agent-test-templates".into(),
            key: format!("templates/vpc/reports/dev-vpc-20270115T080000-abcd1234/{name}.json"),
            sha256: String::new(),
        };
        input.cost = Some(CostReport {
            available: true,
            reason: None,
            estimate: None,
            delta: None,
            monthly_budget: None,
            exceeds_budget: false,
            truncated: false,
            report: Some(at("cost")),
        });
        let requested = request_approval(&fakes.pipeline(), &input).await.unwrap();
        let stored = fakes
            .store
            .approval(&requested.approval_id)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(stored.cost_report, Some(at("cost")));
        assert_eq!(stored.cost_line.as_deref(), Some("estimate unavailable"));
    }
}
