//! Post-deploy checks through the deploy machine: the catalog's checks of the vpc stack (nine
//! subnets, three zones, NAT gateways as the environment asks, flow log, DNS support read live)
//! pass on what was built and are recorded; a check that fails marks the deployment
//! VERIFY_FAILED, leaves the stack as built and blocks the version's promotion.

use std::collections::BTreeMap;

use infra_agent_core::contract::promote::PromotionRequest;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::deploy::checks::CheckOutcome;
use infra_agent_core::naming::{new_execution_name, Env, StackKey};
use infra_agent_tests::{vpc_template, Backend};

fn outcome(
    record: &infra_agent_core::records::DeploymentRecord,
    name: &str,
) -> (CheckOutcome, String) {
    let verification = record
        .verification
        .as_ref()
        .expect("the checks are recorded");
    let check = verification
        .results
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no check {name}: {verification:?}"));
    (check.outcome, check.detail.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalogs_checks_of_the_vpc_pass_on_what_was_built_and_are_recorded() {
    let backend = Backend::connect().await;
    let vpc: StackKey = "vpc".parse().unwrap();
    let started = backend
        .start_in(
            Env::Tst,
            &vpc,
            &vpc_template(&BTreeMap::new()),
            "1.0.0",
            None,
        )
        .await;
    let ended = backend.approve_via_link(&started, "Ada").await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::Succeeded);
    for name in [
        "stack is complete",
        "every output present",
        "every resource complete",
        "nine subnets",
        "subnets across three zones",
        "NAT gateways as the environment asks",
        "flow log on the VPC",
        "VPC DNS support on",
    ] {
        let (result, detail) = outcome(&record, name);
        assert_eq!(result, CheckOutcome::Passed, "{name}: {detail}");
    }
    let (_, zones) = outcome(&record, "subnets across three zones");
    assert!(zones.starts_with("3 distinct AvailabilityZone"), "{zones}");
    let verification = record.verification.unwrap();
    assert!(
        verification.headline().starts_with("checks passed (8/8)"),
        "{}",
        verification.headline()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_check_marks_the_deployment_verify_failed_and_keeps_the_stack() {
    let backend = Backend::connect().await;
    let vpc: StackKey = "vpc".parse().unwrap();
    let template = vpc_template(&BTreeMap::from([(
        "EnableDnsSupport: true",
        "EnableDnsSupport: false",
    )]));
    let started = backend
        .start_in(Env::Dev, &vpc, &template, "1.0.0", None)
        .await;
    let ended = backend.approve_via_link(&started, "Ada").await;
    assert_eq!(ended.status, "FAILED", "{ended:?}");
    assert_eq!(ended.error.as_deref(), Some("VerifyFailed"), "{ended:?}");
    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::VerifyFailed);
    let (result, detail) = outcome(&record, "VPC DNS support on");
    assert_eq!(result, CheckOutcome::Failed);
    assert!(
        detail.contains("EnableDnsSupport should be true"),
        "{detail}"
    );
    // No automatic rollback for a check: the stack stays as built, and the lock is free.
    let status = backend.stack_status(&started).await.unwrap_or_default();
    assert!(
        status.ends_with("_COMPLETE") && !status.contains("ROLLBACK"),
        "{status}"
    );
    assert!(!backend.lock_held(&started).await);

    // A version whose checks failed is not promoted.
    let request = PromotionRequest {
        version: CONTRACT_VERSION,
        promotion_id: new_execution_name(Env::Tst, &"promote".parse().unwrap()),
        stack: vpc.clone(),
        from: Env::Dev,
        to: Env::Tst,
        requested_by: "e2e-tests".into(),
        deployment_id: new_execution_name(Env::Tst, &vpc),
        parameters: BTreeMap::new(),
        approval_timeout_seconds: None,
    };
    let promotion = backend.start_promotion(&request).await;
    let ended = backend.wait_for_execution(&promotion).await;
    assert_eq!(
        ended.error.as_deref(),
        Some("PromotionRefused"),
        "{ended:?}"
    );
    let refused = backend
        .pipeline
        .store
        .promotion(Env::Tst, &request.promotion_id)
        .await
        .unwrap()
        .unwrap();
    let failed: Vec<&str> = refused
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    assert!(failed.contains(&"post-deploy checks passed"), "{failed:?}");
    assert!(
        failed.contains(&"source's last deployment succeeded"),
        "{failed:?}"
    );
    assert!(backend
        .pipeline
        .store
        .deployment(Env::Tst, "vpc", &request.deployment_id)
        .await
        .unwrap()
        .is_none());
}
