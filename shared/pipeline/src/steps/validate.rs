//! The validate step: read the stored template, validate it for the target environment, store the
//! full report beside the template and hand the state its summary.

use crate::ports::Pipeline;
use crate::StepError;
use infra_agent_core::contract::deploy::DeployRequest;
use infra_agent_core::contract::validation::{validation_report_key, ValidationSummary};
use infra_agent_core::deploy::parameters::offered_parameters;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::validation::{
    validate_template, Severity, ValidationContext, ValidationReport,
};

use crate::ports::RegisteredType;

/// The warning validation gives a third-party registry type the bundled schemas do not know.
const REGISTRY_TYPE: &str = "E3006";

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
    let mut report = validate_template(&request.template.key, &body, &ctx);
    ask_the_registry(pipeline, &mut report).await?;
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

/// Offline, a third-party resource type is a warning that its properties go unchecked. Here the
/// target account's registry is asked (`DescribeType`): a type that is not registered there is an
/// error (CloudFormation would refuse the stack after the approval, not before); a registered one
/// stays a warning that names what is registered; a registry that cannot be asked (access denied)
/// leaves the warning, saying so. Throttling and other transient failures fail the step, which the
/// state machine retries.
async fn ask_the_registry(
    pipeline: &Pipeline,
    report: &mut ValidationReport,
) -> Result<(), StepError> {
    let mut answers: std::collections::BTreeMap<String, Result<RegisteredType, String>> =
        Default::default();
    for finding in report
        .findings
        .iter_mut()
        .filter(|f| f.rule == REGISTRY_TYPE && f.severity == Severity::Warning)
    {
        let Some(type_name) = finding.resource_type.clone() else {
            continue;
        };
        if !answers.contains_key(&type_name) {
            let answer = match pipeline.registry.resource_type(&type_name).await {
                Ok(answer) => Ok(answer),
                Err(e @ StepError::Transient { .. }) => return Err(e),
                Err(e) => Err(e.to_string()),
            };
            answers.insert(type_name.clone(), answer);
        }
        let resource = finding.resource.clone().unwrap_or_default();
        match &answers[&type_name] {
            Ok(RegisteredType::Live {
                arn,
                default_version,
            }) => {
                finding.message = format!(
                    "resource {resource} has type {type_name}, registered in the account ({arn}, default version {}): the bundled schemas do not know it, so only CloudFormation checks its properties",
                    default_version.as_deref().unwrap_or("unknown")
                );
            }
            Ok(RegisteredType::Missing { reason }) => {
                finding.severity = Severity::Error;
                finding.message = format!(
                    "resource {resource} has type {type_name}, {reason}: CloudFormation would refuse the stack (register or activate the extension first)"
                );
            }
            Err(e) => {
                finding.message.push_str(&format!(
                    "; the account's registry could not be asked ({e})"
                ));
            }
        }
    }
    report.passed = !report
        .findings
        .iter()
        .any(|f| f.severity == Severity::Error);
    Ok(())
}

#[cfg(test)]
mod tests {
    use infra_agent_core::contract::deploy::TemplateRef;

    use super::*;
    use crate::fakes::{deploy_request, Fakes};
    use crate::ports::TemplateStore;

    const HELM: &str = "AWSQS::Kubernetes::Helm";
    const TEMPLATE: &str = "Resources:\n  Chart:\n    Type: AWSQS::Kubernetes::Helm\n    Properties:\n      Chart: stable/nginx\n";

    async fn validated(fakes: &Fakes) -> Result<ValidationSummary, StepError> {
        let stored: TemplateRef = fakes
            .templates
            .put_document(
                "infra-agent-test-templates",
                "templates/charts/t.yaml",
                TEMPLATE,
            )
            .await
            .unwrap();
        let mut deploy = deploy_request("dev-vpc-20270115T080000-abcd");
        deploy.template = stored;
        validate(&fakes.pipeline(), &deploy).await
    }

    #[tokio::test]
    async fn a_registry_type_the_account_lacks_fails_validation() {
        let fakes = Fakes::new();
        let summary = validated(&fakes).await.unwrap();
        assert!(!summary.passed, "{summary:?}");
        assert_eq!(*fakes.registry.asked.lock().unwrap(), [HELM]);
    }

    #[tokio::test]
    async fn a_registered_registry_type_stays_a_warning() {
        let fakes = Fakes::new();
        fakes.registry.register(HELM);
        let summary = validated(&fakes).await.unwrap();
        assert!(summary.passed, "{summary:?}");
    }

    #[tokio::test]
    async fn a_registry_that_cannot_be_asked_leaves_the_warning() {
        let fakes = Fakes::new();
        *fakes.registry.failing.lock().unwrap() = true;
        let summary = validated(&fakes).await.unwrap();
        assert!(summary.passed, "{summary:?}");
    }
}
