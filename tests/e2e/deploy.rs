//! A stack through the whole pipeline: approved, rejected, unchanged, failing, invalid.

use std::collections::BTreeMap;

use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::naming::Env;
use infra_agent_tests::{inbox, unique_stack, vpc_template, Backend};

#[tokio::test(flavor = "multi_thread")]
async fn approved_deployment_creates_the_stack_and_records_the_approver() {
    let backend = Backend::connect().await;
    let stack = unique_stack("net");
    let started = backend
        .start(&stack, &vpc_template(&BTreeMap::new()), "1.0.0")
        .await;
    let message = backend.awaiting_approval(&started).await;
    assert!(
        message.body.contains("CREATE AWS::EC2::Subnet ×9"),
        "{}",
        message.body
    );
    assert!(
        message.body.contains("Validation: passed"),
        "{}",
        message.body
    );
    assert!(
        !message.body.to_lowercase().contains("token"),
        "the message must not carry the task token"
    );

    let page = inbox::get(&message.link).await.unwrap();
    assert_eq!(page.status, 200);
    assert!(page.body.contains("value=\"approve\"") && page.body.contains("value=\"reject\""));
    assert!(
        !page.body.contains("src=\"http"),
        "the page loads no external assets"
    );

    let decided = inbox::post_form(
        &message.link,
        &[("decision", "approve"), ("approver", "Ada Lovelace")],
    )
    .await
    .unwrap();
    assert_eq!(decided.status, 200, "{}", decided.body);
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");

    assert_eq!(
        backend.stack_status(&started).await.as_deref(),
        Some("CREATE_COMPLETE")
    );
    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::Succeeded);
    assert_eq!(record.approver.as_deref(), Some("Ada Lovelace"));
    assert_eq!(record.stack_status.as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(
        record.parameters.get("Environment").map(String::as_str),
        Some("dev")
    );
    assert!(record.change_set_arn.is_some() && record.finished_at.is_some());
    assert!(!backend.lock_held(&started).await, "lock released");

    let store = &backend.pipeline.store;
    let history = store.history(Env::Dev, stack.as_str(), None).await.unwrap();
    assert_eq!(history.len(), 1);
    let status = store.environment_status(Env::Dev).await.unwrap();
    assert!(status
        .iter()
        .any(|h| h.stack == stack && h.last_status == DeploymentStatus::Succeeded));
    let trail = store.audit_trail(Env::Dev, stack.as_str()).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|a| a.action.as_str()).collect();
    for expected in [
        "deployment.start",
        "approval.request",
        "approval.decide",
        "stack.execute",
        "deployment.finish",
    ] {
        assert!(
            actions.contains(&expected),
            "audit lacks {expected}: {actions:?}"
        );
    }
    assert!(trail
        .iter()
        .any(|a| a.action == "approval.decide" && a.actor == "Ada Lovelace"));
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_deployment_deletes_the_change_set_and_releases_the_lock() {
    let backend = Backend::connect().await;
    let stack = unique_stack("rej");
    let started = backend
        .start(&stack, &vpc_template(&BTreeMap::new()), "1.0.0")
        .await;
    backend
        .wait_for_status(&started, DeploymentStatus::AwaitingApproval)
        .await;
    assert_eq!(
        backend.change_sets(&started).await.len(),
        1,
        "change set exists while waiting"
    );
    assert!(backend.lock_held(&started).await);

    let message = backend.approval_message(&started).await;
    let decided = inbox::post_form(
        &message.link,
        &[
            ("decision", "reject"),
            ("approver", "Grace"),
            ("comment", "not this week"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(decided.status, 200, "{}", decided.body);
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "FAILED");
    assert_eq!(ended.error.as_deref(), Some("ApprovalRejected"));

    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::Rejected);
    assert_eq!(record.approver.as_deref(), Some("Grace"));
    let reason = record.failure.map(|f| f.reason).unwrap_or_default();
    assert!(
        reason.contains("Grace") && reason.contains("not this week"),
        "{reason}"
    );
    assert!(
        backend.change_sets(&started).await.is_empty(),
        "change set deleted"
    );
    assert!(!backend.lock_held(&started).await, "lock released");
    assert_ne!(
        backend.stack_status(&started).await.as_deref(),
        Some("CREATE_COMPLETE")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn same_template_again_ends_as_no_changes() {
    let backend = Backend::connect().await;
    let stack = unique_stack("same");
    let template = vpc_template(&BTreeMap::new());
    let first = backend.start(&stack, &template, "1.0.0").await;
    assert_eq!(
        backend.approve_via_link(&first, "Ada").await.status,
        "SUCCEEDED"
    );

    let second = backend.start(&stack, &template, "1.0.0").await;
    let ended = backend.wait_for_end(&second).await;
    assert_eq!(
        ended.status, "SUCCEEDED",
        "no changes is not a failure: {ended:?}"
    );
    let record = backend.record(&second).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::NoChanges);
    assert!(record.approval_id.is_none(), "nothing to approve");
    assert!(backend
        .change_sets(&second)
        .await
        .iter()
        .all(|name| Some(name) != record.change_set_name.as_ref()));
    assert!(!backend.lock_held(&second).await);
    let history = backend
        .pipeline
        .store
        .history(Env::Dev, stack.as_str(), None)
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        history[0].deployment_id, second.deployment_id,
        "newest first"
    );
}

/// The emulator executes a change set synchronously and reports a failing resource as an error
/// of ExecuteChangeSet; it never shows CREATE_FAILED events or a rollback. That path (first failed
/// event, rollback status) is covered with SDK-level fakes in `shared::stacks` and
/// `infra_agent_pipeline::steps::execute`.
#[tokio::test(flavor = "multi_thread")]
async fn failing_resource_fails_the_deployment_with_cloudformations_reason() {
    let backend = Backend::connect().await;
    let stack = unique_stack("bad");
    // A subnet outside its VPC's CIDR is accepted by validation but refused by EC2.
    let template = vpc_template(&BTreeMap::from([(
        "Default: 10.0.48.0/20",
        "Default: 10.9.48.0/20",
    )]));
    let started = backend.start(&stack, &template, "1.0.0").await;
    let ended = backend.approve_via_link(&started, "Ada").await;
    assert_eq!(ended.status, "FAILED");
    assert_eq!(ended.error.as_deref(), Some("StackFailed"));

    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::Failed);
    let failure = record.failure.expect("failure recorded");
    assert!(
        failure.reason.contains("10.9.48.0/20"),
        "CloudFormation's reason: {}",
        failure.reason
    );
    assert!(
        !backend.lock_held(&started).await,
        "lock released after a failure"
    );
}

/// A security group that admits HTTPS from the internet, as a load balancer's does: compliant as
/// written. Security groups live in their own stack, so the test brings its own.
const PUBLIC_HTTPS_GROUP: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Description: A load balancer's security group, HTTPS from the internet only
Parameters:
  Environment: { Type: String, AllowedValues: [dev, tst, prd] }
  Owner: { Type: String }
  SecurityLevel: { Type: String }
  IaCVersion: { Type: String }
  VpcId: { Type: "AWS::EC2::VPC::Id" }
Resources:
  HttpsIngressSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: HTTPS from the internet to the public load balancers only
      VpcId: !Ref VpcId
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 0.0.0.0/0
          Description: HTTPS
      Tags:
        - { Key: Environment, Value: !Ref Environment }
        - { Key: Owner, Value: !Ref Owner }
        - { Key: SecurityLevel, Value: !Ref SecurityLevel }
        - { Key: IaC_Version, Value: !Ref IaCVersion }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn non_compliant_template_fails_validation_before_any_change_set() {
    let backend = Backend::connect().await;
    let stack = unique_stack("open");
    let template = PUBLIC_HTTPS_GROUP.replace(
        "FromPort: 443\n          ToPort: 443",
        "FromPort: 22\n          ToPort: 22",
    );
    assert_ne!(template, PUBLIC_HTTPS_GROUP);
    let as_written = infra_agent_core::validation::validate_template(
        "fixture",
        PUBLIC_HTTPS_GROUP,
        &infra_agent_core::validation::ValidationContext::default(),
    );
    assert!(as_written.passed, "{:?}", as_written.findings);
    let started = backend.start(&stack, &template, "1.0.0").await;
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "FAILED");
    assert_eq!(ended.error.as_deref(), Some("ValidationFailed"));

    let record = backend.record(&started).await.unwrap();
    assert_eq!(record.status, DeploymentStatus::Failed);
    let validation = record.validation.expect("findings recorded");
    assert!(!validation.passed);
    let finding = validation
        .findings
        .iter()
        .find(|f| f.control.as_deref() == Some("SC-7"))
        .expect("an SC-7 finding");
    assert_eq!(
        finding.resource.as_deref(),
        Some("HttpsIngressSecurityGroup")
    );
    assert!(finding.line.is_some());
    assert!(record.change_set_arn.is_none());
    assert_eq!(
        backend.stack_status(&started).await,
        None,
        "nothing reached CloudFormation"
    );
    assert!(!backend.lock_held(&started).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn approval_message_and_record_carry_the_cost_delta() {
    let backend = Backend::connect().await;
    let stack = unique_stack("cost");
    // dev runs one NAT gateway (NatGatewayCount 1) with its public IPv4 address.
    let template = vpc_template(&BTreeMap::new());
    let started = backend.start(&stack, &template, "1.0.0").await;
    let message = backend.awaiting_approval(&started).await;
    // NAT gateway $0.045/h and one public IPv4 address $0.005/h, 730 hours: $32.85 + $3.65.
    assert!(
        message
            .body
            .contains("Cost: +$36.50/month ($0.00 → $36.50)"),
        "{}",
        message.body
    );
    assert!(
        message.body.contains("NatGatewayA (AWS::EC2::NatGateway)"),
        "{}",
        message.body
    );
    let page = inbox::get(&message.link).await.unwrap();
    assert!(
        page.body.contains("<p id=\"cost\">+$36.50/month"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(
            "<code>NatGatewayA</code> AWS::EC2::NatGateway</td><td class=\"num\">-</td><td class=\"num\">$32.85</td>"
        ),
        "the page lists the cost per resource: {}",
        page.body
    );

    inbox::post_form(
        &message.link,
        &[("decision", "reject"), ("approver", "Ada")],
    )
    .await
    .unwrap();
    backend.wait_for_end(&started).await;
    let record = backend.record(&started).await.unwrap();
    let cost = record.cost.expect("cost recorded");
    assert!(cost.available && !cost.exceeds_budget);
    assert_eq!(cost.delta.unwrap().after_monthly.to_string(), "$36.50");
}
