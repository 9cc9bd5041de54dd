//! Promotion through the promote machine: a version deployed and verified in dev (scanned for
//! drift by the promotion itself when no scan is fresh) goes to tst with its template hash and a
//! record naming its source; refused promotions give every reason and change nothing; prd needs
//! two distinct approvers through the decision endpoint.

use std::collections::BTreeMap;

use infra_agent_core::contract::deploy::DeploymentKind;
use infra_agent_core::contract::promote::PromotionRequest;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::naming::{new_execution_name, Env, StackKey};
use infra_agent_core::records::PromotionStatus;
use infra_agent_tests::{inbox, log_group_template, unique_stack, Backend, Started};

fn request(stack: &StackKey, from: Env, to: Env) -> PromotionRequest {
    PromotionRequest {
        version: CONTRACT_VERSION,
        promotion_id: new_execution_name(to, &"promote".parse().unwrap()),
        stack: stack.clone(),
        from,
        to,
        requested_by: "e2e-tests".into(),
        deployment_id: new_execution_name(to, stack),
        parameters: BTreeMap::new(),
        approval_timeout_seconds: None,
    }
}

fn target(request: &PromotionRequest, execution_arn: String) -> Started {
    Started {
        deployment_id: request.deployment_id.clone(),
        execution_arn,
        stack: request.stack.clone(),
        env: request.to,
    }
}

/// Deployed (and verified) in dev.
async fn deployed_in_dev(backend: &Backend, prefix: &str) -> (StackKey, Started) {
    let stack = unique_stack(prefix);
    let started = backend
        .start(&stack, &log_group_template(365, true), "1.0.0")
        .await;
    let ended = backend.approve_via_link(&started, "Ada").await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    (stack, started)
}

/// The promotion's target deployment, as the deploy execution the promote machine started.
fn nested(backend: &Backend, request: &PromotionRequest) -> Started {
    target(
        request,
        format!(
            "{}:{}",
            backend
                .state_machine_arn
                .replacen(":stateMachine:", ":execution:", 1),
            request.deployment_id
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verified_version_goes_from_dev_to_tst_with_its_template_and_names_its_source() {
    let backend = Backend::connect().await;
    let (stack, dev) = deployed_in_dev(&backend, "promo").await;
    let source = backend.record(&dev).await.unwrap();
    assert!(source.verification.as_ref().unwrap().ok());

    // Never scanned for drift: the promotion scans the source now.
    let request = request(&stack, Env::Dev, Env::Tst);
    let promotion = backend.start_promotion(&request).await;
    let tst = nested(&backend, &request);
    let ended = backend.approve_via_link(&tst, "Ada").await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    assert_eq!(
        backend.wait_for_execution(&promotion).await.status,
        "SUCCEEDED"
    );

    let record = backend.record(&tst).await.unwrap();
    assert_eq!(record.kind, DeploymentKind::Promotion);
    assert_eq!(record.status, DeploymentStatus::Succeeded);
    assert_eq!(record.template_sha256, source.template_sha256);
    let from = record.promoted_from.expect("the record names its source");
    assert_eq!(
        (
            from.env,
            from.deployment_id.as_str(),
            from.template_sha256.as_str()
        ),
        (
            Env::Dev,
            source.deployment_id.as_str(),
            source.template_sha256.as_str()
        )
    );
    assert_eq!(record.parameters["Environment"], "tst");
    let promoted = backend
        .pipeline
        .store
        .promotion(Env::Tst, &request.promotion_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(promoted.status, PromotionStatus::Ended);
    assert_eq!(promoted.deployment_status.as_deref(), Some("SUCCEEDED"));
    assert!(
        promoted.checks.iter().all(|c| c.passed),
        "{:?}",
        promoted.checks
    );
    let drift = promoted
        .checks
        .iter()
        .find(|c| c.name == "no drift in the source")
        .unwrap();
    assert!(drift.detail.starts_with("in sync"), "{drift:?}");
}

/// The promotion is refused with `failed` among its failed checks, and nothing reaches the target.
async fn refused(backend: &Backend, request: &PromotionRequest, failed: &[&str]) {
    let promotion = backend.start_promotion(request).await;
    let ended = backend.wait_for_execution(&promotion).await;
    assert_eq!(ended.status, "FAILED", "{ended:?}");
    assert_eq!(
        ended.error.as_deref(),
        Some("PromotionRefused"),
        "{ended:?}"
    );
    let record = backend
        .pipeline
        .store
        .promotion(request.to, &request.promotion_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, PromotionStatus::Refused);
    let names: Vec<&str> = record
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    for name in failed {
        assert!(names.contains(name), "{name} not among {names:?}");
    }
    assert!(
        backend.record(&nested(backend, request)).await.is_none(),
        "no deployment in {}",
        request.to
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_promotions_give_every_reason_before_any_change() {
    let backend = Backend::connect().await;
    let (stack, dev) = deployed_in_dev(&backend, "prefu").await;

    // dev → prd skips tst, and nothing of it is verified in tst.
    refused(
        &backend,
        &request(&stack, Env::Dev, Env::Prd),
        &["promotion order", "template deployed and verified in tst"],
    )
    .await;

    // A deployment waits for approval in tst: the target is locked.
    let waiting = backend
        .start_in(
            Env::Tst,
            &stack,
            &log_group_template(365, true),
            "0.9.0",
            None,
        )
        .await;
    let message = backend.awaiting_approval(&waiting).await;
    refused(
        &backend,
        &request(&stack, Env::Dev, Env::Tst),
        &["target not locked"],
    )
    .await;
    let rejected = inbox::post_form(
        &message.link,
        &[("decision", "reject"), ("approver", "Bob")],
    )
    .await
    .unwrap();
    assert_eq!(rejected.status, 200);
    backend.wait_for_end(&waiting).await;

    // The source drifted by hand: a scan finds it, and the promotion is refused.
    let stack_name = backend.record(&dev).await.unwrap().stack_name;
    backend.by_hand(
        "logs = boto3.client('logs', region_name='us-east-1')\ngroup = next(r['PhysicalResourceId'] for r in cfn.list_stack_resources(StackName=sys.argv[1])['StackResourceSummaries'] if r['LogicalResourceId'] == 'Logs')\nlogs.put_retention_policy(logGroupName=group, retentionInDays=1)",
        &[&stack_name],
    );
    let (_, status, _) = backend
        .scan(&serde_json::json!({ "env": "dev", "stacks": [stack.as_str()] }))
        .await;
    assert_eq!(status, "SUCCEEDED");
    refused(
        &backend,
        &request(&stack, Env::Dev, Env::Tst),
        &["no drift in the source"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_promotion_to_prd_needs_two_distinct_prd_approvers() {
    let backend = Backend::connect().await;
    let (stack, _) = deployed_in_dev(&backend, "toprd").await;
    let to_tst = request(&stack, Env::Dev, Env::Tst);
    let promotion = backend.start_promotion(&to_tst).await;
    let tst = nested(&backend, &to_tst);
    assert_eq!(
        backend.approve_via_link(&tst, "Ada").await.status,
        "SUCCEEDED"
    );
    assert_eq!(
        backend.wait_for_execution(&promotion).await.status,
        "SUCCEEDED"
    );

    let to_prd = request(&stack, Env::Tst, Env::Prd);
    let promotion = backend.start_promotion(&to_prd).await;
    let prd = nested(&backend, &to_prd);
    let message = backend.awaiting_approval(&prd).await;
    let id = &message.approval_id;
    let (status, answer) = backend.decide_as("prd-approver-1", id, "approve").await;
    assert_eq!(status, 202, "one approver is not enough in prd: {answer}");
    let (status, answer) = backend.decide_as("prd-approver-1", id, "approve").await;
    assert_eq!(status, 409, "the same one twice is not enough: {answer}");
    assert_eq!(
        backend.record(&prd).await.unwrap().status,
        DeploymentStatus::AwaitingApproval
    );
    let (status, answer) = backend.decide_as("prd-approver-2", id, "approve").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(backend.wait_for_end(&prd).await.status, "SUCCEEDED");
    assert_eq!(
        backend.wait_for_execution(&promotion).await.status,
        "SUCCEEDED"
    );
    let record = backend.record(&prd).await.unwrap();
    assert_eq!(record.promoted_from.unwrap().env, Env::Tst);
}
