//! Outputs: names, known attributes, a `Value` for each, an `Export.Name` for each export and no
//! export name twice, which CloudFormation would reject when it creates the stack.

use std::collections::BTreeMap;

use serde_json::Value;

use super::sections::{kind, name_rules};
use super::{child, Doc, *};
use crate::template::pointer;

const MAX_OUTPUTS: usize = 200;
const ATTRIBUTES: [&str; 4] = ["Value", "Description", "Export", "Condition"];

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    let Some(section) = doc.value.get("Outputs") else {
        return;
    };
    let Some(outputs) = section.as_object() else {
        findings.push(doc.finding(
            OUTPUT_CONFIGURATION,
            "/Outputs",
            format!("Outputs must be a mapping, not {}", kind(section)),
        ));
        return;
    };
    if outputs.len() > MAX_OUTPUTS {
        findings.push(doc.finding(
            OUTPUT_LIMIT,
            "/Outputs",
            format!(
                "the template declares {} outputs; CloudFormation accepts at most {MAX_OUTPUTS}",
                outputs.len()
            ),
        ));
    }
    // Export name → the outputs exporting it, with their conditions. Identical expressions
    // (`!Sub '${AWS::StackName}-Id'` twice) give identical names.
    let mut exports: BTreeMap<String, Vec<(String, Option<&str>)>> = BTreeMap::new();
    for (name, output) in outputs {
        let path = pointer::of("Outputs", name);
        name_rules(
            doc,
            &path,
            "output",
            name,
            OUTPUT_NAME,
            OUTPUT_NAME_LENGTH,
            findings,
        );
        let Some(entry) = output.as_object() else {
            findings.push(doc.finding(
                OUTPUT_CONFIGURATION,
                &path,
                format!("output {name} must be a mapping, not {}", kind(output)),
            ));
            continue;
        };
        for key in entry.keys() {
            if !ATTRIBUTES.contains(&key.as_str()) {
                findings.push(doc.finding(
                    OUTPUT_CONFIGURATION,
                    &child(&path, key),
                    format!("output {name} has {key}; an output has only Value, Description, Export and Condition"),
                ));
            }
        }
        if entry.get("Value").is_none_or(Value::is_null) {
            findings.push(doc.finding(
                OUTPUT_REQUIRED,
                &path,
                format!("output {name} has no Value"),
            ));
        }
        let Some(export) = entry.get("Export") else {
            continue;
        };
        let export_path = child(&path, "Export");
        match export.get("Name").filter(|n| !n.is_null()) {
            Some(export_name) => {
                let condition = entry.get("Condition").and_then(Value::as_str);
                exports
                    .entry(super::sections::display(export_name))
                    .or_default()
                    .push((name.clone(), condition));
            }
            None => findings.push(doc.finding(
                OUTPUT_REQUIRED,
                &export_path,
                format!("output {name} has an Export without a Name"),
            )),
        }
    }
    for (export_name, outputs) in exports {
        for (i, (name, condition)) in outputs.iter().enumerate() {
            // Outputs under different conditions may share a name: only one of them is created.
            let earlier = outputs[..i]
                .iter()
                .find(|(_, other)| condition.is_none() || other.is_none() || other == condition);
            if let Some((first, _)) = earlier {
                findings.push(doc.finding(
                    DUPLICATE_EXPORT,
                    &child(&pointer::of("Outputs", name), "Export"),
                    format!(
                        "output {name} exports {export_name}, which output {first} already exports"
                    ),
                ));
            }
        }
    }
}
