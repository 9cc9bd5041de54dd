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

/// The lock's conditional writes as DynamoDB (the emulator's) evaluates them, not only as the
/// in-memory store imitates them: a retried step retakes its own lock, an expired lock is taken
/// over (one expiring this very second is not), and only the holder releases it.
#[tokio::test(flavor = "multi_thread")]
async fn stack_lock_conditions_hold_in_dynamodb() {
    use infra_agent_core::naming::Env;
    use infra_agent_core::records::StackLock;

    let backend = Backend::connect().await;
    let store = &backend.pipeline.store;
    let stack = unique_stack("lockrules");
    let (_, now) = infra_agent_core::clock::now();
    let lock = |holder: &str, expires_epoch: i64| StackLock {
        env: Env::Tst,
        stack: stack.to_string(),
        holder: holder.into(),
        acquired_at: "2027-01-15T08:00:00Z".into(),
        expires_at: "2027-01-15T10:00:00Z".into(),
        expires_epoch,
    };
    let holder = || async {
        store
            .lock(Env::Tst, stack.as_str())
            .await
            .expect("read lock")
            .map(|l| (l.holder, l.expires_epoch))
    };

    store
        .acquire_lock(&lock("first", now + 60), now)
        .await
        .unwrap();
    // A retried step: same holder, a new expiry.
    store
        .acquire_lock(&lock("first", now + 120), now)
        .await
        .expect("the holder retakes its own lock");
    assert_eq!(holder().await, Some(("first".into(), now + 120)));

    let refused = store
        .acquire_lock(&lock("second", now + 60), now)
        .await
        .unwrap_err();
    assert_eq!(refused.error_type(), "StackLocked", "{refused}");
    assert!(
        refused.to_string().contains("first"),
        "names the holder: {refused}"
    );
    // The same lock in another environment is another lock.
    assert!(store
        .lock(Env::Dev, stack.as_str())
        .await
        .unwrap()
        .is_none());

    // Only the holder releases it.
    assert!(!store
        .release_lock(Env::Tst, stack.as_str(), "second")
        .await
        .unwrap());
    assert_eq!(holder().await, Some(("first".into(), now + 120)));

    // At its expiry second it is still held; after it, it is taken over.
    let at_expiry = store
        .acquire_lock(&lock("second", now + 600), now + 120)
        .await
        .unwrap_err();
    assert_eq!(at_expiry.error_type(), "StackLocked", "{at_expiry}");
    store
        .acquire_lock(&lock("second", now + 600), now + 121)
        .await
        .expect("an expired lock is free");
    assert_eq!(holder().await, Some(("second".into(), now + 600)));
    assert!(
        !store
            .release_lock(Env::Tst, stack.as_str(), "first")
            .await
            .unwrap(),
        "the old holder no longer releases it"
    );
    assert!(store
        .release_lock(Env::Tst, stack.as_str(), "second")
        .await
        .unwrap());
    assert_eq!(holder().await, None);
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
