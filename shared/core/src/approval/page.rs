//! The HTML pages of the approval endpoint: self-contained (no external assets, no scripts), so
//! they render the same in any browser and leak nothing to third parties.

use std::collections::BTreeMap;

use super::message::finding_line;
use super::rules::links_may_approve;
use crate::contract::cost::CostReport;
use crate::cost::Usd;
use crate::records::{ApprovalKind, ApprovalRecord};
use crate::validation::{ControlResult, Severity, ValidationReport};

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
<style>body{{font-family:system-ui,sans-serif;font-size:1rem;line-height:1.4;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;overflow-wrap:anywhere}}\
table{{border-collapse:collapse;width:100%}}td,th{{padding:.2rem .6rem .2rem 0;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}}\
h2{{font-size:1.25rem;margin-top:1.6rem}}h3{{font-size:1.05rem}}code{{font-size:.95em}}\
.warn{{color:#a40000;font-weight:600}}.note{{color:#555}}.num{{white-space:nowrap;text-align:right}}\
button{{font-size:1rem;padding:.5rem 1.2rem;margin:0 .6rem .6rem 0}}\
input{{font-size:1rem;padding:.3rem;width:20rem;max-width:100%;box-sizing:border-box}}</style></head>\
<body><h1>{title}</h1>\n{body}\n</body></html>\n",
        title = escape(title),
    )
}

/// A report the confirmation page reads from where the deployment stored it.
pub enum Stored<'a, T> {
    /// The deployment stored none (older deployments, teardowns).
    NotStored,
    Read(&'a T),
    /// The report could not be read; the page says so instead of pretending there is nothing.
    Unreadable(&'a str),
}

/// What the confirmation page shows beyond the approval record itself.
pub struct Evidence<'a> {
    /// The full validation report: every finding and every NIST control checked.
    pub validation: Stored<'a, ValidationReport>,
    /// The full cost report: every resource whose monthly cost changes.
    pub cost: Stored<'a, CostReport>,
    /// The parameter values the change set passes to CloudFormation, when recorded.
    pub parameters: Option<&'a BTreeMap<String, String>>,
}

impl Evidence<'_> {
    /// Nothing beyond the record (teardowns, or before anything was stored).
    pub fn none() -> Self {
        Evidence {
            validation: Stored::NotStored,
            cost: Stored::NotStored,
            parameters: None,
        }
    }
}

/// The confirmation page: what would change, what it costs, what was checked, and a form that
/// POSTs the decision.
pub fn confirmation(
    approval: &ApprovalRecord,
    evidence: &Evidence<'_>,
    action_url: &str,
) -> String {
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
    body.push_str(&approvers_section(approval));
    if let Some((headline, lines)) = approval.notes.split_first() {
        body.push_str(&format!(
            "<h2>Before you decide</h2><p class=\"warn\" id=\"notes\">{}</p>{}",
            escape(headline),
            rows(lines.iter().map(|line| [escape(line)]))
        ));
    }
    body.push_str(&changes_section(approval));
    // A teardown is not priced: it only removes.
    if approval.kind == ApprovalKind::Deployment || approval.cost_line.is_some() {
        body.push_str(&cost_section(approval, &evidence.cost));
    }
    body.push_str(&validation_section(approval, &evidence.validation));
    if let Some(parameters) = evidence.parameters.filter(|p| !p.is_empty()) {
        body.push_str(&format!(
            "<h2>Parameters</h2>{}",
            rows(
                parameters
                    .iter()
                    .map(|(name, value)| [escape(name), format!("<code>{}</code>", escape(value))])
            )
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
            "<p class=\"warn\" id=\"approve-hint\">Production changes are approved under your IAM identity with MFA, not from this page: <code>infra-agent approve {}</code>. This page can reject.</p>",
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

/// Table rows of already escaped cells.
fn rows<const N: usize>(cells: impl Iterator<Item = [String; N]>) -> String {
    let mut table = String::from("<table>");
    for row in cells {
        table.push_str("<tr>");
        for cell in row {
            table.push_str(&format!("<td>{cell}</td>"));
        }
        table.push_str("</tr>");
    }
    table.push_str("</table>");
    table
}

/// How many distinct approvals the change needs, and who gave one so far.
fn approvers_section(approval: &ApprovalRecord) -> String {
    let given = approval.approved_by.len();
    let class = if approval.required_approvers > 1 {
        " class=\"warn\""
    } else {
        ""
    };
    let mut text = format!(
        "<p{class} id=\"approvers\">Approvals: {given} of {} needed (distinct approvers)",
        approval.required_approvers
    );
    if !approval.approved_by.is_empty() {
        text.push_str(&format!(
            "; approved so far by {}",
            escape(&approval.approved_by.join(", "))
        ));
    }
    text.push_str(".</p>");
    text
}

/// The change set's changes by action and type, replacements and deletions called out by name.
fn changes_section(approval: &ApprovalRecord) -> String {
    let mut section = format!(
        "<h2>Changes</h2><div id=\"changes\">{}</div>",
        rows(approval.summary_lines.iter().map(|line| [escape(line)]))
    );
    for (names, id, headline) in [
        (
            &approval.replacements,
            "replacements",
            "Replaced (the resource is deleted and created anew; its data and identifiers may be lost)",
        ),
        (&approval.deletions, "deletions", "Deleted"),
    ] {
        if !names.is_empty() {
            section.push_str(&format!(
                "<p class=\"warn\">{headline}: {}</p><ul id=\"{id}\">",
                names.len()
            ));
            for name in names {
                section.push_str(&format!("<li><code>{}</code></li>", escape(name)));
            }
            section.push_str("</ul>");
        }
    }
    section
}

/// The cost headline, then one line per resource whose monthly cost changes and every resource
/// left unpriced.
fn cost_section(approval: &ApprovalRecord, cost: &Stored<'_, CostReport>) -> String {
    let mut section = String::from("<h2>Cost</h2>");
    let class = if approval.exceeds_budget {
        " class=\"warn\""
    } else {
        ""
    };
    section.push_str(&format!(
        "<p{class} id=\"cost\">{}</p>",
        escape(
            approval
                .cost_line
                .as_deref()
                .unwrap_or("estimate unavailable: not run")
        )
    ));
    match cost {
        Stored::NotStored => {}
        Stored::Unreadable(reason) => section.push_str(&format!(
            "<p class=\"warn\">The per-resource cost report could not be read: {}</p>",
            escape(reason)
        )),
        Stored::Read(report) => {
            if let Some(delta) = &report.delta {
                // Resources that cost nothing before and after are counted, not listed.
                let costs = |usd: Option<Usd>| usd.is_some_and(|u| u != Usd::ZERO);
                let (priced, free): (Vec<_>, Vec<_>) = delta
                    .resources
                    .iter()
                    .partition(|line| costs(line.before_monthly) || costs(line.after_monthly));
                if !priced.is_empty() {
                    section.push_str(
                        "<table id=\"cost-lines\"><tr><th>Resource</th><th class=\"num\">Before</th>\
<th class=\"num\">After</th><th class=\"num\">Change</th></tr>",
                    );
                    let money =
                        |usd: Option<Usd>| usd.map_or_else(|| "-".to_string(), |u| u.to_string());
                    for line in priced {
                        section.push_str(&format!(
                            "<tr><td><code>{}</code> {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                            escape(&line.logical_id),
                            escape(&line.resource_type),
                            escape(&money(line.before_monthly)),
                            escape(&money(line.after_monthly)),
                            escape(&money(Some(line.delta_monthly))),
                        ));
                    }
                    section.push_str("</table><p class=\"note\">Monthly, per resource.</p>");
                }
                if !free.is_empty() {
                    section.push_str(&format!(
                        "<p class=\"note\" id=\"cost-free\">{} more resource(s) cost nothing before and after.</p>",
                        free.len()
                    ));
                }
                if report.truncated {
                    section.push_str(
                        "<p class=\"note\">Only the largest changes are listed; the totals count every resource.</p>",
                    );
                }
                if !delta.not_priced.is_empty() {
                    section.push_str(&format!(
                        "<p>Not priced: {}</p>{}",
                        delta.not_priced.len(),
                        rows(delta.not_priced.iter().map(|item| {
                            [
                                format!(
                                    "<code>{}</code> {}",
                                    escape(&item.logical_id),
                                    escape(&item.resource_type)
                                ),
                                escape(&item.reason),
                            ]
                        }))
                    ));
                }
            }
            for line in report.price_lines() {
                section.push_str(&format!("<p class=\"note\">{}</p>", escape(&line)));
            }
        }
    }
    section
}

/// Whether validation passed, every NIST 800-53 control it checked with its outcome, and every
/// finding.
fn validation_section(approval: &ApprovalRecord, report: &Stored<'_, ValidationReport>) -> String {
    let mut section = format!(
        "<h2>Validation</h2><p id=\"validation\">{}</p>",
        if approval.validation_passed {
            "Passed"
        } else {
            "<span class=\"warn\">FAILED</span>"
        }
    );
    match report {
        Stored::NotStored => {}
        Stored::Unreadable(reason) => section.push_str(&format!(
            "<p class=\"warn\">The full validation report could not be read: {}</p>",
            escape(reason)
        )),
        Stored::Read(report) => {
            if !report.controls.is_empty() {
                section.push_str(&format!(
                    "<h3>NIST 800-53 controls checked ({})</h3><table id=\"controls\">",
                    report.controls.len()
                ));
                for (control, result) in &report.controls {
                    let (class, text) = match result {
                        ControlResult::Passed => ("", "passed"),
                        ControlResult::Failed => (" class=\"warn\"", "FAILED"),
                        ControlResult::NotApplicable => ("", "not applicable"),
                    };
                    section.push_str(&format!(
                        "<tr><td>{}</td><td{class}>{text}</td></tr>",
                        escape(control)
                    ));
                }
                section.push_str("</table>");
            }
            if !report.findings.is_empty() {
                section.push_str(&format!(
                    "<h3>Findings ({})</h3><table id=\"findings\">",
                    report.findings.len()
                ));
                for finding in &report.findings {
                    section.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td></tr>",
                        match finding.severity {
                            Severity::Error => "error",
                            Severity::Warning => "warning",
                        },
                        escape(&finding_line(finding))
                    ));
                }
                section.push_str("</table>");
            }
            if !report.suppressed.is_empty() {
                section.push_str(&format!(
                    "<p>{} finding(s) suppressed by the template, each with its waiver.</p>",
                    report.suppressed.len()
                ));
            }
        }
    }
    section
}

/// A page that states an outcome or a refusal.
pub fn outcome(title: &str, message: &str) -> String {
    layout(title, &format!("<p>{}</p>", escape(message)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{CostDelta, ResourceDelta};
    use crate::naming::Env;
    use crate::validation::Finding;

    const HOSTILE: &str = "<script>window.injected=1</script>\"'&";

    fn pending(env: Env) -> ApprovalRecord {
        serde_json::from_value(serde_json::json!({
            "approval_id": "a1b2c3d4-e5f6a7b8c9d0", "deployment_id": "prd-vpc-x", "env": env,
            "stack": "vpc", "stack_name": "infra-agent-prd-vpc", "change_set_name": "cs",
            "requested_by": "alice", "summary_lines": ["MODIFY AWS::EC2::Subnet ×1"],
            "replacements": [], "deletions": [], "validation_passed": true,
            "status": "PENDING", "created_at": "t", "expires_at": "t", "expires_epoch": 1
        }))
        .unwrap()
    }

    fn cost_report(logical_id: &str, not_priced: &str) -> CostReport {
        CostReport {
            available: true,
            reason: None,
            estimate: None,
            delta: Some(CostDelta {
                region: "us-east-1".into(),
                before_monthly: Usd::ZERO,
                after_monthly: Usd::dollars(32),
                delta_monthly: Usd::dollars(32),
                delta_high_monthly: Usd::dollars(32),
                resources: vec![
                    ResourceDelta {
                        logical_id: logical_id.into(),
                        resource_type: "AWS::EC2::NatGateway".into(),
                        before_monthly: None,
                        after_monthly: Some(Usd::dollars(32)),
                        delta_monthly: Usd::dollars(32),
                    },
                    ResourceDelta {
                        logical_id: "Subnet".into(),
                        resource_type: "AWS::EC2::Subnet".into(),
                        before_monthly: None,
                        after_monthly: Some(Usd::ZERO),
                        delta_monthly: Usd::ZERO,
                    },
                ],
                not_priced: vec![crate::cost::NotPriced {
                    resource_type: "AWS::Custom::Thing".into(),
                    logical_id: not_priced.into(),
                    reason: "no price for this type".into(),
                }],
                prices_as_of: "2025-06-01".into(),
            }),
            monthly_budget: Some(Usd::dollars(500)),
            exceeds_budget: false,
            truncated: false,
            report: None,
        }
    }

    fn validation_report(control: &str, message: &str) -> ValidationReport {
        ValidationReport {
            source: "templates/vpc/0f1e.yaml".into(),
            passed: true,
            findings: vec![Finding {
                rule: "vpc_flow_logs".into(),
                control: Some("AU-12".into()),
                severity: Severity::Warning,
                resource: Some("Vpc".into()),
                resource_type: None,
                line: Some(12),
                message: message.into(),
            }],
            controls: BTreeMap::from([
                (control.to_string(), ControlResult::Passed),
                ("AU-12".to_string(), ControlResult::Failed),
                ("SC-28".to_string(), ControlResult::NotApplicable),
            ]),
            suppressed: Vec::new(),
        }
    }

    #[test]
    fn a_prd_page_offers_reject_only_and_says_how_to_approve_under_iam() {
        let prd = confirmation(&pending(Env::Prd), &Evidence::none(), "/x");
        assert!(!prd.contains("value=\"approve\""), "{prd}");
        assert!(prd.contains("value=\"reject\""));
        assert!(prd.contains("infra-agent approve a1b2c3d4-e5f6a7b8c9d0"));
        let dev = confirmation(&pending(Env::Dev), &Evidence::none(), "/x");
        assert!(dev.contains("value=\"approve\"") && dev.contains("value=\"reject\""));
        assert!(!dev.contains("infra-agent approve"));
    }

    #[test]
    fn page_shows_cost_lines_controls_replacements_deletions_drift_and_approvers() {
        let mut approval = pending(Env::Dev);
        approval.cost_line = Some("+$32.00/month ($0.00 → $32.00)".into());
        approval.replacements = vec!["PublicSubnetA".into()];
        approval.deletions = vec!["LegacyRoute".into()];
        approval.notes = vec![
            "DRIFT: this change set overwrites manual changes to Vpc (drift scan s1, t)".into(),
            "Vpc EnableDnsHostnames NOT_EQUAL: expected true, actual false [breaks SC-7]".into(),
        ];
        approval.required_approvers = 2;
        approval.approved_by = vec!["arn:aws:sts::1:assumed-role/infra-agent-approver/ada".into()];
        let cost = cost_report("NatGatewayA", "Widget");
        let validation = validation_report("SC-7", "flow logs are off");
        let parameters = BTreeMap::from([("VpcCidr".to_string(), "10.0.0.0/16".to_string())]);
        let page = confirmation(
            &approval,
            &Evidence {
                validation: Stored::Read(&validation),
                cost: Stored::Read(&cost),
                parameters: Some(&parameters),
            },
            "/x",
        );
        for expected in [
            "MODIFY AWS::EC2::Subnet ×1",
            "+$32.00/month ($0.00 → $32.00)",
            "<code>NatGatewayA</code> AWS::EC2::NatGateway</td><td class=\"num\">-</td><td class=\"num\">$32.00</td><td class=\"num\">$32.00</td>",
            "1 more resource(s) cost nothing before and after.",
            "<code>Widget</code> AWS::Custom::Thing</td><td>no price for this type",
            "NIST 800-53 controls checked (3)",
            "<td>SC-7</td><td>passed</td>",
            "<td>AU-12</td><td class=\"warn\">FAILED</td>",
            "<td>SC-28</td><td>not applicable</td>",
            "[AU-12] Vpc line 12: flow logs are off",
            "Replaced (the resource is deleted and created anew",
            "<li><code>PublicSubnetA</code></li>",
            "Deleted: 1",
            "<li><code>LegacyRoute</code></li>",
            "DRIFT: this change set overwrites manual changes to Vpc",
            "expected true, actual false [breaks SC-7]",
            "Approvals: 1 of 2 needed",
            "approved so far by arn:aws:sts::1:assumed-role/infra-agent-approver/ada",
            "<td>VpcCidr</td><td><code>10.0.0.0/16</code></td>",
        ] {
            assert!(page.contains(expected), "{expected:?} missing from {page}");
        }
    }

    #[test]
    fn a_report_that_cannot_be_read_is_said_so() {
        let page = confirmation(
            &pending(Env::Dev),
            &Evidence {
                validation: Stored::Unreadable("access denied"),
                cost: Stored::Unreadable("no such key"),
                parameters: None,
            },
            "/x",
        );
        assert!(page.contains("The full validation report could not be read: access denied"));
        assert!(page.contains("The per-resource cost report could not be read: no such key"));
        assert!(page.contains("estimate unavailable: not run"), "{page}");
    }

    #[test]
    fn everything_user_supplied_is_escaped() {
        let mut approval = pending(Env::Dev);
        approval.deployment_id = HOSTILE.into();
        approval.stack_name = HOSTILE.into();
        approval.requested_by = HOSTILE.into();
        approval.change_set_name = HOSTILE.into();
        approval.expires_at = HOSTILE.into();
        approval.summary_lines = vec![HOSTILE.into()];
        approval.replacements = vec![HOSTILE.into()];
        approval.deletions = vec![HOSTILE.into()];
        approval.notes = vec![HOSTILE.into(), HOSTILE.into()];
        approval.approved_by = vec![HOSTILE.into()];
        approval.cost_line = Some(HOSTILE.into());
        let cost = cost_report(HOSTILE, HOSTILE);
        let validation = validation_report(HOSTILE, HOSTILE);
        let parameters = BTreeMap::from([(HOSTILE.to_string(), HOSTILE.to_string())]);
        let page = confirmation(
            &approval,
            &Evidence {
                validation: Stored::Read(&validation),
                cost: Stored::Read(&cost),
                parameters: Some(&parameters),
            },
            HOSTILE,
        );
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("\"'&<"), "{page}");
        let escaped = "&lt;script&gt;window.injected=1&lt;/script&gt;&quot;&#39;&amp;";
        // Every field above, the action URL included.
        assert!(page.matches(escaped).count() >= 17, "{page}");
        let unreadable = confirmation(
            &pending(Env::Prd),
            &Evidence {
                validation: Stored::Unreadable(HOSTILE),
                cost: Stored::Unreadable(HOSTILE),
                parameters: None,
            },
            "/x",
        );
        assert!(!unreadable.contains("<script"), "{unreadable}");
        assert_eq!(unreadable.matches(escaped).count(), 2, "{unreadable}");
    }

    #[test]
    fn page_text_is_escaped() {
        let page = outcome("Refused", "<script>alert(1)</script>");
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
    }
}
