//! The CloudFormation adapter of the stacks port: not-found as `ValidationError`, "already
//! exists" on a retried create and paginated descriptions turned into plain results.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudformation::operation::describe_stacks::{
    DescribeStacksError, DescribeStacksOutput,
};
use aws_sdk_cloudformation::types::{Capability, ChangeAction, Parameter, Tag};
use aws_sdk_cloudformation::Client;
use infra_agent_core::contract::change_set::{ChangeSetType, ResourceChange};
use infra_agent_core::stack::{
    ChangeSetStatus, ChangeSetView, StackEvent, StackState, StackStatus,
};
use infra_agent_core::StepError;

use super::error::{from_sdk, sdk_code, sdk_message};
use crate::ports::{ChangeSetSpec, ExecuteStart, Stacks};

#[derive(Debug, Clone)]
pub struct CloudFormation {
    client: Client,
}

impl CloudFormation {
    pub fn new(client: Client) -> Self {
        CloudFormation { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

#[async_trait]
impl Stacks for CloudFormation {
    async fn describe_stack(&self, stack_name: &str) -> Result<Option<StackState>, StepError> {
        stack_state(
            self.client
                .describe_stacks()
                .stack_name(stack_name)
                .send()
                .await,
        )
    }

    async fn stack_outputs(&self, stack_name: &str) -> Result<BTreeMap<String, String>, StepError> {
        let out = self
            .client
            .describe_stacks()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| from_sdk("cloudformation", "DescribeStacks", &e))?;
        Ok(outputs_of(&out))
    }

    async fn create_change_set(&self, spec: &ChangeSetSpec<'_>) -> Result<(), StepError> {
        let mut call = self
            .client
            .create_change_set()
            .stack_name(spec.stack_name)
            .change_set_name(spec.change_set_name)
            .change_set_type(match spec.change_set_type {
                ChangeSetType::Create => aws_sdk_cloudformation::types::ChangeSetType::Create,
                ChangeSetType::Update => aws_sdk_cloudformation::types::ChangeSetType::Update,
            })
            .capabilities(Capability::CapabilityNamedIam)
            .description(spec.description)
            .set_role_arn(spec.role_arn.clone())
            .set_deployment_mode(
                spec.revert_drift
                    .then_some(aws_sdk_cloudformation::types::DeploymentMode::RevertDrift),
            );
        call = match &spec.template_url {
            Some(url) => call.template_url(url),
            None => call.template_body(spec.template_body),
        };
        for (key, value) in spec.parameters {
            call = call.parameters(
                Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(value)
                    .build(),
            );
        }
        for (key, value) in spec.tags {
            call = call.tags(Tag::builder().key(key).value(value).build());
        }
        match call.send().await {
            Ok(_) => Ok(()),
            Err(e) if sdk_code(&e) == Some("AlreadyExistsException") => Ok(()),
            Err(e) => match from_sdk("cloudformation", "CreateChangeSet", &e) {
                transient @ StepError::Transient { .. } => Err(transient),
                _ => Err(StepError::ChangeSetFailed {
                    stack_name: spec.stack_name.to_string(),
                    change_set: spec.change_set_name.to_string(),
                    reason: sdk_message(&e),
                }),
            },
        }
    }

    async fn describe_change_set(
        &self,
        stack_name: &str,
        change_set_name: &str,
    ) -> Result<ChangeSetView, StepError> {
        use aws_sdk_cloudformation::types::ChangeSetStatus as Sdk;
        let mut changes = Vec::new();
        let mut pages = self
            .client
            .describe_change_set()
            .stack_name(stack_name)
            .change_set_name(change_set_name)
            .into_paginator()
            .send();
        let mut last = None;
        while let Some(page) = pages.next().await {
            let out = page.map_err(|e| from_sdk("cloudformation", "DescribeChangeSet", &e))?;
            for change in out.changes() {
                let Some(rc) = change.resource_change() else {
                    continue;
                };
                changes.push(ResourceChange {
                    action: rc.action().map(action_name).unwrap_or_default(),
                    logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: rc.resource_type().unwrap_or_default().to_string(),
                    replacement: rc.replacement().map(|r| r.as_str().to_string()),
                });
            }
            last = Some(out);
        }
        let out = last.ok_or_else(|| StepError::Aws {
            service: "cloudformation",
            operation: "DescribeChangeSet",
            message: format!("no description of change set {change_set_name}"),
        })?;
        let status = match out.status() {
            Some(Sdk::CreateComplete) => ChangeSetStatus::Complete,
            Some(Sdk::Failed) => ChangeSetStatus::Failed,
            Some(
                Sdk::DeletePending
                | Sdk::DeleteInProgress
                | Sdk::DeleteComplete
                | Sdk::DeleteFailed,
            ) => ChangeSetStatus::Deleted,
            _ => ChangeSetStatus::Computing,
        };
        Ok(ChangeSetView {
            arn: out.change_set_id().unwrap_or_default().to_string(),
            status,
            status_reason: out.status_reason().map(str::to_string),
            execution_status: out
                .execution_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            changes,
        })
    }

    async fn delete_change_set(
        &self,
        stack_name: &str,
        change_set_name: &str,
    ) -> Result<(), StepError> {
        match self
            .client
            .delete_change_set()
            .stack_name(stack_name)
            .change_set_name(change_set_name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    sdk_code(&e),
                    Some("ChangeSetNotFound") | Some("ChangeSetNotFoundException")
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(from_sdk("cloudformation", "DeleteChangeSet", &e)),
        }
    }

    async fn execute_change_set(
        &self,
        stack_name: &str,
        change_set_name: &str,
    ) -> Result<ExecuteStart, StepError> {
        let result = self
            .client
            .execute_change_set()
            .stack_name(stack_name)
            .change_set_name(change_set_name)
            .send()
            .await;
        match result {
            Ok(_) => Ok(ExecuteStart::Started),
            Err(e) if sdk_code(&e) == Some("InvalidChangeSetStatus") => {
                Ok(ExecuteStart::NotExecutable)
            }
            Err(e) => match from_sdk("cloudformation", "ExecuteChangeSet", &e) {
                transient @ StepError::Transient { .. } => Err(transient),
                _ => Ok(ExecuteStart::Refused(sdk_message(&e))),
            },
        }
    }

    async fn delete_stack(&self, stack_name: &str) -> Result<(), StepError> {
        self.client
            .delete_stack()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| from_sdk("cloudformation", "DeleteStack", &e))?;
        Ok(())
    }

    async fn latest_operation_events(
        &self,
        stack_name: &str,
    ) -> Result<Vec<StackEvent>, StepError> {
        let mut events = Vec::new();
        let mut pages = self
            .client
            .describe_stack_events()
            .stack_name(stack_name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let out = page.map_err(|e| from_sdk("cloudformation", "DescribeStackEvents", &e))?;
            for event in out.stack_events() {
                let event = StackEvent {
                    logical_id: event.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: event.physical_resource_id().map(str::to_string),
                    stack_id: event.stack_id().map(str::to_string),
                    resource_type: event.resource_type().unwrap_or_default().to_string(),
                    status: event
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason: event
                        .resource_status_reason()
                        .unwrap_or_default()
                        .to_string(),
                };
                let started = event.starts_operation(stack_name);
                events.push(event);
                // Events come newest first: the rest belong to earlier operations.
                if started {
                    return Ok(events);
                }
            }
        }
        Ok(events)
    }
}

/// CloudFormation's change actions (`Add`, `Modify`, `Remove`, …) in the words approvers read.
/// The outputs of a `DescribeStacks` answer's stack, by key.
pub(crate) fn outputs_of(out: &DescribeStacksOutput) -> BTreeMap<String, String> {
    out.stacks()
        .first()
        .map(|s| {
            s.outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// A `DescribeStacks` answer as the stack's state; "does not exist" is `None`, not an error.
pub(crate) fn stack_state(
    answer: Result<DescribeStacksOutput, super::error::SdkError<DescribeStacksError>>,
) -> Result<Option<StackState>, StepError> {
    match answer {
        Ok(out) => Ok(out.stacks().first().map(|s| StackState {
            stack_id: s.stack_id().unwrap_or_default().to_string(),
            status: StackStatus::parse(s.stack_status().map_or("", |st| st.as_str())),
            status_reason: s.stack_status_reason().map(str::to_string),
        })),
        Err(e)
            if sdk_code(&e) == Some("ValidationError")
                && sdk_message(&e).contains("does not exist") =>
        {
            Ok(None)
        }
        Err(e) => Err(from_sdk("cloudformation", "DescribeStacks", &e)),
    }
}

fn action_name(action: &ChangeAction) -> String {
    match action {
        ChangeAction::Add => "CREATE".into(),
        ChangeAction::Modify => "MODIFY".into(),
        ChangeAction::Remove => "DELETE".into(),
        other => other.as_str().to_ascii_uppercase(),
    }
}

/// Scripted CloudFormation for tests of what the local emulator cannot show: moto computes and
/// executes change sets synchronously and never produces failed resources or rollbacks.
#[cfg(test)]
pub(crate) mod fakes {
    use aws_config::retry::RetryConfig;
    use aws_sdk_cloudformation::types::{ResourceStatus, Stack, StackEvent, StackStatus};
    use aws_sdk_cloudformation::Client;
    use aws_smithy_mocks::{mock_client, Rule, RuleMode};

    use crate::ports::Pipeline;

    pub(crate) const STACK_NAME: &str = "infra-agent-dev-app";
    pub(crate) const STACK_ID: &str =
        "arn:aws:cloudformation:us-east-1:123456789012:stack/infra-agent-dev-app/6f1c2a70-1a2b-11f0-8d3e-0a1b2c3d4e5f";
    pub(crate) const MISSING_EXPORT: &str = "No export named infra-agent-dev-vpc-VpcId found";

    /// A CloudFormation client that answers with `rules` in order and panics on any call they do
    /// not expect. SDK retries are off so that each rule answers exactly one call of our code.
    pub(crate) fn cfn_client(rules: &[&Rule]) -> Client {
        mock_client!(
            aws_sdk_cloudformation,
            RuleMode::Sequential,
            rules,
            |config| { config.retry_config(RetryConfig::disabled()) }
        )
    }

    /// The error document CloudFormation's query protocol sends with an HTTP 400.
    pub(crate) fn error_document(code: &str, message: &str) -> String {
        format!(
            "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
             <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>9b2d6e1a-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
        )
    }

    /// A pipeline whose CloudFormation is the scripted `cfn`, everything else in memory.
    pub(crate) fn offline_pipeline(cfn: Client) -> Pipeline {
        let mut pipeline = crate::fakes::Fakes::new().pipeline();
        pipeline.stacks = std::sync::Arc::new(super::CloudFormation::new(cfn));
        pipeline
    }

    pub(crate) fn stack(status: &str, reason: Option<&str>) -> Stack {
        Stack::builder()
            .stack_name(STACK_NAME)
            .stack_id(STACK_ID)
            .stack_status(StackStatus::from(status))
            .set_stack_status_reason(reason.map(str::to_string))
            .build()
    }

    /// An event of the stack itself: CloudFormation names it by the stack and its physical id is
    /// the stack's ARN.
    pub(crate) fn stack_event(status: &str, reason: &str) -> StackEvent {
        event(
            STACK_NAME,
            STACK_ID,
            "AWS::CloudFormation::Stack",
            status,
            reason,
        )
    }

    pub(crate) fn resource_event(
        logical_id: &str,
        resource_type: &str,
        status: &str,
        reason: &str,
    ) -> StackEvent {
        event(logical_id, "", resource_type, status, reason)
    }

    fn event(
        logical_id: &str,
        physical_id: &str,
        resource_type: &str,
        status: &str,
        reason: &str,
    ) -> StackEvent {
        StackEvent::builder()
            .stack_id(STACK_ID)
            .stack_name(STACK_NAME)
            .event_id(format!("{logical_id}-{status}"))
            .logical_resource_id(logical_id)
            .physical_resource_id(physical_id)
            .resource_type(resource_type)
            .resource_status(ResourceStatus::from(status))
            // CloudFormation leaves the reason out rather than sending it empty.
            .set_resource_status_reason(Some(reason.to_string()).filter(|r| !r.is_empty()))
            .build()
    }

    /// The events of a CREATE change set whose security group failed on a missing export, newest
    /// first as DescribeStackEvents returns them: the instance creating alongside is cancelled,
    /// and both are rolled back.
    pub(crate) fn failed_create_events() -> Vec<StackEvent> {
        vec![
            stack_event("ROLLBACK_COMPLETE", ""),
            resource_event("AppInstance", "AWS::EC2::Instance", "DELETE_COMPLETE", ""),
            resource_event(
                "AppSecurityGroup",
                "AWS::EC2::SecurityGroup",
                "DELETE_COMPLETE",
                "",
            ),
            stack_event(
                "ROLLBACK_IN_PROGRESS",
                "The following resource(s) failed to create: [AppInstance, AppSecurityGroup]. \
                 Rollback requested by user.",
            ),
            resource_event(
                "AppInstance",
                "AWS::EC2::Instance",
                "CREATE_FAILED",
                "Resource creation cancelled",
            ),
            resource_event(
                "AppSecurityGroup",
                "AWS::EC2::SecurityGroup",
                "CREATE_FAILED",
                MISSING_EXPORT,
            ),
            resource_event(
                "AppInstance",
                "AWS::EC2::Instance",
                "CREATE_IN_PROGRESS",
                "",
            ),
            resource_event(
                "AppSecurityGroup",
                "AWS::EC2::SecurityGroup",
                "CREATE_IN_PROGRESS",
                "",
            ),
            stack_event("CREATE_IN_PROGRESS", "User Initiated"),
            stack_event("REVIEW_IN_PROGRESS", "User Initiated"),
        ]
    }
}

#[cfg(test)]
mod sdk_fake_tests {
    //! CloudFormation behaviour the emulator cannot show, against scripted SDK responses.

    use aws_config::retry::RetryConfig;
    use aws_sdk_cloudformation::operation::describe_change_set::builders::DescribeChangeSetOutputBuilder;
    use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
    use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
    use aws_sdk_cloudformation::types::{
        Change, ChangeAction, ChangeSetStatus, ChangeType, Replacement,
        ResourceChange as CfnResourceChange,
    };
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

    use super::fakes::*;
    use super::*;
    use crate::steps::change_set::wait_for_change_set;
    use infra_agent_core::stack::{first_failure, ChangeSetOutcome};
    use std::time::Duration;

    const CHANGE_SET: &str = "infra-agent-dev-app-20260301-001";
    const CHANGE_SET_ARN: &str =
        "arn:aws:cloudformation:us-east-1:123456789012:changeSet/infra-agent-dev-app-20260301-001/0d9e8f7a";

    fn events_page(
        events: &[aws_sdk_cloudformation::types::StackEvent],
        next: Option<&str>,
    ) -> DescribeStackEventsOutput {
        DescribeStackEventsOutput::builder()
            .set_stack_events(Some(events.to_vec()))
            .set_next_token(next.map(str::to_string))
            .build()
    }

    fn events_rule(page: DescribeStackEventsOutput, token: Option<&'static str>) -> Rule {
        mock!(Client::describe_stack_events)
            .match_requests(move |req| {
                req.stack_name() == Some(STACK_NAME) && req.next_token() == token
            })
            .then_output(move || page.clone())
    }

    fn assert_all_used(rules: &[&Rule]) {
        for (i, rule) in rules.iter().enumerate() {
            assert_eq!(
                rule.num_calls(),
                1,
                "rule {i} should answer exactly one call"
            );
        }
    }

    #[tokio::test]
    async fn first_failed_event_is_the_cause_not_the_cancellations() {
        let events = failed_create_events();
        // Two pages; the second says there are older events, which belong to no later operation
        // and must not be fetched (the fake panics on an unscripted call).
        let page_one = events_rule(events_page(&events[..5], Some("page-2")), None);
        let page_two = events_rule(events_page(&events[5..], Some("page-3")), Some("page-2"));
        let cfn = cfn_client(&[&page_one, &page_two]);

        let events = CloudFormation::new(cfn.clone())
            .latest_operation_events(STACK_NAME)
            .await
            .expect("the events are read");
        let failure = first_failure(STACK_NAME, &events).expect("a failed resource is found");

        assert_eq!(failure.reason, MISSING_EXPORT);
        assert_eq!(failure.resource.as_deref(), Some("AppSecurityGroup"));
        assert_eq!(
            failure.resource_type.as_deref(),
            Some("AWS::EC2::SecurityGroup")
        );
        assert_eq!(
            failure.rollback_status.as_deref(),
            Some("ROLLBACK_COMPLETE")
        );
        let advice = failure.recommendation.expect("a missing export has advice");
        assert!(advice.contains("infra-agent-dev-vpc-VpcId"), "{advice}");
        assert_all_used(&[&page_one, &page_two]);
    }

    #[tokio::test]
    async fn failures_of_earlier_operations_are_ignored() {
        let sg_not_found = "Resource handler returned message: \"The security group 'sg-0a1b2c3d' \
            does not exist in VPC 'vpc-0f1e2d3c' (Service: Ec2, Status Code: 400)\" \
            (HandlerErrorCode: NotFound)";
        let events = vec![
            stack_event("UPDATE_ROLLBACK_COMPLETE", ""),
            stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", ""),
            resource_event(
                "AppSecurityGroup",
                "AWS::EC2::SecurityGroup",
                "UPDATE_COMPLETE",
                "",
            ),
            stack_event(
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "The following resource(s) failed to update: [AppSecurityGroup].",
            ),
            resource_event(
                "AppQueue",
                "AWS::SQS::Queue",
                "UPDATE_FAILED",
                "Resource update cancelled",
            ),
            resource_event(
                "AppSecurityGroup",
                "AWS::EC2::SecurityGroup",
                "UPDATE_FAILED",
                sg_not_found,
            ),
            resource_event("AppQueue", "AWS::SQS::Queue", "UPDATE_IN_PROGRESS", ""),
            resource_event(
                "AppSecurityGroup",
                "AWS::EC2::SecurityGroup",
                "UPDATE_IN_PROGRESS",
                "",
            ),
            stack_event("UPDATE_IN_PROGRESS", "User Initiated"),
            // The previous deployment, which failed for another reason.
            stack_event("UPDATE_ROLLBACK_COMPLETE", ""),
            resource_event(
                "AppRole",
                "AWS::IAM::Role",
                "UPDATE_FAILED",
                "User: arn:aws:sts::123456789012:assumed-role/deployer/ci is not authorized \
                 to perform: iam:PassRole",
            ),
            resource_event("AppRole", "AWS::IAM::Role", "UPDATE_IN_PROGRESS", ""),
            stack_event("UPDATE_IN_PROGRESS", "User Initiated"),
        ];
        let page = events_rule(events_page(&events, Some("page-2")), None);
        let cfn = cfn_client(&[&page]);

        let events = CloudFormation::new(cfn.clone())
            .latest_operation_events(STACK_NAME)
            .await
            .expect("the events are read");
        let failure = first_failure(STACK_NAME, &events).expect("a failed resource is found");

        assert_eq!(failure.resource.as_deref(), Some("AppSecurityGroup"));
        assert_eq!(failure.reason, sg_not_found);
        assert_eq!(
            failure.rollback_status.as_deref(),
            Some("UPDATE_ROLLBACK_COMPLETE")
        );
        // The earlier operation's permission advice must not leak into this one.
        assert_eq!(failure.recommendation, None);
    }

    fn change_set_output(status: ChangeSetStatus) -> DescribeChangeSetOutputBuilder {
        DescribeChangeSetOutput::builder()
            .change_set_name(CHANGE_SET)
            .change_set_id(CHANGE_SET_ARN)
            .stack_name(STACK_NAME)
            .stack_id(STACK_ID)
            .status(status)
    }

    fn change(
        action: ChangeAction,
        logical_id: &str,
        ty: &str,
        replacement: Option<Replacement>,
    ) -> Change {
        Change::builder()
            .r#type(ChangeType::Resource)
            .resource_change(
                CfnResourceChange::builder()
                    .action(action)
                    .logical_resource_id(logical_id)
                    .resource_type(ty)
                    .set_replacement(replacement)
                    .build(),
            )
            .build()
    }

    fn change_set_rule(output: DescribeChangeSetOutput, token: Option<&'static str>) -> Rule {
        mock!(Client::describe_change_set)
            .match_requests(move |req| {
                req.stack_name() == Some(STACK_NAME)
                    && req.change_set_name() == Some(CHANGE_SET)
                    && req.next_token() == token
            })
            .then_output(move || output.clone())
    }

    async fn wait(cfn: &Client) -> Result<ChangeSetOutcome, StepError> {
        // Zero poll interval: the sequence of statuses, not the clock, drives the test.
        wait_for_change_set(
            &CloudFormation::new(cfn.clone()),
            STACK_NAME,
            CHANGE_SET,
            Duration::ZERO,
            Duration::from_secs(60),
        )
        .await
    }

    #[tokio::test]
    async fn computed_change_set_is_ready_with_every_page_of_changes() {
        let pending = change_set_rule(
            change_set_output(ChangeSetStatus::CreatePending).build(),
            None,
        );
        let computing = change_set_rule(
            change_set_output(ChangeSetStatus::CreateInProgress).build(),
            None,
        );
        let first_page = change_set_rule(
            change_set_output(ChangeSetStatus::CreateComplete)
                .changes(change(
                    ChangeAction::Add,
                    "AppQueue",
                    "AWS::SQS::Queue",
                    None,
                ))
                .changes(change(
                    ChangeAction::Modify,
                    "AppSecurityGroup",
                    "AWS::EC2::SecurityGroup",
                    Some(Replacement::True),
                ))
                .next_token("page-2")
                .build(),
            None,
        );
        let second_page = change_set_rule(
            change_set_output(ChangeSetStatus::CreateComplete)
                .changes(change(
                    ChangeAction::Remove,
                    "OldTopic",
                    "AWS::SNS::Topic",
                    None,
                ))
                .build(),
            Some("page-2"),
        );
        let rules = [&pending, &computing, &first_page, &second_page];
        let cfn = cfn_client(&rules);

        let outcome = wait(&cfn).await.expect("the change set is computed");

        let expected =
            |action: &str, id: &str, ty: &str, replacement: Option<&str>| ResourceChange {
                action: action.into(),
                logical_id: id.into(),
                resource_type: ty.into(),
                replacement: replacement.map(str::to_string),
            };
        assert_eq!(
            outcome,
            ChangeSetOutcome::Ready {
                arn: CHANGE_SET_ARN.into(),
                changes: vec![
                    expected("CREATE", "AppQueue", "AWS::SQS::Queue", None),
                    expected(
                        "MODIFY",
                        "AppSecurityGroup",
                        "AWS::EC2::SecurityGroup",
                        Some("True")
                    ),
                    expected("DELETE", "OldTopic", "AWS::SNS::Topic", None),
                ],
            }
        );
        assert_all_used(&rules);
    }

    #[tokio::test]
    async fn change_set_without_changes_is_no_changes_not_a_failure() {
        let failed = change_set_rule(
            change_set_output(ChangeSetStatus::Failed)
                .status_reason(
                    "The submitted information didn't contain changes. Submit different \
                     information to create a change set.",
                )
                .build(),
            None,
        );
        let cfn = cfn_client(&[&failed]);

        assert_eq!(
            wait(&cfn).await.expect("the change set is computed"),
            ChangeSetOutcome::NoChanges {
                arn: CHANGE_SET_ARN.into()
            }
        );
    }

    #[tokio::test]
    async fn failed_change_set_carries_cloudformation_reason() {
        let computing = change_set_rule(
            change_set_output(ChangeSetStatus::CreateInProgress).build(),
            None,
        );
        let failed = change_set_rule(
            change_set_output(ChangeSetStatus::Failed)
                .status_reason(MISSING_EXPORT)
                .build(),
            None,
        );
        let cfn = cfn_client(&[&computing, &failed]);

        assert_eq!(
            wait(&cfn).await.expect("the change set is computed"),
            ChangeSetOutcome::Failed {
                reason: MISSING_EXPORT.into()
            }
        );
    }

    fn describe_stacks_error(code: &str, message: &str) -> Rule {
        let body = error_document(code, message);
        mock!(Client::describe_stacks)
            .sequence()
            .http_status(400, Some(body))
            .build()
    }

    #[tokio::test]
    async fn missing_stack_is_none_not_an_error() {
        let missing = describe_stacks_error(
            "ValidationError",
            "Stack with id infra-agent-dev-app does not exist",
        );
        let cfn = cfn_client(&[&missing]);

        assert_eq!(
            CloudFormation::new(cfn.clone())
                .describe_stack(STACK_NAME)
                .await
                .expect("not an error"),
            None
        );
    }

    #[tokio::test]
    async fn other_validation_errors_of_describe_are_not_a_missing_stack() {
        let invalid = describe_stacks_error(
            "ValidationError",
            "1 validation error detected: Value 'infra agent' at 'stackName' failed to satisfy constraint",
        );
        let cfn = cfn_client(&[&invalid]);

        let err = CloudFormation::new(cfn.clone())
            .describe_stack(STACK_NAME)
            .await
            .expect_err("not a missing stack");
        assert_eq!(err.error_type(), "AwsError");
    }

    #[tokio::test]
    async fn throttled_describe_is_transient() {
        let throttled = describe_stacks_error("Throttling", "Rate exceeded");
        let cfn = cfn_client(&[&throttled]);

        let err = CloudFormation::new(cfn.clone())
            .describe_stack(STACK_NAME)
            .await
            .expect_err("throttled");
        assert!(matches!(err, StepError::Transient { .. }), "{err:?}");
        assert!(err.to_string().contains("Rate exceeded"), "{err}");
    }

    /// A client that retries as the pipeline's do (the SDK's standard mode, three attempts), with
    /// a backoff short enough for a test.
    fn retrying_client(rules: &[&Rule]) -> Client {
        mock_client!(
            aws_sdk_cloudformation,
            RuleMode::Sequential,
            rules,
            |config| {
                config.retry_config(
                    RetryConfig::standard()
                        .with_max_attempts(3)
                        .with_initial_backoff(Duration::from_millis(1)),
                )
            }
        )
    }

    fn throttled_then_found(throttles: usize) -> Rule {
        let body = error_document("Throttling", "Rate exceeded");
        let found =
            aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput::builder()
                .stacks(stack("CREATE_COMPLETE", None))
                .build();
        mock!(Client::describe_stacks)
            .sequence()
            .http_status(400, Some(body))
            .times(throttles)
            .output(move || found.clone())
            .build()
    }

    #[tokio::test]
    async fn throttling_is_retried_with_backoff_and_does_not_surface_below_the_limit() {
        let rule = throttled_then_found(2);
        let cfn = retrying_client(&[&rule]);

        let stack = CloudFormation::new(cfn)
            .describe_stack(STACK_NAME)
            .await
            .expect("two throttles are absorbed by the retries");

        assert_eq!(stack.map(|s| s.status), Some(StackStatus::CreateComplete));
        assert_eq!(rule.num_calls(), 3);
    }

    #[tokio::test]
    async fn throttling_past_the_limit_surfaces_as_a_transient_error() {
        let rule = throttled_then_found(3);
        let cfn = retrying_client(&[&rule]);

        let err = CloudFormation::new(cfn)
            .describe_stack(STACK_NAME)
            .await
            .expect_err("three throttles exhaust the attempts");

        assert_eq!(err.error_type(), "TransientError", "{err}");
        assert_eq!(rule.num_calls(), 3);
    }

    fn create_change_set_error(code: &str, message: &str) -> Rule {
        let body = error_document(code, message);
        mock!(Client::create_change_set)
            .match_requests(|req| {
                req.stack_name() == Some(STACK_NAME) && req.change_set_name() == Some(CHANGE_SET)
            })
            .sequence()
            .http_status(400, Some(body))
            .build()
    }

    async fn create(cfn: &Client) -> Result<(), StepError> {
        let no_values = BTreeMap::new();
        let spec = ChangeSetSpec {
            stack_name: STACK_NAME,
            change_set_name: CHANGE_SET,
            change_set_type: ChangeSetType::Create,
            template_body: "Resources: {}",
            template_url: None,
            role_arn: None,
            revert_drift: false,
            parameters: &no_values,
            tags: &no_values,
            description: "test",
        };
        CloudFormation::new(cfn.clone())
            .create_change_set(&spec)
            .await
    }

    #[tokio::test]
    async fn existing_change_set_of_the_same_name_counts_as_created() {
        // What a retried step sees: its first attempt created the change set.
        let exists = create_change_set_error(
            "AlreadyExistsException",
            "ChangeSet infra-agent-dev-app-20260301-001 already exists",
        );
        let cfn = cfn_client(&[&exists]);

        create(&cfn).await.expect("an existing change set is kept");
        assert_all_used(&[&exists]);
    }

    #[tokio::test]
    async fn rejected_change_set_names_stack_change_set_and_reason() {
        let rejected = create_change_set_error(
            "ValidationError",
            "Template format error: Unresolved resource dependencies [Vpc] in the Resources block",
        );
        let cfn = cfn_client(&[&rejected]);

        let err = create(&cfn).await.expect_err("rejected");
        assert_eq!(err.error_type(), "ChangeSetFailed");
        let message = err.to_string();
        assert!(
            message.contains(STACK_NAME) && message.contains(CHANGE_SET),
            "{message}"
        );
        assert!(
            message.contains("Unresolved resource dependencies"),
            "{message}"
        );
    }
}
