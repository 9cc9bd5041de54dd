//! Who must approve a change and how an approval is named: rules shared by the approval step,
//! the decision endpoint and the CLI.

use super::link::SigningKey;
use crate::environment::EnvironmentConfig;

/// Distinct approvers a change needs: more when its cost delta exceeds the environment's budget.
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
}
