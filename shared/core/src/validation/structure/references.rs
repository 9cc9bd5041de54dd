//! Names a template refers to: `Ref`, `Fn::GetAtt`, `Fn::Sub` variables and `DependsOn` each
//! name something declared, so the stack does not fail at change-set time on a dangling name.

use serde_json::Value;

use super::{each_intrinsic, Doc, *};
use crate::template::pointer;

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    // Names a transform adds (e.g. SAM's `<Function>Role`) cannot be known before it runs.
    if doc.other_transform {
        return;
    }
    let names = &doc.names;
    if let Some(resources) = doc.section("Resources") {
        for (id, resource) in resources {
            let Some(depends_on) = resource.get("DependsOn") else {
                continue;
            };
            let path = format!("{}/DependsOn", pointer::of("Resources", id));
            let targets = match depends_on {
                Value::Array(items) => items.iter().collect(),
                single => vec![single],
            };
            for target in targets {
                let known = target.as_str().is_some_and(|t| names.is_resource(t));
                if !known {
                    findings.push(doc.finding(
                        DEPENDS_ON_TARGET,
                        &path,
                        format!("resource {id} depends on {target}, which is not a resource"),
                    ));
                }
            }
        }
    }
    each_intrinsic(doc, &mut |path, function, args| match function {
        "Ref" => {
            let Some(target) = args.as_str() else {
                return;
            };
            if !names.referable(target) {
                findings.push(doc.finding(
                    REF_TARGET,
                    &format!("{path}/Ref"),
                    format!("Ref to {target}, which is neither a parameter nor a resource"),
                ));
            } else if path.starts_with("/Conditions/") && names.is_resource(target) {
                findings.push(doc.finding(
                    REF_TARGET,
                    &format!("{path}/Ref"),
                    format!("condition refers to resource {target}; conditions can only use parameters and pseudo parameters"),
                ));
            }
        }
        "Fn::GetAtt" => {
            let target = match args {
                Value::Array(items) => match items.first() {
                    Some(Value::String(t)) => Some(t.as_str()),
                    // Under AWS::LanguageExtensions the resource may be computed.
                    _ => None,
                },
                Value::String(s) => s.split_once('.').map(|(r, _)| r),
                _ => None,
            };
            // A malformed Fn::GetAtt is reported by the function-shape rule.
            let Some(target) = target else {
                return;
            };
            if !names.is_resource(target) {
                findings.push(doc.finding(
                    GETATT_TARGET,
                    &format!("{path}/Fn::GetAtt"),
                    format!("Fn::GetAtt {args} does not name a resource of this template"),
                ));
            }
        }
        "Fn::Sub" => {
            let (text, local) = match args {
                Value::String(s) => (Some(s.as_str()), None),
                Value::Array(items) => (
                    items.first().and_then(Value::as_str),
                    items.get(1).and_then(Value::as_object),
                ),
                _ => (None, None),
            };
            let variables = text.map(sub_variables).unwrap_or_default();
            if text.is_some() && variables.is_empty() {
                findings.push(doc.warning(
                    SUB_WITHOUT_VARIABLE,
                    &format!("{path}/Fn::Sub"),
                    "Fn::Sub has no variable to substitute: a plain string would do".to_string(),
                ));
            }
            for variable in variables {
                let resolves = local.is_some_and(|l| l.contains_key(variable))
                    || names.referable(variable)
                    || variable
                        .split_once('.')
                        .is_some_and(|(r, _)| names.is_resource(r));
                if !resolves {
                    findings.push(doc.finding(
                        SUB_VARIABLE,
                        &format!("{path}/Fn::Sub"),
                        format!("Fn::Sub variable ${{{variable}}} does not resolve"),
                    ));
                }
            }
        }
        _ => {}
    });
}

/// The `${Name}` variables of a `Fn::Sub` string; `${!Literal}` is an escape, not a variable.
pub(super) fn sub_variables(text: &str) -> Vec<&str> {
    let mut variables = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim();
        if !name.starts_with('!') && !name.is_empty() {
            variables.push(name);
        }
        rest = &after[end + 1..];
    }
    variables
}
