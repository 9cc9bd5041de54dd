//! The shapes of intrinsic functions: how many arguments, of what kind, and which functions may
//! nest where CloudFormation allows them. Values are not judged here, only their form.

use serde_json::Value;

use super::sections::kind;
use super::{child, each_intrinsic, intrinsic, Doc, *};
use crate::template::pointer;

/// What a literal argument must be.
#[derive(Clone, Copy)]
enum Literal {
    /// A string; numbers and booleans pass, as CloudFormation turns them into text.
    Text,
    /// A whole number, or its text.
    Integer,
    List,
}

/// Functions that produce a string wherever a value is expected.
const STRING_FUNCTIONS: [&str; 10] = [
    "Ref",
    "Fn::Base64",
    "Fn::FindInMap",
    "Fn::GetAtt",
    "Fn::If",
    "Fn::ImportValue",
    "Fn::Join",
    "Fn::Select",
    "Fn::Sub",
    "Fn::Transform",
];

/// Functions that produce a list.
const LIST_FUNCTIONS: [&str; 7] = [
    "Ref",
    "Fn::FindInMap",
    "Fn::GetAtt",
    "Fn::GetAZs",
    "Fn::If",
    "Fn::Split",
    "Fn::Cidr",
];

/// Functions `AWS::LanguageExtensions` adds wherever a value is expected.
const EXTENSION_FUNCTIONS: [&str; 2] = ["Fn::Length", "Fn::ToJsonString"];

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    each_intrinsic(doc, &mut |path, function, args| {
        let path = child(path, function);
        let shape = Shape {
            doc,
            function,
            args,
        };
        let problem = match function {
            "Ref" => shape.reference(),
            "Fn::GetAtt" => shape.get_att(),
            "Fn::Sub" => shape.sub(),
            "Fn::Select" => shape.select(),
            "Fn::Split" => shape.split(),
            "Fn::Join" => shape.join(),
            "Fn::FindInMap" => shape.find_in_map(),
            "Fn::GetAZs" => shape.get_azs(),
            "Fn::Cidr" => shape.cidr(),
            "Fn::Base64" | "Fn::ImportValue" => shape.single_string(),
            _ => None,
        };
        if let Some((rule, message)) = problem {
            let rule = if function == "Ref" {
                rule
            } else {
                enclosing_rule(&doc.value, &path).unwrap_or(rule)
            };
            findings.push(doc.finding(rule, &path, message));
        }
    });
}

/// The rule a malformed function is reported under when it is an argument of other functions:
/// as in cfn-lint, each enclosing function claims the errors of its arguments, so the outermost
/// one's id wins (a null `Fn::GetAZs` inside `Fn::Select` is E1017). `Fn::If` passes its
/// branches through untouched, and a malformed `Ref` keeps its own id wherever it sits.
fn enclosing_rule(root: &Value, path: &str) -> Option<&'static str> {
    let segments = pointer::segments(path);
    let mut node = root;
    // The last segment is the malformed function's own key: its ancestors end one before.
    for segment in &segments[..segments.len().saturating_sub(1)] {
        if let Some((function, _)) = intrinsic(node) {
            if let Some(rule) = claiming_rule(function) {
                return Some(rule);
            }
        }
        node = match node {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    None
}

/// The id under which a function reports the errors found in its arguments.
fn claiming_rule(function: &str) -> Option<&'static str> {
    Some(match function {
        "Fn::Base64" => BASE64_SHAPE,
        "Fn::Cidr" => CIDR_SHAPE,
        "Fn::FindInMap" => FIND_IN_MAP_SHAPE,
        "Fn::GetAZs" => GET_AZS_SHAPE,
        "Fn::ImportValue" => IMPORT_VALUE_SHAPE,
        "Fn::Join" => JOIN_SHAPE,
        "Fn::Select" => SELECT_SHAPE,
        "Fn::Split" => SPLIT_SHAPE,
        "Fn::Sub" => SUB_VARIABLE,
        _ => return None,
    })
}

struct Shape<'a> {
    doc: &'a Doc<'a>,
    function: &'a str,
    args: &'a Value,
}

type Problem = Option<(&'static str, String)>;

impl Shape<'_> {
    /// Whether `value` is the literal wanted, or one of `functions` (plus, under
    /// `AWS::LanguageExtensions`, the functions it adds).
    fn fits(&self, value: &Value, literal: Literal, functions: &[&str]) -> bool {
        if let Some((function, _)) = intrinsic(value) {
            return functions.contains(&function)
                || (self.doc.language_extensions && EXTENSION_FUNCTIONS.contains(&function));
        }
        match literal {
            Literal::Text => matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)),
            Literal::Integer => match value {
                Value::Number(n) => n.is_u64(),
                Value::String(s) => s.trim().parse::<u64>().is_ok(),
                _ => false,
            },
            Literal::List => value.is_array(),
        }
    }

    fn items(&self, range: std::ops::RangeInclusive<usize>) -> Option<&Vec<Value>> {
        self.args.as_array().filter(|a| range.contains(&a.len()))
    }

    fn wrong(&self, rule: &'static str, expected: &str) -> Problem {
        Some((
            rule,
            format!("{} takes {expected}, not {}", self.function, self.args),
        ))
    }

    fn reference(&self) -> Problem {
        let fits = self.args.is_string()
            || (self.doc.language_extensions
                && self.fits(
                    self.args,
                    Literal::Text,
                    &[
                        "Ref",
                        "Fn::Base64",
                        "Fn::FindInMap",
                        "Fn::If",
                        "Fn::Join",
                        "Fn::Sub",
                    ],
                ));
        if fits {
            None
        } else {
            Some((
                REF_SHAPE,
                format!(
                    "Ref takes the name of a parameter or resource, not {}",
                    kind(self.args)
                ),
            ))
        }
    }

    fn get_att(&self) -> Problem {
        let fits = match self.args {
            Value::String(s) => s
                .split_once('.')
                .is_some_and(|(r, a)| !r.is_empty() && !a.is_empty()),
            Value::Array(items) => match items.as_slice() {
                [resource, attribute] if self.doc.language_extensions => {
                    let computed = [
                        "Ref",
                        "Fn::Base64",
                        "Fn::FindInMap",
                        "Fn::Sub",
                        "Fn::If",
                        "Fn::Join",
                    ];
                    resource.is_string() && self.fits(attribute, Literal::Text, &computed)
                        || self.fits(resource, Literal::Text, &computed)
                            && self.fits(attribute, Literal::Text, &computed)
                }
                [Value::String(_), attribute] => self.fits(attribute, Literal::Text, &["Ref"]),
                _ => false,
            },
            _ => false,
        };
        if fits {
            None
        } else {
            self.wrong(
                GETATT_TARGET,
                "[resource, attribute] or 'Resource.Attribute'",
            )
        }
    }

    fn sub(&self) -> Problem {
        let fits = match self.args {
            Value::String(_) => true,
            Value::Array(items) => match items.as_slice() {
                [Value::String(_), Value::Object(variables)] => variables.values().all(|v| {
                    self.fits(v, Literal::Text, &STRING_FUNCTIONS)
                        || self.fits(v, Literal::Text, &["Fn::GetAZs", "Fn::Split", "Fn::Cidr"])
                }),
                [Value::String(_)] => true,
                _ => false,
            },
            _ => false,
        };
        if fits {
            None
        } else {
            self.wrong(SUB_VARIABLE, "a string, or [string, {variable: value}]")
        }
    }

    fn select(&self) -> Problem {
        let ok = self.items(2..=2).is_some_and(|items| {
            self.fits(&items[0], Literal::Integer, &["Ref", "Fn::FindInMap"])
                && self.fits(&items[1], Literal::List, &LIST_FUNCTIONS)
        });
        if ok {
            None
        } else {
            self.wrong(SELECT_SHAPE, "[index, list]")
        }
    }

    fn split(&self) -> Problem {
        let ok = self.items(2..=2).is_some_and(|items| {
            items[0].is_string()
                && self.fits(
                    &items[1],
                    Literal::Text,
                    &[&STRING_FUNCTIONS[..], &["Fn::GetAZs"]].concat(),
                )
        });
        if ok {
            None
        } else {
            self.wrong(SPLIT_SHAPE, "[delimiter, string]")
        }
    }

    fn join(&self) -> Problem {
        let ok = self.items(2..=2).is_some_and(|items| {
            items[0].is_string()
                && self.fits(&items[1], Literal::List, &LIST_FUNCTIONS)
                && items[1].as_array().is_none_or(|values| {
                    values
                        .iter()
                        .all(|v| self.fits(v, Literal::Text, &STRING_FUNCTIONS))
                })
        });
        if ok {
            None
        } else {
            self.wrong(
                JOIN_SHAPE,
                "[delimiter, [values]] (values: strings or functions returning one)",
            )
        }
    }

    fn find_in_map(&self) -> Problem {
        let members: &[&str] = if self.doc.language_extensions {
            &[
                "Ref",
                "Fn::FindInMap",
                "Fn::Join",
                "Fn::Sub",
                "Fn::If",
                "Fn::Select",
            ]
        } else {
            &["Ref", "Fn::FindInMap"]
        };
        let max = if self.doc.language_extensions { 4 } else { 3 };
        let Some(items) = self.items(3..=max) else {
            return self.wrong(
                FIND_IN_MAP_SHAPE,
                "[map name, top-level key, second-level key]",
            );
        };
        if !items[..3]
            .iter()
            .all(|i| self.fits(i, Literal::Text, members))
        {
            return self.wrong(
                FIND_IN_MAP_SHAPE,
                "three strings, or Ref or Fn::FindInMap that give one",
            );
        }
        if items
            .get(3)
            .is_some_and(|d| d.get("DefaultValue").is_none())
        {
            return self.wrong(
                FIND_IN_MAP_SHAPE,
                "a fourth argument of the form {DefaultValue: value}",
            );
        }
        // A map supplied by a transform (AWS::Include) cannot be seen here.
        let included = self
            .doc
            .section("Mappings")
            .is_some_and(|m| m.contains_key("Fn::Transform"));
        match &items[0] {
            Value::String(map)
                if !self.doc.names.mappings.contains(map)
                    && !included
                    && !self.doc.other_transform =>
            {
                Some((
                    FIND_IN_MAP_SHAPE,
                    format!("Fn::FindInMap names mapping {map}, which is not declared in Mappings"),
                ))
            }
            _ => None,
        }
    }

    fn get_azs(&self) -> Problem {
        let functions = [
            "Ref",
            "Fn::FindInMap",
            "Fn::GetAtt",
            "Fn::If",
            "Fn::Join",
            "Fn::Select",
            "Fn::Sub",
        ];
        if self.args.is_string()
            || (intrinsic(self.args).is_some() && self.fits(self.args, Literal::Text, &functions))
        {
            None
        } else {
            self.wrong(
                GET_AZS_SHAPE,
                "a region name, '' for the stack's region, or Ref AWS::Region",
            )
        }
    }

    fn cidr(&self) -> Problem {
        let functions = [
            "Fn::FindInMap",
            "Fn::GetAtt",
            "Fn::If",
            "Fn::ImportValue",
            "Fn::Select",
            "Fn::Sub",
            "Ref",
        ];
        let Some(items) = self.items(2..=3) else {
            return self.wrong(CIDR_SHAPE, "[ip block, count, cidr bits]");
        };
        let block_ok = match &items[0] {
            Value::String(block) => cidr_block(block),
            other => self.fits(other, Literal::Text, &functions) && !other.is_number(),
        };
        let in_range = |value: &Value, max: u64| match value {
            Value::Number(n) => n.as_u64().is_some_and(|n| (1..=max).contains(&n)),
            Value::String(s) => s
                .trim()
                .parse::<u64>()
                .is_ok_and(|n| (1..=max).contains(&n)),
            other => self.fits(other, Literal::Integer, &functions),
        };
        let count_ok = in_range(&items[1], 256);
        let bits_ok = items.get(2).is_none_or(|bits| in_range(bits, 128));
        if block_ok && count_ok && bits_ok {
            None
        } else {
            self.wrong(CIDR_SHAPE, "[CIDR block, count 1-256, cidr bits 1-128]")
        }
    }

    /// `Fn::Base64` and `Fn::ImportValue`: one string, or a function that builds one.
    fn single_string(&self) -> Problem {
        let (rule, functions): (&'static str, &[&str]) = if self.function == "Fn::Base64" {
            (
                BASE64_SHAPE,
                &[
                    "Ref",
                    "Fn::Base64",
                    "Fn::Cidr",
                    "Fn::FindInMap",
                    "Fn::GetAtt",
                    "Fn::If",
                    "Fn::ImportValue",
                    "Fn::Join",
                    "Fn::Select",
                    "Fn::Sub",
                    "Fn::Transform",
                ],
            )
        } else {
            (
                IMPORT_VALUE_SHAPE,
                &[
                    "Ref",
                    "Fn::Base64",
                    "Fn::FindInMap",
                    "Fn::If",
                    "Fn::Join",
                    "Fn::Select",
                    "Fn::Sub",
                ],
            )
        };
        if self.fits(self.args, Literal::Text, functions) {
            None
        } else {
            self.wrong(rule, "a string, or a function that gives one")
        }
    }
}

/// An IPv4 or IPv6 block in CIDR notation, as `Fn::Cidr` splits.
fn cidr_block(text: &str) -> bool {
    let Some((address, prefix)) = text.split_once('/') else {
        return false;
    };
    match (address.parse::<std::net::IpAddr>(), prefix.parse::<u8>()) {
        (Ok(std::net::IpAddr::V4(_)), Ok(p)) => p <= 32,
        (Ok(std::net::IpAddr::V6(_)), Ok(p)) => p <= 128,
        _ => false,
    }
}
