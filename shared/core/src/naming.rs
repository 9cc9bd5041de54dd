//! Names of environments, stacks, change sets and executions, checked before any AWS call.
//! Every AWS-side name the pipeline creates is derived here and nowhere else.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// CloudFormation stack names are limited to 128 characters, change-set names likewise.
const CFN_NAME_MAX: usize = 128;
/// Step Functions execution names are limited to 80 characters.
const EXECUTION_NAME_MAX: usize = 80;
/// Short enough that every derived name stays inside the AWS limits above.
const STACK_KEY_MAX: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("unknown environment '{0}': expected one of dev, tst, prd")]
    UnknownEnvironment(String),
    #[error("invalid {what} '{value}': {reason}")]
    Invalid {
        what: &'static str,
        value: String,
        reason: String,
    },
}

/// A deployment environment. Promotion runs dev → tst → prd.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Env {
    Dev,
    Tst,
    Prd,
}

impl Env {
    pub const ALL: [Env; 3] = [Env::Dev, Env::Tst, Env::Prd];

    pub fn as_str(self) -> &'static str {
        match self {
            Env::Dev => "dev",
            Env::Tst => "tst",
            Env::Prd => "prd",
        }
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Env {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dev" => Ok(Env::Dev),
            "tst" => Ok(Env::Tst),
            "prd" => Ok(Env::Prd),
            other => Err(NameError::UnknownEnvironment(other.to_string())),
        }
    }
}

/// The catalog key of a stack (`vpc`, `iam-roles`), not the CloudFormation stack name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StackKey(String);

impl StackKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StackKey {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        check_name("stack name", &value, STACK_KEY_MAX)?;
        Ok(StackKey(value))
    }
}

impl FromStr for StackKey {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StackKey::try_from(s.to_string())
    }
}

impl From<StackKey> for String {
    fn from(key: StackKey) -> Self {
        key.0
    }
}

impl fmt::Display for StackKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks the CloudFormation name rule `[a-zA-Z][-a-zA-Z0-9]*` and a length limit.
pub fn check_name(what: &'static str, value: &str, max: usize) -> Result<(), NameError> {
    let invalid = |reason: String| NameError::Invalid {
        what,
        value: value.to_string(),
        reason,
    };
    let mut chars = value.chars();
    match chars.next() {
        None => return Err(invalid("must not be empty".into())),
        Some(c) if !c.is_ascii_alphabetic() => {
            return Err(invalid("must start with a letter".into()))
        }
        Some(_) => {}
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
        return Err(invalid(format!(
            "character '{bad}' is not allowed (letters, digits and '-' only)"
        )));
    }
    if value.len() > max {
        return Err(invalid(format!(
            "{} characters, at most {max} allowed",
            value.len()
        )));
    }
    Ok(())
}

/// `infra-agent-{env}-{stack}`
pub fn stack_name(env: Env, stack: &StackKey) -> String {
    let name = format!("infra-agent-{env}-{stack}");
    debug_assert!(name.len() <= CFN_NAME_MAX);
    name
}

/// `infra-agent-{env}-{stack}-{yyyymmdd}-{nnn}`
pub fn change_set_name(env: Env, stack: &StackKey, day: time::Date, sequence: u32) -> String {
    format!(
        "{}-{}-{:03}",
        stack_name(env, stack),
        compact_date(day),
        sequence
    )
}

/// `{env}-{stack}-{yyyymmddThhmmss}-{short id}`; `short_id` is lower-case hex.
pub fn execution_name(env: Env, stack: &StackKey, at: OffsetDateTime, short_id: &str) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let name = format!(
        "{env}-{stack}-{}T{:02}{:02}{:02}-{short_id}",
        compact_date(at.date()),
        at.hour(),
        at.minute(),
        at.second()
    );
    debug_assert!(name.len() <= EXECUTION_NAME_MAX);
    name
}

/// A fresh execution name for a deployment started now.
pub fn new_execution_name(env: Env, stack: &StackKey) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    execution_name(env, stack, OffsetDateTime::now_utc(), &id[..8])
}

/// The environment and stack a deployment id (`{env}-{stack}-{yyyymmddThhmmss}-{short id}`) names.
pub fn parse_deployment_id(id: &str) -> Result<(Env, StackKey), NameError> {
    let invalid = |reason: &str| NameError::Invalid {
        what: "deployment id",
        value: id.to_string(),
        reason: reason.to_string(),
    };
    let (env, rest) = id
        .split_once('-')
        .ok_or_else(|| invalid("expected {env}-{stack}-{timestamp}-{id}"))?;
    let mut parts: Vec<&str> = rest.rsplitn(3, '-').collect();
    if parts.len() != 3 {
        return Err(invalid("expected {env}-{stack}-{timestamp}-{id}"));
    }
    let stack = parts.pop().unwrap_or_default();
    let timestamp = parts.pop().unwrap_or_default();
    if timestamp.len() != 15 || timestamp.as_bytes().get(8) != Some(&b'T') {
        return Err(invalid("timestamp part must look like 20260101T120000"));
    }
    Ok((env.parse()?, stack.parse()?))
}

fn compact_date(day: time::Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn key(s: &str) -> StackKey {
        s.parse().unwrap()
    }

    #[test]
    fn derived_names_follow_the_documented_patterns() {
        let vpc = key("vpc");
        assert_eq!(stack_name(Env::Dev, &vpc), "infra-agent-dev-vpc");
        assert_eq!(
            change_set_name(Env::Prd, &vpc, datetime!(2026-03-07 10:00 UTC).date(), 7),
            "infra-agent-prd-vpc-20260307-007"
        );
        assert_eq!(
            execution_name(
                Env::Tst,
                &vpc,
                datetime!(2026-03-07 09:05:03 UTC),
                "ab12cd34"
            ),
            "tst-vpc-20260307T090503-ab12cd34"
        );
    }

    #[test]
    fn stack_keys_reject_what_cloudformation_rejects() {
        assert!("iam-roles".parse::<StackKey>().is_ok());
        for bad in ["", "1vpc", "vpc_x", "vpc.x", "-vpc", &"a".repeat(41)] {
            assert!(bad.parse::<StackKey>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn deployment_ids_give_back_environment_and_stack() {
        let id = execution_name(
            Env::Dev,
            &key("iam-roles"),
            datetime!(2026-03-07 09:05:03 UTC),
            "ab12cd34",
        );
        assert_eq!(
            parse_deployment_id(&id).unwrap(),
            (Env::Dev, key("iam-roles"))
        );
        assert!(parse_deployment_id("dev-vpc").is_err());
        assert!(parse_deployment_id("qa-vpc-20260307T090503-ab12cd34").is_err());
    }

    #[test]
    fn unknown_environment_is_named_in_the_error() {
        let err = "qa".parse::<Env>().unwrap_err();
        assert!(err.to_string().contains("'qa'"));
    }

    #[test]
    fn longest_names_fit_aws_limits() {
        let long = key(&"s".repeat(STACK_KEY_MAX));
        let at = datetime!(2026-12-31 23:59:59 UTC);
        assert!(execution_name(Env::Prd, &long, at, "ffffffff").len() <= EXECUTION_NAME_MAX);
        assert!(change_set_name(Env::Prd, &long, at.date(), 999).len() <= CFN_NAME_MAX);
    }
}
