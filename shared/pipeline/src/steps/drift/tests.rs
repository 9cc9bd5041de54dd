//! The drift-check steps on the in-memory ports. Throttling and failed detections are shown here:
//! the emulator detects drift but never throttles or fails a detection.

use infra_agent_core::contract::deploy::DeployRequest;
use infra_agent_core::contract::drift::{DetectionPhase, ScanRequest};
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::drift::{
    DifferenceKind, PropertyDifference, ResourceDrift, ResourceDriftStatus, StackDriftStatus,
};
use infra_agent_core::naming::Env;
use infra_agent_core::records::{ScanStatus, StackLock};
use infra_agent_core::stack::StackStatus;

use super::*;
use crate::fakes::{deploy_request, Fakes};
use crate::ports::TemplateStore;
use crate::steps::begin::new_record;

const SECURITY_GROUPS: &str = include_str!("../../../../../infra/stacks/security-groups.yaml");
const STACK: &str = "infra-agent-dev-security-groups";
const PORT_80: &str = r#"{"CidrIp":"0.0.0.0/0","FromPort":80,"IpProtocol":"tcp","ToPort":80}"#;

/// A deployed security-groups stack with its successful deployment recorded.
async fn deployed(fakes: &Fakes) -> Pipeline {
    let pipeline = fakes.pipeline();
    let template = fakes
        .templates
        .put_template(
            "infra-agent-test-templates",
            &"security-groups".parse().unwrap(),
            SECURITY_GROUPS,
        )
        .await
        .unwrap();
    let request = DeployRequest {
        stack: "security-groups".parse().unwrap(),
        template,
        ..deploy_request("dev-security-groups-20261205T010000-aaaa0001")
    };
    let mut record = new_record(&request, "2026-12-05T01:00:00Z");
    record.status = DeploymentStatus::Succeeded;
    record.stack_status = Some("CREATE_COMPLETE".into());
    record.parameters = [
        ("Environment", "dev"),
        ("Owner", "platform-team"),
        ("SecurityLevel", "internal"),
        ("IaCVersion", "1.0.0"),
        ("VpcId", "vpc-0a1b"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    pipeline.store.put_deployment(&record).await.unwrap();
    fakes
        .stacks
        .put_stack(STACK, StackStatus::CreateComplete, &[]);
    pipeline
}

fn check() -> StackCheck {
    StackCheck {
        scan_id: "scan-1".into(),
        env: Env::Dev,
        stack: "security-groups".parse().unwrap(),
        stack_name: STACK.into(),
    }
}

fn port_80_opened() -> Vec<ResourceDrift> {
    vec![
        ResourceDrift {
            logical_id: "AlbSecurityGroup".into(),
            physical_id: Some("sg-0a1".into()),
            resource_type: "AWS::EC2::SecurityGroup".into(),
            status: ResourceDriftStatus::Modified,
            expected_properties: None,
            actual_properties: None,
            differences: vec![PropertyDifference {
                path: "/SecurityGroupIngress/2".into(),
                expected: None,
                actual: Some(PORT_80.into()),
                kind: DifferenceKind::Add,
            }],
        },
        ResourceDrift {
            logical_id: "RdsSecurityGroup".into(),
            physical_id: Some("sg-0a2".into()),
            resource_type: "AWS::EC2::SecurityGroup".into(),
            status: ResourceDriftStatus::InSync,
            expected_properties: None,
            actual_properties: None,
            differences: Vec::new(),
        },
    ]
}

/// Runs one stack's check as the machine does: start, poll until detected, collect.
async fn run_check(pipeline: &Pipeline, check: &StackCheck) -> StackCheckResult {
    let mut detection = start(pipeline, check).await.unwrap();
    while detection.phase == DetectionPhase::Detecting {
        detection = poll(pipeline, check, &detection).await.unwrap();
    }
    collect(pipeline, check, &detection).await.unwrap()
}

#[tokio::test]
async fn a_scan_plans_every_stack_the_environment_has_deployed() {
    let fakes = Fakes::new();
    let pipeline = deployed(&fakes).await;
    let request = ScanRequest {
        env: Env::Dev,
        stacks: None,
        requested_by: None,
        started_by: None,
    };
    let plan = plan(&pipeline, &request, "scan-1").await.unwrap();
    assert_eq!(plan.stacks, vec![check()]);
    let scan = pipeline
        .store
        .scan(Env::Dev, "scan-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(scan.status, ScanStatus::Running);
    assert_eq!(scan.requested_by, "schedule");
    // Nothing deployed in prd: nothing to check.
    let prd = ScanRequest {
        env: Env::Prd,
        ..request
    };
    assert!(plan_stacks(&pipeline, &prd).await.is_empty());
}

async fn plan_stacks(pipeline: &Pipeline, request: &ScanRequest) -> Vec<StackCheck> {
    plan(pipeline, request, "scan-2").await.unwrap().stacks
}

#[tokio::test]
async fn drift_is_polled_until_detected_judged_recorded_and_told_once() {
    let fakes = Fakes::new();
    let pipeline = deployed(&fakes).await;
    fakes.drift.set_results(STACK, port_80_opened(), 2);
    let check = check();
    let result = run_check(&pipeline, &check).await;
    assert_eq!(result.status, StackDriftStatus::Drifted);
    assert_eq!(result.drifted_resources, 1);
    assert!(result.controls.contains(&"SC-8".to_string()));
    // Two polls in progress, then complete.
    let polls = fakes
        .drift
        .calls()
        .iter()
        .filter(|c| c.starts_with("DescribeStackDriftDetectionStatus"))
        .count();
    assert_eq!(polls, 3);

    let history = pipeline
        .store
        .drift_history(Env::Dev, "security-groups", None)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    let alb = &history[0].drift.resources[0];
    assert_eq!(alb.logical_id, "AlbSecurityGroup");
    assert!(alb.recommendation.contains("tcp 80 from 0.0.0.0/0"));
    let heads = pipeline.store.drift_heads(Env::Dev).await.unwrap();
    assert_eq!(
        heads[0].drifted_resources,
        vec!["AlbSecurityGroup".to_string()]
    );

    let plan = ScanPlan {
        scan_id: "scan-1".into(),
        env: Env::Dev,
        stacks: vec![check.clone()],
    };
    pipeline
        .store
        .put_scan(&DriftScan {
            scan_id: "scan-1".into(),
            env: Env::Dev,
            status: ScanStatus::Running,
            requested_by: "schedule".into(),
            stacks: vec![check.stack.clone()],
            results: Vec::new(),
            notified: false,
            started_at: "2026-12-05T01:00:00Z".into(),
            finished_at: None,
        })
        .await
        .unwrap();
    let summary = finish(&pipeline, &plan, std::slice::from_ref(&result))
        .await
        .unwrap();
    assert_eq!(
        (summary.drifted, summary.in_sync, summary.notified),
        (1, 0, true)
    );
    // A retried finish does not tell people twice.
    finish(&pipeline, &plan, &[result]).await.unwrap();
    let published = fakes.notifier.published();
    assert_eq!(published.len(), 1);
    let message = &published[0].1;
    assert!(
        message.subject.contains("drift in dev"),
        "{}",
        message.subject
    );
    assert!(
        message.body.contains("ADD /SecurityGroupIngress/2"),
        "{}",
        message.body
    );
    assert!(message.body.contains("SC-8"));
    assert!(message
        .body
        .contains("infra-agent drift remediate security-groups --env dev"));
    assert_eq!(message.attributes["kind"], "drift");
    let scan = pipeline
        .store
        .scan(Env::Dev, "scan-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(scan.status, ScanStatus::Completed);
}

#[tokio::test]
async fn a_scan_in_sync_tells_nobody() {
    let fakes = Fakes::new();
    let pipeline = deployed(&fakes).await;
    fakes
        .drift
        .set_results(STACK, port_80_opened()[1..].to_vec(), 0);
    let request = ScanRequest {
        env: Env::Dev,
        stacks: None,
        requested_by: Some("alice".into()),
        started_by: None,
    };
    let plan = plan(&pipeline, &request, "scan-1").await.unwrap();
    let result = run_check(&pipeline, &plan.stacks[0]).await;
    assert_eq!(result.status, StackDriftStatus::InSync);
    let summary = finish(&pipeline, &plan, &[result]).await.unwrap();
    assert_eq!((summary.in_sync, summary.notified), (1, false));
    assert!(fakes.notifier.published().is_empty());
}

#[tokio::test]
async fn a_locked_stack_is_skipped_with_its_holder_and_not_detected() {
    let fakes = Fakes::new();
    let pipeline = deployed(&fakes).await;
    let (_, now_epoch) = now();
    pipeline
        .store
        .acquire_lock(
            &StackLock {
                env: Env::Dev,
                stack: "security-groups".into(),
                holder: "dev-security-groups-20261205T020000-bbbb0002".into(),
                acquired_at: "2026-12-05T02:00:00Z".into(),
                expires_at: "2026-12-05T05:00:00Z".into(),
                expires_epoch: now_epoch + 3600,
            },
            now_epoch,
        )
        .await
        .unwrap();
    let result = run_check(&pipeline, &check()).await;
    assert_eq!(result.status, StackDriftStatus::Skipped);
    assert!(result
        .reason
        .as_deref()
        .unwrap()
        .contains("locked by deployment dev-security-groups-20261205T020000-bbbb0002"));
    assert!(fakes.drift.calls().is_empty());
}

#[tokio::test]
async fn a_stack_mid_update_or_missing_is_skipped_with_the_reason() {
    let fakes = Fakes::new();
    let pipeline = deployed(&fakes).await;
    fakes
        .stacks
        .put_stack(STACK, StackStatus::UpdateInProgress, &[]);
    let result = run_check(&pipeline, &check()).await;
    assert_eq!(result.status, StackDriftStatus::Skipped);
    assert!(result.reason.unwrap().contains("UPDATE_IN_PROGRESS"));

    let missing = StackCheck {
        stack: "vpc".parse().unwrap(),
        stack_name: "infra-agent-dev-vpc".into(),
        ..check()
    };
    let result = run_check(&pipeline, &missing).await;
    assert_eq!(result.status, StackDriftStatus::Skipped);
    assert!(result.reason.unwrap().contains("does not exist"));
    assert!(fakes.drift.calls().is_empty());
}

#[tokio::test]
async fn a_throttled_detection_starts_again_with_a_longer_wait() {
    let fakes = Fakes::new();
    let pipeline = deployed(&fakes).await;
    fakes.drift.set_results(STACK, port_80_opened(), 0);
    fakes.drift.fail_detections(
        STACK,
        2,
        "Failed to detect drift on resource [AlbSecurityGroup]: Rate exceeded",
    );
    let check = check();
    let first = start(&pipeline, &check).await.unwrap();
    let second = poll(&pipeline, &check, &first).await.unwrap();
    assert_eq!(second.phase, DetectionPhase::Detecting);
    assert_eq!((second.attempt, second.wait_seconds), (2, 15));
    assert_ne!(second.detection_id, first.detection_id);
    let third = poll(&pipeline, &check, &second).await.unwrap();
    assert_eq!((third.attempt, third.wait_seconds), (3, 30));
    let done = poll(&pipeline, &check, &third).await.unwrap();
    assert_eq!(done.phase, DetectionPhase::Detected);
    let result = collect(&pipeline, &check, &done).await.unwrap();
    // The last detection completed: the throttled attempts are not a failure.
    assert_eq!(result.status, StackDriftStatus::Drifted);
}

#[tokio::test]
async fn detection_throttled_every_time_fails_with_aws_reason_and_keeps_partial_results() {
    let fakes = Fakes::new();
    let pipeline = deployed(&fakes).await;
    fakes.drift.set_results(STACK, port_80_opened(), 0);
    fakes.drift.fail_detections(STACK, 99, "Rate exceeded");
    let result = run_check(&pipeline, &check()).await;
    assert_eq!(result.status, StackDriftStatus::Failed);
    assert_eq!(result.reason.as_deref(), Some("Rate exceeded"));
    // What it did compare is kept.
    assert_eq!(result.drifted_resources, 1);
    let starts = fakes
        .drift
        .calls()
        .iter()
        .filter(|c| c.starts_with("DetectStackDrift"))
        .count();
    assert_eq!(starts, MAX_DETECTIONS as usize);
}

#[tokio::test]
async fn a_failed_detection_is_reported_with_aws_reason_at_once() {
    let fakes = Fakes::new();
    let pipeline = deployed(&fakes).await;
    fakes.drift.set_results(STACK, Vec::new(), 0);
    fakes.drift.fail_detections(
        STACK,
        1,
        "Stack infra-agent-dev-security-groups: resource NodeSecurityGroup could not be read: AccessDenied",
    );
    let result = run_check(&pipeline, &check()).await;
    assert_eq!(result.status, StackDriftStatus::Failed);
    assert!(result.reason.unwrap().contains("AccessDenied"));
}

#[tokio::test]
async fn a_broken_check_is_recorded_as_failed_so_the_scan_goes_on() {
    let fakes = Fakes::new();
    let pipeline = deployed(&fakes).await;
    let error = CaughtError {
        error: "AwsError".into(),
        cause: Some(r#"{"errorType":"AwsError","errorMessage":"cloudformation DetectStackDrift failed: AccessDenied"}"#.into()),
    };
    let result = fail(&pipeline, &check(), &error).await.unwrap();
    assert_eq!(result.status, StackDriftStatus::Failed);
    let history = pipeline
        .store
        .drift_history(Env::Dev, "security-groups", None)
        .await
        .unwrap();
    assert!(history[0]
        .drift
        .reason
        .as_deref()
        .unwrap()
        .contains("AccessDenied"));
}
