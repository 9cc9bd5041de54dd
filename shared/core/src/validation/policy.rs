//! NIST 800-53 policy: the guard rules under `infra/guard/`, embedded in the binary, run through
//! the `cfn-guard` engine as a library. Anything short of a clean guard run is an error.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Cursor;
use std::sync::OnceLock;

use cfn_guard::commands::validate::{OutputFormatType, ShowSummaryType};
use cfn_guard::commands::{Executable, FAILURE_STATUS_CODE, SUCCESS_STATUS_CODE};
use cfn_guard::utils::reader::{ReadBuffer, Reader};
use cfn_guard::utils::writer::{WriteBuffer, Writer};
use cfn_guard::{CommandBuilder, ValidateBuilder, ValidateInput};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::schema;
use super::Severity;

/// One guard rules file: a name for messages and its text.
#[derive(Debug, Clone, Copy)]
pub struct RuleSource {
    pub file: &'static str,
    pub text: &'static str,
}

/// The policy shipped with the pipeline; embedded so the Lambda needs no files.
pub const RULE_FILES: [RuleSource; 4] = [
    RuleSource {
        file: "ac.guard",
        text: include_str!("../../../../infra/guard/ac.guard"),
    },
    RuleSource {
        file: "au.guard",
        text: include_str!("../../../../infra/guard/au.guard"),
    },
    RuleSource {
        file: "cm.guard",
        text: include_str!("../../../../infra/guard/cm.guard"),
    },
    RuleSource {
        file: "sc.guard",
        text: include_str!("../../../../infra/guard/sc.guard"),
    },
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}: rule '{rule}' has no `# Control:` / `# Severity:` header")]
    MissingHeader { file: String, rule: String },
    #[error("{file}: rule '{rule}' has unknown severity '{severity}'")]
    UnknownSeverity {
        file: String,
        rule: String,
        severity: String,
    },
    #[error("{file}: guard cannot parse the rules: {reason}")]
    RulesInvalid { file: String, reason: String },
    #[error("the guard engine failed: {0}")]
    Engine(String),
    #[error("the guard engine exited with status {0}")]
    ExitStatus(i32),
    #[error("the guard report cannot be read: {0}")]
    Report(String),
    #[error("guard did not evaluate rule '{0}'")]
    NotEvaluated(String),
}

/// What a rule enforces, read from the comment header above it in the rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub name: String,
    pub control: String,
    pub severity: Severity,
}

/// A rules set checked once: every rule has a header and guard can parse every file.
#[derive(Debug, Clone)]
pub struct Policy {
    pub sources: Vec<RuleSource>,
    pub rules: Vec<RuleInfo>,
    /// How each rules file (in `sources`' order) is run, worked out once from its text.
    plans: Vec<RunPlan>,
}

/// What of a template one rules file is shown, and whether it may judge groups of resources.
#[derive(Debug, Clone)]
struct RunPlan {
    selection: Option<Selection>,
    grouped: bool,
}

impl RunPlan {
    fn of(source: &RuleSource) -> RunPlan {
        let selection = Selection::of(source.text);
        let grouped = selection.is_some() && judges_each_resource_alone(source.text);
        RunPlan { selection, grouped }
    }
}

/// A resource attribute the validator derives from the resource schemas for the rules to select
/// on: how a taggable resource writes its `Tags` (`list` or `map`, see `schema::tag_shape`).
/// CloudFormation has no such attribute, so whatever a template writes under the name is dropped.
pub(crate) const TAG_SHAPE: &str = "TagShape";

/// The resources a rules file's filters can select: those of the named types and, when a filter
/// selects on `TagShape`, every resource the schema gives a tag shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SelectedResources {
    pub(crate) types: BTreeSet<String>,
    pub(crate) tag_shaped: bool,
}

impl SelectedResources {
    fn includes(&self, resource_type: &str) -> bool {
        self.types.contains(resource_type)
            || (self.tag_shaped && schema::tag_shape(resource_type).is_some())
    }
}

/// The resources a rules file selects, when it reaches resources only through
/// `Resources.*[ Type … ]` / `Resources[ id | Type … ]` / `Resources.*[ TagShape … ]` filters;
/// `None` when any query could see other resources. Guard's cost grows with every resource each
/// filter scans, so a file is run on just the resources it can select.
pub(crate) fn selected_resources(text: &str) -> Option<SelectedResources> {
    let code = query_code(text);
    let mut selected = SelectedResources::default();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("Resources") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + "Resources".len()..];
        rest = after;
        // `x.Resources` is a property named Resources, and `FooResources` another word.
        let word = |c: char| c.is_alphanumeric() || c == '_';
        if before.is_some_and(|c| c == '.' || word(c)) || after.starts_with(word) {
            continue;
        }
        let filter = after
            .strip_prefix(".*")
            .unwrap_or(after)
            .trim_start()
            .strip_prefix('[')?;
        let filter = &filter[..filter.find(']')?];
        // An `or` could let a resource of another type through the filter, a negation any.
        let widened = filter
            .split_whitespace()
            .any(|w| w.eq_ignore_ascii_case("or") || w == "||" || w.eq_ignore_ascii_case("not"))
            || filter.contains('!');
        if widened {
            return None;
        }
        if filter.contains("Type ==") || filter.contains("Type in") {
            continue;
        }
        if filter.contains("TagShape ==") || filter.contains("TagShape in") {
            selected.tag_shaped = true;
            continue;
        }
        return None;
    }
    for quoted in code.split('\'').skip(1).step_by(2) {
        if quoted.contains("::") {
            selected.types.insert(quoted.to_string());
        }
    }
    Some(selected)
}

/// What of a template one rules file can reach: the resource types it selects and, when its
/// queries name every key they read down to a resource's properties, those names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    resources: SelectedResources,
    /// The keys the rules' identifiers can reach: a section or resource attribute is kept if it
    /// is one. Empty when a query could see every key.
    words: Keys,
    /// The keys reachable right under `Properties`; `None` when a query could see all of them.
    properties: Option<Keys>,
}

impl Selection {
    pub(crate) fn of(text: &str) -> Option<Selection> {
        let resources = selected_resources(text)?;
        let code = without_literals(&query_code(text));
        let words = Keys::of(identifiers(&code).map(|(_, w)| w));
        // A query starting with `*` or `this`, or a whole resource compared or tested, could see
        // any attribute: then only whole sections and whole resources are left out.
        let reads_everything = words.contains("this")
            || code
                .match_indices('*')
                .any(|(at, _)| !code[..at].ends_with("Resources.") && !code[..at].ends_with('['));
        let properties = (!reads_everything && variables_only_traversed(&code))
            .then(|| property_names(&code))
            .flatten();
        let words = if reads_everything {
            Keys::default()
        } else {
            words
        };
        Some(Selection {
            resources,
            words,
            properties,
        })
    }

    /// Whether a query can reach the key `key` of a section or resource: guard looks keys up
    /// as written and, failing that, in other letter cases (camel, snake, class …).
    fn reaches(&self, key: &str) -> bool {
        self.words.is_empty() || self.words.contains(key)
    }

    /// Whether a resource is one the rules file can select.
    fn selects(&self, resource: &Value) -> bool {
        resource
            .get("Type")
            .and_then(Value::as_str)
            .is_some_and(|t| self.resources.includes(t))
    }

    fn reaches_property(&self, key: &str) -> bool {
        self.properties
            .as_ref()
            .is_none_or(|keys| keys.contains(key))
    }
}

/// The keys guard's lookups of a set of words can land on: each word as written and, where no key
/// is written so, its camel, class, kebab, pascal, snake, title and train case forms (cruet's, the
/// conversions guard itself tries).
///
/// Class case also makes the last word singular, through a table of regular expressions that
/// costs milliseconds to build; that one form is bounded rather than computed. Its letters and
/// digits, in lower case, are a prefix of the word's followed by one of the endings cruet's
/// singular rules write (`CLASS_CASE_ENDINGS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Keys {
    /// The words as written and in every form but class case.
    exact: BTreeSet<String>,
    /// Every prefix of the words' letters and digits in lower case: what class case can keep.
    kept: HashSet<String>,
}

/// What cruet's singular rules (and its irregular singulars) put after the part of a word they
/// keep: `Tags` keeps `Tag` and adds nothing, `Policies` keeps `Polic` and adds `y`.
const CLASS_CASE_ENDINGS: [&str; 25] = [
    "", "ews", "um", "sis", "fe", "f", "y", "eries", "ovie", "ouse", "is", "xis", "us", "ex", "ix",
    "ox", "box", "man", "woman", "die", "yes", "foot", "eave", "goose", "tooth",
];

impl Keys {
    fn of<'a>(words: impl IntoIterator<Item = &'a str>) -> Keys {
        use cruet::case::{camel, kebab, pascal, snake, title, train};
        const CONVERSIONS: [fn(&str) -> String; 6] = [
            camel::to_camel_case,
            kebab::to_kebab_case,
            pascal::to_pascal_case,
            snake::to_snake_case,
            title::to_title_case,
            train::to_train_case,
        ];
        let mut keys = Keys::default();
        for word in words {
            keys.exact.insert(word.to_string());
            keys.exact
                .extend(CONVERSIONS.iter().map(|convert| convert(word)));
            let folded = folded(word);
            keys.kept
                .extend((0..=folded.len()).map(|end| folded[..end].to_string()));
        }
        keys
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        if self.exact.contains(key) {
            return true;
        }
        let key = folded(key);
        CLASS_CASE_ENDINGS.iter().any(|ending| {
            key.strip_suffix(ending)
                .is_some_and(|kept| self.kept.contains(kept))
        })
    }
}

/// The letters and digits of `text`, in lower case.
fn folded(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The keys guard could take for the derived `TagShape` attribute.
fn tag_shape_names() -> &'static Keys {
    static NAMES: OnceLock<Keys> = OnceLock::new();
    NAMES.get_or_init(|| Keys::of([TAG_SHAPE]))
}

/// The rules text without comments and custom messages (`<<…>>`): prose, not queries.
fn query_code(text: &str) -> String {
    let mut code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    while let Some(start) = code.find("<<") {
        let end = code[start..]
            .find(">>")
            .map_or(code.len(), |e| start + e + 2);
        code.replace_range(start..end, "");
    }
    code
}

/// `code` with the contents of quoted literals blanked, so only query words remain.
fn without_literals(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut quote = None;
    for c in code.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => out.push(' '),
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

fn identifiers(code: &str) -> impl Iterator<Item = (usize, &str)> {
    fn word(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_'
    }
    code.match_indices(|c: char| !word(c))
        .map(|(at, _)| at + 1)
        .chain(std::iter::once(0))
        .filter_map(move |start| {
            let rest = code.get(start..)?;
            let len = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
            let w = &rest[..len];
            (!w.is_empty() && !code[..start].ends_with(word)).then_some((start, w))
        })
}

/// Every `%variable` is followed by a block, a query or an emptiness test: never compared or
/// passed whole, which would see the attributes a projection leaves out.
fn variables_only_traversed(code: &str) -> bool {
    code.match_indices('%').all(|(at, _)| {
        let rest = &code[at + 1..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let after = rest[name_len..].trim_start();
        after.starts_with('{')
            || after.starts_with('.')
            || after.starts_with("!empty")
            || after.starts_with("empty")
            || after.starts_with("not empty")
    })
}

/// The names that follow `Properties.`; `None` if `Properties` is ever read any other way.
fn property_names(code: &str) -> Option<Keys> {
    let mut names = BTreeSet::new();
    for (at, word) in identifiers(code) {
        if word != "Properties" {
            continue;
        }
        let rest = code[at + word.len()..].strip_prefix('.')?;
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        names.insert(&rest[..len]);
    }
    Some(Keys::of(names))
}

/// The template as guard is shown it: the sections, resources and properties its rules file can
/// reach (all of it without a selection), written from the borrowed value rather than a copy.
struct GuardData<'a> {
    template: &'a Value,
    selection: Option<&'a Selection>,
    /// When set, the only resources written: one per group of resources with the same data.
    representatives: Option<&'a HashSet<&'a str>>,
}

impl Serialize for GuardData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(sections) = self.template.as_object() else {
            return GuardValue(self.template).serialize(serializer);
        };
        let mut map = serializer.serialize_map(None)?;
        for (section, value) in sections {
            match (section.as_str(), value.as_object()) {
                ("Resources", Some(resources)) => map.serialize_entry(
                    section,
                    &Resources {
                        resources,
                        selection: self.selection,
                        representatives: self.representatives,
                    },
                )?,
                _ if self.selection.is_none_or(|s| s.reaches(section)) => {
                    map.serialize_entry(section, &GuardValue(value))?
                }
                _ => {}
            }
        }
        map.end()
    }
}

/// The resources a rules file can select (every one without a selection).
struct Resources<'a> {
    resources: &'a serde_json::Map<String, Value>,
    selection: Option<&'a Selection>,
    representatives: Option<&'a HashSet<&'a str>>,
}

impl Serialize for Resources<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (id, resource) in self.resources {
            let selected = self.selection.is_none_or(|s| s.selects(resource))
                && self.representatives.is_none_or(|r| r.contains(id.as_str()));
            if selected {
                map.serialize_entry(
                    id,
                    &Resource {
                        resource,
                        selection: self.selection,
                    },
                )?;
            }
        }
        map.end()
    }
}

/// One resource as its rules file can reach it, with the attributes derived from its schema.
struct Resource<'a> {
    resource: &'a Value,
    selection: Option<&'a Selection>,
}

impl Serialize for Resource<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(attributes) = self.resource.as_object() else {
            return GuardValue(self.resource).serialize(serializer);
        };
        let reaches = |key: &str| self.selection.is_none_or(|s| s.reaches(key));
        let derives_tag_shape = reaches(TAG_SHAPE);
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in attributes {
            // A template's own attribute must not stand in for the derived one: not under the
            // name, nor under any name guard's case-converting lookup could take for it.
            if !reaches(name) || (derives_tag_shape && tag_shape_names().contains(name)) {
                continue;
            }
            match (name.as_str(), value.as_object(), self.selection) {
                ("Properties", Some(properties), Some(selection)) => map.serialize_entry(
                    name,
                    &Properties {
                        properties,
                        selection,
                    },
                )?,
                _ => map.serialize_entry(name, &GuardValue(value))?,
            }
        }
        let tag_shape = attributes
            .get("Type")
            .and_then(Value::as_str)
            .and_then(schema::tag_shape);
        if let Some(shape) = tag_shape.filter(|_| derives_tag_shape) {
            map.serialize_entry(TAG_SHAPE, shape.as_str())?;
        }
        map.end()
    }
}

struct Properties<'a> {
    properties: &'a serde_json::Map<String, Value>,
    selection: &'a Selection,
}

impl Serialize for Properties<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.properties
                .iter()
                .filter(|(name, _)| self.selection.reaches_property(name))
                .map(|(name, value)| (name, GuardValue(value))),
        )
    }
}

/// A value as guard should read it. Guard's JSON reader wraps integers beyond `i64` into
/// negative ones; written as floats they keep their magnitude, as guard's YAML reader has it.
struct GuardValue<'a>(&'a Value);

impl Serialize for GuardValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_some() => {
                serializer.serialize_f64(n.as_f64().unwrap_or(f64::MAX))
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(GuardValue)),
            Value::Object(map) => {
                serializer.collect_map(map.iter().map(|(k, v)| (k, GuardValue(v))))
            }
            other => other.serialize(serializer),
        }
    }
}

impl Policy {
    pub fn new(sources: &[RuleSource]) -> Result<Policy, PolicyError> {
        let mut rules = Vec::new();
        for source in sources {
            // Guard's structured run reports a rules file it cannot parse on stderr and goes on
            // with the others, so each file is parsed here first to make that a hard error.
            match cfn_guard::commands::validate::parse_rules(source.text, source.file) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Err(PolicyError::RulesInvalid {
                        file: source.file.into(),
                        reason: "the file holds no rules".into(),
                    })
                }
                Err(e) => {
                    return Err(PolicyError::RulesInvalid {
                        file: source.file.into(),
                        reason: e.to_string(),
                    })
                }
            }
            rules.extend(read_headers(source)?);
        }
        Ok(Policy::unchecked(sources, rules))
    }

    /// A policy of rules files not checked to parse, with the rules they are said to hold.
    pub(crate) fn unchecked(sources: &[RuleSource], rules: Vec<RuleInfo>) -> Policy {
        Policy {
            sources: sources.to_vec(),
            rules,
            plans: sources.iter().map(RunPlan::of).collect(),
        }
    }

    /// The shipped policy, checked once per process.
    pub fn shipped() -> Result<&'static Policy, PolicyError> {
        static SHIPPED: OnceLock<Result<Policy, PolicyError>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| Policy::new(&RULE_FILES))
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn rule(&self, name: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Runs every rule against one template (long-form JSON), one guard run per rules file on
    /// what of the template that file can reach.
    pub fn evaluate(&self, template: &Value) -> Result<GuardOutcome, PolicyError> {
        let mut outcome = GuardOutcome::default();
        for (source, plan) in self.sources.iter().zip(&self.plans) {
            let one = evaluate_file(source, plan, template)?;
            outcome.violations.extend(one.violations);
            outcome.failed.extend(one.failed);
            outcome.compliant.extend(one.compliant);
            outcome.not_applicable.extend(one.not_applicable);
        }
        for rule in &self.rules {
            if !outcome.knows(&rule.name) {
                return Err(PolicyError::NotEvaluated(rule.name.clone()));
            }
        }
        Ok(outcome)
    }
}

/// The header line of a rules file whose every rule judges each resource it selects from that
/// resource's data alone (no rule compares resources or reads their logical ids): such a file is
/// run once per group of resources it is shown identically.
const JUDGES_EACH_RESOURCE: &str = "# Judges each resource on its own";

fn judges_each_resource_alone(text: &str) -> bool {
    text.lines().any(|line| line.trim() == JUDGES_EACH_RESOURCE)
}

/// One rules file's verdict on the template.
fn evaluate_file(
    source: &RuleSource,
    plan: &RunPlan,
    template: &Value,
) -> Result<GuardOutcome, PolicyError> {
    match plan.selection.as_ref() {
        Some(selection) if plan.grouped => evaluate_grouped(source, template, selection),
        selection => evaluate_whole(source, template, selection),
    }
}

/// Guard run on every resource the file can select.
fn evaluate_whole(
    source: &RuleSource,
    template: &Value,
    selection: Option<&Selection>,
) -> Result<GuardOutcome, PolicyError> {
    let data = serde_json::to_string(&GuardData {
        template,
        selection,
        representatives: None,
    })
    .map_err(|e| PolicyError::Engine(e.to_string()))?;
    run_guard(source, &data)
}

/// Guard run on one resource per group whose data the file is shown the same: guard's cost
/// grows with the resources it evaluates, and most resources carry the same tags. What it finds
/// on a representative is then found on every member of its group.
fn evaluate_grouped(
    source: &RuleSource,
    template: &Value,
    selection: &Selection,
) -> Result<GuardOutcome, PolicyError> {
    let engine = |e: serde_json::Error| PolicyError::Engine(e.to_string());
    let Some(groups) = ResourceGroups::of(template, selection).map_err(engine)? else {
        return evaluate_whole(source, template, Some(selection));
    };
    let data = serde_json::to_string(&GuardData {
        template,
        selection: Some(selection),
        representatives: Some(&groups.representatives),
    })
    .map_err(engine)?;
    Ok(groups.spread(run_guard(source, &data)?))
}

/// The resources a rules file selects, grouped by the data it is shown of each.
struct ResourceGroups<'a> {
    representatives: HashSet<&'a str>,
    /// The ids of each group, the representative's first, by the representative's id.
    members: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> ResourceGroups<'a> {
    /// `None` when a logical id holds a `/`: guard writes ids into its paths unescaped, so a
    /// violation could not be told apart from one on another resource.
    fn of(
        template: &'a Value,
        selection: &Selection,
    ) -> Result<Option<ResourceGroups<'a>>, serde_json::Error> {
        let mut groups = ResourceGroups {
            representatives: HashSet::new(),
            members: HashMap::new(),
        };
        let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
            return Ok(Some(groups));
        };
        let mut by_data: HashMap<String, &'a str> = HashMap::new();
        for (id, resource) in resources {
            if !selection.selects(resource) {
                continue;
            }
            if id.contains('/') {
                return Ok(None);
            }
            let data = serde_json::to_string(&Resource {
                resource,
                selection: Some(selection),
            })?;
            let representative = *by_data.entry(data).or_insert(id.as_str());
            if representative == id.as_str() {
                groups.representatives.insert(representative);
            }
            groups.members.entry(representative).or_default().push(id);
        }
        Ok(Some(groups))
    }

    /// The outcome on the representatives, each violation on one repeated for its whole group.
    /// Rule verdicts stand as they are: a rule fails on a group exactly when on its representative.
    fn spread(&self, outcome: GuardOutcome) -> GuardOutcome {
        let mut violations = Vec::with_capacity(outcome.violations.len());
        for violation in outcome.violations {
            // Guard's paths name the resource unescaped, as `/Resources/<id>/…`.
            let representative = violation
                .path
                .as_deref()
                .and_then(|p| p.strip_prefix(RESOURCES_PATH))
                .map(|rest| rest.split('/').next().unwrap_or(rest));
            let group = representative.and_then(|r| Some((r, self.members.get(r)?)));
            let (Some((representative, members)), Some(path)) = (group, &violation.path) else {
                violations.push(violation);
                continue;
            };
            let from = format!("{RESOURCES_PATH}{representative}");
            for member in members {
                let to = format!("{RESOURCES_PATH}{member}");
                violations.push(Violation {
                    rule: violation.rule.clone(),
                    path: Some(format!("{to}{}", &path[from.len()..])),
                    message: rebase(&violation.message, &from, &to),
                });
            }
        }
        GuardOutcome {
            violations,
            ..outcome
        }
    }
}

const RESOURCES_PATH: &str = "/Resources/";

/// `text` (a message guard wrote) with the resource path `from` replaced by `to` wherever it
/// stands whole: followed by a path, a closing bracket or quote, a space, or nothing.
fn rebase(text: &str, from: &str, to: &str) -> String {
    if from == to {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        let whole = after.is_empty()
            || after.starts_with(|c: char| "/]\"') ,".contains(c) || c.is_whitespace());
        out.push_str(&rest[..at]);
        out.push_str(if whole { to } else { from });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// One guard run of one rules file on one template (JSON text). Guard is synchronous and keeps
/// `Rc` values: nothing of it outlives this call.
fn run_guard(source: &RuleSource, data: &str) -> Result<GuardOutcome, PolicyError> {
    match run_guard_direct(source, data) {
        Some(outcome) => Ok(outcome),
        None => run_guard_command(source.text, data),
    }
}

/// Guard's direct entry point reads the template with serde_json and copies it once, where its
/// `validate` command re-reads it with a YAML reader and copies it twice more. It hands back
/// only the last 8 KiB of its report, though, and errors without their context: `None` unless
/// the report is complete, and the run is then redone through the command.
fn run_guard_direct(source: &RuleSource, data: &str) -> Option<GuardOutcome> {
    let report = cfn_guard::run_checks(
        ValidateInput {
            content: data,
            file_name: "template",
        },
        ValidateInput {
            content: source.text,
            file_name: source.file,
        },
        false,
    )
    .ok()?;
    let report: Value = serde_json::from_str(&report).ok()?;
    GuardOutcome::from_file_report(&report).ok()
}

/// The same run through guard's `validate` command: slower, complete in what it reports.
fn run_guard_command(rules: &str, data: &str) -> Result<GuardOutcome, PolicyError> {
    let payload = serde_json::json!({
        "rules": [rules],
        "data": [data],
    });
    let mut reader = Reader::new(ReadBuffer::Cursor(Cursor::new(
        payload.to_string().into_bytes(),
    )));
    let mut writer = Writer::new(WriteBuffer::Vec(Vec::new()))
        .map_err(|e| PolicyError::Engine(e.to_string()))?;
    let command = ValidateBuilder::default()
        .payload(true)
        .structured(true)
        .output_format(OutputFormatType::JSON)
        .show_summary(vec![ShowSummaryType::None])
        .try_build()
        .map_err(|e| PolicyError::Engine(e.to_string()))?;
    let status = command
        .execute(&mut writer, &mut reader)
        .map_err(|e| PolicyError::Engine(e.to_string()))?;
    if status != SUCCESS_STATUS_CODE && status != FAILURE_STATUS_CODE {
        return Err(PolicyError::ExitStatus(status));
    }
    let output = writer
        .into_string()
        .map_err(|e| PolicyError::Report(e.to_string()))?;
    GuardOutcome::from_report(&output)
}

/// One failed check: which rule, where in the template, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    /// JSON pointer of the offending value (or of the parent of a missing one).
    pub path: Option<String>,
    pub message: String,
}

/// Guard's verdict on one template, per rule.
#[derive(Debug, Clone, Default)]
pub struct GuardOutcome {
    pub violations: Vec<Violation>,
    pub failed: BTreeSet<String>,
    pub compliant: BTreeSet<String>,
    pub not_applicable: BTreeSet<String>,
}

impl GuardOutcome {
    fn knows(&self, rule: &str) -> bool {
        self.failed.contains(rule)
            || self.compliant.contains(rule)
            || self.not_applicable.contains(rule)
    }

    /// Reads guard's structured JSON report: one entry per data file, `not_compliant` holding
    /// `{"Rule": {"name", "checks": [...]}}` whose checks nest the paths and messages.
    fn from_report(output: &str) -> Result<GuardOutcome, PolicyError> {
        let report: Value =
            serde_json::from_str(output).map_err(|e| PolicyError::Report(e.to_string()))?;
        let [file] = report.as_array().map(Vec::as_slice).unwrap_or_default() else {
            return Err(PolicyError::Report(
                "expected a report for exactly one template".into(),
            ));
        };
        GuardOutcome::from_file_report(file)
    }

    /// Reads one data file's entry of guard's report.
    fn from_file_report(file: &Value) -> Result<GuardOutcome, PolicyError> {
        let names = |key: &str| -> Result<BTreeSet<String>, PolicyError> {
            file.get(key)
                .and_then(Value::as_array)
                .ok_or_else(|| PolicyError::Report(format!("no '{key}' list")))?
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| PolicyError::Report(format!("non-string in '{key}'")))
                })
                .collect()
        };
        let mut outcome = GuardOutcome {
            compliant: names("compliant")?,
            not_applicable: names("not_applicable")?,
            ..GuardOutcome::default()
        };
        let not_compliant = file
            .get("not_compliant")
            .and_then(Value::as_array)
            .ok_or_else(|| PolicyError::Report("no 'not_compliant' list".into()))?;
        for entry in not_compliant {
            let rule = entry
                .get("Rule")
                .ok_or_else(|| PolicyError::Report("not_compliant entry is not a rule".into()))?;
            let name = rule
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| PolicyError::Report("rule without a name".into()))?;
            outcome.failed.insert(name.to_string());
            let checks = rule.get("checks").and_then(Value::as_array);
            let checks = checks.map(Vec::as_slice).unwrap_or_default();
            if checks.is_empty() {
                outcome.violations.push(Violation {
                    rule: name.to_string(),
                    path: None,
                    message: first_string(rule, "custom_message").unwrap_or_else(|| name.into()),
                });
            }
            for check in checks {
                let message = first_string(check, "custom_message")
                    .or_else(|| first_string(check, "error_message"))
                    .unwrap_or_else(|| name.to_string());
                outcome.violations.push(Violation {
                    rule: name.to_string(),
                    path: first_path(check),
                    message,
                });
            }
        }
        Ok(outcome)
    }
}

/// Reads the `# Control:` / `# Severity:` comment lines right above each `rule <name>`.
fn read_headers(source: &RuleSource) -> Result<Vec<RuleInfo>, PolicyError> {
    let mut rules = Vec::new();
    let (mut control, mut severity) = (None, None);
    for line in source.text.lines().map(str::trim) {
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(c) = comment.strip_prefix("Control:") {
                control = Some(c.trim().to_string());
            } else if let Some(s) = comment.strip_prefix("Severity:") {
                severity = Some(s.trim().to_string());
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("rule ") {
            let name = rest
                .split(|c: char| c.is_whitespace() || c == '{')
                .next()
                .unwrap_or_default()
                .to_string();
            let (Some(control), Some(severity)) = (control.take(), severity.take()) else {
                return Err(PolicyError::MissingHeader {
                    file: source.file.into(),
                    rule: name,
                });
            };
            let severity = match severity.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                _ => {
                    return Err(PolicyError::UnknownSeverity {
                        file: source.file.into(),
                        rule: name,
                        severity,
                    })
                }
            };
            rules.push(RuleInfo {
                name,
                control,
                severity,
            });
        } else if !line.is_empty() {
            // A header only counts when it sits directly above its rule.
            control = None;
            severity = None;
        }
    }
    Ok(rules)
}

/// The first non-empty string under `key`, depth first.
fn first_string(value: &Value, key: &str) -> Option<String> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(s)) = map.get(key) {
                if !s.is_empty() {
                    return Some(s.clone());
                }
            }
            map.values().find_map(|v| first_string(v, key))
        }
        Value::Array(items) => items.iter().find_map(|v| first_string(v, key)),
        _ => None,
    }
}

/// The first non-empty `path` in a check, depth first: the value the check looked at comes
/// before what it was compared with. A path of `/Resources` with a string value is a key bound
/// by a `Resources[ id | … ]` query: the value is the logical id.
fn first_path(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(path)) = map.get("path") {
                if path == "/Resources" {
                    if let Some(Value::String(id)) = map.get("value") {
                        return Some(crate::template::pointer::of("Resources", id));
                    }
                }
                if !path.is_empty() {
                    return Some(path.clone());
                }
            }
            map.iter()
                .filter(|(k, _)| k.as_str() != "path")
                .find_map(|(_, v)| first_path(v))
        }
        Value::Array(items) => items.iter().find_map(first_path),
        _ => None,
    }
}

#[cfg(test)]
mod direct_run_tests {
    use super::*;

    /// Guard shown only what a rules file can reach (and run directly where it can) reports what
    /// the `validate` command reports on every resource of the selected types, for every
    /// shipped rules file.
    /// Returns how many violations they found.
    fn assert_runs_agree(name: &str, template: &Value) -> usize {
        let mut found = 0;
        for source in &RULE_FILES {
            let selection = Selection::of(source.text);
            let data = serde_json::to_string(&GuardData {
                template,
                selection: selection.as_ref(),
                representatives: None,
            })
            .unwrap_or_default();
            let whole = selection.clone().map(|s| Selection {
                words: Keys::default(),
                properties: None,
                ..s
            });
            let whole = serde_json::to_string(&GuardData {
                template,
                selection: whole.as_ref(),
                representatives: None,
            })
            .unwrap_or_default();
            let direct = match run_guard(source, &data) {
                Ok(outcome) => outcome,
                Err(e) => panic!("{name} {}: {e}", source.file),
            };
            let command = run_guard_command(source.text, &whole);
            let Ok(command) = command else {
                panic!("{name} {}: the command failed: {command:?}", source.file);
            };
            // Guard's own messages quote the values it looked at, which a projection trims;
            // the rules' messages are compared whole.
            let sorted = |o: &GuardOutcome| {
                let mut v: Vec<_> =
                    o.violations
                        .iter()
                        .map(|v| {
                            let ours = v.message.split(':').next().is_some_and(|c| {
                                c.len() <= 6 && c.contains('-') && !c.contains(' ')
                            });
                            (
                                v.rule.clone(),
                                v.path.clone(),
                                ours.then(|| v.message.clone()),
                            )
                        })
                        .collect();
                v.sort();
                v
            };
            assert_eq!(sorted(&direct), sorted(&command), "{name} {}", source.file);
            assert_eq!(direct.failed, command.failed, "{name} {}", source.file);
            assert_eq!(
                direct.compliant, command.compliant,
                "{name} {}",
                source.file
            );
            assert_eq!(
                direct.not_applicable, command.not_applicable,
                "{name} {}",
                source.file
            );
            found += direct.violations.len();
        }
        found
    }

    /// A rules file marked as judging each resource on its own reports the same run once per
    /// group of identically shown resources as run on every resource. Returns how many
    /// violations they found.
    fn assert_grouped_run_agrees(name: &str, template: &Value) -> usize {
        let mut found = 0;
        for source in RULE_FILES
            .iter()
            .filter(|s| judges_each_resource_alone(s.text))
        {
            let Some(selection) = Selection::of(source.text) else {
                panic!("{} is marked but selects no resources", source.file);
            };
            let whole = evaluate_whole(source, template, Some(&selection));
            let grouped = evaluate_grouped(source, template, &selection);
            let (Ok(whole), Ok(grouped)) = (whole, grouped) else {
                panic!("{name} {}: a run failed", source.file);
            };
            let sorted = |o: &GuardOutcome| {
                let mut v: Vec<_> = o
                    .violations
                    .iter()
                    .map(|v| (v.rule.clone(), v.path.clone(), v.message.clone()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(sorted(&grouped), sorted(&whole), "{name} {}", source.file);
            assert_eq!(grouped.failed, whole.failed, "{name} {}", source.file);
            assert_eq!(grouped.compliant, whole.compliant, "{name} {}", source.file);
            assert_eq!(
                grouped.not_applicable, whole.not_applicable,
                "{name} {}",
                source.file
            );
            found += whole.violations.len();
        }
        found
    }

    #[test]
    fn the_tag_and_protection_rules_judge_each_resource_on_its_own() {
        let marked: Vec<_> = RULE_FILES
            .iter()
            .filter(|s| judges_each_resource_alone(s.text))
            .map(|s| s.file)
            .collect();
        assert_eq!(marked, ["cm.guard", "sc.guard"]);
    }

    #[test]
    fn grouped_run_reports_what_a_run_on_every_resource_reports() {
        let tags = serde_json::json!([
            {"Key": "Environment", "Value": "dev"}, {"Key": "Owner", "Value": "o"},
            {"Key": "SecurityLevel", "Value": "internal"}, {"Key": "IaC_Version", "Value": "1"}
        ]);
        let untagged = serde_json::json!({"Type": "AWS::SNS::Topic"});
        let bad_env = serde_json::json!({"Type": "AWS::EC2::VPC", "Properties": {
            "CidrBlock": "10.0.0.0/16", "Tags": [{"Key": "Environment", "Value": "qa"}]}});
        let template = serde_json::json!({
            "Resources": {
                "Topic1": untagged, "Topic10": untagged, "Topic2": untagged,
                "Vpc": bad_env, "Vpc~1": bad_env, "Vpc-2": bad_env,
                "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "a", "Tags": tags}},
                "Sg2": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "b", "Tags": tags}},
                "Nodes": {"Type": "AWS::EKS::Nodegroup", "Properties": {"Tags": {"Environment": "prd"}}},
                "Nodes2": {"Type": "AWS::EKS::Nodegroup", "Properties": {"Tags": {"Environment": "prd"}}},
                "Nodes3": {"Type": "AWS::EKS::Nodegroup", "Properties": {"Tags": {"Owner": "x"}}},
                "Assoc": {"Type": "AWS::EC2::SubnetRouteTableAssociation"},
                "Odd": "not a resource"
            }
        });
        let found = assert_grouped_run_agrees("inline", &template);
        assert!(found > 0, "{found}");
        let cm = RULE_FILES.iter().find(|s| s.file == "cm.guard");
        let Some(selection) = cm.and_then(|s| Selection::of(s.text)) else {
            panic!("cm.guard selects no resources");
        };
        let groups = ResourceGroups::of(&template, &selection).ok().flatten();
        // Topics, VPCs, security groups (descriptions are not shown), two node groups, the third.
        assert_eq!(groups.map(|g| g.representatives.len()), Some(5));
        // An id guard's paths cannot delimit: every resource is run.
        let mut slashed = template.clone();
        slashed["Resources"]["Vpc/2"] = bad_env.clone();
        assert!(ResourceGroups::of(&slashed, &selection).is_ok_and(|g| g.is_none()));
        assert_grouped_run_agrees("slashed", &slashed);
        assert_grouped_run_agrees("no resources", &serde_json::json!({"Resources": {}}));
        assert_grouped_run_agrees(
            "untaggable only",
            &serde_json::json!({"Resources": {"A": {"Type": "AWS::EC2::SubnetRouteTableAssociation"}}}),
        );
        let stacks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/stacks");
        let mut checked = 0;
        for entry in std::fs::read_dir(&stacks).into_iter().flatten().flatten() {
            let path = entry.path();
            let Ok(body) = std::fs::read_to_string(&path) else {
                continue;
            };
            let name = path.display().to_string();
            let Ok(template) = crate::template::Template::parse(&name, &body) else {
                panic!("{name} does not parse");
            };
            assert_grouped_run_agrees(&name, &template.value);
            // The same stack with its tags stripped: every taggable resource fails.
            let mut stripped = template.value.clone();
            if let Some(resources) = stripped.get_mut("Resources").and_then(Value::as_object_mut) {
                for resource in resources.values_mut() {
                    if let Some(p) = resource
                        .get_mut("Properties")
                        .and_then(Value::as_object_mut)
                    {
                        p.remove("Tags");
                    }
                }
            }
            assert!(assert_grouped_run_agrees(&name, &stripped) > 0, "{name}");
            checked += 1;
        }
        assert!(checked >= 7, "{checked} stacks checked");
    }

    #[test]
    fn rebasing_replaces_only_whole_resource_pointers() {
        assert_eq!(
            rebase(
                "/Resources/A/Properties/Tags",
                "/Resources/A",
                "/Resources/B"
            ),
            "/Resources/B/Properties/Tags"
        );
        assert_eq!(
            rebase(
                "[/Resources/A1] and [/Resources/A]",
                "/Resources/A",
                "/Resources/B"
            ),
            "[/Resources/A1] and [/Resources/B]"
        );
    }

    #[test]
    fn direct_guard_run_reports_what_the_validate_command_reports() {
        let template = serde_json::json!({
            "Parameters": {"Big": {"Type": "Number", "Default": 18446744073709551615u64}},
            "Resources": {
                "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"Tags": [{"Key": "Environment", "Value": "qa"}]}},
                "Open": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [
                    {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0", "FromPort": 18446744073709551615u64, "ToPort": 22}
                ]}},
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": ["*"]}]}}]}},
                "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": {"Owner": 1}}},
                "Nodes": {"Type": "AWS::EKS::Nodegroup", "Properties": {"Tags": {"Environment": "prd"}}},
                "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"PubliclyAccessible": true}},
                "Log": {"Type": "AWS::EC2::FlowLog", "Properties": {"ResourceId": {"Ref": "Other"}, "TrafficType": "REJECT"}}
            }
        });
        let found = assert_runs_agree("inline", &template);
        assert!(found > 0, "{found}");
    }

    /// Every template of the public corpus, when it is checked out next to this repository:
    /// `cargo test -p infra-agent-shared --lib direct_run_tests -- --ignored`.
    #[test]
    #[ignore = "needs the corpus checkout; slow in a debug build"]
    fn direct_guard_run_agrees_with_the_validate_command_on_the_corpus() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpus/aws-cloudformation-templates");
        let mut pending = vec![corpus];
        let mut checked = 0;
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let Ok(body) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let name = path.display().to_string();
                if let Ok(template) = crate::template::Template::parse(&name, &body) {
                    assert_runs_agree(&name, &template.value);
                    assert_grouped_run_agrees(&name, &template.value);
                    checked += 1;
                }
            }
        }
        println!("{checked} corpus templates agree");
    }
}

#[cfg(test)]
mod selection_tests {
    use super::*;

    fn selection(file: &str) -> Selection {
        let source = RULE_FILES.iter().find(|s| s.file == file);
        match source.and_then(|s| Selection::of(s.text)) {
            Some(selection) => selection,
            None => panic!("{file} selects no types"),
        }
    }

    #[test]
    fn tag_rules_are_shown_only_the_tags_of_their_resources() {
        let cm = selection("cm.guard");
        let tags = cm.properties.as_ref();
        assert!(tags.is_some_and(|keys| keys.contains("Tags")));
        assert!(cm.reaches("Properties") && cm.reaches("Resources"));
        // No rule reads a resource's type: it is left out, and resources of different types
        // with the same tags are judged once.
        assert!(!cm.reaches("Type"));
        assert!(cm.reaches(TAG_SHAPE) && cm.resources.tag_shaped);
        assert!(!cm.reaches("Metadata") && !cm.reaches("Outputs"));
        assert!(!cm.reaches_property("CidrBlock"));
        // Guard reads `Tags` as `tags` or, in class case, `Tag` when it is missing.
        assert!(cm.reaches_property("tags") && cm.reaches_property("Tag"));
        assert!(!cm.reaches_property("Tagging") && !cm.reaches_property("TagSpecifications"));
    }

    #[test]
    fn keys_hold_every_form_guard_looks_a_word_up_in() {
        use cruet::case::{camel, class, kebab, pascal, snake, title, train};
        let mut words: Vec<String> = RULE_FILES
            .iter()
            .flat_map(|s| {
                let code = without_literals(&query_code(s.text));
                identifiers(&code)
                    .map(|(_, w)| w.to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        // Words each of cruet's singular rules (and its irregular singulars) rewrites.
        words.extend(
            [
                "Tags",
                "Policies",
                "Statuses",
                "Aliases",
                "Matrices",
                "Vertices",
                "Indices",
                "Analyses",
                "Theses",
                "Crises",
                "Leaves",
                "Wives",
                "Hives",
                "Movies",
                "Series",
                "News",
                "Mice",
                "Buses",
                "Shoes",
                "Axes",
                "Octopi",
                "Viruses",
                "Oxen",
                "Quizzes",
                "Databases",
                "Data",
                "Media",
                "Boxes",
                "Women",
                "Feet",
                "Geese",
                "Teeth",
                "Heroes",
                "Addresses",
                "Dice",
                "Yeses",
                "Eaves",
                "men",
                "women",
                "oxen",
                "SecurityGroupIngress",
                "ip_protocol",
                "from-port",
                "cidr ip v6",
            ]
            .map(String::from),
        );
        let forms: [fn(&str) -> String; 7] = [
            camel::to_camel_case,
            class::to_class_case,
            kebab::to_kebab_case,
            pascal::to_pascal_case,
            snake::to_snake_case,
            title::to_title_case,
            train::to_train_case,
        ];
        for word in &words {
            let keys = Keys::of([word.as_str()]);
            assert!(keys.contains(word), "{word}");
            for form in forms {
                let key = form(word);
                assert!(keys.contains(&key), "{word}: {key} is not among its keys");
            }
        }
        let tags = Keys::of(["Tags"]);
        assert!(!tags.contains("Type") && !tags.contains("TagSpecifications"));
    }

    #[test]
    fn a_rules_file_comparing_whole_values_keeps_every_property() {
        let au = selection("au.guard");
        assert_eq!(au.properties, None, "`%vpc_id in …` compares a variable");
        let text = "let b = Resources.*[ Type == 'AWS::S3::Bucket' ]\nrule r when %b !empty {\n  %b { Properties !empty }\n}\n";
        assert_eq!(Selection::of(text).and_then(|s| s.properties), None);
        let text = "let b = Resources.*[ Type == 'AWS::S3::Bucket' ]\nrule r when %b !empty {\n  %b { Properties.* exists }\n}\n";
        assert_eq!(Selection::of(text).map(|s| s.words.is_empty()), Some(true));
        let text = "let b = Resources.*[ Type == 'AWS::S3::Bucket' ]\nrule r when %b !empty {\n  %b.Properties.Tags == %b.Properties.Name\n}\n";
        assert_eq!(
            Selection::of(text).map(|s| s.properties.is_some()),
            Some(true)
        );
    }
}
