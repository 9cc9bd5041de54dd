//! One entry point per Lambda function: decode the event, run the step, encode the result. Each
//! function's binary calls only its own handler, so it links only its own step; the local Lambda
//! host reaches every handler through `handler`, whose match the compiler keeps complete.

use std::future::Future;
use std::pin::Pin;

use infra_agent_core::contract::approval::ApprovalRequest;
use infra_agent_core::contract::console::{ConsoleDeploy, ConsoleEnvironment};
use infra_agent_core::contract::cost::CostInput;
use infra_agent_core::contract::decode;
use infra_agent_core::contract::deploy::{DeployRequest, DeploymentPlan};
use infra_agent_core::contract::drift::{
    Detection, ScanPlan, ScanRequest, StackCheck, StackCheckResult,
};
use infra_agent_core::contract::environment::{AbandonedRun, EnvironmentState};
use infra_agent_core::contract::execute::ExecuteInput;
use infra_agent_core::contract::promote::PromotionRequest;
use infra_agent_core::contract::reconcile::ExecutionStatusChange;
use infra_agent_core::contract::record::{CaughtError, FinishInput};
use infra_agent_core::registry::Function;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::function_url;
use crate::ports::{Adapters, Pipeline};
use crate::steps;
use crate::StepError;

/// What a handler returns: the encoded result, or the step's typed error.
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, StepError>> + Send + 'a>>;

/// A function's entry point.
pub type Handler = for<'a> fn(&'a Pipeline, Value) -> StepFuture<'a>;

/// How each function's pipeline is wired: only the ports its step uses, so its binary links only
/// those SDK clients. The same wiring serves the SDK adapters and the in-memory fakes in tests.
pub fn wire_validate(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        templates: adapters.templates(),
        registry: adapters.registry(),
        ..Pipeline::unwired(adapters.settings())
    }
}

pub fn wire_create_change_set(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        templates: adapters.templates(),
        stacks: adapters.stacks(),
        store: adapters.store(),
        ..Pipeline::unwired(adapters.settings())
    }
}

pub fn wire_cost_estimate(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        templates: adapters.templates(),
        store: adapters.store(),
        prices: adapters.prices(),
        ..Pipeline::unwired(adapters.settings())
    }
}

pub fn wire_approval(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        store: adapters.store(),
        notifier: adapters.notifier(),
        ..Pipeline::unwired(adapters.settings())
    }
}

/// The link's page decides, resumes the waiting execution and lists the stored report; Slack's
/// buttons decide here too, and are answered through Slack.
pub fn wire_approval_link(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        store: adapters.store(),
        executions: adapters.executions(),
        templates: adapters.templates(),
        chat: adapters.chat(),
        ..Pipeline::unwired(adapters.settings())
    }
}

pub fn wire_approval_decision(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        store: adapters.store(),
        executions: adapters.executions(),
        ..Pipeline::unwired(adapters.settings())
    }
}

/// Slack notify reads the approval it announces, posts it and records that it did.
pub fn wire_slack_notify(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        store: adapters.store(),
        chat: adapters.chat(),
        ..Pipeline::unwired(adapters.settings())
    }
}

pub fn wire_execute(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        stacks: adapters.stacks(),
        store: adapters.store(),
        ..Pipeline::unwired(adapters.settings())
    }
}

/// The record function also expands console input, storing the installed catalog's template.
pub fn wire_record(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        stacks: adapters.stacks(),
        store: adapters.store(),
        templates: adapters.templates(),
        ..Pipeline::unwired(adapters.settings())
    }
}

/// The environment function also expands console input, storing the installed catalog's templates.
pub fn wire_environment(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        stacks: adapters.stacks(),
        store: adapters.store(),
        templates: adapters.templates(),
        ..Pipeline::unwired(adapters.settings())
    }
}

/// Drift checks detect drift (and read stacks' statuses, changing none), read the deployed
/// templates, record and notify; the same reads run a deployment's post-deploy checks.
pub fn wire_drift_check(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        drift: adapters.drift(),
        store: adapters.store(),
        templates: adapters.templates(),
        notifier: adapters.notifier(),
        ..Pipeline::unwired(adapters.settings())
    }
}

/// Promotion checks read the source's records, drift scans and template; they call nothing else.
pub fn wire_promote(adapters: &impl Adapters) -> Pipeline {
    Pipeline {
        store: adapters.store(),
        templates: adapters.templates(),
        ..Pipeline::unwired(adapters.settings())
    }
}

/// The wiring of every function: the ports its binary links, and the actions its execution role
/// in `infra/pipeline.yaml` must allow (the pipeline's tests derive them from this).
pub fn wire(function: Function, adapters: &impl Adapters) -> Pipeline {
    match function {
        Function::Validate => wire_validate(adapters),
        Function::CreateChangeSet => wire_create_change_set(adapters),
        Function::CostEstimate => wire_cost_estimate(adapters),
        Function::Approval => wire_approval(adapters),
        Function::ApprovalLink => wire_approval_link(adapters),
        Function::ApprovalDecision => wire_approval_decision(adapters),
        Function::Execute => wire_execute(adapters),
        Function::Record => wire_record(adapters),
        Function::Environment => wire_environment(adapters),
        Function::DriftCheck => wire_drift_check(adapters),
        Function::Promote => wire_promote(adapters),
        Function::SlackNotify => wire_slack_notify(adapters),
    }
}

/// The handler of every function (the local Lambda host serves them all).
pub fn handler(function: Function) -> Handler {
    match function {
        Function::Validate => validate,
        Function::CreateChangeSet => create_change_set,
        Function::CostEstimate => cost_estimate,
        Function::Approval => approval,
        Function::ApprovalLink => approval_link,
        Function::ApprovalDecision => approval_decision,
        Function::Execute => execute,
        Function::Record => record,
        Function::Environment => environment,
        Function::DriftCheck => drift_check,
        Function::Promote => promote,
        Function::SlackNotify => slack_notify,
    }
}

pub fn validate(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        let input: StepInput = decode(Function::Validate.step(), event)?;
        encode(steps::validate::validate(pipeline, &input.request).await?)
    })
}

pub fn create_change_set(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        let input: PlannedInput = decode(Function::CreateChangeSet.step(), event)?;
        encode(steps::change_set::create_change_set(pipeline, &input.request, &input.plan).await?)
    })
}

pub fn cost_estimate(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        let input: CostInput = decode(Function::CostEstimate.step(), event)?;
        encode(steps::cost::estimate_cost(pipeline, &input).await?)
    })
}

pub fn approval(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        let input: ApprovalRequest = decode(Function::Approval.step(), event)?;
        encode(steps::approval::request_approval(pipeline, &input).await?)
    })
}

/// The approval link's page, behind its function URL (AuthType NONE).
/// Approval topic messages (SNS), posted to Slack.
pub fn slack_notify(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        let event: steps::slack::SnsEvent = decode(Function::SlackNotify.step(), event)?;
        encode(steps::slack::notify(pipeline, event).await?)
    })
}

pub fn approval_link(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        let request = function_url::request(Function::ApprovalLink.step(), event)?;
        let response = steps::approval_link::handle(pipeline, request).await;
        Ok(function_url::response(&response))
    })
}

/// The decision endpoint, behind its function URL (AuthType AWS_IAM).
pub fn approval_decision(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        let request = function_url::request(Function::ApprovalDecision.step(), event)?;
        let response = steps::approval_decision::handle(pipeline, request).await;
        Ok(function_url::response(&response))
    })
}

pub fn execute(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        match decode::<ExecuteEvent>(Function::Execute.step(), event)? {
            ExecuteEvent::Start(input) => encode(steps::execute::start(pipeline, &input).await?),
            ExecuteEvent::Poll(input) => encode(steps::execute::poll(pipeline, &input).await?),
        }
    })
}

/// The record function also reconciles deployments whose execution ended without recording,
/// from Step Functions' status change events.
pub fn record(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        if ExecutionStatusChange::is_one(&event) {
            let change: ExecutionStatusChange = decode(Function::Record.step(), event)?;
            return match change.ended_deployment() {
                Some(ended) => encode(
                    steps::reconcile::reconcile(
                        pipeline.store.as_ref(),
                        pipeline.stacks.as_ref(),
                        &ended,
                        "pipeline:reconcile",
                    )
                    .await?,
                ),
                None => encode(serde_json::json!({ "ignored": change.detail.execution_arn })),
            };
        }
        match decode::<RecordEvent>(Function::Record.step(), event)? {
            RecordEvent::Expand { start } => {
                encode(steps::console::expand_deploy(pipeline, &start).await?)
            }
            RecordEvent::Begin(input) => {
                encode(steps::begin::begin(pipeline, &input.request).await?)
            }
            RecordEvent::Finish(input) => encode(steps::finish::finish(pipeline, &input).await?),
        }
    })
}

pub fn environment(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        match decode::<EnvironmentEvent>(Function::Environment.step(), event)? {
            EnvironmentEvent::Expand { start } => {
                encode(steps::console::expand_environment(pipeline, &start).await?)
            }
            EnvironmentEvent::Advance(state) => {
                encode(steps::environment::advance(pipeline, *state).await?)
            }
            EnvironmentEvent::Abandon(run) => {
                encode(steps::environment::abandon(pipeline, *run).await?)
            }
        }
    })
}

pub fn drift_check(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        use steps::drift;
        match decode::<DriftEvent>(Function::DriftCheck.step(), event)? {
            DriftEvent::Plan { request, scan_id } => {
                encode(drift::plan(pipeline, &request, &scan_id).await?)
            }
            DriftEvent::Start { check } => encode(drift::start(pipeline, &check).await?),
            DriftEvent::Poll { check, detection } => {
                encode(drift::poll(pipeline, &check, &detection).await?)
            }
            DriftEvent::Collect { check, detection } => {
                encode(drift::collect(pipeline, &check, &detection).await?)
            }
            DriftEvent::Fail { check, error } => {
                encode(drift::fail(pipeline, &check, &error).await?)
            }
            DriftEvent::Finish { plan, results } => {
                encode(drift::finish(pipeline, &plan, &results).await?)
            }
            DriftEvent::Verify(input) => {
                encode(steps::verify::verify(pipeline, &input.request, &input.plan).await?)
            }
        }
    })
}

pub fn promote(pipeline: &Pipeline, event: Value) -> StepFuture<'_> {
    Box::pin(async move {
        match decode::<PromoteEvent>(Function::Promote.step(), event)? {
            PromoteEvent::Plan { request, scanned } => {
                encode(steps::promote::plan(pipeline, &request, scanned).await?)
            }
            PromoteEvent::Finish { request } => {
                encode(steps::promote::finish(pipeline, &request).await?)
            }
        }
    })
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum PromoteEvent {
    Plan {
        request: PromotionRequest,
        #[serde(default)]
        scanned: bool,
    },
    Finish {
        request: PromotionRequest,
    },
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
    Start(Box<ExecuteInput>),
    Poll(Box<ExecuteInput>),
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum RecordEvent {
    /// The console's `{"stack", "env"}`, expanded into the full request.
    Expand {
        start: ConsoleDeploy,
    },
    Begin(StepInput),
    Finish(Box<FinishInput>),
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum EnvironmentEvent {
    /// The console's `{"env"}`, expanded into the full request.
    Expand {
        start: ConsoleEnvironment,
    },
    Advance(Box<EnvironmentState>),
    Abandon(Box<AbandonedRun>),
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum DriftEvent {
    /// The scan's input and the execution's name, its id.
    Plan {
        request: ScanRequest,
        scan_id: String,
    },
    Start {
        check: StackCheck,
    },
    Poll {
        check: StackCheck,
        detection: Detection,
    },
    Collect {
        check: StackCheck,
        detection: Detection,
    },
    /// A stack's check broke; the Map caught the error.
    Fail {
        check: StackCheck,
        error: CaughtError,
    },
    Finish {
        plan: ScanPlan,
        results: Vec<StackCheckResult>,
    },
    /// A deployment's post-deploy checks (the deploy machine, after a successful execution).
    Verify(Box<PlannedInput>),
}

fn encode<T: Serialize>(value: T) -> Result<Value, StepError> {
    serde_json::to_value(value)
        .map_err(|e| StepError::RecordConflict(format!("cannot encode step result: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Invokes `function` with `event` and returns its error; decoding fails before any port is
    /// called.
    async fn rejection(function: Function, event: Value) -> StepError {
        let fakes = crate::fakes::Fakes::new();
        let pipeline = fakes.pipeline();
        match handler(function)(&pipeline, event.clone()).await {
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
                    err.to_string().contains(function.step()),
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
