//! Lambda runtimes past their end of life: CloudFormation can no longer create (later, update)
//! functions on them. Dates are AWS Lambda's runtime lifecycle, as cfn-lint ships it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;
use time::Date;

use super::{embedded_data, Finding, Severity};
use crate::template::{pointer, Template};

/// A function on a runtime whose creation AWS Lambda has blocked (cfn-lint E2533).
pub const BLOCKED_RUNTIME: &str = "E2533";
/// A function on a deprecated runtime that can still be created, not for long (cfn-lint W2531).
pub const DEPRECATED_RUNTIME: &str = "W2531";

/// `scripts/gen-resource-schemas` writes it beside the resource schemas.
const LIFECYCLE: &str = include_str!("../../data/lambda-runtimes.json");

#[derive(Debug, Deserialize)]
struct LifecycleFile {
    runtimes: BTreeMap<String, Lifecycle>,
}

#[derive(Debug, Deserialize)]
struct Lifecycle {
    deprecated: String,
    #[serde(rename = "create-block")]
    create_block: String,
    #[serde(rename = "update-block")]
    update_block: String,
    successor: String,
}

fn lifecycle() -> Result<&'static BTreeMap<String, Lifecycle>, String> {
    static LOADED: OnceLock<Result<LifecycleFile, String>> = OnceLock::new();
    embedded_data(&LOADED, LIFECYCLE, "Lambda runtime lifecycle").map(|f| &f.runtimes)
}

/// ISO dates compare as text; `today` is written the same way.
fn iso(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

pub fn check(template: &Template, today: Date) -> Vec<Finding> {
    let lifecycle = match lifecycle() {
        Ok(l) => l,
        // Fail closed, like every other check that cannot run.
        Err(message) => return vec![Finding::could_not_run(message)],
    };
    let Some(resources) = template.resources() else {
        return Vec::new();
    };
    let today = iso(today);
    let mut findings = Vec::new();
    for (id, resource) in resources {
        let Some(resource_type @ ("AWS::Lambda::Function" | "AWS::Serverless::Function")) =
            resource.get("Type").and_then(Value::as_str)
        else {
            continue;
        };
        let Some(runtime) = resource
            .pointer("/Properties/Runtime")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let Some(life) = lifecycle.get(runtime) else {
            continue;
        };
        if today < life.deprecated {
            continue;
        }
        let blocked = today >= life.create_block;
        let message = if blocked {
            format!(
                "runtime {runtime} was deprecated on {}; creating functions on it is blocked since {} and updating them from {}: use {}",
                life.deprecated, life.create_block, life.update_block, life.successor
            )
        } else {
            format!(
                "runtime {runtime} was deprecated on {}; creating functions on it is blocked from {}: use {}",
                life.deprecated, life.create_block, life.successor
            )
        };
        let path = format!("{}/Properties/Runtime", pointer::of("Resources", id));
        let (rule, severity) = if blocked {
            (BLOCKED_RUNTIME, Severity::Error)
        } else {
            (DEPRECATED_RUNTIME, Severity::Warning)
        };
        findings.push(Finding {
            severity,
            ..Finding::on_resource(template, rule, id, resource_type, &path, message)
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(runtime: &str) -> Template {
        let body = format!(
            "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: {runtime}\n      Handler: h\n      Role: r\n      Code: {{ ZipFile: x }}\n"
        );
        Template::parse("fn.yaml", &body).unwrap()
    }

    fn day(text: &str) -> Date {
        Date::parse(text, &time::format_description::well_known::Iso8601::DATE).unwrap()
    }

    #[test]
    fn blocked_runtime_is_an_error_naming_its_successor_and_line() {
        let found = check(&function("python3.8"), day("2026-11-27"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, BLOCKED_RUNTIME);
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(found[0].line, Some(5));
        assert!(
            found[0].message.ends_with("use python3.13"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn deprecated_runtime_still_creatable_is_a_warning() {
        // python3.8: deprecated 2024-10-14, creation blocked from 2025-10-01.
        let found = check(&function("python3.8"), day("2025-01-15"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, DEPRECATED_RUNTIME);
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn current_runtime_and_runtime_before_its_deprecation_pass() {
        assert!(check(&function("python3.12"), day("2026-11-27")).is_empty());
        assert!(check(&function("python3.8"), day("2024-01-01")).is_empty());
    }
}
