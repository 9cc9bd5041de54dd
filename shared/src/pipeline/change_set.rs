//! The change-set step: parameters and tags for the environment, CREATE or UPDATE by the stack's
//! existence, and a summary of what would change. An empty change set is deleted and reported.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::aws::Pipeline;
use crate::contract::change_set::{ChangeSetResult, ChangeSummary};
use crate::contract::deploy::{DeployRequest, DeploymentPlan};
use crate::contract::record::DeploymentStatus;
use crate::environment::EnvironmentConfig;
use crate::pipeline::templates::{get_template, template_url};
use crate::stacks::{self, ChangeSetOutcome, ChangeSetSpec, MAX_INLINE_TEMPLATE_BYTES};
use crate::store::now;
use crate::template::Template;
use crate::StepError;

/// Template parameters the pipeline itself supplies, from the environment and the request.
pub const STANDARD_PARAMETERS: [&str; 4] = ["Environment", "Owner", "SecurityLevel", "IaCVersion"];

/// Every value an environment offers to a template: its `[parameters]` and the standard ones.
pub fn environment_parameters(
    config: &EnvironmentConfig,
    iac_version: &str,
) -> BTreeMap<String, String> {
    let mut values = config.parameters.clone();
    values.insert("Environment".into(), config.environment.to_string());
    values.insert("Owner".into(), config.owner.clone());
    values.insert("SecurityLevel".into(), config.security_level.clone());
    values.insert("IaCVersion".into(), iac_version.to_string());
    values
}

/// What a deployment offers its template: the environment's values, then the wired upstream
/// outputs of the request, which win.
pub fn offered_parameters(
    config: &EnvironmentConfig,
    request: &DeployRequest,
) -> BTreeMap<String, String> {
    let mut values = environment_parameters(config, &request.iac_version);
    values.extend(request.parameters.clone());
    values
}

/// The mandatory stack tags (NIST CM-8, CM-3), propagated by CloudFormation to taggable resources.
pub fn stack_tags(config: &EnvironmentConfig, request: &DeployRequest) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("Environment".to_string(), request.env.to_string()),
        ("Owner".to_string(), config.owner.clone()),
        ("SecurityLevel".to_string(), config.security_level.clone()),
        ("IaC_Version".to_string(), request.iac_version.clone()),
    ])
}

/// The values passed for the template's declared parameters. A parameter without a default that
/// the environment does not supply is an error naming it and where to add it.
pub fn resolve_parameters(
    template: &Template,
    offered: &BTreeMap<String, String>,
    env_file: &str,
) -> Result<BTreeMap<String, String>, String> {
    let mut resolved = BTreeMap::new();
    let mut missing = Vec::new();
    for decl in template.parameters() {
        match offered.get(&decl.name) {
            Some(value) => {
                resolved.insert(decl.name, value.clone());
            }
            None if decl.default.is_some() => {}
            None => missing.push(decl.name),
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "template parameters without a default and without a value: {} (add them to [parameters] in {env_file})",
            missing.join(", ")
        ));
    }
    Ok(resolved)
}

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
    let body = get_template(&pipeline.s3, &request.template).await?;
    let template =
        Template::parse(&request.template.key, &body).map_err(|e| failed(e.to_string()))?;
    let env_file = format!("infra/environments/{}.toml", request.env);
    let parameters =
        resolve_parameters(&template, &offered_parameters(&config, request), &env_file)
            .map_err(failed)?;
    let tags = stack_tags(&config, request);
    let existing = stacks::describe_stack(&pipeline.cfn, &plan.stack_name).await?;
    let change_set_type = stacks::change_set_type_for(existing.as_ref()).map_err(failed)?;
    let spec = ChangeSetSpec {
        stack_name: &plan.stack_name,
        change_set_name: &plan.change_set_name,
        change_set_type,
        template_body: &body,
        template_url: (body.len() > MAX_INLINE_TEMPLATE_BYTES)
            .then(|| template_url(&request.template)),
        parameters: &parameters,
        tags: &tags,
        description: &format!("infra-agent deployment {}", request.deployment_id),
    };
    stacks::create_change_set(&pipeline.cfn, &spec).await?;
    let outcome = stacks::wait_for_change_set(
        &pipeline.cfn,
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
            stacks::delete_change_set(&pipeline.cfn, &plan.stack_name, &plan.change_set_name)
                .await?;
            (None, ChangeSummary::default(), false)
        }
        ChangeSetOutcome::Failed { reason } => {
            stacks::delete_change_set(&pipeline.cfn, &plan.stack_name, &plan.change_set_name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_parameter_without_default_names_it_and_the_env_file() {
        let template = Template::parse(
            "t.json",
            r#"{"Parameters":{"VpcCidr":{"Type":"String"},"Name":{"Type":"String","Default":"x"},"Owner":{"Type":"String"}},
               "Resources":{"R":{"Type":"AWS::SNS::Topic"}}}"#,
        )
        .unwrap();
        let offered = BTreeMap::from([("Owner".to_string(), "team".to_string())]);
        let err =
            resolve_parameters(&template, &offered, "infra/environments/dev.toml").unwrap_err();
        assert!(err.contains("VpcCidr") && err.contains("dev.toml"), "{err}");
        assert!(!err.contains("Name"));
        let offered = BTreeMap::from([
            ("Owner".to_string(), "team".to_string()),
            ("VpcCidr".to_string(), "10.0.0.0/16".to_string()),
            ("Unused".to_string(), "u".to_string()),
        ]);
        let resolved = resolve_parameters(&template, &offered, "dev.toml").unwrap();
        assert_eq!(
            resolved.len(),
            2,
            "only declared parameters are passed: {resolved:?}"
        );
    }
}
