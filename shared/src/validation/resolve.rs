//! Substitutes parameter references with the values an environment would deploy, so policy
//! judges e.g. the `Environment` tag's real value rather than `{"Ref": "Environment"}`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::ValidationContext;
use crate::template::Template;

/// The template's value with every `{"Ref": P}` to a resolvable parameter replaced by its value.
/// A value comes from the context's parameters, else (for a parameter named `Environment`) the
/// context's environment, else the parameter's `Default`; anything else stays a `Ref`.
pub fn with_parameters(template: &Template, ctx: &ValidationContext) -> Value {
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for decl in template.parameters() {
        let value = ctx
            .parameters
            .get(&decl.name)
            .cloned()
            .or_else(|| {
                (decl.name == "Environment")
                    .then(|| ctx.env.map(|e| e.as_str().to_string()))
                    .flatten()
            })
            .or(decl.default);
        if let Some(value) = value {
            values.insert(decl.name, value);
        }
    }
    let mut resolved = template.value.clone();
    if !values.is_empty() {
        substitute(&mut resolved, &values);
    }
    resolved
}

fn substitute(value: &mut Value, values: &BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(name)) = map.get("Ref") {
                    if let Some(v) = values.get(name) {
                        *value = Value::String(v.clone());
                        return;
                    }
                }
            }
            map.values_mut().for_each(|v| substitute(v, values));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, values)),
        _ => {}
    }
}
