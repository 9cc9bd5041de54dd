//! First step of a deployment: take the stack lock, fix the run's names and timings, and open the
//! deployment record. A locked stack refuses the deployment and says who holds it.

use crate::ports::Pipeline;
use crate::StepError;
use infra_agent_core::clock::{now, rfc3339};
use infra_agent_core::contract::deploy::{DeployRequest, DeploymentPlan};
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::{change_set_name, check_name, stack_name};
use infra_agent_core::records::{AuditEntry, DeploymentRecord, StackLock};

const ACTOR: &str = "pipeline:begin";

pub async fn begin(
    pipeline: &Pipeline,
    request: &DeployRequest,
) -> Result<DeploymentPlan, StepError> {
    check_request(request)?;
    let config = EnvironmentConfig::builtin(request.env)
        .map_err(|e| StepError::Configuration(e.to_string()))?;
    let stack = request.stack.as_str();
    let now_at = time::OffsetDateTime::now_utc();
    let (started_at, now_epoch) = now();
    let expires = now_at + time::Duration::minutes(i64::from(config.lock_minutes()));
    let lock = StackLock {
        env: request.env,
        stack: stack.to_string(),
        holder: request.deployment_id.clone(),
        acquired_at: started_at.clone(),
        expires_at: rfc3339(expires),
        expires_epoch: expires.unix_timestamp(),
    };
    if let Err(err) = pipeline.store.acquire_lock(&lock, now_epoch).await {
        if let StepError::StackLocked { holder, .. } = &err {
            // The refused deployment is recorded too, so the history shows every attempt.
            let mut record = new_record(request, &started_at);
            record.status = DeploymentStatus::Refused;
            record.finished_at = Some(started_at.clone());
            record.failure = Some(infra_agent_core::contract::execute::StackFailure {
                reason: err.to_string(),
                resource: None,
                resource_type: None,
                rollback_status: None,
                recommendation: Some(format!(
                    "Wait for deployment {holder} to finish, or for its lock to expire."
                )),
            });
            pipeline.store.put_deployment(&record).await?;
            pipeline
                .store
                .audit(
                    &AuditEntry::new(
                        request.env,
                        stack,
                        &request.requested_by,
                        "lock.acquire",
                        "REFUSED",
                    )
                    .deployment(&request.deployment_id)
                    .detail(err.to_string()),
                )
                .await?;
        }
        return Err(err);
    }
    let day = format!(
        "{:04}{:02}{:02}",
        now_at.year(),
        u8::from(now_at.month()),
        now_at.day()
    );
    // A retried step finds its record and keeps the change-set name it chose the first time.
    let existing = pipeline
        .store
        .deployment(request.env, stack, &request.deployment_id)
        .await?;
    let change_set = match existing.as_ref().and_then(|r| r.change_set_name.clone()) {
        Some(name) => name,
        None => {
            let seq = pipeline
                .store
                .next_change_set_sequence(request.env, stack, &day)
                .await?;
            change_set_name(request.env, &request.stack, now_at.date(), seq)
        }
    };
    let mut record = existing.unwrap_or_else(|| new_record(request, &started_at));
    record.change_set_name = Some(change_set.clone());
    record.parameters = config.parameters.clone();
    record.updated_at = started_at.clone();
    pipeline.store.put_deployment(&record).await?;
    pipeline
        .store
        .audit(
            &AuditEntry::new(
                request.env,
                stack,
                &request.requested_by,
                "deployment.start",
                "STARTED",
            )
            .deployment(&request.deployment_id)
            .detail(format!(
                "template {} lock until {}",
                request.template.key, lock.expires_at
            )),
        )
        .await?;
    tracing::info!(deployment = %request.deployment_id, change_set = %change_set, "deployment started");
    Ok(DeploymentPlan {
        stack_name: stack_name(request.env, &request.stack),
        change_set_name: change_set,
        started_at: record.started_at,
        lock_expires_at: lock.expires_at,
        approval_timeout_seconds: approval_timeout(&config, request),
        poll_interval_seconds: config.poll_interval_seconds.max(1),
        stack_timeout_seconds: config.stack_timeout_minutes * 60,
    })
}

/// The environment's approval window, shortened (never lengthened) by the request.
fn approval_timeout(config: &EnvironmentConfig, request: &DeployRequest) -> u32 {
    let allowed = config.approval_timeout_minutes.saturating_mul(60);
    request
        .approval_timeout_seconds
        .map_or(allowed, |wanted| wanted.clamp(1, allowed))
}

fn check_request(request: &DeployRequest) -> Result<(), StepError> {
    let invalid = |message: String| StepError::InvalidEvent {
        step: ACTOR,
        message,
    };
    if request.version != CONTRACT_VERSION {
        return Err(invalid(format!(
            "request version {} is not supported (expected {CONTRACT_VERSION})",
            request.version
        )));
    }
    check_name("deployment id", &request.deployment_id, 80).map_err(|e| invalid(e.to_string()))?;
    let prefix = format!("{}-{}-", request.env, request.stack);
    if !request.deployment_id.starts_with(&prefix) {
        return Err(invalid(format!(
            "deployment id '{}' must start with '{prefix}'",
            request.deployment_id
        )));
    }
    if request.template.sha256.len() != 64
        || !request
            .template
            .sha256
            .chars()
            .all(|c| c.is_ascii_hexdigit())
    {
        return Err(invalid(format!(
            "template sha256 '{}' is not a SHA-256 hex digest",
            request.template.sha256
        )));
    }
    if request.requested_by.trim().is_empty() {
        return Err(invalid(
            "requested_by must name who started the deployment".into(),
        ));
    }
    Ok(())
}

/// The record a deployment opens with, before any step has run.
pub fn new_record(request: &DeployRequest, at: &str) -> DeploymentRecord {
    DeploymentRecord {
        promoted_from: request.promoted_from.clone(),
        verification: None,
        returns_to: request.returns_to.clone(),
        kind: request.kind,
        deployment_id: request.deployment_id.clone(),
        env: request.env,
        stack: request.stack.clone(),
        stack_name: stack_name(request.env, &request.stack),
        status: DeploymentStatus::InProgress,
        requested_by: request.requested_by.clone(),
        iac_version: request.iac_version.clone(),
        template_bucket: request.template.bucket.clone(),
        template_key: request.template.key.clone(),
        template_sha256: request.template.sha256.clone(),
        parameters: Default::default(),
        change_set_name: None,
        change_set_arn: None,
        change_summary: None,
        validation: None,
        cost: None,
        approval_id: None,
        approver: None,
        stack_status: None,
        failure: None,
        started_at: at.to_string(),
        updated_at: at.to_string(),
        finished_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use infra_agent_core::naming::Env;

    fn request(timeout: Option<u32>) -> DeployRequest {
        DeployRequest {
            approval_timeout_seconds: timeout,
            ..crate::fakes::deploy_request("dev-vpc-20260101T000000-abcd")
        }
    }

    #[test]
    fn a_request_can_shorten_the_approval_window_but_never_lengthen_it() {
        let config = EnvironmentConfig::builtin(Env::Dev).unwrap();
        let allowed = config.approval_timeout_minutes * 60;
        assert_eq!(approval_timeout(&config, &request(None)), allowed);
        assert_eq!(approval_timeout(&config, &request(Some(30))), 30);
        assert_eq!(
            approval_timeout(&config, &request(Some(allowed * 10))),
            allowed
        );
        assert_eq!(approval_timeout(&config, &request(Some(0))), 1);
    }

    #[test]
    fn requests_that_do_not_fit_their_deployment_id_are_refused() {
        assert!(check_request(&request(None)).is_ok());
        let mut other = request(None);
        other.deployment_id = "dev-net-20260101T000000-abcd".into();
        assert!(check_request(&other)
            .unwrap_err()
            .to_string()
            .contains("must start with 'dev-vpc-'"));
        let mut bad_hash = request(None);
        bad_hash.template.sha256 = "xyz".into();
        assert!(check_request(&bad_hash).is_err());
        let mut future = request(None);
        future.version = CONTRACT_VERSION + 1;
        assert!(check_request(&future).is_err());
    }
}

#[cfg(test)]
mod step_tests {
    //! `begin` and `finish` against the in-memory ports: the lock and the record as the state
    //! machine's first and last steps leave them.

    use infra_agent_core::contract::record::{DeploymentState, FinishInput, Outcome};
    use infra_agent_core::naming::Env;

    use super::*;
    use crate::fakes::Fakes;
    use crate::ports::{Deployments, Locks};
    use crate::steps::finish::finish;

    fn request(deployment_id: &str) -> DeployRequest {
        crate::fakes::deploy_request(deployment_id)
    }

    #[tokio::test]
    async fn a_second_deployment_of_a_locked_stack_is_refused_and_recorded_as_refused() {
        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        let first = request("dev-vpc-20270115T080000-aaaa");
        let second = request("dev-vpc-20270115T080500-bbbb");
        begin(&pipeline, &first).await.unwrap();

        let err = begin(&pipeline, &second).await.unwrap_err();

        assert_eq!(err.error_type(), "StackLocked");
        let store = &fakes.store;
        let refused = store
            .deployment(Env::Dev, "vpc", &second.deployment_id)
            .await
            .unwrap()
            .expect("the refusal is recorded");
        assert_eq!(refused.status, DeploymentStatus::Refused);
        let heads = store.environment_status(Env::Dev).await.unwrap();
        assert_eq!(heads.len(), 1);
        assert_eq!(
            heads[0].last_deployment_id, first.deployment_id,
            "a refused attempt does not become the stack's latest deployment"
        );
        let lock = store.lock(Env::Dev, "vpc").await.unwrap().unwrap();
        assert_eq!(lock.holder, first.deployment_id);
    }

    #[tokio::test]
    async fn finish_writes_the_outcome_releases_the_lock_and_is_safe_to_run_twice() {
        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        let first = request("dev-vpc-20270115T080000-aaaa");
        let plan = begin(&pipeline, &first).await.unwrap();
        let input = FinishInput {
            outcome: Outcome::Rejected,
            state: DeploymentState {
                plan: Some(plan),
                ..DeploymentState::of(first.clone())
            },
        };

        let result = finish(&pipeline, &input).await.unwrap();
        let again = finish(&pipeline, &input).await.unwrap();

        assert!(result.lock_released);
        assert!(!again.lock_released, "the second run finds the lock gone");
        assert_eq!(again.status, DeploymentStatus::Rejected);
        let store = &fakes.store;
        assert!(store.lock(Env::Dev, "vpc").await.unwrap().is_none());
        let record = store
            .deployment(Env::Dev, "vpc", &first.deployment_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.status, DeploymentStatus::Rejected);
        assert!(record.finished_at.is_some());
        // The stack is free again.
        begin(&pipeline, &request("dev-vpc-20270115T081000-cccc"))
            .await
            .expect("a new deployment takes the released lock");
    }
}
