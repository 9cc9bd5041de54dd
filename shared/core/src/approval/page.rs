//! The HTML pages of the approval endpoint: self-contained (no external assets, no scripts), so
//! they render the same in any browser and leak nothing to third parties.

use super::message::finding_line;
use super::rules::links_may_approve;
use crate::records::ApprovalRecord;
use crate::validation::{Finding, Severity};

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{title}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}}\
table{{border-collapse:collapse}}td,th{{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}}\
.warn{{color:#a40000;font-weight:600}}button{{font-size:1rem;padding:.5rem 1.2rem;margin-right:.6rem}}\
input{{font-size:1rem;padding:.3rem;width:20rem}}</style></head>\
<body><h1>{title}</h1>\n{body}\n</body></html>\n",
        title = escape(title),
    )
}

/// The validation findings shown on the confirmation page: every one, from the stored report.
pub enum ReportView<'a> {
    /// The deployment stored no report (older deployments, teardowns).
    NotStored,
    Findings(&'a [Finding]),
    /// The report could not be read; the page says so instead of pretending there is nothing.
    Unreadable(&'a str),
}

/// The confirmation page: what would change, and a form that POSTs the decision.
pub fn confirmation(approval: &ApprovalRecord, report: ReportView<'_>, action_url: &str) -> String {
    let mut body = format!(
        "<p>Deployment <code>{}</code> asks to change stack <strong>{}</strong> in <strong>{}</strong>.</p>\
<p>Requested by {} · change set <code>{}</code> · expires {}</p>",
        escape(&approval.deployment_id),
        escape(&approval.stack_name),
        escape(approval.env.as_str()),
        escape(&approval.requested_by),
        escape(&approval.change_set_name),
        escape(&approval.expires_at),
    );
    body.push_str(&format!(
        "<p>Validation: {}</p>",
        if approval.validation_passed {
            "passed"
        } else {
            "<span class=\"warn\">FAILED</span>"
        }
    ));
    if approval.required_approvers > 1 {
        body.push_str(&format!(
            "<p class=\"warn\">Needs {} distinct approvers{}.</p>",
            approval.required_approvers,
            if approval.approved_by.is_empty() {
                String::new()
            } else {
                format!(
                    "; approved so far by {}",
                    escape(&approval.approved_by.join(", "))
                )
            }
        ));
    }
    if let Some(cost) = &approval.cost_line {
        let class = if approval.exceeds_budget {
            " class=\"warn\""
        } else {
            ""
        };
        body.push_str(&format!("<p{class}>Cost: {}</p>", escape(cost)));
    }
    match report {
        ReportView::NotStored => {}
        ReportView::Findings([]) => {}
        ReportView::Findings(findings) => {
            body.push_str(&format!(
                "<h2>Validation findings ({})</h2><table>",
                findings.len()
            ));
            for finding in findings {
                body.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td></tr>",
                    escape(match finding.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    }),
                    escape(&finding_line(finding))
                ));
            }
            body.push_str("</table>");
        }
        ReportView::Unreadable(reason) => body.push_str(&format!(
            "<p class=\"warn\">The full validation report could not be read: {}</p>",
            escape(reason)
        )),
    }
    if let Some((headline, lines)) = approval.notes.split_first() {
        body.push_str(&format!(
            "<h2>Before you decide</h2><p class=\"warn\">{}</p><table>",
            escape(headline)
        ));
        for line in lines {
            body.push_str(&format!("<tr><td>{}</td></tr>", escape(line)));
        }
        body.push_str("</table>");
    }
    body.push_str("<h2>Changes</h2><table>");
    for line in &approval.summary_lines {
        body.push_str(&format!("<tr><td>{}</td></tr>", escape(line)));
    }
    body.push_str("</table>");
    if !approval.replacements.is_empty() {
        body.push_str(&format!(
            "<p class=\"warn\">Replaced: {}</p>",
            escape(&approval.replacements.join(", "))
        ));
    }
    if !approval.deletions.is_empty() {
        body.push_str(&format!(
            "<p class=\"warn\">Deleted: {}</p>",
            escape(&approval.deletions.join(", "))
        ));
    }
    // In prd a link only rejects: approving is for the IAM-authenticated endpoint, under MFA.
    let (approve_button, title) = if links_may_approve(approval.env) {
        (
            "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>",
            "Approve deployment?",
        )
    } else {
        body.push_str(&format!(
            "<p class=\"warn\">Production changes are approved under your IAM identity with MFA, not from this page: <code>infra-agent approve {}</code>. This page can reject.</p>",
            escape(&approval.approval_id)
        ));
        ("", "Review production change")
    };
    body.push_str(&format!(
        "<form method=\"post\" action=\"{}\">\
<p><label>Your name<br><input name=\"approver\" required maxlength=\"100\" autocomplete=\"name\"></label></p>\
<p><label>Comment (optional)<br><input name=\"comment\" maxlength=\"500\"></label></p>\
{approve_button}\
<button type=\"submit\" name=\"decision\" value=\"reject\">Reject</button></form>",
        escape(action_url)
    ));
    layout(title, &body)
}

/// A page that states an outcome or a refusal.
pub fn outcome(title: &str, message: &str) -> String {
    layout(title, &format!("<p>{}</p>", escape(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(env: crate::naming::Env) -> ApprovalRecord {
        serde_json::from_value(serde_json::json!({
            "approval_id": "a1b2c3d4-e5f6a7b8c9d0", "deployment_id": "prd-vpc-x", "env": env,
            "stack": "vpc", "stack_name": "infra-agent-prd-vpc", "change_set_name": "cs",
            "requested_by": "alice", "summary_lines": ["MODIFY AWS::EC2::Subnet ×1"],
            "replacements": [], "deletions": [], "validation_passed": true,
            "status": "PENDING", "created_at": "t", "expires_at": "t", "expires_epoch": 1
        }))
        .unwrap()
    }

    #[test]
    fn a_prd_page_offers_reject_only_and_says_how_to_approve_under_iam() {
        let prd = confirmation(
            &pending(crate::naming::Env::Prd),
            ReportView::NotStored,
            "/x",
        );
        assert!(!prd.contains("value=\"approve\""), "{prd}");
        assert!(prd.contains("value=\"reject\""));
        assert!(prd.contains("infra-agent approve a1b2c3d4-e5f6a7b8c9d0"));
        let dev = confirmation(
            &pending(crate::naming::Env::Dev),
            ReportView::NotStored,
            "/x",
        );
        assert!(dev.contains("value=\"approve\"") && dev.contains("value=\"reject\""));
        assert!(!dev.contains("infra-agent approve"));
    }

    #[test]
    fn page_text_is_escaped() {
        let page = outcome("Refused", "<script>alert(1)</script>");
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
    }
}
