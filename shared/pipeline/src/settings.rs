//! Where the pipeline's own resources are, read once per process from the environment.

use infra_agent_core::approval::link::SigningKey;
use infra_agent_core::StepError;

/// Names of the variables `PipelineSettings::from_lookup` reads.
pub const VAR_TABLE: &str = "INFRA_AGENT_TABLE";
pub const VAR_BUCKET: &str = "INFRA_AGENT_TEMPLATE_BUCKET";
pub const VAR_TOPIC: &str = "INFRA_AGENT_APPROVAL_TOPIC_ARN";
pub const VAR_APPROVAL_URL: &str = "INFRA_AGENT_APPROVAL_URL";
pub const VAR_APPROVAL_KEY: &str = "INFRA_AGENT_APPROVAL_KEY";
/// The decision endpoint's URL (its function URL, AuthType AWS_IAM), where `infra-agent
/// approve|reject` send decisions. Clients read it; no function needs it.
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
        })
    }
}
