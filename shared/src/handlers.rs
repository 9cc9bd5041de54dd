//! The one entry point per Lambda function: decode the event, run the step, encode the result.
//! The Lambda binaries and the local Lambda host both call `Function::invoke`, so a function
//! behaves the same wherever it runs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::approval::http::{self, HttpRequest, HttpResponse};
use crate::aws::Pipeline;
use crate::contract::decode;
use crate::contract::deploy::{DeployRequest, DeploymentPlan};
use crate::pipeline::{approval, begin, change_set, cost, environment, execute, finish, validate};
use crate::StepError;

/// The pipeline's Lambda functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Validate,
    CreateChangeSet,
    CostEstimate,
    Approval,
    Execute,
    Record,
    /// Between the waves of the deploy-environment machine.
    Environment,
}

impl Function {
    pub const ALL: [Function; 7] = [
        Function::Validate,
        Function::CreateChangeSet,
        Function::CostEstimate,
        Function::Approval,
        Function::Execute,
        Function::Record,
        Function::Environment,
    ];

    /// The deployed function name (`infra-agent-<step>`).
    pub fn name(self) -> &'static str {
        match self {
            Function::Validate => "infra-agent-validate",
            Function::CreateChangeSet => "infra-agent-create-change-set",
            Function::CostEstimate => "infra-agent-cost-estimate",
            Function::Approval => "infra-agent-approval",
            Function::Execute => "infra-agent-execute",
            Function::Record => "infra-agent-record",
            Function::Environment => "infra-agent-environment",
        }
    }

    /// Placeholder used for the function's ARN in `statemachine/*.asl.json`.
    pub fn arn_placeholder(self) -> &'static str {
        match self {
            Function::Validate => "${ValidateFunctionArn}",
            Function::CreateChangeSet => "${CreateChangeSetFunctionArn}",
            Function::CostEstimate => "${CostEstimateFunctionArn}",
            Function::Approval => "${ApprovalFunctionArn}",
            Function::Execute => "${ExecuteFunctionArn}",
            Function::Record => "${RecordFunctionArn}",
            Function::Environment => "${EnvironmentFunctionArn}",
        }
    }

    /// Finds a function by name or ARN (`arn:aws:lambda:…:function:NAME[:qualifier]`).
    pub fn from_name_or_arn(name: &str) -> Option<Function> {
        let name = match name.split_once(":function:") {
            Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
            None => name,
        };
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    pub async fn invoke(self, pipeline: &Pipeline, event: Value) -> Result<Value, StepError> {
        match self {
            Function::Validate => {
                let input: StepInput = decode("validate", event)?;
                encode(validate::validate(pipeline, &input.request).await?)
            }
            Function::CreateChangeSet => {
                let input: PlannedInput = decode("create-change-set", event)?;
                encode(change_set::create_change_set(pipeline, &input.request, &input.plan).await?)
            }
            Function::CostEstimate => {
                let input: cost::CostInput = decode("cost-estimate", event)?;
                encode(cost::estimate_cost(pipeline, &input).await?)
            }
            Function::Approval => {
                let input: approval::ApprovalRequest = decode("approval", event)?;
                encode(approval::request_approval(pipeline, &input).await?)
            }
            Function::Execute => match decode::<ExecuteEvent>("execute", event)? {
                ExecuteEvent::Start(input) => encode(execute::start(pipeline, &input).await?),
                ExecuteEvent::Poll(input) => encode(execute::poll(pipeline, &input).await?),
            },
            Function::Record => match decode::<RecordEvent>("record", event)? {
                RecordEvent::Begin(input) => encode(begin::begin(pipeline, &input.request).await?),
                RecordEvent::Finish(input) => encode(finish::finish(pipeline, &input).await?),
            },
            Function::Environment => match decode::<EnvironmentEvent>("environment", event)? {
                EnvironmentEvent::Advance(state) => {
                    encode(environment::advance(pipeline, *state).await?)
                }
                EnvironmentEvent::Abandon(run) => {
                    encode(environment::abandon(pipeline, *run).await?)
                }
            },
        }
    }
}

/// The approval function also serves the approval link (a Lambda function URL).
pub async fn approval_http(pipeline: &Pipeline, request: HttpRequest) -> HttpResponse {
    http::handle(pipeline, request).await
}

#[derive(Deserialize)]
struct StepInput {
    request: DeployRequest,
}

#[derive(Deserialize)]
struct PlannedInput {
    request: DeployRequest,
    plan: DeploymentPlan,
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum ExecuteEvent {
    Start(Box<execute::ExecuteInput>),
    Poll(Box<execute::ExecuteInput>),
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum RecordEvent {
    Begin(StepInput),
    Finish(Box<finish::FinishInput>),
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum EnvironmentEvent {
    Advance(Box<crate::contract::environment::EnvironmentState>),
    Abandon(Box<crate::contract::environment::AbandonedRun>),
}

fn encode<T: Serialize>(value: T) -> Result<Value, StepError> {
    serde_json::to_value(value)
        .map_err(|e| StepError::RecordConflict(format!("cannot encode step result: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_found_by_name_and_by_arn() {
        assert_eq!(
            Function::from_name_or_arn("infra-agent-execute"),
            Some(Function::Execute)
        );
        assert_eq!(
            Function::from_name_or_arn(
                "arn:aws:lambda:us-east-1:123456789012:function:infra-agent-record:$LATEST"
            ),
            Some(Function::Record)
        );
        assert_eq!(Function::from_name_or_arn("other"), None);
    }
    /// The step name a function's errors use: its deployed name without the prefix.
    fn step_of(function: Function) -> &'static str {
        function.name().trim_start_matches("infra-agent-")
    }

    /// Invokes `function` with `event` and returns its error; decoding fails before any AWS call,
    /// and the pipeline's clients could not reach AWS anyway.
    async fn rejection(function: Function, event: Value) -> StepError {
        let pipeline =
            crate::stacks::fakes::offline_pipeline(crate::stacks::fakes::cfn_client(&[]));
        match function.invoke(&pipeline, event.clone()).await {
            Ok(out) => panic!("{} accepted {event}: {out}", function.name()),
            Err(err) => err,
        }
    }

    #[tokio::test]
    async fn malformed_events_are_invalid_event_errors_naming_the_step() {
        let events = [
            Value::Null,
            serde_json::json!([]),
            serde_json::json!("text"),
            serde_json::json!({}),
            serde_json::json!({"action": "nope"}),
            serde_json::json!({"request": {"version": "one"}}),
            serde_json::json!({"action": "poll", "request": {"version": "one"}}),
            serde_json::json!({"action": "begin", "request": {"version": "one"}}),
        ];
        for function in Function::ALL {
            for event in &events {
                let err = rejection(function, event.clone()).await;
                assert_eq!(
                    err.error_type(),
                    "InvalidEvent",
                    "{} on {event}: {err}",
                    function.name()
                );
                assert!(
                    err.to_string().contains(step_of(function)),
                    "{} on {event}: {err}",
                    function.name()
                );
            }
        }
    }

    #[tokio::test]
    async fn request_for_an_unknown_environment_is_an_invalid_event() {
        let event = serde_json::json!({
            "action": "begin",
            "request": {
                "version": 1,
                "deployment_id": "qa-app-20260301T120000-a1b2",
                "stack": "app",
                "env": "qa",
                "template": {
                    "bucket": "infra-agent-templates",
                    "key": "templates/app/0f1e.yaml",
                    "sha256": "0f1e"
                },
                "requested_by": "alice",
                "iac_version": "1.4.0"
            }
        });

        let err = rejection(Function::Record, event).await;

        assert_eq!(err.error_type(), "InvalidEvent");
        let message = err.to_string();
        assert!(
            message.contains("record") && message.contains("qa"),
            "{message}"
        );
    }

    #[test]
    fn step_error_payload_is_the_lambda_error_shape() {
        let err = StepError::invalid_event("record", "missing field `request`");

        let payload = serde_json::to_value(err.payload()).expect("a payload serialises");

        assert_eq!(
            payload,
            serde_json::json!({
                "errorType": "InvalidEvent",
                "errorMessage": "invalid event for record: missing field `request`"
            })
        );
    }
}
