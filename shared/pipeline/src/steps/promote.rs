//! The promote steps: judge every pre-promotion check on what the source environment runs, from
//! its records and its latest drift scan (and record them), hand the verified template to the deploy machine in the target, and record how
//! that deployment ended. Nothing in the target changes unless every check passed.

use infra_agent_core::clock::now;
use infra_agent_core::contract::deploy::{DeployRequest, DeploymentKind, TemplateRef};
use infra_agent_core::contract::promote::{PromotedFrom, PromotionPlan, PromotionRequest};
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::deploy::promotion::{promotion_checks, PromotionFacts};
use infra_agent_core::environment::{environment_parameters, EnvironmentConfig};
use infra_agent_core::naming::Env;
use infra_agent_core::records::{AuditEntry, DeploymentRecord, PromotionRecord, PromotionStatus};
use infra_agent_core::stack::StackStatus;
use infra_agent_core::validation::{validate_template, Severity, ValidationContext};

use crate::ports::Pipeline;
use crate::StepError;

/// Deployments of a stack the checks look through.
const HISTORY: i32 = 50;

fn config(env: Env) -> Result<EnvironmentConfig, StepError> {
    EnvironmentConfig::builtin(env).map_err(|e| StepError::Configuration(e.to_string()))
}

/// The latest deployment that changed (or tried to change) the stack: refused, rejected, expired
/// and no-change attempts left it as it was.
fn latest_attempt(history: &[DeploymentRecord]) -> Option<&DeploymentRecord> {
    history.iter().find(|r| {
        !matches!(
            r.status,
            DeploymentStatus::Refused
                | DeploymentStatus::Rejected
                | DeploymentStatus::Expired
                | DeploymentStatus::NoChanges
        )
    })
}

pub async fn plan(
    pipeline: &Pipeline,
    request: &PromotionRequest,
    scanned: bool,
) -> Result<PromotionPlan, StepError> {
    let (from, to, stack) = (request.from, request.to, request.stack.as_str());
    let history = pipeline.store.history(from, stack, Some(HISTORY)).await?;
    let latest = latest_attempt(&history);
    // As the source's last deployment left it; the drift check below needs a fresh scan of the
    // live stack (a scan skips a stack that is gone or mid-operation), run now if there is none.
    let source_status = latest
        .and_then(|r| r.stack_status.as_deref())
        .map(StackStatus::parse);
    let drift_heads = pipeline.store.drift_heads(from).await?;
    let drift = drift_heads.iter().find(|d| d.stack == request.stack);
    let template = latest.map(|r| TemplateRef {
        bucket: r.template_bucket.clone(),
        key: r.template_key.clone(),
        sha256: r.template_sha256.clone(),
    });
    let validation = match (&template, latest) {
        (Some(template), Some(record)) => {
            let body = pipeline.templates.get_template(template).await?;
            let mut parameters = environment_parameters(&config(to)?, &record.iac_version);
            parameters.extend(request.parameters.clone());
            let report = validate_template(
                &template.key,
                &body,
                &ValidationContext {
                    env: Some(to),
                    parameters,
                },
            );
            let errors: Vec<String> = report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .take(5)
                .map(infra_agent_core::approval::message::finding_line)
                .collect();
            if report.passed {
                Ok(())
            } else {
                Err(format!(
                    "{} error(s): {}",
                    report.errors().count(),
                    errors.join("; ")
                ))
            }
        }
        _ => Err("no deployed template to validate".to_string()),
    };
    let tst_history = if to == Env::Prd {
        pipeline
            .store
            .history(Env::Tst, stack, Some(HISTORY))
            .await?
    } else {
        Vec::new()
    };
    let target_lock = pipeline.store.lock(to, stack).await?;
    let (at, now_epoch) = now();
    let (checks, needs_scan) = promotion_checks(&PromotionFacts {
        from,
        to,
        source_status,
        source_latest: latest,
        drift,
        drift_max_age_seconds: i64::from(config(from)?.drift_scan_interval_hours) * 3600,
        now_epoch,
        validation,
        tst_history: &tst_history,
        target_lock: target_lock.as_ref(),
    });
    let passed = checks.iter().all(|c| c.passed);
    // One scan per promotion: if the fresh scan did not settle it, the promotion is refused.
    let needs_scan = needs_scan && !scanned;
    let deploy = match (passed, latest, &template) {
        (true, Some(source), Some(template)) => Some(DeployRequest {
            version: CONTRACT_VERSION,
            deployment_id: request.deployment_id.clone(),
            stack: request.stack.clone(),
            env: to,
            template: template.clone(),
            requested_by: request.requested_by.clone(),
            iac_version: source.iac_version.clone(),
            parameters: request.parameters.clone(),
            approval_timeout_seconds: request.approval_timeout_seconds,
            kind: DeploymentKind::Promotion,
            returns_to: None,
            promoted_from: Some(PromotedFrom {
                env: from,
                deployment_id: source.deployment_id.clone(),
                template_sha256: source.template_sha256.clone(),
            }),
        }),
        _ => None,
    };
    let status = if passed {
        PromotionStatus::Deploying
    } else if needs_scan {
        PromotionStatus::Checking
    } else {
        PromotionStatus::Refused
    };
    let record = PromotionRecord {
        promotion_id: request.promotion_id.clone(),
        stack: request.stack.clone(),
        from,
        to,
        status,
        requested_by: request.requested_by.clone(),
        template_sha256: latest.map(|r| r.template_sha256.clone()),
        source_deployment_id: latest.map(|r| r.deployment_id.clone()),
        checks: checks.clone(),
        deployment_id: request.deployment_id.clone(),
        deployment_status: None,
        started_at: match pipeline.store.promotion(to, &request.promotion_id).await? {
            Some(earlier) => earlier.started_at,
            None => at.clone(),
        },
        finished_at: (status == PromotionStatus::Refused).then(|| at.clone()),
    };
    pipeline.store.put_promotion(&record).await?;
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    let mut entry = AuditEntry::new(
        to,
        stack,
        &request.requested_by,
        "promotion.check",
        status.as_str(),
    )
    .deployment(&request.deployment_id);
    entry.detail = Some(if failed.is_empty() {
        format!(
            "promotion {} from {from}: every check passed",
            request.promotion_id
        )
    } else {
        format!(
            "promotion {} from {from}: failed {}",
            request.promotion_id,
            failed.join(", ")
        )
    });
    pipeline.store.audit(&entry).await?;
    Ok(PromotionPlan {
        promotion_id: request.promotion_id.clone(),
        checks,
        passed,
        needs_scan,
        template,
        deploy,
    })
}

/// Records how the target deployment ended.
pub async fn finish(
    pipeline: &Pipeline,
    request: &PromotionRequest,
) -> Result<PromotionRecord, StepError> {
    let mut record = pipeline
        .store
        .promotion(request.to, &request.promotion_id)
        .await?
        .ok_or_else(|| {
            StepError::RecordConflict(format!(
                "promotion {} is not recorded",
                request.promotion_id
            ))
        })?;
    let deployment = pipeline
        .store
        .deployment(request.to, request.stack.as_str(), &request.deployment_id)
        .await?;
    record.status = PromotionStatus::Ended;
    record.deployment_status = Some(
        deployment
            .map_or(DeploymentStatus::Failed, |d| d.status)
            .as_str()
            .to_string(),
    );
    record.finished_at = Some(now().0);
    pipeline.store.put_promotion(&record).await?;
    Ok(record)
}
