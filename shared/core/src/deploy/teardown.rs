//! Teardown approvals: an environment that needs one (prd) is torn down only on an approval of
//! exactly the stacks to delete, by the environment's number of distinct approvers, used once.

use time::OffsetDateTime;

use crate::clock::rfc3339;
use crate::environment::EnvironmentConfig;
use crate::naming::{new_execution_name, Env};
use crate::records::{ApprovalKind, ApprovalRecord, ApprovalStatus};

/// The stack part of a teardown's id: `{env}-teardown-{timestamp}-{id}`.
pub const TEARDOWN: &str = "teardown";

/// Whether tearing down `env` needs a recorded approval.
pub fn needs_approval(env: Env) -> bool {
    env == Env::Prd
}

/// A pending approval to delete `stack_names` (in deletion order) from `env`.
pub fn teardown_approval(
    config: &EnvironmentConfig,
    stack_names: &[String],
    requested_by: &str,
    created: OffsetDateTime,
) -> ApprovalRecord {
    let env = config.environment;
    let teardown_id = new_execution_name(env, &TEARDOWN.parse().expect("a valid stack key"));
    let id = uuid::Uuid::new_v4().simple().to_string();
    let expires = created + time::Duration::minutes(i64::from(config.approval_timeout_minutes));
    ApprovalRecord {
        notes: Vec::new(),
        approval_id: format!("{}-{}", &id[..8], &id[8..20]),
        kind: ApprovalKind::Teardown,
        deployment_id: teardown_id,
        env,
        stack: TEARDOWN.to_string(),
        stack_name: format!("infra-agent-{env} ({} stacks)", stack_names.len()),
        change_set_name: String::new(),
        requested_by: requested_by.to_string(),
        summary_lines: stack_names
            .iter()
            .map(|name| format!("DELETE {name}"))
            .collect(),
        replacements: Vec::new(),
        deletions: stack_names.to_vec(),
        validation_passed: true,
        validation_report: None,
        cost_report: None,
        cost_line: None,
        exceeds_budget: false,
        required_approvers: config.approvers_required,
        approved_by: Vec::new(),
        task_token: None,
        status: ApprovalStatus::Pending,
        created_at: rfc3339(created),
        expires_at: rfc3339(expires),
        expires_epoch: expires.unix_timestamp(),
        approver: None,
        decided_at: None,
        comment: None,
        consumed_at: None,
    }
}

/// Why an approval does not allow this teardown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeardownRefused {
    #[error("approval {id} is not a teardown approval (it approves deployment {deployment})")]
    NotATeardown { id: String, deployment: String },
    #[error("approval {id} is for {approved}, not {env}")]
    OtherEnvironment { id: String, approved: Env, env: Env },
    #[error("approval {id} is {status}: {detail}")]
    NotApproved {
        id: String,
        status: &'static str,
        detail: String,
    },
    #[error("approval {id} was already used at {at}")]
    Used { id: String, at: String },
    #[error("approval {id} does not cover {}: request a new one", .stacks.join(", "))]
    NotCovered { id: String, stacks: Vec<String> },
}

/// Checks that `approval` lets `stack_names` be deleted from `env` now.
pub fn check_teardown(
    approval: &ApprovalRecord,
    env: Env,
    stack_names: &[String],
) -> Result<(), TeardownRefused> {
    let id = approval.approval_id.clone();
    if approval.kind != ApprovalKind::Teardown {
        return Err(TeardownRefused::NotATeardown {
            id,
            deployment: approval.deployment_id.clone(),
        });
    }
    if approval.env != env {
        return Err(TeardownRefused::OtherEnvironment {
            id,
            approved: approval.env,
            env,
        });
    }
    if let Some(at) = &approval.consumed_at {
        return Err(TeardownRefused::Used { id, at: at.clone() });
    }
    if approval.status != ApprovalStatus::Approved {
        let detail = match approval.status {
            ApprovalStatus::Pending => format!(
                "{} of {} distinct approvers so far (`infra-agent approve {id}`)",
                approval.approved_by.len(),
                approval.required_approvers
            ),
            _ => approval
                .approver
                .as_deref()
                .map_or_else(String::new, |who| format!("decided by {who}")),
        };
        return Err(TeardownRefused::NotApproved {
            id,
            status: approval.status.as_str(),
            detail,
        });
    }
    let uncovered: Vec<String> = stack_names
        .iter()
        .filter(|name| !approval.deletions.contains(name))
        .cloned()
        .collect();
    if !uncovered.is_empty() {
        return Err(TeardownRefused::NotCovered {
            id,
            stacks: uncovered,
        });
    }
    Ok(())
}

/// The notification approvers receive: what would be deleted and how to approve.
pub fn notification(approval: &ApprovalRecord) -> (String, String) {
    let subject = format!(
        "[infra-agent] Approve teardown of {} ({} stacks)",
        approval.env,
        approval.deletions.len()
    );
    let mut body = format!(
        "Teardown approval needed: {env}\n\nRequested by: {}\nTeardown: {}\nApprovers needed: {} distinct\n\nStacks to delete, in this order:\n",
        approval.requested_by,
        approval.deployment_id,
        approval.required_approvers,
        env = approval.env,
    );
    for name in &approval.deletions {
        body.push_str(&format!("  {name}\n"));
    }
    body.push_str(&format!(
        "\nApprove under your own identity (until {}):\n  infra-agent approve {}\nReject:\n  infra-agent reject {}\n",
        approval.expires_at, approval.approval_id, approval.approval_id
    ));
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn prd_request() -> ApprovalRecord {
        let config = EnvironmentConfig::builtin(Env::Prd).unwrap();
        teardown_approval(
            &config,
            &names(&["infra-agent-prd-addons", "infra-agent-prd-vpc"]),
            "arn:aws:iam::1:user/ada",
            OffsetDateTime::now_utc(),
        )
    }

    fn approved(mut record: ApprovalRecord) -> ApprovalRecord {
        record.status = ApprovalStatus::Approved;
        record.approved_by = names(&["ada", "bob"]);
        record
    }

    #[test]
    fn only_prd_needs_a_teardown_approval() {
        assert!(needs_approval(Env::Prd));
        assert!(!needs_approval(Env::Dev));
        assert!(!needs_approval(Env::Tst));
    }

    #[test]
    fn teardown_approval_lists_the_stacks_and_needs_the_environments_approvers() {
        let record = prd_request();
        assert_eq!(record.kind, ApprovalKind::Teardown);
        assert!(record.task_token.is_none());
        assert_eq!(record.required_approvers, 2);
        assert_eq!(record.summary_lines[0], "DELETE infra-agent-prd-addons");
        assert!(record.deployment_id.starts_with("prd-teardown-"));
        let (subject, body) = notification(&record);
        assert!(subject.contains("teardown of prd"), "{subject}");
        assert!(body.contains(&format!("infra-agent approve {}", record.approval_id)));
    }

    #[test]
    fn pending_approval_is_refused_with_the_count_so_far() {
        let mut record = prd_request();
        record.approved_by = names(&["ada"]);
        let err = check_teardown(&record, Env::Prd, &record.deletions.clone()).unwrap_err();
        assert!(err.to_string().contains("1 of 2"), "{err}");
    }

    #[test]
    fn approved_teardown_allows_exactly_its_stacks_once() {
        let record = approved(prd_request());
        let all = record.deletions.clone();
        assert_eq!(check_teardown(&record, Env::Prd, &all), Ok(()));
        assert_eq!(check_teardown(&record, Env::Prd, &all[..1]), Ok(()));
        let more = [all.clone(), names(&["infra-agent-prd-cluster"])].concat();
        assert!(matches!(
            check_teardown(&record, Env::Prd, &more),
            Err(TeardownRefused::NotCovered { .. })
        ));
        let mut used = record.clone();
        used.consumed_at = Some("2026-11-27T12:00:00Z".into());
        assert!(matches!(
            check_teardown(&used, Env::Prd, &all),
            Err(TeardownRefused::Used { .. })
        ));
        assert!(matches!(
            check_teardown(&record, Env::Tst, &all),
            Err(TeardownRefused::OtherEnvironment { .. })
        ));
    }

    #[test]
    fn deployment_approval_is_not_a_teardown_approval() {
        let mut record = approved(prd_request());
        record.kind = ApprovalKind::Deployment;
        assert!(matches!(
            check_teardown(&record, Env::Prd, &[]),
            Err(TeardownRefused::NotATeardown { .. })
        ));
    }
}
