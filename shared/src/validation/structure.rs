//! Structural checks cfn-lint would make first: a template whose references dangle cannot be
//! judged by policy and would fail at change-set time anyway. Each rule names its cfn-lint twin.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Finding, Severity};
use crate::template::{pointer, Template};

/// `Resources` is present and not empty (cfn-lint E1001).
pub const RESOURCES_SECTION: &str = "E1001";
/// Every resource declares a `Type` (cfn-lint E3001).
pub const RESOURCE_TYPE: &str = "E3001";
/// `Ref` names a parameter, a resource or a pseudo parameter (cfn-lint E1012).
pub const REF_TARGET: &str = "E1012";
/// `Fn::GetAtt` names a resource (cfn-lint E1010).
pub const GETATT_TARGET: &str = "E1010";
/// `DependsOn` names resources (cfn-lint E3005).
pub const DEPENDS_ON_TARGET: &str = "E3005";
/// Every `${Var}` of `Fn::Sub` resolves (cfn-lint E1019).
pub const SUB_VARIABLE: &str = "E1019";

pub fn check(template: &Template) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(resources) = template.resources().filter(|r| !r.is_empty()) else {
        findings.push(finding(
            template,
            RESOURCES_SECTION,
            None,
            "/Resources",
            "the template needs a non-empty Resources section".into(),
        ));
        return findings;
    };
    let parameters: BTreeSet<String> = template.parameters().into_iter().map(|p| p.name).collect();
    let names = Names {
        resources: resources.keys().cloned().collect(),
        parameters,
    };
    for (id, resource) in resources {
        let path = pointer::of("Resources", id);
        if resource.get("Type").and_then(Value::as_str).is_none() {
            findings.push(finding(
                template,
                RESOURCE_TYPE,
                Some(id),
                &path,
                format!("resource {id} has no Type"),
            ));
        }
        if let Some(depends_on) = resource.get("DependsOn") {
            let targets = match depends_on {
                Value::Array(items) => items.iter().collect(),
                single => vec![single],
            };
            for target in targets {
                let known = target.as_str().is_some_and(|t| names.resources.contains(t));
                if !known {
                    findings.push(finding(
                        template,
                        DEPENDS_ON_TARGET,
                        Some(id),
                        &format!("{path}/DependsOn"),
                        format!("resource {id} depends on {target}, which is not a resource"),
                    ));
                }
            }
        }
    }
    let mut path = String::new();
    walk(template, &template.value, &mut path, &names, &mut findings);
    findings
}

struct Names {
    resources: BTreeSet<String>,
    parameters: BTreeSet<String>,
}

impl Names {
    fn referable(&self, name: &str) -> bool {
        name.starts_with("AWS::") || self.resources.contains(name) || self.parameters.contains(name)
    }
}

/// Visits every intrinsic in the template; `path` is the JSON pointer of `value`.
fn walk(
    template: &Template,
    value: &Value,
    path: &mut String,
    names: &Names,
    findings: &mut Vec<Finding>,
) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                check_intrinsic(template, map, path, names, findings);
            }
            for (key, child) in map {
                let len = path.len();
                pointer::push_key(path, key);
                walk(template, child, path, names, findings);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                pointer::push_index(path, i);
                walk(template, child, path, names, findings);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn check_intrinsic(
    template: &Template,
    map: &Map<String, Value>,
    path: &str,
    names: &Names,
    findings: &mut Vec<Finding>,
) {
    let resource = resource_of(path);
    let resource = resource.as_deref();
    if let Some(Value::String(target)) = map.get("Ref") {
        if !names.referable(target) {
            findings.push(finding(
                template,
                REF_TARGET,
                resource,
                &format!("{path}/Ref"),
                format!("Ref to {target}, which is neither a parameter nor a resource"),
            ));
        }
    }
    if let Some(args) = map.get("Fn::GetAtt") {
        let target = match args {
            Value::Array(items) => items.first().and_then(Value::as_str),
            Value::String(s) => s.split_once('.').map(|(r, _)| r),
            _ => None,
        };
        if !target.is_some_and(|t| names.resources.contains(t)) {
            findings.push(finding(
                template,
                GETATT_TARGET,
                resource,
                &format!("{path}/Fn::GetAtt"),
                format!("Fn::GetAtt {args} does not name a resource of this template"),
            ));
        }
    }
    if let Some(args) = map.get("Fn::Sub") {
        let (text, local) = match args {
            Value::String(s) => (Some(s.as_str()), None),
            Value::Array(items) => (
                items.first().and_then(Value::as_str),
                items.get(1).and_then(Value::as_object),
            ),
            _ => (None, None),
        };
        for variable in text.map(sub_variables).unwrap_or_default() {
            let resolves = local.is_some_and(|l| l.contains_key(variable))
                || names.referable(variable)
                || variable
                    .split_once('.')
                    .is_some_and(|(r, _)| names.resources.contains(r));
            if !resolves {
                findings.push(finding(
                    template,
                    SUB_VARIABLE,
                    resource,
                    &format!("{path}/Fn::Sub"),
                    format!("Fn::Sub variable ${{{variable}}} does not resolve"),
                ));
            }
        }
    }
}

/// The `${Name}` variables of a `Fn::Sub` string; `${!Literal}` is an escape, not a variable.
fn sub_variables(text: &str) -> Vec<&str> {
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

/// The logical id in a `/Resources/<Id>/…` pointer.
pub(crate) fn resource_of(path: &str) -> Option<String> {
    let mut segments = pointer::segments(path).into_iter();
    match (segments.next().as_deref(), segments.next()) {
        (Some("Resources"), Some(id)) => Some(id),
        _ => None,
    }
}

fn finding(
    template: &Template,
    rule: &str,
    resource: Option<&str>,
    path: &str,
    message: String,
) -> Finding {
    Finding {
        rule: rule.to_string(),
        control: None,
        severity: Severity::Error,
        resource: resource.map(str::to_string),
        resource_type: resource
            .and_then(|r| template.resource_type(r))
            .map(str::to_string),
        line: template.line_at(path).or(Some(1)),
        message,
    }
}
