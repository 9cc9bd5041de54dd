//! The validate step's output as it rides in the state and the deployment record: counts, the
//! first findings and where the full report is stored. A template with thousands of findings
//! must neither overflow Step Functions' 256 KiB state nor DynamoDB's 400 KB item, nor lose them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::deploy::TemplateRef;
use crate::validation::{ControlResult, Finding, Severity, ValidationReport};

/// Findings carried inline, errors first: enough for the approval message and the record's
/// reason; the full report is one read away.
pub const INLINE_FINDINGS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationSummary {
    /// What was validated (the template's S3 key).
    #[serde(default)]
    pub source: String,
    pub passed: bool,
    #[serde(default)]
    pub errors: usize,
    #[serde(default)]
    pub warnings: usize,
    /// Findings waived by suppressions in the template.
    #[serde(default)]
    pub suppressed_count: usize,
    /// NIST control id → outcome.
    #[serde(default)]
    pub controls: BTreeMap<String, ControlResult>,
    /// The first `INLINE_FINDINGS` findings, errors first.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// The whole report (every finding and suppression), stored once beside the template.
    #[serde(default)]
    pub report: Option<TemplateRef>,
}

impl ValidationSummary {
    pub fn of(report: &ValidationReport, stored: Option<TemplateRef>) -> Self {
        let errors = report.errors().count();
        let mut findings: Vec<Finding> = report.errors().take(INLINE_FINDINGS).cloned().collect();
        findings.extend(
            report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Warning)
                .take(INLINE_FINDINGS - findings.len())
                .cloned(),
        );
        ValidationSummary {
            source: report.source.clone(),
            passed: report.passed,
            errors,
            warnings: report.findings.len() - errors,
            suppressed_count: report.suppressed.len(),
            controls: report.controls.clone(),
            findings,
            report: stored,
        }
    }

    /// Findings not carried inline.
    pub fn more(&self) -> usize {
        (self.errors + self.warnings).saturating_sub(self.findings.len())
    }

    pub fn inline_errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

/// Where a deployment's full validation report is stored: beside its template, under the
/// deployment's id.
pub fn validation_report_key(template: &TemplateRef, deployment_id: &str) -> String {
    let prefix = template
        .key
        .rsplit_once('/')
        .map_or(template.key.as_str(), |(prefix, _)| prefix);
    format!("{prefix}/reports/{deployment_id}/validation.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::{validate_template, ValidationContext};

    /// 400 buckets, each breaking several rules: the report of issue's size.
    fn many_buckets(n: usize) -> String {
        let mut text = String::from("AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n");
        for i in 0..n {
            text.push_str(&format!("  Bucket{i}:\n    Type: AWS::S3::Bucket\n"));
        }
        text
    }

    #[test]
    fn thousands_of_findings_fit_the_state_and_the_record_and_none_is_lost() {
        let report = validate_template(
            "templates/app/x.yaml",
            &many_buckets(400),
            &ValidationContext::default(),
        );
        assert!(!report.passed);
        assert!(report.findings.len() > 2_000, "{}", report.findings.len());
        let stored = TemplateRef {
            bucket: "b".into(),
            key: "templates/app/reports/d/validation.json".into(),
            sha256: "0".repeat(64),
        };

        let summary = ValidationSummary::of(&report, Some(stored));

        assert_eq!(summary.errors + summary.warnings, report.findings.len());
        assert_eq!(summary.findings.len(), INLINE_FINDINGS);
        assert_eq!(summary.more(), report.findings.len() - INLINE_FINDINGS);
        let size = serde_json::to_vec(&summary).unwrap().len();
        // Step Functions carries at most 256 KiB of state; a DynamoDB item at most 400 KB. The
        // summary is one part of each, with room for the rest.
        assert!(size < 16 * 1024, "summary of {size} bytes");
        let full = serde_json::to_vec(&report).unwrap().len();
        assert!(
            full > 256 * 1024,
            "the full report ({full} bytes) would not have fit"
        );
    }

    #[test]
    fn errors_come_before_warnings_inline() {
        let report = validate_template("t.yaml", &many_buckets(30), &ValidationContext::default());
        let summary = ValidationSummary::of(&report, None);
        let first_warning = summary
            .findings
            .iter()
            .position(|f| f.severity == Severity::Warning)
            .unwrap_or(summary.findings.len());
        assert!(summary.findings[..first_warning]
            .iter()
            .all(|f| f.severity == Severity::Error));
        assert_eq!(
            summary.inline_errors().count(),
            first_warning.min(summary.errors)
        );
    }

    #[test]
    fn reports_are_stored_beside_the_template_under_the_deployment() {
        let template = TemplateRef {
            bucket: "b".into(),
            key: "templates/vpc/0f1e.yaml".into(),
            sha256: "0f1e".into(),
        };
        assert_eq!(
            validation_report_key(&template, "dev-vpc-20270115T080000-abcd"),
            "templates/vpc/reports/dev-vpc-20270115T080000-abcd/validation.json"
        );
    }

    /// The whole state after the cost step, and the record written from it, for 400 buckets
    /// with thousands of findings: both stay inside Step Functions' and DynamoDB's limits.
    #[test]
    fn state_and_record_of_a_huge_template_fit_their_limits() {
        use crate::contract::cost::CostReport;
        use crate::cost::{delta, estimate, CostEstimate, PriceBook};
        use crate::environment::EnvironmentConfig;
        use crate::naming::Env;
        use crate::template::Template;

        let text = many_buckets(400);
        let report =
            validate_template("templates/app/x.yaml", &text, &ValidationContext::default());
        let stored = TemplateRef {
            bucket: "infra-agent-templates".into(),
            key: "templates/app/reports/dev-app-20270115T080000-abcd/validation.json".into(),
            sha256: "0".repeat(64),
        };
        let summary = ValidationSummary::of(&report, Some(stored.clone()));
        let template = Template::parse("x.yaml", &text).unwrap();
        let config = EnvironmentConfig::builtin(Env::Dev).unwrap();
        let book = PriceBook::builtin(&config.region).unwrap();
        let after = estimate(
            &template,
            &ValidationContext::default(),
            &config.region,
            book,
        )
        .unwrap();
        let cost = CostReport {
            available: true,
            reason: None,
            delta: Some(delta(
                &CostEstimate::empty("us-east-1", "2025-06-01"),
                &after,
            )),
            estimate: Some(after),
            monthly_budget: None,
            exceeds_budget: false,
            truncated: false,
            report: None,
        };
        let whole = serde_json::to_vec(&cost).unwrap().len();
        let carried = cost.inline(Some(stored));
        assert!(
            carried.truncated,
            "400 resources are more than the state carries"
        );
        assert_eq!(carried.headline(), cost.headline(), "totals are never cut");

        let state = serde_json::json!({
            "validation": summary,
            "cost": carried,
        });
        let state_size = serde_json::to_vec(&state).unwrap().len();
        assert!(
            state_size < 64 * 1024,
            "state part of {state_size} bytes (whole cost {whole})"
        );
        assert!(
            state_size * 4 < 256 * 1024,
            "room left for the rest of the state"
        );
    }
}
