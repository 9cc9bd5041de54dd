//! Per-environment settings (`infra/environments/<env>.toml`), compiled into every function so a
//! deployment uses the settings of the pipeline version that runs it.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::approval::approvers::ArnPattern;
use crate::naming::Env;

const DEV: &str = include_str!("../../../infra/environments/dev.toml");
const TST: &str = include_str!("../../../infra/environments/tst.toml");
const PRD: &str = include_str!("../../../infra/environments/prd.toml");

/// Allowed values of the SecurityLevel tag.
pub const SECURITY_LEVELS: [&str; 4] = ["public", "internal", "confidential", "restricted"];

#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    #[error("environment file {file}: {message}")]
    Invalid { file: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    pub environment: Env,
    pub region: String,
    pub owner: String,
    pub security_level: String,
    pub approval_timeout_minutes: u32,
    pub lock_ttl_minutes: u32,
    /// How long a change set may execute before the deployment gives up waiting on it.
    pub stack_timeout_minutes: u32,
    pub poll_interval_seconds: u32,
    /// Hours between scheduled drift scans of the environment (its `AWS::Scheduler::Schedule`).
    pub drift_scan_interval_hours: u32,
    /// Who may decide this environment's approvals through the decision endpoint: IAM ARN
    /// patterns (`approval::approvers` has the matching rule).
    pub approvers: Vec<ArnPattern>,
    pub approvers_required: u32,
    pub approvers_required_over_budget: u32,
    pub monthly_budget_usd: u32,
    pub parameters: BTreeMap<String, String>,
    /// Approvals posted to Slack, where the environment has a `[slack]` table; without one,
    /// approvers are told by e-mail (SNS) only.
    #[serde(default)]
    pub slack: Option<SlackSettings>,
}

/// An environment's Slack approvals (`[slack]` in its env file).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSettings {
    /// The channel approval messages go to (`#name` or a channel id), when the pipeline posts
    /// with a bot token; an incoming webhook posts to its own channel.
    pub channel: String,
    /// Slack user ids (`U…`/`W…`) whose Approve and Reject buttons count in this environment.
    pub approvers: Vec<String>,
}

impl EnvironmentConfig {
    /// The settings built into this binary for `env`.
    pub fn builtin(env: Env) -> Result<Self, EnvironmentError> {
        let text = match env {
            Env::Dev => DEV,
            Env::Tst => TST,
            Env::Prd => PRD,
        };
        Self::parse(&format!("infra/environments/{env}.toml"), text, env)
    }

    /// Parses an environment file and checks it describes `expected`.
    pub fn parse(file: &str, text: &str, expected: Env) -> Result<Self, EnvironmentError> {
        let invalid = |message: String| EnvironmentError::Invalid {
            file: file.to_string(),
            message,
        };
        let config: EnvironmentConfig = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if config.environment != expected {
            return Err(invalid(format!(
                "declares environment '{}' but is the file of '{expected}'",
                config.environment
            )));
        }
        if !SECURITY_LEVELS.contains(&config.security_level.as_str()) {
            return Err(invalid(format!(
                "security_level '{}' is not one of {}",
                config.security_level,
                SECURITY_LEVELS.join(", ")
            )));
        }
        if config.owner.trim().is_empty() {
            return Err(invalid("owner must not be empty".into()));
        }
        if config.approvers.is_empty() {
            return Err(invalid(
                "approvers must list at least one IAM ARN pattern: nobody could approve".into(),
            ));
        }
        if let Some(slack) = &config.slack {
            let channel = slack.channel.trim();
            if channel.is_empty() || channel.contains(char::is_whitespace) {
                return Err(invalid(format!(
                    "slack.channel '{}' must be a channel name (#name) or id",
                    slack.channel
                )));
            }
            if let Some(bad) = slack
                .approvers
                .iter()
                .find(|id| !crate::approval::slack::is_user_id(id))
            {
                return Err(invalid(format!(
                    "slack.approvers: '{bad}' is not a Slack user id (U… or W…; Slack shows it under the profile's ⋮ › Copy member ID)"
                )));
            }
        }
        if config.approvers_required == 0 || config.approvers_required_over_budget == 0 {
            return Err(invalid(
                "approvers_required and approvers_required_over_budget must be at least 1".into(),
            ));
        }
        if config.drift_scan_interval_hours == 0 || config.drift_scan_interval_hours > 24 * 7 {
            return Err(invalid(
                "drift_scan_interval_hours must be between 1 and 168 (a week)".into(),
            ));
        }
        if config.approval_timeout_minutes == 0
            || config.lock_ttl_minutes == 0
            || config.stack_timeout_minutes == 0
        {
            return Err(invalid(
                "approval_timeout_minutes, lock_ttl_minutes and stack_timeout_minutes must be positive"
                    .into(),
            ));
        }
        Ok(config)
    }

    /// The schedule expression of the environment's drift scans.
    pub fn drift_scan_schedule(&self) -> String {
        match self.drift_scan_interval_hours {
            1 => "rate(1 hour)".to_string(),
            hours => format!("rate({hours} hours)"),
        }
    }

    /// How long a deployment can take, approval window and stack operation included, besides
    /// the few minutes of validation, change set and cost.
    pub fn longest_deployment_minutes(&self) -> u32 {
        self.approval_timeout_minutes + self.stack_timeout_minutes
    }

    /// How long a deployment holds its stack's lock: until it ends (its record step releases
    /// the lock), or — if it died without recording — once it could no longer be running, and
    /// never less than `lock_ttl_minutes`. A lock shorter than the approval window would let a
    /// second deployment in while the first still waits for its approver.
    pub fn lock_minutes(&self) -> u32 {
        self.lock_ttl_minutes
            .max(self.longest_deployment_minutes() + LOCK_MARGIN_MINUTES)
    }
}

/// The validation, change-set and cost steps, with their retries, finish well within this.
pub const LOCK_MARGIN_MINUTES: u32 = 30;

/// Every value an environment offers to a template: its `[parameters]` and the standard ones.
pub fn environment_parameters(
    config: &EnvironmentConfig,
    iac_version: &str,
) -> BTreeMap<String, String> {
    let mut values = config.parameters.clone();
    values.insert("Environment".into(), config.environment.to_string());
    values.insert("Owner".into(), config.owner.clone());
    values.insert("SecurityLevel".into(), config.security_level.clone());
    values.insert("IaCVersion".into(), iac_version.to_string());
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    /// prd's approval window (24 h) once outlasted its lock (3 h): a second deployment could
    /// take the stack while the first still waited for its approver.
    #[test]
    fn a_lock_outlives_every_deployment_it_guards() {
        for env in Env::ALL {
            let config = EnvironmentConfig::builtin(env).unwrap();
            assert!(
                config.lock_minutes()
                    >= config.approval_timeout_minutes
                        + config.stack_timeout_minutes
                        + LOCK_MARGIN_MINUTES,
                "{env}: lock {} min",
                config.lock_minutes()
            );
            assert!(config.lock_minutes() >= config.lock_ttl_minutes);
        }
    }

    #[test]
    fn every_builtin_environment_loads() {
        for env in Env::ALL {
            let config = EnvironmentConfig::builtin(env).unwrap();
            assert_eq!(config.environment, env);
        }
    }

    #[test]
    fn unknown_key_is_an_error_naming_the_file_and_key() {
        let text = DEV.replace("owner =", "ownr =");
        let err = EnvironmentConfig::parse("dev.toml", &text, Env::Dev).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("dev.toml") && msg.contains("ownr"), "{msg}");
    }

    #[test]
    fn file_of_another_environment_is_refused() {
        let err = EnvironmentConfig::parse("tst.toml", DEV, Env::Tst).unwrap_err();
        assert!(err.to_string().contains("declares environment 'dev'"));
    }

    #[test]
    fn approvers_are_required_and_each_must_be_an_arn_pattern() {
        let start = DEV.find("approvers = [").expect("dev lists approvers");
        let end = start + DEV[start..].find(']').expect("the list ends") + 1;
        let without = format!("{}{}", &DEV[..start], &DEV[end..]);
        let err = EnvironmentConfig::parse("dev.toml", &without, Env::Dev).unwrap_err();
        assert!(err.to_string().contains("approvers"), "{err}");

        let empty = format!("{}approvers = []{}", &DEV[..start], &DEV[end..]);
        let err = EnvironmentConfig::parse("dev.toml", &empty, Env::Dev).unwrap_err();
        assert!(err.to_string().contains("nobody could approve"), "{err}");

        let bad = format!("{}approvers = [\"*\"]{}", &DEV[..start], &DEV[end..]);
        let err = EnvironmentConfig::parse("dev.toml", &bad, Env::Dev).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("dev.toml") && msg.contains("approver pattern '*'"),
            "{msg}"
        );
    }

    #[test]
    fn slack_is_optional_and_its_approvers_must_be_user_ids() {
        let start = DEV.find("[slack]").expect("dev posts to Slack");
        let without = EnvironmentConfig::parse("dev.toml", &DEV[..start], Env::Dev).unwrap();
        assert_eq!(without.slack, None);
        let with = EnvironmentConfig::builtin(Env::Dev).unwrap();
        assert!(with.slack.is_some_and(|s| !s.approvers.is_empty()));

        let bad = format!(
            "{}[slack]\nchannel = \"#deploys\"\napprovers = [\"@alice\"]\n",
            &DEV[..start]
        );
        let err = EnvironmentConfig::parse("dev.toml", &bad, Env::Dev).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("dev.toml") && msg.contains("'@alice' is not a Slack user id"),
            "{msg}"
        );
    }

    /// prd's approvers are the MFA role's sessions, in any account the pipeline is deployed to;
    /// nobody else, and dev's approvers are not prd's.
    #[test]
    fn prd_is_decided_only_by_sessions_of_the_prd_approver_role() {
        use crate::approval::approvers::allowed_by;
        let prd = EnvironmentConfig::builtin(Env::Prd).unwrap();
        let dev = EnvironmentConfig::builtin(Env::Dev).unwrap();
        let prd_approver = "arn:aws:sts::123456789012:assumed-role/infra-agent-approver-prd/ada";
        let dev_approver = "arn:aws:sts::123456789012:assumed-role/infra-agent-approver/dana";
        let engineer = "arn:aws:iam::123456789012:user/engineer";
        assert!(allowed_by(&prd.approvers, prd_approver).is_some());
        assert!(allowed_by(&prd.approvers, dev_approver).is_none());
        assert!(allowed_by(&prd.approvers, engineer).is_none());
        assert!(allowed_by(&dev.approvers, dev_approver).is_some());
        assert!(allowed_by(&dev.approvers, prd_approver).is_some());
        assert!(allowed_by(&dev.approvers, engineer).is_none());
    }

    #[test]
    fn security_level_outside_the_allowed_set_is_refused() {
        let text = DEV.replace(
            "security_level = \"internal\"",
            "security_level = \"secret\"",
        );
        assert!(EnvironmentConfig::parse("dev.toml", &text, Env::Dev).is_err());
    }
}
