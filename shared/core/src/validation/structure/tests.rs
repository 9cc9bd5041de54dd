//! Unit tests of the structural rules: for each, a template that passes and a broken variant
//! that fails at the right line, plus `Fn::ForEach` templates that must raise nothing.

use super::*;

/// A template every rule accepts; the failing cases below each break one thing in it.
const VALID: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Description: every structural rule passes
Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prd]
    Default: dev
  Size:
    Type: Number
    MinValue: 1
    MaxValue: 10
    Default: 2
  Zones:
    Type: CommaDelimitedList
    Default: 'a, b'
    AllowedPattern: '[a-z]'
Conditions:
  IsPrd: !Equals [!Ref Env, prd]
  NotPrd: !Not [!Condition IsPrd]
  Either: !Or [!Condition IsPrd, !Condition NotPrd]
Mappings:
  Sizes:
    dev: {Type: small}
    prd: {Type: large}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !FindInMap [Sizes, !Ref Env, Type]
      DisplayName: !If [IsPrd, !Join ['-', [a, !Select [0, !GetAZs '']]], !Ref AWS::NoValue]
      Tags:
        - {Key: Owner, Value: platform}
        - {Key: Zone, Value: !Select [1, !Split [',', !Ref AWS::Region]]}
  Queue:
    Type: AWS::SQS::Queue
    Condition: IsPrd
    DependsOn: Topic
    Properties:
      QueueName: !Sub '${Topic.TopicName}-queue'
      Tags:
        - {Key: Data, Value: !Base64 'x'}
  Net:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Select [0, !Cidr ['10.0.0.0/16', 4, 8]]
Outputs:
  TopicArn:
    Value: !Ref Topic
    Export:
      Name: !Sub '${AWS::StackName}-topic'
  QueueUrl:
    Condition: IsPrd
    Value: !Ref Queue
    Export:
      Name: !ImportValue shared-name
";

/// The structural errors of `body` (warnings are asserted apart, by `warnings`).
fn findings(body: &str) -> Vec<Finding> {
    let template = Template::parse("t.yaml", body).expect("test template parses");
    check(&template)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

/// (rule, line) of each structural warning of `body`.
fn warnings(body: &str) -> Vec<(String, Option<u32>)> {
    let template = Template::parse("t.yaml", body).expect("test template parses");
    check(&template)
        .into_iter()
        .filter(|f| f.severity == Severity::Warning)
        .map(|f| (f.rule, f.line))
        .collect()
}

fn warned(rule: &str, line: u32) -> (String, Option<u32>) {
    (rule.to_string(), Some(line))
}

fn assert_clean(body: &str) {
    let found = findings(body);
    assert!(
        found.is_empty(),
        "expected no structural finding: {found:#?}"
    );
}

/// Asserts that `body` breaks `rule` at `line` (and that the message names it usefully).
fn assert_fires(body: &str, rule: &str, line: u32) {
    let found = findings(body);
    assert!(
        found.iter().any(|f| f.rule == rule && f.line == Some(line)),
        "expected {rule} at line {line}, got {found:#?}"
    );
    assert!(found.iter().all(|f| f.severity == Severity::Error));
}

/// `VALID` with `from` replaced by `to` (which must occur).
fn broken(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from} is not in the valid template");
    VALID.replacen(from, to, 1)
}

#[test]
fn valid_template_raises_no_structural_finding() {
    assert_clean(VALID);
}

// ---------------------------------------------------------------- sections and limits

#[test]
fn unknown_top_level_section_is_e1001() {
    assert_fires(
        &format!("{VALID}Output:\n  X: {{Value: y}}\n"),
        UNKNOWN_SECTION,
        56,
    );
}

#[test]
fn sam_globals_section_is_known_under_the_serverless_transform() {
    let body = "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function: {Timeout: 3}\nResources:\n  Topic: {Type: AWS::SNS::Topic}\n";
    assert_clean(body);
    assert_fires(
        &body.replace("Transform: AWS::Serverless-2016-10-31\n", ""),
        UNKNOWN_SECTION,
        1,
    );
}

#[test]
fn format_version_other_than_2010_09_09_is_e1001() {
    assert_fires(&broken("'2010-09-09'", "'2010-09-10'"), FORMAT_VERSION, 1);
    assert_clean(&broken("'2010-09-09'", "2010-09-09"));
}

#[test]
fn description_must_be_a_short_string() {
    assert_fires(
        &broken(
            "Description: every structural rule passes",
            "Description: [a]",
        ),
        DESCRIPTION_TYPE,
        2,
    );
    let long = format!("Description: {}", "d".repeat(1025));
    assert_fires(
        &broken("Description: every structural rule passes", &long),
        DESCRIPTION_LENGTH,
        2,
    );
}

#[test]
fn template_over_a_million_bytes_is_e1002() {
    let padding = format!("\nMetadata:\n  Padding: '{}'\n", "p".repeat(1_000_001));
    assert_fires(&format!("{VALID}{padding}"), TEMPLATE_SIZE, 1);
}

/// A template of `count` topics, or of `count` parameters/outputs (each named with `prefix`).
fn many(section: &str, count: usize) -> String {
    let mut body = String::from("Resources:\n  Topic: {Type: AWS::SNS::Topic}\n");
    match section {
        "Resources" => {
            for i in 0..count {
                body.push_str(&format!("  T{i}: {{Type: AWS::SNS::Topic}}\n"));
            }
        }
        "Parameters" => {
            body.push_str("Parameters:\n");
            for i in 0..count {
                body.push_str(&format!("  P{i}: {{Type: String}}\n"));
            }
        }
        _ => {
            body.push_str("Outputs:\n");
            for i in 0..count {
                body.push_str(&format!("  O{i}: {{Value: x}}\n"));
            }
        }
    }
    body
}

#[test]
fn resource_parameter_and_output_counts_are_limited() {
    assert_clean(&many("Resources", 499));
    assert_fires(&many("Resources", 500), RESOURCE_LIMIT, 1);
    assert_clean(&many("Parameters", 200));
    assert_fires(&many("Parameters", 201), PARAMETER_LIMIT, 3);
    assert_clean(&many("Outputs", 200));
    assert_fires(&many("Outputs", 201), OUTPUT_LIMIT, 3);
}

#[test]
fn logical_ids_are_alphanumeric_and_at_most_255_characters() {
    assert_fires(
        &broken("  Queue:\n", "  Queue_1:\n"),
        RESOURCE_CONFIGURATION,
        34,
    );
    let long = format!("  {}:\n", "Q".repeat(256));
    let body = broken("  Net:\n", &long);
    assert_fires(&body, RESOURCE_NAME_LENGTH, 42);
}

#[test]
fn unknown_resource_attribute_is_e3001() {
    assert_fires(
        &broken(
            "    DependsOn: Topic\n",
            "    DependsOn: Topic\n    Propertes: {}\n",
        ),
        RESOURCE_CONFIGURATION,
        38,
    );
}

#[test]
fn resource_named_like_a_parameter_is_e3007() {
    assert_fires(&broken("  Net:\n", "  Env:\n"), UNIQUE_NAMES, 42);
}

#[test]
fn mappings_are_maps_of_maps_with_valid_names() {
    assert_fires(
        &broken("    dev: {Type: small}", "    dev: {Type: {a: b}}"),
        MAPPING_CONFIGURATION,
        23,
    );
    assert_fires(
        &broken("    dev: {Type: small}", "    dev: {}"),
        MAPPING_CONFIGURATION,
        23,
    );
    assert_fires(
        &broken("    dev: {Type: small}", "    dev_1: {Type: small}"),
        MAPPING_CONFIGURATION,
        23,
    );
    assert_fires(
        &broken("  Sizes:\n", "  Size-s:\n"),
        MAPPING_CONFIGURATION,
        22,
    );
}

// ---------------------------------------------------------------- parameters

#[test]
fn parameter_types_must_be_known() {
    for valid in [
        "List<Number>",
        "List<AWS::EC2::Subnet::Id>",
        "AWS::EC2::VPC::Id",
        "AWS::SSM::Parameter::Value<String>",
        "AWS::SSM::Parameter::Value<List<AWS::EC2::Image::Id>>",
    ] {
        let body = broken(
            "  Env:\n    Type: String\n",
            &format!("  Other:\n    Type: '{valid}'\n  Env:\n    Type: String\n"),
        );
        assert_clean(&body);
    }
    assert_fires(
        &broken("    Type: Number", "    Type: Integer"),
        PARAMETER_TYPE,
        9,
    );
    assert_fires(
        &broken("    Type: Number", "    Type: 'List<Boolean>'"),
        PARAMETER_TYPE,
        9,
    );
}

#[test]
fn parameter_attributes_must_suit_the_type() {
    assert_fires(
        &broken("    MinValue: 1", "    MinLength: 1"),
        PARAMETER_CONFIGURATION,
        10,
    );
    assert_fires(
        &broken("    AllowedValues: [dev, prd]", "    AllowedValues: dev"),
        PARAMETER_CONFIGURATION,
        6,
    );
    assert_fires(
        &broken(
            "  Env:\n    Type: String\n",
            "  Env:\n    Description: no type\n",
        ),
        PARAMETER_CONFIGURATION,
        4,
    );
}

#[test]
fn parameter_names_are_alphanumeric() {
    assert_fires(&broken("  Env:\n", "  Env-Name:\n"), PARAMETER_NAME, 4);
}

#[test]
fn default_outside_allowed_values_is_e2015() {
    assert_fires(
        &broken("    Default: dev", "    Default: tst"),
        PARAMETER_DEFAULT,
        7,
    );
}

#[test]
fn number_default_must_be_a_number_within_its_range() {
    assert_fires(
        &broken("    Default: 2", "    Default: two"),
        PARAMETER_DEFAULT,
        12,
    );
    assert_fires(
        &broken("    Default: 2", "    Default: 11"),
        PARAMETER_DEFAULT,
        12,
    );
    assert_fires(
        &broken("    Default: 2", "    Default: 0"),
        PARAMETER_DEFAULT,
        12,
    );
}

#[test]
fn default_must_match_allowed_pattern_and_lengths_item_by_item() {
    assert_fires(
        &broken("    Default: 'a, b'", "    Default: 'a, bc'"),
        PARAMETER_DEFAULT,
        15,
    );
    let with_lengths = broken(
        "    AllowedValues: [dev, prd]\n",
        "    MinLength: 3\n    MaxLength: 3\n",
    );
    assert_clean(&with_lengths);
    assert_fires(
        &with_lengths.replace("    Default: dev", "    Default: de"),
        PARAMETER_DEFAULT,
        8,
    );
    assert_fires(
        &with_lengths.replace("    Default: dev", "    Default: devs"),
        PARAMETER_DEFAULT,
        8,
    );
}

// ---------------------------------------------------------------- conditions

#[test]
fn condition_names_must_be_declared_wherever_used() {
    assert_fires(
        &broken(
            "    Condition: IsPrd\n    DependsOn",
            "    Condition: IsProd\n    DependsOn",
        ),
        CONDITION_TARGET,
        36,
    );
    assert_fires(
        &broken("!If [IsPrd, !Join", "!If [IsProd, !Join"),
        CONDITION_TARGET,
        30,
    );
    assert_fires(
        &broken("!Not [!Condition IsPrd]", "!Not [!Condition IsProd]"),
        CONDITION_TARGET,
        19,
    );
    assert_fires(
        &broken(
            "    Condition: IsPrd\n    Value: !Ref Queue",
            "    Condition: IsProd\n    Value: !Ref Queue",
        ),
        CONDITION_TARGET,
        52,
    );
}

#[test]
fn condition_functions_must_be_well_formed() {
    assert_fires(
        &broken("!Equals [!Ref Env, prd]", "!Equals [!Ref Env]"),
        EQUALS_SHAPE,
        18,
    );
    assert_fires(
        &broken("!Equals [!Ref Env, prd]", "!Equals [!Ref Env, [prd]]"),
        EQUALS_SHAPE,
        18,
    );
    assert_fires(
        &broken(
            "!Not [!Condition IsPrd]",
            "!Not [!Condition IsPrd, !Condition IsPrd]",
        ),
        NOT_SHAPE,
        19,
    );
    assert_fires(
        &broken(
            "!Or [!Condition IsPrd, !Condition NotPrd]",
            "!Or [!Condition IsPrd]",
        ),
        OR_SHAPE,
        20,
    );
    assert_fires(
        &broken(
            "!Or [!Condition IsPrd, !Condition NotPrd]",
            "!And [!Condition IsPrd]",
        ),
        AND_SHAPE,
        20,
    );
    assert_fires(
        &broken("!Not [!Condition IsPrd]", "!Not [{Condition: [IsPrd]}]"),
        CONDITION_SHAPE,
        19,
    );
    assert_fires(
        &broken("  NotPrd: !Not [!Condition IsPrd]", "  NotPrd: prd"),
        CONDITION_CONFIGURATION,
        19,
    );
}

#[test]
fn fn_if_needs_a_condition_and_two_values() {
    assert_fires(&broken("!Ref AWS::NoValue]", "]"), IF_SHAPE, 30);
}

// ---------------------------------------------------------------- references and cycles

#[test]
fn circular_dependencies_are_e3004_on_each_resource() {
    let body = broken(
        "      CidrBlock: !Select",
        "      Tag: !Ref Queue\n      CidrBlock: !Select",
    );
    let body = body.replace("    DependsOn: Topic", "    DependsOn: Net");
    assert_fires(&body, CIRCULAR_DEPENDENCY, 34);
    assert_fires(&body, CIRCULAR_DEPENDENCY, 42);
    let own = broken(
        "      QueueName: !Sub '${Topic.TopicName}-queue'",
        "      QueueName: !GetAtt Queue.QueueName",
    );
    assert_fires(&own, CIRCULAR_DEPENDENCY, 34);
}

#[test]
fn conditions_cannot_refer_to_resources() {
    assert_fires(
        &broken("!Equals [!Ref Env, prd]", "!Equals [!Ref Topic, prd]"),
        REF_TARGET,
        18,
    );
}

// ---------------------------------------------------------------- outputs

#[test]
fn outputs_need_a_value_and_exports_a_name() {
    assert_fires(
        &broken("    Value: !Ref Topic\n", "    Description: none\n"),
        OUTPUT_REQUIRED,
        47,
    );
    assert_fires(
        &broken(
            "      Name: !Sub '${AWS::StackName}-topic'",
            "      Value: x",
        ),
        OUTPUT_REQUIRED,
        49,
    );
    assert_fires(
        &broken(
            "    Value: !Ref Topic\n",
            "    Value: !Ref Topic\n    Exported: x\n",
        ),
        OUTPUT_CONFIGURATION,
        49,
    );
}

#[test]
fn output_names_are_alphanumeric() {
    assert_fires(&broken("  TopicArn:", "  Topic-Arn:"), OUTPUT_NAME, 47);
}

#[test]
fn the_same_export_name_twice_is_reported_unless_conditions_exclude_each_other() {
    let twice = broken(
        "      Name: !ImportValue shared-name",
        "      Name: !Sub '${AWS::StackName}-topic'",
    );
    let twice = twice.replace(
        "    Condition: IsPrd\n    Value: !Ref Queue",
        "    Value: !Ref Queue",
    );
    assert_fires(&twice, DUPLICATE_EXPORT, 53);
    let exclusive = broken(
        "      Name: !Sub '${AWS::StackName}-topic'",
        "      Name: same",
    )
    .replace(
        "    Export:\n      Name: !ImportValue shared-name",
        "    Export:\n      Name: same",
    )
    .replace("  TopicArn:\n", "  TopicArn:\n    Condition: NotPrd\n");
    assert_clean(&exclusive);
}

// ---------------------------------------------------------------- function shapes

#[test]
fn intrinsic_function_shapes_are_checked() {
    let cases = [
        (
            "!Select [0, !Cidr ['10.0.0.0/16', 4, 8]]",
            "!Select [0]",
            SELECT_SHAPE,
            45,
        ),
        (
            "!Select [0, !Cidr ['10.0.0.0/16', 4, 8]]",
            "!Select [first, !Cidr ['10.0.0.0/16', 4, 8]]",
            SELECT_SHAPE,
            45,
        ),
        (
            "!Select [1, !Split [',', !Ref AWS::Region]]",
            "!Split [',']",
            SPLIT_SHAPE,
            33,
        ),
        ("!Join ['-', [a, ", "!Join [[a, ", JOIN_SHAPE, 30),
        (
            "!FindInMap [Sizes, !Ref Env, Type]",
            "!FindInMap [Sizes, !Ref Env]",
            FIND_IN_MAP_SHAPE,
            29,
        ),
        (
            "!FindInMap [Sizes, !Ref Env, Type]",
            "!FindInMap [Size, !Ref Env, Type]",
            FIND_IN_MAP_SHAPE,
            29,
        ),
        (
            "CidrBlock: !Select [0, !Cidr ['10.0.0.0/16', 4, 8]]",
            "CidrBlock: {'Fn::GetAZs': [a]}",
            GET_AZS_SHAPE,
            45,
        ),
        (
            "!Select [0, !Cidr ['10.0.0.0/16', 4, 8]]",
            "!Cidr ['10.0.0.0', 4, 8]",
            CIDR_SHAPE,
            45,
        ),
        (
            "!Select [0, !Cidr ['10.0.0.0/16', 4, 8]]",
            "!Cidr ['10.0.0.0/16', 0, 8]",
            CIDR_SHAPE,
            45,
        ),
        ("!Base64 'x'", "!Base64 [x]", BASE64_SHAPE, 41),
        (
            "!ImportValue shared-name",
            "!ImportValue [shared-name]",
            IMPORT_VALUE_SHAPE,
            55,
        ),
        ("Value: !Ref Topic", "Value: {Ref: [Topic]}", REF_SHAPE, 48),
        (
            "!Sub '${Topic.TopicName}-queue'",
            "!Sub [a, b, c]",
            SUB_VARIABLE,
            39,
        ),
        (
            "!Sub '${Topic.TopicName}-queue'",
            "!GetAtt [Topic]",
            GETATT_TARGET,
            39,
        ),
    ];
    for (from, to, rule, line) in cases {
        assert_fires(&broken(from, to), rule, line);
    }
}

/// The rules of `body`'s structural errors at `line`.
fn rules_at(body: &str, line: u32) -> Vec<String> {
    findings(body)
        .into_iter()
        .filter(|f| f.line == Some(line))
        .map(|f| f.rule)
        .collect()
}

#[test]
fn a_malformed_argument_is_reported_under_the_outermost_enclosing_function() {
    // A null Fn::GetAZs as Fn::Select's list is Fn::Select's error, as cfn-lint reports it.
    let in_select = broken("!Cidr ['10.0.0.0/16', 4, 8]", "{'Fn::GetAZs': null}");
    assert_eq!(rules_at(&in_select, 45), [SELECT_SHAPE]);
    // Under Fn::Join (through Fn::If, which passes its branches through) Fn::Join claims it.
    let in_join = broken("!GetAZs ''", "{'Fn::GetAZs': null}");
    assert_eq!(rules_at(&in_join, 30), [JOIN_SHAPE]);
    let select_in_join = broken("!Select [0, !GetAZs '']", "!Select [0]");
    assert_eq!(rules_at(&select_in_join, 30), [JOIN_SHAPE]);
    // Standing alone, it keeps its own id.
    let alone = broken(
        "CidrBlock: !Select [0, !Cidr ['10.0.0.0/16', 4, 8]]",
        "CidrBlock: {'Fn::GetAZs': null}",
    );
    assert_eq!(rules_at(&alone, 45), [GET_AZS_SHAPE]);
    // A malformed Ref keeps its id wherever it sits.
    let reference = broken("!Join ['-', [a, ", "!Join ['-', [{Ref: [a]}, ");
    assert_eq!(rules_at(&reference, 30), [REF_SHAPE]);
}

#[test]
fn nested_intrinsics_are_accepted_where_cloudformation_allows_them() {
    let body = broken(
        "      CidrBlock: !Select [0, !Cidr ['10.0.0.0/16', 4, 8]]",
        "      CidrBlock: !Select [0, !Cidr [!GetAtt Topic.TopicName, !FindInMap [Sizes, dev, Type], '8']]
      Ipv6: !Select [1, !Cidr ['2001:db8::/56', 2, 64]]
      Name: !Join ['', [!Sub 'x', !ImportValue y, !Select [0, {'Fn::GetAZs': !Ref AWS::Region}]]]
      Zones: !Join [',', !GetAZs '']
      Data: !Base64 {'Fn::Join': ['', [!Ref Env]]}",
    );
    assert_clean(&body);
}

// ---------------------------------------------------------------- tags

#[test]
fn tags_need_a_key_within_limits_not_reserved_and_not_repeated() {
    assert_fires(
        &broken(
            "        - {Key: Owner, Value: platform}",
            "        - {Value: platform}",
        ),
        TAG_SYNTAX,
        32,
    );
    assert_fires(
        &broken(
            "{Key: Owner, Value: platform}",
            "{Key: 'aws:owner', Value: platform}",
        ),
        TAG_SYNTAX,
        32,
    );
    let long_key = format!("{{Key: {}, Value: platform}}", "k".repeat(129));
    assert_fires(
        &broken("{Key: Owner, Value: platform}", &long_key),
        TAG_SYNTAX,
        32,
    );
    let long_value = format!("{{Key: Owner, Value: {}}}", "v".repeat(257));
    assert_fires(
        &broken("{Key: Owner, Value: platform}", &long_value),
        TAG_SYNTAX,
        32,
    );
    assert_fires(&broken("{Key: Zone,", "{Key: Owner,"), TAG_SYNTAX, 33);
    let map_form = "Resources:\n  Group:\n    Type: AWS::EKS::Nodegroup\n    Properties:\n      Tags: {Owner: platform, 'aws:x': y}\n";
    assert_fires(map_form, TAG_SYNTAX, 5);
    assert_clean(&map_form.replace(", 'aws:x': y", ""));
}

#[test]
fn custom_resources_may_shape_tags_as_they_like() {
    assert_clean("Resources:\n  Thing:\n    Type: Custom::Thing\n    Properties:\n      ServiceToken: arn\n      Tags: [{Name: x}]\n");
}

// ---------------------------------------------------------------- Fn::ForEach

const FOR_EACH: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::LanguageExtensions
Parameters:
  Names:
    Type: CommaDelimitedList
    Default: 'x,y'
Conditions:
  Fn::ForEach::Flags:
    - Flag
    - [On, Off]
    - Is${Flag}: !Equals [!Ref Flag, On]
Resources:
  Fn::ForEach::Tables:
    - TableName
    - [Points, Score]
    - Table${TableName}:
        Type: AWS::DynamoDB::Table
        Condition: IsOn
        Properties:
          TableName: !Ref TableName
          Description: !Sub '${TableName}-table in ${AWS::Region}'
          KeySchema: [{AttributeName: id, KeyType: HASH}]
        DependsOn: Fn::ForEach::Unused
  Fn::ForEach::Queues:
    - Name
    - !Ref Names
    - Queue&{Name}:
        Type: AWS::SQS::Queue
        Properties:
          QueueName: !Ref Name
          Fn::ForEach::Props:
            - Prop
            - [Delay]
            - ${Prop}Seconds: 5
  Reader:
    Type: AWS::SNS::Topic
    DependsOn: [TablePoints, Queuex]
    Properties:
      TopicName: !GetAtt [!Sub 'Table${Suffix}', Arn]
Outputs:
  Fn::ForEach::TableOutputs:
    - TableName
    - [Points, Score]
    - Fn::ForEach::AttributeLoop:
        - Attribute
        - [Arn, StreamArn]
        - Table${TableName}${Attribute}:
            Value: !GetAtt [!Sub 'Table${TableName}', !Ref Attribute]
";

#[test]
fn for_each_templates_raise_no_false_findings() {
    let body = FOR_EACH.replace("        DependsOn: Fn::ForEach::Unused\n", "");
    let body = body.replace("!Sub 'Table${Suffix}'", "TableScore");
    assert_clean(&body);
}

#[test]
fn for_each_expansion_still_reports_real_defects_at_the_loop_line() {
    let body = FOR_EACH.replace(
        "        DependsOn: Fn::ForEach::Unused\n",
        "        DependsOn: Missing\n",
    );
    let body = body.replace("!Sub 'Table${Suffix}'", "TableScore");
    let found = findings(&body);
    assert!(
        found.iter().any(|f| f.rule == DEPENDS_ON_TARGET
            && f.line == Some(23)
            && f.resource.as_deref() == Some("TablePoints")),
        "{found:#?}"
    );
    let bad_ref = body.replace(
        "DependsOn: [TablePoints, Queuex]",
        "DependsOn: [TableTotals]",
    );
    assert_fires(&bad_ref, DEPENDS_ON_TARGET, 37);
}

#[test]
fn for_each_without_the_language_extensions_transform_is_not_a_resource() {
    let body = FOR_EACH.replace("Transform: AWS::LanguageExtensions\n", "");
    assert_fires(&body, RESOURCE_CONFIGURATION, 12);
}

// ---------------------------------------------------------------- warnings (cfn-lint W…)

/// Uses every parameter, condition and mapping it declares, each in another way.
const ALL_USED: &str = "\
Parameters:
  Env: {Type: String}
  Prefix: {Type: String}
  Zone: {Type: AWS::EC2::AvailabilityZone::Name}
Conditions:
  IsPrd: !Equals [!Ref Env, prd]
  Always: !Or [!Condition IsPrd, !Not [!Condition IsPrd]]
  ForOutput: !Equals [a, a]
Mappings:
  Sizes: {dev: {Type: small}}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Condition: Always
    Properties:
      TopicName: !Sub '${Prefix}-${AWS::Region}'
      DisplayName: !If [IsPrd, !FindInMap [Sizes, dev, Type], x]
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: vpc-12345678
      CidrBlock: 10.0.0.0/24
      AvailabilityZone: !Ref Zone
Outputs:
  Name:
    Condition: ForOutput
    Value: x
";

#[test]
fn declarations_in_use_draw_no_warning() {
    assert_eq!(warnings(ALL_USED), vec![]);
    assert_clean(ALL_USED);
}

#[test]
fn unused_parameter_is_w2001_at_its_declaration() {
    let body = ALL_USED.replace("'${Prefix}-${AWS::Region}'", "'x-${AWS::Region}'");
    assert_eq!(warnings(&body), vec![warned(UNUSED_PARAMETER, 3)]);
}

#[test]
fn parameters_are_not_judged_under_a_transform() {
    let body = format!(
        "Transform: AWS::Serverless-2016-10-31\n{}",
        ALL_USED.replace("'${Prefix}-${AWS::Region}'", "'x-${AWS::Region}'")
    );
    assert!(!warnings(&body).iter().any(|(r, _)| r == UNUSED_PARAMETER));
}

#[test]
fn unused_condition_is_w8001_at_its_declaration() {
    let body = ALL_USED.replace("    Condition: ForOutput\n", "");
    assert_eq!(warnings(&body), vec![warned(UNUSED_CONDITION, 8)]);
}

#[test]
fn unused_mapping_is_w7001_unless_a_map_name_is_computed() {
    let body = ALL_USED.replace("!FindInMap [Sizes, dev, Type]", "y");
    assert_eq!(warnings(&body), vec![warned(UNUSED_MAPPING, 10)]);
    let computed = ALL_USED.replace("[Sizes, dev, Type]", "[!Ref Env, dev, Type]");
    assert_eq!(warnings(&computed), vec![]);
}

#[test]
fn sub_without_a_variable_is_w1020() {
    let body = ALL_USED.replace(
        "      DisplayName: !If",
        "      Description: !Sub 'plain-${!Literal}'\n      DisplayName: !If",
    );
    assert!(body.contains("${Prefix}"));
    assert_eq!(warnings(&body), vec![warned(SUB_WITHOUT_VARIABLE, 17)]);
}

#[test]
fn depends_on_a_resource_already_referenced_is_w3005() {
    let body = ALL_USED.replace(
        "  Subnet:\n    Type: AWS::EC2::Subnet\n",
        "  Subnet:\n    Type: AWS::EC2::Subnet\n    DependsOn: [Other, Topic]\n",
    ) + "  Other:\n    Value: x\n";
    // Other is an output, not a resource: E3005 is not this rule's business.
    let body = body.replace(
        "      VpcId: vpc-12345678",
        "      VpcId: !GetAtt Topic.TopicArn",
    );
    assert_eq!(warnings(&body), vec![warned(REDUNDANT_DEPENDS_ON, 20)]);
    let unreferenced = body.replace("!GetAtt Topic.TopicArn", "vpc-12345678");
    assert_eq!(warnings(&unreferenced), vec![]);
}

#[test]
fn literal_availability_zone_is_w3010_and_a_parameter_is_not() {
    let body = ALL_USED.replace(
        "AvailabilityZone: !Ref Zone",
        "AvailabilityZone: us-east-1a",
    );
    let body = body.replace("  Zone: {Type: AWS::EC2::AvailabilityZone::Name}\n", "");
    assert_eq!(warnings(&body), vec![warned(HARDCODED_ZONE, 22)]);
    assert_eq!(warnings(ALL_USED), vec![]);
}

// ---------------------------------------------------------------- conditional targets

/// Conditional resources and references to them; each referrer below is safe unless a test
/// changes it.
const CONDITIONAL: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prd]
Conditions:
  IsPrd: !Equals [!Ref Env, prd]
  IsDev: !Equals [dev, !Ref Env]
  NotDev: !Not [!Condition IsDev]
  InUs: !Equals [!Ref 'AWS::Region', us-east-1]
  PrdInUs: !And [!Condition IsPrd, !Condition InUs]
  PrdOrDev: !Or [!Condition IsPrd, !Condition IsDev]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Condition: IsPrd
  Queue:
    Type: AWS::SQS::Queue
    Condition: NotDev
    DependsOn: Topic
    Properties:
      QueueName: !GetAtt Topic.TopicName
  Other:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !If [IsPrd, !Ref Topic, !Ref AWS::NoValue]
      DelaySeconds: !If [IsDev, 0, !Sub '${Topic.TopicName}']
Outputs:
  TopicArn:
    Condition: PrdInUs
    Value: !Ref Topic
";

/// (rule, line, message) of every structural finding of `body` about conditional targets.
fn conditional_findings(body: &str) -> Vec<(String, Option<u32>, String)> {
    let template = Template::parse("t.yaml", body).expect("test template parses");
    check(&template)
        .into_iter()
        .filter(|f| f.rule == MAY_BE_UNAVAILABLE || f.rule == DEPENDS_ON_TARGET)
        .map(|f| (f.rule, f.line, f.message))
        .collect()
}

fn on_conditional(from: &str, to: &str) -> String {
    assert!(CONDITIONAL.contains(from), "{from} is not in the template");
    CONDITIONAL.replacen(from, to, 1)
}

#[test]
fn references_whose_target_exists_whenever_the_referrer_does_raise_nothing() {
    // NotDev is IsPrd under Env's AllowedValues; a true branch of IsPrd; a false branch of
    // IsDev; an output under IsPrd and InUs.
    assert_eq!(conditional_findings(CONDITIONAL), vec![]);
}

#[test]
fn depends_on_a_resource_the_referrer_can_exist_without_is_e3005() {
    let body = on_conditional("    Condition: NotDev\n", "");
    let found = conditional_findings(&body);
    assert!(
        found.contains(&(
            DEPENDS_ON_TARGET.to_string(),
            Some(19),
            "'Topic' will not exist when condition 'IsPrd' is False".to_string()
        )),
        "{found:#?}"
    );
}

#[test]
fn depends_on_names_the_referrers_condition_too_in_cfn_lint_order() {
    let body = on_conditional("    Condition: NotDev\n", "    Condition: InUs\n");
    let found = conditional_findings(&body);
    assert!(found.contains(&(
        DEPENDS_ON_TARGET.to_string(),
        Some(20),
        "'Topic' will not exist when condition 'InUs' is True and when condition 'IsPrd' is False"
            .to_string()
    )), "{found:#?}");
}

#[test]
fn getatt_without_allowed_values_may_reach_a_missing_target_and_is_w1001() {
    // Without AllowedValues, Env may be 'tst': not dev, and not prd either.
    let body = on_conditional("    AllowedValues: [dev, prd]\n", "");
    let found = conditional_findings(&body);
    assert!(found.contains(&(
        MAY_BE_UNAVAILABLE.to_string(),
        Some(21),
        "GetAtt to resource 'Topic' that may not be available when condition 'IsPrd' is False and when condition 'NotDev' is True at Resources/Queue/Properties/QueueName".to_string()
    )), "{found:#?}");
    // The other references stay safe: a branch of IsPrd itself, and IsDev false is
    // not IsPrd true only when Env may be something else.
    assert!(
        found.iter().all(|(_, line, _)| *line != Some(25)),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|(_, line, _)| *line == Some(26)),
        "{found:#?}"
    );
}

#[test]
fn a_reference_in_the_wrong_branch_of_fn_if_is_w1001_with_that_branch() {
    let body = on_conditional(
        "!If [IsPrd, !Ref Topic, !Ref AWS::NoValue]",
        "!If [IsPrd, !Ref AWS::NoValue, !Ref Topic]",
    );
    let found = conditional_findings(&body);
    assert_eq!(
        found,
        vec![(
            MAY_BE_UNAVAILABLE.to_string(),
            Some(26),
            "Ref to resource 'Topic' that may not be available when condition 'IsPrd' is False at Resources/Other/Properties/QueueName/Fn::If/2".to_string()
        )]
    );
}

#[test]
fn an_unconditional_referrer_of_a_conditional_resource_is_w1001() {
    let body = on_conditional("    Condition: PrdInUs\n", "");
    let found = conditional_findings(&body);
    assert_eq!(
        found,
        vec![(
            MAY_BE_UNAVAILABLE.to_string(),
            Some(30),
            "Ref to resource 'Topic' that may not be available when condition 'IsPrd' is False at Outputs/TopicArn/Value".to_string()
        )]
    );
}

#[test]
fn or_and_region_conditions_that_do_not_imply_the_target_are_reported() {
    let either = on_conditional("    Condition: PrdInUs\n", "    Condition: PrdOrDev\n");
    assert_eq!(conditional_findings(&either).len(), 1);
    let region = on_conditional("    Condition: PrdInUs\n", "    Condition: InUs\n");
    assert_eq!(
        conditional_findings(&region)[0].2,
        "Ref to resource 'Topic' that may not be available when condition 'IsPrd' is False and when condition 'InUs' is True at Outputs/TopicArn/Value"
    );
}

#[test]
fn unreachable_branches_and_undecidable_conditions_raise_nothing() {
    // The false branch of IsPrd inside a resource under IsPrd is never taken.
    let nested = on_conditional(
        "    Properties:\n      QueueName: !GetAtt",
        "    Properties:\n      VisibilityTimeout: !If [IsPrd, 1, !Ref Topic]\n      QueueName: !GetAtt",
    );
    assert_eq!(conditional_findings(&nested), vec![]);
    // A condition on an imported value cannot be decided here: no guess.
    let imported = on_conditional(
        "  IsPrd: !Equals [!Ref Env, prd]",
        "  IsPrd: !Equals [!ImportValue shared-env, prd]",
    )
    .replace("    Condition: PrdInUs\n", "");
    assert_eq!(conditional_findings(&imported), vec![]);
}

// ---------------------------------------------------------------- cluster failover

const CLUSTER: &str = "\
Parameters:
  Ha:
    Type: String
    AllowedValues: ['true', 'false']
Conditions:
  IsHa: !Equals [!Ref Ha, 'true']
  NotHa: !Not [!Condition IsHa]
Resources:
  Params:
    Type: AWS::ElastiCache::ParameterGroup
    Properties:
      CacheParameterGroupFamily: redis7
      Description: cluster mode
      Properties:
        cluster-enabled: 'yes'
  Group:
    Type: AWS::ElastiCache::ReplicationGroup
    Properties:
      ReplicationGroupDescription: cache
      CacheParameterGroupName: !Ref Params
      AutomaticFailoverEnabled: !If [IsHa, true, false]
      NumCacheClusters: !If [NotHa, 1, 3]
";

fn cluster_findings(body: &str) -> Vec<(Option<u32>, String)> {
    let template = Template::parse("t.yaml", body).expect("test template parses");
    check(&template)
        .into_iter()
        .filter(|f| f.rule == CLUSTER_FAILOVER)
        .map(|f| (f.line, f.message))
        .collect()
}

#[test]
fn cluster_mode_without_failover_is_e3026_in_the_scenarios_that_reach_it() {
    // IsHa and NotHa together (or both false) are unreachable: only IsHa false remains.
    assert_eq!(
        cluster_findings(CLUSTER),
        vec![
            (Some(21), "\"AutomaticFailoverEnabled\" must be misssing or True when setting up a cluster when when condition \"IsHa\" is False and when condition \"NotHa\" is True at Resources/Group/Properties/AutomaticFailoverEnabled".to_string()),
            (Some(22), "\"NumCacheClusters\" must be greater than one when creating a cluster when when condition \"IsHa\" is False and when condition \"NotHa\" is True at Resources/Group/Properties/NumCacheClusters".to_string()),
        ]
    );
}

#[test]
fn cluster_mode_with_failover_and_replicas_or_node_groups_raises_nothing() {
    let ha = CLUSTER
        .replace("!If [IsHa, true, false]", "true")
        .replace("!If [NotHa, 1, 3]", "3");
    assert_eq!(cluster_findings(&ha), vec![]);
    let sharded = CLUSTER
        .replace("!If [IsHa, true, false]", "true")
        .replace("NumCacheClusters: !If [NotHa, 1, 3]", "NumNodeGroups: 3");
    assert_eq!(cluster_findings(&sharded), vec![]);
    let not_cluster = CLUSTER.replace("cluster-enabled: 'yes'", "cluster-enabled: 'no'");
    assert_eq!(cluster_findings(&not_cluster), vec![]);
}

#[test]
fn cluster_mode_without_conditions_is_e3026_once() {
    let plain = CLUSTER
        .replace("!If [IsHa, true, false]", "false")
        .replace("      NumCacheClusters: !If [NotHa, 1, 3]\n", "");
    assert_eq!(
        cluster_findings(&plain),
        vec![
            (Some(21), "\"AutomaticFailoverEnabled\" must be misssing or True when setting up a cluster at Resources/Group/Properties/AutomaticFailoverEnabled".to_string()),
            (Some(18), "\"NumCacheClusters\" must be greater than one when creating a cluster at Resources/Group/Properties/NumCacheClusters".to_string()),
        ]
    );
}

#[test]
fn parameter_constraints_keep_unreachable_values_out_of_the_scenarios() {
    let body = "\
Parameters:
  Count:
    Type: Number
    MinValue: 1
Conditions:
  HasCount: !Not [!Equals [!Ref Count, 0]]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Condition: HasCount
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !GetAtt Topic.TopicName
";
    // Count is at least 1, so HasCount always holds.
    assert_eq!(conditional_findings(body), vec![]);
    let unbounded = body.replace("    MinValue: 1\n", "");
    assert_eq!(
        conditional_findings(&unbounded),
        vec![(
            MAY_BE_UNAVAILABLE.to_string(),
            Some(13),
            "GetAtt to resource 'Topic' that may not be available when condition 'HasCount' is False at Resources/Queue/Properties/QueueName".to_string()
        )]
    );
}

// ---------------------------------------------------------------- Rules

/// The Rules section of the AWS documentation's examples (rules-section-structure), every rule
/// function in use; the failing cases below each break one thing in it.
const RULES: &str = "\
Parameters:
  Environment: {Type: String, AllowedValues: [test, prod]}
  InstanceType: {Type: String}
  VpcId: {Type: AWS::EC2::VPC::Id}
  Subnets: {Type: 'List<AWS::EC2::Subnet::Id>'}
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
Rules:
  testInstanceType:
    RuleCondition: !Equals [!Ref Environment, test]
    Assertions:
      - Assert:
          Fn::Contains: [[a1.medium], !Ref InstanceType]
        AssertDescription: For a test environment, the instance type must be a1.medium
  SubnetsInVPC:
    Assertions:
      - Assert:
          Fn::EachMemberEquals:
            - Fn::ValueOfAll: [AWS::EC2::Subnet::Id, VpcId]
            - Ref: VpcId
        AssertDescription: All subnets must be in the VPC
      - Assert: !EachMemberIn [!ValueOfAll [AWS::EC2::Subnet::Id, VpcId], !RefAll AWS::EC2::VPC::Id]
      - Assert: !And [!Not [!Contains [[default], !ValueOf [VpcId, Tags.Name]]], !Condition IsProd]
      - Assert: !Or [!Equals [!Ref AWS::Region, us-east-1], !EachMemberIn [!Ref Subnets, [subnet-1]]]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Join ['-', [!Ref Environment, !Ref InstanceType, !Ref VpcId]]
      DisplayName: !Join [',', !Ref Subnets]
Outputs:
  Name:
    Condition: IsProd
    Value: !GetAtt Topic.TopicName
";

fn rules_broken(from: &str, to: &str) -> String {
    assert!(RULES.contains(from), "{from} is not in the rules template");
    RULES.replacen(from, to, 1)
}

#[test]
fn rules_section_of_the_aws_documentation_raises_nothing() {
    assert_clean(RULES);
    assert_eq!(warnings(RULES), vec![]);
}

#[test]
fn rules_section_is_a_mapping_of_alphanumerically_named_rules() {
    let body = RULES.replace(
        "Rules:\n  testInstanceType:",
        "Rules:\n  NotARule: 5\n  test-instance-type:",
    );
    assert_fires(&body, RULES_CONFIGURATION, 9);
    assert_fires(&body, RULES_CONFIGURATION, 10);
    let (start, end) = (RULES.find("Rules:"), RULES.find("Resources:"));
    let (Some(start), Some(end)) = (start, end) else {
        panic!("the rules template has Rules and Resources");
    };
    let list = format!("{}Rules: [a]\n{}", &RULES[..start], &RULES[end..]);
    assert_fires(&list, RULES_CONFIGURATION, 8);
}

#[test]
fn a_rule_has_assertions_and_nothing_but_rule_condition_beside_them() {
    let unknown = rules_broken(
        "    RuleCondition:",
        "    Condition: IsProd\n    RuleCondition:",
    );
    assert_fires(&unknown, RULES_CONFIGURATION, 10);
    let missing = rules_broken(
        "  SubnetsInVPC:\n    Assertions:\n",
        "  SubnetsInVPC:\n    RuleCondition: true\n    Asserts:\n",
    );
    assert_fires(&missing, RULES_CONFIGURATION, 15);
    let not_a_list = rules_broken(
        "    Assertions:\n      - Assert:\n          Fn::Contains: [[a1.medium], !Ref InstanceType]\n        AssertDescription: For a test environment, the instance type must be a1.medium\n",
        "    Assertions: {Assert: true}\n",
    );
    assert_fires(&not_a_list, RULES_CONFIGURATION, 11);
}

#[test]
fn an_assertion_has_an_assert_and_a_string_description_only() {
    let no_assert = rules_broken(
        "      - Assert:\n          Fn::Contains: [[a1.medium], !Ref InstanceType]\n        AssertDescription",
        "      - AssertDescription",
    );
    assert_fires(&no_assert, RULES_CONFIGURATION, 12);
    // Keys beside them are not judged (AWS's samples carry an `AssetDescription` typo).
    let typo = rules_broken(
        "        AssertDescription: All subnets",
        "        AssetDescription: All subnets",
    );
    assert!(
        !findings(&typo)
            .iter()
            .any(|f| f.rule == RULES_CONFIGURATION),
        "{:?}",
        findings(&typo)
    );
    let description = rules_broken(
        "AssertDescription: All subnets must be in the VPC",
        "AssertDescription: [All subnets]",
    );
    assert_fires(&description, RULES_CONFIGURATION, 21);
    let scalar = rules_broken(
        "      - Assert: !EachMemberIn",
        "      - just text\n      - Assert: !EachMemberIn",
    );
    assert_fires(&scalar, RULES_CONFIGURATION, 22);
}

#[test]
fn assert_and_rule_condition_must_give_true_or_false() {
    let text = rules_broken(
        "      - Assert: !EachMemberIn",
        "      - Assert: hello\n      - Assert: !EachMemberIn",
    );
    assert_fires(&text, ASSERT_SHAPE, 22);
    let value = rules_broken(
        "      - Assert: !EachMemberIn",
        "      - Assert: !Ref VpcId\n      - Assert: !EachMemberIn",
    );
    assert_fires(&value, ASSERT_SHAPE, 22);
    let other_function = rules_broken(
        "    RuleCondition: !Equals [!Ref Environment, test]",
        "    RuleCondition: !Sub '${Environment}'",
    );
    assert_fires(&other_function, RULE_CONDITION_SHAPE, 10);
    let literal = rules_broken(
        "    RuleCondition: !Equals [!Ref Environment, test]",
        "    RuleCondition: false",
    );
    assert_clean(&literal);
}

#[test]
fn condition_functions_in_rules_take_their_usual_counts() {
    let and = rules_broken("!And [!Not [", "!And [[");
    assert_fires(
        &rules_broken(
            "!And [!Not [!Contains [[default], !ValueOf [VpcId, Tags.Name]]], !Condition IsProd]",
            "!And [!Condition IsProd]",
        ),
        AND_SHAPE,
        23,
    );
    assert_fires(&and, AND_SHAPE, 23);
    let not = rules_broken(
        "!Not [!Contains [[default], !ValueOf [VpcId, Tags.Name]]]",
        "!Not [true, false]",
    );
    assert_fires(&not, NOT_SHAPE, 23);
    let or = rules_broken("!Or [!Equals [!Ref AWS::Region, us-east-1], ", "!Or [");
    assert_fires(&or, OR_SHAPE, 24);
    let equals = rules_broken(
        "RuleCondition: !Equals [!Ref Environment, test]",
        "RuleCondition: !Equals [!Ref Environment]",
    );
    assert_fires(&equals, EQUALS_SHAPE, 10);
    let condition = rules_broken("!Condition IsProd]", "!Condition IsTest]");
    assert_fires(&condition, CONDITION_TARGET, 23);
}

#[test]
fn rule_function_arguments_have_their_documented_shapes() {
    // Fn::Contains: [list of strings, string].
    let contains = rules_broken(
        "Fn::Contains: [[a1.medium], !Ref InstanceType]",
        "Fn::Contains: [a1.medium, !Ref InstanceType]",
    );
    assert_fires(&contains, ASSERT_SHAPE, 13);
    let one = rules_broken(
        "Fn::Contains: [[a1.medium], !Ref InstanceType]",
        "Fn::Contains: [[a1.medium]]",
    );
    assert_fires(&one, ASSERT_SHAPE, 13);
    // Fn::EachMemberIn: two lists; Fn::ValueOfAll gives one, Fn::RefAll too.
    let in_text = rules_broken(
        "!EachMemberIn [!Ref Subnets, [subnet-1]]",
        "!EachMemberIn [!Ref Subnets, subnet-1]",
    );
    assert_fires(&in_text, ASSERT_SHAPE, 24);
    let list_as_string = rules_broken(
        "            - Ref: VpcId",
        "            - Fn::RefAll: AWS::EC2::VPC::Id",
    );
    assert_fires(&list_as_string, ASSERT_SHAPE, 20);
    // Fn::RefAll and Fn::ValueOfAll take AWS-specific parameter types.
    let ref_all = rules_broken("!RefAll AWS::EC2::VPC::Id", "!RefAll String");
    assert_fires(&ref_all, ASSERT_SHAPE, 22);
    let value_of_all = rules_broken(
        "Fn::ValueOfAll: [AWS::EC2::Subnet::Id, VpcId]",
        "Fn::ValueOfAll: [Subnets, VpcId]",
    );
    assert_fires(&value_of_all, ASSERT_SHAPE, 19);
    // Fn::ValueOf: [declared parameter, attribute].
    let undeclared = rules_broken("!ValueOf [VpcId, Tags.Name]", "!ValueOf [Vpc, Tags.Name]");
    assert_fires(&undeclared, ASSERT_SHAPE, 23);
    let shape = rules_broken("!ValueOf [VpcId, Tags.Name]", "!ValueOf VpcId");
    assert_fires(&shape, ASSERT_SHAPE, 23);
    // Operands are literals or functions that read parameters.
    let nested = rules_broken("!Ref InstanceType]", "!Sub '${InstanceType}']");
    assert_fires(&nested, ASSERT_SHAPE, 13);
    let in_condition = rules_broken(
        "RuleCondition: !Equals [!Ref Environment, test]",
        "RuleCondition: !Contains [test, !Ref Environment]",
    );
    assert_fires(&in_condition, RULE_CONDITION_SHAPE, 10);
}

#[test]
fn ref_in_a_rule_names_a_parameter_or_pseudo_parameter() {
    let undeclared = rules_broken("            - Ref: VpcId", "            - Ref: Vpc");
    assert_fires(&undeclared, REF_TARGET, 20);
    let resource = rules_broken("            - Ref: VpcId", "            - Ref: Topic");
    assert_fires(&resource, REF_TARGET, 20);
    let shape = rules_broken("            - Ref: VpcId", "            - Ref: [VpcId]");
    assert_fires(&shape, REF_SHAPE, 20);
}

#[test]
fn rule_functions_outside_rules_are_rejected_where_they_stand() {
    let property = rules_broken(
        "      DisplayName: !Join [',', !Ref Subnets]",
        "      DisplayName: !ValueOf [VpcId, Tags.Name]",
    );
    assert_fires(&property, RULE_FUNCTION_IN_RESOURCE, 30);
    let in_if = rules_broken(
        "      DisplayName: !Join [',', !Ref Subnets]",
        "      DisplayName: !If [IsProd, !Contains [[a], b], y]",
    );
    assert_fires(&in_if, RULE_FUNCTION_IN_RESOURCE, 30);
    let output = rules_broken(
        "    Value: !GetAtt Topic.TopicName",
        "    Value: !RefAll AWS::EC2::VPC::Id",
    );
    assert_fires(&output, RULE_FUNCTION_IN_OUTPUT, 34);
    let export = rules_broken(
        "    Value: !GetAtt Topic.TopicName",
        "    Value: x\n    Export:\n      Name: !ValueOf [VpcId, Tags.Name]",
    );
    assert_fires(&export, RULE_FUNCTION_IN_EXPORT, 36);
    // Inside a function that checks its arguments, that function's rule reports it, once.
    let joined = rules_broken(
        "!Join [',', !Ref Subnets]",
        "!Join [',', [!ValueOfAll [AWS::EC2::Subnet::Id, VpcId]]]",
    );
    let found = findings(&joined);
    assert_eq!(
        found
            .iter()
            .map(|f| (f.rule.as_str(), f.line))
            .collect::<Vec<_>>(),
        [(JOIN_SHAPE, Some(30))],
        "{found:#?}"
    );
    // In Conditions, a rule function is no condition function.
    let condition = rules_broken(
        "  IsProd: !Equals [!Ref Environment, prod]",
        "  IsProd: !Contains [[prod], !Ref Environment]",
    );
    assert_fires(&condition, CONDITION_CONFIGURATION, 7);
}

// ---------------------------------------------------------------- passwords

const PASSWORDS: &str = "\
Parameters:
  DbPassword: {Type: String, NoEcho: true}
  AdminPassword: {Type: String}
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      MasterUserPassword: !Ref DbPassword
  Directory:
    Type: AWS::DirectoryService::SimpleAD
    Properties:
      Password: '{{resolve:secretsmanager:ad:SecretString:password}}'
  User:
    Type: AWS::IAM::User
    Properties:
      LoginProfile:
        Password: '{{resolve:ssm-secure:/users/initial}}'
  Ad:
    Type: AWS::DirectoryService::MicrosoftAD
    Properties:
      Password: !Ref AdminPassword
";

#[test]
fn password_parameter_without_no_echo_is_w2501_at_its_declaration() {
    let body = PASSWORDS.replace(
        "!Ref AdminPassword",
        "!If [Never, !Ref DbPassword, !Ref AWS::NoValue]",
    );
    let body = body.replace("  AdminPassword: {Type: String}\n", "");
    let body = format!("Conditions:\n  Never: !Equals [a, b]\n{body}");
    assert_eq!(warnings(&body), vec![]);
    assert_eq!(warnings(PASSWORDS), vec![warned(PASSWORD_PROPERTY, 3)]);
    let masked = PASSWORDS.replace(
        "AdminPassword: {Type: String}",
        "AdminPassword: {Type: String, NoEcho: 'true'}",
    );
    assert_eq!(warnings(&masked), vec![]);
    let not_masked = PASSWORDS.replace("NoEcho: true", "NoEcho: false");
    assert_eq!(
        warnings(&not_masked),
        vec![warned(PASSWORD_PROPERTY, 2), warned(PASSWORD_PROPERTY, 3)]
    );
}

#[test]
fn password_written_in_the_template_or_read_from_plain_ssm_is_w2501() {
    let literal = PASSWORDS
        .replace("!Ref AdminPassword", "hunter2hunter2")
        .replace("  AdminPassword: {Type: String}\n", "");
    assert_eq!(warnings(&literal), vec![warned(PASSWORD_PROPERTY, 20)]);
    let plain_ssm = PASSWORDS.replace(
        "{{resolve:ssm-secure:/users/initial}}",
        "{{resolve:ssm:/users/initial}}",
    );
    assert_eq!(
        warnings(&plain_ssm),
        vec![warned(PASSWORD_PROPERTY, 17), warned(PASSWORD_PROPERTY, 3)]
    );
}
