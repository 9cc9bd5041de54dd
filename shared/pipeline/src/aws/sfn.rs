//! The Step Functions adapter of the executions port.

use async_trait::async_trait;
use infra_agent_core::contract::approval::TaskToken;
use infra_agent_core::StepError;

use super::error::{sdk_code, sdk_message};
use crate::ports::{Executions, TaskOutcome, TaskResumed};

#[derive(Debug, Clone)]
pub struct StepFunctions {
    client: aws_sdk_sfn::Client,
}

impl StepFunctions {
    pub fn new(client: aws_sdk_sfn::Client) -> Self {
        StepFunctions { client }
    }
}

/// What Step Functions says of a token nothing waits on any more.
const NOT_WAITING: [&str; 3] = ["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"];

#[async_trait]
impl Executions for StepFunctions {
    async fn resume(
        &self,
        token: &TaskToken,
        outcome: &TaskOutcome,
    ) -> Result<TaskResumed, StepError> {
        let (operation, sent) = match outcome {
            TaskOutcome::Success { output } => (
                "SendTaskSuccess",
                self.client
                    .send_task_success()
                    .task_token(token.expose())
                    .output(output)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| (sdk_code(&e).map(str::to_string), sdk_message(&e))),
            ),
            TaskOutcome::Failure { error, cause } => (
                "SendTaskFailure",
                self.client
                    .send_task_failure()
                    .task_token(token.expose())
                    .error(error)
                    .cause(cause)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| (sdk_code(&e).map(str::to_string), sdk_message(&e))),
            ),
        };
        match sent {
            Ok(()) => Ok(TaskResumed::Resumed),
            Err((Some(code), _)) if NOT_WAITING.contains(&code.as_str()) => {
                Ok(TaskResumed::NoLongerWaiting)
            }
            Err((_, message)) => Err(StepError::Aws {
                service: "sfn",
                operation,
                message,
            }),
        }
    }
}
