//! The decision endpoint through its AWS_IAM function URL, on the local backend: only requests a
//! local identity signed reach it, only the environment's approvers decide, the approver recorded
//! is the signed caller, and every refusal changes nothing.

use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::naming::Env;
use infra_agent_core::records::ApprovalStatus;
use infra_agent_tests::{inbox, post_signed, Backend, LocalIdentity, Started};

const APPROVE: &str = r#"{"decision":"approve"}"#;

/// The approval is still pending with nobody counted, the deployment still waits and its
/// execution still runs.
async fn nothing_changed(backend: &Backend, started: &Started, approval_id: &str) {
    let approval = backend.approval(approval_id).await;
    assert_eq!(approval.status, ApprovalStatus::Pending);
    assert!(
        approval.approved_by.is_empty(),
        "{:?}",
        approval.approved_by
    );
    assert!(approval.approver.is_none());
    assert_eq!(
        backend.record(started).await.map(|r| r.status),
        Some(DeploymentStatus::AwaitingApproval)
    );
    assert_eq!(backend.execution(started).await.status.as_str(), "RUNNING");
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_and_mis_signed_requests_are_refused_before_the_endpoint_runs() {
    let backend = Backend::connect().await;
    let (started, message) = backend.waiting_vpc(Env::Dev, "unsigned").await;
    let url = format!("{}/decisions/{}", backend.decision_url, message.approval_id);
    let approver = backend.identity("approver");
    let guessed = LocalIdentity {
        secret_access_key: "a guessed secret".into(),
        ..approver.clone()
    };
    let reject = r#"{"decision":"reject"}"#;
    for (what, signer, signed_body, sent_body) in [
        ("unsigned", None, APPROVE, APPROVE),
        ("wrong secret", Some(&guessed), APPROVE, APPROVE),
        // The approver signed a rejection; the body sent approves.
        ("tampered body", Some(&approver), reject, APPROVE),
    ] {
        let (status, answer) = post_signed(&url, signer, signed_body, sent_body, &[]).await;
        assert_eq!(status, 403, "{what}: {answer}");
        assert_eq!(answer["Message"], "Forbidden", "{what}: IAM's refusal");
    }
    nothing_changed(&backend, &started, &message.approval_id).await;
    let trail = backend.audit_trail(&started).await;
    assert!(
        !trail.iter().any(|a| a.action == "approval.decide"),
        "the endpoint never ran: {trail:?}"
    );
    let (status, _) = backend
        .decide_as("approver", &message.approval_id, "reject")
        .await;
    assert_eq!(status, 200);
    backend.wait_for_end(&started).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_identity_outside_the_environment_s_approvers_is_refused_audited_and_changes_nothing() {
    let backend = Backend::connect().await;
    let (started, message) = backend.waiting_vpc(Env::Dev, "outsider").await;
    for name in ["outsider", "engineer"] {
        let (status, answer) = backend
            .decide_as(name, &message.approval_id, "approve")
            .await;
        assert_eq!(status, 403, "{name}: {answer}");
        assert_eq!(answer["error"], "NotAnApprover", "{name}: {answer}");
    }
    nothing_changed(&backend, &started, &message.approval_id).await;
    let trail = backend.audit_trail(&started).await;
    for name in ["outsider", "engineer"] {
        let arn = backend.identity(name).arn;
        let refused = trail
            .iter()
            .find(|a| a.actor == arn && a.action == "approval.decide")
            .unwrap_or_else(|| panic!("{name}'s refusal is audited: {trail:?}"));
        assert_eq!(refused.outcome, "REFUSED");
        assert_eq!(
            refused.deployment_id.as_deref(),
            Some(started.deployment_id.as_str())
        );
        assert!(
            refused
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("approver patterns")),
            "{refused:?}"
        );
    }

    // The environment's approver decides, and the execution goes on.
    let (status, answer) = backend
        .decide_as("approver", &message.approval_id, "approve")
        .await;
    assert_eq!(status, 200, "{answer}");
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
}

/// Whatever a client sends besides its signature — a name in the body, headers, the query —
/// the approver recorded is the identity that signed.
#[tokio::test(flavor = "multi_thread")]
async fn the_recorded_approver_is_the_signed_identity_whatever_the_client_claims() {
    let backend = Backend::connect().await;
    let (started, message) = backend.waiting_vpc(Env::Dev, "signed").await;
    let approver = backend.identity("approver");
    let claimed = backend.identity("prd-approver-1").arn;
    let url = format!("{}/decisions/{}", backend.decision_url, message.approval_id);

    let named = format!(r#"{{"decision":"approve","approver":"{claimed}"}}"#);
    let (status, answer) = post_signed(&url, Some(&approver), &named, &named, &[]).await;
    assert_eq!(status, 400, "a name in the body is refused: {answer}");
    nothing_changed(&backend, &started, &message.approval_id).await;

    // The outsider claims an approver's identity every other way: still the outsider.
    let outsider = backend.identity("outsider");
    let claiming = format!("{url}?approver={claimed}&userArn={claimed}");
    let spoofed = [
        ("x-amz-user-arn", claimed.as_str()),
        ("x-infra-agent-approver", claimed.as_str()),
    ];
    let (status, answer) =
        post_signed(&claiming, Some(&outsider), APPROVE, APPROVE, &spoofed).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains(&outsider.arn)),
        "refused as the outsider: {answer}"
    );
    nothing_changed(&backend, &started, &message.approval_id).await;

    let (status, answer) =
        post_signed(&claiming, Some(&approver), APPROVE, APPROVE, &spoofed).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["recorded_approver"], approver.arn.as_str());
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.approver.as_deref(), Some(approver.arn.as_str()));
    let approval = backend.approval(&message.approval_id).await;
    assert_eq!(approval.approver.as_deref(), Some(approver.arn.as_str()));
}

/// The link's URL (AuthType NONE) carries no identity: a decision sent there is not taken, even
/// signed by an approver.
#[tokio::test(flavor = "multi_thread")]
async fn a_decision_sent_to_the_link_s_url_is_refused() {
    let backend = Backend::connect().await;
    let (started, message) = backend.waiting_vpc(Env::Dev, "nolink").await;
    let base = backend.pipeline.settings.approval_base_url().unwrap();
    let url = format!("{base}/decisions/{}", message.approval_id);
    for signer in [None, Some(backend.identity("approver"))] {
        let (status, answer) = post_signed(&url, signer.as_ref(), APPROVE, APPROVE, &[]).await;
        assert_eq!(status, 404, "{answer}");
    }
    nothing_changed(&backend, &started, &message.approval_id).await;
    let (status, _) = backend
        .decide_as("approver", &message.approval_id, "reject")
        .await;
    assert_eq!(status, 200);
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.error.as_deref(), Some("ApprovalRejected"));
}

/// prd needs two distinct approvers of prd (infra/environments/prd.toml), through the decision
/// endpoint: its links may reject but never approve, and dev's approver may not decide.
#[tokio::test(flavor = "multi_thread")]
async fn prd_change_needs_two_distinct_prd_approvers() {
    let backend = Backend::connect().await;
    let (started, message) = backend.waiting_vpc(Env::Prd, "two").await;
    let link_approval = inbox::post_form(
        &message.link,
        &[("decision", "approve"), ("approver", "Ada")],
    )
    .await
    .unwrap();
    assert_eq!(link_approval.status, 403, "a prd link cannot approve");
    let id = &message.approval_id;

    let (status, answer) = backend.decide_as("approver", id, "approve").await;
    assert_eq!(status, 403, "dev's approver is not prd's: {answer}");
    nothing_changed(&backend, &started, id).await;

    let first = backend.identity("prd-approver-1").arn;
    let (status, answer) = backend.decide_as("prd-approver-1", id, "approve").await;
    assert_eq!(status, 202, "one approver is not enough in prd: {answer}");
    assert_eq!(answer["status"], "PENDING");
    assert_eq!(answer["approvers_required"], 2);
    assert_eq!(answer["approvers_still_needed"], 1);
    assert_eq!(answer["recorded_approver"], first.as_str());
    let (status, answer) = backend.decide_as("prd-approver-1", id, "approve").await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"], "AlreadyApprovedBy");
    assert_eq!(
        backend.record(&started).await.unwrap().status,
        DeploymentStatus::AwaitingApproval,
        "still waiting after one approver"
    );
    assert!(backend.lock_held(&started).await, "prd's lock is held");
    assert_eq!(
        backend.change_sets(&started).await.len(),
        1,
        "prd's change set waits"
    );

    let second = backend.identity("prd-approver-2").arn;
    let (status, answer) = backend.decide_as("prd-approver-2", id, "approve").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "APPROVED");
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    let record = backend.record(&started).await.unwrap();
    assert_eq!(
        record.approver.as_deref(),
        Some(format!("{first}, {second}").as_str())
    );
    assert!(!backend.lock_held(&started).await, "lock released");
}
