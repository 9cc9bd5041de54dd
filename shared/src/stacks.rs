//! CloudFormation adapter: stacks, change sets and stack events, with CloudFormation's quirks
//! (not-found as `ValidationError`, empty change sets as `FAILED`) turned into plain results.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, Parameter, Tag};
use aws_sdk_cloudformation::Client;

use crate::contract::change_set::{ChangeSetType, ResourceChange};
use crate::contract::execute::StackFailure;
use crate::error::{sdk_code, sdk_message};
use crate::StepError;

/// Largest template CloudFormation accepts inline; bigger ones must be passed by URL.
pub const MAX_INLINE_TEMPLATE_BYTES: usize = 51_200;

/// What CloudFormation says when a change set would change nothing.
const NO_CHANGES_REASONS: [&str; 2] = ["didn't contain changes", "No updates are to be performed"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackState {
    pub stack_id: String,
    pub status: String,
    pub status_reason: Option<String>,
}

/// Live state of a stack, `None` when it does not exist.
pub async fn describe_stack(
    cfn: &Client,
    stack_name: &str,
) -> Result<Option<StackState>, StepError> {
    match cfn.describe_stacks().stack_name(stack_name).send().await {
        Ok(out) => Ok(out.stacks().first().map(|s| StackState {
            stack_id: s.stack_id().unwrap_or_default().to_string(),
            status: s
                .stack_status()
                .map(|st| st.as_str().to_string())
                .unwrap_or_default(),
            status_reason: s.stack_status_reason().map(str::to_string),
        })),
        Err(e)
            if sdk_code(&e) == Some("ValidationError")
                && sdk_message(&e).contains("does not exist") =>
        {
            Ok(None)
        }
        Err(e) => Err(StepError::from_sdk("cloudformation", "DescribeStacks", &e)),
    }
}

/// Outputs of a stack, by output key.
pub async fn stack_outputs(
    cfn: &Client,
    stack_name: &str,
) -> Result<BTreeMap<String, String>, StepError> {
    let out = cfn
        .describe_stacks()
        .stack_name(stack_name)
        .send()
        .await
        .map_err(|e| StepError::from_sdk("cloudformation", "DescribeStacks", &e))?;
    Ok(out
        .stacks()
        .first()
        .map(|s| {
            s.outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
                .collect()
        })
        .unwrap_or_default())
}

/// Whether a stack's status means it is there to read outputs from (and to build on).
pub fn is_deployed(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" | "IMPORT_COMPLETE"
    )
}

/// Outputs of those of `stacks` deployed in `env`; a stack that is not deployed has no entry.
pub async fn deployed_outputs<'a>(
    cfn: &Client,
    env: crate::naming::Env,
    stacks: impl IntoIterator<Item = &'a crate::naming::StackKey>,
) -> Result<crate::catalog::OutputsByStack, StepError> {
    let mut outputs = crate::catalog::OutputsByStack::new();
    for stack in stacks {
        if outputs.contains_key(stack) {
            continue;
        }
        let name = crate::naming::stack_name(env, stack);
        let deployed = describe_stack(cfn, &name)
            .await?
            .is_some_and(|s| is_deployed(&s.status));
        if deployed {
            outputs.insert(stack.clone(), stack_outputs(cfn, &name).await?);
        }
    }
    Ok(outputs)
}

/// Whether a new change set must CREATE the stack or UPDATE it. A stack left in
/// `REVIEW_IN_PROGRESS` by an earlier, never-executed CREATE change set is created again.
pub fn change_set_type_for(stack: Option<&StackState>) -> Result<ChangeSetType, String> {
    let Some(stack) = stack else {
        return Ok(ChangeSetType::Create);
    };
    match stack.status.as_str() {
        "REVIEW_IN_PROGRESS" => Ok(ChangeSetType::Create),
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "DELETE_FAILED" => Err(format!(
            "stack is in {} after a failed operation and cannot be updated; delete it, then deploy again",
            stack.status
        )),
        s if s.ends_with("_IN_PROGRESS") => Err(format!(
            "stack is busy ({s}); wait for the running operation to finish"
        )),
        _ => Ok(ChangeSetType::Update),
    }
}

pub struct ChangeSetSpec<'a> {
    pub stack_name: &'a str,
    pub change_set_name: &'a str,
    pub change_set_type: ChangeSetType,
    pub template_body: &'a str,
    pub template_url: Option<String>,
    pub parameters: &'a BTreeMap<String, String>,
    pub tags: &'a BTreeMap<String, String>,
    pub description: &'a str,
}

/// Creates the change set; if one of that name exists already (a retried step), keeps it.
pub async fn create_change_set(cfn: &Client, spec: &ChangeSetSpec<'_>) -> Result<(), StepError> {
    let mut call = cfn
        .create_change_set()
        .stack_name(spec.stack_name)
        .change_set_name(spec.change_set_name)
        .change_set_type(match spec.change_set_type {
            ChangeSetType::Create => aws_sdk_cloudformation::types::ChangeSetType::Create,
            ChangeSetType::Update => aws_sdk_cloudformation::types::ChangeSetType::Update,
        })
        .capabilities(Capability::CapabilityNamedIam)
        .description(spec.description);
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
        Err(e) => match StepError::from_sdk("cloudformation", "CreateChangeSet", &e) {
            transient @ StepError::Transient { .. } => Err(transient),
            _ => Err(StepError::ChangeSetFailed {
                stack_name: spec.stack_name.to_string(),
                change_set: spec.change_set_name.to_string(),
                reason: sdk_message(&e),
            }),
        },
    }
}

/// A change set once CloudFormation has finished computing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetOutcome {
    Ready {
        arn: String,
        changes: Vec<ResourceChange>,
    },
    NoChanges {
        arn: String,
    },
    Failed {
        reason: String,
    },
}

/// Polls the change set until it is computed, reading every page of changes.
pub async fn wait_for_change_set(
    cfn: &Client,
    stack_name: &str,
    change_set_name: &str,
    poll: Duration,
    max_wait: Duration,
) -> Result<ChangeSetOutcome, StepError> {
    let started = std::time::Instant::now();
    loop {
        let mut changes = Vec::new();
        let mut next_token: Option<String> = None;
        let (status, reason, arn) = loop {
            let out = cfn
                .describe_change_set()
                .stack_name(stack_name)
                .change_set_name(change_set_name)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|e| StepError::from_sdk("cloudformation", "DescribeChangeSet", &e))?;
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
            next_token = out.next_token().map(str::to_string);
            if next_token.is_none() {
                break (
                    out.status().cloned(),
                    out.status_reason().map(str::to_string),
                    out.change_set_id().unwrap_or_default().to_string(),
                );
            }
        };
        match status {
            Some(ChangeSetStatus::CreateComplete) => {
                return Ok(ChangeSetOutcome::Ready { arn, changes })
            }
            Some(
                ChangeSetStatus::DeletePending
                | ChangeSetStatus::DeleteInProgress
                | ChangeSetStatus::DeleteComplete
                | ChangeSetStatus::DeleteFailed,
            ) => {
                return Ok(ChangeSetOutcome::Failed {
                    reason: "the change set was deleted while it was being created".into(),
                })
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = reason.unwrap_or_else(|| "no reason given".into());
                if NO_CHANGES_REASONS.iter().any(|r| reason.contains(r)) {
                    return Ok(ChangeSetOutcome::NoChanges { arn });
                }
                return Ok(ChangeSetOutcome::Failed { reason });
            }
            _ if started.elapsed() > max_wait => {
                return Err(StepError::Transient {
                    service: "cloudformation",
                    operation: "DescribeChangeSet",
                    message: format!(
                        "change set {change_set_name} still being created after {max_wait:?}"
                    ),
                })
            }
            _ => tokio::time::sleep(poll).await,
        }
    }
}

pub async fn delete_change_set(
    cfn: &Client,
    stack_name: &str,
    change_set_name: &str,
) -> Result<(), StepError> {
    match cfn
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
        Err(e) => Err(StepError::from_sdk("cloudformation", "DeleteChangeSet", &e)),
    }
}

/// Whether a change set was executed (or is executing), and if not, why it cannot be.
pub async fn change_set_execution(
    cfn: &Client,
    stack_name: &str,
    change_set_name: &str,
) -> Result<Result<(), String>, StepError> {
    let out = cfn
        .describe_change_set()
        .stack_name(stack_name)
        .change_set_name(change_set_name)
        .send()
        .await
        .map_err(|e| StepError::from_sdk("cloudformation", "DescribeChangeSet", &e))?;
    let status = out
        .execution_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    Ok(match status.as_str() {
        "EXECUTE_IN_PROGRESS" | "EXECUTE_COMPLETE" | "EXECUTE_FAILED" => Ok(()),
        other => Err(format!(
            "change set {change_set_name} is {other} and cannot be executed{}",
            out.status_reason()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        )),
    })
}

/// CloudFormation's change actions (`Add`, `Modify`, `Remove`, …) in the words approvers read.
fn action_name(action: &aws_sdk_cloudformation::types::ChangeAction) -> String {
    use aws_sdk_cloudformation::types::ChangeAction;
    match action {
        ChangeAction::Add => "CREATE".into(),
        ChangeAction::Modify => "MODIFY".into(),
        ChangeAction::Remove => "DELETE".into(),
        other => other.as_str().to_ascii_uppercase(),
    }
}

/// Whether a stack status is final, and whether it is a success.
pub fn classify_status(status: &str) -> (bool, bool) {
    let terminal = !status.ends_with("_IN_PROGRESS");
    let success = matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" | "DELETE_COMPLETE"
    );
    (terminal, success)
}

/// The first failed resource event of the stack's latest operation: the cause, not the cascade of
/// "Resource creation cancelled" that follows it.
pub async fn first_failure(
    cfn: &Client,
    stack_name: &str,
) -> Result<Option<StackFailure>, StepError> {
    let mut events = Vec::new();
    let mut next_token: Option<String> = None;
    // Events come newest first; stop at the start of the latest operation.
    'pages: loop {
        let out = cfn
            .describe_stack_events()
            .stack_name(stack_name)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| StepError::from_sdk("cloudformation", "DescribeStackEvents", &e))?;
        for event in out.stack_events() {
            let status = event
                .resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            let is_stack = event.physical_resource_id() == event.stack_id()
                || event.logical_resource_id() == Some(stack_name);
            let reason = event
                .resource_status_reason()
                .unwrap_or_default()
                .to_string();
            events.push((
                event.logical_resource_id().unwrap_or_default().to_string(),
                event.resource_type().unwrap_or_default().to_string(),
                status.clone(),
                reason.clone(),
            ));
            if is_stack && status.ends_with("_IN_PROGRESS") && reason == "User Initiated" {
                break 'pages;
            }
        }
        next_token = out.next_token().map(str::to_string);
        if next_token.is_none() {
            break;
        }
    }
    let rollback_status = events
        .iter()
        .find(|(id, ..)| id == stack_name)
        .map(|(_, _, status, _)| status.clone())
        .filter(|s| s.contains("ROLLBACK"));
    let failure = events.iter().rev().find(|(id, _, status, reason)| {
        id != stack_name && status.ends_with("_FAILED") && !is_cascade(reason)
    });
    Ok(failure.map(|(id, ty, _, reason)| StackFailure {
        reason: reason.clone(),
        resource: Some(id.clone()),
        resource_type: Some(ty.clone()),
        rollback_status,
        recommendation: recommendation_for(reason),
    }))
}

fn is_cascade(reason: &str) -> bool {
    reason.contains("Resource creation cancelled")
        || reason.contains("Resource update cancelled")
        || reason.is_empty()
}

/// Advice for failure reasons whose cause is known.
pub fn recommendation_for(reason: &str) -> Option<String> {
    if let Some(rest) = reason.split("No export named ").nth(1) {
        let export = rest.split_whitespace().next().unwrap_or(rest);
        return Some(format!(
            "The export {export} does not exist: deploy the upstream stack that exports it first."
        ));
    }
    if reason.contains("Stack with id") && reason.contains("does not exist") {
        return Some(
            "An upstream stack this template refers to is missing: deploy it first.".into(),
        );
    }
    if reason.contains("already exists") {
        return Some(
            "A resource with this name already exists outside this stack: rename it, or import or delete the existing one."
                .into(),
        );
    }
    if reason.contains("not authorized") || reason.contains("AccessDenied") {
        return Some(
            "The deployment role lacks a permission: grant the action named in the reason.".into(),
        );
    }
    if reason.contains("LimitExceeded") || reason.contains("limit exceeded") {
        return Some(
            "An account quota was reached: request a limit increase or free capacity.".into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_export_gets_an_upstream_recommendation() {
        let advice = recommendation_for("No export named infra-agent-dev-vpc-VpcId found").unwrap();
        assert!(advice.contains("infra-agent-dev-vpc-VpcId"));
        assert!(advice.contains("upstream"));
    }

    #[test]
    fn stacks_that_cannot_be_updated_are_explained() {
        let stack = |status: &str| StackState {
            stack_id: "id".into(),
            status: status.into(),
            status_reason: None,
        };
        assert_eq!(change_set_type_for(None), Ok(ChangeSetType::Create));
        assert_eq!(
            change_set_type_for(Some(&stack("REVIEW_IN_PROGRESS"))),
            Ok(ChangeSetType::Create)
        );
        assert_eq!(
            change_set_type_for(Some(&stack("UPDATE_COMPLETE"))),
            Ok(ChangeSetType::Update)
        );
        assert!(change_set_type_for(Some(&stack("ROLLBACK_COMPLETE")))
            .unwrap_err()
            .contains("delete it"));
        assert!(change_set_type_for(Some(&stack("UPDATE_IN_PROGRESS")))
            .unwrap_err()
            .contains("busy"));
    }
}

/// Scripted CloudFormation for tests of what the local emulator cannot show: moto computes and
/// executes change sets synchronously and never produces failed resources or rollbacks.
#[cfg(test)]
pub(crate) mod fakes {
    use aws_config::retry::RetryConfig;
    use aws_sdk_cloudformation::config::{Credentials, SharedCredentialsProvider};
    use aws_sdk_cloudformation::types::{ResourceStatus, Stack, StackEvent, StackStatus};
    use aws_sdk_cloudformation::Client;
    use aws_smithy_mocks::{create_mock_http_client, mock_client, Rule, RuleMode};

    use crate::approval::link::SigningKey;
    use crate::aws::{Pipeline, PipelineSettings};

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

    /// A pipeline that never leaves the process: every client sends to the mock HTTP client (which
    /// answers HTTP 418), and CloudFormation is the scripted `cfn`.
    pub(crate) fn offline_pipeline(cfn: Client) -> Pipeline {
        let config = aws_config::SdkConfig::builder()
            .region(aws_config::Region::new("us-east-1"))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            )))
            .http_client(create_mock_http_client())
            .retry_config(RetryConfig::disabled())
            .build();
        let settings = PipelineSettings {
            table: "infra-agent-test".into(),
            template_bucket: "infra-agent-test-templates".into(),
            approval_topic_arn: "arn:aws:sns:us-east-1:123456789012:infra-agent-approvals".into(),
            approval_base_url: "https://approve.example.test".into(),
            approval_key: SigningKey::from_text("a test key that is long enough to sign links")
                .expect("a 44-byte key is long enough"),
        };
        let mut pipeline = Pipeline::from_config(&config, settings);
        pipeline.cfn = cfn;
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

    use aws_sdk_cloudformation::operation::describe_change_set::builders::DescribeChangeSetOutputBuilder;
    use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
    use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
    use aws_sdk_cloudformation::types::{
        Change, ChangeAction, ChangeType, Replacement, ResourceChange as CfnResourceChange,
    };
    use aws_smithy_mocks::{mock, Rule};

    use super::fakes::*;
    use super::*;

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

        let failure = first_failure(&cfn, STACK_NAME)
            .await
            .expect("events are readable")
            .expect("a failed resource is found");

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

        let failure = first_failure(&cfn, STACK_NAME)
            .await
            .expect("events are readable")
            .expect("a failed resource is found");

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
            cfn,
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
            describe_stack(&cfn, STACK_NAME)
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

        let err = describe_stack(&cfn, STACK_NAME)
            .await
            .expect_err("not a missing stack");
        assert_eq!(err.error_type(), "AwsError");
    }

    #[tokio::test]
    async fn throttled_describe_is_transient() {
        let throttled = describe_stacks_error("Throttling", "Rate exceeded");
        let cfn = cfn_client(&[&throttled]);

        let err = describe_stack(&cfn, STACK_NAME)
            .await
            .expect_err("throttled");
        assert!(matches!(err, StepError::Transient { .. }), "{err:?}");
        assert!(err.to_string().contains("Rate exceeded"), "{err}");
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
            parameters: &no_values,
            tags: &no_values,
            description: "test",
        };
        create_change_set(cfn, &spec).await
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
