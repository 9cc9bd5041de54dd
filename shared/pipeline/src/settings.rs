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
/// The IAM-authenticated decision endpoint (`infra-agent approve|reject`).
pub const VAR_DECISION_URL: &str = "INFRA_AGENT_DECISION_URL";

/// Where the pipeline's own resources are.
#[derive(Clone)]
pub struct PipelineSettings {
    pub table: String,
    pub template_bucket: String,
    pub approval_topic_arn: String,
    /// Base of approval links, e.g. the approval function's URL.
    pub approval_base_url: String,
    pub approval_key: SigningKey,
    /// `VAR_CLOUDFORMATION_ROLE`: without it, change sets run with the caller's permissions.
    pub cloudformation_role: Option<String>,
    /// `VAR_CATALOG`, its hash read from its content-addressed key.
    pub catalog: Option<TemplateRef>,
}

impl std::fmt::Debug for PipelineSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineSettings")
            .field("table", &self.table)
            .field("template_bucket", &self.template_bucket)
            .field("approval_topic_arn", &self.approval_topic_arn)
            .field("approval_base_url", &self.approval_base_url)
            .finish_non_exhaustive()
    }
}

impl PipelineSettings {
    /// The service role change sets of `env` run as, if one is configured.
    pub fn cloudformation_role(&self, env: infra_agent_core::naming::Env) -> Option<String> {
        self.cloudformation_role
            .as_ref()
            .map(|pattern| pattern.replace("{env}", env.as_str()))
    }

    /// Reads the settings through `lookup` (the process environment in binaries), naming every
    /// missing variable at once.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StepError> {
        let mut missing = Vec::new();
        let mut get = |name: &'static str| {
            let value = lookup(name).filter(|v| !v.trim().is_empty());
            if value.is_none() {
                missing.push(name);
            }
            value.unwrap_or_default()
        };
        let table = get(VAR_TABLE);
        let template_bucket = get(VAR_BUCKET);
        let approval_topic_arn = get(VAR_TOPIC);
        let approval_base_url = get(VAR_APPROVAL_URL);
        let key = get(VAR_APPROVAL_KEY);
        if !missing.is_empty() {
            return Err(StepError::Configuration(format!(
                "missing environment variables: {}",
                missing.join(", ")
            )));
        }
        Ok(PipelineSettings {
            table,
            template_bucket,
            approval_topic_arn,
            approval_base_url: approval_base_url.trim_end_matches('/').to_string(),
            approval_key: SigningKey::from_text(&key).map_err(StepError::Configuration)?,
            cloudformation_role: lookup(VAR_CLOUDFORMATION_ROLE).filter(|v| !v.trim().is_empty()),
            catalog: match lookup(VAR_CATALOG).filter(|v| !v.trim().is_empty()) {
                Some(location) => Some(catalog_ref(&location)?),
                None => None,
            },
        })
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
