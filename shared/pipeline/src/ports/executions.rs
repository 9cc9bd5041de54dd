//! The executions port: resuming a Step Functions execution that waits on a task token.

use async_trait::async_trait;
use infra_agent_core::contract::approval::TaskToken;
use infra_agent_core::StepError;

/// What the waiting task is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    Success { output: String },
    Failure { error: String, cause: String },
}

/// Whether anything still waited on the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskResumed {
    Resumed,
    /// The execution stopped waiting (timed out, aborted): the outcome came too late.
    NoLongerWaiting,
}

#[async_trait]
pub trait Executions: Send + Sync {
    async fn resume(
        &self,
        token: &TaskToken,
        outcome: &TaskOutcome,
    ) -> Result<TaskResumed, StepError>;
}
