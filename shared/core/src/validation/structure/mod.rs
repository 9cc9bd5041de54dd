//! Structural checks cfn-lint would make first: a template whose references dangle cannot be
//! judged by policy and would fail at change-set time anyway. Each rule names its cfn-lint twin.

mod availability;
mod cluster_failover;
mod conditions;
mod dependencies;
mod foreach;
mod functions;
mod outputs;
mod parameters;
mod passwords;
mod pattern;
mod references;
mod rules;
mod sections;
mod tags;
mod usage;
mod zones;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};

use super::resolve::scenarios::ConditionSpace;
use super::{Finding, Severity};
use crate::template::{pointer, Template};

/// Template sections: `Resources` is present and not empty, no unknown section,
/// `AWSTemplateFormatVersion` is `2010-09-09` (cfn-lint E1001).
pub const RESOURCES_SECTION: &str = "E1001";
/// A top-level key CloudFormation does not know (cfn-lint E1001).
pub const UNKNOWN_SECTION: &str = "E1001";
/// `AWSTemplateFormatVersion` is the one version there is (cfn-lint E1001).
pub const FORMAT_VERSION: &str = "E1001";
/// The template body is at most 1,000,000 bytes (cfn-lint E1002).
pub const TEMPLATE_SIZE: &str = "E1002";
/// `Description` is at most 1024 bytes (cfn-lint E1003).
pub const DESCRIPTION_LENGTH: &str = "E1003";
/// `Description` is a string (cfn-lint E1004).
pub const DESCRIPTION_TYPE: &str = "E1004";
/// Every resource declares a `Type`, uses only resource attributes CloudFormation knows and has
/// an alphanumeric logical id (cfn-lint E3001).
pub const RESOURCE_TYPE: &str = "E3001";
/// Resource entries: same rule family as `RESOURCE_TYPE` (cfn-lint E3001).
pub const RESOURCE_CONFIGURATION: &str = "E3001";
/// At most 500 resources (cfn-lint E3010).
pub const RESOURCE_LIMIT: &str = "E3010";
/// Logical ids are at most 255 characters (cfn-lint E3011).
pub const RESOURCE_NAME_LENGTH: &str = "E3011";
/// A resource and a parameter do not share a name (cfn-lint E3007).
pub const UNIQUE_NAMES: &str = "E3007";
/// `Ref` names a parameter, a resource or a pseudo parameter (cfn-lint E1020; E1012 before 1.0).
pub const REF_TARGET: &str = "E1020";
/// `Fn::GetAtt` names a resource (cfn-lint E1010).
pub const GETATT_TARGET: &str = "E1010";
/// `DependsOn` names resources, which exist whenever the resource does (cfn-lint E3005).
pub const DEPENDS_ON_TARGET: &str = "E3005";
/// A `Ref`, `Fn::GetAtt` or `Fn::Sub` names a conditional resource that may be absent when the
/// referrer exists (cfn-lint W1001, a warning). `DependsOn` so is `DEPENDS_ON_TARGET`'s error.
pub const MAY_BE_UNAVAILABLE: &str = "W1001";
/// A Redis replication group in cluster mode keeps automatic failover and more than one cache
/// cluster in every reachable condition scenario (cfn-lint E3026).
pub const CLUSTER_FAILOVER: &str = "E3026";
/// Every `${Var}` of `Fn::Sub` resolves (cfn-lint E1019).
pub const SUB_VARIABLE: &str = "E1019";
/// Resources do not depend on each other in a circle (cfn-lint E3004).
pub const CIRCULAR_DEPENDENCY: &str = "E3004";
/// Parameter declarations use known attributes of the right types (cfn-lint E2001).
pub const PARAMETER_CONFIGURATION: &str = "E2001";
/// A parameter's `Type` is one CloudFormation accepts (cfn-lint E2002).
pub const PARAMETER_TYPE: &str = "E2002";
/// Parameter names are alphanumeric (cfn-lint E2003).
pub const PARAMETER_NAME: &str = "E2003";
/// At most 200 parameters (cfn-lint E2010).
pub const PARAMETER_LIMIT: &str = "E2010";
/// Parameter names are at most 255 characters (cfn-lint E2011).
pub const PARAMETER_NAME_LENGTH: &str = "E2011";
/// A parameter's `Default` meets its own constraints (cfn-lint E2015).
pub const PARAMETER_DEFAULT: &str = "E2015";
/// Output entries use known attributes (cfn-lint E6001).
pub const OUTPUT_CONFIGURATION: &str = "E6001";
/// Every output has a `Value`, every `Export` a `Name` (cfn-lint E6002).
pub const OUTPUT_REQUIRED: &str = "E6002";
/// Output names are alphanumeric (cfn-lint E6004).
pub const OUTPUT_NAME: &str = "E6004";
/// At most 200 outputs (cfn-lint E6010).
pub const OUTPUT_LIMIT: &str = "E6010";
/// Output names are at most 255 characters (cfn-lint E6011).
pub const OUTPUT_NAME_LENGTH: &str = "E6011";
/// No two outputs export the same name: the stack would fail to create (cfn-lint E6001 family).
pub const DUPLICATE_EXPORT: &str = "E6001";
/// Mappings are maps of maps with alphanumeric names (cfn-lint E7001).
pub const MAPPING_CONFIGURATION: &str = "E7001";
/// Mapping names are at most 255 characters (cfn-lint E7002).
pub const MAPPING_NAME_LENGTH: &str = "E7002";
/// At most 200 mappings, 200 keys per level (cfn-lint E7010).
pub const MAPPING_LIMIT: &str = "E7010";
/// Each named condition is a condition function (cfn-lint E8001).
pub const CONDITION_CONFIGURATION: &str = "E8001";
/// A condition named by a resource, output, `Fn::If` or `Condition` is declared (cfn-lint E8002).
pub const CONDITION_TARGET: &str = "E8002";
/// `Fn::Equals` compares two values (cfn-lint E8003).
pub const EQUALS_SHAPE: &str = "E8003";
/// `Fn::And` joins 2 to 10 conditions (cfn-lint E8004).
pub const AND_SHAPE: &str = "E8004";
/// `Fn::Not` negates one condition (cfn-lint E8005).
pub const NOT_SHAPE: &str = "E8005";
/// `Fn::Or` joins 2 to 10 conditions (cfn-lint E8006).
pub const OR_SHAPE: &str = "E8006";
/// `{"Condition": name}` names a condition by a string (cfn-lint E8007).
pub const CONDITION_SHAPE: &str = "E8007";
/// `Fn::If` is `[condition, value if true, value if false]` (cfn-lint E1028).
pub const IF_SHAPE: &str = "E1028";
/// `Fn::FindInMap` is `[map, top key, second key]` naming a declared map (cfn-lint E1011).
pub const FIND_IN_MAP_SHAPE: &str = "E1011";
/// `Fn::GetAZs` takes a region string or a `Ref` (cfn-lint E1015).
pub const GET_AZS_SHAPE: &str = "E1015";
/// `Fn::ImportValue` takes a string or a function that builds one (cfn-lint E1016).
pub const IMPORT_VALUE_SHAPE: &str = "E1016";
/// `Fn::Select` is `[index, list]` (cfn-lint E1017).
pub const SELECT_SHAPE: &str = "E1017";
/// `Fn::Split` is `[delimiter, string]` (cfn-lint E1018).
pub const SPLIT_SHAPE: &str = "E1018";
/// `Ref` takes a string (cfn-lint E1020).
pub const REF_SHAPE: &str = "E1020";
/// `Fn::Base64` takes a string or a function that builds one (cfn-lint E1021).
pub const BASE64_SHAPE: &str = "E1021";
/// `Fn::Join` is `[delimiter, list]` (cfn-lint E1022).
pub const JOIN_SHAPE: &str = "E1022";
/// `Fn::Cidr` is `[block, count, bits]` (cfn-lint E1024).
pub const CIDR_SHAPE: &str = "E1024";
/// Tags have a key of at most 128 characters not starting with `aws:`, a value of at most 256,
/// and no key twice (cfn-lint E3024).
pub const TAG_SYNTAX: &str = "E3024";
/// The `Rules` section: a mapping of alphanumerically named rules, each with an optional
/// `RuleCondition` and a list of `Assertions` of `{Assert, AssertDescription}` (cfn-lint E1700).
pub const RULES_CONFIGURATION: &str = "E1700";
/// An `Assert` is a rule function that gives true or false, with arguments of the right shape
/// (cfn-lint E1701).
pub const ASSERT_SHAPE: &str = "E1701";
/// A `RuleCondition` is a rule function that gives true or false, with arguments of the right
/// shape (cfn-lint E1702).
pub const RULE_CONDITION_SHAPE: &str = "E1702";
/// A rule function (`Fn::Contains`, `Fn::ValueOf`, …) as a resource property value (cfn-lint
/// E3012: not a value of the property's type).
pub const RULE_FUNCTION_IN_RESOURCE: &str = "E3012";
/// A rule function as an output's value (cfn-lint E6101).
pub const RULE_FUNCTION_IN_OUTPUT: &str = "E6101";
/// A rule function in an output's `Export` (cfn-lint E6102).
pub const RULE_FUNCTION_IN_EXPORT: &str = "E6102";
/// A `Fn::Sub` string with no variable: a plain string would do (cfn-lint W1020, a warning).
pub const SUB_WITHOUT_VARIABLE: &str = "W1020";
/// A `DependsOn` a `Ref`, `Fn::GetAtt` or `Fn::Sub` already implies (cfn-lint W3005, a warning).
pub const REDUNDANT_DEPENDS_ON: &str = "W3005";
/// An availability zone written as a literal (cfn-lint W3010, a warning).
pub const HARDCODED_ZONE: &str = "W3010";
/// A parameter no `Ref` or `Fn::Sub` uses (cfn-lint W2001, a warning).
pub const UNUSED_PARAMETER: &str = "W2001";
/// A condition no resource, output, `Fn::If` or condition uses (cfn-lint W8001, a warning).
pub const UNUSED_CONDITION: &str = "W8001";
/// A password property fed by a parameter without `NoEcho: true`, written as a literal or read
/// from a plain SSM parameter (cfn-lint W2501, a warning).
pub const PASSWORD_PROPERTY: &str = "W2501";
/// A mapping no `Fn::FindInMap` uses (cfn-lint W7001, a warning).
pub const UNUSED_MAPPING: &str = "W7001";

/// Every structural finding of `template`, in no particular order (the caller sorts by line).
pub fn check(template: &Template) -> Vec<Finding> {
    let doc = Doc::new(template);
    let mut findings = Vec::new();
    sections::check(&doc, &mut findings);
    if doc.section("Resources").is_none_or(Map::is_empty) {
        // Without resources there is nothing for the other rules to look at.
        return findings;
    }
    parameters::check(&doc, &mut findings);
    references::check(&doc, &mut findings);
    conditions::check(&doc, &mut findings);
    rules::check(&doc, &mut findings);
    functions::check(&doc, &mut findings);
    dependencies::check(&doc, &mut findings);
    let mut space = ConditionSpace::new(&doc.value, parameters::admits);
    availability::check(&doc, &mut space, &mut findings);
    cluster_failover::check(&doc, &mut space, &mut findings);
    outputs::check(&doc, &mut findings);
    tags::check(&doc, &mut findings);
    usage::check(&doc, &mut findings);
    passwords::check(&doc, &mut findings);
    zones::check(&doc, &mut findings);
    findings
}

/// The template as the rules see it: `Fn::ForEach` loops expanded (under
/// `AWS::LanguageExtensions`), with a way back from expanded paths to source lines.
/// AWS's own transforms that add or rewrite resources and names.
const REWRITING_AWS_TRANSFORMS: &[&str] = &[
    "AWS::Serverless-2016-10-31",
    "AWS::Include",
    "AWS::CodeDeployBlueGreen",
    "AWS::SecretsManager-2020-07-23",
];

pub(super) struct Doc<'t> {
    template: &'t Template,
    /// The template value, loops expanded (borrowed when there are none to expand).
    value: Cow<'t, Value>,
    /// Expanded pointer prefix → the source pointer it was generated from.
    origins: Vec<(String, String)>,
    /// `Transform: AWS::LanguageExtensions`: functions may nest where they otherwise may not.
    language_extensions: bool,
    /// An AWS transform other than `AWS::LanguageExtensions` (SAM, `AWS::Include`) rewrites
    /// the template before CloudFormation sees it: names it adds cannot be known here.
    other_transform: bool,
    /// `Transform: AWS::Serverless-2016-10-31` (SAM).
    serverless: bool,
    names: Names,
}

impl<'t> Doc<'t> {
    fn new(template: &'t Template) -> Self {
        let transforms = transforms(&template.value);
        let language_extensions = transforms.iter().any(|t| t == "AWS::LanguageExtensions");
        // A macro of the account's own is judged as written, as cfn-lint does: what it will
        // produce is unknown, and a gate that cannot see it must not assume it is fine.
        let other_transform = transforms
            .iter()
            .any(|t| REWRITING_AWS_TRANSFORMS.contains(&t.as_str()));
        let serverless = transforms.iter().any(|t| t == "AWS::Serverless-2016-10-31");
        let (value, origins) = if language_extensions {
            let (value, origins) = foreach::expand(&template.value);
            (Cow::Owned(value), origins)
        } else {
            (Cow::Borrowed(&template.value), Vec::new())
        };
        let keys = |section: &str| -> Vec<String> {
            value
                .get(section)
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let (patterns, resources): (Vec<String>, Vec<String>) = keys("Resources")
            .into_iter()
            .partition(|name| name.contains(foreach::UNKNOWN));
        let names = Names {
            resources: resources.into_iter().collect(),
            resource_patterns: patterns,
            parameters: keys("Parameters").into_iter().collect(),
            conditions: keys("Conditions").into_iter().collect(),
            mappings: keys("Mappings").into_iter().collect(),
        };
        Doc {
            template,
            value,
            origins,
            language_extensions,
            other_transform,
            serverless,
            names,
        }
    }

    fn section(&self, name: &str) -> Option<&Map<String, Value>> {
        self.value.get(name).and_then(Value::as_object)
    }

    /// The source line of an (expanded) pointer.
    fn line(&self, path: &str) -> Option<u32> {
        let source = self
            .origins
            .iter()
            .filter(|(expanded, _)| {
                path.strip_prefix(expanded.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .max_by_key(|(expanded, _)| expanded.len())
            .map(|(expanded, source)| format!("{source}{}", &path[expanded.len()..]));
        self.template.line_at(source.as_deref().unwrap_or(path))
    }

    fn resource_type(&self, logical_id: &str) -> Option<&str> {
        self.section("Resources")?
            .get(logical_id)?
            .get("Type")
            .and_then(Value::as_str)
    }

    /// A warning at `path`: reported, never failing the gate.
    fn warning(&self, rule: &str, path: &str, message: String) -> Finding {
        Finding {
            severity: Severity::Warning,
            ..self.finding(rule, path, message)
        }
    }

    /// A finding at `path`, about the resource the path lies in (if any).
    fn finding(&self, rule: &str, path: &str, message: String) -> Finding {
        let resource = resource_of(path);
        Finding {
            rule: rule.to_string(),
            control: None,
            severity: Severity::Error,
            resource_type: resource
                .as_deref()
                .and_then(|r| self.resource_type(r))
                .map(str::to_string),
            resource,
            line: self.line(path).or(Some(1)),
            message,
        }
    }
}

/// The transforms a template declares (`Transform` is a name or a list of them).
fn transforms(value: &Value) -> Vec<String> {
    match value.get("Transform") {
        Some(Value::String(name)) => vec![name.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(name) => name.clone(),
                // `{Name: AWS::Include, Parameters: …}` and the like.
                other => other
                    .get("Name")
                    .and_then(Value::as_str)
                    .unwrap_or("(macro)")
                    .to_string(),
            })
            .collect(),
        Some(other) => vec![other
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or("(macro)")
            .to_string()],
        None => Vec::new(),
    }
}

/// The names a template declares, with loop-generated resource names as patterns.
struct Names {
    resources: HashSet<String>,
    /// Names of resources a loop generates, with `foreach::UNKNOWN` for a part not known here.
    resource_patterns: Vec<String>,
    parameters: BTreeSet<String>,
    conditions: BTreeSet<String>,
    mappings: BTreeSet<String>,
}

impl Names {
    fn is_resource(&self, name: &str) -> bool {
        self.resources.contains(name)
            || self
                .resource_patterns
                .iter()
                .any(|pattern| pattern == name || foreach::matches(pattern, name))
    }

    fn referable(&self, name: &str) -> bool {
        name.starts_with("AWS::") || self.parameters.contains(name) || self.is_resource(name)
    }
}

/// Calls `visit(path, function, args)` for every intrinsic function in the sections that hold
/// them (`Resources`, `Outputs`, `Conditions`), outermost first.
fn each_intrinsic(doc: &Doc<'_>, visit: &mut dyn FnMut(&str, &str, &Value)) {
    for section in ["Resources", "Outputs", "Conditions"] {
        if let Some(value) = doc.value.get(section) {
            let mut path = String::new();
            pointer::push_key(&mut path, section);
            walk(value, &mut path, visit);
        }
    }
}

fn walk(value: &Value, path: &mut String, visit: &mut dyn FnMut(&str, &str, &Value)) {
    match value {
        Value::Object(map) => {
            if let Some((function, args)) = intrinsic(value) {
                visit(path, function, args);
            }
            for (key, child) in map {
                let len = path.len();
                pointer::push_key(path, key);
                walk(child, path, visit);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                pointer::push_index(path, i);
                walk(child, path, visit);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// `{"Fn::X": args}` or `{"Ref": name}` → `("Fn::X", args)`.
fn intrinsic(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (key, args) = map.iter().next()?;
    (key == "Ref" || key.starts_with("Fn::")).then_some((key.as_str(), args))
}

/// A path's child pointer, e.g. `child("/Resources/A", "Type")`.
fn child(path: &str, key: &str) -> String {
    let mut out = path.to_string();
    pointer::push_key(&mut out, key);
    out
}

/// Whether a name is made of ASCII letters and digits only, as CloudFormation's names must be.
fn alphanumeric(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The logical id in a `/Resources/<Id>/…` pointer.
pub(crate) fn resource_of(path: &str) -> Option<String> {
    let mut segments = pointer::segments(path).into_iter();
    match (segments.next().as_deref(), segments.next()) {
        (Some("Resources"), Some(id)) => Some(id),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
