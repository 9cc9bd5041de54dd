//! Where the pipeline's own resources are, read once per process from the environment.

use infra_agent_core::approval::link::SigningKey;
use infra_agent_core::contract::console::content_hash_of_key;
use infra_agent_core::contract::deploy::TemplateRef;
use infra_agent_core::StepError;

/// Names of the variables `PipelineSettings::from_lookup` reads.
pub const VAR_TABLE: &str = "INFRA_AGENT_TABLE";
pub const VAR_BUCKET: &str = "INFRA_AGENT_TEMPLATE_BUCKET";
pub const VAR_TOPIC: &str = "INFRA_AGENT_APPROVAL_TOPIC_ARN";
pub const VAR_APPROVAL_URL: &str = "INFRA_AGENT_APPROVAL_URL";
pub const VAR_APPROVAL_KEY: &str = "INFRA_AGENT_APPROVAL_KEY";
/// The Secrets Manager secret holding the approval signing key, read at a cold start when
/// `INFRA_AGENT_APPROVAL_KEY` itself is not set.
pub const VAR_APPROVAL_KEY_SECRET: &str = "INFRA_AGENT_APPROVAL_KEY_SECRET";
/// The CloudFormation service role of each environment, `{env}` standing for its name (e.g.
/// `arn:aws:iam::123456789012:role/infra-agent-cloudformation-{env}`), passed on every change set.
pub const VAR_CLOUDFORMATION_ROLE: &str = "INFRA_AGENT_CLOUDFORMATION_ROLE";
/// The installed catalog bundle, `s3://<artifact bucket>/catalog/<sha256>.json`: what executions
/// started from the console deploy.
pub const VAR_CATALOG: &str = "INFRA_AGENT_CATALOG";
/// The pipeline's Slack secret (the app's signing secret and bot token or webhook), read on
/// each use by the functions that post to Slack or answer its buttons.
pub const VAR_SLACK_SECRET: &str = "INFRA_AGENT_SLACK_SECRET";
/// The decision endpoint's URL (its function URL, AuthType AWS_IAM), where `infra-agent
/// approve|reject` send decisions. Clients read it; no function needs it.
pub const VAR_DECISION_URL: &str = "INFRA_AGENT_DECISION_URL";

/// Where the pipeline's own resources are. Each function is given only the variables its step
/// uses (`infra/pipeline.yaml`); a step that needs one it was not given fails with a
/// `Configuration` error naming the variable.
#[derive(Clone)]
pub struct PipelineSettings {
    pub table: String,
    pub template_bucket: Option<String>,
    pub approval_topic_arn: Option<String>,
    /// Base of approval links: the link endpoint's URL.
    pub approval_base_url: Option<String>,
    /// `VAR_APPROVAL_KEY`, or read from `VAR_APPROVAL_KEY_SECRET` at a cold start.
    pub approval_key: Option<SigningKey>,
    /// `VAR_CLOUDFORMATION_ROLE`: without it, change sets run with the caller's permissions.
    pub cloudformation_role: Option<String>,
    /// `VAR_CATALOG`, its hash read from its content-addressed key.
    pub catalog: Option<TemplateRef>,
    /// `VAR_SLACK_SECRET`: the Slack secret's ARN or name.
    pub slack_secret: Option<String>,
}

impl std::fmt::Debug for PipelineSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineSettings")
            .field("table", &self.table)
            .field("template_bucket", &self.template_bucket)
            .field("approval_topic_arn", &self.approval_topic_arn)
            .field("approval_base_url", &self.approval_base_url)
            .field("approval_key", &self.approval_key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

fn not_given(variable: &str) -> StepError {
    StepError::Configuration(format!("{variable} is not set for this function"))
}

impl PipelineSettings {
    /// The service role change sets of `env` run as, if one is configured.
    pub fn cloudformation_role(&self, env: infra_agent_core::naming::Env) -> Option<String> {
        self.cloudformation_role
            .as_ref()
            .map(|pattern| pattern.replace("{env}", env.as_str()))
    }

    pub fn template_bucket(&self) -> Result<&str, StepError> {
        self.template_bucket
            .as_deref()
            .ok_or_else(|| not_given(VAR_BUCKET))
    }

    pub fn approval_topic_arn(&self) -> Result<&str, StepError> {
        self.approval_topic_arn
            .as_deref()
            .ok_or_else(|| not_given(VAR_TOPIC))
    }

    pub fn approval_base_url(&self) -> Result<&str, StepError> {
        self.approval_base_url
            .as_deref()
            .ok_or_else(|| not_given(VAR_APPROVAL_URL))
    }

    pub fn approval_key(&self) -> Result<&SigningKey, StepError> {
        self.approval_key
            .as_ref()
            .ok_or_else(|| not_given(VAR_APPROVAL_KEY_SECRET))
    }

    /// Reads the settings through `lookup` (the process environment in binaries). Only the table
    /// is required of every function.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StepError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let table = get(VAR_TABLE).ok_or_else(|| {
            StepError::Configuration(format!("missing environment variable {VAR_TABLE}"))
        })?;
        Ok(PipelineSettings {
            table,
            template_bucket: get(VAR_BUCKET),
            approval_topic_arn: get(VAR_TOPIC),
            approval_base_url: get(VAR_APPROVAL_URL).map(|u| u.trim_end_matches('/').to_string()),
            approval_key: match get(VAR_APPROVAL_KEY) {
                Some(key) => Some(SigningKey::from_text(&key).map_err(StepError::Configuration)?),
                None => None,
            },
            cloudformation_role: get(VAR_CLOUDFORMATION_ROLE),
            catalog: match get(VAR_CATALOG) {
                Some(location) => Some(catalog_ref(&location)?),
                None => None,
            },
            slack_secret: get(VAR_SLACK_SECRET),
        })
    }

    /// The signing key read from its secret: the current version signs, the previous one (after
    /// a rotation) still verifies the links it signed.
    pub fn with_signing_keys(
        mut self,
        current: &str,
        previous: Option<&str>,
    ) -> Result<Self, StepError> {
        let mut key = SigningKey::from_text(current).map_err(StepError::Configuration)?;
        if let Some(previous) = previous {
            key = key
                .with_previous(previous)
                .map_err(StepError::Configuration)?;
        }
        self.approval_key = Some(key);
        Ok(self)
    }
}

/// `s3://bucket/catalog/<sha256>.json` as a reference whose content is checked when read.
fn catalog_ref(location: &str) -> Result<TemplateRef, StepError> {
    let invalid = || {
        StepError::Configuration(format!(
            "{VAR_CATALOG} is {location}; expected s3://<bucket>/catalog/<sha256>.json"
        ))
    };
    let (bucket, key) = location
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .ok_or_else(invalid)?;
    Ok(TemplateRef {
        bucket: bucket.to_string(),
        key: key.to_string(),
        sha256: content_hash_of_key(key).ok_or_else(invalid)?,
    })
}
