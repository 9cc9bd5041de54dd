//! Suppressions: `Metadata.infra-agent.suppress` entries on a resource waive named findings on
//! that resource until a date, each with a reason and an owner; every waiver is reported. The
//! template's own top-level `Metadata` waives findings about no resource (an unused parameter,
//! condition or mapping); it never waives a finding on a resource.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::macros::format_description;
use time::Date;

use super::{Finding, Severity};
use crate::template::{pointer, Template};

/// Rule id of a suppression entry that lacks a field or has an invalid one (an error: a waiver
/// nobody can trace or that never ends must not be taken on trust).
pub const SUPPRESSION_MALFORMED: &str = "suppression_malformed";
/// Rule id of a suppression past its `expires` date (a warning: the finding it waived is back).
pub const SUPPRESSION_EXPIRED: &str = "suppression_expired";

/// Ids cfn-lint has retired, with the id that now reports the same finding: a waiver written
/// against the old id keeps waiving it.
pub(crate) const RENAMED: [(&str, &str); 1] = [("E1012", "E1020")];

/// The id a suppression's `rule` names today.
fn current_id(rule: &str) -> &str {
    RENAMED
        .iter()
        .find(|(old, _)| *old == rule)
        .map_or(rule, |(_, new)| new)
}

const FIELDS: [&str; 4] = ["rule", "reason", "owner", "expires"];

/// One waiver as written in the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// A guard rule name, a structural rule id or a NIST control id.
    pub rule: String,
    pub reason: String,
    pub owner: String,
    /// Last day the waiver holds (ISO date, inclusive).
    pub expires: String,
}

/// A finding taken out of the verdict, with the waiver that took it out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuppressedFinding {
    pub finding: Finding,
    pub suppression: Suppression,
}

/// A suppression in force on one resource, or (`None`) on the template.
struct Active {
    resource: Option<String>,
    suppression: Suppression,
}

impl Active {
    fn covers(&self, finding: &Finding) -> bool {
        finding.resource == self.resource
            && (finding.rule == current_id(&self.suppression.rule)
                || finding.control.as_deref() == Some(self.suppression.rule.as_str()))
    }
}

/// Splits `findings` into those that still count and those an unexpired suppression waives, and
/// adds findings about the suppressions themselves (malformed, expired). A finding about a
/// suppression can never be suppressed.
pub(crate) fn apply(
    template: &Template,
    findings: Vec<Finding>,
    today: Date,
) -> (Vec<Finding>, Vec<SuppressedFinding>) {
    let (active, mut own) = read(template, today);
    let mut kept = Vec::with_capacity(findings.len());
    let mut suppressed = Vec::new();
    for finding in findings {
        match active.iter().find(|a| a.covers(&finding)) {
            Some(a) => suppressed.push(SuppressedFinding {
                finding,
                suppression: a.suppression.clone(),
            }),
            None => kept.push(finding),
        }
    }
    kept.append(&mut own);
    (kept, suppressed)
}

/// The suppressions in force, and findings about the ones that are malformed or expired.
fn read(template: &Template, today: Date) -> (Vec<Active>, Vec<Finding>) {
    let (mut active, mut findings) = (Vec::new(), Vec::new());
    let on_template = template
        .value
        .get("Metadata")
        .map(|metadata| (None, metadata, "/Metadata/infra-agent".to_string()));
    let on_resources = template
        .resources()
        .into_iter()
        .flatten()
        .filter_map(|(id, resource)| {
            let base = format!("{}/Metadata/infra-agent", pointer::of("Resources", id));
            resource
                .get("Metadata")
                .map(|metadata| (Some(id.as_str()), metadata, base))
        });
    for (id, metadata, base) in on_template.into_iter().chain(on_resources) {
        let Some(entries) = metadata
            .get("infra-agent")
            .and_then(|ours| ours.get("suppress"))
        else {
            continue;
        };
        let of = id.unwrap_or("the template");
        let Some(entries) = entries.as_array() else {
            findings.push(finding(
                template,
                SUPPRESSION_MALFORMED,
                Severity::Error,
                id,
                &format!("{base}/suppress"),
                format!("suppressions of {of} must be a list of {{rule, reason, owner, expires}}"),
            ));
            continue;
        };
        for (i, entry) in entries.iter().enumerate() {
            let path = format!("{base}/suppress/{i}");
            match parse_entry(entry) {
                Err(problem) => findings.push(finding(
                    template,
                    SUPPRESSION_MALFORMED,
                    Severity::Error,
                    id,
                    &path,
                    format!("suppression {} of {of} {problem}", i + 1),
                )),
                Ok((suppression, expires)) if expires < today => findings.push(finding(
                    template,
                    SUPPRESSION_EXPIRED,
                    Severity::Warning,
                    id,
                    &path,
                    format!(
                        "suppression of {} on {of} (owner {}) expired on {}; its findings count again",
                        suppression.rule, suppression.owner, suppression.expires
                    ),
                )),
                Ok((suppression, _)) => active.push(Active {
                    resource: id.map(str::to_string),
                    suppression,
                }),
            }
        }
    }
    (active, findings)
}

/// An entry with all four fields as non-empty strings and `expires` an ISO date, or what is
/// wrong with it, worded to follow "suppression N of X".
fn parse_entry(entry: &Value) -> Result<(Suppression, Date), String> {
    let Some(map) = entry.as_object() else {
        return Err("must be a mapping with rule, reason, owner and expires".into());
    };
    let field = |name: &str| {
        map.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let missing: Vec<&str> = FIELDS
        .iter()
        .copied()
        .filter(|f| field(f).is_none())
        .collect();
    let (Some(rule), Some(reason), Some(owner), Some(expires)) = (
        field("rule"),
        field("reason"),
        field("owner"),
        field("expires"),
    ) else {
        return Err(format!("is missing {}", missing.join(", ")));
    };
    let date = Date::parse(&expires, format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("has expires '{expires}', which is not an ISO date (YYYY-MM-DD)"))?;
    Ok((
        Suppression {
            rule,
            reason,
            owner,
            expires,
        },
        date,
    ))
}

fn finding(
    template: &Template,
    rule: &str,
    severity: Severity,
    resource: Option<&str>,
    path: &str,
    message: String,
) -> Finding {
    Finding {
        rule: rule.to_string(),
        control: None,
        severity,
        resource: resource.map(str::to_string),
        resource_type: resource
            .and_then(|r| template.resource_type(r))
            .map(str::to_string),
        line: template.line_at(path),
        message,
    }
}
