//! The template's frame: known sections, format version, description, size and count limits,
//! resource entries and mappings, each of which CloudFormation rejects before looking further.

use serde_json::{Map, Value};

use super::{alphanumeric, child, Doc, *};
use crate::template::pointer;

const SECTIONS: [&str; 10] = [
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

/// Resource attributes CloudFormation reads; anything else is a typo it rejects.
const RESOURCE_ATTRIBUTES: [&str; 9] = [
    "Type",
    "Properties",
    "Condition",
    "DependsOn",
    "Metadata",
    "DeletionPolicy",
    "UpdatePolicy",
    "UpdateReplacePolicy",
    "CreationPolicy",
];

const MAX_BODY_BYTES: usize = 1_000_000;
const MAX_DESCRIPTION_BYTES: usize = 1024;
const MAX_RESOURCES: usize = 500;
const MAX_NAME: usize = 255;
const MAX_MAPPINGS: usize = 200;
const MAX_MAPPING_KEYS: usize = 200;

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    let Some(root) = doc.value.as_object() else {
        return;
    };
    for key in root.keys() {
        // `Globals` is SAM's, consumed by its transform.
        let sam_section = key == "Globals" && doc.serverless;
        if !SECTIONS.contains(&key.as_str()) && !sam_section {
            findings.push(doc.finding(
                UNKNOWN_SECTION,
                &child("", key),
                format!(
                    "unknown top-level section {key}; CloudFormation knows {}",
                    SECTIONS.join(", ")
                ),
            ));
        }
    }
    if let Some(version) = root.get("AWSTemplateFormatVersion") {
        if version.as_str() != Some("2010-09-09") {
            findings.push(doc.finding(
                FORMAT_VERSION,
                "/AWSTemplateFormatVersion",
                format!("AWSTemplateFormatVersion is {version}; the only version is '2010-09-09'"),
            ));
        }
    }
    match root.get("Description") {
        Some(Value::String(text)) if text.len() > MAX_DESCRIPTION_BYTES => {
            findings.push(doc.finding(
                DESCRIPTION_LENGTH,
                "/Description",
                format!(
                    "Description is {} bytes; the limit is {MAX_DESCRIPTION_BYTES}",
                    text.len()
                ),
            ))
        }
        Some(Value::String(_)) | None => {}
        Some(other) => findings.push(doc.finding(
            DESCRIPTION_TYPE,
            "/Description",
            format!("Description must be a string, not {}", kind(other)),
        )),
    }
    // The check sees the parsed template, not the file: its compact JSON is what is measured.
    let size = serde_json::to_string(&doc.template.value).map_or(0, |s| s.len());
    if size > MAX_BODY_BYTES {
        findings.push(doc.finding(
            TEMPLATE_SIZE,
            "",
            format!("the template is {size} bytes as JSON; CloudFormation accepts at most {MAX_BODY_BYTES}"),
        ));
    }
    resources(doc, root, findings);
    mappings(doc, findings);
}

fn resources(doc: &Doc<'_>, root: &Map<String, Value>, findings: &mut Vec<Finding>) {
    let Some(resources) = root
        .get("Resources")
        .and_then(Value::as_object)
        .filter(|r| !r.is_empty())
    else {
        findings.push(doc.finding(
            RESOURCES_SECTION,
            "/Resources",
            "the template needs a non-empty Resources section".into(),
        ));
        return;
    };
    if resources.len() > MAX_RESOURCES {
        findings.push(doc.finding(
            RESOURCE_LIMIT,
            "/Resources",
            format!(
                "the template declares {} resources; CloudFormation accepts at most {MAX_RESOURCES}",
                resources.len()
            ),
        ));
    }
    for (id, resource) in resources {
        let path = pointer::of("Resources", id);
        name_rules(
            doc,
            &path,
            "resource",
            id,
            RESOURCE_CONFIGURATION,
            RESOURCE_NAME_LENGTH,
            findings,
        );
        if doc.names.parameters.contains(id) {
            findings.push(doc.finding(
                UNIQUE_NAMES,
                &path,
                format!("resource {id} has the name of a parameter; names must be unique"),
            ));
        }
        let Some(entry) = resource.as_object() else {
            findings.push(doc.finding(
                RESOURCE_CONFIGURATION,
                &path,
                format!("resource {id} must be a mapping, not {}", kind(resource)),
            ));
            continue;
        };
        let resource_type = entry.get("Type").and_then(Value::as_str);
        if resource_type.is_none() {
            findings.push(doc.finding(RESOURCE_TYPE, &path, format!("resource {id} has no Type")));
        }
        // A macro may read attributes of its own; only CloudFormation's are known here.
        if doc.other_transform {
            continue;
        }
        let custom = resource_type.is_some_and(|t| {
            t.starts_with("Custom::") || t == "AWS::CloudFormation::CustomResource"
        });
        for key in entry.keys() {
            let known = RESOURCE_ATTRIBUTES.contains(&key.as_str()) || (custom && key == "Version");
            if !known {
                findings.push(doc.finding(
                    RESOURCE_CONFIGURATION,
                    &child(&path, key),
                    format!("resource {id} has attribute {key}, which is not a resource attribute"),
                ));
            }
        }
        for attribute in ["Properties", "CreationPolicy", "UpdatePolicy"] {
            if let Some(value) = entry.get(attribute) {
                // `Fn::If` may choose a whole attribute.
                if !value.is_object() {
                    findings.push(doc.finding(
                        RESOURCE_CONFIGURATION,
                        &child(&path, attribute),
                        format!(
                            "resource {id}: {attribute} must be a mapping, not {}",
                            kind(value)
                        ),
                    ));
                }
            }
        }
        if let Some(condition) = entry.get("Condition").filter(|c| !c.is_string()) {
            findings.push(doc.finding(
                RESOURCE_CONFIGURATION,
                &child(&path, "Condition"),
                format!(
                    "resource {id}: Condition must name a condition, not {}",
                    kind(condition)
                ),
            ));
        }
    }
}

/// A name in a section: alphanumeric (`pattern_rule`) and at most 255 characters (`length_rule`).
pub(super) fn name_rules(
    doc: &Doc<'_>,
    path: &str,
    what: &str,
    name: &str,
    pattern_rule: &str,
    length_rule: &str,
    findings: &mut Vec<Finding>,
) {
    if !alphanumeric(name) {
        findings.push(doc.finding(
            pattern_rule,
            path,
            format!("{what} name {name} must contain only letters A-Z, a-z and digits 0-9"),
        ));
    }
    if name.chars().count() > MAX_NAME {
        findings.push(doc.finding(
            length_rule,
            path,
            format!("{what} name {name} is longer than {MAX_NAME} characters"),
        ));
    }
}

fn mappings(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    let Some(section) = doc.value.get("Mappings") else {
        return;
    };
    let Some(mappings) = section.as_object() else {
        findings.push(doc.finding(
            MAPPING_CONFIGURATION,
            "/Mappings",
            format!("Mappings must be a mapping, not {}", kind(section)),
        ));
        return;
    };
    if mappings.len() > MAX_MAPPINGS {
        findings.push(doc.finding(
            MAPPING_LIMIT,
            "/Mappings",
            format!(
                "the template declares {} mappings; the limit is {MAX_MAPPINGS}",
                mappings.len()
            ),
        ));
    }
    for (name, mapping) in mappings {
        let path = pointer::of("Mappings", name);
        // `Fn::Transform` (AWS::Include) may supply a whole mapping.
        if name == "Fn::Transform" {
            continue;
        }
        name_rules(
            doc,
            &path,
            "mapping",
            name,
            MAPPING_CONFIGURATION,
            MAPPING_NAME_LENGTH,
            findings,
        );
        let Some(top) = keyed(doc, &path, &format!("mapping {name}"), mapping, findings) else {
            continue;
        };
        for (top_key, second) in top {
            if top_key == "Fn::Transform" {
                continue;
            }
            let top_path = child(&path, top_key);
            if !top_key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                findings.push(doc.finding(
                    MAPPING_CONFIGURATION,
                    &top_path,
                    format!("mapping {name} key {top_key} may contain only letters, digits, '-' and '.'"),
                ));
            }
            let what = format!("mapping {name}.{top_key}");
            let Some(values) = keyed(doc, &top_path, &what, second, findings) else {
                continue;
            };
            for (key, value) in values {
                let value_path = child(&top_path, key);
                if !alphanumeric(key) {
                    findings.push(doc.finding(
                        MAPPING_CONFIGURATION,
                        &value_path,
                        format!("{what} key {key} must contain only letters and digits"),
                    ));
                }
                if value.is_object() || value.is_null() {
                    findings.push(doc.finding(
                        MAPPING_CONFIGURATION,
                        &value_path,
                        format!(
                            "{what}.{key} must be a string, number, boolean or list, not {}",
                            kind(value)
                        ),
                    ));
                }
            }
        }
    }
}

/// One level of a mapping: a mapping of 1 to 200 keys.
fn keyed<'v>(
    doc: &Doc<'_>,
    path: &str,
    what: &str,
    value: &'v Value,
    findings: &mut Vec<Finding>,
) -> Option<&'v Map<String, Value>> {
    let Some(map) = value.as_object().filter(|m| !m.is_empty()) else {
        findings.push(doc.finding(
            MAPPING_CONFIGURATION,
            path,
            format!("{what} must be a non-empty mapping, not {}", kind(value)),
        ));
        return None;
    };
    if map.len() > MAX_MAPPING_KEYS {
        findings.push(doc.finding(
            MAPPING_LIMIT,
            path,
            format!(
                "{what} has {} keys; the limit is {MAX_MAPPING_KEYS}",
                map.len()
            ),
        ));
    }
    Some(map)
}

/// A JSON value's kind, for messages.
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(map) if map.len() == 1 && super::intrinsic(value).is_some() => "a function",
        Value::Object(_) => "a mapping",
    }
}

/// A value as a message shows it: strings bare, anything else as JSON.
pub(super) fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
