//! An execution that ended without recording its outcome — stopped, timed out, or failed in a
//! way no Catch saw — as Step Functions reports it (EventBridge's "Step Functions Execution
//! Status Change"), so its deployment record can be made true and its lock freed.

use serde::{Deserialize, Serialize};

use super::deploy::DeployRequest;
use super::record::DeploymentStatus;

/// How an execution ended, in Step Functions' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionEnd {
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionEnd {
    /// Step Functions' status text (`DescribeExecution`, the event's `detail.status`); `None`
    /// while it runs (or for a status this version does not know).
    pub fn parse(status: &str) -> Option<ExecutionEnd> {
        match status {
            "SUCCEEDED" => Some(ExecutionEnd::Succeeded),
            "FAILED" => Some(ExecutionEnd::Failed),
            "TIMED_OUT" => Some(ExecutionEnd::TimedOut),
            "ABORTED" => Some(ExecutionEnd::Aborted),
            _ => None,
        }
    }

    /// What an open deployment record becomes when its execution ended this way.
    pub fn deployment_status(self) -> DeploymentStatus {
        match self {
            ExecutionEnd::Aborted => DeploymentStatus::Aborted,
            ExecutionEnd::TimedOut => DeploymentStatus::TimedOut,
            // Ended "successfully" without recording: the record step never ran, so nothing
            // says the stack was deployed.
            ExecutionEnd::Succeeded | ExecutionEnd::Failed => DeploymentStatus::Failed,
        }
    }
}

/// An ended execution of the deploy machine.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedExecution {
    /// The execution's name: the deployment id.
    pub name: String,
    pub end: ExecutionEnd,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The execution's input.
    pub request: DeployRequest,
}

/// The EventBridge event Step Functions sends when an execution's status changes.
#[derive(Debug, Clone, Deserialize)]
pub struct ExecutionStatusChange {
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub detail: ExecutionDetail,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionDetail {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: String,
    /// The execution's input, as JSON text.
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}

/// The input of the deploy machine.
#[derive(Deserialize)]
struct DeployInput {
    request: DeployRequest,
}

impl ExecutionStatusChange {
    /// Whether a payload is such an event rather than a state's input.
    pub fn is_one(payload: &serde_json::Value) -> bool {
        payload.get("source").and_then(|s| s.as_str()) == Some("aws.states")
            && payload.get("detail-type").is_some()
    }

    /// The ended deploy execution the event reports; `None` for a running one, or one whose
    /// input is not a deployment (another machine's execution).
    pub fn ended_deployment(&self) -> Option<EndedExecution> {
        let end = ExecutionEnd::parse(&self.detail.status)?;
        ended(
            &self.detail.name,
            end,
            self.detail.input.as_deref()?,
            self.detail.error.clone(),
            self.detail.cause.clone(),
        )
    }
}

/// An ended deploy execution from what `DescribeExecution` (or the event) says of it.
pub fn ended(
    name: &str,
    end: ExecutionEnd,
    input: &str,
    error: Option<String>,
    cause: Option<String>,
) -> Option<EndedExecution> {
    let input: DeployInput = serde_json::from_str(input).ok()?;
    Some(EndedExecution {
        name: name.to_string(),
        end,
        error,
        cause,
        request: input.request,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(status: &str, input: &str) -> serde_json::Value {
        serde_json::json!({
            "version": "0",
            "id": "315c1398-40ff-a850-213b-158f73e60175",
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "account": "123456789012",
            "time": "2027-01-15T08:10:00Z",
            "region": "us-east-1",
            "resources": ["arn:aws:states:us-east-1:123456789012:execution:infra-agent-deploy:dev-vpc-20270115T080000-abcd"],
            "detail": {
                "executionArn": "arn:aws:states:us-east-1:123456789012:execution:infra-agent-deploy:dev-vpc-20270115T080000-abcd",
                "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:infra-agent-deploy",
                "name": "dev-vpc-20270115T080000-abcd",
                "status": status,
                "startDate": 1_800_000_000_000_i64,
                "stopDate": 1_800_000_600_000_i64,
                "input": input,
                "inputDetails": {"included": true},
                "output": null,
                "error": "States.Timeout",
                "cause": "The execution timed out"
            }
        })
    }

    const INPUT: &str = r#"{"request":{"version":1,"deployment_id":"dev-vpc-20270115T080000-abcd","stack":"vpc","env":"dev","template":{"bucket":"b","key":"k","sha256":"s"},"requested_by":"alice","iac_version":"1.0.0"}}"#;

    #[test]
    fn a_timed_out_deploy_execution_is_read_from_its_event() {
        let payload = event("TIMED_OUT", INPUT);
        assert!(ExecutionStatusChange::is_one(&payload));
        let change: ExecutionStatusChange = serde_json::from_value(payload).unwrap();

        let ended = change.ended_deployment().expect("an ended deployment");

        assert_eq!(ended.end, ExecutionEnd::TimedOut);
        assert_eq!(ended.name, "dev-vpc-20270115T080000-abcd");
        assert_eq!(ended.request.stack.as_str(), "vpc");
        assert_eq!(ended.end.deployment_status(), DeploymentStatus::TimedOut);
    }

    #[test]
    fn running_executions_and_other_machines_inputs_are_not_ended_deployments() {
        let running: ExecutionStatusChange =
            serde_json::from_value(event("RUNNING", INPUT)).unwrap();
        assert!(running.ended_deployment().is_none());
        let other: ExecutionStatusChange =
            serde_json::from_value(event("FAILED", r#"{"request":{"run_id":"x"}}"#)).unwrap();
        assert!(other.ended_deployment().is_none());
        assert!(!ExecutionStatusChange::is_one(
            &serde_json::json!({"action": "finish"})
        ));
    }
}
