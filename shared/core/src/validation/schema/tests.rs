use super::*;
use crate::template::Template;
use crate::validation::{Finding, Severity};

fn findings(body: &str) -> Vec<Finding> {
    match Template::parse("test.yaml", body) {
        Ok(template) => check(&template),
        Err(e) => panic!("test template does not parse: {e}"),
    }
}

/// (rule, resource, line) of each finding, for compact assertions.
fn located(body: &str) -> Vec<(String, Option<String>, Option<u32>)> {
    findings(body)
        .into_iter()
        .map(|f| (f.rule, f.resource, f.line))
        .collect()
}

fn one(rule: &str, resource: &str, line: u32) -> Vec<(String, Option<String>, Option<u32>)> {
    vec![(rule.to_string(), Some(resource.to_string()), Some(line))]
}

#[test]
fn embedded_registry_loads_and_names_its_source() {
    let registry = registry().expect("embedded schemas load");
    assert!(
        registry.source.starts_with("cfn-lint "),
        "{}",
        registry.source
    );
    assert!(registry.type_count() > 1000);
    assert!(registry.resource("AWS::S3::Bucket").is_some());
}

#[test]
fn taggability_comes_from_the_schema() {
    assert_eq!(taggable("AWS::S3::Bucket"), Some(true));
    assert_eq!(tag_property("AWS::S3::Bucket"), Some("Tags"));
    assert_eq!(
        taggable("AWS::EC2::SubnetRouteTableAssociation"),
        Some(false)
    );
    assert_eq!(tag_property("AWS::EC2::SubnetRouteTableAssociation"), None);
    assert_eq!(taggable("Custom::Anything"), None);
    assert_eq!(taggable("AWS::Nope::Nothing"), None);
}

#[test]
fn attribute_wildcards_match_any_text() {
    assert!(wildcard_match("Outputs.*", "Outputs.VpcId"));
    assert!(wildcard_match("A.*.B", "A.0.B"));
    assert!(!wildcard_match("A.*.B", "A.0.C"));
    assert!(!wildcard_match("Outputs.*", "Output"));
    assert!(wildcard_match("*", ""));
}

const VALID: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Env:
    Type: String
Conditions:
  IsPrd: !Equals [!Ref Env, prd]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.0.0.0/16
      EnableDnsSupport: true
      Tags:
        - Key: Env
          Value: !Ref Env
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 4, 8]]
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: HTTPS in
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 0.0.0.0/0
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 365
  FlowLog:
    Type: AWS::EC2::FlowLog
    Properties:
      ResourceId: !Ref Vpc
      ResourceType: VPC
      TrafficType: ALL
      LogGroupName: !Ref Logs
Outputs:
  VpcCidr:
    Value: !GetAtt Vpc.CidrBlock
  GroupId:
    Value: !GetAtt [Group, GroupId]
";

#[test]
fn a_template_that_fits_the_schemas_has_no_findings() {
    assert_eq!(findings(VALID), Vec::new());
}

#[test]
fn unknown_property_is_reported_with_its_path_and_line() {
    let body = VALID.replace(
        "      EnableDnsSupport: true\n",
        "      EnableDnsSuport: true\n",
    );
    let found = findings(&body);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, UNKNOWN_PROPERTY);
    assert_eq!(found[0].resource.as_deref(), Some("Vpc"));
    assert_eq!(found[0].resource_type.as_deref(), Some("AWS::EC2::VPC"));
    assert_eq!(found[0].line, Some(12));
    assert!(
        found[0]
            .message
            .contains("resource Vpc Properties.EnableDnsSuport"),
        "{}",
        found[0].message
    );
}

#[test]
fn unknown_nested_property_is_reported_inside_lists() {
    let body = VALID.replace(
        "          CidrIp: 0.0.0.0/0\n",
        "          CidrIpv5: 0.0.0.0/0\n",
    );
    assert_eq!(located(&body), one(UNKNOWN_PROPERTY, "Group", 30));
    let message = &findings(&body)[0].message;
    assert!(
        message.contains("Properties.SecurityGroupIngress[0].CidrIpv5"),
        "{message}"
    );
}

#[test]
fn missing_required_property_is_reported_at_its_parent() {
    let body = VALID.replace("      GroupDescription: HTTPS in\n", "");
    assert_eq!(located(&body), one(REQUIRED_PROPERTY, "Group", 23));
    let nested = VALID.replace(
        "        - IpProtocol: tcp\n          FromPort",
        "        - FromPort",
    );
    assert_eq!(located(&nested), one(REQUIRED_PROPERTY, "Group", 27));
}

#[test]
fn missing_properties_section_reports_required_properties_at_the_resource() {
    let body = "\
Resources:
  Assoc:
    Type: AWS::EC2::SubnetRouteTableAssociation
";
    let found = located(body);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found
        .iter()
        .all(|f| f.0 == REQUIRED_PROPERTY && f.2 == Some(2)));
}

#[test]
fn wrong_type_is_reported() {
    let body = VALID.replace("EnableDnsSupport: true", "EnableDnsSupport: [true]");
    assert_eq!(located(&body), one(PROPERTY_TYPE, "Vpc", 12));
    let body = VALID.replace("RetentionInDays: 365", "RetentionInDays: a year");
    assert_eq!(located(&body), one(PROPERTY_TYPE, "Logs", 34));
    let body = VALID.replace("GroupDescription: HTTPS in", "GroupDescription: {Text: x}");
    assert_eq!(located(&body), one(PROPERTY_TYPE, "Group", 24));
}

#[test]
fn cloudformation_coercions_are_accepted() {
    for (from, to) in [
        ("EnableDnsSupport: true", "EnableDnsSupport: 'true'"),
        ("EnableDnsSupport: true", "EnableDnsSupport: 'False'"),
        ("RetentionInDays: 365", "RetentionInDays: '365'"),
        ("FromPort: 443", "FromPort: '443'"),
        ("GroupDescription: HTTPS in", "GroupDescription: 42"),
        ("GroupDescription: HTTPS in", "GroupDescription: true"),
        ("CidrIp: 0.0.0.0/0", "CidrIp: '{{resolve:ssm:/net/cidr}}'"),
    ] {
        let body = VALID.replace(from, to);
        assert_eq!(findings(&body), Vec::new(), "{to}");
    }
}

#[test]
fn intrinsic_functions_are_accepted_as_any_type() {
    for (from, to) in [
        ("EnableDnsSupport: true", "EnableDnsSupport: !Ref Env"),
        ("EnableDnsSupport: true", "EnableDnsSupport: !Sub '${Env}'"),
        (
            "RetentionInDays: 365",
            "RetentionInDays: !FindInMap [A, B, C]",
        ),
        ("TrafficType: ALL", "TrafficType: !Ref Env"),
        (
            "SecurityGroupIngress:",
            "SecurityGroupIngress: !If [IsPrd, [], !Ref AWS::NoValue]\n      SecurityGroupEgress:",
        ),
        (
            "EnableDnsSupport: true",
            "EnableDnsSupport: !If [IsPrd, true, !Ref AWS::NoValue]",
        ),
    ] {
        let body = VALID.replace(from, to);
        assert_eq!(findings(&body), Vec::new(), "{to}");
    }
}

#[test]
fn each_branch_of_a_condition_is_checked() {
    let body = VALID.replace(
        "EnableDnsSupport: true",
        "EnableDnsSupport: !If [IsPrd, true, [false]]",
    );
    let found = findings(&body);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, PROPERTY_TYPE);
    assert!(
        found[0].message.contains("Fn::If[2]"),
        "{}",
        found[0].message
    );
}

#[test]
fn enum_values_are_checked_on_literal_strings_only() {
    let body = VALID.replace("TrafficType: ALL", "TrafficType: EVERYTHING");
    assert_eq!(located(&body), one(ENUM_VALUE, "FlowLog", 40));
    let message = &findings(&body)[0].message;
    assert!(
        message.contains("'EVERYTHING'") && message.contains("ALL"),
        "{message}"
    );
    let body = VALID.replace("RetentionInDays: 365", "RetentionInDays: '366'");
    assert_eq!(located(&body), one(ENUM_VALUE, "Logs", 34));
    // A number is not a literal string: its range is another rule's business.
    let body = VALID.replace("RetentionInDays: 365", "RetentionInDays: 366");
    assert_eq!(findings(&body), Vec::new());
}

#[test]
fn cidr_blocks_must_be_networks_without_host_bits() {
    let body = VALID.replace("CidrIp: 0.0.0.0/0", "CidrIp: 192.168.1.0/0");
    assert_eq!(located(&body), one(VALUE_FORMAT, "Group", 30));
    let message = &findings(&body)[0].message;
    assert!(
        message.contains("'192.168.1.0/0'") && message.contains("ipv4-network"),
        "{message}"
    );
    let body = VALID.replace("CidrBlock: 10.0.0.0/16", "CidrBlock: 10.0.0.0/33");
    assert_eq!(located(&body), one(VALUE_FORMAT, "Vpc", 11));
    // A computed block and a dynamic reference are not literal text to judge.
    let body = VALID.replace("CidrIp: 0.0.0.0/0", "CidrIp: !Ref Env");
    assert_eq!(findings(&body), Vec::new());
    let body = VALID.replace("CidrIp: 0.0.0.0/0", "CidrIp: '{{resolve:ssm:/net/cidr}}'");
    assert_eq!(findings(&body), Vec::new());
}

#[test]
fn unknown_aws_resource_type_is_reported() {
    let body = VALID.replace("Type: AWS::Logs::LogGroup", "Type: AWS::Logs::LogGrup");
    assert_eq!(located(&body), one(UNKNOWN_RESOURCE_TYPE, "Logs", 32));
}

#[test]
fn custom_and_third_party_types_are_accepted() {
    let body = "\
Resources:
  Lookup:
    Type: Custom::AmiLookup
    Properties:
      ServiceToken: arn:aws:lambda:us-east-1:123456789012:function:lookup
      Anything: [1, 2]
  Legacy:
    Type: AWS::CloudFormation::CustomResource
    Properties:
      ServiceToken: arn:aws:lambda:us-east-1:123456789012:function:lookup
  Chart:
    Type: AWSQS::Kubernetes::Helm
    Properties:
      Chart: stable/nginx
  Module:
    Type: Acme::Network::Vpc::MODULE
  CDKMetadata:
    Type: AWS::CDK::Metadata
    Properties:
      Analytics: v2:deflate64:H4sIAAAAAAAA
Outputs:
  Ami:
    Value: !GetAtt Lookup.ImageId
  Release:
    Value: !GetAtt Chart.Name
";
    // The registry type draws its warning (tested below) and nothing else.
    let found: Vec<(String, Option<String>)> = findings(body)
        .into_iter()
        .map(|f| (f.rule, f.resource))
        .collect();
    assert_eq!(
        found,
        [(UNREGISTERED_RESOURCE_TYPE.to_string(), Some("Chart".into()))]
    );
}

#[test]
fn third_party_registry_type_is_a_warning_that_its_properties_go_unchecked() {
    let body = "\
Resources:
  Chart:
    Type: AWSQS::Kubernetes::Helm
    Properties:
      Chart: stable/nginx
  Skill:
    Type: Alexa::ASK::Skil
  Lookup:
    Type: Custom::AmiLookup
    Properties:
      ServiceToken: arn:aws:lambda:us-east-1:123456789012:function:lookup
";
    let found = findings(body);
    let chart = &found[0];
    assert_eq!(
        (
            chart.rule.as_str(),
            chart.severity,
            chart.resource.as_deref(),
            chart.line
        ),
        (
            UNREGISTERED_RESOURCE_TYPE,
            Severity::Warning,
            Some("Chart"),
            Some(3)
        )
    );
    assert_eq!(
        chart.resource_type.as_deref(),
        Some("AWSQS::Kubernetes::Helm")
    );
    assert!(chart.message.contains("not checked"), "{}", chart.message);
    // Alexa's namespace is AWS's own: a type missing from it does not exist.
    let skill = &found[1];
    assert_eq!(
        (
            skill.rule.as_str(),
            skill.severity,
            skill.resource.as_deref()
        ),
        (UNKNOWN_RESOURCE_TYPE, Severity::Error, Some("Skill"))
    );
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[test]
fn serverless_types_need_the_serverless_transform() {
    let body = "\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      CodeUri: src/
Outputs:
  Arn:
    Value: !GetAtt Fn.Arn
";
    assert_eq!(findings(body), Vec::new());
    let without = body.replace("Transform: AWS::Serverless-2016-10-31\n", "");
    assert_eq!(located(&without), one(UNKNOWN_RESOURCE_TYPE, "Fn", 3));
}

#[test]
fn a_macro_transform_is_judged_as_written() {
    let body = "\
Transform: [AcmeExpander]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Expand: everything
";
    let found = findings(body);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, UNKNOWN_PROPERTY);
}

#[test]
fn third_party_type_names_must_have_three_alphanumeric_parts() {
    let body = "\
Resources:
  Put:
    Type: Boto3::CodeCommit.put_file
  Helm:
    Type: AWSQS::Kubernetes::Helm
  Short:
    Type: Acme::Widget
";
    let found = findings(body);
    let flagged: Vec<(&str, Option<&str>)> = found
        .iter()
        .map(|f| (f.rule.as_str(), f.resource.as_deref()))
        .collect();
    assert_eq!(
        flagged,
        [
            (RESOURCE_TYPE_NAME, Some("Put")),
            (UNREGISTERED_RESOURCE_TYPE, Some("Helm")),
            (RESOURCE_TYPE_NAME, Some("Short"))
        ]
    );
}

#[test]
fn getatt_attribute_must_exist_for_the_target_type() {
    let body = VALID.replace(
        "!GetAtt Vpc.CidrBlock\n  GroupId",
        "!GetAtt Vpc.Cidr\n  GroupId",
    );
    let found = findings(&body);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, GETATT_ATTRIBUTE);
    assert_eq!(found[0].resource.as_deref(), Some("Vpc"));
    assert_eq!(found[0].line, Some(44));
    let inside = VALID.replace("!GetAtt Vpc.CidrBlock, 4", "!GetAtt Vpc.Cidr, 4");
    assert_eq!(located(&inside), one(GETATT_ATTRIBUTE, "Subnet", 20));
}

#[test]
fn getatt_accepts_nested_attributes_and_stack_outputs() {
    let body = "\
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      DBInstanceClass: db.t3.micro
      Engine: postgres
  Nested:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://example.com/vpc.yaml
Outputs:
  Address:
    Value: !GetAtt Db.Endpoint.Address
  VpcId:
    Value: !GetAtt Nested.Outputs.VpcId
  Dynamic:
    Value: !GetAtt [Db, !Ref AWS::Region]
";
    assert_eq!(findings(body), Vec::new());
}

#[test]
fn schema_findings_reach_the_validation_report() {
    let body = VALID.replace("TrafficType: ALL", "TrafficType: EVERYTHING");
    let report = crate::validation::validate_template(
        "test.yaml",
        &body,
        &crate::validation::ValidationContext::default(),
    );
    assert!(!report.passed);
    assert!(report.findings.iter().any(|f| f.rule == ENUM_VALUE));
}

#[test]
fn our_stacks_fit_the_schemas() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/stacks");
    let entries = std::fs::read_dir(&dir).expect("infra/stacks is readable");
    let mut checked = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let body = std::fs::read_to_string(&path).expect("stack template is readable");
        let name = path.display().to_string();
        let template = Template::parse(&name, &body).expect("stack template parses");
        // The Helm releases' registry type has no bundled schema: each draws the warning that
        // its properties go unchecked (k8s-services.yaml says so), and nothing else may fire.
        let unexpected: Vec<Finding> = check(&template)
            .into_iter()
            .filter(|f| {
                !(f.rule == UNREGISTERED_RESOURCE_TYPE
                    && f.severity == Severity::Warning
                    && f.resource_type.as_deref() == Some("AWSQS::Kubernetes::Helm"))
            })
            .collect();
        assert_eq!(unexpected, Vec::new(), "{name}");
        checked += 1;
    }
    assert!(checked > 0, "no templates under {}", dir.display());
}
