//! The change-set step: parameters and tags for the environment, CREATE or UPDATE by the stack's
//! existence, and a summary of what would change. An empty change set is deleted and reported.

use std::time::Duration;

use crate::ports::Pipeline;
use crate::ports::{ChangeSetSpec, Stacks};
use crate::StepError;
use infra_agent_core::clock::now;
use infra_agent_core::contract::change_set::{ChangeSetResult, ChangeSetType, ChangeSummary};
use infra_agent_core::contract::deploy::{DeployRequest, DeploymentKind, DeploymentPlan};
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::deploy::parameters::{offered_parameters, resolve_parameters, stack_tags};
use infra_agent_core::deploy::templates::template_url;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::stack::{change_set_type_for, ChangeSetOutcome, MAX_INLINE_TEMPLATE_BYTES};
use infra_agent_core::template::Template;

pub async fn create_change_set(
    pipeline: &Pipeline,
    request: &DeployRequest,
    plan: &DeploymentPlan,
) -> Result<ChangeSetResult, StepError> {
    let config = EnvironmentConfig::builtin(request.env)
        .map_err(|e| StepError::Configuration(e.to_string()))?;
    let failed = |reason: String| StepError::ChangeSetFailed {
        stack_name: plan.stack_name.clone(),
        change_set: plan.change_set_name.clone(),
        reason,
    };
    let body = pipeline.templates.get_template(&request.template).await?;
    let template =
        Template::parse(&request.template.key, &body).map_err(|e| failed(e.to_string()))?;
    let env_file = format!("infra/environments/{}.toml", request.env);
    let parameters =
        resolve_parameters(&template, &offered_parameters(&config, request), &env_file)
            .map_err(failed)?;
    let tags = stack_tags(&config, request);
    let existing = pipeline.stacks.describe_stack(&plan.stack_name).await?;
    let change_set_type = change_set_type_for(existing.as_ref()).map_err(failed)?;
    let revert_drift = request.kind == DeploymentKind::Remediation;
    if revert_drift && change_set_type == ChangeSetType::Create {
        return Err(failed(format!(
            "{} does not exist: there is no drift to revert; deploy the stack instead",
            plan.stack_name
        )));
    }
    let spec = ChangeSetSpec {
        stack_name: &plan.stack_name,
        change_set_name: &plan.change_set_name,
        change_set_type,
        template_body: &body,
        template_url: (body.len() > MAX_INLINE_TEMPLATE_BYTES)
            .then(|| template_url(&request.template)),
        parameters: &parameters,
        tags: &tags,
        description: &format!(
            "infra-agent {} {}",
            request.kind.as_str(),
            request.deployment_id
        ),
        role_arn: pipeline.settings.cloudformation_role(request.env),
        revert_drift,
    };
    pipeline.stacks.create_change_set(&spec).await?;
    let outcome = wait_for_change_set(
        pipeline.stacks.as_ref(),
        &plan.stack_name,
        &plan.change_set_name,
        Duration::from_secs(2),
        Duration::from_secs(600),
    )
    .await?;
    let (arn, summary, has_changes) = match outcome {
        ChangeSetOutcome::Ready { arn, changes } => {
            (Some(arn), ChangeSummary::from_changes(changes), true)
        }
        ChangeSetOutcome::NoChanges { .. } => {
            pipeline
                .stacks
                .delete_change_set(&plan.stack_name, &plan.change_set_name)
                .await?;
            (None, ChangeSummary::default(), false)
        }
        ChangeSetOutcome::Failed { reason } => {
            pipeline
                .stacks
                .delete_change_set(&plan.stack_name, &plan.change_set_name)
                .await?;
            return Err(failed(reason));
        }
    };
    let result = ChangeSetResult {
        stack_name: plan.stack_name.clone(),
        change_set_name: plan.change_set_name.clone(),
        change_set_arn: arn,
        change_set_type,
        has_changes,
        summary,
        parameters,
        tags,
    };
    record_change_set(pipeline, request, &result).await?;
    Ok(result)
}

async fn record_change_set(
    pipeline: &Pipeline,
    request: &DeployRequest,
    result: &ChangeSetResult,
) -> Result<(), StepError> {
    let Some(mut record) = pipeline
        .store
        .deployment(request.env, request.stack.as_str(), &request.deployment_id)
        .await?
    else {
        return Err(StepError::RecordConflict(format!(
            "deployment record {} is missing",
            request.deployment_id
        )));
    };
    record.parameters = result.parameters.clone();
    record.change_set_arn = result.change_set_arn.clone();
    record.change_summary = Some(result.summary.clone());
    record.status = DeploymentStatus::InProgress;
    record.updated_at = now().0;
    pipeline.store.put_deployment(&record).await
}

/// Polls the change set until CloudFormation has computed it.
pub async fn wait_for_change_set(
    stacks: &dyn Stacks,
    stack_name: &str,
    change_set_name: &str,
    poll: Duration,
    max_wait: Duration,
) -> Result<ChangeSetOutcome, StepError> {
    let started = std::time::Instant::now();
    loop {
        let view = stacks
            .describe_change_set(stack_name, change_set_name)
            .await?;
        if let Some(outcome) = view.outcome() {
            return Ok(outcome);
        }
        if started.elapsed() > max_wait {
            return Err(StepError::Transient {
                service: "cloudformation",
                operation: "DescribeChangeSet",
                message: format!(
                    "change set {change_set_name} still being created after {max_wait:?}"
                ),
            });
        }
        tokio::time::sleep(poll).await;
    }
}
