//! Rollback: which recorded deployment a stack goes back to, the request that takes it there (the
//! recorded template and parameters, through the same validation and approval as any change), and
//! what its approvers are told.

use crate::contract::deploy::{DeployRequest, DeploymentKind, TemplateRef};
use crate::contract::record::DeploymentStatus;
use crate::contract::CONTRACT_VERSION;
use crate::records::DeploymentRecord;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RollbackError {
    #[error(
        "{stack} in {env} has no successful deployment recorded: there is nothing to roll back"
    )]
    NothingDeployed { stack: String, env: String },
    #[error("{stack} in {env} has one successful deployment ({current}): there is no earlier version to return to")]
    NoEarlierVersion {
        stack: String,
        env: String,
        current: String,
    },
    #[error("deployment {0} is not among the stack's recorded deployments")]
    UnknownTarget(String),
    #[error("deployment {id} ended {status}: only a successful deployment can be returned to")]
    TargetNotSucceeded { id: String, status: String },
    #[error("deployment {0} is what is deployed now: there is nothing to roll back to")]
    TargetIsCurrent(String),
}

/// What is deployed now and the deployment to return to: `to`, or else the successful deployment
/// before the current one. `history` is the stack's records, newest first.
pub fn rollback_target<'a>(
    history: &'a [DeploymentRecord],
    to: Option<&str>,
) -> Result<(&'a DeploymentRecord, &'a DeploymentRecord), RollbackError> {
    let mut succeeded = history
        .iter()
        .filter(|r| r.status == DeploymentStatus::Succeeded);
    let (stack, env) = history
        .first()
        .map(|r| (r.stack.to_string(), r.env.to_string()))
        .unwrap_or_default();
    let current = succeeded
        .next()
        .ok_or_else(|| RollbackError::NothingDeployed {
            stack: stack.clone(),
            env: env.clone(),
        })?;
    let target = match to {
        Some(id) => {
            let target = history
                .iter()
                .find(|r| r.deployment_id == id)
                .ok_or_else(|| RollbackError::UnknownTarget(id.to_string()))?;
            if target.status != DeploymentStatus::Succeeded {
                return Err(RollbackError::TargetNotSucceeded {
                    id: id.to_string(),
                    status: target.status.as_str().to_string(),
                });
            }
            if target.deployment_id == current.deployment_id {
                return Err(RollbackError::TargetIsCurrent(id.to_string()));
            }
            target
        }
        None => succeeded.next().ok_or(RollbackError::NoEarlierVersion {
            stack,
            env,
            current: current.deployment_id.clone(),
        })?,
    };
    Ok((current, target))
}

/// The deployment that returns the stack to `target`: its template and parameters, its
/// infrastructure version, kind `rollback`.
pub fn rollback_request(
    target: &DeploymentRecord,
    deployment_id: String,
    requested_by: String,
    approval_timeout_seconds: Option<u32>,
) -> DeployRequest {
    DeployRequest {
        promoted_from: None,
        version: CONTRACT_VERSION,
        deployment_id,
        stack: target.stack.clone(),
        env: target.env,
        template: TemplateRef {
            bucket: target.template_bucket.clone(),
            key: target.template_key.clone(),
            sha256: target.template_sha256.clone(),
        },
        requested_by,
        iac_version: target.iac_version.clone(),
        parameters: target.parameters.clone(),
        approval_timeout_seconds,
        kind: DeploymentKind::Rollback,
        returns_to: Some(target.deployment_id.clone()),
    }
}

/// One line naming a version: IaC_Version, template hash, when, approved by whom.
pub fn version_line(record: &DeploymentRecord) -> String {
    format!(
        "{} (IaC_Version {}, template {}, deployed {}, approved by {})",
        record.deployment_id,
        record.iac_version,
        record.template_sha256.chars().take(12).collect::<String>(),
        record.finished_at.as_deref().unwrap_or(&record.started_at),
        record.approver.as_deref().unwrap_or("nobody recorded")
    )
}

/// What the approvers of a rollback are told first.
pub fn rollback_lines(target: &DeploymentRecord) -> Vec<String> {
    vec![
        format!("ROLLBACK to deployment {}", version_line(target)),
        "The changes listed revert the stack to that version's template and parameters.".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::Env;

    fn record(id: &str, status: DeploymentStatus) -> DeploymentRecord {
        let json = serde_json::json!({
            "deployment_id": id, "env": "dev", "stack": "vpc", "stack_name": "infra-agent-dev-vpc",
            "status": status, "requested_by": "alice", "iac_version": id,
            "template_bucket": "b", "template_key": format!("templates/vpc/{id}.yaml"),
            "template_sha256": format!("{id:0>64}"), "started_at": "2026-12-01T00:00:00Z",
            "updated_at": "2026-12-01T00:00:00Z"
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_default_target_is_the_successful_deployment_before_the_current_one() {
        let history = vec![
            record("v4", DeploymentStatus::Failed),
            record("v3", DeploymentStatus::Succeeded),
            record("v2", DeploymentStatus::Rejected),
            record("v1", DeploymentStatus::Succeeded),
        ];
        let (current, target) = rollback_target(&history, None).unwrap();
        assert_eq!(
            (
                current.deployment_id.as_str(),
                target.deployment_id.as_str()
            ),
            ("v3", "v1")
        );
        let request = rollback_request(target, "dev-vpc-x".into(), "bob".into(), None);
        assert_eq!(request.kind, DeploymentKind::Rollback);
        assert_eq!(request.returns_to.as_deref(), Some("v1"));
        assert_eq!(request.template.key, "templates/vpc/v1.yaml");
        assert_eq!(request.iac_version, "v1");
        assert_eq!(request.env, Env::Dev);
    }

    #[test]
    fn a_rollback_needs_an_earlier_successful_version_that_is_not_the_current_one() {
        let one = vec![record("v1", DeploymentStatus::Succeeded)];
        assert!(matches!(
            rollback_target(&one, None),
            Err(RollbackError::NoEarlierVersion { .. })
        ));
        assert_eq!(
            rollback_target(&one, Some("v1")).unwrap_err(),
            RollbackError::TargetIsCurrent("v1".into())
        );
        let history = vec![
            record("v2", DeploymentStatus::Succeeded),
            record("v1", DeploymentStatus::Failed),
        ];
        assert!(matches!(
            rollback_target(&history, Some("v1")),
            Err(RollbackError::TargetNotSucceeded { .. })
        ));
        assert_eq!(
            rollback_target(&history, Some("v0")).unwrap_err(),
            RollbackError::UnknownTarget("v0".into())
        );
        assert!(matches!(
            rollback_target(&[], None),
            Err(RollbackError::NothingDeployed { .. })
        ));
    }
}
