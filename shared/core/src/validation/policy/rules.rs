//! The rules files the pipeline ships and what each rule enforces: the control and severity
//! written in the comment header above it, which guard itself never reads.

use super::PolicyError;
use crate::validation::Severity;

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
        text: include_str!("../../../../../infra/guard/ac.guard"),
    },
    RuleSource {
        file: "au.guard",
        text: include_str!("../../../../../infra/guard/au.guard"),
    },
    RuleSource {
        file: "cm.guard",
        text: include_str!("../../../../../infra/guard/cm.guard"),
    },
    RuleSource {
        file: "sc.guard",
        text: include_str!("../../../../../infra/guard/sc.guard"),
    },
];

/// What a rule enforces, read from the comment header above it in the rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub name: String,
    pub control: String,
    pub severity: Severity,
}

/// Reads the `# Control:` / `# Severity:` comment lines right above each `rule <name>`.
pub(super) fn read_headers(source: &RuleSource) -> Result<Vec<RuleInfo>, PolicyError> {
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
