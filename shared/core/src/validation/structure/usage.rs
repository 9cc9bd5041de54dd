//! Declarations nothing uses (cfn-lint W2001, W8001, W7001): warnings, since CloudFormation
//! accepts them, but an unused name is usually a typo or a leftover.

use std::collections::BTreeSet;

use serde_json::Value;

use super::references::sub_variables;
use super::{walk, Doc, *};
use crate::template::pointer;

/// The names a template uses, read from the template as written (as cfn-lint reads them).
#[derive(Default)]
struct Used {
    /// `Ref` targets and `Fn::Sub` variables.
    references: BTreeSet<String>,
    conditions: BTreeSet<String>,
    mappings: BTreeSet<String>,
    /// A `Fn::FindInMap` whose map name is computed: any mapping may be the one used.
    computed_mapping: bool,
}

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    let source = &doc.template.value;
    let used = used(source);
    let declared = |section: &str| {
        source
            .get(section)
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    // Any transform may add the uses: cfn-lint does not judge parameters under one either.
    if source.get("Transform").is_none() {
        for name in declared("Parameters") {
            if !used.references.contains(&name) {
                findings.push(doc.warning(
                    UNUSED_PARAMETER,
                    &pointer::of("Parameters", &name),
                    format!("parameter {name} is declared but never used"),
                ));
            }
        }
    }
    for name in declared("Conditions") {
        if !used.conditions.contains(&name) {
            findings.push(doc.warning(
                UNUSED_CONDITION,
                &pointer::of("Conditions", &name),
                format!("condition {name} is declared but never used"),
            ));
        }
    }
    if !used.computed_mapping {
        for name in declared("Mappings") {
            if !used.mappings.contains(&name) {
                findings.push(doc.warning(
                    UNUSED_MAPPING,
                    &pointer::of("Mappings", &name),
                    format!("mapping {name} is declared but never used"),
                ));
            }
        }
    }
}

fn used(source: &Value) -> Used {
    let mut used = Used::default();
    let mut path = String::new();
    walk(
        source,
        &mut path,
        &mut |_, function, args| match (function, args) {
            ("Ref", Value::String(name)) => {
                used.references.insert(name.clone());
            }
            ("Fn::Sub", Value::String(text)) => {
                used.references
                    .extend(sub_variables(text).into_iter().map(str::to_string));
            }
            ("Fn::Sub", Value::Array(items)) => {
                if let Some(text) = items.first().and_then(Value::as_str) {
                    used.references
                        .extend(sub_variables(text).into_iter().map(str::to_string));
                }
            }
            ("Fn::If", Value::Array(items)) => {
                if let Some(name) = items.first().and_then(Value::as_str) {
                    used.conditions.insert(name.to_string());
                }
            }
            ("Fn::FindInMap", Value::Array(items)) => match items.first() {
                Some(Value::String(name)) => {
                    used.mappings.insert(name.clone());
                }
                _ => used.computed_mapping = true,
            },
            _ => {}
        },
    );
    // `Condition: name` on a resource or output, and inside a condition.
    for section in ["Resources", "Outputs"] {
        let entries = source.get(section).and_then(Value::as_object);
        for entry in entries.into_iter().flat_map(|m| m.values()) {
            if let Some(name) = entry.get("Condition").and_then(Value::as_str) {
                used.conditions.insert(name.to_string());
            }
        }
    }
    if let Some(conditions) = source.get("Conditions") {
        condition_keys(conditions, &mut used.conditions);
    }
    used
}

/// Every `{"Condition": name}` below `value`.
fn condition_keys(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("Condition", Value::String(name)) => {
                        out.insert(name.clone());
                    }
                    _ => condition_keys(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| condition_keys(item, out)),
        _ => {}
    }
}
