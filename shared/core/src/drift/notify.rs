//! The one message a scan that found drift sends: per drifted stack, each resource with expected
//! vs actual, the controls it breaks, the recommendation and the command that reverts it.

use std::fmt::Write;

use super::{StackDrift, StackDriftStatus};
use crate::naming::Env;

/// Longest value quoted in a message; the record keeps it whole.
const MAX_VALUE_CHARS: usize = 200;

/// Subject and body of a scan's notification, or `None` when nothing drifted (no message then).
pub fn scan_notification(
    env: Env,
    scan_id: &str,
    stacks: &[StackDrift],
) -> Option<(String, String)> {
    let drifted: Vec<&StackDrift> = stacks.iter().filter(|s| !s.resources.is_empty()).collect();
    if drifted.is_empty() {
        return None;
    }
    let resources: usize = drifted.iter().map(|s| s.resources.len()).sum();
    let mut controls: Vec<String> = drifted.iter().flat_map(|s| s.controls()).collect();
    controls.sort();
    controls.dedup();
    let breaks = if controls.is_empty() {
        String::new()
    } else {
        format!(", breaks {}", controls.join(", "))
    };
    let subject = format!(
        "[infra-agent] drift in {env}: {resources} resource{} in {} stack{}{breaks}",
        plural(resources),
        drifted.len(),
        plural(drifted.len())
    );
    let mut body = String::new();
    let _ = writeln!(
        body,
        "Drift scan {scan_id} of {env} found resources changed outside CloudFormation.\n"
    );
    for stack in &drifted {
        let _ = writeln!(body, "Stack {} ({})", stack.stack, stack.stack_name);
        for resource in &stack.resources {
            let _ = writeln!(
                body,
                "  {} {} [{}] {}",
                resource.status.as_str(),
                resource.logical_id,
                resource.resource_type,
                resource.physical_id.as_deref().unwrap_or("")
            );
            for d in &resource.differences {
                let _ = writeln!(
                    body,
                    "    {} {}: expected {}, actual {}",
                    d.kind.as_str(),
                    d.path,
                    quote(d.expected.as_deref()),
                    quote(d.actual.as_deref())
                );
            }
            if !resource.controls.is_empty() {
                let _ = writeln!(body, "    NIST impact: {}", resource.controls.join(", "));
            }
            let _ = writeln!(body, "    {}", resource.recommendation);
        }
        if let Some(reason) = &stack.impact_unavailable {
            let _ = writeln!(body, "  NIST impact not assessed: {reason}");
        }
        if let Some(command) = &stack.remediation {
            let _ = writeln!(body, "  Revert through the approval: {command}");
        }
        let _ = writeln!(body);
    }
    let others: Vec<String> = stacks
        .iter()
        .filter(|s| s.resources.is_empty() && s.status != StackDriftStatus::InSync)
        .map(|s| {
            format!(
                "{} {}{}",
                s.stack,
                s.status.as_str(),
                s.reason
                    .as_deref()
                    .map_or_else(String::new, |r| format!(": {r}"))
            )
        })
        .collect();
    if !others.is_empty() {
        let _ = writeln!(body, "Not checked:\n  {}", others.join("\n  "));
    }
    Some((subject, body))
}

fn quote(value: Option<&str>) -> String {
    match value {
        None => "(none)".into(),
        Some(v) if v.chars().count() > MAX_VALUE_CHARS => {
            format!("{}…", v.chars().take(MAX_VALUE_CHARS).collect::<String>())
        }
        Some(v) => v.to_string(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
