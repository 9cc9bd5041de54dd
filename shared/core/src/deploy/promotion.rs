//! The pre-promotion checks: the version promoted is the source environment's deployed and
//! verified template, in sync, going one step along dev → tst → prd, into a stack nobody is
//! deploying. Every check is judged and reported, so a refusal gives every reason at once.

use crate::contract::promote::PromotionCheck;
use crate::contract::record::DeploymentStatus;
use crate::drift::StackDriftStatus;
use crate::naming::Env;
use crate::records::{DeploymentRecord, DriftHead, StackLock};
use crate::stack::StackStatus;

/// Everything the checks judge, read by the promote step.
pub struct PromotionFacts<'a> {
    pub from: Env,
    pub to: Env,
    /// The source stack as CloudFormation has it.
    pub source_status: Option<StackStatus>,
    /// The source stack's latest deployment record, whatever its outcome.
    pub source_latest: Option<&'a DeploymentRecord>,
    /// The source stack's latest drift check.
    pub drift: Option<&'a DriftHead>,
    /// How old a drift check may be (the source environment's scan interval).
    pub drift_max_age_seconds: i64,
    pub now_epoch: i64,
    /// The source template validated for the target: `Ok(())` or the errors.
    pub validation: Result<(), String>,
    /// tst's deployment records of the stack, when promoting to prd.
    pub tst_history: &'a [DeploymentRecord],
    pub target_lock: Option<&'a StackLock>,
}

pub const DRIFT_CHECK: &str = "no drift in the source";

/// The one step a promotion may take.
pub fn next_environment(from: Env) -> Option<Env> {
    match from {
        Env::Dev => Some(Env::Tst),
        Env::Tst => Some(Env::Prd),
        Env::Prd => None,
    }
}

fn check(name: &str, passed: bool, detail: String) -> PromotionCheck {
    PromotionCheck {
        name: name.to_string(),
        passed,
        detail,
    }
}

/// Judges every check. The second value says the drift check failed only because no fresh scan
/// exists (a scan now can settle it).
pub fn promotion_checks(facts: &PromotionFacts<'_>) -> (Vec<PromotionCheck>, bool) {
    let mut checks = Vec::new();
    let (from, to) = (facts.from, facts.to);
    checks.push(match next_environment(from) {
        Some(next) if next == to => check("promotion order", true, format!("{from} → {to}")),
        Some(next) => check(
            "promotion order",
            false,
            format!("{from} promotes to {next} only (dev → tst → prd), not to {to}"),
        ),
        None => check(
            "promotion order",
            false,
            format!("{from} is the last environment"),
        ),
    });
    checks.push(match &facts.source_status {
        Some(s @ (StackStatus::CreateComplete | StackStatus::UpdateComplete)) => {
            check("source stack complete", true, format!("{s}"))
        }
        Some(s) => check(
            "source stack complete",
            false,
            format!("the source stack is {s}"),
        ),
        None => check(
            "source stack complete",
            false,
            "the source stack does not exist".into(),
        ),
    });
    let latest = facts.source_latest;
    checks.push(match latest {
        Some(r) if r.status == DeploymentStatus::Succeeded => check(
            "source's last deployment succeeded",
            true,
            format!("{} SUCCEEDED", r.deployment_id),
        ),
        Some(r) => check(
            "source's last deployment succeeded",
            false,
            format!("{} ended {}", r.deployment_id, r.status.as_str()),
        ),
        None => check(
            "source's last deployment succeeded",
            false,
            format!("nothing is recorded as deployed in {from}"),
        ),
    });
    checks.push(match latest.and_then(|r| r.verification.as_ref()) {
        Some(v) if v.ok() => check("post-deploy checks passed", true, v.headline()),
        Some(v) => check("post-deploy checks passed", false, v.headline()),
        None => check(
            "post-deploy checks passed",
            false,
            "no post-deploy checks are recorded for the source's last deployment".into(),
        ),
    });
    let mut needs_scan = false;
    checks.push(match facts.drift {
        Some(d) => {
            let age = facts.now_epoch - epoch_of(&d.checked_at).unwrap_or(0);
            let fresh = age <= facts.drift_max_age_seconds;
            match d.status {
                StackDriftStatus::InSync if fresh => check(
                    DRIFT_CHECK,
                    true,
                    format!("in sync at {} (scan {})", d.checked_at, d.scan_id),
                ),
                StackDriftStatus::Drifted => check(
                    DRIFT_CHECK,
                    false,
                    format!(
                        "drifted at {}: {} (revert with `infra-agent drift remediate`)",
                        d.checked_at,
                        d.drifted_resources.join(", ")
                    ),
                ),
                _ => {
                    needs_scan = true;
                    check(
                        DRIFT_CHECK,
                        false,
                        format!(
                            "the last check ({} at {}) is not a fresh in-sync scan",
                            d.status.as_str(),
                            d.checked_at
                        ),
                    )
                }
            }
        }
        None => {
            needs_scan = true;
            check(
                DRIFT_CHECK,
                false,
                format!("the source was never scanned for drift in {from}"),
            )
        }
    });
    let sha = latest.map(|r| r.template_sha256.as_str()).unwrap_or("");
    checks.push(match &facts.validation {
        Ok(()) => check(
            &format!("template validates for {to}"),
            true,
            format!("template {} with {to}'s parameters", short(sha)),
        ),
        Err(errors) => check(
            &format!("template validates for {to}"),
            false,
            errors.clone(),
        ),
    });
    if to == Env::Prd {
        let verified = facts.tst_history.iter().any(|r| {
            r.template_sha256 == sha
                && r.status == DeploymentStatus::Succeeded
                && r.verification.as_ref().is_some_and(|v| v.ok())
        });
        checks.push(check(
            "template deployed and verified in tst",
            verified,
            if verified {
                format!("template {} passed its checks in tst", short(sha))
            } else {
                format!(
                    "template {} has no successful, verified deployment in tst",
                    short(sha)
                )
            },
        ));
    }
    checks.push(match facts.target_lock {
        Some(lock) if lock.expires_epoch > facts.now_epoch => check(
            "target not locked",
            false,
            format!(
                "{to} is locked by deployment {} since {}",
                lock.holder, lock.acquired_at
            ),
        ),
        _ => check(
            "target not locked",
            true,
            format!("no deployment holds {to}"),
        ),
    });
    // A scan only helps when the drift check is the one thing that failed for want of one.
    let only_drift = checks
        .iter()
        .filter(|c| !c.passed)
        .all(|c| c.name == DRIFT_CHECK);
    (checks, needs_scan && only_drift)
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn epoch_of(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::checks::{CheckOutcome, CheckResult, Verification};

    fn record(status: DeploymentStatus, verified: bool) -> DeploymentRecord {
        let mut r: DeploymentRecord = serde_json::from_value(serde_json::json!({
            "deployment_id": "dev-vpc-20261205T010000-aaaa0001", "env": "dev", "stack": "vpc",
            "stack_name": "infra-agent-dev-vpc", "status": status, "requested_by": "alice",
            "iac_version": "1.0.0", "template_bucket": "b", "template_key": "k",
            "template_sha256": "abcdef0123456789", "started_at": "2026-12-05T01:00:00Z",
            "updated_at": "2026-12-05T01:00:00Z"
        }))
        .unwrap();
        r.verification = Some(Verification {
            results: vec![CheckResult {
                name: "stack is complete".into(),
                outcome: if verified {
                    CheckOutcome::Passed
                } else {
                    CheckOutcome::Failed
                },
                detail: String::new(),
            }],
        });
        r
    }

    fn head(status: StackDriftStatus, at: &str) -> DriftHead {
        DriftHead {
            env: Env::Dev,
            stack: "vpc".parse().unwrap(),
            scan_id: "scan-1".into(),
            checked_at: at.into(),
            status,
            drifted_resources: vec!["Subnet1".into()],
        }
    }

    const NOW: i64 = 1_796_432_400; // 2026-12-05T02:20:00Z

    fn facts<'a>(latest: &'a DeploymentRecord, drift: Option<&'a DriftHead>) -> PromotionFacts<'a> {
        PromotionFacts {
            from: Env::Dev,
            to: Env::Tst,
            source_status: Some(StackStatus::CreateComplete),
            source_latest: Some(latest),
            drift,
            drift_max_age_seconds: 24 * 3600,
            now_epoch: NOW,
            validation: Ok(()),
            tst_history: &[],
            target_lock: None,
        }
    }

    fn failed(checks: &[PromotionCheck]) -> Vec<&str> {
        checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect()
    }

    #[test]
    fn a_verified_version_in_sync_promotes_one_step() {
        let latest = record(DeploymentStatus::Succeeded, true);
        let drift = head(StackDriftStatus::InSync, "2026-12-05T02:00:00Z");
        let (checks, needs_scan) = promotion_checks(&facts(&latest, Some(&drift)));
        assert_eq!(failed(&checks), Vec::<&str>::new(), "{checks:?}");
        assert!(!needs_scan);
        assert_eq!(checks.len(), 7);
    }

    #[test]
    fn every_reason_is_given_at_once() {
        let latest = record(DeploymentStatus::VerifyFailed, false);
        let drift = head(StackDriftStatus::Drifted, "2026-12-05T02:00:00Z");
        let lock = StackLock {
            env: Env::Prd,
            stack: "vpc".into(),
            holder: "prd-vpc-x".into(),
            acquired_at: "2026-12-05T02:10:00Z".into(),
            expires_at: "later".into(),
            expires_epoch: NOW + 60,
        };
        let f = PromotionFacts {
            to: Env::Prd,
            target_lock: Some(&lock),
            validation: Err("[CM-8] Logs: missing mandatory tag Owner".into()),
            ..facts(&latest, Some(&drift))
        };
        let (checks, needs_scan) = promotion_checks(&f);
        assert_eq!(
            failed(&checks),
            vec![
                "promotion order",
                "source's last deployment succeeded",
                "post-deploy checks passed",
                DRIFT_CHECK,
                "template validates for prd",
                "template deployed and verified in tst",
                "target not locked",
            ]
        );
        assert!(!needs_scan, "a scan cannot fix any of that");
        assert!(checks[0].detail.contains("dev promotes to tst only"));
    }

    #[test]
    fn a_stale_or_missing_scan_asks_for_one_when_nothing_else_failed() {
        let latest = record(DeploymentStatus::Succeeded, true);
        let stale = head(StackDriftStatus::InSync, "2026-12-01T00:00:00Z");
        let (checks, needs_scan) = promotion_checks(&facts(&latest, Some(&stale)));
        assert_eq!(failed(&checks), vec![DRIFT_CHECK]);
        assert!(needs_scan);
        let (_, needs_scan) = promotion_checks(&facts(&latest, None));
        assert!(needs_scan);
    }

    #[test]
    fn prd_takes_only_a_template_verified_in_tst() {
        let mut latest = record(DeploymentStatus::Succeeded, true);
        latest.env = Env::Tst;
        let drift = head(StackDriftStatus::InSync, "2026-12-05T02:00:00Z");
        let tst_history = [latest.clone()];
        let f = PromotionFacts {
            from: Env::Tst,
            to: Env::Prd,
            tst_history: &tst_history,
            ..facts(&latest, Some(&drift))
        };
        let (checks, _) = promotion_checks(&f);
        assert_eq!(failed(&checks), Vec::<&str>::new(), "{checks:?}");
        let f = PromotionFacts {
            tst_history: &[],
            ..f
        };
        assert_eq!(
            failed(&promotion_checks(&f).0),
            vec!["template deployed and verified in tst"]
        );
    }
}
