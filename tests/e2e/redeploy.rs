//! A stack whose first deployment did not create it — rejected, expired or failed — deploys
//! again cleanly: no `REVIEW_IN_PROGRESS` stack, no lock and no change set is left behind.

use std::collections::BTreeMap;
use std::time::Duration;

use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_tests::{inbox, unique_stack, vpc_template, Backend, Started};

/// The second deployment of `stack` succeeds and creates it.
async fn deploys_again(backend: &Backend, started: &Started, template: &str) {
    assert_eq!(
        backend.stack_status(started).await,
        None,
        "no stack is left behind by {}",
        started.deployment_id
    );
    assert!(!backend.lock_held(started).await);
    let again = backend.start(&started.stack, template, "1.0.1").await;
    let ended = backend.approve_via_link(&again, "Ada").await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    assert_eq!(
        backend.stack_status(&again).await.as_deref(),
        Some("CREATE_COMPLETE")
    );
    let record = backend.record(&again).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_first_deployment_can_be_deployed_again() {
    let backend = Backend::connect().await;
    let stack = unique_stack("rej");
    let template = vpc_template(&BTreeMap::new());
    let started = backend.start(&stack, &template, "1.0.0").await;
    let message = backend.awaiting_approval(&started).await;
    let rejected = inbox::post_form(
        &message.link,
        &[("decision", "reject"), ("approver", "Bob")],
    )
    .await
    .unwrap();
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "FAILED");
    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::Rejected);
    // dev builds one NAT gateway (NatGatewayCount = 1): the approver was shown one, not the
    // three the template declares under conditions.
    let summary = record
        .change_summary
        .expect("the change summary is recorded");
    let nat_gateways = summary
        .changes
        .iter()
        .filter(|c| c.resource_type == "AWS::EC2::NatGateway")
        .count();
    assert_eq!(nat_gateways, 1, "{:?}", summary.changes);
    assert!(
        message.body.contains("CREATE AWS::EC2::NatGateway ×1"),
        "{}",
        message.body
    );

    deploys_again(&backend, &started, &template).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_first_deployment_can_be_deployed_again() {
    let backend = Backend::connect().await;
    let stack = unique_stack("exp");
    let template = vpc_template(&BTreeMap::new());
    let started = backend
        .start_with_timeout(&stack, &template, "1.0.0", Some(2))
        .await;
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "FAILED");
    assert_eq!(
        backend.record(&started).await.unwrap().status,
        DeploymentStatus::Expired
    );

    deploys_again(&backend, &started, &template).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_first_create_can_be_deployed_again() {
    let backend = Backend::connect().await;
    let stack = unique_stack("fail");
    let template = vpc_template(&BTreeMap::new());
    // A subnet outside its VPC's CIDR is accepted by validation but refused by EC2.
    let broken = vpc_template(&BTreeMap::from([(
        "Default: 10.0.48.0/20",
        "Default: 10.9.48.0/20",
    )]));
    let started = backend.start(&stack, &broken, "1.0.0").await;
    let ended = backend.approve_via_link(&started, "Ada").await;
    assert_eq!(ended.status, "FAILED");
    assert_eq!(
        backend.record(&started).await.unwrap().status,
        DeploymentStatus::Failed
    );
    // The record step runs right after the failure; the stack's removal may still be under way.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while backend.stack_status(&started).await.is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the failed stack is still there: {:?}",
            backend.stack_status(&started).await
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    deploys_again(&backend, &started, &template).await;
}
