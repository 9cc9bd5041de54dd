//! The SDK adapters of the ports, and the one place that builds them from the standard AWS
//! configuration chain (`AWS_ENDPOINT_URL` points them at an emulator).

pub mod cloudformation;
pub mod drift;
pub mod dynamodb;
pub mod error;
pub mod pricing;
pub mod registry;
pub mod s3;
pub mod secrets;
pub mod sfn;
pub mod sigv4;
pub mod slack;
pub mod sns;

use std::sync::Arc;

use crate::ports::{
    Adapters, Chat, Executions, Notifier, Pipeline, PriceSource, StackDrifts, Stacks, Store,
    TemplateStore, TypeRegistry,
};
use crate::settings::PipelineSettings;

/// Builds every adapter from the standard AWS configuration.
pub async fn connect(settings: PipelineSettings) -> Pipeline {
    from_config(&config().await, settings)
}

/// The standard AWS configuration (`AWS_ENDPOINT_URL` selects an emulator).
pub async fn config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Every adapter (the local host and tools serve every function).
pub fn from_config(config: &aws_config::SdkConfig, settings: PipelineSettings) -> Pipeline {
    Pipeline {
        stacks: stacks(config),
        drift: drift(config),
        store: store(config, &settings),
        notifier: notifier(config),
        templates: templates(config),
        executions: executions(config),
        prices: prices(config),
        chat: chat(config, &settings),
        registry: registry(config),
        settings,
    }
}

/// The SDK adapters, built from one AWS configuration.
pub struct Aws {
    pub config: aws_config::SdkConfig,
    pub settings: PipelineSettings,
}

impl Adapters for Aws {
    fn stacks(&self) -> Arc<dyn Stacks> {
        stacks(&self.config)
    }
    fn drift(&self) -> Arc<dyn StackDrifts> {
        drift(&self.config)
    }
    fn store(&self) -> Arc<dyn Store> {
        store(&self.config, &self.settings)
    }
    fn notifier(&self) -> Arc<dyn Notifier> {
        notifier(&self.config)
    }
    fn templates(&self) -> Arc<dyn TemplateStore> {
        templates(&self.config)
    }
    fn executions(&self) -> Arc<dyn Executions> {
        executions(&self.config)
    }
    fn prices(&self) -> Arc<dyn PriceSource> {
        prices(&self.config)
    }
    fn chat(&self) -> Arc<dyn Chat> {
        chat(&self.config, &self.settings)
    }
    fn registry(&self) -> Arc<dyn TypeRegistry> {
        registry(&self.config)
    }
    fn settings(&self) -> PipelineSettings {
        self.settings.clone()
    }
}

pub fn registry(config: &aws_config::SdkConfig) -> Arc<dyn TypeRegistry> {
    Arc::new(registry::Registry::new(
        aws_sdk_cloudformation::Client::new(config),
    ))
}

pub fn chat(config: &aws_config::SdkConfig, settings: &PipelineSettings) -> Arc<dyn Chat> {
    Arc::new(slack::Slack::new(config, settings.slack_secret.clone()))
}

pub fn stacks(config: &aws_config::SdkConfig) -> Arc<dyn Stacks> {
    Arc::new(cloudformation::CloudFormation::new(
        aws_sdk_cloudformation::Client::new(config),
    ))
}

pub fn drift(config: &aws_config::SdkConfig) -> Arc<dyn StackDrifts> {
    Arc::new(drift::CloudFormationDrift::new(
        aws_sdk_cloudformation::Client::new(config),
    ))
}

pub fn store(config: &aws_config::SdkConfig, settings: &PipelineSettings) -> Arc<dyn Store> {
    Arc::new(dynamodb::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(config),
        settings.table.clone(),
    ))
}

pub fn notifier(config: &aws_config::SdkConfig) -> Arc<dyn Notifier> {
    Arc::new(sns::Sns::new(aws_sdk_sns::Client::new(config)))
}

pub fn templates(config: &aws_config::SdkConfig) -> Arc<dyn TemplateStore> {
    Arc::new(s3::S3Templates::new(s3::s3_client(config)))
}

pub fn executions(config: &aws_config::SdkConfig) -> Arc<dyn Executions> {
    Arc::new(sfn::StepFunctions::new(aws_sdk_sfn::Client::new(config)))
}

pub fn prices(config: &aws_config::SdkConfig) -> Arc<dyn PriceSource> {
    Arc::new(pricing::PriceListClient::from_config(config))
}
