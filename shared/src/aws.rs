//! The AWS clients and settings a pipeline step is handed. Built once per process (Lambda cold start,
//! CLI run, local host) from the standard AWS configuration chain.

use crate::approval::link::SigningKey;
use crate::cost::PriceListClient;
use crate::store::Store;
use crate::StepError;

/// Names of the variables `PipelineSettings::from_lookup` reads.
pub const VAR_TABLE: &str = "INFRA_AGENT_TABLE";
pub const VAR_BUCKET: &str = "INFRA_AGENT_TEMPLATE_BUCKET";
pub const VAR_TOPIC: &str = "INFRA_AGENT_APPROVAL_TOPIC_ARN";
pub const VAR_APPROVAL_URL: &str = "INFRA_AGENT_APPROVAL_URL";
pub const VAR_APPROVAL_KEY: &str = "INFRA_AGENT_APPROVAL_KEY";
pub const VAR_STATE_MACHINE: &str = "INFRA_AGENT_STATE_MACHINE_ARN";
pub const VAR_ENVIRONMENT_STATE_MACHINE: &str = "INFRA_AGENT_ENVIRONMENT_STATE_MACHINE_ARN";

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

/// Everything a step needs to act: clients and settings.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub cfn: aws_sdk_cloudformation::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub sns: aws_sdk_sns::Client,
    pub s3: aws_sdk_s3::Client,
    /// Price List API, us-east-1 whatever the pipeline's region.
    pub pricing: PriceListClient,
    pub store: Store,
    pub settings: PipelineSettings,
}

impl Pipeline {
    /// Builds clients from the standard AWS configuration (`AWS_ENDPOINT_URL` selects an emulator).
    pub async fn connect(settings: PipelineSettings) -> Pipeline {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Pipeline::from_config(&config, settings)
    }

    pub fn from_config(config: &aws_config::SdkConfig, settings: PipelineSettings) -> Pipeline {
        Pipeline {
            cfn: aws_sdk_cloudformation::Client::new(config),
            sfn: aws_sdk_sfn::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            s3: s3_client(config),
            pricing: PriceListClient::from_config(config),
            store: Store::new(
                aws_sdk_dynamodb::Client::new(config),
                settings.table.clone(),
            ),
            settings,
        }
    }
}

/// An S3 client; behind a custom endpoint (an emulator) buckets are addressed by path, not by
/// virtual host.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build(),
    )
}
