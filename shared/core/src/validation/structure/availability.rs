//! References to conditional resources: a `DependsOn`, `Ref`, `Fn::GetAtt` or `Fn::Sub` must not
//! name a resource that may be absent when the referrer (and the `Fn::If` branch it sits in) exists.

use serde_json::Value;

use super::{intrinsic, Doc, *};
use crate::template::pointer;
use crate::validation::resolve::scenarios::{ConditionSpace, Literal};

pub(super) fn check(doc: &Doc<'_>, space: &mut ConditionSpace<'_>, findings: &mut Vec<Finding>) {
    if doc.other_transform || doc.section("Conditions").is_none() {
        return;
    }
    for section in ["Resources", "Outputs"] {
        for (id, entry) in doc.section(section).into_iter().flatten() {
            let own = entry
                .get("Condition")
                .and_then(Value::as_str)
                .map(|c| (c.to_string(), true));
            let base = pointer::of(section, id);
            if section == "Resources" {
                depends_on(doc, space, &base, own.as_ref(), entry, findings);
            }
            let mut path = base.clone();
            walk(entry, &mut path, &mut Vec::new(), &mut |reference| {
                findings.extend(unavailable(doc, space, own.as_ref(), &reference));
            });
        }
    }
}

/// A `Ref`, `Fn::GetAtt` or `Fn::Sub` to a conditional resource its referrer can exist without.
fn unavailable(
    doc: &Doc<'_>,
    space: &mut ConditionSpace<'_>,
    own: Option<&Literal>,
    reference: &Reference<'_>,
) -> Option<Finding> {
    let mut given: Vec<Literal> = reference.branches.to_vec();
    given.extend(own.cloned());
    let scenario = missing_when(doc, space, reference.target, &given)?;
    Some(doc.warning(
        MAY_BE_UNAVAILABLE,
        reference.path,
        format!(
            "{} to resource '{}' that may not be available {} at {}",
            reference.label,
            reference.target,
            spoken(&scenario),
            pointer::segments(reference.path).join("/")
        ),
    ))
}

/// `DependsOn` on a conditional resource the referrer can exist without.
fn depends_on(
    doc: &Doc<'_>,
    space: &mut ConditionSpace<'_>,
    base: &str,
    own: Option<&Literal>,
    entry: &Value,
    findings: &mut Vec<Finding>,
) {
    let path = child(base, "DependsOn");
    let targets: Vec<(String, &Value)> = match entry.get("DependsOn") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("{path}/{i}"), t))
            .collect(),
        Some(single) => vec![(path.clone(), single)],
        None => return,
    };
    let given: Vec<Literal> = own.cloned().into_iter().collect();
    for (at, target) in targets {
        let Some(target) = target.as_str() else {
            continue;
        };
        if let Some(mut scenario) = missing_when(doc, space, target, &given) {
            scenario.sort();
            findings.push(doc.finding(
                DEPENDS_ON_TARGET,
                &at,
                format!("'{target}' will not exist {}", spoken(&scenario)),
            ));
        }
    }
}

/// The scenario (the target's condition false first, then what the referrer's path requires)
/// in which `target` is absent though its referrer is there, when such a scenario is reachable.
fn missing_when(
    doc: &Doc<'_>,
    space: &mut ConditionSpace<'_>,
    target: &str,
    given: &[Literal],
) -> Option<Vec<Literal>> {
    let condition = doc
        .section("Resources")?
        .get(target)?
        .get("Condition")?
        .as_str()?;
    let absent = (condition.to_string(), false);
    if given.iter().any(|(c, v)| c == condition && *v) {
        return None;
    }
    let mut query = given.to_vec();
    query.push(absent.clone());
    if space.reachable(&query) != Some(true) {
        return None;
    }
    // As cfn-lint words it: the referrer's own conditions add nothing when the target's
    // condition already appears among them.
    let mut scenario = vec![absent];
    if !given.iter().any(|(c, _)| c == condition) {
        for literal in given {
            if !scenario.contains(literal) {
                scenario.push(literal.clone());
            }
        }
    }
    Some(scenario)
}

/// "when condition 'A' is False and when condition 'B' is True".
fn spoken(scenario: &[Literal]) -> String {
    scenario
        .iter()
        .map(|(c, v)| {
            let value = if *v { "True" } else { "False" };
            format!("when condition '{c}' is {value}")
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// One name a `Ref`, `Fn::GetAtt` or `Fn::Sub` refers to, where, and under which branches.
struct Reference<'a> {
    /// The object holding the reference (as cfn-lint points at it).
    path: &'a str,
    /// `Ref` or `GetAtt` (a `Fn::Sub` variable is one or the other).
    label: &'a str,
    target: &'a str,
    /// The `Fn::If` branches around it: (condition, branch taken when it is true).
    branches: &'a [Literal],
}

/// Calls `visit` with the path of the object holding the reference, its label and target, for
/// each `Ref`, `Fn::GetAtt` and `Fn::Sub` variable naming a name, in each `Fn::If` branch with
/// that branch's condition required.
fn walk(
    value: &Value,
    path: &mut String,
    branches: &mut Vec<Literal>,
    visit: &mut dyn FnMut(Reference<'_>),
) {
    match value {
        Value::Object(map) => {
            if let Some((function, args)) = intrinsic(value) {
                match (function, args) {
                    ("Fn::If", Value::Array(items)) if items.len() == 3 => {
                        if let Some(condition) = items[0].as_str() {
                            let len = path.len();
                            pointer::push_key(path, "Fn::If");
                            for (i, holds) in [(1, true), (2, false)] {
                                let at = path.len();
                                pointer::push_index(path, i);
                                branches.push((condition.to_string(), holds));
                                walk(&items[i], path, branches, visit);
                                branches.pop();
                                path.truncate(at);
                            }
                            path.truncate(len);
                            return;
                        }
                    }
                    ("Ref", Value::String(target)) => visit(Reference {
                        path,
                        label: "Ref",
                        target,
                        branches,
                    }),
                    ("Fn::GetAtt", Value::Array(items)) if items.len() == 2 => {
                        if let Some(target) = items[0].as_str() {
                            visit(Reference {
                                path,
                                label: "GetAtt",
                                target,
                                branches,
                            });
                        }
                    }
                    ("Fn::GetAtt", Value::String(dotted)) => {
                        if let Some((target, _)) = dotted.split_once('.') {
                            visit(Reference {
                                path,
                                label: "GetAtt",
                                target,
                                branches,
                            });
                        }
                    }
                    ("Fn::Sub", _) => {
                        let (text, local) = match args {
                            Value::String(s) => (Some(s.as_str()), None),
                            Value::Array(items) => (
                                items.first().and_then(Value::as_str),
                                items.get(1).and_then(Value::as_object),
                            ),
                            _ => (None, None),
                        };
                        for variable in text
                            .map(super::references::sub_variables)
                            .unwrap_or_default()
                        {
                            if local.is_some_and(|l| l.contains_key(variable)) {
                                continue;
                            }
                            match variable.split_once('.') {
                                Some((target, _)) => visit(Reference {
                                    path,
                                    label: "GetAtt",
                                    target,
                                    branches,
                                }),
                                None => visit(Reference {
                                    path,
                                    label: "Ref",
                                    target: variable,
                                    branches,
                                }),
                            }
                        }
                    }
                    _ => {}
                }
            }
            for (key, child) in map {
                let len = path.len();
                pointer::push_key(path, key);
                walk(child, path, branches, visit);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                pointer::push_index(path, i);
                walk(child, path, branches, visit);
                path.truncate(len);
            }
        }
        _ => {}
    }
}
