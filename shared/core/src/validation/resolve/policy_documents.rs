//! Policy documents written as JSON text, parsed into objects so that policy rules judge their
//! statements instead of a string they cannot see into.

use serde_json::Value;

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
mod tests {
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
