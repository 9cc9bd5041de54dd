//! The typed errors a pipeline step returns. Each has a stable `error_type` that the state machine's
//! Retry and Catch clauses match, so renaming one is a contract change.

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The event could not be decoded into the step's input type.
    #[error("invalid event for {step}: {message}")]
    InvalidEvent { step: &'static str, message: String },

    /// Another deployment holds the stack's lock.
    #[error("stack {stack} in {env} is locked by deployment {holder} (since {since}, expires {expires})")]
    StackLocked {
        env: String,
        stack: String,
        holder: String,
        since: String,
        expires: String,
    },

    /// The change set could not be created.
    #[error("change set {change_set} for {stack_name} failed: {reason}")]
    ChangeSetFailed {
        stack_name: String,
        change_set: String,
        reason: String,
    },

    /// CloudFormation refused to start executing the change set.
    #[error("stack {stack_name} failed: {reason}")]
    StackFailed { stack_name: String, reason: String },

    /// The stack operation did not finish within the environment's stack timeout.
    #[error("stack {stack_name} is still {status} after {minutes} minutes; the deployment stopped waiting for it")]
    StackTimedOut {
        stack_name: String,
        status: String,
        minutes: u32,
    },

    /// The stored template is missing or does not match its hash.
    #[error("template {key}: {reason}")]
    TemplateUnavailable { key: String, reason: String },

    /// The function is misconfigured (missing environment variable, unknown environment file…).
    #[error("configuration error: {0}")]
    Configuration(String),

    /// A record the step depends on is missing or in an unexpected state.
    #[error("record conflict: {0}")]
    RecordConflict(String),

    /// An AWS call failed in a way that may succeed on retry (throttling, 5xx, timeouts).
    #[error("{service} {operation} failed (transient): {message}")]
    Transient {
        service: &'static str,
        operation: &'static str,
        message: String,
    },

    /// An AWS call failed for good.
    #[error("{service} {operation} failed: {message}")]
    Aws {
        service: &'static str,
        operation: &'static str,
        message: String,
    },
}

/// The Lambda error payload: what `lambda_runtime` and the local Lambda host send back.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorPayload {
    #[serde(rename = "errorType")]
    pub error_type: &'static str,
    #[serde(rename = "errorMessage")]
    pub error_message: String,
}

impl StepError {
    /// The stable name Step Functions sees as the error.
    pub fn error_type(&self) -> &'static str {
        match self {
            StepError::InvalidEvent { .. } => "InvalidEvent",
            StepError::StackLocked { .. } => "StackLocked",
            StepError::ChangeSetFailed { .. } => "ChangeSetFailed",
            StepError::StackFailed { .. } => "StackFailed",
            StepError::StackTimedOut { .. } => "StackTimedOut",
            StepError::TemplateUnavailable { .. } => "TemplateUnavailable",
            StepError::Configuration(_) => "ConfigurationError",
            StepError::RecordConflict(_) => "RecordConflict",
            StepError::Transient { .. } => "TransientError",
            StepError::Aws { .. } => "AwsError",
        }
    }

    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload {
            error_type: self.error_type(),
            error_message: self.to_string(),
        }
    }

    pub fn invalid_event(step: &'static str, err: impl std::fmt::Display) -> Self {
        StepError::InvalidEvent {
            step,
            message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_payload_carries_stable_type_and_readable_message() {
        let err = StepError::StackLocked {
            env: "dev".into(),
            stack: "vpc".into(),
            holder: "dev-vpc-20260101T000000-aaaa".into(),
            since: "2026-01-01T00:00:00Z".into(),
            expires: "2026-01-01T02:00:00Z".into(),
        };
        let payload = serde_json::to_value(err.payload()).unwrap();
        assert_eq!(payload["errorType"], "StackLocked");
        assert!(payload["errorMessage"]
            .as_str()
            .unwrap()
            .contains("dev-vpc-20260101T000000-aaaa"));
    }
}
