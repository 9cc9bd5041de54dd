//! `validate`: the pipeline's validation, run locally on template files, with the report shapes
//! the validation issue specifies (text lines for people, JSON for scripts).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use infra_agent_core::environment::environment_parameters;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::Env;
use infra_agent_core::validation::{
    validate_template, ControlResult, Finding, Severity, SuppressedFinding, Suppression,
    ValidationContext, ValidationReport,
};
use serde::Serialize;

use crate::output::{print_json, print_line, Format};

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Template files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Validate as deployed to this environment (its parameters resolved).
    #[arg(long, value_parser = super::parse_env)]
    env: Option<Env>,
}

/// Order controls are listed in: by family as the policy presents them, not alphabetically.
const CONTROL_ORDER: [&str; 9] = [
    "AU-2", "AU-3", "SC-7", "SC-8", "SC-28", "AC-2", "AC-6", "CM-8", "CM-3",
];

/// One finding as scripts see it.
#[derive(Serialize)]
struct FindingView<'a> {
    rule: &'a str,
    control: Option<&'a str>,
    severity: Severity,
    resource: Option<&'a str>,
    line: Option<u32>,
    message: &'a str,
}

impl<'a> From<&'a Finding> for FindingView<'a> {
    fn from(f: &'a Finding) -> Self {
        FindingView {
            rule: &f.rule,
            control: f.control.as_deref(),
            severity: f.severity,
            resource: f.resource.as_deref(),
            line: f.line,
            message: &f.message,
        }
    }
}

#[derive(Serialize)]
struct SuppressedView<'a> {
    #[serde(flatten)]
    finding: FindingView<'a>,
    suppression: &'a Suppression,
}

impl<'a> From<&'a SuppressedFinding> for SuppressedView<'a> {
    fn from(s: &'a SuppressedFinding) -> Self {
        SuppressedView {
            finding: (&s.finding).into(),
            suppression: &s.suppression,
        }
    }
}

/// One template's report; `file` only when several templates share one document.
#[derive(Serialize)]
struct ReportView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    passed: bool,
    findings: Vec<FindingView<'a>>,
    controls: &'a BTreeMap<String, ControlResult>,
    suppressed: Vec<SuppressedView<'a>>,
}

impl<'a> ReportView<'a> {
    fn new(report: &'a ValidationReport, with_file: bool) -> Self {
        ReportView {
            file: with_file.then_some(report.source.as_str()),
            passed: report.passed,
            findings: report.findings.iter().map(Into::into).collect(),
            controls: &report.controls,
            suppressed: report.suppressed.iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize)]
struct Several<'a> {
    passed: bool,
    templates: Vec<ReportView<'a>>,
}

pub fn run(args: &ValidateArgs, format: Format) -> anyhow::Result<ExitCode> {
    infra_agent_core::validation::warm_up();
    let mut ctx = ValidationContext {
        env: args.env,
        ..Default::default()
    };
    if let Some(env) = args.env {
        let config = EnvironmentConfig::builtin(env)?;
        // IaC_Version is known only at deploy time; any valid version stands in for it here.
        ctx.parameters = environment_parameters(&config, env!("CARGO_PKG_VERSION"));
    }
    let reports: Vec<ValidationReport> = args
        .files
        .iter()
        .map(|path| {
            let source = path.display().to_string();
            match std::fs::read_to_string(path) {
                Ok(body) => validate_template(&source, &body, &ctx),
                Err(e) => {
                    ValidationReport::failed_closed(&source, &format!("cannot read file: {e}"))
                }
            }
        })
        .collect();
    let passed = reports.iter().all(|r| r.passed);
    match (format, reports.as_slice()) {
        (Format::Json, [one]) => print_json(&ReportView::new(one, false))?,
        (Format::Json, many) => print_json(&Several {
            passed,
            templates: many.iter().map(|r| ReportView::new(r, true)).collect(),
        })?,
        (Format::Table, [one]) => print_lines(&text_lines(one), ""),
        (Format::Table, many) => {
            for report in many {
                print_line(format!("{}:", report.source));
                print_lines(&text_lines(report), "  ");
            }
        }
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_lines(lines: &[String], indent: &str) {
    for line in lines {
        print_line(format!("{indent}{line}"));
    }
}

/// The text report: the two pass lines, or one line per finding; then warnings and what was
/// suppressed, so a waiver is never silent.
fn text_lines(report: &ValidationReport) -> Vec<String> {
    let mut lines = Vec::new();
    if report.passed {
        lines.push("✓ Template validation passed".to_string());
        lines.push(controls_line(&report.controls));
    }
    for finding in &report.findings {
        let label = match finding.severity {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        };
        lines.push(format!("{label} {}", describe(finding)));
    }
    for waived in &report.suppressed {
        let s = &waived.suppression;
        lines.push(format!(
            "SUPPRESSED {} (by {} until {}: {})",
            describe(&waived.finding),
            s.owner,
            s.expires,
            s.reason
        ));
    }
    lines
}

/// `[CM-8] CustomSecurityGroup (AWS::EC2::SecurityGroup) line 42: message`
fn describe(finding: &Finding) -> String {
    format!(
        "[{}] {}{}{}: {}",
        finding.control.as_deref().unwrap_or(&finding.rule),
        finding.resource.as_deref().unwrap_or("template"),
        finding
            .resource_type
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default(),
        finding
            .line
            .map(|l| format!(" line {l}"))
            .unwrap_or_default(),
        finding.message
    )
}

/// `✓ All 8 NIST controls passed (AU-2, …)`, listing the controls that applied and passed.
fn controls_line(controls: &BTreeMap<String, ControlResult>) -> String {
    let mut passed: Vec<&str> = controls
        .iter()
        .filter(|(_, r)| **r == ControlResult::Passed)
        .map(|(c, _)| c.as_str())
        .collect();
    passed.sort_by_key(|c| {
        CONTROL_ORDER
            .iter()
            .position(|o| o == c)
            .unwrap_or(CONTROL_ORDER.len())
    });
    if passed.is_empty() {
        return "✓ No NIST control applies to this template".to_string();
    }
    format!(
        "✓ All {} NIST controls passed ({})",
        passed.len(),
        passed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity) -> Finding {
        Finding {
            rule: "cm8_required_tags".into(),
            control: Some("CM-8".into()),
            severity,
            resource: Some("CustomSecurityGroup".into()),
            resource_type: Some("AWS::EC2::SecurityGroup".into()),
            line: Some(42),
            message: "missing mandatory tags Owner, SecurityLevel".into(),
        }
    }

    #[test]
    fn failing_finding_prints_as_one_line_with_control_resource_type_and_line() {
        let report = ValidationReport::from_findings(
            "t.yaml",
            vec![finding(Severity::Error)],
            BTreeMap::new(),
        );
        assert_eq!(
            text_lines(&report),
            ["ERROR [CM-8] CustomSecurityGroup (AWS::EC2::SecurityGroup) line 42: missing mandatory tags Owner, SecurityLevel"]
        );
    }

    #[test]
    fn passing_report_lists_passed_controls_in_family_order() {
        let controls = [
            "AC-2", "AC-6", "AU-2", "AU-3", "CM-3", "CM-8", "SC-7", "SC-8",
        ]
        .into_iter()
        .map(|c| (c.to_string(), ControlResult::Passed))
        .chain([("SC-28".to_string(), ControlResult::NotApplicable)])
        .collect();
        let report = ValidationReport::from_findings("t.yaml", Vec::new(), controls);
        assert_eq!(
            text_lines(&report),
            [
                "✓ Template validation passed",
                "✓ All 8 NIST controls passed (AU-2, AU-3, SC-7, SC-8, AC-2, AC-6, CM-8, CM-3)"
            ]
        );
    }

    #[test]
    fn json_finding_carries_exactly_the_issue_fields() {
        let f = finding(Severity::Warning);
        let value = serde_json::to_value(FindingView::from(&f)).expect("serializes");
        let keys: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["rule", "control", "severity", "resource", "line", "message"]
        );
        assert_eq!(value["severity"], "warning");
    }
}
