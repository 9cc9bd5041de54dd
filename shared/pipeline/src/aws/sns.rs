//! The SNS adapter of the notification port.

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use infra_agent_core::StepError;

use super::error::from_sdk;
use crate::ports::{Notification, Notifier};

#[derive(Debug, Clone)]
pub struct Sns {
    client: aws_sdk_sns::Client,
}

impl Sns {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Sns { client }
    }
}

#[async_trait]
impl Notifier for Sns {
    async fn publish(
        &self,
        topic: &str,
        notification: &Notification,
    ) -> Result<Option<String>, StepError> {
        let mut call = self
            .client
            .publish()
            .topic_arn(topic)
            .subject(&notification.subject)
            .message(&notification.body);
        for (name, value) in &notification.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| StepError::Configuration(e.to_string()))?;
            call = call.message_attributes(name, attribute);
        }
        let out = call
            .send()
            .await
            .map_err(|e| from_sdk("sns", "Publish", &e))?;
        Ok(out.message_id)
    }
}
