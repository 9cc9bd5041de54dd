//! The CloudFormation port: stacks, change sets and stack events, with CloudFormation's quirks
//! (not-found as `ValidationError`, "already exists" on a retried create) answered by the adapter.

use std::collections::BTreeMap;

use async_trait::async_trait;
use infra_agent_core::contract::change_set::ChangeSetType;
use infra_agent_core::stack::{ChangeSetView, StackEvent, StackState};
use infra_agent_core::StepError;

/// A change set to create.
#[derive(Debug, Clone)]
pub struct ChangeSetSpec<'a> {
    pub stack_name: &'a str,
    pub change_set_name: &'a str,
    pub change_set_type: ChangeSetType,
    pub template_body: &'a str,
    /// Where CloudFormation reads a template too large to pass inline.
    pub template_url: Option<String>,
    pub parameters: &'a BTreeMap<String, String>,
    pub tags: &'a BTreeMap<String, String>,
    pub description: &'a str,
    /// The CloudFormation service role the stack's operations run as (`RoleARN`); CloudFormation
    /// keeps using it for the stack's later operations.
    pub role_arn: Option<String>,
    /// `DeploymentMode: REVERT_DRIFT`: compare the template with the resources' actual state, so
    /// the change set puts drifted properties back.
    pub revert_drift: bool,
}

/// How a request to execute a change set was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecuteStart {
    Started,
    /// The change set is not executable as it stands: executed already (a retried step) or made
    /// obsolete. Its description tells which.
    NotExecutable,
    /// CloudFormation refused or aborted the execution, with its message.
    Refused(String),
}

#[async_trait]
pub trait Stacks: Send + Sync {
    /// Live state of a stack, `None` when it does not exist.
    async fn describe_stack(&self, stack_name: &str) -> Result<Option<StackState>, StepError>;

    /// Outputs of a stack, by output key.
    async fn stack_outputs(&self, stack_name: &str) -> Result<BTreeMap<String, String>, StepError>;

    /// Creates the change set; one of that name that exists already (a retried step) is kept.
    /// CloudFormation's refusal is `ChangeSetFailed` with its reason.
    async fn create_change_set(&self, spec: &ChangeSetSpec<'_>) -> Result<(), StepError>;

    /// The change set with every page of its changes.
    async fn describe_change_set(
        &self,
        stack_name: &str,
        change_set_name: &str,
    ) -> Result<ChangeSetView, StepError>;

    /// Deletes the change set; one that is gone already counts as deleted.
    async fn delete_change_set(
        &self,
        stack_name: &str,
        change_set_name: &str,
    ) -> Result<(), StepError>;

    async fn execute_change_set(
        &self,
        stack_name: &str,
        change_set_name: &str,
    ) -> Result<ExecuteStart, StepError>;

    /// Starts deleting a stack; one that does not exist counts as deleted.
    async fn delete_stack(&self, stack_name: &str) -> Result<(), StepError>;

    /// Events of the stack's latest operation, newest first, down to the one that started it.
    async fn latest_operation_events(&self, stack_name: &str)
        -> Result<Vec<StackEvent>, StepError>;
}
