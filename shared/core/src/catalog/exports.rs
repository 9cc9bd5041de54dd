//! Export names as CloudFormation will register them, so two stacks that would export the same
//! name are caught before the second one fails to deploy.

use serde_json::Value;

use crate::template::Template;

/// A stack output's export name, when the template declares one.
#[derive(Debug, Clone)]
pub(super) struct Export {
    pub output: String,
    /// `Export.Name` as written (long form).
    pub name: Value,
}

pub(super) fn exports(template: &Template) -> Vec<Export> {
    let Some(outputs) = template.value.get("Outputs").and_then(Value::as_object) else {
        return Vec::new();
    };
    outputs
        .iter()
        .filter_map(|(output, decl)| {
            let name = decl.get("Export")?.get("Name")?;
            Some(Export {
                output: output.clone(),
                name: name.clone(),
            })
        })
        .collect()
}

/// The export name in a stack named `stack_name` of environment `env`: a literal, or an
/// `Fn::Sub` whose `${AWS::StackName}`, `${Environment}` and own variables are replaced. `None`
/// for other intrinsics (`Fn::Join`, …), which are not compared.
pub(super) fn resolve(name: &Value, stack_name: &str, env: &str) -> Option<String> {
    match name {
        Value::String(text) => Some(text.clone()),
        Value::Object(map) if map.len() == 1 => match map.get("Fn::Sub")? {
            Value::String(text) => Some(substitute(text, stack_name, env, None)),
            Value::Array(parts) => {
                let text = parts.first()?.as_str()?;
                let vars = parts.get(1).and_then(Value::as_object);
                Some(substitute(text, stack_name, env, vars))
            }
            _ => None,
        },
        _ => None,
    }
}

fn substitute(
    text: &str,
    stack_name: &str,
    env: &str,
    vars: Option<&serde_json::Map<String, Value>>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let var = &after[..end];
        let own = vars.and_then(|v| v.get(var)).and_then(Value::as_str);
        let known = match (var, own) {
            ("AWS::StackName", _) => Some(stack_name.to_string()),
            (_, Some(value)) => Some(value.to_string()),
            // The pipeline passes the environment name as the `Environment` parameter.
            ("Environment", None) => Some(env.to_string()),
            // `${!Literal}` is the escape for a literal `${Literal}`.
            (_, None) => var
                .strip_prefix('!')
                .map(|literal| format!("${{{literal}}}")),
        };
        match known {
            Some(value) => out.push_str(&value),
            // Unknown at plan time (another parameter): compared as written.
            None => out.push_str(&rest[start..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}
