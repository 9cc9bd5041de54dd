//! The verify step: after a change set executed, read what was built (status, outputs, every
//! resource, live properties where CloudFormation's drift detection reads them) and run the
//! generic checks and the ones the installed catalog declares for the stack.

use std::collections::BTreeSet;

use infra_agent_core::contract::deploy::{DeployRequest, DeploymentPlan};
use infra_agent_core::deploy::checks::{
    verify as run_checks, BuiltResource, StackSnapshot, Verification,
};
use infra_agent_core::drift::ResourceDriftStatus;
use infra_agent_core::template::Template;

use crate::ports::Pipeline;
use crate::steps::console::installed_bundle;
use crate::StepError;

pub async fn verify(
    pipeline: &Pipeline,
    request: &DeployRequest,
    plan: &DeploymentPlan,
) -> Result<Verification, StepError> {
    let stack_name = &plan.stack_name;
    let declared = match &pipeline.settings.catalog {
        Some(_) => installed_bundle(pipeline)
            .await?
            .catalog()
            .map_err(|e| StepError::Configuration(e.to_string()))?
            .stack(&request.stack)
            .map(|entry| entry.checks.clone())
            .unwrap_or_default(),
        // A pipeline without an installed catalog runs the generic checks only.
        None => Vec::new(),
    };
    let status = pipeline
        .drift
        .describe_stack(stack_name)
        .await?
        .map_or_else(|| "DOES_NOT_EXIST".to_string(), |s| s.status.to_string());
    let outputs = pipeline.drift.stack_outputs(stack_name).await?;
    let read: BTreeSet<&str> = declared
        .iter()
        .filter(|c| c.reads_properties())
        .map(|c| c.resource_type.as_str())
        .collect();
    let mut resources = Vec::new();
    for resource in pipeline.drift.stack_resources(stack_name).await? {
        let live = if read.contains(resource.resource_type.as_str()) {
            let drift = pipeline
                .drift
                .resource_drift(stack_name, &resource.logical_id)
                .await?;
            match (drift.status, drift.actual_properties) {
                (ResourceDriftStatus::NotChecked, _) => Err(format!(
                    "drift detection does not read {} here",
                    resource.resource_type
                )),
                (ResourceDriftStatus::Deleted, _) => Ok(serde_json::Value::Null),
                (_, Some(actual)) => Ok(actual),
                (_, None) => Err("drift detection returned no live properties".to_string()),
            }
        } else {
            Err("not read: no check needs it".to_string())
        };
        resources.push(BuiltResource {
            logical_id: resource.logical_id,
            resource_type: resource.resource_type,
            status: resource.status,
            live,
        });
    }
    let body = pipeline.templates.get_template(&request.template).await?;
    let template = Template::parse(&request.template.key, &body).map_err(|e| {
        StepError::TemplateUnavailable {
            key: request.template.key.clone(),
            reason: e.to_string(),
        }
    })?;
    let parameters = pipeline
        .store
        .deployment(request.env, request.stack.as_str(), &request.deployment_id)
        .await?
        .map(|r| r.parameters)
        .unwrap_or_default();
    let snapshot = StackSnapshot {
        status,
        outputs,
        resources,
    };
    let verification = run_checks(&snapshot, &template, &parameters, &declared);
    tracing::info!(deployment = %request.deployment_id, checks = %verification.headline(), "stack verified");
    Ok(verification)
}
