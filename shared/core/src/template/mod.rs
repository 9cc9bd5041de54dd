//! CloudFormation templates as data: YAML (every short-form tag) and JSON parsed into one model
//! that remembers the source line of what it holds.

mod aliases;
mod intrinsics;
mod json;
mod layout;
pub mod pointer;
mod yaml;

pub use intrinsics::{is_function_key, TagError};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use pointer::LineMap;

/// A syntax error, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{source_name}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct ParseError {
    pub source_name: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

/// A declared template parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterDecl {
    pub name: String,
    pub param_type: String,
    pub default: Option<String>,
    /// `NoEcho: true`: CloudFormation shows the value as `****`; so does everything here that
    /// shows parameters to people.
    pub no_echo: bool,
}

/// A parsed template: the long-form JSON value plus source positions.
#[derive(Debug, Clone)]
pub struct Template {
    /// The template with short-form tags expanded (`!Ref X` → `{"Ref": "X"}`), in source order.
    pub value: Value,
    /// JSON pointer of every node → 1-based line (for a mapping entry, the line of its key).
    lines: LineMap,
    /// Short-form tags CloudFormation does not know (`!Rain::Embed`), read as `{"Fn::…": …}` so
    /// the rest of the template can still be checked; each one is an error of its own.
    pub unknown_tags: Vec<UnknownTag>,
}

/// A YAML tag that is no CloudFormation intrinsic function, where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTag {
    pub line: u32,
    pub tag: String,
}

impl Template {
    /// Parses YAML or JSON. A body starting with `{` is JSON: read as YAML, a JSON typo such as a
    /// trailing comma would pass as a flow mapping and the author would never hear of it.
    pub fn parse(source_name: &str, body: &str) -> Result<Template, ParseError> {
        let body = body.strip_prefix('\u{feff}').unwrap_or(body);
        let (value, lines, unknown_tags) = if body.trim_start().starts_with('{') {
            let (value, lines) = json::parse(source_name, body)?;
            (value, lines, Vec::new())
        } else {
            yaml::parse(source_name, body)?
        };
        if !value.is_object() {
            return Err(ParseError {
                source_name: source_name.to_string(),
                line: Some(1),
                column: None,
                message: "a template must be a mapping of sections".into(),
            });
        }
        Ok(Template {
            value,
            lines,
            unknown_tags,
        })
    }

    /// Line of a resource's logical id.
    pub fn resource_line(&self, logical_id: &str) -> Option<u32> {
        self.lines
            .get(&pointer::of("Resources", logical_id))
            .copied()
    }

    /// Line of the node at `json_pointer` (e.g. `/Resources/Vpc/Properties/CidrBlock`), or of its
    /// nearest ancestor that appears in the source.
    pub fn line_at(&self, json_pointer: &str) -> Option<u32> {
        pointer::nearest_line(&self.lines, json_pointer)
    }

    /// The `Resources` section, when it is a mapping.
    pub fn resources(&self) -> Option<&Map<String, Value>> {
        self.value.get("Resources").and_then(Value::as_object)
    }

    /// The `Type` of a resource, when it is a string.
    pub fn resource_type(&self, logical_id: &str) -> Option<&str> {
        self.resources()?
            .get(logical_id)?
            .get("Type")
            .and_then(Value::as_str)
    }

    /// Declared parameters, in template order.
    pub fn parameters(&self) -> Vec<ParameterDecl> {
        let Some(params) = self.value.get("Parameters").and_then(|p| p.as_object()) else {
            return Vec::new();
        };
        params
            .iter()
            .map(|(name, decl)| ParameterDecl {
                name: name.clone(),
                param_type: decl
                    .get("Type")
                    .and_then(|t| t.as_str())
                    .unwrap_or("String")
                    .to_string(),
                default: decl.get("Default").map(scalar_text),
                no_echo: decl
                    .get("NoEcho")
                    .is_some_and(|v| v == &Value::Bool(true) || v.as_str() == Some("true")),
            })
            .collect()
    }
}

/// A parameter value as CloudFormation would pass it: strings as they are, others as JSON.
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) use tests::KMS_FLOW_POLICY as KMS_FLOW_POLICY_FOR_TESTS;
