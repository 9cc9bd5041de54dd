//! Drift analysis: what CloudFormation's drift detection reported for one stack, judged — false
//! positives filtered with their reason, NIST impact from the validation policy, a recommendation
//! per drifted resource. Pure: the pipeline hands it AWS's answers and the deployed template.

mod approval;
mod filter;
mod impact;
mod notify;
mod recommend;

pub use approval::approval_lines;
pub use filter::{FilteredDifference, FILTER_RULES};
pub use impact::{ImpactFinding, NistImpact};
pub use notify::scan_notification;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::naming::{Env, StackKey};
use crate::validation::ValidationContext;

/// A resource's drift status, as CloudFormation names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceDriftStatus {
    InSync,
    Modified,
    Deleted,
    /// Drift detection does not support the type (or could not read the resource).
    NotChecked,
}

impl ResourceDriftStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceDriftStatus::InSync => "IN_SYNC",
            ResourceDriftStatus::Modified => "MODIFIED",
            ResourceDriftStatus::Deleted => "DELETED",
            ResourceDriftStatus::NotChecked => "NOT_CHECKED",
        }
    }

    pub fn parse(text: &str) -> Option<ResourceDriftStatus> {
        [
            ResourceDriftStatus::InSync,
            ResourceDriftStatus::Modified,
            ResourceDriftStatus::Deleted,
            ResourceDriftStatus::NotChecked,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn is_drift(self) -> bool {
        matches!(
            self,
            ResourceDriftStatus::Modified | ResourceDriftStatus::Deleted
        )
    }
}

/// How an actual property differs from the template's (CloudFormation's `DifferenceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DifferenceKind {
    /// Present in the resource, absent from the template (a rule added in the console).
    Add,
    /// In the template, gone from the resource.
    Remove,
    NotEqual,
}

impl DifferenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DifferenceKind::Add => "ADD",
            DifferenceKind::Remove => "REMOVE",
            DifferenceKind::NotEqual => "NOT_EQUAL",
        }
    }

    pub fn parse(text: &str) -> Option<DifferenceKind> {
        [
            DifferenceKind::Add,
            DifferenceKind::Remove,
            DifferenceKind::NotEqual,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// One property difference, as CloudFormation reports it: values are JSON text (a string value
/// bare), `None` where the side has nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyDifference {
    /// JSON pointer into the resource's properties, e.g. `/SecurityGroupIngress/2`.
    pub path: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub kind: DifferenceKind,
}

/// One resource of `DescribeStackResourceDrifts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDrift {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: ResourceDriftStatus,
    /// The template's properties with intrinsic functions resolved, as CloudFormation holds them.
    pub expected_properties: Option<Value>,
    /// The resource's live properties.
    pub actual_properties: Option<Value>,
    pub differences: Vec<PropertyDifference>,
}

/// The outcome of one stack's check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StackDriftStatus {
    InSync,
    Drifted,
    /// Not checked: locked by a deployment, not in a complete state, or not deployed.
    Skipped,
    /// Detection failed or the check broke: whatever was learned is kept.
    Failed,
}

impl StackDriftStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StackDriftStatus::InSync => "IN_SYNC",
            StackDriftStatus::Drifted => "DRIFTED",
            StackDriftStatus::Skipped => "SKIPPED",
            StackDriftStatus::Failed => "FAILED",
        }
    }
}

/// A drifted resource, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftedResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: ResourceDriftStatus,
    /// The differences that remain once false positives are filtered out.
    pub differences: Vec<PropertyDifference>,
    /// NIST controls the drift breaks (findings that appear only with the actual properties).
    pub controls: Vec<String>,
    pub findings: Vec<ImpactFinding>,
    pub recommendation: String,
}

/// A resource drift detection did not compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotChecked {
    pub logical_id: String,
    pub resource_type: String,
}

/// One stack's drift, as recorded and reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackDrift {
    pub env: Env,
    pub stack: StackKey,
    pub stack_name: String,
    pub status: StackDriftStatus,
    /// Drifted resources (MODIFIED or DELETED after filtering).
    pub resources: Vec<DriftedResource>,
    /// Resources compared and found in sync.
    pub in_sync: u32,
    pub not_checked: Vec<NotChecked>,
    /// Differences dropped as false positives, each with its reason.
    pub filtered: Vec<FilteredDifference>,
    /// Why the stack was skipped or its check failed (AWS's reason for a failed detection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why the NIST impact could not be assessed (the deployed template could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_unavailable: Option<String>,
    /// The command that puts the stack back, when it drifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
}

impl StackDrift {
    /// A stack that was not checked, and why.
    pub fn skipped(env: Env, stack: StackKey, stack_name: String, reason: String) -> StackDrift {
        StackDrift {
            env,
            stack,
            stack_name,
            status: StackDriftStatus::Skipped,
            resources: Vec::new(),
            in_sync: 0,
            not_checked: Vec::new(),
            filtered: Vec::new(),
            reason: Some(reason),
            impact_unavailable: None,
            remediation: None,
        }
    }

    /// A check that broke before drift detection answered.
    pub fn failed(env: Env, stack: StackKey, stack_name: String, reason: String) -> StackDrift {
        StackDrift {
            status: StackDriftStatus::Failed,
            ..StackDrift::skipped(env, stack, stack_name, reason)
        }
    }

    /// Every NIST control the stack's drift breaks.
    pub fn controls(&self) -> Vec<String> {
        let mut controls: Vec<String> = self
            .resources
            .iter()
            .flat_map(|r| r.controls.iter().cloned())
            .collect();
        controls.sort();
        controls.dedup();
        controls
    }
}

/// The command that reverts a stack's drift through the approval.
pub fn remediation_command(env: Env, stack: &StackKey) -> String {
    format!("infra-agent drift remediate {stack} --env {env}")
}

/// The deployed template a stack's drift is judged against: the body and the parameters it was
/// deployed with, or why it could not be read.
pub type DeployedTemplate<'a> = Result<(&'a str, &'a ValidationContext), String>;

/// What one stack's detection found.
pub struct Detection<'a> {
    pub env: Env,
    pub stack: &'a StackKey,
    pub stack_name: &'a str,
    pub resources: Vec<ResourceDrift>,
    /// AWS's reason when the detection failed; the resources it did compare are still judged.
    pub failure: Option<String>,
}

/// Judges one stack's detection against its deployed template.
pub fn analyse(detection: Detection<'_>, deployed: DeployedTemplate<'_>) -> StackDrift {
    let mut filtered = Vec::new();
    let mut in_sync = 0;
    let mut not_checked = Vec::new();
    let mut drifted = Vec::new();
    for mut resource in detection.resources {
        match resource.status {
            ResourceDriftStatus::InSync => in_sync += 1,
            ResourceDriftStatus::NotChecked => not_checked.push(NotChecked {
                logical_id: resource.logical_id,
                resource_type: resource.resource_type,
            }),
            ResourceDriftStatus::Deleted => drifted.push(resource),
            ResourceDriftStatus::Modified => {
                let (kept, dropped) = filter::apply(&resource);
                filtered.extend(dropped);
                if kept.is_empty() {
                    in_sync += 1;
                } else {
                    resource.differences = kept;
                    drifted.push(resource);
                }
            }
        }
    }
    // The template matters only when there is drift to judge.
    let (impact, impact_unavailable) = match deployed {
        _ if drifted.is_empty() => (NistImpact::default(), None),
        Ok((body, ctx)) => match impact::assess(body, ctx, &drifted) {
            Ok(impact) => (impact, None),
            Err(reason) => (NistImpact::default(), Some(reason)),
        },
        Err(reason) => (NistImpact::default(), Some(reason)),
    };
    let remediation =
        (!drifted.is_empty()).then(|| remediation_command(detection.env, detection.stack));
    let resources: Vec<DriftedResource> = drifted
        .into_iter()
        .map(|r| {
            let findings = impact.of(&r.logical_id);
            let mut controls: Vec<String> = findings.iter().map(|f| f.control.clone()).collect();
            controls.sort();
            controls.dedup();
            let recommendation = recommend::for_resource(&r, &controls, remediation.as_deref());
            DriftedResource {
                logical_id: r.logical_id,
                physical_id: r.physical_id,
                resource_type: r.resource_type,
                status: r.status,
                differences: r.differences,
                controls,
                findings,
                recommendation,
            }
        })
        .collect();
    let status = if detection.failure.is_some() {
        StackDriftStatus::Failed
    } else if resources.is_empty() {
        StackDriftStatus::InSync
    } else {
        StackDriftStatus::Drifted
    };
    StackDrift {
        env: detection.env,
        stack: detection.stack.clone(),
        stack_name: detection.stack_name.to_string(),
        status,
        resources,
        in_sync,
        not_checked,
        filtered,
        reason: detection.failure,
        impact_unavailable,
        remediation,
    }
}

#[cfg(test)]
mod tests;
