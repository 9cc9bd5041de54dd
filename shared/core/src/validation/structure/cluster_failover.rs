//! Redis cluster mode: a replication group whose parameter group (of this template) enables
//! `cluster-enabled` needs automatic failover and more than one cache cluster, in every scenario.

use serde_json::{Map, Value};

use super::{child, intrinsic, Doc, *};
use crate::template::pointer;
use crate::validation::resolve::scenarios::{ConditionSpace, Literal};

const REPLICATION_GROUP: &str = "AWS::ElastiCache::ReplicationGroup";

/// More condition scenarios than this on one resource are not judged (cfn-lint caps them too).
const MAX_SCENARIO_CONDITIONS: usize = 10;

pub(super) fn check(doc: &Doc<'_>, space: &mut ConditionSpace<'_>, findings: &mut Vec<Finding>) {
    for (id, resource) in doc.section("Resources").into_iter().flatten() {
        if resource.get("Type").and_then(Value::as_str) != Some(REPLICATION_GROUP) {
            continue;
        }
        let Some(properties) = resource.get("Properties").and_then(Value::as_object) else {
            continue;
        };
        let Some(group) = properties
            .get("CacheParameterGroupName")
            .and_then(|v| referenced_resource(doc, v))
        else {
            continue;
        };
        let group_parameters = doc
            .section("Resources")
            .and_then(|r| r.get(group))
            .and_then(|g| g.get("Properties"))
            .and_then(|p| p.get("Properties"))
            .and_then(Value::as_object);
        let Some(group_parameters) = group_parameters else {
            continue;
        };
        let mut names = Vec::new();
        for object in [properties, group_parameters] {
            for value in object.values() {
                if_conditions(value, &mut names);
            }
        }
        names.sort();
        names.dedup();
        if names.len() > MAX_SCENARIO_CONDITIONS {
            continue;
        }
        let own = resource
            .get("Condition")
            .and_then(Value::as_str)
            .map(|c| (c.to_string(), true));
        let base = child(&pointer::of("Resources", id), "Properties");
        for scenario in scenarios(&names) {
            if !scenario.is_empty() {
                let mut query = scenario.clone();
                query.extend(own.clone());
                if space.reachable(&query) != Some(true) {
                    continue;
                }
            }
            judge(
                doc,
                &base,
                properties,
                group_parameters,
                &scenario,
                findings,
            );
        }
    }
}

/// The failures of one scenario (no conditions: the one there is).
fn judge(
    doc: &Doc<'_>,
    base: &str,
    properties: &Map<String, Value>,
    group_parameters: &Map<String, Value>,
    scenario: &[Literal],
    findings: &mut Vec<Finding>,
) {
    let enabled = chosen_property(group_parameters, "cluster-enabled", scenario)
        .is_some_and(|v| v.as_str() == Some("yes"));
    if !enabled {
        return;
    }
    let when = if scenario.is_empty() {
        String::new()
    } else {
        let text = scenario
            .iter()
            .map(|(c, v)| {
                format!(
                    "when condition \"{c}\" is {}",
                    if *v { "True" } else { "False" }
                )
            })
            .collect::<Vec<_>>()
            .join(" and ");
        format!(" when {text}")
    };
    let failover_off = match chosen_property(properties, "AutomaticFailoverEnabled", scenario) {
        Some(Value::Bool(b)) => !b,
        Some(Value::String(s)) => !s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    if failover_off {
        let path = child(base, "AutomaticFailoverEnabled");
        findings.push(doc.finding(
            CLUSTER_FAILOVER,
            &path,
            format!(
                "\"AutomaticFailoverEnabled\" must be misssing or True when setting up a cluster{when} at {}",
                pointer::segments(&path).join("/")
            ),
        ));
    }
    let node_groups = chosen_property(properties, "NumNodeGroups", scenario);
    let no_node_groups = match &node_groups {
        None | Some(Value::Null) => true,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Bool(b)) => !b,
        _ => false,
    };
    if !no_node_groups {
        return;
    }
    let clusters = match chosen_property(properties, "NumCacheClusters", scenario) {
        None => Some(0.0),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    if clusters.is_some_and(|n| n <= 1.0) {
        let path = child(base, "NumCacheClusters");
        findings.push(doc.finding(
            CLUSTER_FAILOVER,
            &path,
            format!(
                "\"NumCacheClusters\" must be greater than one when creating a cluster{when} at {}",
                pointer::segments(&path).join("/")
            ),
        ));
    }
}

/// The resource a `Ref` names, directly or in a branch of `Fn::If`.
fn referenced_resource<'v>(doc: &Doc<'_>, value: &'v Value) -> Option<&'v str> {
    match intrinsic(value)? {
        ("Ref", Value::String(target)) => doc.names.is_resource(target).then_some(target.as_str()),
        ("Fn::If", Value::Array(items)) if items.len() == 3 => items[1..]
            .iter()
            .find_map(|branch| referenced_resource(doc, branch)),
        _ => None,
    }
}

/// Conditions of the `Fn::If`s a property value is (or lists), including nested branches.
fn if_conditions(value: &Value, names: &mut Vec<String>) {
    match intrinsic(value) {
        Some(("Fn::If", Value::Array(items))) if items.len() == 3 => {
            if let Some(name) = items[0].as_str() {
                names.push(name.to_string());
                for branch in &items[1..] {
                    if_conditions(branch, names);
                }
            }
        }
        _ => {
            if let Value::Array(items) = value {
                for item in items {
                    if_conditions(item, names);
                }
            }
        }
    }
}

/// Every true/false combination of `names` (one empty scenario when there are none).
fn scenarios(names: &[String]) -> Vec<Vec<Literal>> {
    (0..1usize << names.len())
        .map(|bits| {
            names
                .iter()
                .enumerate()
                .map(|(i, name)| (name.clone(), bits & (1 << i) == 0))
                .collect()
        })
        .collect()
}

/// A property's value in a scenario: `Fn::If`s on its conditions take their branch, and
/// `AWS::NoValue` is no value at all.
fn chosen_property(object: &Map<String, Value>, key: &str, scenario: &[Literal]) -> Option<Value> {
    chosen(object.get(key)?, scenario)
}

fn chosen(value: &Value, scenario: &[Literal]) -> Option<Value> {
    match intrinsic(value) {
        Some(("Ref", Value::String(name))) if name == "AWS::NoValue" => None,
        Some(("Fn::If", Value::Array(items))) if items.len() == 3 => {
            let name = items[0].as_str()?;
            let holds = scenario.iter().find(|(c, _)| c == name)?.1;
            chosen(&items[if holds { 1 } else { 2 }], scenario)
        }
        _ => Some(value.clone()),
    }
}
