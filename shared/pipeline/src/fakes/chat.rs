//! Slack in memory: credentials a test sets, and every message posted or answered, kept.

use std::sync::Mutex;

use async_trait::async_trait;
use infra_agent_core::approval::slack::SlackCredentials;
use infra_agent_core::StepError;
use serde_json::Value;

use crate::ports::Chat;

#[derive(Default)]
pub struct RecordingChat {
    credentials: Mutex<Option<SlackCredentials>>,
    /// `(channel, message)` of each post.
    pub posted: Mutex<Vec<(String, Value)>>,
    /// `(response_url, message)` of each answer.
    pub responded: Mutex<Vec<(String, Value)>>,
    /// Fail every post (Slack down).
    pub failing: Mutex<bool>,
}

impl RecordingChat {
    pub fn set_credentials(&self, credentials: Option<SlackCredentials>) {
        *self.credentials.lock().unwrap() = credentials;
    }
    pub fn posted(&self) -> Vec<(String, Value)> {
        self.posted.lock().unwrap().clone()
    }
    pub fn responded(&self) -> Vec<(String, Value)> {
        self.responded.lock().unwrap().clone()
    }
}

#[async_trait]
impl Chat for RecordingChat {
    async fn credentials(&self) -> Result<Option<SlackCredentials>, StepError> {
        Ok(self.credentials.lock().unwrap().clone())
    }

    async fn post(
        &self,
        _: &SlackCredentials,
        channel: &str,
        message: &Value,
    ) -> Result<(), StepError> {
        if *self.failing.lock().unwrap() {
            return Err(StepError::Transient {
                service: "slack",
                operation: "chat.postMessage",
                message: "HTTP 503".into(),
            });
        }
        self.posted
            .lock()
            .unwrap()
            .push((channel.to_string(), message.clone()));
        Ok(())
    }

    async fn respond(&self, response_url: &str, message: &Value) -> Result<(), StepError> {
        self.responded
            .lock()
            .unwrap()
            .push((response_url.to_string(), message.clone()));
        Ok(())
    }
}
