//! The drift-detection port: CloudFormation compares a stack's resources with its template,
//! asynchronously, and reports each resource's differences.

use std::collections::BTreeMap;

use async_trait::async_trait;
use infra_agent_core::drift::ResourceDrift;
use infra_agent_core::stack::StackState;
use infra_agent_core::StepError;

/// Where a detection is, as `DescribeStackDriftDetectionStatus` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetectionState {
    InProgress,
    Complete,
    /// `DETECTION_FAILED`, with AWS's reason; the resources it compared are still reported.
    Failed(String),
}

/// A resource of a stack, as `ListStackResources` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
}

#[async_trait]
pub trait StackDrifts: Send + Sync {
    /// The stack's status (detection runs only on complete stacks), `None` when it does not
    /// exist. Here as well as on the stacks port, so a drift check needs no right to change stacks.
    async fn describe_stack(&self, stack_name: &str) -> Result<Option<StackState>, StepError>;

    /// Starts a detection of every resource of the stack; returns its id.
    /// The stack's outputs, by key (post-deploy checks).
    async fn stack_outputs(&self, stack_name: &str) -> Result<BTreeMap<String, String>, StepError>;

    /// Every resource of the stack, all pages.
    async fn stack_resources(&self, stack_name: &str) -> Result<Vec<StackResource>, StepError>;

    /// One resource compared now, with its live properties where drift detection reads the
    /// type (`DetectStackResourceDrift`).
    async fn resource_drift(
        &self,
        stack_name: &str,
        logical_id: &str,
    ) -> Result<ResourceDrift, StepError>;

    async fn detect_stack_drift(&self, stack_name: &str) -> Result<String, StepError>;

    async fn detection_status(&self, detection_id: &str) -> Result<DetectionState, StepError>;

    /// Every resource of the stack's latest detection, all pages.
    async fn resource_drifts(&self, stack_name: &str) -> Result<Vec<ResourceDrift>, StepError>;
}
