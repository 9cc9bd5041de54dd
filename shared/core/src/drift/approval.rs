//! What an approver of a change to a drifted stack is told: a deployment overwrites the manual
//! changes; a remediation reverts them. Each drifted property with expected and actual values.

use super::StackDrift;
use crate::contract::deploy::DeploymentKind;

/// Property lines shown before the rest are counted.
const MAX_LINES: usize = 20;
const MAX_VALUE_CHARS: usize = 120;

/// Lines for the approval message and page; none when the stack's last check found no drift.
pub fn approval_lines(
    kind: DeploymentKind,
    drift: &StackDrift,
    scan_id: &str,
    checked_at: &str,
) -> Vec<String> {
    if drift.resources.is_empty() {
        return Vec::new();
    }
    let names: Vec<&str> = drift
        .resources
        .iter()
        .map(|r| r.logical_id.as_str())
        .collect();
    let mut lines = vec![match kind {
        DeploymentKind::Deploy | DeploymentKind::Rollback | DeploymentKind::Promotion => format!(
            "DRIFT: this change set overwrites manual changes to {} (drift scan {scan_id}, {checked_at})",
            names.join(", ")
        ),
        DeploymentKind::Remediation => format!(
            "Reverts the drift of {} found by drift scan {scan_id} ({checked_at}):",
            names.join(", ")
        ),
    }];
    let mut properties = Vec::new();
    for resource in &drift.resources {
        let controls = if resource.controls.is_empty() {
            String::new()
        } else {
            format!(" [breaks {}]", resource.controls.join(", "))
        };
        if resource.differences.is_empty() {
            properties.push(format!(
                "{} {}{controls}",
                resource.logical_id,
                resource.status.as_str()
            ));
        }
        for d in &resource.differences {
            properties.push(format!(
                "{} {} {}: expected {}, actual {}{controls}",
                resource.logical_id,
                d.kind.as_str(),
                d.path,
                shorten(d.expected.as_deref()),
                shorten(d.actual.as_deref())
            ));
        }
    }
    let more = properties.len().saturating_sub(MAX_LINES);
    lines.extend(properties.into_iter().take(MAX_LINES));
    if more > 0 {
        lines.push(format!("… and {more} more differences in the drift record"));
    }
    lines
}

fn shorten(value: Option<&str>) -> String {
    match value {
        None => "(none)".into(),
        Some(v) if v.chars().count() > MAX_VALUE_CHARS => {
            format!("{}…", v.chars().take(MAX_VALUE_CHARS).collect::<String>())
        }
        Some(v) => v.to_string(),
    }
}
