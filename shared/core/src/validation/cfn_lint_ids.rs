//! Holds our rule ids to cfn-lint's: users and suppressions key on them, so an id we emit must be
//! one cfn-lint 1.x has, with its severity class (data: `scripts/gen-resource-schemas`), but for
//! the exceptions `SEVERITY_EXCEPTIONS` names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::suppression::RENAMED;
use super::{validate_template, Severity, ValidationContext};

const DATA: &str = include_str!("../../data/cfn-lint-rules.json");

#[derive(Deserialize)]
struct RuleList {
    source: String,
    rules: BTreeMap<String, RuleEntry>,
}

#[derive(Deserialize)]
struct RuleEntry {
    severity: String,
}

fn cfn_lint_rules() -> RuleList {
    serde_json::from_str(DATA).expect("cfn-lint-rules.json loads")
}

fn severity_of(entry: &RuleEntry) -> Option<Severity> {
    match entry.severity.as_str() {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        _ => None,
    }
}

/// Whether `text` is shaped like a cfn-lint id: E or W and four digits.
fn is_cfn_lint_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 5 && matches!(bytes[0], b'E' | b'W') && bytes[1..].iter().all(u8::is_ascii_digit)
}

/// Every `"E1234"`/`"W1234"` string literal in the validator's sources (tests excluded), with
/// the file it is in: the ids the validator can emit.
fn ids_in_sources() -> Vec<(String, PathBuf)> {
    fn visit(dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("validation sources are readable")
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                visit(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "tests.rs")
                && path.file_name().is_some_and(|n| n != "cfn_lint_ids.rs")
            {
                let text = std::fs::read_to_string(&path).expect("source is readable");
                for literal in text.split('"').skip(1).step_by(2) {
                    // A retired id is only ever read (from old waivers), never emitted.
                    if is_cfn_lint_id(literal) && !RENAMED.iter().any(|(old, _)| *old == literal) {
                        out.push((literal.to_string(), path.clone()));
                    }
                }
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/validation");
    let mut out = Vec::new();
    visit(&root, &mut out);
    out
}

#[test]
fn rule_list_names_its_cfn_lint_version() {
    let list = cfn_lint_rules();
    assert!(list.source.starts_with("cfn-lint 1."), "{}", list.source);
    assert!(list.rules.contains_key("E1020"));
    assert!(!list.rules.contains_key("E1012"), "E1012 is gone in 1.x");
}

#[test]
fn retired_ids_waivers_still_name_map_to_live_cfn_lint_ids() {
    let list = cfn_lint_rules();
    for (old, new) in RENAMED {
        assert!(
            !list.rules.contains_key(old),
            "{old} is still a cfn-lint rule"
        );
        assert!(list.rules.contains_key(new), "{new} is not a cfn-lint rule");
    }
}

#[test]
fn every_rule_id_in_the_validator_is_a_cfn_lint_id_of_its_severity_class() {
    let list = cfn_lint_rules();
    let ids = ids_in_sources();
    assert!(ids.len() > 40, "the scan found too few ids: {ids:?}");
    let wrong: Vec<String> = ids
        .iter()
        .filter_map(|(id, file)| {
            let problem = match list.rules.get(id) {
                None => "cfn-lint has no such rule".to_string(),
                Some(entry) => {
                    let ours = if id.starts_with('W') {
                        "warning"
                    } else {
                        "error"
                    };
                    if entry.severity == ours {
                        return None;
                    }
                    format!("cfn-lint's is a {}, ours a {ours}", entry.severity)
                }
            };
            Some(format!("{id} in {}: {problem}", file.display()))
        })
        .collect();
    assert!(wrong.is_empty(), "{}: {wrong:#?}", list.source);
}

/// A template that makes the validator emit a good share of its rules, warnings among them.
const FIXTURE: &str = "\
Parameters:
  DbPassword: {Type: String}
  Unused: {Type: String}
Conditions:
  Never: !Equals [a, b]
Mappings:
  Map: {A: {B: c}}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  Subnet:
    Type: AWS::EC2::Subnet
    DependsOn: [Vpc, Ghost]
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.0.0.0/24
      AvailabilityZone: us-east-1a
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: mysql
      DBInstanceClass: db.t3.micro
      MasterUsername: admin
      MasterUserPassword: !Ref DbPassword
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub 'plain-${Nothing}'
      DisplayName: !Sub no-variables
      KmsMasterKeyId: !Ref Missing
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs16.x
      Handler: index.handler
      Role: !GetAtt Nowhere.Arn
      Code: {ZipFile: x}
";

/// The ids `.venv/bin/cfn-lint` (1.41.0) reports for `FIXTURE`, in its order.
const CFN_LINT_REPORTS: &[&str] = &[
    "W2501", "W2001", "W8001", "W8003", "W7001", "E3005", "W3005", "W3010", "W1011", "E1019",
    "W1020", "E1020", "E2533", "E1010",
];
/// Of those, the ones this validator does not check (yet).
const NOT_CHECKED: &[&str] = &["W8003", "W1011"];

/// Ids we emit at a severity other than cfn-lint's, each explained where it is declared: a
/// third-party registry type is cfn-lint's E3006, but a warning here (its type may be registered
/// in the account; only its properties go unchecked).
const SEVERITY_EXCEPTIONS: &[(&str, Severity)] = &[("E3006", Severity::Warning)];

#[test]
fn fixture_draws_the_ids_cfn_lint_reports_for_it() {
    let report = validate_template("fixture.yaml", FIXTURE, &ValidationContext::default());
    let mut ours: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.rule.as_str())
        .filter(|r| is_cfn_lint_id(r))
        .collect();
    ours.sort_unstable();
    ours.dedup();
    let mut expected: Vec<&str> = CFN_LINT_REPORTS
        .iter()
        .copied()
        .filter(|id| !NOT_CHECKED.contains(id))
        .collect();
    expected.sort_unstable();
    assert_eq!(ours, expected, "{:#?}", report.findings);
}

#[test]
fn every_finding_carries_cfn_lint_s_severity_for_its_id() {
    let list = cfn_lint_rules();
    let stacks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/stacks");
    let mut bodies = vec![
        ("fixture".to_string(), FIXTURE.to_string()),
        (
            "registry type".to_string(),
            "Resources:\n  Chart:\n    Type: AWSQS::Kubernetes::Helm\n".to_string(),
        ),
    ];
    for entry in std::fs::read_dir(&stacks).expect("infra/stacks is readable") {
        let path = entry.expect("directory entry").path();
        let body = std::fs::read_to_string(&path).expect("stack template is readable");
        bodies.push((path.display().to_string(), body));
    }
    for (name, body) in &bodies {
        let report = validate_template(name, body, &ValidationContext::default());
        let checked = report.findings.iter().filter(|f| {
            is_cfn_lint_id(&f.rule) && !SEVERITY_EXCEPTIONS.contains(&(f.rule.as_str(), f.severity))
        });
        for finding in checked {
            let entry = list.rules.get(&finding.rule).unwrap_or_else(|| {
                panic!(
                    "{name}: {} is not a cfn-lint rule: {finding:#?}",
                    finding.rule
                )
            });
            assert_eq!(
                severity_of(entry),
                Some(finding.severity),
                "{name}: {} is a cfn-lint {}: {finding:#?}",
                finding.rule,
                entry.severity
            );
        }
    }
}
