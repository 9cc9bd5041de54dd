//! NIST 800-53 policy: the guard rules under `infra/guard/`, embedded in the binary, run through
//! the `cfn-guard` engine as a library. Anything short of a clean guard run is an error.

use std::collections::BTreeSet;
use std::io::Cursor;
use std::sync::OnceLock;

use cfn_guard::commands::validate::{OutputFormatType, ShowSummaryType};
use cfn_guard::commands::{Executable, FAILURE_STATUS_CODE, SUCCESS_STATUS_CODE};
use cfn_guard::utils::reader::{ReadBuffer, Reader};
use cfn_guard::utils::writer::{WriteBuffer, Writer};
use cfn_guard::{CommandBuilder, ValidateBuilder};
use serde_json::Value;

use super::Severity;

/// One guard rules file: a name for messages and its text.
#[derive(Debug, Clone, Copy)]
pub struct RuleSource {
    pub file: &'static str,
    pub text: &'static str,
}

/// The policy shipped with the pipeline; embedded so the Lambda needs no files.
pub const RULE_FILES: [RuleSource; 4] = [
    RuleSource {
        file: "ac.guard",
        text: include_str!("../../../infra/guard/ac.guard"),
    },
    RuleSource {
        file: "au.guard",
        text: include_str!("../../../infra/guard/au.guard"),
    },
    RuleSource {
        file: "cm.guard",
        text: include_str!("../../../infra/guard/cm.guard"),
    },
    RuleSource {
        file: "sc.guard",
        text: include_str!("../../../infra/guard/sc.guard"),
    },
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}: rule '{rule}' has no `# Control:` / `# Severity:` header")]
    MissingHeader { file: String, rule: String },
    #[error("{file}: rule '{rule}' has unknown severity '{severity}'")]
    UnknownSeverity {
        file: String,
        rule: String,
        severity: String,
    },
    #[error("{file}: guard cannot parse the rules: {reason}")]
    RulesInvalid { file: String, reason: String },
    #[error("the guard engine failed: {0}")]
    Engine(String),
    #[error("the guard engine exited with status {0}")]
    ExitStatus(i32),
    #[error("the guard report cannot be read: {0}")]
    Report(String),
    #[error("guard did not evaluate rule '{0}'")]
    NotEvaluated(String),
}

/// What a rule enforces, read from the comment header above it in the rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub name: String,
    pub control: String,
    pub severity: Severity,
}

/// A rules set checked once: every rule has a header and guard can parse every file.
#[derive(Debug, Clone)]
pub struct Policy {
    pub sources: Vec<RuleSource>,
    pub rules: Vec<RuleInfo>,
}

/// The resource types a rules file selects, when it reaches resources only through
/// `Resources.*[ Type … ]` / `Resources[ id | Type … ]` filters; `None` when any query could see
/// other resources. Guard's cost grows with every resource each filter scans, so a file is run
/// on just the resources it can select.
pub(crate) fn selected_types(text: &str) -> Option<BTreeSet<String>> {
    let mut code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    // Custom messages (`<<…>>`) are prose, not queries.
    while let Some(start) = code.find("<<") {
        let end = code[start..]
            .find(">>")
            .map_or(code.len(), |e| start + e + 2);
        code.replace_range(start..end, "");
    }
    let mut rest = code.as_str();
    while let Some(at) = rest.find("Resources") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + "Resources".len()..];
        rest = after;
        // `x.Resources` is a property named Resources, and `FooResources` another word.
        let word = |c: char| c.is_alphanumeric() || c == '_';
        if before.is_some_and(|c| c == '.' || word(c)) || after.starts_with(word) {
            continue;
        }
        let filter = after
            .strip_prefix(".*")
            .unwrap_or(after)
            .trim_start()
            .strip_prefix('[')?;
        let filter = &filter[..filter.find(']')?];
        // An `or` could let a resource of another type through the filter.
        let widened = filter
            .split_whitespace()
            .any(|w| w.eq_ignore_ascii_case("or") || w == "||");
        if widened || (!filter.contains("Type ==") && !filter.contains("Type in")) {
            return None;
        }
    }
    let mut types = BTreeSet::new();
    for quoted in code.split('\'').skip(1).step_by(2) {
        if quoted.contains("::") {
            types.insert(quoted.to_string());
        }
    }
    Some(types)
}

/// The template with `Resources` cut down to entries of `types`.
fn only_types(template: &Value, types: &BTreeSet<String>) -> Value {
    let mut pruned = serde_json::Map::new();
    for (section, value) in template.as_object().into_iter().flatten() {
        let value = match (section.as_str(), value.as_object()) {
            ("Resources", Some(resources)) => Value::Object(
                resources
                    .iter()
                    .filter(|(_, r)| {
                        r.get("Type")
                            .and_then(Value::as_str)
                            .is_some_and(|t| types.contains(t))
                    })
                    .map(|(id, r)| (id.clone(), r.clone()))
                    .collect(),
            ),
            _ => value.clone(),
        };
        pruned.insert(section.clone(), value);
    }
    Value::Object(pruned)
}

impl Policy {
    pub fn new(sources: &[RuleSource]) -> Result<Policy, PolicyError> {
        let mut rules = Vec::new();
        for source in sources {
            // Guard's structured run reports a rules file it cannot parse on stderr and goes on
            // with the others, so each file is parsed here first to make that a hard error.
            match cfn_guard::commands::validate::parse_rules(source.text, source.file) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Err(PolicyError::RulesInvalid {
                        file: source.file.into(),
                        reason: "the file holds no rules".into(),
                    })
                }
                Err(e) => {
                    return Err(PolicyError::RulesInvalid {
                        file: source.file.into(),
                        reason: e.to_string(),
                    })
                }
            }
            rules.extend(read_headers(source)?);
        }
        Ok(Policy {
            sources: sources.to_vec(),
            rules,
        })
    }

    /// The shipped policy, checked once per process.
    pub fn shipped() -> Result<&'static Policy, PolicyError> {
        static SHIPPED: OnceLock<Result<Policy, PolicyError>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| Policy::new(&RULE_FILES))
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn rule(&self, name: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Runs every rule against one template (long-form JSON), one guard run per rules file on
    /// the resources that file can select.
    pub fn evaluate(&self, template: &Value) -> Result<GuardOutcome, PolicyError> {
        let mut outcome = GuardOutcome::default();
        for source in &self.sources {
            let data = match selected_types(source.text) {
                Some(types) => only_types(template, &types),
                None => template.clone(),
            };
            let one = run_guard(source.text, &data)?;
            outcome.violations.extend(one.violations);
            outcome.failed.extend(one.failed);
            outcome.compliant.extend(one.compliant);
            outcome.not_applicable.extend(one.not_applicable);
        }
        for rule in &self.rules {
            if !outcome.knows(&rule.name) {
                return Err(PolicyError::NotEvaluated(rule.name.clone()));
            }
        }
        Ok(outcome)
    }
}

/// One guard run of one rules file on one template. Guard is synchronous and keeps `Rc`
/// values: nothing of it outlives this call.
fn run_guard(rules: &str, template: &Value) -> Result<GuardOutcome, PolicyError> {
    let payload = serde_json::json!({
        "rules": [rules],
        "data": [template.to_string()],
    });
    let mut reader = Reader::new(ReadBuffer::Cursor(Cursor::new(
        payload.to_string().into_bytes(),
    )));
    let mut writer = Writer::new(WriteBuffer::Vec(Vec::new()))
        .map_err(|e| PolicyError::Engine(e.to_string()))?;
    // Structured JSON: the non-verbose `run_checks` truncates reports over 8 KiB.
    let command = ValidateBuilder::default()
        .payload(true)
        .structured(true)
        .output_format(OutputFormatType::JSON)
        .show_summary(vec![ShowSummaryType::None])
        .try_build()
        .map_err(|e| PolicyError::Engine(e.to_string()))?;
    let status = command
        .execute(&mut writer, &mut reader)
        .map_err(|e| PolicyError::Engine(e.to_string()))?;
    if status != SUCCESS_STATUS_CODE && status != FAILURE_STATUS_CODE {
        return Err(PolicyError::ExitStatus(status));
    }
    let output = writer
        .into_string()
        .map_err(|e| PolicyError::Report(e.to_string()))?;
    GuardOutcome::from_report(&output)
}

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
    fn knows(&self, rule: &str) -> bool {
        self.failed.contains(rule)
            || self.compliant.contains(rule)
            || self.not_applicable.contains(rule)
    }

    /// Reads guard's structured JSON report: one entry per data file, `not_compliant` holding
    /// `{"Rule": {"name", "checks": [...]}}` whose checks nest the paths and messages.
    fn from_report(output: &str) -> Result<GuardOutcome, PolicyError> {
        let report: Value =
            serde_json::from_str(output).map_err(|e| PolicyError::Report(e.to_string()))?;
        let [file] = report.as_array().map(Vec::as_slice).unwrap_or_default() else {
            return Err(PolicyError::Report(
                "expected a report for exactly one template".into(),
            ));
        };
        let names = |key: &str| -> Result<BTreeSet<String>, PolicyError> {
            file.get(key)
                .and_then(Value::as_array)
                .ok_or_else(|| PolicyError::Report(format!("no '{key}' list")))?
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| PolicyError::Report(format!("non-string in '{key}'")))
                })
                .collect()
        };
        let mut outcome = GuardOutcome {
            compliant: names("compliant")?,
            not_applicable: names("not_applicable")?,
            ..GuardOutcome::default()
        };
        let not_compliant = file
            .get("not_compliant")
            .and_then(Value::as_array)
            .ok_or_else(|| PolicyError::Report("no 'not_compliant' list".into()))?;
        for entry in not_compliant {
            let rule = entry
                .get("Rule")
                .ok_or_else(|| PolicyError::Report("not_compliant entry is not a rule".into()))?;
            let name = rule
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| PolicyError::Report("rule without a name".into()))?;
            outcome.failed.insert(name.to_string());
            let checks = rule.get("checks").and_then(Value::as_array);
            let checks = checks.map(Vec::as_slice).unwrap_or_default();
            if checks.is_empty() {
                outcome.violations.push(Violation {
                    rule: name.to_string(),
                    path: None,
                    message: first_string(rule, "custom_message").unwrap_or_else(|| name.into()),
                });
            }
            for check in checks {
                let message = first_string(check, "custom_message")
                    .or_else(|| first_string(check, "error_message"))
                    .unwrap_or_else(|| name.to_string());
                outcome.violations.push(Violation {
                    rule: name.to_string(),
                    path: first_path(check),
                    message,
                });
            }
        }
        Ok(outcome)
    }
}

/// Reads the `# Control:` / `# Severity:` comment lines right above each `rule <name>`.
fn read_headers(source: &RuleSource) -> Result<Vec<RuleInfo>, PolicyError> {
    let mut rules = Vec::new();
    let (mut control, mut severity) = (None, None);
    for line in source.text.lines().map(str::trim) {
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(c) = comment.strip_prefix("Control:") {
                control = Some(c.trim().to_string());
            } else if let Some(s) = comment.strip_prefix("Severity:") {
                severity = Some(s.trim().to_string());
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("rule ") {
            let name = rest
                .split(|c: char| c.is_whitespace() || c == '{')
                .next()
                .unwrap_or_default()
                .to_string();
            let (Some(control), Some(severity)) = (control.take(), severity.take()) else {
                return Err(PolicyError::MissingHeader {
                    file: source.file.into(),
                    rule: name,
                });
            };
            let severity = match severity.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                _ => {
                    return Err(PolicyError::UnknownSeverity {
                        file: source.file.into(),
                        rule: name,
                        severity,
                    })
                }
            };
            rules.push(RuleInfo {
                name,
                control,
                severity,
            });
        } else if !line.is_empty() {
            // A header only counts when it sits directly above its rule.
            control = None;
            severity = None;
        }
    }
    Ok(rules)
}

/// The first non-empty string under `key`, depth first.
fn first_string(value: &Value, key: &str) -> Option<String> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(s)) = map.get(key) {
                if !s.is_empty() {
                    return Some(s.clone());
                }
            }
            map.values().find_map(|v| first_string(v, key))
        }
        Value::Array(items) => items.iter().find_map(|v| first_string(v, key)),
        _ => None,
    }
}

/// The first non-empty `path` in a check, depth first: the value the check looked at comes
/// before what it was compared with. A path of `/Resources` with a string value is a key bound
/// by a `Resources[ id | … ]` query: the value is the logical id.
fn first_path(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(path)) = map.get("path") {
                if path == "/Resources" {
                    if let Some(Value::String(id)) = map.get("value") {
                        return Some(crate::template::pointer::of("Resources", id));
                    }
                }
                if !path.is_empty() {
                    return Some(path.clone());
                }
            }
            map.iter()
                .filter(|(k, _)| k.as_str() != "path")
                .find_map(|(_, v)| first_path(v))
        }
        Value::Array(items) => items.iter().find_map(first_path),
        _ => None,
    }
}
