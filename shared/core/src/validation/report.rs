//! The validation report: the contract shared by the `validate` function, the CLI and the
//! deployment record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{SuppressedFinding, SYNTAX};
use crate::template::Template;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a template, located as precisely as the template allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `E0001` (syntax) or a guard rule name.
    pub rule: String,
    /// NIST 800-53 control, e.g. `SC-7`, when the rule enforces one.
    pub control: Option<String>,
    pub severity: Severity,
    /// Logical id of the resource, when the finding is about one.
    pub resource: Option<String>,
    /// Resource type of `resource`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// 1-based source line.
    pub line: Option<u32>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlResult {
    Passed,
    Failed,
    /// Nothing in the template is subject to the control.
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// What was validated (file path or S3 key).
    pub source: String,
    pub passed: bool,
    pub findings: Vec<Finding>,
    /// NIST control id → outcome.
    pub controls: BTreeMap<String, ControlResult>,
    /// Findings waived by a suppression in the template, each with its waiver: always reported.
    #[serde(default)]
    pub suppressed: Vec<SuppressedFinding>,
}

impl Finding {
    /// The error of a check that could not run (its data does not load): validation fails
    /// closed rather than passing a template nothing has looked at.
    pub(crate) fn could_not_run(message: String) -> Finding {
        Finding {
            rule: SYNTAX.into(),
            control: None,
            severity: Severity::Error,
            resource: None,
            resource_type: None,
            line: None,
            message,
        }
    }

    /// An error about resource `resource` found at pointer `path`, on the line of the nearest
    /// node the source has for it (the resource's own line at worst).
    pub(crate) fn on_resource(
        template: &Template,
        rule: &str,
        resource: &str,
        resource_type: &str,
        path: &str,
        message: String,
    ) -> Finding {
        Finding {
            rule: rule.to_string(),
            control: None,
            severity: Severity::Error,
            resource: Some(resource.to_string()),
            resource_type: Some(resource_type.to_string()),
            line: template
                .line_at(path)
                .or_else(|| template.resource_line(resource)),
            message,
        }
    }
}

/// How the finding of a report that failed closed opens.
pub(crate) const COULD_NOT_RUN: &str = "validation could not run";

impl ValidationReport {
    /// A report for a validator that could not run: a failed validation, never a pass.
    pub fn failed_closed(source: &str, reason: &str) -> Self {
        ValidationReport {
            source: source.to_string(),
            passed: false,
            findings: vec![Finding::could_not_run(format!("{COULD_NOT_RUN}: {reason}"))],
            controls: BTreeMap::new(),
            suppressed: Vec::new(),
        }
    }

    /// A report whose verdict follows from its findings: passed when none is an error.
    pub fn from_findings(
        source: &str,
        findings: Vec<Finding>,
        controls: BTreeMap<String, ControlResult>,
    ) -> Self {
        ValidationReport {
            source: source.to_string(),
            passed: !findings.iter().any(|f| f.severity == Severity::Error),
            findings,
            controls,
            suppressed: Vec::new(),
        }
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}
