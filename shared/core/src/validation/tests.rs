//! Unit tests of validation: syntax and structure findings, every guard rule passing and failing,
//! parameter resolution and failing closed.

use std::collections::BTreeMap;

use time::macros::date;
use time::Date;

use super::policy::{Policy, PolicyError, RuleInfo, RuleSource};
use super::suppression::{SUPPRESSION_EXPIRED, SUPPRESSION_MALFORMED};
use super::*;

/// The day suppression expiry is judged on in these tests.
const TODAY: Date = date!(2025 - 06 - 01);

/// The four mandatory tags, compliant, as a flow sequence to drop into a resource.
const TAGS: &str = "[{Key: Environment, Value: dev}, {Key: Owner, Value: platform}, {Key: SecurityLevel, Value: internal}, {Key: IaC_Version, Value: '1.0.0'}]";

fn validate(body: &str) -> ValidationReport {
    validate_template(
        "t.yaml",
        &body.replace("{TAGS}", TAGS),
        &ValidationContext::default(),
    )
}

fn findings_of<'r>(report: &'r ValidationReport, rule: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| f.rule == rule).collect()
}

/// Asserts `rule` fired on `resource` at `line`, under `control`.
fn assert_violation(
    report: &ValidationReport,
    rule: &str,
    control: &str,
    resource: &str,
    line: u32,
) {
    let hits = findings_of(report, rule);
    assert!(
        hits.iter().any(|f| f.resource.as_deref() == Some(resource)
            && f.line == Some(line)
            && f.control.as_deref() == Some(control)
            && f.severity == Severity::Error),
        "expected {rule} ({control}) on {resource} line {line}, got {:#?}",
        report.findings
    );
    assert!(!report.passed);
    assert_eq!(report.controls.get(control), Some(&ControlResult::Failed));
}

fn assert_clean(report: &ValidationReport, rule: &str) {
    let hits = findings_of(report, rule);
    assert!(hits.is_empty(), "{rule} should not fire: {hits:#?}");
    assert!(
        !report.findings.iter().any(|f| f.rule == SYNTAX),
        "{:#?}",
        report.findings
    );
}

// ---------------------------------------------------------------- syntax and structure

#[test]
fn yaml_syntax_error_is_one_e0000_finding_with_its_line() {
    let report = validate("Resources:\n  A:\n    Type: X\n  B: [\n");
    assert!(!report.passed);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].rule, "E0000");
    assert_eq!(report.findings[0].line, Some(5));
}

#[test]
fn unknown_tag_fails_validation_with_its_line() {
    let report = validate("Resources:\n  A:\n    Type: !Bogus X\n");
    let unknown = findings_of(&report, "E0000");
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].line, Some(3));
    assert!(!report.passed);
}

#[test]
fn unknown_tag_is_reported_and_the_rest_still_checked() {
    let report = validate(
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: r\n      Handler: h\n      Runtime: python3.12\n      Code:\n        ZipFile: !Rain::Embed code.py\n",
    );
    let unknown = findings_of(&report, "E0000");
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].line, Some(9));
    assert!(unknown[0].message.contains("!Rain::Embed"));
    // Not a function CloudFormation knows, so not a string either.
    assert_eq!(findings_of(&report, "E3012").len(), 1);
    assert!(!report.passed);
}

#[test]
fn template_without_resources_violates_e1001() {
    let report = validate("Parameters:\n  A:\n    Type: String\n");
    assert_eq!(findings_of(&report, "E1001").len(), 1);
    assert!(!report.passed);
}

#[test]
fn resource_without_type_violates_e3001() {
    let report = validate("Resources:\n  Thing:\n    Properties: {}\n");
    let f = findings_of(&report, "E3001");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].resource.as_deref(), Some("Thing"));
    assert_eq!(f[0].line, Some(2));
}

#[test]
fn dangling_references_are_reported_with_their_lines() {
    let body = "\
Parameters:
  Name:
    Type: String
Resources:
  Log:
    Type: AWS::Logs::LogGroup
    DependsOn: [Ghost]
    Properties:
      LogGroupName: !Ref Missing
      KmsKeyId: !GetAtt Nowhere.Arn
      DataProtectionPolicy: !Sub '${Name}-${AWS::Region}-${Log.Arn}-${!Literal}-${Unknown}'
      Tags:
        - Key: Owner
          Value: !Ref Name
";
    let report = validate(body);
    let line_of = |rule: &str| findings_of(&report, rule).first().and_then(|f| f.line);
    assert_eq!(line_of("E3005"), Some(7));
    assert_eq!(line_of("E1020"), Some(9));
    assert_eq!(line_of("E1010"), Some(10));
    assert_eq!(line_of("E1019"), Some(11));
    let sub = findings_of(&report, "E1019");
    assert_eq!(sub.len(), 1, "only ${{Unknown}} is unresolved: {sub:#?}");
    assert!(sub[0].message.contains("Unknown"));
    assert_eq!(findings_of(&report, "E1020").len(), 1);
}

#[test]
fn pseudo_parameters_and_sub_local_variables_resolve() {
    let body = "\
Resources:
  Log:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub ['${Prefix}-${AWS::StackName}', {Prefix: !Ref AWS::Region}]
";
    let report = validate(body);
    assert!(
        findings_of(&report, "E1019").is_empty(),
        "{:#?}",
        report.findings
    );
    assert!(findings_of(&report, "E1020").is_empty());
}

// ---------------------------------------------------------------- the deployable VPC shape

/// The shape of the catalog's VPC stack: tags from parameters, HTTPS-only ingress, flow logs.
const VPC_STACK: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Environment:
    Type: String
    AllowedValues: [dev, tst, prd]
  Owner:
    Type: String
    Default: platform
  SecurityLevel:
    Type: String
    Default: internal
  IaCVersion:
    Type: String
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.0.0.0/16
      Tags: &tags
        - {Key: Environment, Value: !Ref Environment}
        - {Key: Owner, Value: !Ref Owner}
        - {Key: SecurityLevel, Value: !Ref SecurityLevel}
        - {Key: IaC_Version, Value: !Ref IaCVersion}
  PublicSubnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 4, 8]]
      AvailabilityZone: !Select [0, !GetAZs '']
      Tags: *tags
  InternetGateway:
    Type: AWS::EC2::InternetGateway
    Properties:
      Tags: *tags
  GatewayAttachment:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties:
      VpcId: !Ref Vpc
      InternetGatewayId: !Ref InternetGateway
  RouteTable:
    Type: AWS::EC2::RouteTable
    Properties:
      VpcId: !Ref Vpc
      Tags: *tags
  DefaultRoute:
    Type: AWS::EC2::Route
    DependsOn: GatewayAttachment
    Properties:
      RouteTableId: !Ref RouteTable
      DestinationCidrBlock: 0.0.0.0/0
      GatewayId: !Ref InternetGateway
  WebSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: HTTPS from anywhere
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIpv6: '::/0'}
      Tags: *tags
  FlowLogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub '/infra-agent/${Environment}/vpc-flow-logs'
      RetentionInDays: 365
      Tags: *tags
  FlowLogRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: vpc-flow-logs.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: write-flow-logs
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [logs:CreateLogStream, logs:PutLogEvents, logs:DescribeLogStreams]
                Resource: !GetAtt FlowLogGroup.Arn
      Tags: *tags
  FlowLog:
    Type: AWS::EC2::FlowLog
    Properties:
      ResourceId: !Ref Vpc
      ResourceType: VPC
      TrafficType: ALL
      LogDestinationType: cloud-watch-logs
      LogGroupName: !Ref FlowLogGroup
      DeliverLogsPermissionArn: !GetAtt FlowLogRole.Arn
      Tags: *tags
Outputs:
  VpcId:
    Value: !Ref Vpc
";

fn ctx(pairs: &[(&str, &str)]) -> ValidationContext {
    ValidationContext {
        env: None,
        parameters: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

#[test]
fn vpc_stack_shape_passes_every_rule() {
    let report = validate_template("vpc.yaml", VPC_STACK, &ctx(&[("IaCVersion", "1.4.0")]));
    assert!(report.passed, "{:#?}", report.findings);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    for control in [
        "AU-2", "AU-3", "SC-7", "SC-8", "AC-2", "AC-6", "CM-3", "CM-8",
    ] {
        assert_eq!(
            report.controls.get(control),
            Some(&ControlResult::Passed),
            "{control}"
        );
    }
    assert_eq!(
        report.controls.get("SC-28"),
        Some(&ControlResult::NotApplicable)
    );
}

#[test]
fn environment_tag_resolved_from_context_is_checked_against_allowed_values() {
    let report = validate_template("vpc.yaml", VPC_STACK, &ctx(&[("Environment", "qa")]));
    assert_violation(&report, "cm8_environment_tag_value", "CM-8", "Vpc", 20);
}

#[test]
fn environment_tag_resolves_from_the_target_environment() {
    // The Environment tag reads `qa` (not an allowed value) everywhere but in prd: only the
    // target environment, resolved into the parameter, tells the two apart.
    let body = VPC_STACK
        .replace(
            "Resources:\n",
            "Conditions:\n  IsPrd: !Equals [!Ref Environment, prd]\nResources:\n",
        )
        .replace(
            "{Key: Environment, Value: !Ref Environment}",
            "{Key: Environment, Value: !If [IsPrd, !Ref Environment, qa]}",
        );
    assert_ne!(body, VPC_STACK);
    let in_env = |env| ValidationContext {
        env: Some(env),
        parameters: BTreeMap::new(),
    };
    let prd = validate_template("vpc.yaml", &body, &in_env(Env::Prd));
    assert!(prd.passed, "{:#?}", prd.findings);
    assert_eq!(prd.controls.get("CM-8"), Some(&ControlResult::Passed));

    let dev = validate_template("vpc.yaml", &body, &in_env(Env::Dev));
    assert_violation(&dev, "cm8_environment_tag_value", "CM-8", "Vpc", 22);
}

#[test]
fn security_level_tag_resolved_from_its_default_is_checked() {
    let body = VPC_STACK.replace("    Default: internal", "    Default: secret");
    let report = validate_template("vpc.yaml", &body, &ValidationContext::default());
    assert_violation(&report, "cm8_security_level_tag_value", "CM-8", "Vpc", 22);
}

// ---------------------------------------------------------------- AU

#[test]
fn vpc_without_any_flow_log_violates_au2() {
    let report = validate("Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.0.0.0/16\n      Tags: {TAGS}\n");
    assert_violation(&report, "au2_vpc_flow_logs", "AU-2", "Vpc", 2);
}

#[test]
fn vpc_whose_flow_log_targets_another_vpc_violates_au2() {
    let body = "\
Resources:
  Covered:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16, Tags: {TAGS}}
  Uncovered:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.1.0.0/16, Tags: {TAGS}}
  Log:
    Type: AWS::EC2::FlowLog
    Properties: {ResourceId: !Ref Covered, ResourceType: VPC, TrafficType: ALL, Tags: {TAGS}}
";
    let report = validate(body);
    assert_violation(&report, "au2_vpc_flow_logs", "AU-2", "Uncovered", 5);
    assert!(findings_of(&report, "au2_vpc_flow_logs")
        .iter()
        .all(|f| f.resource.as_deref() == Some("Uncovered")));
}

const EKS_GOOD: &str = "\
Resources:
  Cluster:
    Type: AWS::EKS::Cluster
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/eks
      ResourcesVpcConfig:
        SubnetIds: [subnet-1]
        EndpointPublicAccess: false
        EndpointPrivateAccess: true
      Logging:
        ClusterLogging:
          EnabledTypes: [{Type: api}, {Type: audit}]
      EncryptionConfig:
        - Resources: [secrets]
          Provider: {KeyArn: arn:aws:kms:eu-west-1:123456789012:key/k}
      Tags: {TAGS}
";

#[test]
fn eks_cluster_with_logging_private_endpoint_and_secret_encryption_passes() {
    let report = validate(EKS_GOOD);
    assert!(report.passed, "{:#?}", report.findings);
}

#[test]
fn eks_cluster_without_control_plane_logging_violates_au2() {
    let body = EKS_GOOD.replace(
        "          EnabledTypes: [{Type: api}, {Type: audit}]",
        "          EnabledTypes: []",
    );
    let report = validate(&body);
    assert_violation(
        &report,
        "au2_eks_control_plane_logging",
        "AU-2",
        "Cluster",
        12,
    );
}

#[test]
fn flow_log_of_rejected_traffic_only_violates_au3() {
    let body = "\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16, Tags: {TAGS}}
  Log:
    Type: AWS::EC2::FlowLog
    Properties:
      ResourceId: !Ref Vpc
      ResourceType: VPC
      TrafficType: REJECT
      Tags: {TAGS}
";
    let report = validate(body);
    assert_violation(&report, "au3_flow_log_all_traffic", "AU-3", "Log", 10);
    assert_clean(&report, "au2_vpc_flow_logs");
}

// ---------------------------------------------------------------- SC

fn security_group(ingress: &str) -> String {
    format!(
        "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: x\n      SecurityGroupIngress:\n        - {ingress}\n      Tags: {TAGS}\n"
    )
}

#[test]
fn ingress_from_anywhere_on_port_443_passes_sc7_and_sc8() {
    let report = validate(&security_group(
        "{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}",
    ));
    assert!(report.passed, "{:#?}", report.findings);
}

#[test]
fn ingress_from_anywhere_on_port_22_violates_sc7() {
    let report = validate(&security_group(
        "{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}",
    ));
    assert_violation(&report, "sc7_internet_ingress_https_only", "SC-7", "Sg", 7);
    assert_clean(&report, "sc8_no_internet_http");
}

#[test]
fn ingress_from_a_private_range_on_port_22_passes_sc7() {
    let report = validate(&security_group(
        "{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 10.0.0.0/8}",
    ));
    assert!(report.passed, "{:#?}", report.findings);
}

#[test]
fn ipv6_ingress_from_anywhere_on_port_80_violates_sc7_and_sc8() {
    let report = validate(&security_group(
        "{IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIpv6: '::/0'}",
    ));
    assert_violation(&report, "sc7_internet_ingress_https_only", "SC-7", "Sg", 7);
    assert_violation(&report, "sc8_no_internet_http", "SC-8", "Sg", 7);
}

#[test]
fn separate_ingress_resource_open_on_all_protocols_violates_sc7_and_sc8() {
    let body = "\
Resources:
  Open:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: sg-123
      IpProtocol: '-1'
      CidrIp: 0.0.0.0/0
";
    let report = validate(body);
    assert_violation(
        &report,
        "sc7_internet_ingress_https_only",
        "SC-7",
        "Open",
        4,
    );
    assert_violation(&report, "sc8_no_internet_http", "SC-8", "Open", 6);
}

#[test]
fn separate_ingress_resource_on_port_443_passes_sc7() {
    let body = "\
Resources:
  Https:
    Type: AWS::EC2::SecurityGroupIngress
    Properties: {GroupId: sg-123, IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}
";
    let report = validate(body);
    assert!(report.passed, "{:#?}", report.findings);
    assert_eq!(report.controls.get("SC-7"), Some(&ControlResult::Passed));
}

#[test]
fn eks_cluster_with_public_endpoint_violates_sc7() {
    let body = EKS_GOOD.replace("EndpointPublicAccess: false", "EndpointPublicAccess: true");
    let report = validate(&body);
    assert_violation(&report, "sc7_eks_private_endpoint", "SC-7", "Cluster", 8);
}

const RDS_GOOD: &str = "\
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.micro
      StorageEncrypted: true
      PubliclyAccessible: false
      Tags: {TAGS}
";

#[test]
fn encrypted_private_rds_instance_passes() {
    let report = validate(RDS_GOOD);
    assert!(report.passed, "{:#?}", report.findings);
}

#[test]
fn publicly_accessible_rds_instance_violates_sc7() {
    let report =
        validate(&RDS_GOOD.replace("PubliclyAccessible: false", "PubliclyAccessible: true"));
    assert_violation(&report, "sc7_rds_not_public", "SC-7", "Db", 8);
}

#[test]
fn unencrypted_rds_instance_violates_sc28() {
    let report = validate(&RDS_GOOD.replace("      StorageEncrypted: true\n", ""));
    assert_violation(&report, "sc28_rds_storage_encrypted", "SC-28", "Db", 4);
}

const BUCKET_GOOD: &str = "\
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: aws:kms}
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      Tags: {TAGS}
";

#[test]
fn encrypted_bucket_blocking_public_access_passes() {
    let report = validate(BUCKET_GOOD);
    assert!(report.passed, "{:#?}", report.findings);
    assert_eq!(report.controls.get("SC-28"), Some(&ControlResult::Passed));
}

#[test]
fn bucket_without_encryption_violates_sc28() {
    let body = BUCKET_GOOD.replace(
        "      BucketEncryption:\n        ServerSideEncryptionConfiguration:\n          - ServerSideEncryptionByDefault: {SSEAlgorithm: aws:kms}\n",
        "",
    );
    let report = validate(&body);
    assert_violation(&report, "sc28_s3_bucket_encryption", "SC-28", "Bucket", 4);
}

#[test]
fn bucket_allowing_public_policies_violates_ac6() {
    let body = BUCKET_GOOD.replace("BlockPublicPolicy: true", "BlockPublicPolicy: false");
    let report = validate(&body);
    assert_violation(&report, "ac6_s3_public_access_block", "AC-6", "Bucket", 10);
}

#[test]
fn unencrypted_ebs_volume_violates_sc28() {
    let body = "Resources:\n  Disk:\n    Type: AWS::EC2::Volume\n    Properties:\n      Size: 10\n      AvailabilityZone: eu-west-1a\n      Encrypted: false\n      Tags: {TAGS}\n";
    let report = validate(body);
    assert_violation(&report, "sc28_ebs_volume_encrypted", "SC-28", "Disk", 7);
    let good = validate(&body.replace("Encrypted: false", "Encrypted: true"));
    assert!(good.passed, "{:#?}", good.findings);
}

#[test]
fn eks_cluster_without_secret_encryption_violates_sc28() {
    let body = EKS_GOOD.replace(
        "        - Resources: [secrets]\n",
        "        - Resources: [configmaps]\n",
    );
    let report = validate(&body);
    assert_violation(
        &report,
        "sc28_eks_secrets_encryption",
        "SC-28",
        "Cluster",
        14,
    );
}

// ---------------------------------------------------------------- AC

const ROLE_GOOD: &str = "\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: read
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [s3:GetObject]
                Resource: '*'
      Tags: {TAGS}
";

#[test]
fn role_with_trust_policy_and_scoped_actions_passes() {
    let report = validate(ROLE_GOOD);
    assert!(report.passed, "{:#?}", report.findings);
    assert_eq!(report.controls.get("AC-2"), Some(&ControlResult::Passed));
    assert_eq!(report.controls.get("AC-6"), Some(&ControlResult::Passed));
}

#[test]
fn role_without_trust_policy_violates_ac2() {
    let body = ROLE_GOOD.replace(
        "      AssumeRolePolicyDocument:\n        Statement:\n          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}\n",
        "",
    );
    let report = validate(&body);
    assert_violation(&report, "ac2_role_trust_policy", "AC-2", "Role", 4);
}

#[test]
fn role_inline_policy_allowing_every_action_violates_ac6() {
    let report =
        validate(&ROLE_GOOD.replace("Action: [s3:GetObject]", "Action: [s3:GetObject, '*']"));
    assert_violation(&report, "ac6_no_wildcard_actions", "AC-6", "Role", 13);
}

#[test]
fn managed_policy_allowing_every_action_violates_ac6() {
    let body = "\
Resources:
  Admin:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: '*'
            Resource: '*'
";
    let report = validate(body);
    assert_violation(&report, "ac6_no_wildcard_actions", "AC-6", "Admin", 8);
    let denied = validate(&body.replace("Effect: Allow", "Effect: Deny"));
    assert_clean(&denied, "ac6_no_wildcard_actions");
}

// ---------------------------------------------------------------- CM

#[test]
fn taggable_resource_without_tags_violates_cm8_and_cm3() {
    let report = validate("Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      RetentionInDays: 30\n");
    assert_violation(&report, "cm8_required_tags", "CM-8", "Logs", 4);
    assert_violation(&report, "cm3_iac_version_tag", "CM-3", "Logs", 4);
    let messages: Vec<&str> = findings_of(&report, "cm8_required_tags")
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        messages,
        ["missing mandatory tags Environment, Owner, SecurityLevel, IaC_Version"],
        "one finding per resource naming every missing tag"
    );
}

#[test]
fn resource_missing_only_owner_names_that_tag() {
    let tags = TAGS.replace("{Key: Owner, Value: platform}, ", "");
    let body = format!(
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      Tags: {tags}\n"
    );
    let report = validate_template("t.yaml", &body, &ValidationContext::default());
    let hits = findings_of(&report, "cm8_required_tags");
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert!(hits[0].message.contains("Owner"));
    assert_eq!(hits[0].line, Some(5));
    assert_clean(&report, "cm3_iac_version_tag");
}

#[test]
fn environment_tag_outside_dev_tst_prd_violates_cm8() {
    let body = "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.0.0.0/16\n      Tags: {TAGS}\n";
    let report = validate_template(
        "t.yaml",
        &body.replace("{TAGS}", &TAGS.replace("Value: dev", "Value: qa")),
        &ValidationContext::default(),
    );
    assert_violation(&report, "cm8_environment_tag_value", "CM-8", "Vpc", 6);
}

#[test]
fn unresolvable_tag_ref_is_not_judged_but_missing_tags_are() {
    let body = "\
Parameters:
  Level: {Type: String}
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: x
      Tags:
        - {Key: SecurityLevel, Value: !Ref Level}
";
    let report = validate(body);
    assert_clean(&report, "cm8_security_level_tag_value");
    assert_violation(&report, "cm8_required_tags", "CM-8", "Sg", 8);
}

#[test]
fn nodegroup_map_tags_are_checked() {
    let body = "\
Resources:
  Nodes:
    Type: AWS::EKS::Nodegroup
    Properties:
      ClusterName: c
      NodeRole: arn:aws:iam::123456789012:role/n
      Subnets: [subnet-1]
      Tags: {Environment: dev, Owner: o, SecurityLevel: top-secret}
";
    let report = validate(body);
    assert_violation(&report, "cm8_required_tags", "CM-8", "Nodes", 8);
    assert_violation(&report, "cm8_security_level_tag_value", "CM-8", "Nodes", 8);
    assert_violation(&report, "cm3_iac_version_tag", "CM-3", "Nodes", 8);
}

#[test]
fn untaggable_resources_leave_tag_controls_not_applicable() {
    let report = validate("Resources:\n  Assoc:\n    Type: AWS::EC2::SubnetRouteTableAssociation\n    Properties:\n      RouteTableId: rtb-1\n      SubnetId: subnet-1\n");
    assert!(report.passed, "{:#?}", report.findings);
    assert_eq!(
        report.controls.get("CM-8"),
        Some(&ControlResult::NotApplicable)
    );
    assert_eq!(
        report.controls.get("AU-2"),
        Some(&ControlResult::NotApplicable)
    );
}

#[test]
fn taggable_types_are_judged_whether_or_not_a_rule_names_them() {
    let body = "\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: t
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Subnets: [subnet-1, subnet-2]
      Tags: {TAGS}
";
    let report = validate(body);
    assert_violation(&report, "cm8_required_tags", "CM-8", "Topic", 4);
    assert_violation(&report, "cm3_iac_version_tag", "CM-3", "Topic", 4);
    let judged: Vec<_> = findings_of(&report, "cm8_required_tags")
        .iter()
        .filter_map(|f| f.resource.as_deref())
        .collect();
    assert_eq!(judged, ["Topic"], "the tagged load balancer passes");
    let tagged = validate(&body.replace("TopicName: t", "TopicName: t\n      Tags: {TAGS}"));
    assert_eq!(
        tagged.controls.get("CM-8"),
        Some(&ControlResult::Passed),
        "{:#?}",
        tagged.findings
    );
}

#[test]
fn map_tagged_types_are_judged_by_their_map_of_tags() {
    let body = "\
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: v
      Tags: {Environment: dev, Owner: o, SecurityLevel: internal, IaC_Version: '1.0.0'}
  Nodes:
    Type: AWS::EKS::Nodegroup
    Properties:
      ClusterName: c
      NodeRole: arn:aws:iam::123456789012:role/n
      Subnets: [subnet-1]
      Tags: {Environment: dev, Owner: o, SecurityLevel: internal, IaC_Version: '1.0.0'}
";
    let report = validate(body);
    assert_eq!(
        report.controls.get("CM-8"),
        Some(&ControlResult::Passed),
        "{:#?}",
        report.findings
    );
    let report = validate(&body.replace("Environment: dev, Owner: o, ", ""));
    assert_violation(&report, "cm8_required_tags", "CM-8", "Param", 7);
    assert_violation(&report, "cm8_required_tags", "CM-8", "Nodes", 14);
}

#[test]
fn tags_held_outside_a_tags_property_are_not_judged_here() {
    let body = "\
Resources:
  Lt:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        InstanceType: t3.micro
";
    let report = validate(body);
    assert!(findings_of(&report, "cm8_required_tags").is_empty());
    assert_eq!(
        report.controls.get("CM-8"),
        Some(&ControlResult::NotApplicable)
    );
}

#[test]
fn template_cannot_switch_off_tag_checks_with_its_own_tag_shape() {
    for written in [
        "TagShape: none",
        "TagShape: map",
        "tagShape: none",
        "tag_shape: none",
    ] {
        let body = format!(
            "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    {written}\n    Properties:\n      TopicName: t\n"
        );
        let report = validate(&body);
        assert_violation(&report, "cm8_required_tags", "CM-8", "Topic", 5);
        assert_violation(&report, "cm3_iac_version_tag", "CM-3", "Topic", 5);
    }
    // Nor switch them on for a type that takes no tags.
    let body = "Resources:\n  Assoc:\n    Type: AWS::EC2::SubnetRouteTableAssociation\n    TagShape: list\n    Properties:\n      RouteTableId: rtb-1\n      SubnetId: subnet-1\n";
    let report = validate(body);
    assert!(findings_of(&report, "cm8_required_tags").is_empty());
    assert_eq!(
        report.controls.get("CM-8"),
        Some(&ControlResult::NotApplicable)
    );
}

#[test]
fn json_template_findings_carry_json_lines() {
    let body = "{\n  \"Resources\": {\n    \"Logs\": {\n      \"Type\": \"AWS::Logs::LogGroup\",\n      \"Properties\": {\"RetentionInDays\": 30}\n    }\n  }\n}\n";
    let report = validate(body);
    assert_violation(&report, "cm3_iac_version_tag", "CM-3", "Logs", 5);
}

// ---------------------------------------------------------------- the policy itself, failing closed

#[test]
fn shipped_policy_has_a_header_for_every_rule() {
    let policy = match Policy::shipped() {
        Ok(p) => p,
        Err(e) => panic!("shipped policy must load: {e}"),
    };
    assert_eq!(policy.rules.len(), 18);
    for control in [
        "AU-2", "AU-3", "SC-7", "SC-8", "SC-28", "AC-2", "AC-6", "CM-3", "CM-8",
    ] {
        assert!(
            policy.rules.iter().any(|r| r.control == control),
            "{control}"
        );
    }
}

#[test]
fn rules_file_guard_cannot_parse_is_rejected() {
    let broken = RuleSource {
        file: "broken.guard",
        text: "# Control: SC-7\n# Severity: error\nrule broken {\n  Resources.*[ Type == \n",
    };
    assert!(matches!(
        Policy::new(&[broken]),
        Err(PolicyError::RulesInvalid { .. })
    ));
}

#[test]
fn rule_without_header_is_rejected() {
    let unlabelled = RuleSource {
        file: "x.guard",
        text: "rule anything {\n  Resources exists\n}\n",
    };
    assert!(matches!(
        Policy::new(&[unlabelled]),
        Err(PolicyError::MissingHeader { .. })
    ));
}

#[test]
fn guard_failing_to_run_fails_validation_closed() {
    // Built by hand to get past `Policy::new`'s own parse check, as a guard upgrade might.
    let policy = Policy::unchecked(
        &[RuleSource {
            file: "broken.guard",
            text: "rule broken {\n  Resources.*[ Type == \n",
        }],
        vec![RuleInfo {
            name: "broken".into(),
            control: "SC-7".into(),
            severity: Severity::Error,
        }],
    );
    let report = validate_with_policy(
        "t.yaml",
        VPC_STACK,
        &ValidationContext::default(),
        &policy,
        TODAY,
    );
    assert!(!report.passed);
    assert!(report
        .findings
        .iter()
        .any(|f| f.rule == SYNTAX && f.severity == Severity::Error));
}

#[test]
fn rule_guard_never_evaluated_fails_validation_closed() {
    let policy = Policy::unchecked(
        &[RuleSource {
            file: "one.guard",
            text: "rule present {\n  Resources exists\n}\n",
        }],
        vec![
            RuleInfo {
                name: "present".into(),
                control: "CM-8".into(),
                severity: Severity::Error,
            },
            RuleInfo {
                name: "absent".into(),
                control: "CM-8".into(),
                severity: Severity::Error,
            },
        ],
    );
    let report = validate_with_policy(
        "t.yaml",
        VPC_STACK,
        &ValidationContext::default(),
        &policy,
        TODAY,
    );
    assert!(!report.passed);
    assert!(report.findings.iter().any(|f| f.message.contains("absent")));
}

// ---------------------------------------------------------------- suppressions

/// A security group open on port 22 to the internet (violates SC-7), with `{SUPPRESS}` to fill
/// with the resource's suppression list.
const OPEN_SSH: &str = "\
Resources:
  Bastion:
    Type: AWS::EC2::SecurityGroup
    Metadata:
      infra-agent:
        suppress: {SUPPRESS}
    Properties:
      GroupDescription: bastion
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}
      Tags: {TAGS}
";

fn validate_suppressed(suppress: &str) -> ValidationReport {
    let body = OPEN_SSH
        .replace("{SUPPRESS}", suppress)
        .replace("{TAGS}", TAGS);
    let policy = Policy::shipped().expect("shipped policy loads");
    validate_with_policy(
        "t.yaml",
        &body,
        &ValidationContext::default(),
        policy,
        TODAY,
    )
}

#[test]
fn unsuppressed_open_ssh_fails_sc7() {
    let report = validate_suppressed("[]");
    assert_violation(
        &report,
        "sc7_internet_ingress_https_only",
        "SC-7",
        "Bastion",
        10,
    );
    assert!(report.suppressed.is_empty());
}

#[test]
fn suppression_by_rule_name_waives_the_finding_and_is_reported() {
    let report = validate_suppressed(
        "[{rule: sc7_internet_ingress_https_only, reason: break-glass bastion, owner: sec-team, expires: 2025-12-31}]",
    );
    assert!(report.passed, "{:#?}", report.findings);
    assert_clean(&report, "sc7_internet_ingress_https_only");
    assert_eq!(report.controls.get("SC-7"), Some(&ControlResult::Passed));
    assert!(!report.suppressed.is_empty());
    for waived in &report.suppressed {
        assert_eq!(waived.finding.rule, "sc7_internet_ingress_https_only");
        assert_eq!(waived.finding.resource.as_deref(), Some("Bastion"));
        assert_eq!(waived.suppression.owner, "sec-team");
        assert_eq!(waived.suppression.reason, "break-glass bastion");
        assert_eq!(waived.suppression.expires, "2025-12-31");
    }
}

/// Two resources that break two different SC-7 rules, each suppressing `{SUPPRESS}`.
const TWO_SC7_RULES: &str = "\
Resources:
  Bastion:
    Type: AWS::EC2::SecurityGroup
    Metadata:
      infra-agent:
        suppress: {SUPPRESS}
    Properties:
      GroupDescription: bastion
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}
      Tags: {TAGS}
  Db:
    Type: AWS::RDS::DBInstance
    Metadata:
      infra-agent:
        suppress: {SUPPRESS}
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.micro
      StorageEncrypted: true
      PubliclyAccessible: true
      Tags: {TAGS}
";

#[test]
fn suppression_by_nist_control_waives_every_rule_of_that_control() {
    let validate_with = |suppress: &str| {
        let body = TWO_SC7_RULES
            .replace("{SUPPRESS}", suppress)
            .replace("{TAGS}", TAGS);
        let policy = Policy::shipped().expect("shipped policy loads");
        validate_with_policy(
            "t.yaml",
            &body,
            &ValidationContext::default(),
            policy,
            TODAY,
        )
    };
    let sc7_rules = |findings: Vec<&Finding>| {
        let mut rules: Vec<(String, String)> = findings
            .into_iter()
            .map(|f| (f.rule.clone(), f.resource.clone().unwrap_or_default()))
            .collect();
        rules.sort();
        rules
    };
    let expected = vec![
        (
            "sc7_internet_ingress_https_only".to_string(),
            "Bastion".to_string(),
        ),
        ("sc7_rds_not_public".to_string(), "Db".to_string()),
    ];

    let unsuppressed = validate_with("[]");
    let violations = unsuppressed
        .findings
        .iter()
        .filter(|f| f.control.as_deref() == Some("SC-7"))
        .collect();
    assert_eq!(
        sc7_rules(violations),
        expected,
        "{:#?}",
        unsuppressed.findings
    );

    let report =
        validate_with("[{rule: SC-7, reason: bastion, owner: sec-team, expires: '2025-06-01'}]");
    assert!(report.passed, "{:#?}", report.findings);
    assert_eq!(report.controls.get("SC-7"), Some(&ControlResult::Passed));
    let waived = report.suppressed.iter().map(|s| &s.finding).collect();
    assert_eq!(sc7_rules(waived), expected, "{:#?}", report.suppressed);
    for waived in &report.suppressed {
        assert_eq!(waived.finding.control.as_deref(), Some("SC-7"));
        assert_eq!(waived.suppression.rule, "SC-7");
    }
}

#[test]
fn suppression_by_structural_rule_id_waives_that_finding() {
    let body = "\
Resources:
  Log:
    Type: AWS::Logs::LogGroup
    Metadata:
      infra-agent:
        suppress:
          - {rule: E1020, reason: injected by a macro, owner: platform, expires: 2030-01-01}
    Properties:
      LogGroupName: !Ref FromMacro
      Tags: {TAGS}
";
    let body = body.replace("{TAGS}", TAGS);
    let policy = Policy::shipped().expect("shipped policy loads");
    let report = validate_with_policy(
        "t.yaml",
        &body,
        &ValidationContext::default(),
        policy,
        TODAY,
    );
    assert!(
        findings_of(&report, "E1020").is_empty(),
        "{:#?}",
        report.findings
    );
    assert_eq!(report.suppressed.len(), 1);
    assert_eq!(report.suppressed[0].finding.rule, "E1020");
}

#[test]
fn suppression_by_retired_cfn_lint_id_still_waives_its_finding() {
    let body = "\
Resources:
  Log:
    Type: AWS::Logs::LogGroup
    Metadata:
      infra-agent:
        suppress:
          - {rule: E1012, reason: injected by a macro, owner: platform, expires: 2030-01-01}
    Properties:
      LogGroupName: !Ref FromMacro
      Tags: {TAGS}
";
    let body = body.replace("{TAGS}", TAGS);
    let policy = Policy::shipped().expect("shipped policy loads");
    let report = validate_with_policy(
        "t.yaml",
        &body,
        &ValidationContext::default(),
        policy,
        TODAY,
    );
    assert!(
        findings_of(&report, "E1020").is_empty(),
        "{:#?}",
        report.findings
    );
    assert_eq!(report.suppressed.len(), 1);
    assert_eq!(report.suppressed[0].finding.rule, "E1020");
    assert_eq!(report.suppressed[0].suppression.rule, "E1012");
}

#[test]
fn suppression_waives_only_its_own_resource() {
    let body = OPEN_SSH
        .replace(
            "{SUPPRESS}",
            "[{rule: SC-7, reason: bastion, owner: sec-team, expires: 2025-12-31}]",
        )
        .replace("{TAGS}", TAGS);
    let second = "  Other:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: o\n      SecurityGroupIngress:\n        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}\n      Tags: {TAGS}\n";
    let body = format!("{body}{}", second.replace("{TAGS}", TAGS));
    let policy = Policy::shipped().expect("shipped policy loads");
    let report = validate_with_policy(
        "t.yaml",
        &body,
        &ValidationContext::default(),
        policy,
        TODAY,
    );
    assert_violation(
        &report,
        "sc7_internet_ingress_https_only",
        "SC-7",
        "Other",
        17,
    );
    assert!(findings_of(&report, "sc7_internet_ingress_https_only")
        .iter()
        .all(|f| f.resource.as_deref() == Some("Other")));
}

#[test]
fn expired_suppression_does_not_suppress_and_warns() {
    let report = validate_suppressed(
        "[{rule: SC-7, reason: bastion, owner: sec-team, expires: 2025-05-31}]",
    );
    assert_violation(
        &report,
        "sc7_internet_ingress_https_only",
        "SC-7",
        "Bastion",
        10,
    );
    assert!(report.suppressed.is_empty());
    let expired = findings_of(&report, SUPPRESSION_EXPIRED);
    assert_eq!(expired.len(), 1, "{:#?}", report.findings);
    assert_eq!(expired[0].severity, Severity::Warning);
    assert_eq!(expired[0].resource.as_deref(), Some("Bastion"));
    assert_eq!(expired[0].line, Some(6));
    assert!(expired[0].message.contains("2025-05-31"));
}

#[test]
fn suppression_missing_fields_is_an_error_naming_resource_line_and_fields() {
    let report = validate_suppressed("\n          - {rule: SC-7, reason: bastion}");
    assert!(!report.passed);
    assert!(
        report.suppressed.is_empty(),
        "a malformed waiver waives nothing"
    );
    assert_violation(
        &report,
        "sc7_internet_ingress_https_only",
        "SC-7",
        "Bastion",
        11,
    );
    let malformed = findings_of(&report, SUPPRESSION_MALFORMED);
    assert_eq!(malformed.len(), 1, "{:#?}", report.findings);
    let f = malformed[0];
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.resource.as_deref(), Some("Bastion"));
    assert_eq!(f.line, Some(7));
    assert!(f.message.contains("Bastion"), "{}", f.message);
    assert!(f.message.contains("owner, expires"), "{}", f.message);
}

#[test]
fn suppression_with_a_non_iso_expiry_is_malformed() {
    let report =
        validate_suppressed("[{rule: SC-7, reason: bastion, owner: sec-team, expires: next year}]");
    let malformed = findings_of(&report, SUPPRESSION_MALFORMED);
    assert_eq!(malformed.len(), 1, "{:#?}", report.findings);
    assert!(malformed[0].message.contains("next year"));
    assert!(!report.passed);
}

#[test]
fn suppress_that_is_not_a_list_is_malformed() {
    let report = validate_suppressed("SC-7");
    let malformed = findings_of(&report, SUPPRESSION_MALFORMED);
    assert_eq!(malformed.len(), 1, "{:#?}", report.findings);
    assert_eq!(malformed[0].line, Some(6));
}

// ---------------------------------------------------------------- what guard is shown

#[test]
fn every_shipped_rules_file_selects_resources_by_type_or_tag_shape_only() {
    for source in policy::RULE_FILES {
        let selected = policy::selected_resources(source.text);
        assert!(
            selected
                .as_ref()
                .is_some_and(|s| !s.types.is_empty() || s.tag_shaped),
            "{} would be run on every resource: {selected:?}",
            source.file
        );
    }
}

#[test]
fn tag_rules_select_resources_by_their_derived_tag_shape() {
    let cm = policy::RULE_FILES.iter().find(|s| s.file == "cm.guard");
    let selected = cm.and_then(|s| policy::selected_resources(s.text));
    assert_eq!(
        selected,
        Some(policy::SelectedResources {
            types: Default::default(),
            tag_shaped: true,
        })
    );
    let negated = "let x = Resources.*[ not TagShape == 'list' ]\n";
    assert_eq!(policy::selected_resources(negated), None);
    let other = "let x = Resources.*[ TagShape != 'list' ]\n";
    assert_eq!(policy::selected_resources(other), None);
}

#[test]
fn rules_file_querying_resources_without_a_type_filter_sees_every_resource() {
    let text = "rule any {\n  Resources.*.Properties exists\n}\n";
    assert_eq!(policy::selected_resources(text), None);
    let widened = "let x = Resources.*[ Type == 'AWS::S3::Bucket' or Properties.Tags exists ]\n";
    assert_eq!(policy::selected_resources(widened), None);
    let by_type = "let x = Resources.*[ Type == 'AWS::S3::Bucket' ]\nrule r { %x.Properties.EncryptionConfig[*].Resources[*] exists }\n";
    assert_eq!(
        policy::selected_resources(by_type).map(|s| s.types),
        Some(["AWS::S3::Bucket".to_string()].into_iter().collect())
    );
}

#[test]
fn warnings_alone_pass_the_gate_and_are_suppressible_on_their_resource() {
    let body = "\
Parameters:
  Unused: {Type: String}
Resources:
  Log:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub plain-name
      Tags: {TAGS}
";
    let report = validate(body);
    assert!(report.passed, "{:#?}", report.findings);
    let rules: Vec<(&str, Severity, Option<u32>)> = report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity, f.line))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("W2001", Severity::Warning, Some(2)),
            ("W1020", Severity::Warning, Some(7))
        ]
    );
    let waived = body.replace(
        "    Properties:\n",
        "    Metadata:\n      infra-agent:\n        suppress:\n          - {rule: W1020, reason: kept for later variables, owner: platform, expires: 2030-01-01}\n    Properties:\n",
    );
    let report = validate_with_policy(
        "t.yaml",
        &waived.replace("{TAGS}", TAGS),
        &ValidationContext::default(),
        Policy::shipped().expect("shipped policy loads"),
        TODAY,
    );
    assert!(report.passed);
    assert!(
        findings_of(&report, "W1020").is_empty(),
        "{:#?}",
        report.findings
    );
    assert_eq!(report.suppressed.len(), 1);
    assert_eq!(report.suppressed[0].finding.rule, "W1020");
}

#[test]
fn the_templates_own_metadata_waives_findings_about_no_resource_and_nothing_on_a_resource() {
    let body = "\
Metadata:
  infra-agent:
    suppress:
      - {rule: W2001, reason: read by a macro we do not expand, owner: platform, expires: 2030-01-01}
      - {rule: W1020, reason: not a resource's to waive, owner: platform, expires: 2030-01-01}
Parameters:
  Unused: {Type: String}
Resources:
  Log:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub plain-name
      Tags: {TAGS}
";
    let report = validate(body);

    assert!(report.passed, "{:#?}", report.findings);
    assert!(
        findings_of(&report, "W2001").is_empty(),
        "{:#?}",
        report.findings
    );
    assert_eq!(report.suppressed.len(), 1, "{:#?}", report.suppressed);
    assert_eq!(report.suppressed[0].finding.rule, "W2001");
    assert_eq!(report.suppressed[0].finding.resource, None);
    assert_eq!(
        findings_of(&report, "W1020").len(),
        1,
        "a template-level waiver never waives a finding on a resource: {:#?}",
        report.findings
    );
}

#[test]
fn a_malformed_template_level_suppression_is_an_error_naming_the_template() {
    let body = "\
Metadata:
  infra-agent:
    suppress:
      - {rule: W2001, owner: platform, expires: 2030-01-01}
Resources:
  Log:
    Type: AWS::Logs::LogGroup
    Properties:
      Tags: {TAGS}
";
    let report = validate(body);

    assert!(!report.passed);
    let malformed = findings_of(&report, "suppression_malformed");
    assert_eq!(malformed.len(), 1, "{:#?}", report.findings);
    assert!(
        malformed[0].message.contains("of the template"),
        "{}",
        malformed[0].message
    );
    assert!(
        malformed[0].message.contains("reason"),
        "{}",
        malformed[0].message
    );
    assert_eq!(malformed[0].resource, None);
    assert_eq!(malformed[0].line, Some(4));
}

// ---------------------------------------------------------------- Rules, passwords, registry types

/// The `Rules` examples of the AWS documentation (rules-section-structure) over a compliant
/// resource.
const DOCUMENTED_RULES: &str = "\
Parameters:
  Environment: {Type: String, AllowedValues: [test, prod], Default: test}
  InstanceType: {Type: String, Default: a1.medium}
  VpcId: {Type: AWS::EC2::VPC::Id}
Rules:
  testInstanceType:
    RuleCondition: !Equals
      - !Ref Environment
      - test
    Assertions:
      - Assert:
          'Fn::Contains':
            - - a1.medium
            - !Ref InstanceType
        AssertDescription: 'For a test environment, the instance type must be a1.medium'
  prodInstanceType:
    RuleCondition: !Equals
      - !Ref Environment
      - prod
    Assertions:
      - Assert:
          'Fn::Contains':
            - - a1.large
            - !Ref InstanceType
        AssertDescription: 'For a production environment, the instance type must be a1.large'
  SubnetsInVPC:
    Assertions:
      - Assert:
          'Fn::EachMemberEquals':
            - 'Fn::ValueOfAll':
                - 'AWS::EC2::Subnet::Id'
                - VpcId
            - Ref: VpcId
        AssertDescription: All subnets must in the VPC
Resources:
  Log:
    Type: AWS::Logs::LogGroup
    Properties:
      Tags: {TAGS}
";

#[test]
fn documented_rules_section_passes_with_no_finding() {
    let report = validate(DOCUMENTED_RULES);
    assert!(report.passed);
    assert_eq!(report.findings, vec![]);
    assert!(report.suppressed.is_empty());
}

#[test]
fn rule_functions_in_short_form_are_read_not_reported_as_unknown_tags() {
    let body = DOCUMENTED_RULES
        .replace(
            "      - Assert:\n          'Fn::Contains':\n            - - a1.large\n            - !Ref InstanceType\n",
            "      - Assert: !Contains [[a1.large], !Ref InstanceType]\n",
        )
        .replace(
            "        AssertDescription: All subnets must in the VPC\n",
            "        AssertDescription: All subnets must in the VPC\n      - Assert: !EachMemberIn [!ValueOfAll [AWS::EC2::Subnet::Id, VpcId], !RefAll AWS::EC2::VPC::Id]\n      - Assert: !Not [!EachMemberEquals [[default], !ValueOf [VpcId, Tags.Name]]]\n",
        );
    assert!(body.contains("!Contains") && body.contains("!ValueOf [VpcId"));
    let report = validate(&body);
    assert_eq!(report.findings, vec![]);
}

#[test]
fn a_broken_rule_fails_the_gate_at_its_line() {
    let body = DOCUMENTED_RULES.replace("            - Ref: VpcId\n", "");
    let report = validate(&body);
    assert!(!report.passed);
    let hits = findings_of(&report, "E1701");
    assert_eq!(hits.len(), 1, "{:#?}", report.findings);
    assert_eq!(hits[0].line, Some(29));
    assert_eq!(hits[0].resource, None);
}

/// A database whose password parameter is not `NoEcho`, and a third-party registry type.
const PASSWORD_AND_REGISTRY_TYPE: &str = "\
Parameters:
  DbPassword: {Type: String}
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.micro
      StorageEncrypted: true
      PubliclyAccessible: false
      MasterUsername: admin
      MasterUserPassword: !Ref DbPassword
      Tags: {TAGS}
  Chart:
    Type: AWSQS::Kubernetes::Helm
    Properties:
      Chart: stable/nginx
";

#[test]
fn password_and_registry_type_warnings_pass_the_gate() {
    let report = validate(PASSWORD_AND_REGISTRY_TYPE);
    assert!(report.passed, "{:#?}", report.findings);
    let found: Vec<(&str, Severity, Option<&str>, Option<u32>)> = report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity, f.resource.as_deref(), f.line))
        .collect();
    assert_eq!(
        found,
        vec![
            ("W2501", Severity::Warning, None, Some(2)),
            ("E3006", Severity::Warning, Some("Chart"), Some(15)),
        ]
    );
}

#[test]
fn password_and_registry_type_warnings_are_suppressible_like_errors() {
    let body = format!(
        "Metadata:\n  infra-agent:\n    suppress:\n      - {{rule: W2501, reason: rotated by the stack's owner, owner: platform, expires: 2030-01-01}}\n{}",
        PASSWORD_AND_REGISTRY_TYPE.replace(
            "    Type: AWSQS::Kubernetes::Helm\n",
            "    Type: AWSQS::Kubernetes::Helm\n    Metadata:\n      infra-agent:\n        suppress:\n          - {rule: E3006, reason: registered in every account, owner: platform, expires: 2030-01-01}\n",
        )
    );
    let report = validate(&body);
    assert!(report.passed);
    assert_eq!(report.findings, vec![], "{:#?}", report.findings);
    let waived: Vec<&str> = report
        .suppressed
        .iter()
        .map(|s| s.finding.rule.as_str())
        .collect();
    assert_eq!(waived, ["W2501", "E3006"]);
}

#[test]
fn json_policy_closed_under_its_key_validates_without_a_syntax_finding() {
    let report = validate(crate::template::KMS_FLOW_POLICY_FOR_TESTS);
    assert!(
        !report.findings.iter().any(|f| f.rule == SYNTAX),
        "{:#?}",
        report.findings
    );
}
