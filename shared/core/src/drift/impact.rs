//! NIST impact of drift: each drifted resource's actual properties are put back into the deployed
//! template and the validation policy runs again; the control findings that appear only then are
//! what the drift breaks. The same engine and rules as deployments: there is no second policy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{DifferenceKind, PropertyDifference, ResourceDrift, ResourceDriftStatus};
use crate::template::{pointer, Template};
use crate::validation::{validate_template, Finding, ValidationContext, COULD_NOT_RUN, SYNTAX};

/// Beyond this many drifted resources in one stack, the impact is judged for the first ones only
/// (each costs one validation of the template).
const MAX_ASSESSED: usize = 50;

/// A policy finding the drift brings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactFinding {
    pub control: String,
    pub rule: String,
    /// The resource the finding is on (for a deleted flow log: the VPC it covered).
    pub resource: Option<String>,
    pub message: String,
}

/// Impact findings by drifted resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NistImpact {
    by_resource: BTreeMap<String, Vec<ImpactFinding>>,
}

impl NistImpact {
    pub fn of(&self, logical_id: &str) -> Vec<ImpactFinding> {
        self.by_resource
            .get(logical_id)
            .cloned()
            .unwrap_or_default()
    }
}

/// Validates the deployed template as written, then with each drifted resource's differences
/// applied to it (a deleted resource removed), and keeps the control findings each drift adds.
/// The differences are applied to the template's own properties, so the rules see the intrinsic
/// functions of everything that did not drift exactly as a deployment's validation does.
pub(super) fn assess(
    body: &str,
    ctx: &ValidationContext,
    drifted: &[ResourceDrift],
) -> Result<NistImpact, String> {
    let template = Template::parse("deployed template", body)
        .map_err(|e| format!("the deployed template does not parse: {}", e.message))?;
    let baseline = control_findings(&template.value, ctx)?;
    let mut impact = NistImpact::default();
    for resource in drifted.iter().take(MAX_ASSESSED) {
        let mut actual = template.value.clone();
        match resource.status {
            ResourceDriftStatus::Deleted => remove_resource(&mut actual, &resource.logical_id),
            _ => apply_differences(&mut actual, &resource.logical_id, &resource.differences),
        }
        let added: Vec<ImpactFinding> = control_findings(&actual, ctx)?
            .into_iter()
            .filter(|(key, _)| !baseline.contains_key(key))
            .map(|(_, finding)| finding)
            .collect();
        if !added.is_empty() {
            impact
                .by_resource
                .insert(resource.logical_id.clone(), added);
        }
    }
    Ok(impact)
}

type FindingKey = (String, Option<String>, String);

/// The policy's control findings on a template, keyed so two runs compare.
fn control_findings(
    template: &Value,
    ctx: &ValidationContext,
) -> Result<BTreeMap<FindingKey, ImpactFinding>, String> {
    let body = serde_json::to_string(template).map_err(|e| e.to_string())?;
    let report = validate_template("deployed template", &body, ctx);
    // A policy that cannot run says nothing about the drift: fail rather than report no impact.
    if let Some(broken) = report
        .findings
        .iter()
        .find(|f| f.rule == SYNTAX && f.resource.is_none() && f.message.starts_with(COULD_NOT_RUN))
    {
        return Err(broken.message.clone());
    }
    Ok(report
        .findings
        .into_iter()
        .filter_map(|finding| {
            let Finding {
                rule,
                control,
                resource,
                message,
                ..
            } = finding;
            let key = (rule.clone(), resource.clone(), message.clone());
            Some((
                key,
                ImpactFinding {
                    control: control?,
                    rule,
                    resource,
                    message,
                },
            ))
        })
        .collect())
}

/// Puts the resource's actual values into its template properties: an added list element is
/// appended, a removed one taken out (highest index first), a changed value replaced.
fn apply_differences(template: &mut Value, logical_id: &str, differences: &[PropertyDifference]) {
    let path = format!("{}/Properties", pointer::of("Resources", logical_id));
    let Some(properties) = template.pointer_mut(&path) else {
        return;
    };
    let mut removals: Vec<&PropertyDifference> = Vec::new();
    for difference in differences {
        match difference.kind {
            DifferenceKind::Remove => removals.push(difference),
            DifferenceKind::Add | DifferenceKind::NotEqual => {
                let value = json_of(difference.actual.as_deref());
                set_at(properties, &difference.path, value, difference.kind);
            }
        }
    }
    removals.sort_by_key(|d| std::cmp::Reverse(last_index(&d.path)));
    for difference in removals {
        remove_at(properties, &difference.path);
    }
}

/// A value as drift detection writes it: JSON, or a bare string.
fn json_of(text: Option<&str>) -> Value {
    match text {
        None => Value::Null,
        Some(t) => serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string())),
    }
}

fn last_index(path: &str) -> usize {
    path.rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn split_parent(path: &str) -> Option<(&str, &str)> {
    path.rsplit_once('/')
}

fn set_at(properties: &mut Value, path: &str, value: Value, kind: DifferenceKind) {
    let Some((parent, last)) = split_parent(path) else {
        return;
    };
    let Some(container) = properties.pointer_mut(parent) else {
        // A whole property added: create it.
        if parent.is_empty() {
            return;
        }
        set_at(properties, parent, Value::Object(Default::default()), kind);
        if let Some(Value::Object(map)) = properties.pointer_mut(parent) {
            map.insert(unescape(last), value);
        }
        return;
    };
    match container {
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if kind == DifferenceKind::NotEqual && i < items.len() => items[i] = value,
            _ => items.push(value),
        },
        Value::Object(map) => {
            map.insert(unescape(last), value);
        }
        _ => {}
    }
}

fn remove_at(properties: &mut Value, path: &str) {
    let Some((parent, last)) = split_parent(path) else {
        return;
    };
    match properties.pointer_mut(parent) {
        Some(Value::Array(items)) => {
            if let Ok(i) = last.parse::<usize>() {
                if i < items.len() {
                    items.remove(i);
                }
            }
        }
        Some(Value::Object(map)) => {
            map.remove(&unescape(last));
        }
        _ => {}
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn remove_resource(template: &mut Value, logical_id: &str) {
    if let Some(Value::Object(resources)) = template.get_mut("Resources") {
        resources.remove(logical_id);
    }
}
