//! Conditions: each declared one is a well-formed condition function, and every name a resource,
//! output, `Fn::If` or `Condition` uses is declared; CloudFormation rejects the template otherwise.

use serde_json::Value;

use super::sections::kind;
use super::{child, each_intrinsic, intrinsic, Doc, *};
use crate::template::pointer;

/// What a condition function may compare in `Fn::Equals`.
const EQUALS_OPERANDS: [&str; 8] = [
    "Ref",
    "Fn::FindInMap",
    "Fn::Sub",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::Length",
    "Fn::ToJsonString",
];

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    if let Some(section) = doc.value.get("Conditions") {
        match section.as_object() {
            Some(conditions) => {
                for (name, expr) in conditions {
                    let path = pointer::of("Conditions", name);
                    let valid_name = !name.is_empty()
                        && name.chars().count() <= 255
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '&' || c == '_');
                    if !valid_name {
                        findings.push(doc.finding(
                            CONDITION_CONFIGURATION,
                            &path,
                            format!("condition name {name} may contain only letters, digits, '&' and '_' (at most 255)"),
                        ));
                    }
                    condition_function(doc, &path, expr, findings);
                }
            }
            None => findings.push(doc.finding(
                CONDITION_CONFIGURATION,
                "/Conditions",
                format!("Conditions must be a mapping, not {}", kind(section)),
            )),
        }
    }
    for section in ["Resources", "Outputs"] {
        for (id, entry) in doc.section(section).into_iter().flatten() {
            if let Some(Value::String(name)) = entry.get("Condition") {
                let path = child(&pointer::of(section, id), "Condition");
                declared(doc, &path, name, findings);
            }
        }
    }
    each_intrinsic(doc, &mut |path, function, args| {
        if function != "Fn::If" {
            return;
        }
        let path = child(path, "Fn::If");
        match args.as_array().map(Vec::as_slice) {
            Some([Value::String(name), _, _]) => {
                declared(doc, &format!("{path}/0"), name, findings)
            }
            _ => findings.push(doc.finding(
                IF_SHAPE,
                &path,
                format!("Fn::If takes [condition name, value if true, value if false], not {args}"),
            )),
        }
    });
}

fn declared(doc: &Doc<'_>, path: &str, name: &str, findings: &mut Vec<Finding>) {
    if !doc.names.conditions.contains(name) {
        findings.push(doc.finding(
            CONDITION_TARGET,
            path,
            format!("condition {name} is not declared in Conditions"),
        ));
    }
}

/// A condition expression: `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not` or `Condition`.
fn condition_function(doc: &Doc<'_>, path: &str, expr: &Value, findings: &mut Vec<Finding>) {
    let condition = expr
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.iter().next());
    let Some((function, args)) = condition else {
        findings.push(doc.finding(
            CONDITION_CONFIGURATION,
            path,
            format!(
                "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition, not {}",
                kind(expr)
            ),
        ));
        return;
    };
    let args_path = child(path, function);
    let items = args.as_array();
    match function.as_str() {
        "Condition" => match args {
            Value::String(name) => declared(doc, &args_path, name, findings),
            other => findings.push(doc.finding(
                CONDITION_SHAPE,
                &args_path,
                format!("Condition takes the name of a condition, not {}", kind(other)),
            )),
        },
        "Fn::Equals" => match items.map(Vec::as_slice) {
            Some([left, right]) => {
                for (i, operand) in [left, right].into_iter().enumerate() {
                    let fits = match intrinsic(operand) {
                        Some((f, _)) => EQUALS_OPERANDS.contains(&f),
                        None => matches!(operand, Value::String(_) | Value::Number(_) | Value::Bool(_)),
                    };
                    if !fits {
                        findings.push(doc.finding(
                            EQUALS_SHAPE,
                            &format!("{args_path}/{i}"),
                            format!("Fn::Equals compares strings (or Ref, Fn::FindInMap, Fn::Sub, Fn::Join, Fn::Select, Fn::Split), not {operand}"),
                        ));
                    }
                }
            }
            _ => findings.push(doc.finding(
                EQUALS_SHAPE,
                &args_path,
                format!("Fn::Equals takes exactly two values to compare, not {args}"),
            )),
        },
        "Fn::And" | "Fn::Or" | "Fn::Not" => {
            let (rule, range) = match function.as_str() {
                "Fn::And" => (AND_SHAPE, 2..=10),
                "Fn::Or" => (OR_SHAPE, 2..=10),
                _ => (NOT_SHAPE, 1..=1),
            };
            let Some(items) = items.filter(|i| range.contains(&i.len())) else {
                let count = if range.start() == range.end() {
                    "exactly one condition".to_string()
                } else {
                    format!("a list of {} to {} conditions", range.start(), range.end())
                };
                findings.push(doc.finding(
                    rule,
                    &args_path,
                    format!("{function} takes {count}, not {args}"),
                ));
                return;
            };
            for (i, item) in items.iter().enumerate() {
                condition_function(doc, &format!("{args_path}/{i}"), item, findings);
            }
        }
        other => findings.push(doc.finding(
            CONDITION_CONFIGURATION,
            path,
            format!("{other} is not a condition function; use Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition"),
        )),
    }
}
