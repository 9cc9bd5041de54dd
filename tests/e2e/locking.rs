//! One deployment per stack at a time.

use std::collections::BTreeMap;

use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_tests::{inbox, unique_stack, vpc_template, Backend};

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_deployments_of_one_stack_let_exactly_one_proceed() {
    let backend = Backend::connect().await;
    let stack = unique_stack("lock");
    let template = vpc_template(&BTreeMap::new());
    let (a, b) = tokio::join!(
        backend.start(&stack, &template, "1.0.0"),
        backend.start(&stack, &template, "1.0.0")
    );
    let (end_a, end_b) = tokio::join!(
        wait_locked_or_waiting(&backend, &a),
        wait_locked_or_waiting(&backend, &b)
    );
    let (winner, loser, refusal) = match (end_a, end_b) {
        (None, Some(refusal)) => (a, b, refusal),
        (Some(refusal), None) => (b, a, refusal),
        other => panic!("expected exactly one deployment refused, got {other:?}"),
    };
    assert_eq!(refusal.error.as_deref(), Some("StackLocked"));
    let cause = refusal.cause.unwrap_or_default();
    assert!(
        cause.contains(&winner.deployment_id),
        "the refusal names the holder: {cause}"
    );

    let refused = backend
        .record(&loser)
        .await
        .expect("refused attempt recorded");
    assert_eq!(refused.status, DeploymentStatus::Refused);
    let lock = backend
        .pipeline
        .store
        .lock(infra_agent_core::naming::Env::Dev, stack.as_str())
        .await
        .unwrap()
        .expect("winner still holds the lock");
    assert_eq!(
        lock.holder, winner.deployment_id,
        "the refused deployment did not release it"
    );

    // Finish the winner; its lock goes with it.
    let message = backend.approval_message(&winner).await;
    inbox::post_form(
        &message.link,
        &[("decision", "reject"), ("approver", "Ada")],
    )
    .await
    .unwrap();
    backend.wait_for_end(&winner).await;
    assert!(!backend.lock_held(&winner).await);
}

/// `None` once the deployment waits for approval, `Some(ended)` if its execution ended first.
async fn wait_locked_or_waiting(
    backend: &Backend,
    started: &infra_agent_tests::Started,
) -> Option<infra_agent_tests::Ended> {
    loop {
        if let Some(record) = backend.record(started).await {
            if record.status == DeploymentStatus::AwaitingApproval {
                return None;
            }
        }
        let out = backend
            .sfn
            .describe_execution()
            .execution_arn(&started.execution_arn)
            .send()
            .await
            .unwrap();
        if out.status.as_str() != "RUNNING" {
            return Some(backend.wait_for_end(started).await);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
