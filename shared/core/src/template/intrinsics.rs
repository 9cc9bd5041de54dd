//! CloudFormation's YAML short-form tags (`!Ref`, `!GetAtt`, `!Sub`, …) and their long forms.
//! The one table both the YAML reader and its tests use, so a tag is expanded in one place only.

use serde_json::{Map, Value};

/// What a short-form tag becomes, or why it cannot become anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("unknown tag '!{0}': not a CloudFormation intrinsic function")]
    Unknown(String),
    #[error("!GetAtt '{0}' needs the form LogicalId.Attribute")]
    GetAttWithoutDot(String),
}

/// The long-form key of a short-form tag name (`Sub` → `Fn::Sub`), `None` for unknown tags.
pub fn long_form_key(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "Ref" => "Ref",
        "Condition" => "Condition",
        "GetAtt" => "Fn::GetAtt",
        "Sub" => "Fn::Sub",
        "Join" => "Fn::Join",
        "Select" => "Fn::Select",
        "Split" => "Fn::Split",
        "If" => "Fn::If",
        "Equals" => "Fn::Equals",
        "And" => "Fn::And",
        "Or" => "Fn::Or",
        "Not" => "Fn::Not",
        "FindInMap" => "Fn::FindInMap",
        "GetAZs" => "Fn::GetAZs",
        "ImportValue" => "Fn::ImportValue",
        "Base64" => "Fn::Base64",
        "Cidr" => "Fn::Cidr",
        "Transform" => "Fn::Transform",
        "ToJsonString" => "Fn::ToJsonString",
        "Length" => "Fn::Length",
        // Rule functions: the `Rules` section's own (the validator keeps them there).
        "Contains" => "Fn::Contains",
        "EachMemberEquals" => "Fn::EachMemberEquals",
        "EachMemberIn" => "Fn::EachMemberIn",
        "RefAll" => "Fn::RefAll",
        "ValueOf" => "Fn::ValueOf",
        "ValueOfAll" => "Fn::ValueOfAll",
        _ => return None,
    })
}

/// Whether `key` names a CloudFormation function in long form (`Ref`, `Fn::Sub`, …): the keys
/// `long_form_key` produces. `Fn::Rain::Embed` and the like are not.
pub fn is_function_key(key: &str) -> bool {
    let short = key.strip_prefix("Fn::").unwrap_or(key);
    long_form_key(short) == Some(key)
}

/// Wraps the tagged node's already-converted content in its long form.
pub fn expand(tag: &str, content: Value) -> Result<Value, TagError> {
    let key = long_form_key(tag).ok_or_else(|| TagError::Unknown(tag.to_string()))?;
    let content = match (tag, content) {
        // Only the first dot separates resource from attribute: `!GetAtt Db.Endpoint.Address`
        // names the attribute `Endpoint.Address`.
        ("GetAtt", Value::String(s)) => match s.split_once('.') {
            Some((resource, attribute)) => Value::Array(vec![
                Value::String(resource.to_string()),
                Value::String(attribute.to_string()),
            ]),
            None => return Err(TagError::GetAttWithoutDot(s)),
        },
        // `!GetAZs` with nothing after it means the current region, written "" in long form.
        ("GetAZs", Value::Null) => Value::String(String::new()),
        (_, other) => other,
    };
    let mut long = Map::new();
    long.insert(key.to_string(), content);
    Ok(Value::Object(long))
}
