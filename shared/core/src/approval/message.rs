//! The approval request as published to SNS: a readable text for e-mail and chat, and message
//! attributes subscribers can filter on.

use crate::contract::change_set::ChangeSetResult;
use crate::contract::cost::CostReport;
use crate::contract::deploy::DeployRequest;
use crate::contract::validation::ValidationSummary;
use crate::validation::Finding;

/// Findings listed in the message; the page lists them all.
const MESSAGE_FINDINGS: usize = 10;

/// One finding as a line: `[SC-7] Bucket12 line 40: message`.
pub fn finding_line(f: &Finding) -> String {
    format!(
        "[{}] {}{}: {}",
        f.control.as_deref().unwrap_or(&f.rule),
        f.resource.as_deref().unwrap_or("template"),
        f.line.map(|l| format!(" line {l}")).unwrap_or_default(),
        f.message
    )
}

pub struct ApprovalMessage {
    pub subject: String,
    pub body: String,
}

pub fn compose(
    request: &DeployRequest,
    change_set: &ChangeSetResult,
    validation: Option<&ValidationSummary>,
    cost: Option<&CostReport>,
    notes: &[String],
    link: &str,
    expires_at: &str,
) -> ApprovalMessage {
    let summary = &change_set.summary;
    let mut body = format!(
        "Approval needed: {} in {}\n\nStack: {}\nEnvironment: {}\nRequested by: {}\nDeployment: {}\nChange set: {} ({})\n\nChanges:\n",
        request.stack,
        request.env,
        change_set.stack_name,
        request.env,
        request.requested_by,
        request.deployment_id,
        change_set.change_set_name,
        match change_set.change_set_type {
            crate::contract::change_set::ChangeSetType::Create => "new stack",
            crate::contract::change_set::ChangeSetType::Update => "update",
        },
    );
    for line in summary.count_lines() {
        body.push_str(&format!("  {line}\n"));
    }
    if !summary.replacements.is_empty() {
        body.push_str(&format!(
            "\nREPLACED: {}\n",
            summary.replacements.join(", ")
        ));
    }
    if !summary.deletions.is_empty() {
        body.push_str(&format!("\nDELETED: {}\n", summary.deletions.join(", ")));
    }
    if !notes.is_empty() {
        body.push('\n');
        for (i, line) in notes.iter().enumerate() {
            let indent = if i == 0 { "" } else { "  " };
            body.push_str(&format!("{indent}{line}\n"));
        }
    }
    body.push_str(&match validation {
        Some(v) if v.passed => format!("\nValidation: passed ({} warnings)\n", v.warnings),
        Some(v) => format!("\nValidation: FAILED ({} errors)\n", v.errors),
        None => "\nValidation: not run\n".to_string(),
    });
    if let Some(v) = validation {
        for finding in v.findings.iter().take(MESSAGE_FINDINGS) {
            body.push_str(&format!("  {}\n", finding_line(finding)));
        }
        let more = (v.errors + v.warnings).saturating_sub(v.findings.len().min(MESSAGE_FINDINGS));
        if more > 0 {
            body.push_str(&format!("  … and {more} more on the approval page\n"));
        }
        if v.suppressed_count > 0 {
            body.push_str(&format!(
                "  {} finding(s) suppressed by the template, each with its waiver\n",
                v.suppressed_count
            ));
        }
    }
    body.push_str(&format!(
        "Cost: {}\n",
        cost.map_or_else(
            || "estimate unavailable: not run".to_string(),
            CostReport::headline
        )
    ));
    if let Some(report) = cost {
        for line in report.price_lines() {
            body.push_str(&format!("  {line}\n"));
        }
        if let Some(delta) = &report.delta {
            for change in delta.resources.iter().take(20) {
                body.push_str(&format!(
                    "  {} ({}): {} → {}\n",
                    change.logical_id,
                    change.resource_type,
                    change
                        .before_monthly
                        .map_or("-".to_string(), |u| u.to_string()),
                    change
                        .after_monthly
                        .map_or("-".to_string(), |u| u.to_string()),
                ));
            }
            for item in &delta.not_priced {
                body.push_str(&format!(
                    "  not priced: {} ({}): {}\n",
                    item.logical_id, item.resource_type, item.reason
                ));
            }
        }
    }
    body.push_str(&format!(
        "\nReview and decide (link valid until {expires_at}):\n{link}\n"
    ));
    // SNS subjects: ASCII, at most 100 characters.
    let subject: String = format!(
        "[infra-agent] Approve {} in {}: {} changes",
        request.stack,
        request.env,
        summary.changes.len()
    )
    .chars()
    .filter(|c| c.is_ascii() && !c.is_ascii_control())
    .take(100)
    .collect();
    ApprovalMessage { subject, body }
}
