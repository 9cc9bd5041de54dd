//! Rollback through the deploy machine: v1 then v2 deployed, the rollback shows what it reverts and
//! to which version, restores v1's template and parameters, and its record names v1; a version
//! that today's policy refuses is not returned to.

use infra_agent_core::contract::deploy::DeploymentKind;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::deploy::rollback::{rollback_request, rollback_target};
use infra_agent_core::naming::{new_execution_name, Env};
use infra_agent_tests::{inbox, log_group_template, unique_stack, Backend};

/// The stack's log group retention, as CloudWatch Logs reports it.
fn retention(backend: &Backend, stack_name: &str) -> String {
    backend.by_hand(
        "logs = boto3.client('logs', region_name='us-east-1')\ngroup = next(r['PhysicalResourceId'] for r in cfn.list_stack_resources(StackName=sys.argv[1])['StackResourceSummaries'] if r['LogicalResourceId'] == 'Logs')\nprint(logs.describe_log_groups(logGroupNamePrefix=group)['logGroups'][0].get('retentionInDays'))",
        &[stack_name],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_shows_what_it_reverts_restores_v1_and_links_back_to_it() {
    let backend = Backend::connect().await;
    let stack = unique_stack("rollb");
    let v1 = backend
        .start(&stack, &log_group_template(365, true), "1.0.0")
        .await;
    assert_eq!(
        backend.approve_via_link(&v1, "Ada").await.status,
        "SUCCEEDED"
    );
    // Deployment ids order to the second; the emulator finishes a deployment within one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let v2 = backend
        .start(&stack, &log_group_template(400, true), "2.0.0")
        .await;
    assert_eq!(
        backend.approve_via_link(&v2, "Ada").await.status,
        "SUCCEEDED"
    );
    let v1_record = backend.record(&v1).await.unwrap();
    assert_eq!(retention(&backend, &v1_record.stack_name), "400");

    let history = backend
        .pipeline
        .store
        .history(Env::Dev, stack.as_str(), Some(100))
        .await
        .unwrap();
    let (current, target) = rollback_target(&history, None).unwrap();
    assert_eq!(current.deployment_id, v2.deployment_id);
    assert_eq!(target.deployment_id, v1.deployment_id);
    let request = rollback_request(
        target,
        new_execution_name(Env::Dev, &stack),
        "e2e-tests".into(),
        None,
    );
    let rollback = backend.start_request(&request).await;
    let message = backend.awaiting_approval(&rollback).await;
    assert!(
        message.body.contains(&format!(
            "ROLLBACK to deployment {} (IaC_Version 1.0.0",
            v1.deployment_id
        )),
        "{}",
        message.body
    );
    assert!(
        message.body.contains("MODIFY AWS::Logs::LogGroup"),
        "{}",
        message.body
    );
    let approved = inbox::post_form(
        &message.link,
        &[("decision", "approve"), ("approver", "Ada")],
    )
    .await
    .unwrap();
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(backend.wait_for_end(&rollback).await.status, "SUCCEEDED");

    let record = backend.record(&rollback).await.unwrap();
    assert_eq!(record.kind, DeploymentKind::Rollback);
    assert_eq!(
        record.returns_to.as_deref(),
        Some(v1.deployment_id.as_str())
    );
    assert_eq!(record.template_sha256, v1_record.template_sha256);
    assert_eq!(record.parameters["IaCVersion"], "1.0.0");
    assert_eq!(retention(&backend, &v1_record.stack_name), "365");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_todays_policy_refuses_is_not_returned_to() {
    let backend = Backend::connect().await;
    let stack = unique_stack("rbpol");
    let current = backend
        .start(&stack, &log_group_template(365, true), "2.0.0")
        .await;
    assert_eq!(
        backend.approve_via_link(&current, "Ada").await.status,
        "SUCCEEDED"
    );

    // An earlier version, recorded before the Owner tag was required: its template lacks it.
    let mut old = backend.record(&current).await.unwrap();
    let stored = backend
        .pipeline
        .templates
        .put_template(
            backend.pipeline.settings.template_bucket().unwrap(),
            &stack,
            &log_group_template(365, false),
        )
        .await
        .unwrap();
    old.deployment_id = format!("dev-{stack}-20200101T000000-0ld0ld00");
    old.iac_version = "0.9.0".into();
    old.template_key = stored.key;
    old.template_sha256 = stored.sha256;
    old.started_at = "2020-01-01T00:00:00Z".into();
    old.finished_at = Some("2020-01-01T00:05:00Z".into());
    backend.pipeline.store.put_deployment(&old).await.unwrap();

    let history = backend
        .pipeline
        .store
        .history(Env::Dev, stack.as_str(), Some(100))
        .await
        .unwrap();
    let (_, target) = rollback_target(&history, Some(&old.deployment_id)).unwrap();
    let request = rollback_request(
        target,
        new_execution_name(Env::Dev, &stack),
        "e2e-tests".into(),
        None,
    );
    let refused = backend.start_request(&request).await;
    let ended = backend.wait_for_end(&refused).await;
    assert_eq!(ended.status, "FAILED");
    assert_eq!(
        ended.error.as_deref(),
        Some("ValidationFailed"),
        "{ended:?}"
    );
    let record = backend.record(&refused).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::Failed);
    let findings = &record.validation.as_ref().unwrap().findings;
    assert!(
        findings
            .iter()
            .any(|f| f.control.as_deref() == Some("CM-8")),
        "{findings:?}"
    );
    // No change set was made, the stack is as it was, and the lock is free.
    assert_eq!(record.change_set_arn, None);
    assert_eq!(
        backend.stack_status(&refused).await.as_deref(),
        Some("CREATE_COMPLETE")
    );
    assert!(!backend.lock_held(&refused).await);
}
