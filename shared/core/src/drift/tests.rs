use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::naming::Env;

const SECURITY_GROUPS: &str = include_str!("../../../../infra/stacks/security-groups.yaml");
const VPC: &str = include_str!("../../../../infra/stacks/vpc.yaml");

fn context() -> ValidationContext {
    let parameters: BTreeMap<String, String> = [
        ("Environment", "dev"),
        ("Owner", "platform-team"),
        ("SecurityLevel", "internal"),
        ("IaCVersion", "1.4.0"),
        ("VpcId", "vpc-0a1b2c3d"),
        ("NatGatewayCount", "1"),
        ("FlowLogRetentionDays", "90"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    ValidationContext {
        env: Some(Env::Dev),
        parameters,
    }
}

fn tags() -> serde_json::Value {
    json!([
        {"Key": "Name", "Value": "infra-agent-dev-alb"},
        {"Key": "Environment", "Value": "dev"},
        {"Key": "Owner", "Value": "platform-team"},
        {"Key": "SecurityLevel", "Value": "internal"},
        {"Key": "IaC_Version", "Value": "1.4.0"}
    ])
}

fn alb(status: ResourceDriftStatus, differences: Vec<PropertyDifference>) -> ResourceDrift {
    ResourceDrift {
        logical_id: "AlbSecurityGroup".into(),
        physical_id: Some("sg-0123".into()),
        resource_type: "AWS::EC2::SecurityGroup".into(),
        status,
        expected_properties: Some(json!({ "Tags": tags() })),
        actual_properties: Some(json!({ "Tags": tags() })),
        differences,
    }
}

fn in_sync(id: &str, resource_type: &str) -> ResourceDrift {
    ResourceDrift {
        logical_id: id.into(),
        physical_id: Some(format!("{id}-physical")),
        resource_type: resource_type.into(),
        status: ResourceDriftStatus::InSync,
        expected_properties: None,
        actual_properties: None,
        differences: Vec::new(),
    }
}

fn difference(
    path: &str,
    expected: Option<&str>,
    actual: Option<&str>,
    kind: DifferenceKind,
) -> PropertyDifference {
    PropertyDifference {
        path: path.into(),
        expected: expected.map(str::to_string),
        actual: actual.map(str::to_string),
        kind,
    }
}

fn stack() -> StackKey {
    "security-groups".parse().unwrap()
}

fn analyse_sg(resources: Vec<ResourceDrift>, failure: Option<String>) -> StackDrift {
    let ctx = context();
    let key = stack();
    analyse(
        Detection {
            env: Env::Dev,
            stack: &key,
            stack_name: "infra-agent-dev-security-groups",
            resources,
            failure,
        },
        Ok((SECURITY_GROUPS, &ctx)),
    )
}

const PORT_80: &str = r#"{"CidrIp":"0.0.0.0/0","FromPort":80,"IpProtocol":"tcp","ToPort":80}"#;

#[test]
fn port_80_opened_to_the_internet_breaks_sc8_and_says_what_to_remove() {
    let drift = analyse_sg(
        vec![
            alb(
                ResourceDriftStatus::Modified,
                vec![difference(
                    "/SecurityGroupIngress/2",
                    None,
                    Some(PORT_80),
                    DifferenceKind::Add,
                )],
            ),
            in_sync("BastionSecurityGroup", "AWS::EC2::SecurityGroup"),
        ],
        None,
    );
    assert_eq!(drift.status, StackDriftStatus::Drifted);
    assert_eq!(drift.in_sync, 1);
    let alb = &drift.resources[0];
    assert_eq!(alb.logical_id, "AlbSecurityGroup");
    assert!(
        alb.controls.contains(&"SC-8".to_string()),
        "{:?}",
        alb.controls
    );
    assert!(
        alb.controls.contains(&"SC-7".to_string()),
        "{:?}",
        alb.controls
    );
    assert!(alb
        .findings
        .iter()
        .all(|f| f.resource.as_deref() == Some("AlbSecurityGroup")));
    assert!(
        alb.recommendation
            .starts_with("Remove the ingress rule tcp 80 from 0.0.0.0/0: it breaks SC-7, SC-8."),
        "{}",
        alb.recommendation
    );
    assert!(alb
        .recommendation
        .contains("infra-agent drift remediate security-groups --env dev"));
    assert_eq!(
        drift.remediation.as_deref(),
        Some("infra-agent drift remediate security-groups --env dev")
    );
}

#[test]
fn a_drift_the_policy_does_not_mind_has_no_controls() {
    // A new rule from within the VPC on 443 is drift, but no control objects to it.
    let rule = r#"{"CidrIp":"10.0.0.0/16","FromPort":443,"IpProtocol":"tcp","ToPort":443}"#;
    let drift = analyse_sg(
        vec![alb(
            ResourceDriftStatus::Modified,
            vec![difference(
                "/SecurityGroupIngress/2",
                None,
                Some(rule),
                DifferenceKind::Add,
            )],
        )],
        None,
    );
    assert_eq!(drift.status, StackDriftStatus::Drifted);
    assert!(drift.resources[0].controls.is_empty());
    assert!(drift.resources[0]
        .recommendation
        .starts_with("Remove the ingress rule tcp 443 from 10.0.0.0/16."));
}

#[test]
fn a_removed_owner_tag_breaks_cm8() {
    let mut untagged = alb(
        ResourceDriftStatus::Modified,
        vec![difference(
            "/Tags/2",
            Some(r#"{"Key":"Owner","Value":"platform-team"}"#),
            None,
            DifferenceKind::Remove,
        )],
    );
    let mut without_owner = tags().as_array().unwrap().clone();
    without_owner.remove(2);
    untagged.actual_properties = Some(json!({ "Tags": without_owner }));
    let drift = analyse_sg(vec![untagged], None);
    assert!(drift.filtered.is_empty());
    let alb = &drift.resources[0];
    assert_eq!(alb.controls, vec!["CM-8".to_string()]);
    assert!(
        alb.recommendation
            .starts_with("Restore the tag Owner: it breaks CM-8."),
        "{}",
        alb.recommendation
    );
}

#[test]
fn a_deleted_flow_log_breaks_au2() {
    let ctx = context();
    let key: StackKey = "vpc".parse().unwrap();
    let drift = analyse(
        Detection {
            env: Env::Dev,
            stack: &key,
            stack_name: "infra-agent-dev-vpc",
            resources: vec![ResourceDrift {
                logical_id: "VpcFlowLog".into(),
                physical_id: Some("fl-0123".into()),
                resource_type: "AWS::EC2::FlowLog".into(),
                status: ResourceDriftStatus::Deleted,
                expected_properties: None,
                actual_properties: None,
                differences: Vec::new(),
            }],
            failure: None,
        },
        Ok((VPC, &ctx)),
    );
    let flow_log = &drift.resources[0];
    assert_eq!(
        flow_log.controls,
        vec!["AU-2".to_string()],
        "{:?}",
        flow_log.findings
    );
    // The finding is on the VPC the flow log covered.
    assert_eq!(flow_log.findings[0].resource.as_deref(), Some("Vpc"));
    assert!(flow_log
        .recommendation
        .starts_with("Recreate AWS::EC2::FlowLog VpcFlowLog"));
}

#[test]
fn everything_in_sync_is_in_sync_and_not_checked_resources_are_listed() {
    let drift = analyse_sg(
        vec![
            in_sync("AlbSecurityGroup", "AWS::EC2::SecurityGroup"),
            ResourceDrift {
                status: ResourceDriftStatus::NotChecked,
                ..in_sync("Addon", "AWS::EKS::Addon")
            },
        ],
        None,
    );
    assert_eq!(drift.status, StackDriftStatus::InSync);
    assert_eq!(drift.in_sync, 1);
    assert_eq!(
        drift.not_checked,
        vec![NotChecked {
            logical_id: "Addon".into(),
            resource_type: "AWS::EKS::Addon".into()
        }]
    );
    assert!(drift.resources.is_empty());
    assert_eq!(drift.remediation, None);
}

#[test]
fn false_positives_are_filtered_counted_and_explained() {
    let mut reordered = alb(
        ResourceDriftStatus::Modified,
        vec![
            difference(
                "/Tags/0/Key",
                Some("Name"),
                Some("Owner"),
                DifferenceKind::NotEqual,
            ),
            difference(
                "/SecurityGroupIngress/0/FromPort",
                Some("443"),
                Some("443.0"),
                DifferenceKind::NotEqual,
            ),
        ],
    );
    let mut shuffled = tags().as_array().unwrap().clone();
    shuffled.reverse();
    reordered.actual_properties = Some(json!({ "Tags": shuffled }));
    let role = ResourceDrift {
        logical_id: "Role".into(),
        physical_id: None,
        resource_type: "AWS::IAM::Role".into(),
        status: ResourceDriftStatus::Modified,
        expected_properties: None,
        actual_properties: None,
        differences: vec![
            difference("/MaxSessionDuration", None, Some("3600"), DifferenceKind::Add),
            difference(
                "/AssumeRolePolicyDocument",
                Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole"],"Principal":{"Service":"eks.amazonaws.com"}}]}"#),
                Some("%7B%22Statement%22%3A%7B%22Principal%22%3A%7B%22Service%22%3A%22eks.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C%22Effect%22%3A%22Allow%22%7D%2C%22Version%22%3A%222012-10-17%22%7D"),
                DifferenceKind::NotEqual,
            ),
            // A real change survives the filter.
            difference("/MaxSessionDuration", Some("3600"), Some("43200"), DifferenceKind::NotEqual),
        ],
    };
    let drift = analyse_sg(vec![reordered, role], None);
    let rules: Vec<&str> = drift.filtered.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        vec![
            "tag-order",
            "number-as-text",
            "echoed-default",
            "json-equal"
        ]
    );
    assert!(drift.filtered.iter().all(|f| !f.reason.is_empty()));
    // The security group had only false positives: in sync. The role keeps its real change.
    assert_eq!(drift.in_sync, 1);
    assert_eq!(drift.resources.len(), 1);
    assert_eq!(drift.resources[0].logical_id, "Role");
    assert_eq!(drift.resources[0].differences.len(), 1);
    assert_eq!(
        drift.resources[0].differences[0].actual.as_deref(),
        Some("43200")
    );
}

#[test]
fn a_different_policy_is_not_filtered() {
    let role = ResourceDrift {
        logical_id: "Role".into(),
        physical_id: None,
        resource_type: "AWS::IAM::Role".into(),
        status: ResourceDriftStatus::Modified,
        expected_properties: None,
        actual_properties: None,
        differences: vec![difference(
            "/AssumeRolePolicyDocument",
            Some(
                r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"eks.amazonaws.com"}}]}"#,
            ),
            Some(
                r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"*"}}]}"#,
            ),
            DifferenceKind::NotEqual,
        )],
    };
    let drift = analyse_sg(vec![role], None);
    assert!(drift.filtered.is_empty());
    assert_eq!(drift.status, StackDriftStatus::Drifted);
}

#[test]
fn a_failed_detection_keeps_what_it_learned() {
    let drift = analyse_sg(
        vec![alb(
            ResourceDriftStatus::Modified,
            vec![difference(
                "/SecurityGroupIngress/2",
                None,
                Some(PORT_80),
                DifferenceKind::Add,
            )],
        )],
        Some("Failed to detect drift on resource [NodeSecurityGroup]: Rate exceeded".into()),
    );
    assert_eq!(drift.status, StackDriftStatus::Failed);
    assert!(drift.reason.as_deref().unwrap().contains("Rate exceeded"));
    assert_eq!(drift.resources.len(), 1);
    assert!(drift.resources[0].controls.contains(&"SC-8".to_string()));
}

#[test]
fn drift_without_a_readable_template_says_why_its_impact_is_unknown() {
    let key = stack();
    let drift = analyse(
        Detection {
            env: Env::Dev,
            stack: &key,
            stack_name: "infra-agent-dev-security-groups",
            resources: vec![alb(
                ResourceDriftStatus::Modified,
                vec![difference(
                    "/SecurityGroupIngress/2",
                    None,
                    Some(PORT_80),
                    DifferenceKind::Add,
                )],
            )],
            failure: None,
        },
        Err("no successful deployment of security-groups in dev is recorded".into()),
    );
    assert_eq!(drift.status, StackDriftStatus::Drifted);
    assert!(drift.resources[0].controls.is_empty());
    assert_eq!(
        drift.impact_unavailable.as_deref(),
        Some("no successful deployment of security-groups in dev is recorded")
    );
}

#[test]
fn statuses_and_kinds_read_as_aws_writes_them() {
    for status in ["IN_SYNC", "MODIFIED", "DELETED", "NOT_CHECKED"] {
        assert_eq!(ResourceDriftStatus::parse(status).unwrap().as_str(), status);
    }
    for kind in ["ADD", "REMOVE", "NOT_EQUAL"] {
        assert_eq!(DifferenceKind::parse(kind).unwrap().as_str(), kind);
    }
    assert_eq!(ResourceDriftStatus::parse("UNKNOWN"), None);
}

#[test]
fn approvers_of_a_drifted_stack_are_told_what_is_overwritten_or_reverted() {
    use crate::contract::deploy::DeploymentKind;
    let drift = analyse_sg(
        vec![alb(
            ResourceDriftStatus::Modified,
            vec![difference(
                "/SecurityGroupIngress/2",
                None,
                Some(PORT_80),
                DifferenceKind::Add,
            )],
        )],
        None,
    );
    let deploy = approval_lines(
        DeploymentKind::Deploy,
        &drift,
        "scan-1",
        "2026-12-05T01:00:00Z",
    );
    assert_eq!(
        deploy[0],
        "DRIFT: this change set overwrites manual changes to AlbSecurityGroup (drift scan scan-1, 2026-12-05T01:00:00Z)"
    );
    assert_eq!(
        deploy[1],
        format!("AlbSecurityGroup ADD /SecurityGroupIngress/2: expected (none), actual {PORT_80} [breaks SC-7, SC-8]")
    );
    let revert = approval_lines(
        DeploymentKind::Remediation,
        &drift,
        "scan-1",
        "2026-12-05T01:00:00Z",
    );
    assert!(revert[0].starts_with("Reverts the drift of AlbSecurityGroup"));
    let in_sync = analyse_sg(Vec::new(), None);
    assert!(approval_lines(DeploymentKind::Deploy, &in_sync, "scan-2", "now").is_empty());
}
