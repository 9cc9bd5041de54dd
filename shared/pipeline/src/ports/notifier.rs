//! The notification port: messages to people (the SNS approval topic).

use std::collections::BTreeMap;

use async_trait::async_trait;
use infra_agent_core::StepError;

/// A message with the attributes subscribers filter on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub subject: String,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
}

#[async_trait]
pub trait Notifier: Send + Sync {
    /// Publishes to `topic`; returns the message id when the service gives one.
    async fn publish(
        &self,
        topic: &str,
        notification: &Notification,
    ) -> Result<Option<String>, StepError>;
}
