//! Unit tests of template parsing: tag expansion, value types, positions and rejected input.

use serde_json::json;

use super::*;

fn parse(body: &str) -> Template {
    match Template::parse("t.yaml", body) {
        Ok(t) => t,
        Err(e) => panic!("template should parse: {e}"),
    }
}

fn parse_err(body: &str) -> ParseError {
    match Template::parse("t.yaml", body) {
        Ok(t) => panic!("template should not parse: {:?}", t.value),
        Err(e) => e,
    }
}

/// The long form of `X: <short>` under a one-key mapping.
fn expand(short: &str) -> serde_json::Value {
    parse(&format!("X: {short}\n"))["X"].clone()
}

impl std::ops::Index<&str> for Template {
    type Output = serde_json::Value;
    fn index(&self, key: &str) -> &serde_json::Value {
        &self.value[key]
    }
}

#[test]
fn every_short_form_tag_expands_to_its_long_form() {
    let cases = [
        ("!Ref Vpc", json!({"Ref": "Vpc"})),
        ("!GetAtt Db.Port", json!({"Fn::GetAtt": ["Db", "Port"]})),
        ("!GetAtt [Db, Port]", json!({"Fn::GetAtt": ["Db", "Port"]})),
        (
            "!Sub '${AWS::Region}-x'",
            json!({"Fn::Sub": "${AWS::Region}-x"}),
        ),
        (
            "!Sub ['${A}-x', {A: !Ref B}]",
            json!({"Fn::Sub": ["${A}-x", {"A": {"Ref": "B"}}]}),
        ),
        (
            "!Join ['-', [a, b]]",
            json!({"Fn::Join": ["-", ["a", "b"]]}),
        ),
        (
            "!Select [0, !GetAZs '']",
            json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        ),
        ("!Split [',', 'a,b']", json!({"Fn::Split": [",", "a,b"]})),
        ("!If [IsPrd, 3, 1]", json!({"Fn::If": ["IsPrd", 3, 1]})),
        (
            "!Equals [!Ref Env, prd]",
            json!({"Fn::Equals": [{"Ref": "Env"}, "prd"]}),
        ),
        (
            "!And [!Condition A, !Condition B]",
            json!({"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
        ),
        (
            "!Or [!Condition A, !Condition B]",
            json!({"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}),
        ),
        (
            "!Not [!Condition A]",
            json!({"Fn::Not": [{"Condition": "A"}]}),
        ),
        (
            "!FindInMap [M, !Ref AWS::Region, Ami]",
            json!({"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Ami"]}),
        ),
        ("!GetAZs", json!({"Fn::GetAZs": ""})),
        (
            "!ImportValue shared-vpc-id",
            json!({"Fn::ImportValue": "shared-vpc-id"}),
        ),
        ("!Base64 hello", json!({"Fn::Base64": "hello"})),
        (
            "!Cidr [10.0.0.0/16, 4, 8]",
            json!({"Fn::Cidr": ["10.0.0.0/16", 4, 8]}),
        ),
        (
            "!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}",
            json!({"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}}),
        ),
        ("!Condition IsPrd", json!({"Condition": "IsPrd"})),
    ];
    for (short, long) in cases {
        assert_eq!(expand(short), long, "{short}");
    }
}

#[test]
fn getatt_splits_at_the_first_dot_only() {
    assert_eq!(
        expand("!GetAtt Db.Endpoint.Address"),
        json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]})
    );
}

#[test]
fn getatt_without_a_dot_is_rejected_with_its_line() {
    let e = parse_err("A: 1\nX: !GetAtt Db\n");
    assert_eq!(e.line, Some(2));
}

#[test]
fn block_style_tagged_sequences_expand_with_nested_tags() {
    let t = parse(
        "X: !Join\n  - ''\n  - - 'arn:'\n    - !Ref AWS::Partition\n    - !Sub ':s3:::${B}'\n",
    );
    assert_eq!(
        t["X"],
        json!({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, {"Fn::Sub": ":s3:::${B}"}]]})
    );
}

#[test]
fn unknown_tag_is_read_as_a_function_and_recorded_with_its_line() {
    let t = parse("A: 1\nB:\n  C: !Reff Vpc\n");
    assert_eq!(t.value["B"]["C"], json!({"Fn::Reff": "Vpc"}));
    assert_eq!(
        t.unknown_tags,
        [crate::template::UnknownTag {
            line: 3,
            tag: "!Reff".into()
        }]
    );
    assert!(!crate::template::is_function_key("Fn::Reff"));
    assert!(crate::template::is_function_key("Fn::Sub"));
}

#[test]
fn rule_function_short_forms_expand_to_their_long_forms() {
    let t = parse(
        "A: !Contains [[a], !ValueOf [Vpc, Tags.Env]]\nB: !EachMemberEquals [!ValueOfAll [AWS::EC2::Subnet::Id, VpcId], !Ref Vpc]\nC: !EachMemberIn [!RefAll AWS::EC2::VPC::Id, [vpc-1]]\n",
    );
    assert!(t.unknown_tags.is_empty(), "{:?}", t.unknown_tags);
    assert_eq!(
        t.value["A"],
        json!({"Fn::Contains": [["a"], {"Fn::ValueOf": ["Vpc", "Tags.Env"]}]})
    );
    assert_eq!(
        t.value["B"],
        json!({"Fn::EachMemberEquals": [{"Fn::ValueOfAll": ["AWS::EC2::Subnet::Id", "VpcId"]}, {"Ref": "Vpc"}]})
    );
    assert_eq!(
        t.value["C"],
        json!({"Fn::EachMemberIn": [{"Fn::RefAll": "AWS::EC2::VPC::Id"}, ["vpc-1"]]})
    );
}

#[test]
fn yaml_scalars_keep_their_json_types() {
    let t = parse("I: 42\nF: 1.5\nB: true\nS: hello\nQ: '42'\nD: \"true\"\nN: null\nY: yes\n");
    assert_eq!(
        t.value,
        json!({"I": 42, "F": 1.5, "B": true, "S": "hello", "Q": "42", "D": "true", "N": null, "Y": "yes"})
    );
}

#[test]
fn yaml_syntax_error_reports_its_line_and_column() {
    let e = parse_err("Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n   Bad: [unclosed\n");
    assert_eq!(e.line, Some(4), "{e:?}");
    assert!(e.column.is_some());
}

#[test]
fn yaml_duplicate_key_is_rejected_with_the_second_keys_line() {
    let e = parse_err("Resources:\n  Vpc:\n    Type: A\n  Vpc:\n    Type: B\n");
    assert_eq!(e.line, Some(4), "{e:?}");
    assert!(e.message.contains("duplicate"), "{}", e.message);
}

#[test]
fn json_syntax_error_reports_its_line_and_column() {
    let e = parse_err("{\n  \"Resources\": {\n    \"Vpc\": {\"Type\": \"A\",}\n  }\n}\n");
    assert_eq!(e.line, Some(3), "{e:?}");
    assert!(e.column.is_some());
}

#[test]
fn json_duplicate_key_is_rejected_with_its_line() {
    let e = parse_err(
        "{\n \"Resources\": {\n  \"A\": {\"Type\": \"x\"},\n  \"A\": {\"Type\": \"y\"}\n }\n}",
    );
    assert_eq!(e.line, Some(4), "{e:?}");
}

#[test]
fn json_template_records_resource_lines_and_keeps_order() {
    let body = "{\n  \"Resources\": {\n    \"Zeta\": {\"Type\": \"A\"},\n    \"Alpha\": {\n      \"Type\": \"B\",\n      \"Properties\": {\"Name\": \"a\\\"b\"}\n    }\n  }\n}\n";
    let t = parse(body);
    assert_eq!(t.resource_line("Zeta"), Some(3));
    assert_eq!(t.resource_line("Alpha"), Some(4));
    assert_eq!(t.line_at("/Resources/Alpha/Properties/Name"), Some(6));
    let ids: Vec<&String> = t
        .resources()
        .map(|r| r.keys().collect())
        .unwrap_or_default();
    assert_eq!(ids, ["Zeta", "Alpha"]);
}

#[test]
fn yaml_records_the_line_of_every_node() {
    let t = parse(
        "Parameters:\n  Env:\n    Type: String\nResources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.0.0.0/16\n      Tags:\n        - Key: Environment\n          Value: !Ref Env\n",
    );
    assert_eq!(t.resource_line("Vpc"), Some(5));
    assert_eq!(t.resource_line("Nope"), None);
    assert_eq!(t.line_at("/Resources/Vpc/Properties/CidrBlock"), Some(8));
    assert_eq!(t.line_at("/Resources/Vpc/Properties/Tags/0"), Some(10));
    assert_eq!(
        t.line_at("/Resources/Vpc/Properties/Tags/0/Value/Ref"),
        Some(11)
    );
    // A property that is not there is located at its nearest ancestor.
    assert_eq!(
        t.line_at("/Resources/Vpc/Properties/Missing/Deeper"),
        Some(7)
    );
    assert_eq!(t.resource_type("Vpc"), Some("AWS::EC2::VPC"));
}

#[test]
fn logical_ids_with_slashes_are_escaped_in_pointers() {
    let t = parse("Resources:\n  a/b~c:\n    Type: X\n");
    assert_eq!(t.resource_line("a/b~c"), Some(2));
    assert_eq!(t.line_at("/Resources/a~1b~0c/Type"), Some(3));
}

#[test]
fn parameters_are_listed_in_template_order_with_defaults() {
    let t = parse("Parameters:\n  Zone:\n    Type: String\n    Default: a\n  Count:\n    Type: Number\n    Default: 3\nResources: {}\n");
    let params = t.parameters();
    assert_eq!(params.len(), 2);
    assert_eq!(params[0].name, "Zone");
    assert_eq!(params[0].default.as_deref(), Some("a"));
    assert_eq!(params[1].param_type, "Number");
    assert_eq!(params[1].default.as_deref(), Some("3"));
}

#[test]
fn empty_and_non_mapping_bodies_are_rejected() {
    assert!(Template::parse("t", "").is_err());
    assert!(Template::parse("t", "# only a comment\n").is_err());
    assert!(Template::parse("t", "- a\n- b\n").is_err());
}

#[test]
fn second_yaml_document_is_rejected() {
    let e = parse_err("A: 1\n---\nB: 2\n");
    assert_eq!(e.line, Some(3));
}

#[test]
fn body_starting_with_a_brace_is_read_as_json_only() {
    let e = parse_err("{Resources: {Vpc: {Type: !Ref T}}}");
    assert_eq!(e.line, Some(1));
}

// ---------------------------------------------------------------- hostile input

/// Nesting far deeper than any template, in every form that nests.
fn deeply_nested(levels: usize) -> Vec<(&'static str, String)> {
    vec![
        (
            "block sequences",
            format!("A:\n  {}x\n", "- ".repeat(levels)),
        ),
        ("explicit keys", format!("A:\n  {}x\n", "? ".repeat(levels))),
        (
            "flow sequences",
            format!("A: {}x{}\n", "[".repeat(levels), "]".repeat(levels)),
        ),
        (
            "flow mappings",
            format!("A: {}x{}\n", "{a: ".repeat(levels), "}".repeat(levels)),
        ),
        (
            "tags in flow sequences",
            format!("A: {}x{}\n", "[!Ref ".repeat(levels), "]".repeat(levels)),
        ),
        (
            "json arrays",
            format!("{{\"A\": {}1{}}}", "[".repeat(levels), "]".repeat(levels)),
        ),
    ]
}

#[test]
fn nesting_100k_levels_deep_is_an_error_not_a_crash() {
    for (form, body) in deeply_nested(100_000) {
        let e = parse_err(&body);
        assert!(e.line.is_some(), "{form}: {e}");
    }
}

#[test]
fn nesting_as_deep_as_real_templates_still_parses() {
    let body = format!("A:\n  {}x\n", "- ".repeat(60));
    parse(&body);
    let body = format!("A:\n  {}x\n", "- ".repeat(300));
    let e = parse_err(&body);
    assert!(e.message.contains("deeper than 128"), "{e}");
    let body = format!("{{\"A\": {}1{}}}", "[".repeat(60), "]".repeat(60));
    parse(&body);
}

/// A few hundred seeded mutations of a YAML and a JSON template: each parses or is an error,
/// none panics (the long run is `cargo bench -p infra-agent-shared --bench fuzz_parser`).
#[test]
fn mutated_templates_are_errors_never_panics() {
    const SEEDS: [&str; 2] = [
        "Parameters:\n  Env: {Type: String, Default: dev}\nResources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: !If [IsPrd, 10.0.0.0/16, !Ref Cidr]\n      Tags:\n        - {Key: Name, Value: !Sub '${Env}-vpc'}\n        - Key: Az\n          Value: !Select [0, !GetAZs '']\n  Log: &log\n    Type: AWS::EC2::FlowLog\n    Properties: {ResourceId: !GetAtt Vpc.Id}\n",
        "{\"Resources\": {\"Db\": {\"Type\": \"AWS::RDS::DBInstance\", \"Properties\": {\"Port\": 5432, \"Tags\": [{\"Key\": \"a\\u00e9\", \"Value\": {\"Ref\": \"Env\"}}]}}}}",
    ];
    const TOKENS: [&str; 16] = [
        "!Ref ",
        "!GetAtt ",
        "!Sub ",
        "!If ",
        "!Bogus ",
        "&a ",
        "*a",
        "<<: *log\n",
        "? ",
        "- ",
        "[",
        "{",
        "\t",
        "\u{feff}",
        "1e999",
        "\"\\ud800\"",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    };
    for case in 0..400 {
        let mut bytes = SEEDS[case % SEEDS.len()].as_bytes().to_vec();
        for _ in 0..1 + next() % 3 {
            let at = next() % (bytes.len() + 1);
            match next() % 5 {
                0 if at < bytes.len() => bytes[at] ^= 1 << (next() % 8),
                1 => bytes.truncate(at),
                2 => {
                    let token = TOKENS[next() % TOKENS.len()];
                    bytes.splice(at..at, token.bytes());
                }
                3 => bytes.insert(at, next() as u8),
                _ => {
                    let end = (at + next() % 40).min(bytes.len());
                    let chunk = bytes[at..end].to_vec();
                    bytes.splice(at..at, chunk);
                }
            }
        }
        let body = String::from_utf8_lossy(&bytes);
        let _ = Template::parse("fuzz.yaml", &body);
    }
}

#[test]
fn aliases_of_aliases_are_refused_before_they_expand() {
    // Found by fuzzing: a tag hides its subtree from the YAML reader's own alias budget, so
    // ten levels of ten aliases each would build 10^8 nodes.
    let mut body = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..8 {
        let p = i - 1;
        let tag = if i == 3 { "!GetAtt " } else { "" };
        body.push_str(&format!(
            "a{i}: {tag}&a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    body.push_str("Resources: *a7\n");
    let e = parse_err(&body);
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("itself holds aliases"), "{e}");
}

#[test]
fn aliases_copying_megabytes_are_refused() {
    let big = format!("big: &big '{}'\n", "x".repeat(100_000));
    let body = format!("{big}Resources:\n{}", "  - *big\n".repeat(20));
    let e = parse_err(&body);
    assert!(e.message.contains("aliases copy more than"), "{e}");
}

#[test]
fn aliases_of_plain_nodes_still_expand() {
    let t = parse(
        "Tags: &tags\n  - {Key: A, Value: b}\nSame: &one {Key: A}\nResources:\n  X:\n    Tags: *tags\n    Also: [*one, *one]\n",
    );
    assert_eq!(t["Resources"]["X"]["Tags"][0]["Key"], "A");
    assert_eq!(t["Resources"]["X"]["Also"][1]["Key"], "A");
}

#[test]
fn deep_block_nesting_after_a_second_byte_order_mark_is_an_error() {
    // Found by fuzzing: only the first BOM is stripped, and the depth bound stopped at the second.
    let body = format!("\u{feff}\u{feff}  {}x\n", "- ".repeat(80_000));
    let e = parse_err(&body);
    assert!(e.message.contains("deeper than"), "{e}");
}

#[test]
fn tagged_scalars_are_strings_as_written() {
    let t = parse("A: !Ref 1\nB: !Not\n  - !Equals\n  - x\nC: !Condition true\nD: !Base64 0x1F\n");
    assert_eq!(t["A"], json!({"Ref": "1"}));
    assert_eq!(t["B"], json!({"Fn::Not": [{"Fn::Equals": ""}, "x"]}));
    assert_eq!(t["C"], json!({"Condition": "true"}));
    assert_eq!(t["D"], json!({"Fn::Base64": "0x1F"}));
    assert_eq!(t.line_at("/B/Fn::Not/0/Fn::Equals"), Some(3));
}

// ---------------------------------------------------------------- what libyaml reads

/// The KMS key policy written as JSON under its key, closing brace at the key's indentation:
/// CloudFormation and cfn-lint read it.
pub(crate) const KMS_FLOW_POLICY: &str = r#"Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy: {
        "Version": "2012-10-17",
        "Statement": [ { "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*" } ]
      }
"#;

#[test]
fn flow_mapping_closed_at_its_keys_indentation_is_read_with_lines() {
    let t = parse(KMS_FLOW_POLICY);
    assert_eq!(
        t["Resources"]["Key"]["Properties"]["KeyPolicy"],
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}]})
    );
    assert_eq!(t.line_at("/Resources/Key/Properties/KeyPolicy"), Some(5));
    assert_eq!(
        t.line_at("/Resources/Key/Properties/KeyPolicy/Version"),
        Some(6)
    );
    assert_eq!(
        t.line_at("/Resources/Key/Properties/KeyPolicy/Statement/0/Action"),
        Some(7)
    );
}

#[test]
fn flow_sequence_lines_under_their_key_are_read_with_lines() {
    let t =
        parse("A:\n  B: [!Ref X,\n!GetAtt Y.Arn,\n# a comment ] with a bracket\n  'z'\n]\nC: 1\n");
    assert_eq!(
        t["A"]["B"],
        json!([{"Ref": "X"}, {"Fn::GetAtt": ["Y", "Arn"]}, "z"])
    );
    assert_eq!(t.line_at("/A/B/1/Fn::GetAtt"), Some(3));
    assert_eq!(t.line_at("/A/B/2"), Some(5));
    assert_eq!(t.line_at("/C"), Some(7));
}

#[test]
fn double_quoted_scalar_continued_at_its_keys_indentation_is_read_with_lines() {
    let t = parse("A:\n  B: !Sub \"arn:${AWS::Partition} \\\"x\\\" #\n  y\\\n  z\"\n  C: 1\n");
    assert_eq!(
        t["A"]["B"],
        json!({"Fn::Sub": "arn:${AWS::Partition} \"x\" # yz"})
    );
    assert_eq!(t.line_at("/A/B/Fn::Sub"), Some(2));
    assert_eq!(t.line_at("/A/C"), Some(5));
}

#[test]
fn single_quoted_scalar_continued_under_its_key_is_read_with_lines() {
    let t = parse("A:\n  B: 'it''s\nfolded'\n  C: 1\n");
    assert_eq!(t["A"]["B"], json!("it's folded"));
    assert_eq!(t.line_at("/A/C"), Some(4));
}

#[test]
fn plain_scalar_continued_under_its_key_inside_a_flow_node_is_read() {
    let t = parse("A:\n  B: {C: two\nwords, D: [x\ny]}\n  E: 1\r\n");
    assert_eq!(
        t["A"],
        json!({"B": {"C": "two words", "D": ["x y"]}, "E": 1})
    );
    assert_eq!(t.line_at("/A/B/D"), Some(3));
    assert_eq!(t.line_at("/A/E"), Some(5));
}

#[test]
fn tab_after_a_keys_colon_is_read_as_libyaml_reads_it() {
    let t = parse("A:\tx\nB: [a,\tb]\n");
    assert_eq!(t.value, json!({"A": "x", "B": ["a", "b"]}));
}

#[test]
fn what_libyaml_refuses_is_refused_with_its_line() {
    let cases = [
        // A multi-line plain scalar at its key's indentation is a new key without a colon.
        ("A:\n  B: x\n  y\n", None),
        ("A:\n  B: \"x\n---\n  y\"\n", None),
        ("A: 1\nB:\n\t# c\n", Some(3)),
        ("A:\n  - \tx\n", Some(2)),
        ("A: [a,\n- b]\n", None),
        ("...\nA: 1\n", Some(1)),
        ("A: 1\n...\nB: 2\n", Some(3)),
        ("A: &a 1\nB: &a 2\n", Some(2)),
        ("A: \"\u{7f}\"\n", Some(1)),
        ("~: 1\n", Some(1)),
        ("A: {B\n  C: 1}\n", Some(2)),
        ("A: [a, | b]\n", Some(1)),
        ("A: {: x}\n", Some(1)),
        ("A: [a:, b]\n", Some(1)),
        ("A: {a: 1, &x\n  b: 2}\n", Some(2)),
        ("A: &a`b 1\n", Some(1)),
        ("A: !GetAtt#x\n", Some(1)),
        ("---\n\tA: 1\n", Some(2)),
    ];
    for (body, line) in cases {
        let e = parse_err(body);
        if line.is_some() {
            assert_eq!(e.line, line, "{body:?}: {e}");
        }
    }
}

#[test]
fn syntax_error_on_a_relaid_line_reports_the_column_as_written() {
    let e = parse_err("A: [a,\nb c: d: e]\n");
    assert_eq!(e.line, Some(2), "{e:?}");
    // The second colon, as written (the line was indented past the bracket to be read).
    assert_eq!(e.column, Some(7), "{e:?}");
}

#[test]
fn block_scalar_ending_the_text_without_a_line_break_has_none() {
    let t = parse("A: 1\nB: |\n  x\n  y");
    assert_eq!(t["B"], json!("x\ny"));
    let t = parse("A: 1\nB: |+\n  x");
    assert_eq!(t["B"], json!("x"));
}

#[test]
fn comment_right_after_a_quote_or_comma_is_a_comment() {
    let t = parse("A: \"x\"# c\nB: [a,# c\n  b]\n");
    assert_eq!(t.value, json!({"A": "x", "B": ["a", "b"]}));
}

#[test]
fn block_scalar_ends_at_a_line_indented_less_than_its_content() {
    let t = parse("A: |\n    x\n  # a comment\nB: 1");
    assert_eq!(t.value, json!({"A": "x\n", "B": 1}));
}

#[test]
fn non_specific_tag_leaves_a_scalar_a_string_as_written() {
    let t = parse("A: ! 1\nB: !\nC: ! [1]\n");
    assert_eq!(t.value, json!({"A": "1", "B": "", "C": [1]}));
}

#[test]
fn empty_tagged_flow_entry_leaves_the_next_key_its_own_line() {
    let t = parse("A: [!Ref # c\n  ,\n  {b: 1}]\n");
    assert_eq!(t.value, json!({"A": [{"Ref": ""}, {"b": 1}]}));
}

#[test]
fn colon_starting_a_flow_scalar_is_refused_as_libyaml_refuses_it() {
    // `{CidrIpv6: ::/0}` is YAML 1.2 but not what cfn-lint reads; quoted or in block style it is.
    assert!(Template::parse("t.yaml", "A: {CidrIpv6: ::/0}\n").is_err());
    assert_eq!(
        parse("A: {CidrIpv6: '::/0'}\nB:\n  CidrIpv6: ::/0\n").value,
        json!({"A": {"CidrIpv6": "::/0"}, "B": {"CidrIpv6": "::/0"}})
    );
}
