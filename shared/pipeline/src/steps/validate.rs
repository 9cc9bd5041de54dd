//! The validate step: read the stored template and validate it for the target environment.

use crate::ports::Pipeline;
use crate::StepError;
use infra_agent_core::contract::deploy::DeployRequest;
use infra_agent_core::deploy::parameters::offered_parameters;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::validation::{validate_template, ValidationContext, ValidationReport};

pub async fn validate(
    pipeline: &Pipeline,
    request: &DeployRequest,
) -> Result<ValidationReport, StepError> {
    let config = EnvironmentConfig::builtin(request.env)
        .map_err(|e| StepError::Configuration(e.to_string()))?;
    let body = pipeline.templates.get_template(&request.template).await?;
    let ctx = ValidationContext {
        env: Some(request.env),
        parameters: offered_parameters(&config, request),
    };
    let report = validate_template(&request.template.key, &body, &ctx);
    tracing::info!(
        deployment = %request.deployment_id,
        passed = report.passed,
        findings = report.findings.len(),
        "template validated"
    );
    Ok(report)
}
