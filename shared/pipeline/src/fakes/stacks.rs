//! CloudFormation in memory: stacks, change sets that are computed at once with the changes a test
//! sets, and executions that complete at once. Every call is logged, so a test can tell that a
//! retried step created nothing twice.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use infra_agent_core::contract::change_set::{ChangeSetType, ResourceChange};
use infra_agent_core::stack::{
    ChangeSetStatus, ChangeSetView, StackEvent, StackState, StackStatus,
};
use infra_agent_core::StepError;

use crate::ports::{ChangeSetSpec, ExecuteStart, Stacks};

#[derive(Default)]
struct Cloud {
    stacks: BTreeMap<String, (StackState, BTreeMap<String, String>)>,
    change_sets: BTreeMap<(String, String), (ChangeSetType, ChangeSetView)>,
    /// The changes the next change set computes to; none means "no changes".
    next_changes: Vec<ResourceChange>,
    events: BTreeMap<String, Vec<StackEvent>>,
    calls: Vec<String>,
    /// The service role each stack's latest change set was created with.
    roles: BTreeMap<String, Option<String>>,
}

#[derive(Default)]
pub struct FakeStacks {
    cloud: Mutex<Cloud>,
}

impl FakeStacks {
    fn cloud(&self) -> MutexGuard<'_, Cloud> {
        self.cloud.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A stack that exists with `status` and `outputs`.
    pub fn put_stack(&self, stack_name: &str, status: StackStatus, outputs: &[(&str, &str)]) {
        let state = StackState {
            stack_id: format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{stack_name}/1"),
            status,
            status_reason: None,
        };
        let outputs = outputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.cloud()
            .stacks
            .insert(stack_name.to_string(), (state, outputs));
    }

    /// A CREATE change set of one VPC, computed, as CloudFormation leaves it before anyone
    /// executes it: on a `REVIEW_IN_PROGRESS` stack.
    pub fn put_create_change_set(&self, stack_name: &str, change_set_name: &str) {
        let mut cloud = self.cloud();
        cloud
            .stacks
            .entry(stack_name.to_string())
            .or_insert_with(|| {
                (
                    StackState {
                        stack_id: format!(
                            "arn:aws:cloudformation:us-east-1:123456789012:stack/{stack_name}/1"
                        ),
                        status: StackStatus::ReviewInProgress,
                        status_reason: None,
                    },
                    BTreeMap::new(),
                )
            });
        let view = ChangeSetView {
            arn: format!(
                "arn:aws:cloudformation:us-east-1:123456789012:changeSet/{change_set_name}/1"
            ),
            status: ChangeSetStatus::Complete,
            status_reason: None,
            execution_status: "AVAILABLE".into(),
            changes: vec![ResourceChange {
                action: "CREATE".into(),
                logical_id: "Vpc".into(),
                resource_type: "AWS::EC2::VPC".into(),
                replacement: None,
            }],
        };
        cloud.change_sets.insert(
            (stack_name.to_string(), change_set_name.to_string()),
            (ChangeSetType::Create, view),
        );
    }

    /// What the next change set will contain.
    pub fn set_next_changes(&self, changes: Vec<ResourceChange>) {
        self.cloud().next_changes = changes;
    }

    /// The events of a stack's latest operation, newest first.
    pub fn set_events(&self, stack_name: &str, events: Vec<StackEvent>) {
        self.cloud().events.insert(stack_name.to_string(), events);
    }

    /// Every call so far, as `Operation stack/change-set`.
    pub fn calls(&self) -> Vec<String> {
        self.cloud().calls.clone()
    }

    /// The service role (`RoleARN`) the stack's latest change set was created with.
    pub fn role_of(&self, stack_name: &str) -> Option<String> {
        self.cloud().roles.get(stack_name).cloned().flatten()
    }

    /// Names of the change sets a stack has.
    pub fn change_sets(&self, stack_name: &str) -> Vec<String> {
        self.cloud()
            .change_sets
            .keys()
            .filter(|(stack, _)| stack == stack_name)
            .map(|(_, name)| name.clone())
            .collect()
    }

    pub fn change_set(&self, stack_name: &str, change_set_name: &str) -> Option<ChangeSetView> {
        self.cloud()
            .change_sets
            .get(&(stack_name.to_string(), change_set_name.to_string()))
            .map(|(_, view)| view.clone())
    }
}

fn not_found(operation: &'static str, what: &str) -> StepError {
    StepError::Aws {
        service: "cloudformation",
        operation,
        message: format!("ValidationError: {what} does not exist"),
    }
}

#[async_trait]
impl Stacks for FakeStacks {
    async fn describe_stack(&self, stack_name: &str) -> Result<Option<StackState>, StepError> {
        let mut cloud = self.cloud();
        cloud.calls.push(format!("DescribeStacks {stack_name}"));
        Ok(cloud.stacks.get(stack_name).map(|(s, _)| s.clone()))
    }

    async fn stack_outputs(&self, stack_name: &str) -> Result<BTreeMap<String, String>, StepError> {
        let cloud = self.cloud();
        cloud
            .stacks
            .get(stack_name)
            .map(|(_, outputs)| outputs.clone())
            .ok_or_else(|| not_found("DescribeStacks", stack_name))
    }

    async fn create_change_set(&self, spec: &ChangeSetSpec<'_>) -> Result<(), StepError> {
        let mut cloud = self.cloud();
        let id = (
            spec.stack_name.to_string(),
            spec.change_set_name.to_string(),
        );
        cloud.calls.push(format!(
            "CreateChangeSet {}/{}{}",
            spec.stack_name,
            spec.change_set_name,
            if spec.revert_drift {
                " REVERT_DRIFT"
            } else {
                ""
            }
        ));
        if cloud.change_sets.contains_key(&id) {
            return Ok(());
        }
        cloud.roles.insert(id.0.clone(), spec.role_arn.clone());
        if spec.change_set_type == ChangeSetType::Create && !cloud.stacks.contains_key(&id.0) {
            let state = StackState {
                stack_id: format!(
                    "arn:aws:cloudformation:us-east-1:123456789012:stack/{}/1",
                    id.0
                ),
                status: StackStatus::ReviewInProgress,
                status_reason: None,
            };
            cloud.stacks.insert(id.0.clone(), (state, BTreeMap::new()));
        }
        let changes = cloud.next_changes.clone();
        let view = ChangeSetView {
            arn: format!(
                "arn:aws:cloudformation:us-east-1:123456789012:changeSet/{}/1",
                spec.change_set_name
            ),
            status: if changes.is_empty() {
                ChangeSetStatus::Failed
            } else {
                ChangeSetStatus::Complete
            },
            status_reason: changes
                .is_empty()
                .then(|| "The submitted information didn't contain changes.".to_string()),
            execution_status: if changes.is_empty() {
                "UNAVAILABLE".into()
            } else {
                "AVAILABLE".into()
            },
            changes,
        };
        cloud.change_sets.insert(id, (spec.change_set_type, view));
        Ok(())
    }

    async fn describe_change_set(
        &self,
        stack_name: &str,
        change_set_name: &str,
    ) -> Result<ChangeSetView, StepError> {
        self.change_set(stack_name, change_set_name)
            .ok_or_else(|| not_found("DescribeChangeSet", change_set_name))
    }

    async fn delete_change_set(
        &self,
        stack_name: &str,
        change_set_name: &str,
    ) -> Result<(), StepError> {
        let mut cloud = self.cloud();
        cloud
            .calls
            .push(format!("DeleteChangeSet {stack_name}/{change_set_name}"));
        cloud
            .change_sets
            .remove(&(stack_name.to_string(), change_set_name.to_string()));
        Ok(())
    }

    async fn execute_change_set(
        &self,
        stack_name: &str,
        change_set_name: &str,
    ) -> Result<ExecuteStart, StepError> {
        let mut cloud = self.cloud();
        cloud
            .calls
            .push(format!("ExecuteChangeSet {stack_name}/{change_set_name}"));
        let id = (stack_name.to_string(), change_set_name.to_string());
        let Some((kind, view)) = cloud.change_sets.get_mut(&id) else {
            return Ok(ExecuteStart::Refused(format!(
                "ChangeSetNotFound: {change_set_name} does not exist"
            )));
        };
        if view.execution_status != "AVAILABLE" {
            return Ok(ExecuteStart::NotExecutable);
        }
        view.execution_status = "EXECUTE_COMPLETE".into();
        let status = match kind {
            ChangeSetType::Create => StackStatus::CreateComplete,
            ChangeSetType::Update => StackStatus::UpdateComplete,
        };
        if let Some((state, _)) = cloud.stacks.get_mut(stack_name) {
            state.status = status;
        }
        Ok(ExecuteStart::Started)
    }

    async fn delete_stack(&self, stack_name: &str) -> Result<(), StepError> {
        let mut cloud = self.cloud();
        cloud.calls.push(format!("DeleteStack {stack_name}"));
        cloud.stacks.remove(stack_name);
        cloud
            .change_sets
            .retain(|(stack, _), _| stack != stack_name);
        Ok(())
    }

    async fn latest_operation_events(
        &self,
        stack_name: &str,
    ) -> Result<Vec<StackEvent>, StepError> {
        Ok(self
            .cloud()
            .events
            .get(stack_name)
            .cloned()
            .unwrap_or_default())
    }
}
