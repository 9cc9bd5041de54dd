//! The shared per-environment resolution: what policy judges and cost prices in dev, tst and prd.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::naming::Env;
use crate::validation::{validate_template, Finding, ValidationReport};

const TAGS: &str = "[{Key: Environment, Value: dev}, {Key: Owner, Value: platform}, {Key: SecurityLevel, Value: internal}, {Key: IaC_Version, Value: '1.0.0'}]";

fn in_env(env: Env) -> ValidationContext {
    ValidationContext {
        env: Some(env),
        parameters: BTreeMap::new(),
    }
}

fn parse(body: &str) -> Template {
    Template::parse("t.yaml", &body.replace("{TAGS}", TAGS)).expect("test template parses")
}

fn validate(body: &str, env: Env) -> ValidationReport {
    validate_template("t.yaml", &body.replace("{TAGS}", TAGS), &in_env(env))
}

fn hits<'r>(report: &'r ValidationReport, rule: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| f.rule == rule).collect()
}

/// A database that is public unless deployed to prd.
const PUBLIC_OUTSIDE_PRD: &str = "\
Parameters:
  Environment:
    Type: String
Conditions:
  IsPrd: !Equals [!Ref Environment, prd]
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.micro
      StorageEncrypted: true
      PubliclyAccessible: !If [IsPrd, false, true]
      Tags: {TAGS}
";

#[test]
fn fn_if_on_the_environment_fails_policy_in_dev_and_passes_in_prd() {
    let dev = validate(PUBLIC_OUTSIDE_PRD, Env::Dev);
    let public = hits(&dev, "sc7_rds_not_public");
    assert_eq!(public.len(), 1, "{:#?}", dev.findings);
    assert_eq!(public[0].resource.as_deref(), Some("Db"));
    assert_eq!(
        public[0].line,
        Some(13),
        "the line of the Fn::If in the source"
    );
    assert!(!dev.passed);

    let prd = validate(PUBLIC_OUTSIDE_PRD, Env::Prd);
    assert!(prd.passed, "{:#?}", prd.findings);
}

#[test]
fn resource_whose_condition_is_false_is_not_judged_by_policy() {
    let body = "\
Parameters:
  Environment:
    Type: String
Conditions:
  IsPrd: !Equals [!Ref Environment, prd]
Resources:
  Log:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 365
      Tags: {TAGS}
  PublicDb:
    Type: AWS::RDS::DBInstance
    Condition: IsPrd
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.micro
      StorageEncrypted: true
      PubliclyAccessible: true
      Tags: {TAGS}
";
    let dev = validate(body, Env::Dev);
    assert!(hits(&dev, "sc7_rds_not_public").is_empty(), "{dev:#?}");
    let prd = validate(body, Env::Prd);
    let public = hits(&prd, "sc7_rds_not_public");
    assert_eq!(public.len(), 1, "{:#?}", prd.findings);
    assert_eq!(public[0].resource.as_deref(), Some("PublicDb"));
}

#[test]
fn undecidable_condition_keeps_the_resource_and_names_its_condition() {
    let template = parse(
        "\
Conditions:
  Imported: !Equals [!ImportValue flag, 'yes']
  InAccount: !Equals [!Ref AWS::AccountId, '123456789012']
Resources:
  Key: {Type: AWS::KMS::Key, Condition: Imported}
  Other: {Type: AWS::KMS::Key, Condition: InAccount}
",
    );
    let deployment = deploy(&template, &in_env(Env::Dev), Some("us-east-1"));
    assert_eq!(
        deployment.undecided.get("Key").map(String::as_str),
        Some("Imported")
    );
    assert_eq!(
        deployment.undecided.get("Other").map(String::as_str),
        Some("InAccount"),
        "AWS::AccountId is not known before deployment"
    );
    assert!(deployment.template["Resources"].get("Key").is_some());
}

#[test]
fn comma_delimited_and_list_parameters_resolve_to_arrays_of_strings() {
    let template = parse(
        "\
Parameters:
  InstanceTypes: {Type: CommaDelimitedList, Default: 't3.large, t3a.large'}
  Subnets: {Type: 'List<AWS::EC2::Subnet::Id>'}
  Zones: {Type: CommaDelimitedList, Default: [a, b]}
Resources:
  Nodes:
    Type: AWS::EKS::Nodegroup
    Properties:
      InstanceTypes: !Ref InstanceTypes
      Subnets: !Ref Subnets
      FirstSubnet: !Select [1, !Ref Subnets]
      Joined: !Join [',', !Ref Zones]
",
    );
    let ctx = ValidationContext {
        env: Some(Env::Dev),
        parameters: BTreeMap::from([("Subnets".to_string(), "subnet-1,subnet-2".to_string())]),
    };
    let deployed = deploy(&template, &ctx, Some("us-east-1")).template;
    let props = &deployed["Resources"]["Nodes"]["Properties"];
    assert_eq!(props["InstanceTypes"], json!(["t3.large", "t3a.large"]));
    assert_eq!(props["Subnets"], json!(["subnet-1", "subnet-2"]));
    assert_eq!(props["FirstSubnet"], json!("subnet-2"));
    assert_eq!(props["Joined"], json!("a,b"));
}

#[test]
fn pseudo_parameters_resolve_but_the_account_stays_a_reference() {
    let template = parse(
        "\
Resources:
  Thing:
    Type: AWS::SNS::Topic
    Properties:
      A: !Ref AWS::Region
      B: !Ref AWS::Partition
      C: !Ref AWS::AccountId
      D: !Ref AWS::NoValue
",
    );
    let with_region = deploy(&template, &in_env(Env::Dev), Some("eu-west-1")).template;
    let props = &with_region["Resources"]["Thing"]["Properties"];
    assert_eq!(props["A"], json!("eu-west-1"));
    assert_eq!(props["B"], json!("aws"));
    assert_eq!(props["C"], json!({"Ref": "AWS::AccountId"}));
    assert!(
        props.get("D").is_none(),
        "AWS::NoValue removes the property"
    );
    let for_policy = with_parameters(&template, &in_env(Env::Dev));
    assert_eq!(
        for_policy["Resources"]["Thing"]["Properties"]["A"],
        json!({"Ref": "AWS::Region"}),
        "validation knows no region"
    );
}

#[test]
fn undecided_fn_if_keeps_both_branches_including_no_value() {
    let template = parse(
        "\
Parameters:
  Name: {Type: String, Default: n}
Conditions:
  Imported: !Equals [!ImportValue flag, 'yes']
Resources:
  Thing:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !If [Imported, !Ref Name, !Ref AWS::NoValue]
",
    );
    let deployed = deploy(&template, &in_env(Env::Dev), None).template;
    assert_eq!(
        deployed["Resources"]["Thing"]["Properties"]["TopicName"],
        json!({"Fn::If": ["Imported", "n", {"Ref": "AWS::NoValue"}]})
    );
}

#[test]
fn outputs_of_a_false_condition_are_not_deployed() {
    let template = parse(
        "\
Parameters:
  Environment: {Type: String}
Conditions:
  IsPrd: !Equals [!Ref Environment, prd]
Resources:
  Topic: {Type: AWS::SNS::Topic}
Outputs:
  Always: {Value: !Ref Topic}
  OnlyPrd: {Condition: IsPrd, Value: !Ref Topic}
",
    );
    let dev = deploy(&template, &in_env(Env::Dev), None).template;
    assert!(dev["Outputs"].get("Always").is_some());
    assert!(dev["Outputs"].get("OnlyPrd").is_none());
}

#[test]
fn ssm_parameter_types_stay_references() {
    let template = parse(
        "\
Parameters:
  Ami: {Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', Default: /aws/service/ami}
Resources:
  Instance:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref Ami
",
    );
    let deployed = deploy(&template, &in_env(Env::Dev), None).template;
    assert_eq!(
        deployed["Resources"]["Instance"]["Properties"]["ImageId"],
        json!({"Ref": "Ami"}),
        "the default names the SSM parameter; its value is read at deployment"
    );
}
