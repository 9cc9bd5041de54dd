//! Dependency cycles between resources (through `Ref`, `Fn::GetAtt`, `Fn::Sub` and `DependsOn`):
//! CloudFormation cannot order such resources and rejects the template.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::references::sub_variables;
use super::{intrinsic, Doc, *};
use crate::template::pointer;

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    let Some(resources) = doc.section("Resources") else {
        return;
    };
    let mut edges: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (id, resource) in resources {
        let mut targets = BTreeSet::new();
        references(resource, &mut targets);
        redundant_depends_on(doc, id, resource, &targets, findings);
        if let Some(depends_on) = resource.get("DependsOn") {
            match depends_on {
                Value::String(t) => {
                    targets.insert(t.clone());
                }
                Value::Array(items) => {
                    targets.extend(items.iter().filter_map(Value::as_str).map(str::to_string));
                }
                _ => {}
            }
        }
        targets.retain(|t| resources.contains_key(t));
        edges.insert(id.as_str(), targets);
    }
    for cycle in cycles(&edges) {
        let members = cycle.join(", ");
        for id in &cycle {
            findings.push(doc.finding(
                CIRCULAR_DEPENDENCY,
                &pointer::of("Resources", id),
                format!(
                    "resource {id} is in a circular dependency: {members} depend on each other"
                ),
            ));
        }
    }
}

/// Warns of each `DependsOn` entry of resource `id` that a `Ref`, `Fn::GetAtt` or `Fn::Sub`
/// in it (`implied`) already orders: CloudFormation adds that dependency by itself.
fn redundant_depends_on(
    doc: &Doc<'_>,
    id: &str,
    resource: &Value,
    implied: &BTreeSet<String>,
    findings: &mut Vec<Finding>,
) {
    let path = format!("{}/DependsOn", pointer::of("Resources", id));
    let entries: Vec<(String, &str)> = match resource.get("DependsOn") {
        Some(Value::String(target)) => vec![(path.clone(), target.as_str())],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| item.as_str().map(|t| (format!("{path}/{i}"), t)))
            .collect(),
        _ => Vec::new(),
    };
    for (at, target) in entries {
        if implied.contains(target) {
            findings.push(doc.warning(
                REDUNDANT_DEPENDS_ON,
                &at,
                format!(
                    "resource {id} depends on {target} already through a Ref, Fn::GetAtt or Fn::Sub: DependsOn is not needed"
                ),
            ));
        }
    }
}

/// The resource names `value` refers to.
fn references(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some((function, args)) = intrinsic(value) {
                match (function, args) {
                    ("Ref", Value::String(name)) => {
                        out.insert(name.clone());
                    }
                    ("Fn::GetAtt", Value::Array(items)) => {
                        if let Some(Value::String(name)) = items.first() {
                            out.insert(name.clone());
                        }
                    }
                    ("Fn::GetAtt", Value::String(text)) => {
                        if let Some((name, _)) = text.split_once('.') {
                            out.insert(name.to_string());
                        }
                    }
                    ("Fn::Sub", sub) => {
                        let (text, local) = match sub {
                            Value::String(s) => (Some(s.as_str()), None),
                            Value::Array(items) => (
                                items.first().and_then(Value::as_str),
                                items.get(1).and_then(Value::as_object),
                            ),
                            _ => (None, None),
                        };
                        for variable in text.map(sub_variables).unwrap_or_default() {
                            if local.is_some_and(|l| l.contains_key(variable)) {
                                continue;
                            }
                            let name = variable.split_once('.').map_or(variable, |(r, _)| r);
                            out.insert(name.to_string());
                        }
                    }
                    _ => {}
                }
            }
            map.values().for_each(|v| references(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// The strongly connected groups of more than one resource, and resources that depend on
/// themselves (Tarjan's algorithm), each sorted.
fn cycles(edges: &BTreeMap<&str, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'e> {
        edges: &'e BTreeMap<&'e str, BTreeSet<String>>,
        index: BTreeMap<&'e str, usize>,
        low: BTreeMap<&'e str, usize>,
        stack: Vec<&'e str>,
        on_stack: BTreeSet<&'e str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'e>(state: &mut State<'e>, node: &'e str) {
        let next = state.index.len();
        state.index.insert(node, next);
        state.low.insert(node, next);
        state.stack.push(node);
        state.on_stack.insert(node);
        let targets = state.edges.get(node).into_iter().flatten();
        for target in targets {
            let Some((target, _)) = state.edges.get_key_value(target.as_str()) else {
                continue;
            };
            let target: &'e str = target;
            if !state.index.contains_key(target) {
                visit(state, target);
                let low = state.low[node].min(state.low[target]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(target) {
                let low = state.low[node].min(state.index[target]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut group = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                group.push(member.to_string());
                if member == node {
                    break;
                }
            }
            let self_loop = state.edges.get(node).is_some_and(|t| t.contains(node));
            if group.len() > 1 || self_loop {
                group.sort();
                state.found.push(group);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.found
}
