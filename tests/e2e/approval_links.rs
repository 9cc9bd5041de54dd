//! Approval links refuse what they must: forged, expired and reused links change nothing.

use std::collections::BTreeMap;

use infra_agent_core::approval::link::ApprovalLink;
use infra_agent_core::clock::{now, rfc3339};
use infra_agent_core::contract::approval::TaskToken;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::naming::Env;
use infra_agent_core::records::{ApprovalKind, ApprovalRecord, ApprovalStatus};
use infra_agent_tests::{inbox, unique_stack, vpc_template, Backend};

async fn approval_status(backend: &Backend, id: &str) -> ApprovalStatus {
    backend.approval(id).await.status
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_signature_is_refused_and_changes_nothing() {
    let backend = Backend::connect().await;
    let (started, message) = backend.waiting_vpc(Env::Dev, "forge").await;
    let sig_at = message.link.find("sig=").unwrap() + 4;
    let mut forged = message.link.clone();
    let flipped = if &forged[sig_at..sig_at + 1] == "0" {
        "1"
    } else {
        "0"
    };
    forged.replace_range(sig_at..sig_at + 1, flipped);
    // A later expiry under the original signature is a forgery too.
    let stretched = message.link.replace("exp=", "exp=9");

    for link in [&forged, &stretched] {
        assert_eq!(inbox::get(link).await.unwrap().status, 403);
        let post = inbox::post_form(link, &[("decision", "approve"), ("approver", "Mallory")])
            .await
            .unwrap();
        assert_eq!(post.status, 403);
        assert!(post.body.contains("Nothing was changed"));
    }
    assert_eq!(
        approval_status(&backend, &message.approval_id).await,
        ApprovalStatus::Pending
    );
    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::AwaitingApproval);

    // GET of the real link never decides either.
    assert_eq!(inbox::get(&message.link).await.unwrap().status, 200);
    assert_eq!(
        approval_status(&backend, &message.approval_id).await,
        ApprovalStatus::Pending
    );
    inbox::post_form(
        &message.link,
        &[("decision", "reject"), ("approver", "Ada")],
    )
    .await
    .unwrap();
    backend.wait_for_end(&started).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reused_link_is_refused_after_the_first_decision() {
    let backend = Backend::connect().await;
    let (started, message) = backend.waiting_vpc(Env::Dev, "reuse").await;
    let first = inbox::post_form(
        &message.link,
        &[("decision", "reject"), ("approver", "Ada")],
    )
    .await
    .unwrap();
    assert_eq!(first.status, 200);
    let again = inbox::post_form(
        &message.link,
        &[("decision", "approve"), ("approver", "Eve")],
    )
    .await
    .unwrap();
    assert_eq!(again.status, 409, "{}", again.body);
    let page = inbox::get(&message.link).await.unwrap();
    assert_eq!(page.status, 409);
    assert!(page.body.contains("Ada"), "says who decided: {}", page.body);
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(
        ended.error.as_deref(),
        Some("ApprovalRejected"),
        "the first decision stands"
    );
    let approval = backend.approval(&message.approval_id).await;
    assert_eq!(approval.status, ApprovalStatus::Rejected);
    assert_eq!(approval.approver.as_deref(), Some("Ada"));
}

/// An approval whose time is up, stored as the approval step stores one.
async fn stored_approval(backend: &Backend, id: &str, expires_epoch: i64) -> ApprovalRecord {
    let (at, _) = now();
    let record = ApprovalRecord {
        notes: Vec::new(),
        approval_id: id.to_string(),
        kind: ApprovalKind::Deployment,
        deployment_id: format!("dev-{id}-20260101T000000-00000000"),
        env: Env::Dev,
        stack: id.to_string(),
        stack_name: format!("infra-agent-dev-{id}"),
        change_set_name: format!("infra-agent-dev-{id}-20260101-001"),
        requested_by: "e2e-tests".into(),
        summary_lines: vec!["CREATE AWS::SNS::Topic ×1".into()],
        replacements: vec![],
        deletions: vec![],
        validation_passed: true,
        validation_report: None,
        cost_report: None,
        cost_line: None,
        exceeds_budget: false,
        required_approvers: 1,
        approved_by: Vec::new(),
        task_token: Some(TaskToken::new("not-a-real-token".into())),
        status: ApprovalStatus::Pending,
        created_at: at,
        expires_at: rfc3339(time::OffsetDateTime::from_unix_timestamp(expires_epoch).unwrap()),
        expires_epoch,
        approver: None,
        decided_at: None,
        comment: None,
        consumed_at: None,
    };
    backend.pipeline.store.put_approval(&record).await.unwrap();
    record
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_links_are_refused_and_change_nothing() {
    let backend = Backend::connect().await;
    let key = backend.pipeline.settings.approval_key().unwrap();
    let base = backend.pipeline.settings.approval_base_url().unwrap();
    let (_, now_epoch) = now();

    // The link itself has expired (its signed expiry is past).
    let past = stored_approval(&backend, "expa", now_epoch - 60).await;
    let link = ApprovalLink::new(key, &past.approval_id, past.expires_epoch).url(base);
    assert_eq!(inbox::get(&link).await.unwrap().status, 410);
    let post = inbox::post_form(&link, &[("decision", "approve"), ("approver", "Ada")])
        .await
        .unwrap();
    assert_eq!(post.status, 410);

    // The link is still signed as valid, but the stored approval has expired.
    let stale = stored_approval(&backend, "expb", now_epoch - 1).await;
    let link = ApprovalLink::new(key, &stale.approval_id, now_epoch + 3600).url(base);
    let post = inbox::post_form(&link, &[("decision", "approve"), ("approver", "Ada")])
        .await
        .unwrap();
    assert_eq!(post.status, 410, "{}", post.body);

    for id in ["expa", "expb"] {
        let approval = backend.pipeline.store.approval(id).await.unwrap().unwrap();
        assert_eq!(approval.status, ApprovalStatus::Pending, "nothing changed");
        assert!(approval.approver.is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn approval_not_given_in_time_expires_and_cleans_up() {
    let backend = Backend::connect().await;
    let stack = unique_stack("late");
    let started = backend
        .start_with_timeout(&stack, &vpc_template(&BTreeMap::new()), "1.0.0", Some(3))
        .await;
    let message = backend.awaiting_approval(&started).await;
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "FAILED");
    assert_eq!(ended.error.as_deref(), Some("ApprovalExpired"));

    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::Expired);
    assert!(record
        .failure
        .is_some_and(|f| f.reason.contains("timed out")));
    assert_eq!(
        approval_status(&backend, &message.approval_id).await,
        ApprovalStatus::Expired
    );
    assert!(
        backend.change_sets(&started).await.is_empty(),
        "change set deleted"
    );
    assert!(!backend.lock_held(&started).await, "lock released");

    // The link expired with the approval: it is refused before anything is read.
    let late = inbox::post_form(
        &message.link,
        &[("decision", "approve"), ("approver", "Ada")],
    )
    .await
    .unwrap();
    assert_eq!(late.status, 410, "{}", late.body);
    assert!(late.body.contains("Link expired"), "{}", late.body);
    assert_eq!(
        approval_status(&backend, &message.approval_id).await,
        ApprovalStatus::Expired
    );
}

/// A decision that comes after the execution stopped waiting, while the approval and its link
/// are still valid: DynamoDB takes it, Step Functions no longer does, and the approval ends
/// expired rather than approved. The execution is stopped while it waits (no Catch records an
/// outcome then), and the approval is stored again with a later expiry, as a retried approval
/// step stores it.
#[tokio::test(flavor = "multi_thread")]
async fn decision_after_the_execution_stopped_waiting_expires_the_approval() {
    let backend = Backend::connect().await;
    let stack = unique_stack("stop");
    let started = backend
        .start_with_timeout(&stack, &vpc_template(&BTreeMap::new()), "1.0.0", Some(4))
        .await;
    let message = backend.awaiting_approval(&started).await;
    backend
        .sfn
        .stop_execution()
        .execution_arn(&started.execution_arn)
        .cause("stopped by the test while waiting for approval")
        .send()
        .await
        .expect("stop execution");
    // The emulator ends it when the wait times out (as FAILED, where AWS says ABORTED at once);
    // either way no Catch ran, so nothing recorded an outcome.
    let ended = backend.wait_for_end(&started).await;
    assert_ne!(ended.status, "SUCCEEDED", "{ended:?}");
    assert_eq!(
        backend.record(&started).await.map(|r| r.status),
        Some(DeploymentStatus::AwaitingApproval)
    );

    let store = &backend.pipeline.store;
    let mut approval = store
        .approval(&message.approval_id)
        .await
        .unwrap()
        .expect("approval");
    assert_eq!(
        approval.status,
        ApprovalStatus::Pending,
        "nothing closed the approval: only the late decision can"
    );
    let (_, now_epoch) = now();
    approval.expires_epoch = now_epoch + 600;
    approval.expires_at =
        rfc3339(time::OffsetDateTime::from_unix_timestamp(approval.expires_epoch).unwrap());
    store.put_approval(&approval).await.expect("stored again");
    let link = ApprovalLink::new(
        backend.pipeline.settings.approval_key().unwrap(),
        &approval.approval_id,
        approval.expires_epoch,
    )
    .url(backend.pipeline.settings.approval_base_url().unwrap());

    let late = inbox::post_form(&link, &[("decision", "approve"), ("approver", "Ada")])
        .await
        .unwrap();

    assert_eq!(late.status, 410, "{}", late.body);
    assert!(late.body.contains("expired"), "{}", late.body);
    assert_eq!(
        approval_status(&backend, &message.approval_id).await,
        ApprovalStatus::Expired
    );
    let trail = store
        .audit_trail(started.env, started.stack.as_str())
        .await
        .unwrap();
    assert!(
        trail
            .iter()
            .any(|a| a.action == "approval.decide" && a.outcome == "EXPIRED" && a.actor == "Ada"),
        "the late decision is audited as expired: {trail:?}"
    );
    assert!(
        !trail.iter().any(|a| a.action == "stack.execute"),
        "nothing was executed: {trail:?}"
    );
}

/// A retried approval step stores its approval again: votes already cast survive, the new task
/// token replaces the old one, and a decided approval is not reopened.
#[tokio::test(flavor = "multi_thread")]
async fn retried_approval_step_keeps_the_votes_already_cast() {
    let backend = Backend::connect().await;
    let store = &backend.pipeline.store;
    let (_, now_epoch) = now();
    let id = format!("retry{}", unique_stack("a").as_str().replace('-', ""));
    let first = stored_approval(&backend, &id, now_epoch + 600).await;
    store
        .add_approver(&id, "arn:aws:iam::1:user/ada", now_epoch)
        .await
        .unwrap()
        .expect("vote recorded");

    let mut retried = first.clone();
    retried.task_token = Some(TaskToken::new("token-of-the-retry".into()));
    retried.approved_by = Vec::new();
    store.put_approval(&retried).await.expect("retry stores");
    let stored = store.approval(&id).await.unwrap().expect("approval");
    assert_eq!(stored.approved_by, ["arn:aws:iam::1:user/ada"]);
    assert_eq!(
        stored.task_token.as_ref().map(TaskToken::expose),
        Some("token-of-the-retry")
    );

    store
        .decide_approval(
            &id,
            ApprovalStatus::Rejected,
            "bob",
            None,
            (&now().0, now_epoch),
        )
        .await
        .unwrap()
        .expect("decided");
    assert!(store.put_approval(&retried).await.is_err(), "not reopened");
    assert_eq!(
        store.approval(&id).await.unwrap().unwrap().status,
        ApprovalStatus::Rejected
    );
}
