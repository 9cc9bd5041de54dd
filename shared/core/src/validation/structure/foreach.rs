//! `Fn::ForEach` loops (`AWS::LanguageExtensions`) expanded the way CloudFormation expands them,
//! so the other rules see the resources, outputs and references a loop really produces.

use serde_json::{Map, Value};

use crate::template::{pointer, scalar_text};

/// Stands for a loop value not known before deployment (a collection from a parameter). It is
/// alphanumeric, so the names it builds stay valid logical ids; a name built from it matches
/// any value (see `matches`).
pub(super) const UNKNOWN: &str = "ForEachValue";

const LOOP_PREFIX: &str = "Fn::ForEach::";

/// The template with every well-formed loop expanded, and the expanded pointer prefix → source
/// pointer of each entry a loop generated. A malformed loop stays as written: the name rules
/// report its key.
pub(super) fn expand(value: &Value) -> (Value, Vec<(String, String)>) {
    let mut expander = Expander {
        origins: Vec::new(),
    };
    let expanded = expander.node(value, "", "", &[]);
    (expanded, expander.origins)
}

/// Whether `name` could be one of the names the (loop-generated) `pattern` stands for.
pub(super) fn matches(pattern: &str, name: &str) -> bool {
    if !pattern.contains(UNKNOWN) {
        return false;
    }
    let parts: Vec<&str> = pattern.split(UNKNOWN).collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    let fixed: usize = parts.iter().map(|p| p.len()).sum();
    name.len() > fixed && name.starts_with(first) && name.ends_with(last)
}

/// A loop identifier bound to one value of its collection.
type Binding = (String, String);

struct Expander {
    origins: Vec<(String, String)>,
}

impl Expander {
    fn node(&mut self, value: &Value, source: &str, out: &str, bindings: &[Binding]) -> Value {
        match value {
            Value::Object(map) => {
                if !bindings.is_empty() {
                    if let Some(bound) = bound_intrinsic(map, bindings) {
                        return bound;
                    }
                }
                let mut result = Map::new();
                self.entries(map, source, out, bindings, &mut result);
                Value::Object(result)
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let (mut s, mut o) = (source.to_string(), out.to_string());
                        pointer::push_index(&mut s, i);
                        pointer::push_index(&mut o, i);
                        self.node(item, &s, &o, bindings)
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Copies `map`'s entries into `result`, replacing each loop by the entries it generates.
    fn entries(
        &mut self,
        map: &Map<String, Value>,
        source: &str,
        out: &str,
        bindings: &[Binding],
        result: &mut Map<String, Value>,
    ) {
        for (key, child) in map {
            let mut source_child = source.to_string();
            pointer::push_key(&mut source_child, key);
            if key.starts_with(LOOP_PREFIX) {
                if let Some((identifier, values, body)) = loop_parts(child) {
                    pointer::push_index(&mut source_child, 2);
                    for value in values {
                        let mut inner = bindings.to_vec();
                        inner.push((identifier.clone(), value));
                        self.generated(body, &source_child, out, &inner, result);
                    }
                    continue;
                }
            }
            let name = substitute_key(key, bindings);
            let mut out_child = out.to_string();
            pointer::push_key(&mut out_child, &name);
            if name != *key {
                self.origins.push((out_child.clone(), source_child.clone()));
            }
            let value = self.node(child, &source_child, &out_child, bindings);
            result.insert(name, value);
        }
    }

    /// The entries of one iteration of a loop's output template.
    fn generated(
        &mut self,
        body: &Map<String, Value>,
        source: &str,
        out: &str,
        bindings: &[Binding],
        result: &mut Map<String, Value>,
    ) {
        for (key, child) in body {
            let mut source_child = source.to_string();
            pointer::push_key(&mut source_child, key);
            if key.starts_with(LOOP_PREFIX) {
                let mut single = Map::new();
                single.insert(key.clone(), child.clone());
                self.entries(&single, source, out, bindings, result);
                continue;
            }
            let name = substitute_key(key, bindings);
            let mut out_child = out.to_string();
            pointer::push_key(&mut out_child, &name);
            self.origins.push((out_child.clone(), source_child.clone()));
            let value = self.node(child, &source_child, &out_child, bindings);
            result.insert(name, value);
        }
    }
}

/// `[Identifier, Collection, {OutputKey: OutputValue}]` → identifier, the values it takes
/// (`UNKNOWN` once when the collection is only known at deployment) and the output template.
fn loop_parts(value: &Value) -> Option<(String, Vec<String>, &Map<String, Value>)> {
    let [Value::String(identifier), collection, Value::Object(body)] = value.as_array()?.as_slice()
    else {
        return None;
    };
    let values = match collection {
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(scalar_text).collect()
        }
        _ => vec![UNKNOWN.to_string()],
    };
    Some((identifier.clone(), values, body))
}

/// Inside a loop, `Ref Identifier` is the loop value and `${Identifier}` in `Fn::Sub` is replaced.
fn bound_intrinsic(map: &Map<String, Value>, bindings: &[Binding]) -> Option<Value> {
    if map.len() != 1 {
        return None;
    }
    let (function, args) = map.iter().next()?;
    match (function.as_str(), args) {
        ("Ref", Value::String(name)) => bindings
            .iter()
            .rev()
            .find(|(identifier, _)| identifier == name)
            .map(|(_, value)| Value::String(value.clone())),
        ("Fn::Sub", Value::String(text)) => {
            let text = substitute(text, bindings, "${", false);
            // A string with nothing left to substitute is what the loop produced.
            Some(if text.contains("${") {
                sub(Value::String(text))
            } else {
                Value::String(text)
            })
        }
        ("Fn::Sub", Value::Array(items)) => {
            let mut items = items.clone();
            if let Some(Value::String(text)) = items.first_mut() {
                *text = substitute(text, bindings, "${", false);
            }
            Some(sub(Value::Array(items)))
        }
        _ => None,
    }
}

fn sub(args: Value) -> Value {
    let mut map = Map::new();
    map.insert("Fn::Sub".into(), args);
    Value::Object(map)
}

/// A generated key: `${Identifier}` is the value, `&{Identifier}` its alphanumeric characters.
fn substitute_key(key: &str, bindings: &[Binding]) -> String {
    let key = substitute(key, bindings, "${", false);
    substitute(&key, bindings, "&{", true)
}

fn substitute(text: &str, bindings: &[Binding], opening: &str, alphanumeric_only: bool) -> String {
    let mut text = text.to_string();
    for (identifier, value) in bindings.iter().rev() {
        let placeholder = format!("{opening}{identifier}}}");
        if text.contains(&placeholder) {
            let value: String = if alphanumeric_only {
                value.chars().filter(char::is_ascii_alphanumeric).collect()
            } else {
                value.clone()
            };
            text = text.replace(&placeholder, &value);
        }
    }
    text
}
