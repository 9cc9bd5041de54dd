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
