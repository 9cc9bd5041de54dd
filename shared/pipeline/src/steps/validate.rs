//! The validate step: read the stored template, validate it for the target environment, store the
//! full report beside the template and hand the state its summary.

use crate::ports::Pipeline;
use crate::StepError;
use infra_agent_core::contract::deploy::DeployRequest;
use infra_agent_core::contract::validation::{validation_report_key, ValidationSummary};
use infra_agent_core::deploy::parameters::offered_parameters;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::validation::{validate_template, ValidationContext};

pub async fn validate(
    pipeline: &Pipeline,
    request: &DeployRequest,
) -> Result<ValidationSummary, StepError> {
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
    // The whole report is stored once; the state and the record carry its summary.
    let text = serde_json::to_string(&report)
        .map_err(|e| StepError::RecordConflict(format!("cannot encode validation report: {e}")))?;
    let stored = pipeline
        .templates
        .put_document(
            &request.template.bucket,
            &validation_report_key(&request.template, &request.deployment_id),
            &text,
        )
        .await?;
    Ok(ValidationSummary::of(&report, Some(stored)))
}
