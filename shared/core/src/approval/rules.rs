//! Who must approve a change and how an approval is named: rules shared by the approval step,
//! the decision endpoint and the CLI.

use super::link::SigningKey;
use crate::environment::EnvironmentConfig;

/// Distinct approvers a change needs: more when its cost delta exceeds the environment's budget.
/// Whether a signed link may approve in `env`. In prd only the IAM-authenticated decision
/// endpoint approves (its policy requires MFA); a link may still reject.
pub fn links_may_approve(env: crate::naming::Env) -> bool {
    env != crate::naming::Env::Prd
}

pub fn required_approvers(config: &EnvironmentConfig, exceeds_budget: bool) -> u32 {
    if exceeds_budget {
        config
            .approvers_required
            .max(config.approvers_required_over_budget)
    } else {
        config.approvers_required
    }
}

/// Stable across retries of one deployment, yet not guessable from its name: an HMAC of the
/// deployment id under the signing key.
pub fn approval_id_for(key: &SigningKey, deployment_id: &str) -> String {
    let digest = key.sign(&format!("approval-id:{deployment_id}"), 0);
    format!("{}-{}", &digest[..8], &digest[8..20])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::Env;

    #[test]
    fn prd_needs_two_approvers_and_budget_overruns_never_need_fewer() {
        let dev = EnvironmentConfig::builtin(Env::Dev).unwrap();
        let prd = EnvironmentConfig::builtin(Env::Prd).unwrap();
        assert_eq!(required_approvers(&dev, false), 1);
        assert_eq!(required_approvers(&prd, false), 2);
        assert_eq!(required_approvers(&prd, true), 2);
        let strict = EnvironmentConfig {
            approvers_required: 1,
            approvers_required_over_budget: 3,
            ..dev
        };
        assert_eq!(required_approvers(&strict, false), 1);
        assert_eq!(required_approvers(&strict, true), 3);
    }

    fn key(text: &str) -> SigningKey {
        SigningKey::from_text(text).expect("a key of at least 32 bytes")
    }

    const KEY: &str = "a signing key that is long enough for links";
    const DEPLOYMENT: &str = "dev-vpc-20270115T080000-abcd1234";

    #[test]
    fn a_retried_approval_step_gets_the_same_approval_id() {
        // Two keys built apart, as two invocations of the step build theirs.
        let first = approval_id_for(&key(KEY), DEPLOYMENT);
        let retried = approval_id_for(&key(KEY), DEPLOYMENT);
        assert_eq!(first, retried);
        // `xxxxxxxx-xxxxxxxxxxxx`: hex, as the link and the DynamoDB key expect.
        let (head, tail) = first.split_once('-').expect("two parts");
        assert_eq!((head.len(), tail.len()), (8, 12), "{first}");
        assert!(
            first.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
            "{first}"
        );
    }

    #[test]
    fn another_deployment_gets_another_approval_id() {
        let key = key(KEY);
        let first = approval_id_for(&key, DEPLOYMENT);
        assert_ne!(
            first,
            approval_id_for(&key, "dev-vpc-20270115T080000-abcd1235")
        );
        assert_ne!(
            first,
            approval_id_for(&key, "tst-vpc-20270115T080000-abcd1234")
        );
    }

    #[test]
    fn approval_id_cannot_be_derived_without_the_signing_key() {
        let other = key("another signing key, also long enough for links");
        assert_ne!(
            approval_id_for(&key(KEY), DEPLOYMENT),
            approval_id_for(&other, DEPLOYMENT)
        );
        assert!(!approval_id_for(&key(KEY), DEPLOYMENT).contains("vpc"));
    }
}
