//! Decides intrinsics whose result is known in one environment (conditions, `Fn::If`,
//! `Fn::FindInMap`, `Fn::Select`, `Fn::Join`, parameter and pseudo-parameter `Ref`s) in place.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Conditions nest; a cycle in a broken template must not recurse forever.
const MAX_DEPTH: usize = 32;

pub(super) struct Settler<'a> {
    parameters: &'a BTreeMap<String, Value>,
    region: Option<&'a str>,
    mappings: &'a Map<String, Value>,
    declared: &'a Map<String, Value>,
    decided: BTreeMap<String, Option<bool>>,
}

impl<'a> Settler<'a> {
    pub(super) fn new(
        parameters: &'a BTreeMap<String, Value>,
        region: Option<&'a str>,
        mappings: &'a Map<String, Value>,
        declared: &'a Map<String, Value>,
    ) -> Self {
        Settler {
            parameters,
            region,
            mappings,
            declared,
            decided: BTreeMap::new(),
        }
    }

    /// A named condition: true, false, or `None` when it depends on something unknown here.
    pub(super) fn condition(&mut self, name: &str) -> Option<bool> {
        self.named_condition(name, 0)
    }

    /// Settles `value`, keeping it even when it is `AWS::NoValue` (only a property disappears).
    pub(super) fn settle_kept(&mut self, value: &mut Value) {
        self.settle(value, 0);
    }

    fn named_condition(&mut self, name: &str, depth: usize) -> Option<bool> {
        if let Some(known) = self.decided.get(name) {
            return *known;
        }
        // Marked undecided first, so a condition that refers to itself ends as undecided.
        self.decided.insert(name.to_string(), None);
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
            "Condition" => self.named_condition(args.as_str()?, depth + 1),
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
    /// which the caller removes from its object or array, as CloudFormation does.
    fn settle(&mut self, value: &mut Value, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return true;
        }
        if let Some((function, args)) = single_key(value) {
            match function {
                "Ref" => {
                    let Some(name) = args.as_str() else {
                        return true;
                    };
                    if name == "AWS::NoValue" {
                        return false;
                    }
                    if let Some(resolved) = self.reference(name) {
                        *value = resolved;
                    }
                    return true;
                }
                "Fn::If" => return self.settle_if(value, depth),
                "Fn::FindInMap" => {
                    let mut args = args.clone();
                    self.settle(&mut args, depth + 1);
                    match self.find_in_map(&args) {
                        Some(found) => {
                            *value = found;
                            return self.settle(value, depth + 1);
                        }
                        None => {
                            if let Some(map) = value.as_object_mut() {
                                map.insert("Fn::FindInMap".into(), args);
                            }
                            return true;
                        }
                    }
                }
                "Fn::Select" | "Fn::Join" => {
                    let function = function.to_string();
                    let mut args = args.clone();
                    self.settle(&mut args, depth + 1);
                    let decided = if function == "Fn::Select" {
                        select(&args)
                    } else {
                        join(&args)
                    };
                    match decided {
                        Some(result) => *value = result,
                        None => {
                            if let Some(map) = value.as_object_mut() {
                                map.insert(function, args);
                            }
                        }
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

    /// A decided `Fn::If` becomes its branch; an undecided one keeps both branches, each settled
    /// but kept whole (an `AWS::NoValue` branch stays, so the `Fn::If` keeps its three arguments).
    fn settle_if(&mut self, value: &mut Value, depth: usize) -> bool {
        let Some(Value::Array(args)) = value.get_mut("Fn::If") else {
            return true;
        };
        let Some(name) = args.first().and_then(Value::as_str).map(str::to_string) else {
            return true;
        };
        if args.len() != 3 {
            return true;
        }
        match self.named_condition(&name, depth + 1) {
            Some(decided) => {
                let branch = args.swap_remove(if decided { 1 } else { 2 });
                *value = branch;
                self.settle(value, depth + 1)
            }
            None => {
                for branch in args.iter_mut().skip(1) {
                    self.settle(branch, depth + 1);
                }
                true
            }
        }
    }

    /// What `Ref name` resolves to here: a parameter's value or a pseudo parameter; resources,
    /// `AWS::AccountId` and the stack's own ids are only known once deployed.
    fn reference(&self, name: &str) -> Option<Value> {
        match name {
            "AWS::Region" => self.region.map(|r| Value::String(r.to_string())),
            "AWS::Partition" => Some(Value::String("aws".into())),
            "AWS::URLSuffix" => Some(Value::String("amazonaws.com".into())),
            _ => self.parameters.get(name).cloned(),
        }
    }

    fn find_in_map(&self, args: &Value) -> Option<Value> {
        let args = args.as_array()?;
        let (map, top, second) = (args.first()?, args.get(1)?, args.get(2)?);
        let found = self
            .mappings
            .get(map.as_str()?)
            .and_then(|m| m.get(scalar(top)?.as_str()))
            .and_then(|m| m.get(scalar(second)?.as_str()))
            .cloned();
        // `AWS::LanguageExtensions` lets a lookup name a fallback as a fourth argument.
        found.or_else(|| args.get(3)?.get("DefaultValue").cloned())
    }
}

/// `Fn::Select [index, [items…]]` with a literal index and list.
fn select(args: &Value) -> Option<Value> {
    let [index, Value::Array(items)] = args.as_array()?.as_slice() else {
        return None;
    };
    let index: usize = scalar(index)?.parse().ok()?;
    items.get(index).cloned()
}

/// `Fn::Join [delimiter, [items…]]` once every item is a plain scalar.
fn join(args: &Value) -> Option<Value> {
    let [Value::String(delimiter), Value::Array(items)] = args.as_array()?.as_slice() else {
        return None;
    };
    let parts = items.iter().map(scalar).collect::<Option<Vec<_>>>()?;
    Some(Value::String(parts.join(delimiter)))
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
