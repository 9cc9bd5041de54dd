//! The `Rules` section: each rule an optional `RuleCondition` and a list of `Assertions`, written
//! in the rule functions CloudFormation evaluates against parameter values before any resource.

use serde_json::{Map, Value};

use super::parameters::aws_specific_type;
use super::sections::{kind, name_rules};
use super::{child, intrinsic, Doc, *};
use crate::template::pointer;

/// Functions CloudFormation evaluates only inside `Rules`; anywhere else it rejects the template.
pub(super) const RULE_ONLY_FUNCTIONS: [&str; 6] = [
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::RefAll",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
];

const RULE_KEYS: [&str; 2] = ["RuleCondition", "Assertions"];

/// Functions whose own shape check already rejects a rule function given as an argument, so
/// the misplaced function is reported once, as cfn-lint reports it (e.g. E1022 in `Fn::Join`).
const SHAPE_CHECKED: [&str; 11] = [
    "Ref",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Select",
    "Fn::Split",
    "Fn::Join",
    "Fn::FindInMap",
    "Fn::GetAZs",
    "Fn::Cidr",
    "Fn::Base64",
    "Fn::ImportValue",
];

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    if let Some(section) = doc.value.get("Rules") {
        rules(doc, section, findings);
    }
    misplaced(doc, findings);
}

fn rules(doc: &Doc<'_>, section: &Value, findings: &mut Vec<Finding>) {
    let Some(rules) = section.as_object() else {
        findings.push(doc.finding(
            RULES_CONFIGURATION,
            "/Rules",
            format!("Rules must be a mapping of rules, not {}", kind(section)),
        ));
        return;
    };
    for (name, rule) in rules {
        let path = pointer::of("Rules", name);
        name_rules(
            doc,
            &path,
            "rule",
            name,
            RULES_CONFIGURATION,
            RULES_CONFIGURATION,
            findings,
        );
        let Some(entry) = rule.as_object() else {
            findings.push(doc.finding(
                RULES_CONFIGURATION,
                &path,
                format!(
                    "rule {name} must be a mapping of RuleCondition and Assertions, not {}",
                    kind(rule)
                ),
            ));
            continue;
        };
        let mut check = RuleCheck {
            doc,
            name,
            place: RULES_CONFIGURATION,
            findings,
        };
        check.entry(&path, entry);
    }
}

/// Where a value sits, which decides what it must be and which rule reports it.
#[derive(Clone, Copy)]
enum Want {
    /// One string (a number or boolean is read as its text).
    Text,
    List,
    /// Either: `Fn::Equals` compares whatever it is given.
    Any,
}

struct RuleCheck<'a, 'd> {
    doc: &'a Doc<'d>,
    name: &'a str,
    /// The rule of the place being checked: `ASSERT_SHAPE` or `RULE_CONDITION_SHAPE`, which
    /// reports the arguments of rule functions however deep they sit.
    place: &'static str,
    findings: &'a mut Vec<Finding>,
}

impl RuleCheck<'_, '_> {
    fn report(&mut self, rule: &str, path: &str, message: String) {
        let message = format!("rule {}: {message}", self.name);
        self.findings.push(self.doc.finding(rule, path, message));
    }

    fn entry(&mut self, path: &str, entry: &Map<String, Value>) {
        for key in entry.keys().filter(|k| !RULE_KEYS.contains(&k.as_str())) {
            self.report(
                RULES_CONFIGURATION,
                &child(path, key),
                format!("{key} is not a rule attribute; a rule has RuleCondition and Assertions"),
            );
        }
        if let Some(condition) = entry.get("RuleCondition") {
            self.place = RULE_CONDITION_SHAPE;
            self.boolean(
                &child(path, "RuleCondition"),
                condition,
                RULE_CONDITION_SHAPE,
            );
        }
        let assertions_path = child(path, "Assertions");
        let assertions = match entry.get("Assertions") {
            None => return self.report(RULES_CONFIGURATION, path, "Assertions is required".into()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return self.report(
                    RULES_CONFIGURATION,
                    &assertions_path,
                    format!(
                        "Assertions must be a list of {{Assert, AssertDescription}}, not {}",
                        kind(other)
                    ),
                )
            }
        };
        for (i, assertion) in assertions.iter().enumerate() {
            let path = format!("{assertions_path}/{i}");
            let Some(assertion) = assertion.as_object() else {
                self.report(
                    RULES_CONFIGURATION,
                    &path,
                    format!(
                        "an assertion must be a mapping of Assert and AssertDescription, not {}",
                        kind(assertion)
                    ),
                );
                continue;
            };
            // Other keys beside Assert and AssertDescription (a typo such as `AssetDescription`
            // in AWS's own samples) are not judged: cfn-lint does not, and nothing says
            // CloudFormation refuses them, so refusing would fail templates AWS deploys.
            match assertion.get("AssertDescription") {
                None | Some(Value::String(_) | Value::Number(_) | Value::Bool(_)) => {}
                Some(other) => self.report(
                    RULES_CONFIGURATION,
                    &child(&path, "AssertDescription"),
                    format!("AssertDescription must be a string, not {}", kind(other)),
                ),
            }
            match assertion.get("Assert") {
                Some(assert) => {
                    self.place = ASSERT_SHAPE;
                    self.boolean(&child(&path, "Assert"), assert, ASSERT_SHAPE);
                }
                None => self.report(RULES_CONFIGURATION, &path, "Assert is required".into()),
            }
        }
    }

    /// A value that must come out true or false: a condition-like rule function or a literal.
    /// `rule` reports it: the place's own id (E1701, E1702) or the enclosing function's.
    fn boolean(&mut self, path: &str, value: &Value, rule: &str) {
        if let Some(name) = value
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.get("Condition"))
        {
            return self.condition(&child(path, "Condition"), name);
        }
        let Some((function, args)) = intrinsic(value) else {
            let literal = match value {
                Value::Bool(_) => true,
                Value::String(s) => {
                    s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")
                }
                _ => false,
            };
            if !literal {
                self.report(
                    rule,
                    path,
                    format!("{value} does not evaluate to true or false; use a rule function such as Fn::Equals, Fn::Contains or Fn::Not"),
                );
            }
            return;
        };
        let args_path = child(path, function);
        let items = args.as_array().map(Vec::as_slice);
        match function {
            "Fn::And" | "Fn::Or" | "Fn::Not" => {
                let (shape_rule, range) = match function {
                    "Fn::And" => (AND_SHAPE, 2..=10),
                    "Fn::Or" => (OR_SHAPE, 2..=10),
                    _ => (NOT_SHAPE, 1..=1),
                };
                match items.filter(|i| range.contains(&i.len())) {
                    Some(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.boolean(&format!("{args_path}/{i}"), item, shape_rule);
                        }
                    }
                    None => {
                        let count = if range.start() == range.end() {
                            "exactly one condition".to_string()
                        } else {
                            format!("a list of {} to {} conditions", range.start(), range.end())
                        };
                        self.report(
                            shape_rule,
                            &args_path,
                            format!("{function} takes {count}, not {args}"),
                        );
                    }
                }
            }
            "Fn::Equals" => match items {
                Some([left, right]) => {
                    self.value(&format!("{args_path}/0"), left, Want::Any, EQUALS_SHAPE);
                    self.value(&format!("{args_path}/1"), right, Want::Any, EQUALS_SHAPE);
                }
                _ => self.report(
                    EQUALS_SHAPE,
                    &args_path,
                    format!("Fn::Equals takes exactly two values to compare, not {args}"),
                ),
            },
            "Fn::Contains" | "Fn::EachMemberEquals" | "Fn::EachMemberIn" => {
                let (second, expected) = if function == "Fn::EachMemberIn" {
                    (Want::List, "[strings to check, strings to match]")
                } else {
                    (Want::Text, "[list of strings, string]")
                };
                let place = self.place;
                match items {
                    Some([list, other]) => {
                        self.value(&format!("{args_path}/0"), list, Want::List, place);
                        self.value(&format!("{args_path}/1"), other, second, place);
                    }
                    _ => self.report(
                        place,
                        &args_path,
                        format!("{function} takes {expected}, not {args}"),
                    ),
                }
            }
            _ => self.report(
                rule,
                path,
                format!("{function} does not evaluate to true or false; use a rule function such as Fn::Equals, Fn::Contains or Fn::Not"),
            ),
        }
    }

    /// `{"Condition": name}` naming a declared condition (cfn-lint accepts it in rules).
    fn condition(&mut self, path: &str, name: &Value) {
        match name {
            Value::String(name) if self.doc.names.conditions.contains(name) => {}
            Value::String(name) => self.report(
                CONDITION_TARGET,
                path,
                format!("condition {name} is not declared in Conditions"),
            ),
            other => self.report(
                CONDITION_SHAPE,
                path,
                format!(
                    "Condition takes the name of a condition, not {}",
                    kind(other)
                ),
            ),
        }
    }

    /// An operand of a rule function: a literal, or `Ref`, `Fn::ValueOf`, `Fn::ValueOfAll` or
    /// `Fn::RefAll`, which read parameter values. `rule` reports an operand of the wrong kind.
    /// The rule functions' documentation ("Supported functions") allows only `Ref` and rule
    /// functions inside them, and nothing inside `Fn::ValueOf`/`Fn::ValueOfAll`; cfn-lint is
    /// laxer and takes `Fn::Sub`, `Fn::Join` and the like in a rule's `Fn::Equals`.
    fn value(&mut self, path: &str, value: &Value, want: Want, rule: &str) {
        let Some((function, args)) = intrinsic(value) else {
            let fits = match (want, value) {
                (Want::Text | Want::Any, Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
                    true
                }
                (Want::List | Want::Any, Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        self.value(&format!("{path}/{i}"), item, Want::Text, rule);
                    }
                    true
                }
                _ => false,
            };
            if !fits {
                let expected = match want {
                    Want::Text => "a string",
                    Want::List => "a list of strings",
                    Want::Any => "a string or a list of strings",
                };
                self.report(rule, path, format!("expected {expected}, not {value}"));
            }
            return;
        };
        let args_path = child(path, function);
        // A function's own arguments are the place's to report; what it gives, the caller's.
        let place = self.place;
        match function {
            "Ref" => self.reference(&args_path, args),
            "Fn::ValueOf" => match args.as_array().map(Vec::as_slice) {
                Some([Value::String(parameter), Value::String(_)]) => {
                    if !self.doc.names.parameters.contains(parameter) {
                        self.report(
                            place,
                            &format!("{args_path}/0"),
                            format!("Fn::ValueOf names parameter {parameter}, which is not declared in Parameters"),
                        );
                    }
                }
                _ => self.report(
                    place,
                    &args_path,
                    format!("Fn::ValueOf takes [parameter name, attribute], not {args}"),
                ),
            },
            "Fn::ValueOfAll" | "Fn::RefAll" => {
                let parameter_type = if function == "Fn::RefAll" {
                    args.as_str()
                } else {
                    match args.as_array().map(Vec::as_slice) {
                        Some([Value::String(parameter_type), Value::String(_)]) => {
                            Some(parameter_type.as_str())
                        }
                        _ => None,
                    }
                };
                let expected = if function == "Fn::RefAll" {
                    "an AWS-specific parameter type (such as AWS::EC2::VPC::Id)"
                } else {
                    "[AWS-specific parameter type, attribute]"
                };
                if !parameter_type.is_some_and(aws_specific_type) {
                    self.report(
                        place,
                        &args_path,
                        format!("{function} takes {expected}, not {args}"),
                    );
                } else if matches!(want, Want::Text) {
                    self.report(
                        rule,
                        path,
                        format!("{function} gives a list where a single string is expected"),
                    );
                }
            }
            other => self.report(
                rule,
                path,
                format!("{other} cannot give a value here; rule functions read parameters with Ref, Fn::ValueOf, Fn::ValueOfAll or Fn::RefAll"),
            ),
        }
    }

    /// `Ref` in a rule names a parameter or a pseudo parameter: rules run before any resource.
    fn reference(&mut self, path: &str, target: &Value) {
        let Some(target) = target.as_str() else {
            return self.report(
                REF_SHAPE,
                path,
                format!("Ref takes the name of a parameter, not {}", kind(target)),
            );
        };
        let names = &self.doc.names;
        if target.starts_with("AWS::") || names.parameters.contains(target) {
            return;
        }
        let message = if names.is_resource(target) {
            format!("Ref to resource {target}; rules can only use parameters and pseudo parameters")
        } else {
            format!("Ref to {target}, which is not a parameter")
        };
        self.report(REF_TARGET, path, message);
    }
}

/// Rule functions in resource properties and outputs: CloudFormation evaluates them nowhere but
/// in `Rules` (cfn-lint: E3012 in a property, E6101/E6102 in an output). `Conditions` report
/// them as conditions that are not condition functions.
fn misplaced(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    for (id, resource) in doc.section("Resources").into_iter().flatten() {
        if let Some(properties) = resource.get("Properties") {
            let mut path = child(&pointer::of("Resources", id), "Properties");
            find_misplaced(
                doc,
                properties,
                &mut path,
                None,
                RULE_FUNCTION_IN_RESOURCE,
                findings,
            );
        }
    }
    for (name, output) in doc.section("Outputs").into_iter().flatten() {
        let Some(entry) = output.as_object() else {
            continue;
        };
        for (key, value) in entry {
            let rule = if key == "Export" {
                RULE_FUNCTION_IN_EXPORT
            } else {
                RULE_FUNCTION_IN_OUTPUT
            };
            let mut path = child(&pointer::of("Outputs", name), key);
            find_misplaced(doc, value, &mut path, None, rule, findings);
        }
    }
}

/// Walks `value`, `parent` being the nearest function it is an argument of.
fn find_misplaced(
    doc: &Doc<'_>,
    value: &Value,
    path: &mut String,
    parent: Option<&str>,
    rule: &str,
    findings: &mut Vec<Finding>,
) {
    match value {
        Value::Object(map) => {
            let function = intrinsic(value).map(|(f, _)| f);
            if let Some(function) = function.filter(|f| RULE_ONLY_FUNCTIONS.contains(f)) {
                if !parent.is_some_and(|p| SHAPE_CHECKED.contains(&p)) {
                    findings.push(doc.finding(
                        rule,
                        path,
                        format!("{function} is a rule function: CloudFormation evaluates it only in the Rules section"),
                    ));
                }
                return;
            }
            // The functions that take `Fn::If` do not look inside its branches: a rule function
            // in one is reported here.
            let parent = match function {
                Some("Fn::If") => None,
                Some(other) => Some(other),
                None => parent,
            };
            for (key, child_value) in map {
                let len = path.len();
                pointer::push_key(path, key);
                find_misplaced(doc, child_value, path, parent, rule, findings);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                pointer::push_index(path, i);
                find_misplaced(doc, item, path, parent, rule, findings);
                path.truncate(len);
            }
        }
        _ => {}
    }
}
