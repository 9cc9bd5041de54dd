//! Drift scans through the drift-scan machine on the emulator (its launcher patches teach it drift
//! detection and REVERT_DRIFT change sets): a rule added by hand is found with its NIST impact and
//! reported once; a stack in sync tells nobody; a locked stack is skipped; a remediation goes
//! through the approval and the next scan is in sync. Throttled and failed detections, which the
//! emulator never shows, are covered by the drift-check step's tests on SDK-level fakes.

use std::collections::BTreeMap;
use std::time::Duration;

use infra_agent_core::contract::deploy::DeploymentKind;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::drift::{DifferenceKind, ResourceDriftStatus, StackDriftStatus};
use infra_agent_core::install::PIPELINE_TEMPLATE;
use infra_agent_core::naming::{Env, StackKey};
use infra_agent_core::records::ScanStatus;
use infra_agent_core::template::Template;
use infra_agent_tests::{inbox, unique_stack, Backend, Started};

const SECURITY_GROUPS: &str = include_str!("../../infra/stacks/security-groups.yaml");

/// Opens port 80 to the internet on the stack's ALB group, as someone would in the console.
const OPEN_PORT_80: &str = "\
stack = sys.argv[1]
group = next(r['PhysicalResourceId'] for r in cfn.list_stack_resources(StackName=stack)['StackResourceSummaries'] if r['LogicalResourceId'] == 'AlbSecurityGroup')
ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{'IpProtocol': 'tcp', 'FromPort': 80, 'ToPort': 80, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
print(group)";

/// The ALB group's ingress ports from 0.0.0.0/0, as EC2 reports them.
const INTERNET_PORTS: &str = "\
group = sys.argv[1]
rules = ec2.describe_security_groups(GroupIds=[group])['SecurityGroups'][0]['IpPermissions']
print(sorted(r.get('FromPort', -1) for r in rules if any(i['CidrIp'] == '0.0.0.0/0' for i in r.get('IpRanges', []))))";

/// The input the environment's schedule sends the drift-scan machine, read from the template.
fn schedule_input(env: Env) -> serde_json::Value {
    let template = Template::parse("infra/pipeline.yaml", PIPELINE_TEMPLATE).unwrap();
    let schedule = template
        .resources()
        .unwrap()
        .values()
        .find(|r| {
            r["Type"] == "AWS::Scheduler::Schedule"
                && r["Properties"]["Name"] == format!("infra-agent-drift-scan-{env}")
        })
        .expect("the environment's drift-scan schedule");
    serde_json::from_str(schedule["Properties"]["Target"]["Input"].as_str().unwrap()).unwrap()
}

/// A security-groups stack of the catalog, deployed in dev into a VPC of its own.
async fn deployed_security_groups(backend: &Backend, prefix: &str) -> (StackKey, Started) {
    let vpc = backend.by_hand(
        "print(ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId'])",
        &[],
    );
    let stack = unique_stack(prefix);
    let started = backend
        .start_wired(
            Env::Dev,
            &stack,
            SECURITY_GROUPS,
            "1.0.0",
            None,
            BTreeMap::from([("VpcId".to_string(), vpc)]),
        )
        .await;
    let ended = backend.approve_via_link(&started, "Ada").await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    (stack, started)
}

fn only(stack: &StackKey) -> serde_json::Value {
    serde_json::json!({ "env": "dev", "stacks": [stack.as_str()], "requested_by": "e2e-tests" })
}

/// The scan's report, as the approval topic's subscribers get it, if it sent one.
async fn report(backend: &Backend, scan_id: &str, wait: Duration) -> Option<inbox::Notification> {
    inbox::find_notification(
        &backend.sqs,
        &backend.queue_url,
        "scan_id",
        scan_id,
        "kind",
        wait,
    )
    .await
    .ok()
    .map(|(notification, _)| notification)
}

#[tokio::test(flavor = "multi_thread")]
async fn port_80_opened_by_hand_is_found_by_the_scheduled_scan_with_sc8_and_reported_once() {
    let backend = Backend::connect().await;
    let (stack, started) = deployed_security_groups(&backend, "drift").await;
    let stack_name = backend.record(&started).await.unwrap().stack_name;
    backend.by_hand(OPEN_PORT_80, &[&stack_name]);

    let (scan_id, status, output) = backend.scan(&schedule_input(Env::Dev)).await;
    assert_eq!(status, "SUCCEEDED", "{output}");
    assert!(output["drifted"].as_u64().unwrap() >= 1, "{output}");

    let records = backend
        .pipeline
        .store
        .drift_history(Env::Dev, stack.as_str(), Some(1))
        .await
        .unwrap();
    let record = &records[0];
    assert_eq!(record.scan_id, scan_id);
    assert_eq!(record.drift.status, StackDriftStatus::Drifted);
    let alb = record
        .drift
        .resources
        .iter()
        .find(|r| r.logical_id == "AlbSecurityGroup")
        .expect("the ALB group drifted");
    assert_eq!(alb.status, ResourceDriftStatus::Modified);
    let added = alb
        .differences
        .iter()
        .find(|d| d.kind == DifferenceKind::Add)
        .expect("an added rule");
    assert!(
        added.path.starts_with("/SecurityGroupIngress/"),
        "{added:?}"
    );
    assert!(
        added.actual.as_deref().unwrap().contains("\"FromPort\":80"),
        "{added:?}"
    );
    assert!(
        alb.controls.contains(&"SC-8".to_string()),
        "{:?}",
        alb.controls
    );
    assert!(
        alb.recommendation.contains("tcp 80 from 0.0.0.0/0"),
        "{}",
        alb.recommendation
    );
    // Only the ALB group was touched: every other group is in sync.
    assert_eq!(
        record.drift.resources.len(),
        1,
        "{:?}",
        record.drift.resources
    );

    let scan = backend
        .pipeline
        .store
        .scan(Env::Dev, &scan_id)
        .await
        .unwrap()
        .expect("the scan is recorded");
    assert_eq!(scan.status, ScanStatus::Completed);
    assert_eq!(scan.requested_by, "schedule");
    assert!(scan.notified);
    assert!(scan.results.iter().any(|r| r.stack == stack));

    let message = report(&backend, &scan_id, Duration::from_secs(30))
        .await
        .expect("the scan's report");
    assert!(message.body.contains(&stack_name), "{}", message.body);
    assert!(message.body.contains("SC-8"), "{}", message.body);
    assert!(message
        .body
        .contains(&format!("infra-agent drift remediate {stack} --env dev")));
    assert!(
        report(&backend, &scan_id, Duration::from_secs(2))
            .await
            .is_none(),
        "one report per scan"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_in_sync_is_in_sync_and_nobody_is_told() {
    let backend = Backend::connect().await;
    let (stack, _) = deployed_security_groups(&backend, "insync").await;
    let (scan_id, status, output) = backend.scan(&only(&stack)).await;
    assert_eq!(status, "SUCCEEDED", "{output}");
    assert_eq!(output["in_sync"], 1, "{output}");
    assert_eq!(output["notified"], false, "{output}");
    let record = &backend
        .pipeline
        .store
        .drift_history(Env::Dev, stack.as_str(), Some(1))
        .await
        .unwrap()[0];
    assert_eq!(record.drift.status, StackDriftStatus::InSync);
    assert!(record.drift.in_sync > 0);
    assert!(report(&backend, &scan_id, Duration::from_secs(2))
        .await
        .is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_locked_by_a_deployment_is_skipped_with_its_holder() {
    let backend = Backend::connect().await;
    let (stack, deployed) = deployed_security_groups(&backend, "lockd").await;
    let parameters = backend.record(&deployed).await.unwrap().parameters;
    // A second deployment waits for approval, holding the lock.
    let waiting = backend
        .start_wired(
            Env::Dev,
            &stack,
            SECURITY_GROUPS,
            "1.0.1",
            None,
            BTreeMap::from([("VpcId".to_string(), parameters["VpcId"].clone())]),
        )
        .await;
    let message = backend.awaiting_approval(&waiting).await;

    let (_, status, output) = backend.scan(&only(&stack)).await;
    assert_eq!(status, "SUCCEEDED", "{output}");
    assert_eq!(output["skipped"], 1, "{output}");
    let record = &backend
        .pipeline
        .store
        .drift_history(Env::Dev, stack.as_str(), Some(1))
        .await
        .unwrap()[0];
    assert_eq!(record.drift.status, StackDriftStatus::Skipped);
    assert!(
        record
            .drift
            .reason
            .as_deref()
            .unwrap()
            .contains(&waiting.deployment_id),
        "{:?}",
        record.drift.reason
    );

    let rejected = inbox::post_form(
        &message.link,
        &[("decision", "reject"), ("approver", "Bob")],
    )
    .await
    .unwrap();
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    backend.wait_for_end(&waiting).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn remediation_goes_through_the_approval_and_puts_the_stack_back_in_sync() {
    let backend = Backend::connect().await;
    let (stack, deployed) = deployed_security_groups(&backend, "remed").await;
    let record = backend.record(&deployed).await.unwrap();
    let group = backend.by_hand(OPEN_PORT_80, &[&record.stack_name]);
    assert_eq!(backend.by_hand(INTERNET_PORTS, &[&group]), "[80, 443]");
    let (_, status, output) = backend.scan(&only(&stack)).await;
    assert_eq!(
        (status.as_str(), &output["drifted"]),
        ("SUCCEEDED", &serde_json::json!(1))
    );

    let template = SECURITY_GROUPS;
    let vpc = BTreeMap::from([("VpcId".to_string(), record.parameters["VpcId"].clone())]);

    // A deployment to the drifted stack tells its approvers what it overwrites.
    let update = backend
        .start_wired(Env::Dev, &stack, template, "1.0.1", None, vpc.clone())
        .await;
    let message = backend.awaiting_approval(&update).await;
    assert!(
        message
            .body
            .contains("DRIFT: this change set overwrites manual changes to AlbSecurityGroup"),
        "{}",
        message.body
    );
    reject(&message).await;
    backend.wait_for_end(&update).await;

    // A rejected remediation changes nothing.
    let remediation = |iac: &'static str| {
        backend.start_kind(
            DeploymentKind::Remediation,
            Env::Dev,
            &stack,
            template,
            iac,
            None,
            vpc.clone(),
        )
    };
    let rejected = remediation("1.0.0").await;
    let message = backend.awaiting_approval(&rejected).await;
    assert!(
        message
            .body
            .contains("Reverts the drift of AlbSecurityGroup"),
        "{}",
        message.body
    );
    assert!(
        message.body.contains("ADD /SecurityGroupIngress/"),
        "{}",
        message.body
    );
    reject(&message).await;
    assert_eq!(backend.wait_for_end(&rejected).await.status, "FAILED");
    assert_eq!(backend.by_hand(INTERNET_PORTS, &[&group]), "[80, 443]");

    // An approved one reverts the rule, is recorded as a remediation, and the next scan is clean.
    let approved = remediation("1.0.0").await;
    let ended = backend.approve_via_link(&approved, "Ada").await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    let record = backend.record(&approved).await.unwrap();
    assert_eq!(record.kind, DeploymentKind::Remediation);
    assert_eq!(record.status, DeploymentStatus::Succeeded);
    assert_eq!(backend.by_hand(INTERNET_PORTS, &[&group]), "[443]");
    let (_, status, output) = backend.scan(&only(&stack)).await;
    assert_eq!(status, "SUCCEEDED");
    assert_eq!(output["in_sync"], 1, "{output}");
}

async fn reject(message: &inbox::ApprovalMessage) {
    let rejected = inbox::post_form(
        &message.link,
        &[("decision", "reject"), ("approver", "Bob")],
    )
    .await
    .unwrap();
    assert_eq!(rejected.status, 200, "{}", rejected.body);
}
