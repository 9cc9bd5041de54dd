//! Parameter declarations: names, types, attributes, and a `Default` that meets the parameter's
//! own constraints (CloudFormation rejects a stack whose default it would itself refuse).

use serde_json::{Map, Value};

use super::sections::{kind, name_rules};
use super::{child, Doc, *};
use crate::template::{pointer, scalar_text};

const MAX_PARAMETERS: usize = 200;

/// Types that take the AWS-specific value checks; each may also be a `List<…>` and an SSM value.
const AWS_TYPES: [&str; 10] = [
    "AWS::EC2::AvailabilityZone::Name",
    "AWS::EC2::Image::Id",
    "AWS::EC2::Instance::Id",
    "AWS::EC2::KeyPair::KeyName",
    "AWS::EC2::SecurityGroup::GroupName",
    "AWS::EC2::SecurityGroup::Id",
    "AWS::EC2::Subnet::Id",
    "AWS::EC2::VPC::Id",
    "AWS::EC2::Volume::Id",
    "AWS::Route53::HostedZone::Id",
];

const STRING_ATTRIBUTES: [&str; 9] = [
    "AllowedPattern",
    "AllowedValues",
    "ConstraintDescription",
    "Default",
    "Description",
    "MaxLength",
    "MinLength",
    "NoEcho",
    "Type",
];

const NUMBER_ATTRIBUTES: [&str; 8] = [
    "AllowedValues",
    "ConstraintDescription",
    "Default",
    "Description",
    "MaxValue",
    "MinValue",
    "NoEcho",
    "Type",
];

/// Whether CloudFormation accepts `name` as a parameter type.
pub(super) fn valid_type(name: &str) -> bool {
    let single = |t: &str| AWS_TYPES.contains(&t);
    let list = |t: &str| {
        t.strip_prefix("List<")
            .and_then(|inner| inner.strip_suffix('>'))
            .is_some_and(|inner| single(inner) || inner == "Number" || inner == "String")
    };
    let plain = |t: &str| matches!(t, "String" | "Number" | "CommaDelimitedList");
    if plain(name) || single(name) || list(name) || name == "AWS::SSM::Parameter::Name" {
        return true;
    }
    name.strip_prefix("AWS::SSM::Parameter::Value<")
        .and_then(|inner| inner.strip_suffix('>'))
        .is_some_and(|inner| {
            plain(inner)
                || single(inner)
                || list(inner)
                || inner == "AWS::SSM::Parameter::Name"
                || inner == "List<String>"
        })
}

/// An AWS-specific parameter type (`AWS::EC2::VPC::Id`, `List<AWS::EC2::Subnet::Id>`), the
/// kind `Fn::RefAll` and `Fn::ValueOfAll` take.
pub(super) fn aws_specific_type(name: &str) -> bool {
    let inner = name
        .strip_prefix("List<")
        .and_then(|inner| inner.strip_suffix('>'))
        .unwrap_or(name);
    AWS_TYPES.contains(&inner)
}

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    let Some(section) = doc.value.get("Parameters") else {
        return;
    };
    let Some(parameters) = section.as_object() else {
        findings.push(doc.finding(
            PARAMETER_CONFIGURATION,
            "/Parameters",
            format!("Parameters must be a mapping, not {}", kind(section)),
        ));
        return;
    };
    if parameters.len() > MAX_PARAMETERS {
        findings.push(doc.finding(
            PARAMETER_LIMIT,
            "/Parameters",
            format!(
                "the template declares {} parameters; CloudFormation accepts at most {MAX_PARAMETERS}",
                parameters.len()
            ),
        ));
    }
    for (name, decl) in parameters {
        let path = pointer::of("Parameters", name);
        name_rules(
            doc,
            &path,
            "parameter",
            name,
            PARAMETER_NAME,
            PARAMETER_NAME_LENGTH,
            findings,
        );
        let Some(decl) = decl.as_object() else {
            findings.push(doc.finding(
                PARAMETER_CONFIGURATION,
                &path,
                format!("parameter {name} must be a mapping, not {}", kind(decl)),
            ));
            continue;
        };
        declaration(doc, &path, name, decl, findings);
    }
}

fn declaration(
    doc: &Doc<'_>,
    path: &str,
    name: &str,
    decl: &Map<String, Value>,
    findings: &mut Vec<Finding>,
) {
    let Some(param_type) = decl.get("Type").and_then(Value::as_str) else {
        findings.push(doc.finding(
            PARAMETER_CONFIGURATION,
            path,
            format!("parameter {name} has no Type"),
        ));
        return;
    };
    if !valid_type(param_type) {
        findings.push(doc.finding(
            PARAMETER_TYPE,
            &child(path, "Type"),
            format!("parameter {name} has Type {param_type}, which CloudFormation does not know"),
        ));
        return;
    }
    let number = param_type == "Number";
    let allowed: &[&str] = if number {
        &NUMBER_ATTRIBUTES
    } else {
        &STRING_ATTRIBUTES
    };
    for key in decl.keys() {
        if !allowed.contains(&key.as_str()) {
            findings.push(doc.finding(
                PARAMETER_CONFIGURATION,
                &child(path, key),
                format!("parameter {name} of Type {param_type} cannot have {key}"),
            ));
        }
    }
    let mut bad_attribute = false;
    for (key, value) in decl {
        let fits = match key.as_str() {
            "AllowedPattern" | "ConstraintDescription" | "Description" | "Type" => {
                value.is_string()
            }
            "AllowedValues" => value
                .as_array()
                .is_some_and(|items| items.iter().all(is_scalar)),
            "Default" => is_scalar(value),
            "MinLength" | "MaxLength" => integer(value).is_some(),
            "MinValue" | "MaxValue" => number_of(value).is_some(),
            "NoEcho" => {
                matches!(value, Value::Bool(_)) || matches!(value.as_str(), Some("true" | "false"))
            }
            _ => true,
        };
        if !fits {
            bad_attribute = true;
            findings.push(doc.finding(
                PARAMETER_CONFIGURATION,
                &child(path, key),
                format!("parameter {name}: {key} cannot be {}", kind(value)),
            ));
        }
    }
    if !bad_attribute {
        if let Some(default) = decl.get("Default") {
            default_rules(doc, path, name, param_type, decl, default, findings);
        }
    }
}

/// E2015: the default value, or each item of a list default, meets every constraint.
fn default_rules(
    doc: &Doc<'_>,
    path: &str,
    name: &str,
    param_type: &str,
    decl: &Map<String, Value>,
    default: &Value,
    findings: &mut Vec<Finding>,
) {
    let text = scalar_text(default);
    let list = param_type == "CommaDelimitedList" || param_type.contains("List<");
    let values: Vec<String> = if list {
        text.split(',').map(|v| v.trim().to_string()).collect()
    } else {
        vec![text.clone()]
    };
    let numeric = param_type == "Number" || param_type.contains("List<Number>");
    let default_path = child(path, "Default");
    let problems: Vec<String> = values
        .iter()
        .flat_map(|value| value_problems(decl, numeric, value))
        .collect();
    for problem in problems {
        findings.push(doc.finding(
            PARAMETER_DEFAULT,
            &default_path,
            format!("parameter {name}: Default {problem}"),
        ));
    }
}

/// What keeps `value` from being one the parameter `decl` admits (none when it is one): its
/// type, `AllowedValues`, `AllowedPattern`, lengths and bounds.
fn value_problems(decl: &Map<String, Value>, numeric: bool, value: &str) -> Vec<String> {
    let allowed_values: Option<Vec<String>> = decl
        .get("AllowedValues")
        .and_then(Value::as_array)
        .map(|items| items.iter().map(scalar_text).collect());
    let pattern = decl.get("AllowedPattern").and_then(Value::as_str);
    let min_length = decl.get("MinLength").and_then(integer);
    let max_length = decl.get("MaxLength").and_then(integer);
    let min_value = decl.get("MinValue").and_then(number_of);
    let max_value = decl.get("MaxValue").and_then(number_of);
    let mut problems = Vec::new();
    let number = value.parse::<f64>().ok().filter(|n| n.is_finite());
    if numeric && number.is_none() {
        problems.push(format!("'{value}' is not a number"));
        return problems;
    }
    if let Some(allowed) = &allowed_values {
        let matches = allowed.iter().any(|a| {
            a == value
                // `Default: 1` and `AllowedValues: ['1.0']` are the same number.
                || (numeric && a.parse::<f64>().ok() == number)
        });
        if !matches {
            problems.push(format!(
                "'{value}' is not one of AllowedValues [{}]",
                allowed.join(", ")
            ));
        }
    }
    if let Some(pattern) = pattern {
        if super::pattern::full_match(pattern, value) == Some(false) {
            problems.push(format!("'{value}' does not match AllowedPattern {pattern}"));
        }
    }
    let length = value.chars().count() as i64;
    if let Some(min) = min_length.filter(|&min| length < min) {
        problems.push(format!("'{value}' is shorter than MinLength {min}"));
    }
    if let Some(max) = max_length.filter(|&max| length > max) {
        problems.push(format!("'{value}' is longer than MaxLength {max}"));
    }
    if let Some(number) = number {
        if let Some(min) = min_value.filter(|&min| number < min) {
            problems.push(format!("{value} is below MinValue {min}"));
        }
        if let Some(max) = max_value.filter(|&max| number > max) {
            problems.push(format!("{value} is above MaxValue {max}"));
        }
    }
    problems
}

/// Whether a scalar parameter declared as `decl` certainly admits `value`: every constraint is
/// met, and an `AllowedPattern` this reader cannot judge counts as not met.
pub(super) fn admits(decl: &Value, value: &str) -> bool {
    let Some(decl) = decl.as_object() else {
        return false;
    };
    let numeric = decl.get("Type").and_then(Value::as_str) == Some("Number");
    let pattern_known = decl
        .get("AllowedPattern")
        .and_then(Value::as_str)
        .is_none_or(|pattern| super::pattern::full_match(pattern, value) == Some(true));
    pattern_known && value_problems(decl, numeric, value).is_empty()
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// An integer attribute, written as a number or as its text (both are accepted).
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
