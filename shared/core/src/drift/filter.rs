//! The false-positive filter: differences drift detection reports that are not changes to the
//! resource. Each rule has a reason a reader can check; what a rule drops is kept and counted.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{DifferenceKind, PropertyDifference, ResourceDrift};

/// A difference set aside as a false positive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilteredDifference {
    pub logical_id: String,
    pub path: String,
    pub kind: DifferenceKind,
    /// The filter rule's id (`tag-order`, `json-equal`, …).
    pub rule: String,
    pub reason: String,
}

/// The rules, by id, with the reason each gives.
pub const FILTER_RULES: [(&str, &str); 4] = [
    (
        TAG_ORDER,
        "the same tags in another order: CloudFormation compares the Tags list in order, AWS keeps tags unordered",
    ),
    (
        JSON_EQUAL,
        "equal as JSON (a policy document written differently: key order, whitespace, a single statement or action not wrapped in a list)",
    ),
    (
        NUMBER_AS_TEXT,
        "the same number, once as text and once as a number",
    ),
    (
        ECHOED_DEFAULT,
        "a default value the service fills in and drift detection echoes back, not set by anyone",
    ),
];

const TAG_ORDER: &str = "tag-order";
const JSON_EQUAL: &str = "json-equal";
const NUMBER_AS_TEXT: &str = "number-as-text";
const ECHOED_DEFAULT: &str = "echoed-default";

/// Defaults AWS fills in and echoes back: (resource type, property path with `*` for any list
/// index, the default as JSON text).
const ECHOED_DEFAULTS: [(&str, &str, &str); 6] = [
    (
        "AWS::S3::Bucket",
        "/BucketEncryption/ServerSideEncryptionConfiguration/*/BucketKeyEnabled",
        "false",
    ),
    ("AWS::IAM::Role", "/MaxSessionDuration", "3600"),
    ("AWS::IAM::Role", "/Path", "/"),
    ("AWS::EC2::VPC", "/InstanceTenancy", "default"),
    ("AWS::EC2::Subnet", "/MapPublicIpOnLaunch", "false"),
    ("AWS::Logs::LogGroup", "/LogGroupClass", "STANDARD"),
];

/// Splits a modified resource's differences into those that stand and those filtered out.
pub(super) fn apply(
    resource: &ResourceDrift,
) -> (Vec<PropertyDifference>, Vec<FilteredDifference>) {
    let tags_reordered = tags_equal_as_sets(resource);
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for difference in &resource.differences {
        let rule = if tags_reordered && difference.path.starts_with("/Tags/") {
            Some(TAG_ORDER)
        } else {
            false_positive(&resource.resource_type, difference)
        };
        match rule {
            Some(rule) => dropped.push(FilteredDifference {
                logical_id: resource.logical_id.clone(),
                path: difference.path.clone(),
                kind: difference.kind,
                rule: rule.to_string(),
                reason: reason_of(rule).to_string(),
            }),
            None => kept.push(difference.clone()),
        }
    }
    (kept, dropped)
}

fn reason_of(rule: &str) -> &'static str {
    FILTER_RULES
        .iter()
        .find(|(id, _)| *id == rule)
        .map_or("", |(_, reason)| reason)
}

fn false_positive(resource_type: &str, difference: &PropertyDifference) -> Option<&'static str> {
    match (
        difference.kind,
        difference.expected.as_deref(),
        difference.actual.as_deref(),
    ) {
        (DifferenceKind::NotEqual, Some(expected), Some(actual)) => {
            if same_number(expected, actual) {
                Some(NUMBER_AS_TEXT)
            } else if same_json(expected, actual) {
                Some(JSON_EQUAL)
            } else {
                None
            }
        }
        (DifferenceKind::Add, None, Some(actual))
            if is_echoed_default(resource_type, &difference.path, actual) =>
        {
            Some(ECHOED_DEFAULT)
        }
        _ => None,
    }
}

fn same_number(a: &str, b: &str) -> bool {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Equal once parsed (URL-decoded first where IAM hands documents back encoded) and put in
/// IAM's normal form.
fn same_json(a: &str, b: &str) -> bool {
    let parse = |text: &str| -> Option<Value> {
        let decoded = if text.trim_start().starts_with('%') {
            percent_decode(text)?
        } else {
            text.to_string()
        };
        let value: Value = serde_json::from_str(&decoded).ok()?;
        (value.is_object() || value.is_array()).then(|| normalise(value))
    };
    matches!((parse(a), parse(b)), (Some(x), Some(y)) if x == y)
}

/// IAM's equivalences: a single statement, action, resource or principal equals a list of one;
/// lists of those are sets.
fn normalise(value: Value) -> Value {
    const SET_KEYS: [&str; 7] = [
        "Statement",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "AWS",
        "Service",
    ];
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = normalise(v);
                    let v = if SET_KEYS.contains(&k.as_str()) {
                        let mut items = match v {
                            Value::Array(items) => items,
                            single => vec![single],
                        };
                        items.sort_by_key(|i| i.to_string());
                        items.dedup();
                        Value::Array(items)
                    } else {
                        v
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        other => other,
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn is_echoed_default(resource_type: &str, path: &str, actual: &str) -> bool {
    ECHOED_DEFAULTS.iter().any(|(t, pattern, default)| {
        *t == resource_type && path_matches(pattern, path) && actual.trim() == *default
    })
}

/// `*` in a pattern matches one list index.
fn path_matches(pattern: &str, path: &str) -> bool {
    let mut p = pattern.split('/');
    let mut q = path.split('/');
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some("*"), Some(segment)) if segment.parse::<usize>().is_ok() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// Whether the template's and the resource's tags are the same set, so any difference under
/// `/Tags/` is only their order.
fn tags_equal_as_sets(resource: &ResourceDrift) -> bool {
    let tags = |properties: &Option<Value>| -> Option<Vec<(String, String)>> {
        let list = properties.as_ref()?.get("Tags")?.as_array()?;
        let mut pairs: Vec<(String, String)> = list
            .iter()
            .map(|t| {
                Some((
                    t.get("Key")?.as_str()?.to_string(),
                    t.get("Value")?.as_str()?.to_string(),
                ))
            })
            .collect::<Option<_>>()?;
        pairs.sort();
        Some(pairs)
    };
    match (
        tags(&resource.expected_properties),
        tags(&resource.actual_properties),
    ) {
        (Some(expected), Some(actual)) => expected == actual,
        _ => false,
    }
}
