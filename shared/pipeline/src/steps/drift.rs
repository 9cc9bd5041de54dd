//! The drift-check function's steps, as the drift-scan machine calls them: plan the scan, start
//! each stack's detection, poll it (starting a throttled one again, with backoff), judge and record
//! the results, and end the scan with one notification when anything drifted.

use infra_agent_core::clock::now;
use infra_agent_core::contract::drift::{
    Detection, DetectionPhase, ScanPlan, ScanRequest, ScanSummary, StackCheck, StackCheckResult,
    SCHEDULE,
};
use infra_agent_core::contract::record::CaughtError;
use infra_agent_core::drift::{analyse, scan_notification, StackDrift, StackDriftStatus};
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::{stack_name, Env, StackKey};
use infra_agent_core::records::{AuditEntry, DriftRecord, DriftScan, ScanStatus};
use infra_agent_core::stack::StackStatus;
use infra_agent_core::validation::ValidationContext;

use crate::ports::{DetectionState, Notification, Pipeline};
use crate::StepError;

const ACTOR: &str = "pipeline:drift-check";

/// Detections started per stack before a throttled one is reported as failed.
pub const MAX_DETECTIONS: u32 = 4;
/// Seconds before the first retry of a throttled detection; doubled each time.
const THROTTLE_BACKOFF_SECONDS: u32 = 15;
/// A detection still running after this many polls is reported as failed.
const MAX_POLLS: u32 = 360;

/// Opens the scan record and lists the stacks to check: those named, or every stack of the
/// environment that has a deployment record and was not torn down.
pub async fn plan(
    pipeline: &Pipeline,
    request: &ScanRequest,
    scan_id: &str,
) -> Result<ScanPlan, StepError> {
    let env = request.env;
    let stacks: Vec<StackKey> = match &request.stacks {
        Some(stacks) => stacks.clone(),
        None => pipeline
            .store
            .environment_status(env)
            .await?
            .into_iter()
            .filter(|head| {
                head.stack_status
                    .as_deref()
                    .is_none_or(|s| StackStatus::parse(s) != StackStatus::DeleteComplete)
            })
            .map(|head| head.stack)
            .collect(),
    };
    let requested_by = request
        .requested_by
        .clone()
        .unwrap_or_else(|| SCHEDULE.to_string());
    let scan = match pipeline.store.scan(env, scan_id).await? {
        // A retried plan keeps the scan it opened.
        Some(existing) => existing,
        None => {
            let scan = DriftScan {
                scan_id: scan_id.to_string(),
                env,
                status: ScanStatus::Running,
                requested_by,
                stacks: stacks.clone(),
                results: Vec::new(),
                notified: false,
                started_at: now().0,
                finished_at: None,
            };
            pipeline.store.put_scan(&scan).await?;
            scan
        }
    };
    Ok(ScanPlan {
        scan_id: scan.scan_id,
        env,
        stacks: scan
            .stacks
            .into_iter()
            .map(|stack| StackCheck {
                scan_id: scan_id.to_string(),
                env,
                stack_name: stack_name(env, &stack),
                stack,
            })
            .collect(),
    })
}

/// Starts the stack's detection, or says why it is skipped: locked by a deployment, not
/// deployed, or in a state CloudFormation does not detect drift in.
pub async fn start(pipeline: &Pipeline, check: &StackCheck) -> Result<Detection, StepError> {
    let skipped = |reason: String| Detection {
        phase: DetectionPhase::Skipped,
        detection_id: None,
        reason: Some(reason),
        attempt: 0,
        wait_seconds: 0,
        polls: 0,
    };
    let (_, now_epoch) = now();
    if let Some(lock) = pipeline
        .store
        .lock(check.env, check.stack.as_str())
        .await?
        .filter(|l| l.expires_epoch > now_epoch)
    {
        return Ok(skipped(format!(
            "locked by deployment {} (since {}): its change would show as drift",
            lock.holder, lock.acquired_at
        )));
    }
    let Some(state) = pipeline.drift.describe_stack(&check.stack_name).await? else {
        return Ok(skipped(format!(
            "stack {} does not exist",
            check.stack_name
        )));
    };
    if !detectable(&state.status) {
        return Ok(skipped(format!(
            "stack is {}: drift is detected only on stacks in a complete state",
            state.status
        )));
    }
    let detection_id = pipeline.drift.detect_stack_drift(&check.stack_name).await?;
    Ok(Detection {
        phase: DetectionPhase::Detecting,
        detection_id: Some(detection_id),
        reason: None,
        attempt: 1,
        wait_seconds: poll_interval(check.env)?,
        polls: 0,
    })
}

/// The states CloudFormation accepts `DetectStackDrift` in.
fn detectable(status: &StackStatus) -> bool {
    matches!(
        status,
        StackStatus::CreateComplete
            | StackStatus::UpdateComplete
            | StackStatus::UpdateRollbackComplete
            | StackStatus::UpdateRollbackFailed
            | StackStatus::ImportComplete
            | StackStatus::ImportRollbackComplete
    )
}

fn poll_interval(env: Env) -> Result<u32, StepError> {
    Ok(EnvironmentConfig::builtin(env)
        .map_err(|e| StepError::Configuration(e.to_string()))?
        .poll_interval_seconds
        .max(1))
}

/// One poll of a running detection. A detection that failed because AWS throttled it starts
/// again after a growing wait, up to `MAX_DETECTIONS`; any other failure ends it with AWS's reason.
pub async fn poll(
    pipeline: &Pipeline,
    check: &StackCheck,
    detection: &Detection,
) -> Result<Detection, StepError> {
    let Some(id) = detection.detection_id.as_deref() else {
        return Ok(detection.clone());
    };
    let polls = detection.polls + 1;
    match pipeline.drift.detection_status(id).await? {
        DetectionState::InProgress if polls >= MAX_POLLS => Ok(Detection {
            phase: DetectionPhase::Detected,
            reason: Some(format!(
                "drift detection {id} was still in progress after {polls} checks"
            )),
            polls,
            ..detection.clone()
        }),
        DetectionState::InProgress => Ok(Detection {
            polls,
            ..detection.clone()
        }),
        // A throttled attempt before this one is history, not the outcome.
        DetectionState::Complete => Ok(Detection {
            phase: DetectionPhase::Detected,
            reason: None,
            polls,
            ..detection.clone()
        }),
        DetectionState::Failed(reason)
            if throttled(&reason) && detection.attempt < MAX_DETECTIONS =>
        {
            let detection_id = pipeline.drift.detect_stack_drift(&check.stack_name).await?;
            Ok(Detection {
                phase: DetectionPhase::Detecting,
                detection_id: Some(detection_id),
                reason: Some(reason),
                attempt: detection.attempt + 1,
                wait_seconds: THROTTLE_BACKOFF_SECONDS << (detection.attempt - 1).min(6),
                polls: 0,
            })
        }
        DetectionState::Failed(reason) => Ok(Detection {
            phase: DetectionPhase::Detected,
            reason: Some(reason),
            polls,
            ..detection.clone()
        }),
    }
}

fn throttled(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    reason.contains("rate exceeded") || reason.contains("throttl")
}

/// Judges the detection's results against the stack's deployed template and records them.
pub async fn collect(
    pipeline: &Pipeline,
    check: &StackCheck,
    detection: &Detection,
) -> Result<StackCheckResult, StepError> {
    let drift = match detection.phase {
        DetectionPhase::Skipped => StackDrift::skipped(
            check.env,
            check.stack.clone(),
            check.stack_name.clone(),
            detection.reason.clone().unwrap_or_default(),
        ),
        DetectionPhase::Detecting | DetectionPhase::Detected => {
            let resources = pipeline.drift.resource_drifts(&check.stack_name).await?;
            // Detected with a reason: the detection failed (or never finished).
            let failure = detection
                .reason
                .clone()
                .filter(|_| detection.phase == DetectionPhase::Detected);
            let deployed = deployed_template(pipeline, check).await?;
            analyse(
                infra_agent_core::drift::Detection {
                    env: check.env,
                    stack: &check.stack,
                    stack_name: &check.stack_name,
                    resources,
                    failure,
                },
                deployed
                    .as_ref()
                    .map(|(body, ctx)| (body.as_str(), ctx))
                    .map_err(Clone::clone),
            )
        }
    };
    record(pipeline, check, drift).await
}

/// The template and parameters the stack's latest successful deployment used.
async fn deployed_template(
    pipeline: &Pipeline,
    check: &StackCheck,
) -> Result<Result<(String, ValidationContext), String>, StepError> {
    let Some(record) = pipeline
        .store
        .last_succeeded(check.env, check.stack.as_str())
        .await?
    else {
        return Ok(Err(format!(
            "no successful deployment of {} in {} is recorded",
            check.stack, check.env
        )));
    };
    let template = infra_agent_core::contract::deploy::TemplateRef {
        bucket: record.template_bucket.clone(),
        key: record.template_key.clone(),
        sha256: record.template_sha256.clone(),
    };
    match pipeline.templates.get_template(&template).await {
        Ok(body) => Ok(Ok((
            body,
            ValidationContext {
                env: Some(check.env),
                parameters: record.parameters,
            },
        ))),
        Err(e @ StepError::Transient { .. }) => Err(e),
        Err(e) => Ok(Err(format!(
            "the template of deployment {} could not be read: {e}",
            record.deployment_id
        ))),
    }
}

/// A stack's check that broke (the machine caught the error): recorded as failed, so one stack
/// never stops the scan.
pub async fn fail(
    pipeline: &Pipeline,
    check: &StackCheck,
    error: &CaughtError,
) -> Result<StackCheckResult, StepError> {
    let drift = StackDrift::failed(
        check.env,
        check.stack.clone(),
        check.stack_name.clone(),
        format!("{}: {}", error.error, error.message()),
    );
    record(pipeline, check, drift).await
}

async fn record(
    pipeline: &Pipeline,
    check: &StackCheck,
    drift: StackDrift,
) -> Result<StackCheckResult, StepError> {
    let checked_at = now().0;
    let result = StackCheckResult {
        stack: check.stack.clone(),
        status: drift.status,
        drifted_resources: u32::try_from(drift.resources.len()).unwrap_or(u32::MAX),
        controls: drift.controls(),
        checked_at: Some(checked_at.clone()),
        reason: drift.reason.clone(),
    };
    let mut entry = AuditEntry::new(
        check.env,
        check.stack.as_str(),
        ACTOR,
        "drift.check",
        drift.status.as_str(),
    );
    entry.detail = Some(match drift.status {
        StackDriftStatus::Drifted => format!(
            "scan {}: {} drifted resource(s): {}",
            check.scan_id,
            drift.resources.len(),
            drift
                .resources
                .iter()
                .map(|r| r.logical_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!(
            "scan {}{}",
            check.scan_id,
            drift
                .reason
                .as_deref()
                .map_or_else(String::new, |r| format!(": {r}"))
        ),
    });
    pipeline
        .store
        .put_drift(&DriftRecord {
            scan_id: check.scan_id.clone(),
            checked_at,
            drift,
        })
        .await?;
    pipeline.store.audit(&entry).await?;
    Ok(result)
}

/// Closes the scan: its record gets every stack's result, and people get one message if
/// anything drifted (none when everything is in sync). Safe to retry: a scan already told
/// about is not told again.
pub async fn finish(
    pipeline: &Pipeline,
    plan: &ScanPlan,
    results: &[StackCheckResult],
) -> Result<ScanSummary, StepError> {
    let mut scan = pipeline
        .store
        .scan(plan.env, &plan.scan_id)
        .await?
        .ok_or_else(|| {
            StepError::RecordConflict(format!("drift scan {} is not recorded", plan.scan_id))
        })?;
    let count = |status: StackDriftStatus| {
        u32::try_from(results.iter().filter(|r| r.status == status).count()).unwrap_or(u32::MAX)
    };
    if !scan.notified {
        let mut drifts = Vec::new();
        for result in results.iter().filter(|r| r.drifted_resources > 0) {
            let Some(checked_at) = &result.checked_at else {
                continue;
            };
            if let Some(record) = pipeline
                .store
                .drift(plan.env, result.stack.as_str(), checked_at, &plan.scan_id)
                .await?
            {
                drifts.push(record.drift);
            }
        }
        drifts.extend(
            results
                .iter()
                .filter(|r| r.drifted_resources == 0 && r.status != StackDriftStatus::InSync)
                .map(|r| r.as_drift(plan.env)),
        );
        if let Some((subject, body)) = scan_notification(plan.env, &plan.scan_id, &drifts) {
            let notification = Notification {
                subject,
                body,
                attributes: [
                    ("kind".to_string(), "drift".to_string()),
                    ("env".to_string(), plan.env.to_string()),
                    ("scan_id".to_string(), plan.scan_id.clone()),
                ]
                .into_iter()
                .collect(),
            };
            let topic = pipeline.settings.approval_topic_arn()?;
            pipeline.notifier.publish(topic, &notification).await?;
            scan.notified = true;
        }
    }
    scan.status = ScanStatus::Completed;
    scan.results = results.to_vec();
    scan.finished_at = Some(now().0);
    pipeline.store.put_scan(&scan).await?;
    Ok(ScanSummary {
        scan_id: plan.scan_id.clone(),
        env: plan.env,
        in_sync: count(StackDriftStatus::InSync),
        drifted: count(StackDriftStatus::Drifted),
        skipped: count(StackDriftStatus::Skipped),
        failed: count(StackDriftStatus::Failed),
        notified: scan.notified,
    })
}

#[cfg(test)]
mod tests;
