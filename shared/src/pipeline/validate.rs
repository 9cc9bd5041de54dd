//! The validate step: read the stored template and validate it for the target environment.

use crate::aws::Pipeline;
use crate::contract::deploy::DeployRequest;
use crate::environment::EnvironmentConfig;
use crate::pipeline::change_set::offered_parameters;
use crate::pipeline::templates::get_template;
use crate::validation::{validate_template, ValidationContext, ValidationReport};
use crate::StepError;

pub async fn validate(
    pipeline: &Pipeline,
    request: &DeployRequest,
) -> Result<ValidationReport, StepError> {
    let config = EnvironmentConfig::builtin(request.env)
        .map_err(|e| StepError::Configuration(e.to_string()))?;
    let body = get_template(&pipeline.s3, &request.template).await?;
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
