//! Tag syntax on AWS resources: a key of 1 to 128 characters not starting with `aws:` (reserved
//! for AWS), a value of at most 256, no key twice; the service would reject the tags otherwise.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::sections::kind;
use super::{child, intrinsic, Doc, *};
use crate::template::pointer;

const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 256;

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    for (id, resource) in doc.section("Resources").into_iter().flatten() {
        let Some(resource_type) = resource.get("Type").and_then(Value::as_str) else {
            continue;
        };
        // Custom resources pass `Tags` to their own code, in whatever shape it wants.
        if !resource_type.starts_with("AWS::")
            || resource_type == "AWS::CloudFormation::CustomResource"
        {
            continue;
        }
        let Some(tags) = resource.get("Properties").and_then(|p| p.get("Tags")) else {
            continue;
        };
        let path = format!("{}/Properties/Tags", pointer::of("Resources", id));
        match tags {
            Value::Array(items) => list(doc, &path, id, items, findings),
            Value::Object(map) if intrinsic(tags).is_none() => keyed(doc, &path, id, map, findings),
            _ => {}
        }
    }
}

/// `[{Key: k, Value: v}, …]`, the form of most resource types.
fn list(doc: &Doc<'_>, path: &str, id: &str, items: &[Value], findings: &mut Vec<Finding>) {
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}/{i}");
        if intrinsic(item).is_some() {
            continue;
        }
        let Some(tag) = item.as_object() else {
            findings.push(doc.finding(
                TAG_SYNTAX,
                &item_path,
                format!(
                    "resource {id}: a tag must be a mapping with Key and Value, not {}",
                    kind(item)
                ),
            ));
            continue;
        };
        match tag.get("Key") {
            None => findings.push(doc.finding(
                TAG_SYNTAX,
                &item_path,
                format!("resource {id}: tag {i} has no Key"),
            )),
            Some(Value::String(key)) => {
                key_rules(doc, &child(&item_path, "Key"), id, key, findings);
                if !seen.insert(key.clone()) {
                    findings.push(doc.finding(
                        TAG_SYNTAX,
                        &child(&item_path, "Key"),
                        format!("resource {id}: tag {key} is set twice"),
                    ));
                }
            }
            Some(_) => {}
        }
        if let Some(Value::String(value)) = tag.get("Value") {
            value_rules(doc, &child(&item_path, "Value"), id, value, findings);
        }
    }
}

/// `{key: value, …}`, the form of e.g. EKS node groups and SSM parameters.
fn keyed(
    doc: &Doc<'_>,
    path: &str,
    id: &str,
    map: &Map<String, Value>,
    findings: &mut Vec<Finding>,
) {
    for (key, value) in map {
        let tag_path = child(path, key);
        if key.starts_with("aws:") {
            findings.push(doc.finding(
                TAG_SYNTAX,
                &tag_path,
                format!("resource {id}: tag key {key} starts with aws:, which is reserved for AWS"),
            ));
        }
        if let Value::String(value) = value {
            value_rules(doc, &tag_path, id, value, findings);
        }
    }
}

fn key_rules(doc: &Doc<'_>, path: &str, id: &str, key: &str, findings: &mut Vec<Finding>) {
    let length = key.chars().count();
    if length == 0 || length > MAX_KEY {
        findings.push(doc.finding(
            TAG_SYNTAX,
            path,
            format!(
                "resource {id}: tag key '{key}' has {length} characters; a key has 1 to {MAX_KEY}"
            ),
        ));
    }
    if key.starts_with("aws:") {
        findings.push(doc.finding(
            TAG_SYNTAX,
            path,
            format!("resource {id}: tag key {key} starts with aws:, which is reserved for AWS"),
        ));
    }
}

fn value_rules(doc: &Doc<'_>, path: &str, id: &str, value: &str, findings: &mut Vec<Finding>) {
    let length = value.chars().count();
    if length > MAX_VALUE {
        findings.push(doc.finding(
            TAG_SYNTAX,
            path,
            format!("resource {id}: tag value has {length} characters; the limit is {MAX_VALUE}"),
        ));
    }
}
