//! The one registry of the pipeline's Lambda functions and state machines: names, the placeholders
//! the definitions under `statemachine/` use for their ARNs, which functions each machine calls,
//! and which functions people reach through a function URL instead. The local bootstrap and host,
//! the CLI, the tests and the pipeline's own template read it.

/// The pipeline's Lambda functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Validate,
    CreateChangeSet,
    CostEstimate,
    /// The approval step (`.waitForTaskToken`): records the approval and tells the approvers.
    Approval,
    /// The signed approval link's page: GET shows the change, POST decides.
    ApprovalLink,
    /// The decision endpoint for IAM-authenticated callers (`infra-agent approve|reject`).
    ApprovalDecision,
    Execute,
    Record,
    /// Between the waves of the deploy-environment machine.
    Environment,
    /// The drift-scan machine's steps (plan, detect, poll, judge and record, notify), and the
    /// deploy machine's post-deploy checks, which read what was built the same way.
    DriftCheck,
    /// The promote machine's checks before a promotion, and its record after.
    Promote,
    /// Subscribed to the approval topic: posts approvals (and drift reports) to Slack.
    SlackNotify,
}

/// How a function URL authenticates its callers (its `AuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UrlAuth {
    /// `NONE`: anyone reaches the function, which authenticates the request itself (the approval
    /// link's HMAC signature).
    None,
    /// `AWS_IAM`: only SigV4-signed requests reach the function, with the caller's ARN in the
    /// event's `requestContext.authorizer.iam.userArn`.
    AwsIam,
}

impl UrlAuth {
    /// The `AuthType` as AWS names it.
    pub fn as_str(self) -> &'static str {
        match self {
            UrlAuth::None => "NONE",
            UrlAuth::AwsIam => "AWS_IAM",
        }
    }

    pub fn parse(auth_type: &str) -> Option<UrlAuth> {
        [UrlAuth::None, UrlAuth::AwsIam]
            .into_iter()
            .find(|a| a.as_str() == auth_type)
    }
}

impl Function {
    pub const ALL: [Function; 12] = [
        Function::Validate,
        Function::CreateChangeSet,
        Function::CostEstimate,
        Function::Approval,
        Function::ApprovalLink,
        Function::ApprovalDecision,
        Function::Execute,
        Function::Record,
        Function::Environment,
        Function::DriftCheck,
        Function::Promote,
        Function::SlackNotify,
    ];

    /// The step's name: the crate under `functions/` and the name in its errors.
    pub fn step(self) -> &'static str {
        match self {
            Function::Validate => "validate",
            Function::CreateChangeSet => "create-change-set",
            Function::CostEstimate => "cost-estimate",
            Function::Approval => "approval",
            Function::ApprovalLink => "approval-link",
            Function::ApprovalDecision => "approval-decision",
            Function::Execute => "execute",
            Function::Record => "record",
            Function::Environment => "environment",
            Function::DriftCheck => "drift-check",
            Function::Promote => "promote",
            Function::SlackNotify => "slack-notify",
        }
    }

    /// The deployed function name (`infra-agent-<step>`).
    pub fn name(self) -> String {
        format!("{PREFIX}{}", self.step())
    }

    /// Placeholder used for the function's ARN in `statemachine/*.asl.json`.
    pub fn arn_placeholder(self) -> &'static str {
        match self {
            Function::Validate => "${ValidateFunctionArn}",
            Function::CreateChangeSet => "${CreateChangeSetFunctionArn}",
            Function::CostEstimate => "${CostEstimateFunctionArn}",
            Function::Approval => "${ApprovalFunctionArn}",
            Function::ApprovalLink => "${ApprovalLinkFunctionArn}",
            Function::ApprovalDecision => "${ApprovalDecisionFunctionArn}",
            Function::Execute => "${ExecuteFunctionArn}",
            Function::Record => "${RecordFunctionArn}",
            Function::Environment => "${EnvironmentFunctionArn}",
            Function::DriftCheck => "${DriftCheckFunctionArn}",
            Function::Promote => "${PromoteFunctionArn}",
            Function::SlackNotify => "${SlackNotifyFunctionArn}",
        }
    }

    /// The function's URL, for the functions people reach over HTTPS. No state machine invokes
    /// these, and nobody needs `lambda:InvokeFunction` on them: invoked directly, the event
    /// could claim any caller.
    pub fn url_auth(self) -> Option<UrlAuth> {
        match self {
            Function::ApprovalLink => Some(UrlAuth::None),
            Function::ApprovalDecision => Some(UrlAuth::AwsIam),
            Function::Validate
            | Function::CreateChangeSet
            | Function::CostEstimate
            | Function::Approval
            | Function::Execute
            | Function::Record
            | Function::Environment
            | Function::DriftCheck
            | Function::Promote
            | Function::SlackNotify => None,
        }
    }

    /// Whether SNS invokes the function, for each message of the approval topic (its
    /// subscription and invoke permission are in the pipeline's template).
    pub fn subscribed_to_approval_topic(self) -> bool {
        self == Function::SlackNotify
    }

    /// Finds a function by name or ARN (`arn:aws:lambda:…:function:NAME[:qualifier]`).
    pub fn from_name_or_arn(name: &str) -> Option<Function> {
        let name = match name.split_once(":function:") {
            Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
            None => name,
        };
        let step = name.strip_prefix(PREFIX)?;
        Function::ALL.into_iter().find(|f| f.step() == step)
    }

    pub fn arn(self, region: &str, account: &str) -> String {
        format!("arn:aws:lambda:{region}:{account}:function:{}", self.name())
    }
}

/// Every resource of the pipeline is named `infra-agent-…`.
const PREFIX: &str = "infra-agent-";

/// The pipeline's state machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateMachine {
    /// One stack: validate → change set → cost → approval → execute → record.
    Deploy,
    /// Every stack of an environment, wave by wave, each through the deploy machine.
    DeployEnvironment,
    /// Drift detection over the stacks of an environment, on a schedule or on demand.
    DriftScan,
    /// A stack's verified version from one environment to the next, through the deploy machine.
    Promote,
}

impl StateMachine {
    pub const ALL: [StateMachine; 4] = [
        StateMachine::Deploy,
        StateMachine::DeployEnvironment,
        StateMachine::DriftScan,
        StateMachine::Promote,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StateMachine::Deploy => "infra-agent-deploy",
            StateMachine::DeployEnvironment => "infra-agent-deploy-environment",
            StateMachine::DriftScan => "infra-agent-drift-scan",
            StateMachine::Promote => "infra-agent-promote",
        }
    }

    /// The definition's file under `statemachine/`.
    pub fn file(self) -> &'static str {
        match self {
            StateMachine::Deploy => "deploy.asl.json",
            StateMachine::DeployEnvironment => "deploy-environment.asl.json",
            StateMachine::DriftScan => "drift-scan.asl.json",
            StateMachine::Promote => "promote.asl.json",
        }
    }

    /// The definition as written in the repository, with its placeholders.
    pub fn definition(self) -> &'static str {
        match self {
            StateMachine::Deploy => include_str!("../../../statemachine/deploy.asl.json"),
            StateMachine::DeployEnvironment => {
                include_str!("../../../statemachine/deploy-environment.asl.json")
            }
            StateMachine::DriftScan => include_str!("../../../statemachine/drift-scan.asl.json"),
            StateMachine::Promote => include_str!("../../../statemachine/promote.asl.json"),
        }
    }

    /// Placeholder of this machine's ARN in the definitions of machines that start it.
    pub fn arn_placeholder(self) -> &'static str {
        match self {
            StateMachine::Deploy => "${DeployStateMachineArn}",
            StateMachine::DeployEnvironment => "${DeployEnvironmentStateMachineArn}",
            StateMachine::DriftScan => "${DriftScanStateMachineArn}",
            StateMachine::Promote => "${PromoteStateMachineArn}",
        }
    }

    /// The functions the machine invokes.
    pub fn functions(self) -> &'static [Function] {
        match self {
            StateMachine::Deploy => &[
                Function::Record,
                Function::Validate,
                Function::CreateChangeSet,
                Function::CostEstimate,
                Function::Approval,
                Function::Execute,
                Function::DriftCheck,
            ],
            StateMachine::DeployEnvironment => &[Function::Environment],
            StateMachine::DriftScan => &[Function::DriftCheck],
            StateMachine::Promote => &[Function::Promote],
        }
    }

    /// The machines it starts as nested executions.
    pub fn machines(self) -> &'static [StateMachine] {
        match self {
            StateMachine::Deploy | StateMachine::DriftScan => &[],
            StateMachine::DeployEnvironment => &[StateMachine::Deploy],
            StateMachine::Promote => &[StateMachine::Deploy, StateMachine::DriftScan],
        }
    }

    /// The variable a client reads the machine's ARN from.
    pub fn arn_variable(self) -> &'static str {
        match self {
            StateMachine::Deploy => "INFRA_AGENT_STATE_MACHINE_ARN",
            StateMachine::DeployEnvironment => "INFRA_AGENT_ENVIRONMENT_STATE_MACHINE_ARN",
            StateMachine::DriftScan => "INFRA_AGENT_DRIFT_STATE_MACHINE_ARN",
            StateMachine::Promote => "INFRA_AGENT_PROMOTE_STATE_MACHINE_ARN",
        }
    }

    pub fn arn(self, region: &str, account: &str) -> String {
        state_machine_arn(region, account, self.name())
    }

    /// The definition with every placeholder replaced by the ARN it stands for.
    pub fn render(self, region: &str, account: &str) -> String {
        render(self.definition(), region, account)
    }
}

/// Replaces every function and state machine placeholder in `definition` with its ARN.
pub fn render(definition: &str, region: &str, account: &str) -> String {
    let functions = Function::ALL
        .iter()
        .fold(definition.to_string(), |text, f| {
            text.replace(f.arn_placeholder(), &f.arn(region, account))
        });
    StateMachine::ALL.iter().fold(functions, |text, m| {
        text.replace(m.arn_placeholder(), &m.arn(region, account))
    })
}

pub fn state_machine_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:stateMachine:{name}")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

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
        assert_eq!(Function::from_name_or_arn("execute"), None);
    }

    #[test]
    fn every_placeholder_of_every_machine_is_substituted() {
        for machine in StateMachine::ALL {
            let rendered = machine.render("us-east-1", "123456789012");
            assert!(
                !rendered.contains("${"),
                "{}: unsubstituted placeholder left",
                machine.name()
            );
            let _: serde_json::Value = serde_json::from_str(&rendered)
                .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", machine.name()));
        }
    }

    /// The registry says which functions and machines a definition uses; the definition must use
    /// exactly those, so the pipeline's template grants each machine what it calls and no more.
    #[test]
    fn each_machine_uses_exactly_the_functions_and_machines_the_registry_names() {
        for machine in StateMachine::ALL {
            let text = machine.definition();
            let used: BTreeSet<&str> = Function::ALL
                .iter()
                .filter(|f| text.contains(f.arn_placeholder()))
                .map(|f| f.step())
                .collect();
            let declared: BTreeSet<&str> = machine.functions().iter().map(|f| f.step()).collect();
            assert_eq!(used, declared, "{}", machine.name());
            let nested: BTreeSet<&str> = StateMachine::ALL
                .iter()
                .filter(|m| text.contains(m.arn_placeholder()))
                .map(|m| m.name())
                .collect();
            let declared: BTreeSet<&str> = machine.machines().iter().map(|m| m.name()).collect();
            assert_eq!(nested, declared, "{}", machine.name());
        }
    }

    /// A function is invoked by a machine, reached through its URL or subscribed to the approval
    /// topic: exactly one. The URL functions take the caller from the event, which a direct
    /// invocation could forge.
    #[test]
    fn functions_behind_a_url_are_invoked_by_no_machine_and_every_other_by_one() {
        for function in Function::ALL {
            let invoked = StateMachine::ALL
                .iter()
                .any(|m| m.functions().contains(&function));
            let ways = [
                invoked,
                function.url_auth().is_some(),
                function.subscribed_to_approval_topic(),
            ];
            assert_eq!(
                ways.iter().filter(|w| **w).count(),
                1,
                "{}: machine, URL, topic = {ways:?}",
                function.name()
            );
        }
        assert_eq!(
            Function::ApprovalDecision.url_auth().map(UrlAuth::as_str),
            Some("AWS_IAM")
        );
        assert_eq!(UrlAuth::parse("NONE"), Some(UrlAuth::None));
        assert_eq!(UrlAuth::parse("aws_iam"), None);
    }

    #[test]
    fn deploy_machine_starts_a_request_by_recording_and_names_the_record_function() {
        let rendered = StateMachine::Deploy.render("us-east-1", "123456789012");
        assert!(
            rendered.contains("arn:aws:lambda:us-east-1:123456789012:function:infra-agent-record")
        );
        let value: serde_json::Value = serde_json::from_str(&rendered).expect("valid JSON");
        let route = &value["States"][value["StartAt"].as_str().unwrap()];
        assert_eq!(route["Choices"][0]["Variable"], "$.request");
        assert_eq!(route["Choices"][0]["Next"], "Start deployment");
        assert_eq!(route["Default"], "Expand console input");
    }

    #[test]
    fn environment_machine_names_the_environment_function_and_the_deploy_machine() {
        let rendered = StateMachine::DeployEnvironment.render("eu-west-1", "210987654321");
        let value: serde_json::Value = serde_json::from_str(&rendered).expect("valid JSON");
        let states = &value["States"];
        assert_eq!(
            states["Plan next wave"]["Resource"],
            "arn:aws:lambda:eu-west-1:210987654321:function:infra-agent-environment"
        );
        let deploy = &states["Deploy wave"]["ItemProcessor"]["States"]["Deploy stack"];
        assert_eq!(
            deploy["Parameters"]["StateMachineArn"],
            "arn:aws:states:eu-west-1:210987654321:stateMachine:infra-agent-deploy"
        );
        assert_eq!(
            deploy["Resource"],
            "arn:aws:states:::states:startExecution.sync:2"
        );
    }

    fn definition(machine: StateMachine) -> serde_json::Value {
        serde_json::from_str(machine.definition()).expect("valid JSON")
    }

    /// An execution that outlives every step's own bound still ends, as TIMED_OUT, and no
    /// environment's deployment can legitimately take longer.
    #[test]
    fn the_deploy_machine_ends_after_the_longest_deployment_any_environment_allows() {
        use crate::environment::{EnvironmentConfig, LOCK_MARGIN_MINUTES};
        let timeout = definition(StateMachine::Deploy)["TimeoutSeconds"]
            .as_u64()
            .expect("the deploy machine has a TimeoutSeconds");
        for env in crate::naming::Env::ALL {
            let config = EnvironmentConfig::builtin(env).unwrap();
            let longest = u64::from(config.longest_deployment_minutes() + LOCK_MARGIN_MINUTES) * 60;
            assert!(timeout >= longest, "{env}: {timeout}s < {longest}s");
        }
    }

    #[test]
    fn every_record_step_is_retried_before_recording_fails_and_polls_carry_their_deadline() {
        let value = definition(StateMachine::Deploy);
        let states = value["States"].as_object().unwrap();
        let finishes: Vec<_> = states
            .iter()
            .filter(|(_, s)| s["Parameters"]["action"] == "finish")
            .collect();
        assert!(finishes.len() >= 5, "{}", finishes.len());
        for (name, state) in finishes {
            let retries = state["Retry"].as_array().unwrap();
            assert!(
                retries
                    .iter()
                    .any(|r| r["ErrorEquals"] == serde_json::json!(["States.ALL"])),
                "{name} is not retried on every error"
            );
        }
        assert_eq!(
            states["Check stack status"]["Parameters"]["execution.$"],
            "$.execution"
        );
    }

    /// Throttling and other transient failures surface as `TransientError` (or Lambda's own
    /// errors) from every function; every task of every machine retries them with backoff before
    /// any Catch sees them.
    #[test]
    fn every_task_retries_transient_errors_with_backoff() {
        fn tasks(states: &serde_json::Value, found: &mut Vec<(String, serde_json::Value)>) {
            for (name, state) in states.as_object().into_iter().flatten() {
                if state["Type"] == "Task" {
                    found.push((name.clone(), state.clone()));
                }
                if let Some(inner) = state.pointer("/ItemProcessor/States") {
                    tasks(inner, found);
                }
            }
        }
        for machine in StateMachine::ALL {
            let value = definition(machine);
            let mut found = Vec::new();
            tasks(&value["States"], &mut found);
            assert!(!found.is_empty());
            for (name, state) in found {
                let lambda = state["Resource"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("${") || r.contains(":lambda:"));
                if !lambda {
                    continue;
                }
                let retry = state["Retry"]
                    .as_array()
                    .and_then(|rs| {
                        rs.iter().find(|r| {
                            r["ErrorEquals"]
                                .as_array()
                                .is_some_and(|e| e.iter().any(|x| x == "TransientError"))
                        })
                    })
                    .unwrap_or_else(|| {
                        panic!("{}: {name} does not retry TransientError", machine.name())
                    });
                assert!(retry["MaxAttempts"].as_u64().unwrap_or(3) >= 2, "{name}");
                assert!(retry["BackoffRate"].as_f64().unwrap_or(2.0) > 1.0, "{name}");
            }
        }
    }
}
