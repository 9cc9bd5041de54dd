//! The CloudFormation adapter of the drift port. AWS throttles drift detection: a throttled call
//! is a transient error the state machine retries with backoff.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudformation::types::{
    StackDriftDetectionStatus, StackResourceDrift, StackResourceDriftStatus,
};
use aws_sdk_cloudformation::Client;
use infra_agent_core::drift::{
    DifferenceKind, PropertyDifference, ResourceDrift, ResourceDriftStatus,
};
use infra_agent_core::stack::StackState;
use infra_agent_core::StepError;

use super::cloudformation::{outputs_of, stack_state};
use super::error::from_sdk;
use crate::ports::{DetectionState, StackDrifts, StackResource};

#[derive(Debug, Clone)]
pub struct CloudFormationDrift {
    client: Client,
}

impl CloudFormationDrift {
    pub fn new(client: Client) -> Self {
        CloudFormationDrift { client }
    }
}

#[async_trait]
impl StackDrifts for CloudFormationDrift {
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

    async fn stack_resources(&self, stack_name: &str) -> Result<Vec<StackResource>, StepError> {
        let mut resources = Vec::new();
        let mut pages = self
            .client
            .list_stack_resources()
            .stack_name(stack_name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let out = page.map_err(|e| from_sdk("cloudformation", "ListStackResources", &e))?;
            resources.extend(out.stack_resource_summaries().iter().map(|r| {
                StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: r.resource_type().unwrap_or_default().to_string(),
                    status: r
                        .resource_status()
                        .map_or_else(String::new, |s| s.as_str().to_string()),
                }
            }));
        }
        Ok(resources)
    }

    async fn resource_drift(
        &self,
        stack_name: &str,
        logical_id: &str,
    ) -> Result<ResourceDrift, StepError> {
        let out = self
            .client
            .detect_stack_resource_drift()
            .stack_name(stack_name)
            .logical_resource_id(logical_id)
            .send()
            .await
            .map_err(|e| from_sdk("cloudformation", "DetectStackResourceDrift", &e))?;
        out.stack_resource_drift()
            .map(resource_drift)
            .ok_or_else(|| StepError::Aws {
                service: "cloudformation",
                operation: "DetectStackResourceDrift",
                message: format!("no drift of {logical_id} in the answer"),
            })
    }

    async fn detect_stack_drift(&self, stack_name: &str) -> Result<String, StepError> {
        let out = self
            .client
            .detect_stack_drift()
            .stack_name(stack_name)
            .send()
            .await
            .map_err(|e| from_sdk("cloudformation", "DetectStackDrift", &e))?;
        out.stack_drift_detection_id()
            .map(str::to_string)
            .ok_or_else(|| StepError::Aws {
                service: "cloudformation",
                operation: "DetectStackDrift",
                message: "the answer names no detection id".into(),
            })
    }

    async fn detection_status(&self, detection_id: &str) -> Result<DetectionState, StepError> {
        let out = self
            .client
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(detection_id)
            .send()
            .await
            .map_err(|e| from_sdk("cloudformation", "DescribeStackDriftDetectionStatus", &e))?;
        Ok(match out.detection_status() {
            Some(StackDriftDetectionStatus::DetectionComplete) => DetectionState::Complete,
            Some(StackDriftDetectionStatus::DetectionFailed) => DetectionState::Failed(
                out.detection_status_reason()
                    .unwrap_or("drift detection failed without a reason")
                    .to_string(),
            ),
            _ => DetectionState::InProgress,
        })
    }

    async fn resource_drifts(&self, stack_name: &str) -> Result<Vec<ResourceDrift>, StepError> {
        let mut drifts = Vec::new();
        let mut pages = self
            .client
            .describe_stack_resource_drifts()
            .stack_name(stack_name)
            .set_stack_resource_drift_status_filters(Some(vec![
                StackResourceDriftStatus::InSync,
                StackResourceDriftStatus::Modified,
                StackResourceDriftStatus::Deleted,
                StackResourceDriftStatus::NotChecked,
            ]))
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let out =
                page.map_err(|e| from_sdk("cloudformation", "DescribeStackResourceDrifts", &e))?;
            drifts.extend(out.stack_resource_drifts().iter().map(resource_drift));
        }
        Ok(drifts)
    }
}

fn resource_drift(drift: &StackResourceDrift) -> ResourceDrift {
    let json = |text: Option<&str>| text.and_then(|t| serde_json::from_str(t).ok());
    ResourceDrift {
        logical_id: drift.logical_resource_id().unwrap_or_default().to_string(),
        physical_id: drift.physical_resource_id().map(str::to_string),
        resource_type: drift.resource_type().unwrap_or_default().to_string(),
        status: drift
            .stack_resource_drift_status()
            .and_then(|s| ResourceDriftStatus::parse(s.as_str()))
            // A status this version does not know is not a verdict: not checked.
            .unwrap_or(ResourceDriftStatus::NotChecked),
        expected_properties: json(drift.expected_properties()),
        actual_properties: json(drift.actual_properties()),
        differences: drift
            .property_differences()
            .iter()
            .filter_map(|d| {
                Some(PropertyDifference {
                    path: d.property_path()?.to_string(),
                    expected: value(d.expected_value()),
                    actual: value(d.actual_value()),
                    kind: DifferenceKind::parse(d.difference_type()?.as_str())?,
                })
            })
            .collect(),
    }
}

/// AWS writes an absent side as `null` (or leaves it out).
fn value(text: Option<&str>) -> Option<String> {
    text.filter(|v| !v.is_empty() && *v != "null")
        .map(str::to_string)
}
