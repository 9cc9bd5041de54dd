//! Template validation: syntax, structure and NIST 800-53 policy (cfn-guard), failing closed.
//! One entry point, `validate_template`, returns a structured report; nothing here prints.

pub mod engines;
pub mod policy;
mod report;
pub(crate) mod resolve;
pub mod runtimes;
pub mod schema;
pub mod structure;
pub mod suppression;

pub(crate) use report::COULD_NOT_RUN;
pub use report::{ControlResult, Finding, Severity, ValidationReport};
pub use suppression::{SuppressedFinding, Suppression};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use time::{Date, OffsetDateTime};

use crate::naming::Env;
use crate::template::{pointer, Template};
use policy::{GuardOutcome, Policy};

/// Rule id of a template that cannot be read (or a validator that cannot run).
pub const SYNTAX: &str = "E0000";

/// What a template is validated against: the environment it is headed for and that environment's
/// parameter values, so policy sees what that environment would deploy.
#[derive(Debug, Clone, Default)]
pub struct ValidationContext {
    pub env: Option<Env>,
    pub parameters: BTreeMap<String, String>,
}

/// Starts building, each on a thread of its own, what the first validation in a process would
/// otherwise build on its way: the resource schemas (`schema::registry`) and the case-conversion
/// tables guard builds the first time a rule looks up a key a template lacks (cruet's, some
/// thirty regular expressions). A short-lived process, the CLI or a cold Lambda, then does that
/// work while it reads and parses its templates; validation waits for whatever is not ready
/// when it needs it. Calling it again, or never, changes no result.
pub fn warm_up() {
    std::thread::spawn(|| {
        let _ = schema::registry();
    });
    std::thread::spawn(|| {
        let _ = cruet::case::class::to_class_case("Tags");
    });
}

/// Data written beside the resource schemas by `scripts/gen-resource-schemas` and embedded in
/// the binary (`what` names it in the error), read once per process into `cell`.
fn embedded_data<T: serde::de::DeserializeOwned + Send + Sync>(
    cell: &'static OnceLock<Result<T, String>>,
    text: &str,
    what: &str,
) -> Result<&'static T, String> {
    cell.get_or_init(|| {
        serde_json::from_str(text).map_err(|e| format!("the {what} data does not load: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Validates one template body. `source` names it in findings (a file path or an S3 key).
/// Suppressions are judged against today's date (UTC).
pub fn validate_template(source: &str, body: &str, ctx: &ValidationContext) -> ValidationReport {
    match Policy::shipped() {
        Ok(policy) => {
            validate_with_policy(source, body, ctx, policy, OffsetDateTime::now_utc().date())
        }
        Err(e) => ValidationReport::failed_closed(source, &e.to_string()),
    }
}

/// `validate_template` against any rules set (tests feed broken ones to prove it fails closed)
/// on a given day (so suppression expiry can be tested).
pub fn validate_with_policy(
    source: &str,
    body: &str,
    ctx: &ValidationContext,
    policy: &Policy,
    today: Date,
) -> ValidationReport {
    let template = match Template::parse(source, body) {
        Ok(t) => t,
        Err(e) => {
            return ValidationReport::from_findings(
                source,
                vec![Finding {
                    rule: SYNTAX.into(),
                    control: None,
                    severity: Severity::Error,
                    resource: None,
                    resource_type: None,
                    line: e.line,
                    message: e.message,
                }],
                BTreeMap::new(),
            )
        }
    };
    // Read as functions so the rest can be checked, but CloudFormation rejects them.
    let mut findings: Vec<Finding> = template
        .unknown_tags
        .iter()
        .map(|unknown| Finding {
            rule: SYNTAX.into(),
            control: None,
            severity: Severity::Error,
            resource: None,
            resource_type: None,
            line: Some(unknown.line),
            message: format!(
                "unknown tag '{}': not a CloudFormation intrinsic function",
                unknown.tag
            ),
        })
        .collect();
    findings.extend(structure::check(&template));
    findings.extend(schema::check(&template));
    findings.extend(runtimes::check(&template, today));
    findings.extend(engines::check(&template));
    let mut resolved = resolve::with_parameters(&template, ctx);
    resolve::policy_documents_as_objects(&mut resolved);
    let outcome = match policy.evaluate(&resolved) {
        Ok(outcome) => outcome,
        Err(e) => {
            let mut report = ValidationReport::failed_closed(source, &e.to_string());
            report.findings.extend(findings);
            return report;
        }
    };
    findings.extend(policy_findings(&template, policy, &outcome));
    let (mut findings, suppressed) = suppression::apply(&template, findings, today);
    let mut controls = control_results(policy, &outcome);
    // A control whose every failure is waived passes: the waiver is the reviewed exception.
    for (control, result) in controls.iter_mut() {
        if *result == ControlResult::Failed
            && !findings
                .iter()
                .any(|f| f.control.as_deref() == Some(control.as_str()))
        {
            *result = ControlResult::Passed;
        }
    }
    findings.sort_by_key(|f| f.line.unwrap_or(0));
    let mut report = ValidationReport::from_findings(source, findings, controls);
    report.suppressed = suppressed;
    report
}

/// One finding per rule, resource and message: guard reports a check once per value it looked
/// at, which for a missing tag is every other tag of the resource.
fn policy_findings(template: &Template, policy: &Policy, outcome: &GuardOutcome) -> Vec<Finding> {
    let mut seen = BTreeSet::new();
    let mut findings = Vec::new();
    for violation in &outcome.violations {
        let resource = violation.path.as_deref().and_then(structure::resource_of);
        if !seen.insert((
            violation.rule.clone(),
            resource.clone(),
            violation.message.clone(),
        )) {
            continue;
        }
        let info = policy.rule(&violation.rule);
        // A check on a resource's `Type` is a check on the resource as a whole: point at its id.
        let on_whole_resource = violation.path.as_deref().is_some_and(|p| {
            resource
                .as_deref()
                .is_some_and(|r| p == format!("{}/Type", pointer::of("Resources", r)))
        });
        let line = violation
            .path
            .as_deref()
            .filter(|_| !on_whole_resource)
            .and_then(|p| template.line_at(p))
            .or_else(|| resource.as_deref().and_then(|r| template.resource_line(r)));
        let control = info.map(|i| i.control.clone());
        // Rule messages open with their control for guard's own output; ours shows it apart.
        let message = control
            .as_deref()
            .and_then(|c| violation.message.strip_prefix(c))
            .and_then(|m| m.strip_prefix(':'))
            .map_or_else(|| violation.message.clone(), |m| m.trim().to_string());
        findings.push(Finding {
            rule: violation.rule.clone(),
            control,
            // A rule missing from the catalog was never reviewed: treat it as blocking.
            severity: info.map_or(Severity::Error, |i| i.severity),
            resource_type: resource
                .as_deref()
                .and_then(|r| template.resource_type(r))
                .map(str::to_string),
            resource,
            line,
            message,
        });
    }
    group_missing_tags(template, findings)
}

/// Guard checks each mandatory tag on its own; a reader wants one finding per resource naming
/// every tag it lacks, at the resource's `Tags` (or where they would go).
fn group_missing_tags(template: &Template, findings: Vec<Finding>) -> Vec<Finding> {
    const MISSING: &str = "missing tag ";
    let mut grouped: Vec<(Finding, Vec<String>)> = Vec::new();
    let mut others = Vec::new();
    for finding in findings {
        let Some(tag) = finding.message.strip_prefix(MISSING).map(str::to_string) else {
            others.push(finding);
            continue;
        };
        let same = grouped
            .iter_mut()
            .find(|(g, _)| g.rule == finding.rule && g.resource == finding.resource);
        match same {
            Some((_, tags)) => tags.push(tag),
            None => grouped.push((finding, vec![tag])),
        }
    }
    for (mut finding, tags) in grouped {
        let plural = if tags.len() == 1 { "" } else { "s" };
        finding.message = format!("missing mandatory tag{plural} {}", tags.join(", "));
        if let Some(resource) = finding.resource.as_deref() {
            let tags_path = format!("{}/Properties/Tags", pointer::of("Resources", resource));
            finding.line = template.line_at(&tags_path).or(finding.line);
        }
        others.push(finding);
    }
    others
}

/// A control fails if any of its rules failed, passes if any applied, else does not apply.
fn control_results(policy: &Policy, outcome: &GuardOutcome) -> BTreeMap<String, ControlResult> {
    let mut controls = BTreeMap::new();
    for rule in &policy.rules {
        let result = if outcome.failed.contains(&rule.name) {
            ControlResult::Failed
        } else if outcome.compliant.contains(&rule.name) {
            ControlResult::Passed
        } else {
            ControlResult::NotApplicable
        };
        let entry = controls
            .entry(rule.control.clone())
            .or_insert(ControlResult::NotApplicable);
        *entry = match (*entry, result) {
            (ControlResult::Failed, _) | (_, ControlResult::Failed) => ControlResult::Failed,
            (ControlResult::Passed, _) | (_, ControlResult::Passed) => ControlResult::Passed,
            _ => ControlResult::NotApplicable,
        };
    }
    controls
}

#[cfg(test)]
mod cfn_lint_ids;
#[cfg(test)]
mod tests;
