//! Each resource's `Properties` against its type's schema, and each `Fn::GetAtt` against the
//! attributes its target's type has. Anything an intrinsic function computes is accepted.

use serde_json::{Map, Value};

use super::{format, json_type, registry, Registry, ResourceSchema, Shape};
use crate::template::{is_function_key, pointer, Template};
use crate::validation::{Finding, Severity};

/// A resource type CloudFormation does not have (cfn-lint E3006, "does not exist").
pub const UNKNOWN_RESOURCE_TYPE: &str = "E3006";
/// A property the type's schema does not allow (cfn-lint E3002).
pub const UNKNOWN_PROPERTY: &str = "E3002";
/// A required property is missing (cfn-lint E3003).
pub const REQUIRED_PROPERTY: &str = "E3003";
/// A value of the wrong JSON type, after CloudFormation's coercions (cfn-lint E3012).
pub const PROPERTY_TYPE: &str = "E3012";
/// A literal string outside the property's allowed values (cfn-lint E3030).
pub const ENUM_VALUE: &str = "E3030";
/// A resource type name that no registry could hold: not `Organization::Service::Resource` of
/// letters and digits (cfn-lint E3006 too: such a type does not exist anywhere).
pub const RESOURCE_TYPE_NAME: &str = "E3006";
/// A third-party registry type (`AWSQS::Kubernetes::Helm`) the bundled schemas do not hold: it
/// may well be registered in the account, so this is a warning that its properties go unchecked.
/// cfn-lint has no warning for it and reports the type as E3006, an error; we keep its id, so a
/// waiver or `ignore_checks` entry for E3006 covers both tools, at a warning's severity.
pub const UNREGISTERED_RESOURCE_TYPE: &str = "E3006";
/// A literal string without the form its property's format asks for, such as a CIDR block with
/// host bits set where an `ipv4-network` is expected. cfn-lint reports it under E3002, its rule
/// for invalid resource properties (its E1103 covers formats outside resource properties).
pub const VALUE_FORMAT: &str = "E3002";
/// `Fn::GetAtt` asks for an attribute its target's type lacks (cfn-lint E1010).
pub const GETATT_ATTRIBUTE: &str = "E1010";

/// How many allowed values a finding lists before it cuts the list short.
const LISTED_VALUES: usize = 8;

/// Every schema finding of one template.
pub fn check(template: &Template) -> Vec<Finding> {
    let registry = match registry() {
        Ok(r) => r,
        // Fail closed: a validator that cannot check must not let the template pass.
        Err(e) => {
            return vec![Finding::could_not_run(format!(
                "validation could not run: {e}"
            ))]
        }
    };
    let Some(resources) = template.resources() else {
        return Vec::new();
    };
    // A macro of the account's own is judged as written, as cfn-lint does: the gate cannot see
    // what it will produce and must not assume it is fine.
    let transforms = transforms(&template.value);
    // Which transform expands `AWS::Serverless::*` is not worth telling apart: accept under any.
    let transformed = !transforms.is_empty();
    let mut findings = Vec::new();
    for (id, resource) in resources {
        let Some(type_name) = resource.get("Type").and_then(Value::as_str) else {
            continue; // a missing Type is a structure finding
        };
        let mut path = pointer::of("Resources", id);
        match classify(registry, type_name, transformed) {
            Kind::Checked(schema) => {
                let mut walker = Walker {
                    template,
                    registry,
                    id,
                    type_name,
                    findings: &mut findings,
                };
                let empty = Value::Object(Map::new());
                let len = path.len();
                pointer::push_key(&mut path, "Properties");
                let properties = resource.get("Properties");
                if properties.is_none() {
                    // Report missing required properties at the resource, not at a section
                    // that is not there.
                    path.truncate(len);
                }
                walker.value(properties.unwrap_or(&empty), schema.shape, &mut path);
            }
            Kind::Unchecked => {}
            Kind::Unregistered => findings.push(Finding {
                severity: Severity::Warning,
                ..Finding::on_resource(
                    template,
                    UNREGISTERED_RESOURCE_TYPE,
                    id,
                    type_name,
                    &format!("{path}/Type"),
                    format!(
                        "resource {id} has type {type_name}, which the bundled schemas do not know (a third-party registry type?): its properties are not checked"
                    ),
                )
            }),
            Kind::Malformed => findings.push(Finding::on_resource(
                template,
                RESOURCE_TYPE_NAME,
                id,
                type_name,
                &format!("{path}/Type"),
                format!(
                    "resource {id} has type {type_name}, which is not a resource type name (Organization::Service::Resource, letters and digits)"
                ),
            )),
            Kind::Unknown => findings.push(Finding::on_resource(
                template,
                UNKNOWN_RESOURCE_TYPE,
                id,
                type_name,
                &format!("{path}/Type"),
                format!("resource {id} has type {type_name}, which CloudFormation does not have"),
            )),
        }
    }
    let getatts = GetAtts {
        template,
        registry,
        resources,
        transformed,
    };
    getatts.walk(&template.value, &mut String::new(), &mut findings);
    findings
}

enum Kind<'r> {
    Checked(&'r ResourceSchema),
    /// Real, but with properties the registry does not describe.
    Unchecked,
    /// Well formed, outside the AWS and Alexa namespaces, not in the bundled schemas: a
    /// third-party registry type, perhaps, that only the account's registry knows.
    Unregistered,
    Unknown,
    Malformed,
}

/// `Organization::Service::Resource`, each part letters and digits (the registry's naming rule).
fn well_formed_type_name(type_name: &str) -> bool {
    let parts: Vec<&str> = type_name.split("::").collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn classify<'r>(registry: &'r Registry, type_name: &str, transformed: bool) -> Kind<'r> {
    if type_name.starts_with("Custom::")
        || type_name == "AWS::CloudFormation::CustomResource"
        || type_name.ends_with("::MODULE")
        || registry.known_elsewhere(type_name)
        || (transformed && type_name.starts_with("AWS::Serverless::"))
    {
        return Kind::Unchecked;
    }
    match registry.resource(type_name) {
        Some(schema) => Kind::Checked(schema),
        // AWS publishes every type of its own namespaces: one it lacks does not exist.
        None if type_name.starts_with("AWS::") || type_name.starts_with("Alexa::") => Kind::Unknown,
        None if !well_formed_type_name(type_name) => Kind::Malformed,
        // Third-party registry types (`AWSQS::Kubernetes::Helm`) live in the account's own
        // registry, which a template alone cannot see.
        None => Kind::Unregistered,
    }
}

/// The template's `Transform` names (a name or a list of names).
fn transforms(template: &Value) -> Vec<String> {
    let name = |v: &Value| match v {
        Value::String(s) => s.clone(),
        // `{Name: ..., Parameters: ...}`; anything else is a macro we cannot judge.
        other => other
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string(),
    };
    match template.get("Transform") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(name).collect(),
        Some(one) => vec![name(one)],
    }
}

/// An intrinsic function call: a mapping whose only key is a CloudFormation function. A key
/// that only looks like one (`Fn::Rain::Embed`) is a plain mapping, and is type-checked as one.
fn intrinsic(map: &Map<String, Value>) -> Option<(&str, &Value)> {
    if map.len() != 1 {
        return None;
    }
    let (key, value) = map.iter().next()?;
    is_function_key(key).then_some((key.as_str(), value))
}

struct Walker<'a> {
    template: &'a Template,
    registry: &'a Registry,
    id: &'a str,
    type_name: &'a str,
    findings: &'a mut Vec<Finding>,
}

impl Walker<'_> {
    /// Checks `value` (at pointer `path`) against shape `index`.
    fn value(&mut self, value: &Value, index: u32, path: &mut String) {
        let registry = self.registry;
        let Some(shape) = registry.shape(index) else {
            return;
        };
        if let Value::Object(map) = value {
            if let Some((function, args)) = intrinsic(map) {
                // Each branch of a condition must fit on its own; any other function's result
                // is only known at deploy time.
                if let ("Fn::If", Value::Array(branches)) = (function, args) {
                    if branches.len() == 3 {
                        for (i, branch) in branches.iter().enumerate().skip(1) {
                            let len = path.len();
                            pointer::push_key(path, "Fn::If");
                            pointer::push_index(path, i);
                            self.value(branch, index, path);
                            path.truncate(len);
                        }
                    }
                }
                return;
            }
        }
        if !fits(value, shape.types) {
            self.push(
                PROPERTY_TYPE,
                path,
                format!(
                    "{} is {}, where {} expects {}",
                    self.display(path),
                    describe(value),
                    self.type_name,
                    expected(shape.types)
                ),
            );
            return;
        }
        match value {
            Value::Object(map) => self.object(map, shape, path),
            Value::Array(items) => {
                if let Some(items_shape) = shape.items {
                    for (i, item) in items.iter().enumerate() {
                        let len = path.len();
                        pointer::push_index(path, i);
                        self.value(item, items_shape, path);
                        path.truncate(len);
                    }
                }
            }
            Value::String(text) => {
                self.allowed_value(text, shape, path);
                self.formatted(text, shape, path);
            }
            _ => {}
        }
    }

    fn object(&mut self, map: &Map<String, Value>, shape: &Shape, path: &mut String) {
        // `Fn::Transform` (AWS::Include) and `Fn::ForEach` (language extensions) beside other
        // keys splice in keys we cannot see.
        if map
            .keys()
            .any(|k| k == "Fn::Transform" || k.starts_with("Fn::ForEach::"))
        {
            return;
        }
        let registry = self.registry;
        for required in &shape.required {
            let name = registry.name(*required);
            if !map.contains_key(name) {
                let message = format!(
                    "{} lacks required property {name} of {}",
                    self.display(path),
                    self.type_name
                );
                self.push(REQUIRED_PROPERTY, path, message);
            }
        }
        for (key, child) in map {
            let len = path.len();
            pointer::push_key(path, key);
            match registry.property(shape, key) {
                Some(child_shape) => self.value(child, child_shape, path),
                None if shape.closed => {
                    let message = format!(
                        "{} is not a property {} allows",
                        self.display(path),
                        self.type_name
                    );
                    self.push(UNKNOWN_PROPERTY, path, message);
                }
                None => {}
            }
            path.truncate(len);
        }
    }

    fn formatted(&mut self, text: &str, shape: &Shape, path: &str) {
        let Some(format) = shape.format else {
            return;
        };
        if dynamic_reference(text) {
            return;
        }
        if let Some(problem) = format::problem(format, text) {
            let message = format!(
                "{} is '{text}', not a valid {}: {problem}",
                self.display(path),
                format.name()
            );
            self.push(VALUE_FORMAT, path, message);
        }
    }

    fn allowed_value(&mut self, text: &str, shape: &Shape, path: &str) {
        let Some(allowed) = &shape.allowed else {
            return;
        };
        let ok = if dynamic_reference(text) {
            true
        } else if shape.allowed_any_case {
            allowed.iter().any(|a| a.eq_ignore_ascii_case(text))
        } else {
            allowed.iter().any(|a| a == text)
        };
        if !ok {
            let mut listed: Vec<&str> = allowed
                .iter()
                .take(LISTED_VALUES)
                .map(String::as_str)
                .collect();
            if allowed.len() > LISTED_VALUES {
                listed.push("…");
            }
            let message = format!(
                "{} is '{text}', which {} does not allow (allowed: {})",
                self.display(path),
                self.type_name,
                listed.join(", ")
            );
            self.push(ENUM_VALUE, path, message);
        }
    }

    /// `Properties.A.B[0]`: the pointer below the resource, as a reader would name it.
    fn display(&self, path: &str) -> String {
        let mut shown = String::new();
        // Skip `Resources` and the logical id.
        for segment in pointer::segments(path).into_iter().skip(2) {
            if segment.parse::<usize>().is_ok() {
                shown.push_str(&format!("[{segment}]"));
            } else {
                if !shown.is_empty() {
                    shown.push('.');
                }
                shown.push_str(&segment);
            }
        }
        if shown.is_empty() {
            format!("resource {}", self.id)
        } else {
            format!("resource {} {shown}", self.id)
        }
    }

    fn push(&mut self, rule: &str, path: &str, message: String) {
        self.findings.push(Finding::on_resource(
            self.template,
            rule,
            self.id,
            self.type_name,
            path,
            message,
        ));
    }
}

/// Whether `value` is one of `types`, with the coercions CloudFormation (and cfn-lint) allow:
/// scalars as strings, numeric strings as numbers, "true"/"false" strings as booleans.
fn fits(value: &Value, types: u8) -> bool {
    if types == 0 {
        return true;
    }
    let has = |bit: u8| types & bit != 0;
    match value {
        // A dynamic reference is resolved to whatever the parameter store holds.
        Value::String(s) if dynamic_reference(s) => true,
        // A null is a YAML key without a value: its own, earlier problem, not a type mismatch.
        Value::Null => true,
        Value::Object(_) => has(json_type::OBJECT),
        Value::Array(_) => has(json_type::ARRAY),
        Value::Bool(_) => has(json_type::BOOLEAN) || has(json_type::STRING),
        // cfn-lint takes a float where an integer is expected (Python's int() truncates).
        Value::Number(_) => {
            has(json_type::INTEGER) || has(json_type::NUMBER) || has(json_type::STRING)
        }
        Value::String(s) => {
            has(json_type::STRING)
                || (has(json_type::INTEGER) && integer_text(s))
                || (has(json_type::NUMBER) && number_text(s))
                || (has(json_type::BOOLEAN) && boolean_text(s))
        }
    }
}

fn dynamic_reference(text: &str) -> bool {
    text.contains("{{resolve:")
}

/// What Python's `int()` accepts: digits with an optional sign, single underscores between
/// digits, surrounding whitespace.
fn integer_text(text: &str) -> bool {
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
}

/// What Python's `float()` accepts (decimals, exponents, `inf`, `nan`), near enough: Rust's
/// float syntax is the same bar the underscores.
fn number_text(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && !t.contains("__") && t.replace('_', "").parse::<f64>().is_ok()
}

fn boolean_text(text: &str) -> bool {
    matches!(text, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
}

fn describe(value: &Value) -> String {
    match value {
        Value::Object(_) => "a mapping".into(),
        Value::Array(_) => "a list".into(),
        Value::String(s) => format!("the string '{s}'"),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::Null => "null".into(),
    }
}

fn expected(types: u8) -> String {
    let names = [
        (json_type::STRING, "a string"),
        (json_type::INTEGER, "an integer"),
        (json_type::NUMBER, "a number"),
        (json_type::BOOLEAN, "a boolean"),
        (json_type::ARRAY, "a list"),
        (json_type::OBJECT, "a mapping"),
        (json_type::NULL, "null"),
    ];
    let named: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| types & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    named.join(" or ")
}

/// What the `Fn::GetAtt` walk needs at every node.
struct GetAtts<'a> {
    template: &'a Template,
    registry: &'a Registry,
    resources: &'a Map<String, Value>,
    transformed: bool,
}

impl GetAtts<'_> {
    /// Visits every `Fn::GetAtt` in the template; `path` is the pointer of `value`.
    fn walk(&self, value: &Value, path: &mut String, findings: &mut Vec<Finding>) {
        match value {
            Value::Object(map) => {
                if let Some(("Fn::GetAtt", args)) = intrinsic(map) {
                    self.check(args, path, findings);
                }
                for (key, child) in map {
                    let len = path.len();
                    pointer::push_key(path, key);
                    self.walk(child, path, findings);
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let len = path.len();
                    pointer::push_index(path, i);
                    self.walk(child, path, findings);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }

    fn check(&self, args: &Value, path: &str, findings: &mut Vec<Finding>) {
        // Only literal names can be judged; `[Res, !Ref Attr]` is known at deploy time.
        let (target, attribute) = match args {
            Value::Array(items) => match (items.first(), items.get(1)) {
                (Some(Value::String(t)), Some(Value::String(a))) => (t.as_str(), a.as_str()),
                _ => return,
            },
            Value::String(s) => match s.split_once('.') {
                Some(pair) => pair,
                None => return,
            },
            _ => return,
        };
        // An unknown target is a structure finding.
        let Some(type_name) = self
            .resources
            .get(target)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
        else {
            return;
        };
        // Custom, third-party and undescribed types may have any attribute.
        let Kind::Checked(schema) = classify(self.registry, type_name, self.transformed) else {
            return;
        };
        if schema.has_attribute(attribute) {
            return;
        }
        // The finding belongs to the resource that asks; in Outputs, to the one asked.
        let (resource, resource_type) = match resource_of(path) {
            Some(id) => (id, self.template.resource_type(id).unwrap_or_default()),
            None => (target, type_name),
        };
        findings.push(Finding::on_resource(
            self.template,
            GETATT_ATTRIBUTE,
            resource,
            resource_type,
            &format!("{path}/Fn::GetAtt"),
            getatt_message(target, attribute, type_name),
        ));
    }
}

/// The logical id in a `/Resources/<Id>/...` pointer (ids are alphanumeric: nothing to unescape).
fn resource_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/Resources/")?;
    Some(rest.split('/').next().unwrap_or(rest))
}

fn getatt_message(target: &str, attribute: &str, type_name: &str) -> String {
    format!("Fn::GetAtt {target}.{attribute}: {type_name} has no attribute {attribute}")
}
