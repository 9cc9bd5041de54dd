//! Validation reports too large to ride in the state: a template with thousands of findings is
//! refused with every finding recorded and readable; the same template with every finding
//! suppressed deploys.

use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::validation::ValidationReport;
use infra_agent_tests::{unique_stack, Backend};

/// `n` buckets with nothing set: each breaks several rules (encryption, logging, tags, …).
fn buckets(n: usize, suppressed: bool) -> String {
    let mut text = String::from("AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n");
    for i in 0..n {
        text.push_str(&format!("  Bucket{i}:\n    Type: AWS::S3::Bucket\n"));
        if suppressed {
            text.push_str("    Metadata:\n      infra-agent:\n        suppress:\n");
            for control in [
                "AU-2", "AU-3", "SC-7", "SC-8", "SC-28", "AC-2", "AC-6", "CM-8", "CM-3",
            ] {
                text.push_str(&format!(
                    "          - {{ rule: {control}, reason: load test fixture, owner: platform-team, expires: \"2099-12-31\" }}\n"
                ));
            }
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_findings_are_refused_with_every_finding_recorded() {
    let backend = Backend::connect().await;
    let stack = unique_stack("many");
    let started = backend.start(&stack, &buckets(400, false), "1.0.0").await;

    let ended = backend.wait_for_end(&started).await;

    assert_eq!(ended.status, "FAILED", "{ended:?}");
    assert_eq!(
        ended.error.as_deref(),
        Some("ValidationFailed"),
        "{ended:?}"
    );
    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::Failed);
    let summary = record.validation.expect("the validation is recorded");
    assert!(summary.errors > 2_000, "{} errors", summary.errors);
    assert!(!summary.findings.is_empty());
    let stored = summary.report.expect("the full report is stored");
    let text = backend
        .pipeline
        .templates
        .get_template(&stored)
        .await
        .expect("the full report reads back");
    let report: ValidationReport = serde_json::from_str(&text).unwrap();
    assert_eq!(
        report.findings.len(),
        summary.errors + summary.warnings,
        "every finding is kept"
    );
    assert!(!backend.lock_held(&started).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_template_with_every_finding_suppressed_deploys() {
    let backend = Backend::connect().await;
    let stack = unique_stack("waived");
    let started = backend.start(&stack, &buckets(400, true), "1.0.0").await;

    let ended = backend.approve_via_link(&started, "Ada").await;

    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    let record = backend.record(&started).await.unwrap();
    let summary = record.validation.expect("the validation is recorded");
    assert!(summary.passed);
    assert!(
        summary.suppressed_count > 2_000,
        "{}",
        summary.suppressed_count
    );
}
