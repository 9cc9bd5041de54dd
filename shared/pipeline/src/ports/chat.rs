//! The chat port: Slack, where environments post approvals to it.

use async_trait::async_trait;
use infra_agent_core::approval::slack::SlackCredentials;
use infra_agent_core::StepError;
use serde_json::Value;

#[async_trait]
pub trait Chat: Send + Sync {
    /// The Slack app's credentials as the pipeline's Slack secret holds them now (an operator
    /// may fill it in after the pipeline is installed); `None` while it is empty.
    async fn credentials(&self) -> Result<Option<SlackCredentials>, StepError>;

    /// Posts `message` (Block Kit JSON): with a bot token to `channel`, with a webhook to the
    /// webhook's own channel.
    async fn post(
        &self,
        credentials: &SlackCredentials,
        channel: &str,
        message: &Value,
    ) -> Result<(), StepError>;

    /// Sends `message` to a button click's `response_url` (replacing the original message, or
    /// an ephemeral reply to the person who clicked).
    async fn respond(&self, response_url: &str, message: &Value) -> Result<(), StepError>;
}
