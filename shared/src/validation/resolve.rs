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

/// Properties that hold an IAM or KMS policy document.
const POLICY_DOCUMENT_KEYS: [&str; 3] = ["AssumeRolePolicyDocument", "PolicyDocument", "KeyPolicy"];

/// Policy documents may be written as JSON text (plain, or in `Fn::Sub` so that condition keys
/// can carry e.g. an OIDC issuer). Parsed into objects here, so policy rules judge their
/// statements instead of missing them. `${…}` placeholders sit inside JSON strings and survive.
pub fn policy_documents_as_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if POLICY_DOCUMENT_KEYS.contains(&key.as_str()) {
                    if let Some(parsed) = json_document(inner) {
                        *inner = parsed;
                        continue;
                    }
                }
                policy_documents_as_objects(inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(policy_documents_as_objects),
        _ => {}
    }
}

fn json_document(value: &Value) -> Option<Value> {
    let text = match value {
        Value::String(text) => text.as_str(),
        Value::Object(map) if map.len() == 1 => match map.get("Fn::Sub")? {
            Value::String(text) => text.as_str(),
            Value::Array(parts) => parts.first()?.as_str()?,
            _ => return None,
        },
        _ => return None,
    };
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(Value::is_object)
}

#[cfg(test)]
mod policy_document_tests {
    use super::*;

    #[test]
    fn json_text_policy_documents_become_objects_wherever_they_are() {
        let mut value = serde_json::json!({"Resources": {"Role": {"Properties": {
            "AssumeRolePolicyDocument": {"Fn::Sub": "{\"Statement\": [{\"Effect\": \"Allow\", \"Condition\": {\"StringEquals\": {\"${Issuer}:sub\": \"x\"}}}]}"},
            "Policies": [{"PolicyDocument": "{\"Statement\": [{\"Action\": \"*\"}]}"}],
            "Description": "{\"not\": \"a policy\"}"
        }}}});
        policy_documents_as_objects(&mut value);
        let props = &value["Resources"]["Role"]["Properties"];
        assert_eq!(
            props["AssumeRolePolicyDocument"]["Statement"][0]["Effect"],
            "Allow"
        );
        assert_eq!(
            props["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"],
            "*"
        );
        assert!(
            props["Description"].is_string(),
            "only policy documents are parsed"
        );
    }
}
