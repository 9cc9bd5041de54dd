//! Guard's verdict on a template, read from its structured JSON report into types that mirror
//! the parts of cfn-guard's own report (`FileReport`, `ClauseReport` …) that a finding needs.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::PolicyError;

/// One failed check: which rule, where in the template, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    /// JSON pointer of the offending value (or of the parent of a missing one).
    pub path: Option<String>,
    pub message: String,
}

/// Guard's verdict on one template, per rule.
#[derive(Debug, Clone, Default)]
pub struct GuardOutcome {
    pub violations: Vec<Violation>,
    pub failed: BTreeSet<String>,
    pub compliant: BTreeSet<String>,
    pub not_applicable: BTreeSet<String>,
}

impl GuardOutcome {
    pub(super) fn knows(&self, rule: &str) -> bool {
        self.failed.contains(rule)
            || self.compliant.contains(rule)
            || self.not_applicable.contains(rule)
    }

    /// Reads the report of guard's `validate` command: one entry per data file, and we pass one.
    pub(super) fn from_report(output: &str) -> Result<GuardOutcome, PolicyError> {
        let files: Vec<FileReport> = serde_json::from_str(output).map_err(unreadable)?;
        let Ok([file]) = <[FileReport; 1]>::try_from(files) else {
            return Err(PolicyError::Report(
                "expected a report for exactly one template".into(),
            ));
        };
        Ok(file.into_outcome())
    }

    /// Reads the report of guard's direct entry point: the one data file's entry on its own.
    pub(super) fn from_file_report(output: &str) -> Result<GuardOutcome, PolicyError> {
        let file: FileReport = serde_json::from_str(output).map_err(unreadable)?;
        Ok(file.into_outcome())
    }
}

fn unreadable(e: serde_json::Error) -> PolicyError {
    PolicyError::Report(e.to_string())
}

/// One data file's entry of guard's report. The rule-name lists are required: a report without
/// them says nothing of those rules, and a rule guard says nothing of must not pass.
#[derive(Debug, Deserialize)]
struct FileReport {
    not_compliant: Vec<FailedRule>,
    not_applicable: BTreeSet<String>,
    compliant: BTreeSet<String>,
}

/// Guard lists only whole rules at the top of `not_compliant`, each written `{"Rule": {…}}`.
#[derive(Debug, Deserialize)]
enum FailedRule {
    Rule(RuleReport),
}

#[derive(Debug, Deserialize)]
struct RuleReport {
    name: String,
    #[serde(default)]
    messages: Messages,
    /// The clauses that failed, in the order guard evaluated them.
    #[serde(default)]
    checks: Vec<ClauseReport>,
}

/// A message guard leaves empty is no message: the next candidate is read instead.
#[derive(Debug, Default, Deserialize)]
struct Messages {
    /// The rule author's `<<…>>` text.
    custom_message: Option<String>,
    /// Guard's own account of the failure.
    error_message: Option<String>,
}

impl Messages {
    fn custom(&self) -> Option<&str> {
        self.custom_message.as_deref().filter(|m| !m.is_empty())
    }

    fn error(&self) -> Option<&str> {
        self.error_message.as_deref().filter(|m| !m.is_empty())
    }
}

/// One failed clause of a rule, as guard nests them: a named rule it depends on, a block whose
/// query found nothing, the alternatives of an `or`, or one comparison.
#[derive(Debug, Deserialize)]
enum ClauseReport {
    Rule(RuleReport),
    Block(BlockReport),
    Disjunctions(Disjunctions),
    Clause(ClauseCheck),
}

#[derive(Debug, Deserialize)]
struct BlockReport {
    #[serde(default)]
    messages: Messages,
    /// Where the block's query stopped, when it stopped at a missing key.
    unresolved: Option<Unresolved>,
}

#[derive(Debug, Deserialize)]
struct Disjunctions {
    #[serde(default)]
    checks: Vec<ClauseReport>,
}

#[derive(Debug, Deserialize)]
enum ClauseCheck {
    Unary(UnaryReport),
    Binary(BinaryReport),
}

#[derive(Debug, Deserialize)]
struct UnaryReport {
    #[serde(default)]
    messages: Messages,
    check: UnaryCheck,
}

#[derive(Debug, Deserialize)]
enum UnaryCheck {
    UnResolved(UnresolvedComparison),
    Resolved(UnaryComparison),
    /// A check on a variable or a dependent rule: it names no value in the template.
    UnResolvedContext(IgnoredAny),
}

#[derive(Debug, Deserialize)]
struct UnaryComparison {
    value: ValueAt,
}

#[derive(Debug, Deserialize)]
struct BinaryReport {
    #[serde(default)]
    messages: Messages,
    check: BinaryCheck,
}

#[derive(Debug, Deserialize)]
enum BinaryCheck {
    UnResolved(UnresolvedComparison),
    Resolved(BinaryComparison),
    InResolved(InComparison),
}

#[derive(Debug, Deserialize)]
struct BinaryComparison {
    from: ValueAt,
    to: ValueAt,
}

#[derive(Debug, Deserialize)]
struct InComparison {
    from: ValueAt,
    to: Vec<ValueAt>,
}

/// A comparison whose query stopped at a missing key.
#[derive(Debug, Deserialize)]
struct UnresolvedComparison {
    value: Unresolved,
}

#[derive(Debug, Deserialize)]
struct Unresolved {
    /// The last value the query reached: the parent of the missing key.
    traversed_to: ValueAt,
}

/// A value guard looked at, by where it sits in the template.
#[derive(Debug, Deserialize)]
struct ValueAt {
    path: String,
    #[serde(default)]
    value: StringValue,
}

impl ValueAt {
    /// The JSON pointer a finding is placed at. Guard gives the rules' literals and the
    /// template's root the empty path, which places nothing. A path of `/Resources` with a
    /// string value is a key bound by a `Resources[ id | … ]` query: the value is the logical id.
    fn pointer(&self) -> Option<String> {
        match (self.path.as_str(), &self.value) {
            ("/Resources", StringValue(Some(id))) => {
                Some(crate::template::pointer::of("Resources", id))
            }
            ("", _) => None,
            (path, _) => Some(path.to_string()),
        }
    }
}

/// A value from the template guard quotes beside a path: only a string, a logical id, is ever
/// read, so anything else is skipped rather than built.
#[derive(Debug, Default)]
struct StringValue(Option<String>);

impl<'de> Deserialize<'de> for StringValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Seen;
        impl<'de> Visitor<'de> for Seen {
            type Value = StringValue;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E>(self, s: &str) -> Result<StringValue, E> {
                Ok(StringValue(Some(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<StringValue, E> {
                Ok(StringValue(Some(s)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<StringValue, E> {
                Ok(StringValue(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<StringValue, E> {
                Ok(StringValue(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<StringValue, E> {
                Ok(StringValue(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<StringValue, E> {
                Ok(StringValue(None))
            }
            fn visit_unit<E>(self) -> Result<StringValue, E> {
                Ok(StringValue(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<StringValue, A::Error> {
                while items.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StringValue(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StringValue, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StringValue(None))
            }
        }
        deserializer.deserialize_any(Seen)
    }
}

impl ClauseReport {
    /// Where the clause failed: the first value it looked at, depth first, before what that
    /// value was compared with.
    fn pointer(&self) -> Option<String> {
        match self {
            ClauseReport::Rule(rule) => rule.checks.iter().find_map(ClauseReport::pointer),
            ClauseReport::Block(block) => block.unresolved.as_ref()?.traversed_to.pointer(),
            ClauseReport::Disjunctions(or) => or.checks.iter().find_map(ClauseReport::pointer),
            ClauseReport::Clause(ClauseCheck::Unary(unary)) => match &unary.check {
                UnaryCheck::UnResolved(c) => c.value.traversed_to.pointer(),
                UnaryCheck::Resolved(c) => c.value.pointer(),
                UnaryCheck::UnResolvedContext(_) => None,
            },
            ClauseReport::Clause(ClauseCheck::Binary(binary)) => match &binary.check {
                BinaryCheck::UnResolved(c) => c.value.traversed_to.pointer(),
                BinaryCheck::Resolved(c) => c.from.pointer().or_else(|| c.to.pointer()),
                BinaryCheck::InResolved(c) => c
                    .from
                    .pointer()
                    .or_else(|| c.to.iter().find_map(ValueAt::pointer)),
            },
        }
    }

    /// The first message `pick` finds, depth first: a clause's own before those nested in it.
    fn message(&self, pick: fn(&Messages) -> Option<&str>) -> Option<&str> {
        match self {
            ClauseReport::Rule(rule) => {
                pick(&rule.messages).or_else(|| rule.checks.iter().find_map(|c| c.message(pick)))
            }
            ClauseReport::Block(block) => pick(&block.messages),
            ClauseReport::Disjunctions(or) => or.checks.iter().find_map(|c| c.message(pick)),
            ClauseReport::Clause(ClauseCheck::Unary(unary)) => pick(&unary.messages),
            ClauseReport::Clause(ClauseCheck::Binary(binary)) => pick(&binary.messages),
        }
    }
}

impl FileReport {
    /// One violation per failed clause, worded by the rule author where they wrote a message, by
    /// guard where not, by the rule's name where neither did.
    fn into_outcome(self) -> GuardOutcome {
        let mut outcome = GuardOutcome {
            compliant: self.compliant,
            not_applicable: self.not_applicable,
            ..GuardOutcome::default()
        };
        for FailedRule::Rule(rule) in self.not_compliant {
            if rule.checks.is_empty() {
                outcome.violations.push(Violation {
                    rule: rule.name.clone(),
                    path: None,
                    message: rule.messages.custom().unwrap_or(&rule.name).to_string(),
                });
            }
            for check in &rule.checks {
                let message = check
                    .message(Messages::custom)
                    .or_else(|| check.message(Messages::error))
                    .unwrap_or(&rule.name);
                outcome.violations.push(Violation {
                    rule: rule.name.clone(),
                    path: check.pointer(),
                    message: message.to_string(),
                });
            }
            outcome.failed.insert(rule.name);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Guard's report entry for one template, cut from real runs of the shipped rules (au.guard,
    /// sc.guard) on the template of `direct_guard_run_reports_what_the_validate_command_reports`.
    const FILE_REPORT: &str = r#"{
      "name": "template",
      "metadata": {},
      "status": "FAIL",
      "not_compliant": [
        {"Rule": {"name": "au2_vpc_flow_logs", "metadata": {},
          "messages": {"custom_message": null, "error_message": null},
          "checks": [{"Clause": {"Binary": {
            "context": " %vpc_id IN  %flow_log_targets",
            "messages": {
              "custom_message": "AU-2: this VPC has no AWS::EC2::FlowLog whose ResourceId is a Ref to it",
              "error_message": "Check was not compliant as property [/Resources[L:0,C:14]] was not present in [(resolved, Path=/Resources/Log/Properties/ResourceId/Ref[L:0,C:172] Value=\"Other\")]"
            },
            "check": {"InResolved": {
              "from": {"path": "/Resources", "value": "Vpc"},
              "to": [{"path": "/Resources/Log/Properties/ResourceId/Ref", "value": "Other"}],
              "comparison": ["In", false]
            }}
          }}}]
        }},
        {"Rule": {"name": "sc7_rds_not_public", "metadata": {},
          "messages": {"custom_message": null, "error_message": null},
          "checks": [{"Disjunctions": {"checks": [
            {"Clause": {"Unary": {
              "check": {"Resolved": {
                "value": {"path": "/Resources/Db/Properties/PubliclyAccessible", "value": true},
                "comparison": ["Exists", true]
              }},
              "context": " Properties.PubliclyAccessible not EXISTS  ",
              "messages": {
                "custom_message": "",
                "error_message": "Check was not compliant as property [/Resources/Db/Properties/PubliclyAccessible[L:0,C:306]] existed."
              }
            }}},
            {"Clause": {"Binary": {
              "context": " Properties.PubliclyAccessible EQUALS  false",
              "messages": {
                "custom_message": "SC-7: RDS instances must not be publicly accessible (PubliclyAccessible: false)",
                "error_message": "Check was not compliant as property value [Path=/Resources/Db/Properties/PubliclyAccessible[L:0,C:306] Value=true] not equal to value [Path=[L:0,C:0] Value=false]."
              },
              "check": {"Resolved": {
                "from": {"path": "/Resources/Db/Properties/PubliclyAccessible", "value": true},
                "to": {"path": "", "value": false},
                "comparison": ["Eq", false]
              }}
            }}}
          ]}}]
        }},
        {"Rule": {"name": "sc28_s3_bucket_encryption", "metadata": {},
          "messages": {"custom_message": null, "error_message": null},
          "checks": [{"Clause": {"Binary": {
            "context": " Properties.BucketEncryption.ServerSideEncryptionConfiguration[*].ServerSideEncryptionByDefault.SSEAlgorithm IN  [\"AES256\",\"aws:kms\",\"aws:kms:dsse\"]",
            "messages": {
              "custom_message": "SC-28: S3 buckets must declare default encryption (BucketEncryption)",
              "error_message": "Check was not compliant as property [BucketEncryption.ServerSideEncryptionConfiguration[*].ServerSideEncryptionByDefault.SSEAlgorithm] to compare from is missing. Value traversed to [Path=/Resources/Bucket/Properties[L:0,C:231] Value={}]."
            },
            "check": {"UnResolved": {
              "value": {
                "traversed_to": {"path": "/Resources/Bucket/Properties", "value": {}},
                "remaining_query": "BucketEncryption.ServerSideEncryptionConfiguration[*].ServerSideEncryptionByDefault.SSEAlgorithm",
                "reason": "Could not find key BucketEncryption inside struct at path /Resources/Bucket/Properties[L:0,C:231]"
              },
              "comparison": ["In", false]
            }}
          }}}]
        }}
      ],
      "not_applicable": ["au2_eks_control_plane_logging", "sc28_ebs_volume_encrypted"],
      "compliant": ["au3_flow_log_all_traffic"]
    }"#;

    fn violation(rule: &str, path: Option<&str>, message: &str) -> Violation {
        Violation {
            rule: rule.into(),
            path: path.map(str::to_string),
            message: message.into(),
        }
    }

    #[test]
    fn a_report_entry_reads_as_one_violation_per_failed_clause() {
        let outcome = GuardOutcome::from_file_report(FILE_REPORT);
        let Ok(outcome) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(
            outcome.violations,
            [
                // A logical id bound by `Resources[ vpc_id | … ]` is placed at its resource.
                violation(
                    "au2_vpc_flow_logs",
                    Some("/Resources/Vpc"),
                    "AU-2: this VPC has no AWS::EC2::FlowLog whose ResourceId is a Ref to it"
                ),
                // The first alternative places it; its empty message gives way to the next one's.
                violation(
                    "sc7_rds_not_public",
                    Some("/Resources/Db/Properties/PubliclyAccessible"),
                    "SC-7: RDS instances must not be publicly accessible (PubliclyAccessible: false)"
                ),
                // A missing key is placed at the value its query stopped at.
                violation(
                    "sc28_s3_bucket_encryption",
                    Some("/Resources/Bucket/Properties"),
                    "SC-28: S3 buckets must declare default encryption (BucketEncryption)"
                ),
            ]
        );
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            outcome.failed,
            names(&[
                "au2_vpc_flow_logs",
                "sc7_rds_not_public",
                "sc28_s3_bucket_encryption"
            ])
        );
        assert_eq!(
            outcome.not_applicable,
            names(&["au2_eks_control_plane_logging", "sc28_ebs_volume_encrypted"])
        );
        assert_eq!(outcome.compliant, names(&["au3_flow_log_all_traffic"]));
    }

    #[test]
    fn the_command_report_reads_as_its_one_entry() {
        let command = GuardOutcome::from_report(&format!("[{FILE_REPORT}]"));
        let direct = GuardOutcome::from_file_report(FILE_REPORT);
        let (Ok(command), Ok(direct)) = (command, direct) else {
            panic!("a report does not read");
        };
        assert_eq!(command.violations, direct.violations);
        assert_eq!(command.failed, direct.failed);
    }

    /// Shapes guard writes (`report_all_failed_clauses_for_rules`) that the shipped rules rarely
    /// produce: a block whose query found nothing, a check on a variable, a query stopped at the
    /// template's root, rules without clauses or with a dependent rule.
    #[test]
    fn guard_wording_and_rule_names_stand_in_for_missing_custom_messages() {
        let report = r#"{
          "not_compliant": [
            {"Rule": {"name": "block", "checks": [{"Block": {"context": "%x",
              "messages": {"custom_message": null, "error_message": "query for block clause did not retrieve any value"},
              "unresolved": null}}]}},
            {"Rule": {"name": "variable", "messages": {"custom_message": null},
              "checks": [{"Clause": {"Unary": {"context": "%x",
                "check": {"UnResolvedContext": "%x"},
                "messages": {"custom_message": "", "error_message": ""}}}}]}},
            {"Rule": {"name": "root", "checks": [{"Clause": {"Unary": {
              "check": {"UnResolved": {"value": {"traversed_to": {"path": "", "value": {"Outputs": {"path": "/Resources/X"}}},
                "remaining_query": "Resources", "reason": null}, "comparison": ["Exists", false]}},
              "messages": {"error_message": "Resources is missing"}}}}]}},
            {"Rule": {"name": "bare", "messages": {"custom_message": "said so"}, "checks": []}},
            {"Rule": {"name": "silent"}},
            {"Rule": {"name": "outer", "checks": [{"Rule": {"name": "inner",
              "messages": {"custom_message": "inner failed"}, "checks": []}}]}}
          ],
          "not_applicable": [],
          "compliant": []
        }"#;
        let outcome = GuardOutcome::from_file_report(report);
        let Ok(outcome) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(
            outcome.violations,
            [
                violation(
                    "block",
                    None,
                    "query for block clause did not retrieve any value"
                ),
                violation("variable", None, "variable"),
                // The template's root places nothing, whatever its data holds.
                violation("root", None, "Resources is missing"),
                violation("bare", None, "said so"),
                violation("silent", None, "silent"),
                violation("outer", None, "inner failed"),
            ]
        );
    }

    #[test]
    fn an_unexpected_report_is_an_error_not_a_pass() {
        let entry = |not_compliant: &str| {
            format!(
                r#"{{"not_compliant": [{not_compliant}], "not_applicable": [], "compliant": []}}"#
            )
        };
        let unexpected = [
            // A clause of a kind guard 3.2.1 does not write.
            entry(r#"{"Rule": {"name": "r", "checks": [{"Clause": {"Ternary": {}}}]}}"#),
            // A failure that is not a whole rule.
            entry(r#"{"Block": {"messages": {}, "unresolved": null}}"#),
            entry(r#"{"Rule": {"checks": []}}"#),
            entry(r#"{"Rule": {"name": 7}}"#),
            // A value without the path that places it.
            entry(
                r#"{"Rule": {"name": "r", "checks": [{"Clause": {"Unary": {
                    "check": {"Resolved": {"value": {"value": 1}}}}}}]}}"#,
            ),
            r#"{"not_compliant": [], "compliant": []}"#.to_string(),
            r#"{"not_compliant": [], "not_applicable": [1], "compliant": []}"#.to_string(),
            // The tail guard's direct entry point hands back of a report longer than its buffer.
            FILE_REPORT[FILE_REPORT.len() / 2..].to_string(),
            String::new(),
        ];
        for report in &unexpected {
            assert!(
                matches!(
                    GuardOutcome::from_file_report(report),
                    Err(PolicyError::Report(_))
                ),
                "{report}"
            );
        }
        for report in [
            "[]",
            &format!("[{FILE_REPORT}, {FILE_REPORT}]"),
            FILE_REPORT,
        ] {
            assert!(
                matches!(
                    GuardOutcome::from_report(report),
                    Err(PolicyError::Report(_))
                ),
                "{report}"
            );
        }
    }
}
