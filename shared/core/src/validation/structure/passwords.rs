//! Password properties (cfn-lint W2501, a warning): fed by a parameter that is not `NoEcho`, or
//! written into the template, a secret shows in the console, the API and the template itself.

use serde_json::{Map, Value};

use super::{child, Doc, *};
use crate::template::pointer;

/// The property names cfn-lint 1.x treats as passwords, wherever they sit under `Properties`.
const PASSWORD_PROPERTIES: [&str; 9] = [
    "AccountPassword",
    "AdminPassword",
    "ADDomainJoinPassword",
    "CrossRealmTrustPrincipalPassword",
    "KdcAdminPassword",
    "Password",
    "DbPassword",
    "MasterUserPassword",
    "PasswordParam",
];

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    let parameters = doc.section("Parameters");
    // Each parameter is reported once, for the first property it feeds.
    let mut reported: Vec<&str> = Vec::new();
    for (id, resource) in doc.section("Resources").into_iter().flatten() {
        let Some(properties) = resource.get("Properties") else {
            continue;
        };
        let mut path = child(&pointer::of("Resources", id), "Properties");
        let mut uses = Vec::new();
        password_values(properties, &mut path, &mut uses);
        for (path, property, value) in uses {
            match value {
                Value::String(text) if !text.contains("{{resolve:") => {
                    findings.push(doc.warning(
                        PASSWORD_PROPERTY,
                        &path,
                        format!("{property} is written in the template; pass it as a NoEcho parameter or a secure dynamic reference"),
                    ));
                }
                Value::String(text) if text.contains("{{resolve:ssm:") => {
                    findings.push(doc.warning(
                        PASSWORD_PROPERTY,
                        &path,
                        format!("{property} reads a plain SSM parameter; use {{{{resolve:ssm-secure:…}}}} or {{{{resolve:secretsmanager:…}}}}"),
                    ));
                }
                Value::Object(map) if map.len() == 1 => {
                    let Some(Value::String(name)) = map.get("Ref") else {
                        continue; // computed: its pieces are judged where they come from
                    };
                    let Some(declaration) = parameters.and_then(|p| p.get(name)) else {
                        continue;
                    };
                    if no_echo(declaration) || reported.contains(&name.as_str()) {
                        continue;
                    }
                    reported.push(name);
                    findings.push(doc.warning(
                        PASSWORD_PROPERTY,
                        &pointer::of("Parameters", name),
                        format!("parameter {name} is used as {property} of resource {id}, so it should have NoEcho: true"),
                    ));
                }
                Value::Object(_) => findings.push(doc.warning(
                    PASSWORD_PROPERTY,
                    &path,
                    format!("{property} is a mapping, not a password"),
                )),
                _ => {}
            }
        }
    }
}

/// Whether a parameter declaration masks its value.
fn no_echo(declaration: &Value) -> bool {
    match declaration.get("NoEcho") {
        Some(Value::Bool(masked)) => *masked,
        Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Every `(path, property, value)` of a password property at any depth below `value`.
fn password_values<'v>(
    value: &'v Value,
    path: &mut String,
    out: &mut Vec<(String, &'static str, &'v Value)>,
) {
    match value {
        Value::Object(map) => entries(map, path, out),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                pointer::push_index(path, i);
                password_values(item, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn entries<'v>(
    map: &'v Map<String, Value>,
    path: &mut String,
    out: &mut Vec<(String, &'static str, &'v Value)>,
) {
    for (key, value) in map {
        let len = path.len();
        pointer::push_key(path, key);
        if let Some(property) = PASSWORD_PROPERTIES.iter().find(|p| **p == key) {
            out.push((path.clone(), property, value));
        }
        password_values(value, path, out);
        path.truncate(len);
    }
}
