//! The SDK adapters of the ports, and the one place that builds them from the standard AWS
//! configuration chain (`AWS_ENDPOINT_URL` points them at an emulator).

pub mod cloudformation;
pub mod dynamodb;
pub mod error;
pub mod pricing;
pub mod s3;
pub mod sfn;
pub mod sns;

use std::sync::Arc;

use crate::ports::Pipeline;
use crate::settings::PipelineSettings;

/// Builds every adapter from the standard AWS configuration.
pub async fn connect(settings: PipelineSettings) -> Pipeline {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    from_config(&config, settings)
}

pub fn from_config(config: &aws_config::SdkConfig, settings: PipelineSettings) -> Pipeline {
    Pipeline {
        stacks: Arc::new(cloudformation::CloudFormation::new(
            aws_sdk_cloudformation::Client::new(config),
        )),
        store: Arc::new(dynamodb::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(config),
            settings.table.clone(),
        )),
        notifier: Arc::new(sns::Sns::new(aws_sdk_sns::Client::new(config))),
        templates: Arc::new(s3::S3Templates::new(s3::s3_client(config))),
        executions: Arc::new(sfn::StepFunctions::new(aws_sdk_sfn::Client::new(config))),
        prices: Arc::new(pricing::PriceListClient::from_config(config)),
        settings,
    }
}
