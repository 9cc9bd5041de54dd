//! Waiting executions in memory: which tokens something still waits on, and what each was told.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use infra_agent_core::contract::approval::TaskToken;
use infra_agent_core::StepError;

use crate::ports::{Executions, TaskOutcome, TaskResumed};

#[derive(Default)]
pub struct RecordingExecutions {
    /// Tokens whose execution stopped waiting (timed out, aborted).
    stopped: Mutex<BTreeSet<String>>,
    resumed: Mutex<Vec<TaskOutcome>>,
}

impl RecordingExecutions {
    /// The execution waiting on `token` stops waiting, as on a timeout.
    pub fn stop_waiting(&self, token: &TaskToken) {
        self.stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.expose().to_string());
    }

    /// What waiting executions were told, oldest first.
    pub fn resumed(&self) -> Vec<TaskOutcome> {
        self.resumed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[async_trait]
impl Executions for RecordingExecutions {
    async fn resume(
        &self,
        token: &TaskToken,
        outcome: &TaskOutcome,
    ) -> Result<TaskResumed, StepError> {
        let mut stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        // A token is answered once: Step Functions forgets it after the first outcome.
        if !stopped.insert(token.expose().to_string()) {
            return Ok(TaskResumed::NoLongerWaiting);
        }
        self.resumed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(outcome.clone());
        Ok(TaskResumed::Resumed)
    }
}
