//! What a template deploys in one environment: parameter Refs resolved as validation resolves them,
//! then Conditions, `Fn::If`, `Fn::FindInMap` and `AWS::Region` settled so pricing reads plain values.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::template::Template;
use crate::validation::{resolve, ValidationContext};

/// Conditions nest; a cycle in a broken template must not recurse forever.
const MAX_DEPTH: usize = 32;

/// One resource as it would be deployed.
#[derive(Debug, Clone)]
pub(super) struct DeployedResource {
    pub logical_id: String,
    pub resource_type: Option<String>,
    pub properties: Value,
    /// Set when the resource's `Condition` could not be decided: it is priced as if created.
    pub undecided_condition: Option<String>,
}

/// The resources the template creates in `region` with `ctx`'s parameters. Resources whose
/// `Condition` is false are left out: they are not deployed.
pub(super) fn resources(
    template: &Template,
    ctx: &ValidationContext,
    region: &str,
) -> Vec<DeployedResource> {
    let resolved = resolve::with_parameters(template, ctx);
    let empty = Map::new();
    let section = |name: &str| {
        resolved
            .get(name)
            .and_then(Value::as_object)
            .unwrap_or(&empty)
    };
    let mut settler = Settler {
        region,
        mappings: section("Mappings"),
        declared: section("Conditions"),
        decided: BTreeMap::new(),
    };
    let mut out = Vec::new();
    for (logical_id, resource) in section("Resources") {
        let condition = resource.get("Condition").and_then(Value::as_str);
        let decided = condition.map(|name| settler.condition(name, 0));
        if decided == Some(Some(false)) {
            continue;
        }
        let mut properties = resource
            .get("Properties")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        settler.settle(&mut properties, 0);
        out.push(DeployedResource {
            logical_id: logical_id.clone(),
            resource_type: resource
                .get("Type")
                .and_then(Value::as_str)
                .map(str::to_string),
            properties,
            undecided_condition: match decided {
                Some(None) => condition.map(str::to_string),
                _ => None,
            },
        });
    }
    out
}

struct Settler<'a> {
    region: &'a str,
    mappings: &'a Map<String, Value>,
    declared: &'a Map<String, Value>,
    decided: BTreeMap<String, Option<bool>>,
}

impl Settler<'_> {
    /// A named condition: true, false, or `None` when it depends on something unknown here.
    fn condition(&mut self, name: &str, depth: usize) -> Option<bool> {
        if let Some(known) = self.decided.get(name) {
            return *known;
        }
        let declared = self.declared;
        let value = declared
            .get(name)
            .and_then(|expr| self.evaluate(expr, depth + 1));
        self.decided.insert(name.to_string(), value);
        value
    }

    fn evaluate(&mut self, expr: &Value, depth: usize) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (function, args) = single_key(expr)?;
        let args_list = args.as_array();
        match function {
            "Condition" => self.condition(args.as_str()?, depth + 1),
            "Fn::Equals" => {
                let [left, right] = args_list?.as_slice() else {
                    return None;
                };
                let (mut left, mut right) = (left.clone(), right.clone());
                self.settle(&mut left, depth + 1);
                self.settle(&mut right, depth + 1);
                Some(scalar(&left)? == scalar(&right)?)
            }
            "Fn::Not" => {
                let [inner] = args_list?.as_slice() else {
                    return None;
                };
                self.evaluate(inner, depth + 1).map(|b| !b)
            }
            // Three-valued: one false decides an And (one true an Or) even if others are unknown.
            "Fn::And" | "Fn::Or" => {
                let decisive = function == "Fn::Or";
                let mut unknown = false;
                for item in args_list? {
                    match self.evaluate(item, depth + 1) {
                        Some(b) if b == decisive => return Some(decisive),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                (!unknown).then_some(!decisive)
            }
            _ => None,
        }
    }

    /// Replaces decidable intrinsics in place. Returns false when the value is `AWS::NoValue`,
    /// which the caller removes, as CloudFormation does.
    fn settle(&mut self, value: &mut Value, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return true;
        }
        if let Some((function, args)) = single_key(value) {
            match function {
                "Ref" if args.as_str() == Some("AWS::NoValue") => return false,
                "Ref" if args.as_str() == Some("AWS::Region") => {
                    *value = Value::String(self.region.to_string());
                    return true;
                }
                "Ref" if args.as_str() == Some("AWS::Partition") => {
                    *value = Value::String("aws".into());
                    return true;
                }
                "Fn::If" => {
                    let chosen = args.as_array().and_then(|a| match a.as_slice() {
                        [Value::String(name), yes, no] => Some((name.clone(), yes, no)),
                        _ => None,
                    });
                    if let Some((name, yes, no)) = chosen {
                        let (yes, no) = (yes.clone(), no.clone());
                        if let Some(decided) = self.condition(&name, depth + 1) {
                            *value = if decided { yes } else { no };
                            return self.settle(value, depth + 1);
                        }
                    }
                }
                "Fn::FindInMap" => {
                    let mut args = args.clone();
                    self.settle(&mut args, depth + 1);
                    if let Some(found) = self.find_in_map(&args) {
                        *value = found;
                        return self.settle(value, depth + 1);
                    }
                    if let Some(map) = value.as_object_mut() {
                        map.insert("Fn::FindInMap".into(), args);
                    }
                    return true;
                }
                _ => {}
            }
        }
        match value {
            Value::Object(map) => {
                let mut gone = Vec::new();
                for (key, item) in map.iter_mut() {
                    if !self.settle(item, depth + 1) {
                        gone.push(key.clone());
                    }
                }
                for key in gone {
                    map.remove(&key);
                }
            }
            Value::Array(items) => {
                let mut kept = Vec::with_capacity(items.len());
                for mut item in std::mem::take(items) {
                    if self.settle(&mut item, depth + 1) {
                        kept.push(item);
                    }
                }
                *items = kept;
            }
            _ => {}
        }
        true
    }

    fn find_in_map(&self, args: &Value) -> Option<Value> {
        let [map, top, second] = args.as_array()?.as_slice() else {
            return None;
        };
        self.mappings
            .get(map.as_str()?)?
            .get(scalar(top)?)?
            .get(scalar(second)?)
            .cloned()
    }
}

/// `{"Fn::X": args}` → `("Fn::X", args)`.
fn single_key(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    map.iter().next().map(|(k, v)| (k.as_str(), v))
}

/// A scalar as CloudFormation compares it: as text.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
