//! A notifier that keeps what it was asked to publish.

use std::sync::Mutex;

use async_trait::async_trait;
use infra_agent_core::StepError;

use crate::ports::{Notification, Notifier};

#[derive(Default)]
pub struct RecordingNotifier {
    published: Mutex<Vec<(String, Notification)>>,
}

impl RecordingNotifier {
    /// Every message so far, with its topic, oldest first.
    pub fn published(&self) -> Vec<(String, Notification)> {
        self.published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn publish(
        &self,
        topic: &str,
        notification: &Notification,
    ) -> Result<Option<String>, StepError> {
        let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
        published.push((topic.to_string(), notification.clone()));
        Ok(Some(format!("message-{}", published.len())))
    }
}
