//! A template as one environment would deploy it: parameter values, Conditions, `Fn::If`,
//! `Fn::FindInMap` and pseudo parameters decided once, for policy (validation) and for pricing (cost).

mod policy_documents;
pub(crate) mod scenarios;
mod settle;

pub use policy_documents::policy_documents_as_objects;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ValidationContext;
use crate::template::Template;
use settle::Settler;

/// The template as deployed in one environment.
#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    /// The template value with every decidable intrinsic replaced by its result; resources and
    /// outputs whose `Condition` is false are gone, as CloudFormation would not create them.
    pub template: Value,
    /// Logical id → its `Condition` when that could not be decided here (e.g. it compares an
    /// imported value): the resource is kept, as if the condition held.
    pub undecided: BTreeMap<String, String>,
}

/// The template as `ctx`'s environment would deploy it, for policy. No region is known at
/// validation, so `AWS::Region` stays a `Ref` and conditions on it stay undecided (kept).
pub fn with_parameters(template: &Template, ctx: &ValidationContext) -> Value {
    deploy(template, ctx, None).template
}

/// The template as deployed with `ctx`'s parameters, in `region` when one is known.
/// A parameter's value comes from the context's parameters, else (for a parameter named
/// `Environment`) the context's environment, else its `Default`; anything else stays a `Ref`.
pub(crate) fn deploy(
    template: &Template,
    ctx: &ValidationContext,
    region: Option<&str>,
) -> Deployment {
    let parameters = parameter_values(template, ctx);
    let empty = Map::new();
    let section = |name: &str| {
        template
            .value
            .get(name)
            .and_then(Value::as_object)
            .unwrap_or(&empty)
    };
    let mut settler = Settler::new(
        &parameters,
        region,
        section("Mappings"),
        section("Conditions"),
    );
    let mut undecided = BTreeMap::new();
    let mut deployed = template.value.clone();
    if let Some(root) = deployed.as_object_mut() {
        for name in ["Resources", "Outputs"] {
            let Some(Value::Object(entries)) = root.get_mut(name) else {
                continue;
            };
            let mut gone = Vec::new();
            for (id, entry) in entries.iter_mut() {
                let condition = entry.get("Condition").and_then(Value::as_str);
                match condition.map(|c| (c, settler.condition(c))) {
                    Some((_, Some(false))) => {
                        gone.push(id.clone());
                        continue;
                    }
                    Some((c, None)) if name == "Resources" => {
                        undecided.insert(id.clone(), c.to_string());
                    }
                    _ => {}
                }
                settler.settle_kept(entry);
            }
            for id in gone {
                entries.remove(&id);
            }
        }
    }
    Deployment {
        template: deployed,
        undecided,
    }
}

/// The value each parameter resolves to when `Ref`'d: a string, or for list types
/// (`CommaDelimitedList`, `List<…>`) an array of strings, as CloudFormation passes them.
fn parameter_values(template: &Template, ctx: &ValidationContext) -> BTreeMap<String, Value> {
    let declared = template.value.get("Parameters").and_then(Value::as_object);
    let mut values = BTreeMap::new();
    for decl in template.parameters() {
        // SSM-typed parameters hold a parameter *name*; the deployed value is read from SSM.
        if decl.param_type.starts_with("AWS::SSM::Parameter::Value<") {
            continue;
        }
        let is_list =
            decl.param_type == "CommaDelimitedList" || decl.param_type.starts_with("List<");
        let raw_default = declared
            .and_then(|d| d.get(&decl.name))
            .and_then(|d| d.get("Default"));
        let text = ctx
            .parameters
            .get(&decl.name)
            .cloned()
            .or_else(|| {
                (decl.name == "Environment")
                    .then(|| ctx.env.map(|e| e.as_str().to_string()))
                    .flatten()
            })
            .or_else(|| {
                // A list default written as a YAML sequence is still its items.
                match raw_default {
                    Some(Value::Array(_)) if is_list => None,
                    _ => decl.default.clone(),
                }
            });
        let value = match (text, raw_default) {
            (Some(text), _) if is_list => Value::Array(
                text.split(',')
                    .map(|item| Value::String(item.trim().to_string()))
                    .collect(),
            ),
            (Some(text), _) => Value::String(text),
            (None, Some(Value::Array(items))) if is_list => Value::Array(
                items
                    .iter()
                    .map(|item| Value::String(crate::template::scalar_text(item)))
                    .collect(),
            ),
            (None, _) => continue,
        };
        values.insert(decl.name, value);
    }
    values
}

#[cfg(test)]
mod tests;
