//! Drift detection in memory: each stack answers with the results a test sets, after the number
//! of in-progress polls it sets; a detection can be made to fail (throttled) a given number of
//! times, as AWS does under load. Every call is logged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use infra_agent_core::drift::ResourceDrift;
use infra_agent_core::stack::StackState;
use infra_agent_core::StepError;

use super::FakeStacks;
use crate::ports::{DetectionState, StackDrifts, StackResource, Stacks};

#[derive(Default)]
struct Detections {
    /// Stack → what its detection finds.
    results: BTreeMap<String, Vec<ResourceDrift>>,
    /// Stack → polls answered "in progress" before the detection ends.
    in_progress_polls: BTreeMap<String, u32>,
    /// Stack → how many detections fail (throttled) before one completes.
    failures: BTreeMap<String, (u32, String)>,
    /// Detection id → (stack, polls answered so far).
    started: BTreeMap<String, (String, u32)>,
    /// Stack → its resources as `ListStackResources` lists them.
    resources: BTreeMap<String, Vec<StackResource>>,
    calls: Vec<String>,
}

/// Reads stack statuses from the fake CloudFormation it is built over.
#[derive(Default)]
pub struct FakeDrift {
    state: Mutex<Detections>,
    stacks: Arc<FakeStacks>,
}

impl FakeDrift {
    pub fn over(stacks: Arc<FakeStacks>) -> Self {
        FakeDrift {
            state: Mutex::default(),
            stacks,
        }
    }

    fn state(&self) -> MutexGuard<'_, Detections> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What a detection of `stack_name` finds, after `in_progress_polls` polls.
    pub fn set_results(
        &self,
        stack_name: &str,
        results: Vec<ResourceDrift>,
        in_progress_polls: u32,
    ) {
        let mut state = self.state();
        state.results.insert(stack_name.into(), results);
        state
            .in_progress_polls
            .insert(stack_name.into(), in_progress_polls);
    }

    /// The next `count` detections of `stack_name` end `DETECTION_FAILED` with `reason`.
    pub fn fail_detections(&self, stack_name: &str, count: u32, reason: &str) {
        self.state()
            .failures
            .insert(stack_name.into(), (count, reason.into()));
    }

    /// The resources `stack_name` lists.
    pub fn set_resources(&self, stack_name: &str, resources: Vec<StackResource>) {
        self.state().resources.insert(stack_name.into(), resources);
    }

    pub fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }
}

#[async_trait]
impl StackDrifts for FakeDrift {
    async fn stack_outputs(&self, stack_name: &str) -> Result<BTreeMap<String, String>, StepError> {
        self.stacks.stack_outputs(stack_name).await
    }

    async fn stack_resources(&self, stack_name: &str) -> Result<Vec<StackResource>, StepError> {
        Ok(self
            .state()
            .resources
            .get(stack_name)
            .cloned()
            .unwrap_or_default())
    }

    /// The resource as the stack's detection results have it; not checked otherwise.
    async fn resource_drift(
        &self,
        stack_name: &str,
        logical_id: &str,
    ) -> Result<ResourceDrift, StepError> {
        let state = self.state();
        let found = state
            .results
            .get(stack_name)
            .and_then(|r| r.iter().find(|d| d.logical_id == logical_id))
            .cloned();
        let resource_type = state
            .resources
            .get(stack_name)
            .and_then(|r| r.iter().find(|s| s.logical_id == logical_id))
            .map(|s| s.resource_type.clone())
            .unwrap_or_default();
        Ok(found.unwrap_or(ResourceDrift {
            logical_id: logical_id.to_string(),
            physical_id: None,
            resource_type,
            status: infra_agent_core::drift::ResourceDriftStatus::NotChecked,
            expected_properties: None,
            actual_properties: None,
            differences: Vec::new(),
        }))
    }

    async fn describe_stack(&self, stack_name: &str) -> Result<Option<StackState>, StepError> {
        self.stacks.describe_stack(stack_name).await
    }

    async fn detect_stack_drift(&self, stack_name: &str) -> Result<String, StepError> {
        let mut state = self.state();
        let id = format!("detection-{}", state.started.len() + 1);
        state.calls.push(format!("DetectStackDrift {stack_name}"));
        state.started.insert(id.clone(), (stack_name.into(), 0));
        Ok(id)
    }

    async fn detection_status(&self, detection_id: &str) -> Result<DetectionState, StepError> {
        let mut state = self.state();
        state
            .calls
            .push(format!("DescribeStackDriftDetectionStatus {detection_id}"));
        let Some((stack, polls)) = state.started.get(detection_id).cloned() else {
            return Err(StepError::Aws {
                service: "cloudformation",
                operation: "DescribeStackDriftDetectionStatus",
                message: format!("ValidationError: no detection {detection_id}"),
            });
        };
        let wait = state.in_progress_polls.get(&stack).copied().unwrap_or(0);
        if polls < wait {
            state
                .started
                .insert(detection_id.into(), (stack, polls + 1));
            return Ok(DetectionState::InProgress);
        }
        if let Some((left, reason)) = state.failures.get(&stack).cloned() {
            if left > 0 {
                state.failures.insert(stack, (left - 1, reason.clone()));
                return Ok(DetectionState::Failed(reason));
            }
        }
        Ok(DetectionState::Complete)
    }

    async fn resource_drifts(&self, stack_name: &str) -> Result<Vec<ResourceDrift>, StepError> {
        let mut state = self.state();
        state
            .calls
            .push(format!("DescribeStackResourceDrifts {stack_name}"));
        Ok(state.results.get(stack_name).cloned().unwrap_or_default())
    }
}
