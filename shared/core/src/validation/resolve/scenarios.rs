//! Which combinations of condition values a template can really reach: the parameters (and
//! pseudo parameters) the conditions read are enumerated and each assignment settled as deployed.
//!
//! Every assignment tried is one a user could deploy (an `AllowedValues` entry, a literal the
//! conditions compare with, or a value equal to none of them), so a combination found here is
//! reachable: rules report only what they find, and an answer of "not found" is never a finding.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

use super::settle::Settler;

/// Assignments of the variables one question reads, tried before giving up (and reporting
/// nothing); each set of variables is enumerated once per template.
pub(crate) const MAX_ASSIGNMENTS: usize = 4096;

/// Assignments tried over all the questions about one template: past it, questions over
/// parameters not yet enumerated get no answer, so no template costs more than this many.
pub(crate) const MAX_ASSIGNMENTS_PER_TEMPLATE: usize = 8 * MAX_ASSIGNMENTS;

/// A value no condition compares with: stands for "any other value" of a free parameter.
const OTHER: &str = "\u{0}other";

/// Other values tried, in order, for a parameter whose constraints refuse `OTHER`.
const OTHER_TEXTS: [&str; 6] = ["x", "other", "X", "0", "1", "a1"];

/// Whether a parameter declared as the given value certainly admits a value (its type,
/// `AllowedValues`, `AllowedPattern`, lengths and bounds); only admitted values are tried.
pub(crate) type Admits = fn(&Value, &str) -> bool;

/// Pseudo parameters whose value the stack's account, region or name decides.
const FREE_PSEUDO: [&str; 5] = [
    "AWS::Region",
    "AWS::AccountId",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::NotificationARNs",
];

/// A condition required to be true or false.
pub(crate) type Literal = (String, bool);

/// Every distinct combination of condition values that the assignments of some variables give.
struct Table {
    /// The conditions those variables alone decide, in the order of each world's values.
    conditions: Vec<String>,
    worlds: Vec<Vec<Option<bool>>>,
}

/// The template's conditions, with memoised tables and answers (rules ask the same question
/// many times, and different questions over the same parameters).
pub(crate) struct ConditionSpace<'t> {
    parameters: &'t Map<String, Value>,
    mappings: &'t Map<String, Value>,
    conditions: &'t Map<String, Value>,
    admits: Admits,
    /// Condition → the variables it reads, through `Condition` references too.
    reads: BTreeMap<String, BTreeSet<String>>,
    /// Variable → the values worth trying; a variable that cannot be bound is absent.
    values: BTreeMap<String, Vec<String>>,
    /// Variables → their table, `None` when they have too many assignments.
    tables: HashMap<Vec<String>, Option<Table>>,
    /// Assignments the template may still have tried (`MAX_ASSIGNMENTS_PER_TEMPLATE` at first).
    budget: usize,
    answers: HashMap<Vec<Literal>, Option<bool>>,
}

impl<'t> ConditionSpace<'t> {
    pub(crate) fn new(template: &'t Value, admits: Admits) -> Self {
        let mut space = ConditionSpace {
            parameters: section(template, "Parameters"),
            mappings: section(template, "Mappings"),
            conditions: section(template, "Conditions"),
            admits,
            reads: BTreeMap::new(),
            values: BTreeMap::new(),
            tables: HashMap::new(),
            budget: MAX_ASSIGNMENTS_PER_TEMPLATE,
            answers: HashMap::new(),
        };
        let mut direct = BTreeMap::new();
        let mut candidates: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (name, expr) in space.conditions {
            let (mut named, mut reads) = (Vec::new(), BTreeSet::new());
            space.collect(expr, &mut named, &mut reads, &mut candidates);
            direct.insert(name.as_str(), (named, reads));
        }
        for name in space.conditions.keys() {
            // Through `Condition` references; a cycle ends where it began.
            let (mut seen, mut pending, mut reads) = (BTreeSet::new(), vec![name], BTreeSet::new());
            while let Some(next) = pending.pop() {
                if !seen.insert(next.as_str()) {
                    continue;
                }
                if let Some((named, direct_reads)) = direct.get(next.as_str()) {
                    reads.extend(direct_reads.iter().cloned());
                    pending.extend(named);
                }
            }
            space.reads.insert(name.clone(), reads);
        }
        for (name, literals) in candidates {
            if let Some(values) = space.values_of(&name, literals) {
                space.values.insert(name, values);
            }
        }
        space
    }

    /// Whether some deployable assignment makes every literal hold: `Some(true)` with a witness
    /// found, `Some(false)` when every assignment was tried and decided, `None` when that could
    /// not be told (too many assignments, or a condition reads what is unknown before deploying).
    pub(crate) fn reachable(&mut self, literals: &[Literal]) -> Option<bool> {
        let mut key = literals.to_vec();
        key.sort();
        key.dedup();
        if let Some(answer) = self.answers.get(&key) {
            return *answer;
        }
        let answer = self.search(&key);
        self.answers.insert(key, answer);
        answer
    }

    fn search(&mut self, literals: &[Literal]) -> Option<bool> {
        // A condition required both ways is unreachable whatever the parameters.
        if literals
            .windows(2)
            .any(|w| w[0].0 == w[1].0 && w[0].1 != w[1].1)
        {
            return Some(false);
        }
        let mut variables = BTreeSet::new();
        for (name, _) in literals {
            variables.extend(self.bound_reads(name)?);
        }
        let variables: Vec<String> = variables.into_iter().collect();
        if !self.tables.contains_key(&variables) {
            let table = self.table(&variables);
            self.tables.insert(variables.clone(), table);
        }
        let table = self.tables.get(&variables)?.as_ref()?;
        let wanted: Vec<(usize, bool)> = literals
            .iter()
            .map(|(name, value)| Some((table.conditions.iter().position(|c| c == name)?, *value)))
            .collect::<Option<_>>()?;
        let mut all_decided = true;
        for world in &table.worlds {
            let mut holds = Some(true);
            for &(at, value) in &wanted {
                match world[at] {
                    Some(v) if v == value => {}
                    Some(_) => {
                        holds = Some(false);
                        break;
                    }
                    None => holds = None,
                }
            }
            match holds {
                Some(true) => return Some(true),
                Some(false) => {}
                None => all_decided = false,
            }
        }
        all_decided.then_some(false)
    }

    /// The variables a declared condition reads that can be bound; `None` for an undeclared one.
    fn bound_reads(&self, condition: &str) -> Option<impl Iterator<Item = String> + '_> {
        let reads = self.reads.get(condition)?;
        Some(
            reads
                .iter()
                .filter(|v| self.values.contains_key(*v))
                .cloned(),
        )
    }

    /// Every assignment of `variables` settled: the distinct values of the conditions they
    /// decide. `None` when there are more than `MAX_ASSIGNMENTS`, or than the budget left.
    fn table(&mut self, variables: &[String]) -> Option<Table> {
        let values: Vec<&Vec<String>> = variables.iter().map(|v| &self.values[v]).collect();
        let total = values
            .iter()
            .try_fold(1usize, |n, values| n.checked_mul(values.len()))?;
        if total > MAX_ASSIGNMENTS || total > self.budget {
            return None;
        }
        self.budget -= total;
        let conditions: Vec<String> = self
            .conditions
            .keys()
            .filter(|c| {
                self.bound_reads(c)
                    .is_some_and(|mut reads| reads.all(|v| variables.contains(&v)))
            })
            .cloned()
            .collect();
        let mut worlds = HashSet::new();
        let mut choice = vec![0usize; variables.len()];
        for _ in 0..total {
            let mut parameters = BTreeMap::new();
            let mut region = None;
            for ((name, values), &i) in variables.iter().zip(&values).zip(&choice) {
                if name == "AWS::Region" {
                    region = Some(values[i].as_str());
                } else {
                    parameters.insert(name.clone(), Value::String(values[i].clone()));
                }
            }
            let mut settler = Settler::new(&parameters, region, self.mappings, self.conditions);
            worlds.insert(
                conditions
                    .iter()
                    .map(|c| settler.condition(c))
                    .collect::<Vec<_>>(),
            );
            // The next assignment, as an odometer over each variable's values.
            for (digit, values) in choice.iter_mut().zip(&values) {
                *digit += 1;
                if *digit < values.len() {
                    break;
                }
                *digit = 0;
            }
        }
        Some(Table {
            conditions,
            worlds: worlds.into_iter().collect(),
        })
    }

    /// The values worth trying for a variable the conditions compare with `literals`; `None`
    /// for one that stays unbound (a list parameter, a resource, an undeclared name).
    fn values_of(&self, name: &str, literals: BTreeSet<String>) -> Option<Vec<String>> {
        match self.parameters.get(name) {
            // Left a `Ref`: conditions on a list stay undecided.
            Some(decl) if is_list(decl) => None,
            Some(decl) => {
                let mut values: Vec<String> =
                    match decl.get("AllowedValues").and_then(Value::as_array) {
                        Some(allowed) if !allowed.is_empty() => {
                            allowed.iter().map(crate::template::scalar_text).collect()
                        }
                        _ => {
                            let other = self.other_value(decl, &literals);
                            literals.into_iter().chain(other).collect()
                        }
                    };
                values.retain(|v| (self.admits)(decl, v));
                values.sort();
                values.dedup();
                Some(values)
            }
            None if FREE_PSEUDO.contains(&name) => {
                Some(literals.into_iter().chain([OTHER.to_string()]).collect())
            }
            None => None,
        }
    }

    /// A value the parameter admits that equals none of `literals`, standing for all such
    /// values; none when no simple one is admitted (then fewer scenarios are found, never more).
    fn other_value(&self, decl: &Value, literals: &BTreeSet<String>) -> Option<String> {
        let numbers: Vec<f64> = literals.iter().filter_map(|l| l.parse().ok()).collect();
        let above = numbers.iter().copied().fold(0.0_f64, f64::max) + 1.0;
        let below = numbers.iter().copied().fold(0.0_f64, f64::min) - 1.0;
        let bounds = ["MinValue", "MaxValue"]
            .into_iter()
            .filter_map(|key| decl.get(key).map(crate::template::scalar_text));
        [OTHER.to_string()]
            .into_iter()
            .chain(OTHER_TEXTS.iter().map(|t| t.to_string()))
            .chain([above.to_string(), below.to_string()])
            .chain(bounds)
            .find(|v| !literals.contains(v) && (self.admits)(decl, v))
    }

    /// Walks a condition expression: conditions it names go to `named`, variables it reads to
    /// `reads`; each variable of a `Fn::Equals` gets every literal (and mapping key) in it.
    fn collect(
        &self,
        expr: &Value,
        named: &mut Vec<String>,
        reads: &mut BTreeSet<String>,
        candidates: &mut BTreeMap<String, BTreeSet<String>>,
    ) {
        match expr {
            Value::Object(map) => {
                for (key, args) in map {
                    match (key.as_str(), args) {
                        ("Condition", Value::String(name)) => named.push(name.clone()),
                        ("Fn::Equals", _) => {
                            let mut refs = BTreeSet::new();
                            let mut literals = BTreeSet::new();
                            self.operands(args, &mut refs, &mut literals);
                            reads.extend(refs.iter().cloned());
                            for name in refs {
                                candidates
                                    .entry(name)
                                    .or_default()
                                    .extend(literals.iter().cloned());
                            }
                        }
                        _ => self.collect(args, named, reads, candidates),
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.collect(item, named, reads, candidates);
                }
            }
            _ => {}
        }
    }

    fn operands(
        &self,
        value: &Value,
        refs: &mut BTreeSet<String>,
        literals: &mut BTreeSet<String>,
    ) {
        match value {
            Value::Object(map) => {
                for (key, args) in map {
                    match (key.as_str(), args) {
                        ("Ref", Value::String(name)) => {
                            refs.insert(name.clone());
                        }
                        ("Fn::FindInMap", Value::Array(items)) => {
                            // A lookup keyed on a parameter: the map's keys are what it is worth trying.
                            if let Some(map) = items
                                .first()
                                .and_then(Value::as_str)
                                .and_then(|m| self.mappings.get(m))
                                .and_then(Value::as_object)
                            {
                                for (top, inner) in map {
                                    literals.insert(top.clone());
                                    if let Some(inner) = inner.as_object() {
                                        literals.extend(inner.keys().cloned());
                                    }
                                }
                            }
                            self.operands(args, refs, literals);
                        }
                        _ => self.operands(args, refs, literals),
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.operands(item, refs, literals);
                }
            }
            Value::Null => {}
            scalar => {
                literals.insert(crate::template::scalar_text(scalar));
            }
        }
    }
}

fn section<'t>(template: &'t Value, name: &str) -> &'t Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    template
        .get(name)
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

fn is_list(decl: &Value) -> bool {
    decl.get("Type")
        .and_then(Value::as_str)
        .is_some_and(|t| t == "CommaDelimitedList" || t.starts_with("List<"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn space(conditions: Value, parameters: Value) -> Value {
        json!({"Parameters": parameters, "Conditions": conditions})
    }

    /// Every value is admitted: parameter constraints are the structure rules' to apply.
    fn any(_: &Value, _: &str) -> bool {
        true
    }

    fn lit(name: &str, value: bool) -> Literal {
        (name.to_string(), value)
    }

    fn env_param(allowed: Option<&[&str]>) -> Value {
        match allowed {
            Some(values) => json!({"Env": {"Type": "String", "AllowedValues": values}}),
            None => json!({"Env": {"Type": "String"}}),
        }
    }

    #[test]
    fn a_condition_and_its_negation_are_never_both_true() {
        let t = space(
            json!({"IsPrd": {"Fn::Equals": [{"Ref": "Env"}, "prd"]},
                   "NotPrd": {"Fn::Not": [{"Condition": "IsPrd"}]}}),
            env_param(None),
        );
        let mut s = ConditionSpace::new(&t, any);
        assert_eq!(
            s.reachable(&[lit("IsPrd", true), lit("NotPrd", true)]),
            Some(false)
        );
        assert_eq!(
            s.reachable(&[lit("IsPrd", false), lit("NotPrd", true)]),
            Some(true)
        );
    }

    #[test]
    fn allowed_values_make_not_dev_the_same_as_prd() {
        let conditions = json!({"IsPrd": {"Fn::Equals": [{"Ref": "Env"}, "prd"]},
                                "NotDev": {"Fn::Not": [{"Fn::Equals": ["dev", {"Ref": "Env"}]}]}});
        let closed = space(conditions.clone(), env_param(Some(&["dev", "prd"])));
        let mut s = ConditionSpace::new(&closed, any);
        assert_eq!(
            s.reachable(&[lit("NotDev", true), lit("IsPrd", false)]),
            Some(false)
        );
        // Without AllowedValues, Env may be "tst": not dev, yet not prd.
        let open = space(conditions, env_param(None));
        let mut s = ConditionSpace::new(&open, any);
        assert_eq!(
            s.reachable(&[lit("NotDev", true), lit("IsPrd", false)]),
            Some(true)
        );
    }

    #[test]
    fn and_or_over_two_parameters_and_the_region() {
        let t = json!({
            "Parameters": {"Env": {"Type": "String"}, "Big": {"Type": "String", "AllowedValues": ["yes", "no"]}},
            "Conditions": {
                "IsPrd": {"Fn::Equals": [{"Ref": "Env"}, "prd"]},
                "IsBig": {"Fn::Equals": [{"Ref": "Big"}, "yes"]},
                "InUs": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
                "PrdBig": {"Fn::And": [{"Condition": "IsPrd"}, {"Condition": "IsBig"}]},
                "PrdOrUs": {"Fn::Or": [{"Condition": "IsPrd"}, {"Condition": "InUs"}]}
            }
        });
        let mut s = ConditionSpace::new(&t, any);
        assert_eq!(
            s.reachable(&[lit("PrdBig", true), lit("IsPrd", false)]),
            Some(false)
        );
        assert_eq!(
            s.reachable(&[lit("IsPrd", true), lit("PrdBig", false)]),
            Some(true)
        );
        assert_eq!(
            s.reachable(&[lit("InUs", true), lit("PrdOrUs", false)]),
            Some(false)
        );
        assert_eq!(
            s.reachable(&[lit("PrdOrUs", true), lit("InUs", false)]),
            Some(true)
        );
    }

    #[test]
    fn conditions_through_a_mapping_are_enumerated_by_its_keys() {
        let t = json!({
            "Parameters": {"Env": {"Type": "String"}},
            "Mappings": {"Tier": {"dev": {"Ha": "false"}, "prd": {"Ha": "true"}}},
            "Conditions": {
                "Ha": {"Fn::Equals": [{"Fn::FindInMap": ["Tier", {"Ref": "Env"}, "Ha"]}, "true"]},
                "IsPrd": {"Fn::Equals": [{"Ref": "Env"}, "prd"]}
            }
        });
        let mut s = ConditionSpace::new(&t, any);
        assert_eq!(
            s.reachable(&[lit("IsPrd", true), lit("Ha", false)]),
            Some(false)
        );
        assert_eq!(s.reachable(&[lit("Ha", true)]), Some(true));
    }

    #[test]
    fn what_cannot_be_decided_is_never_reported_reachable() {
        let t = space(
            json!({"Imported": {"Fn::Equals": [{"Fn::ImportValue": "x"}, "y"]},
                   "Loop": {"Condition": "Loop"}}),
            json!({}),
        );
        let mut s = ConditionSpace::new(&t, any);
        assert_eq!(s.reachable(&[lit("Imported", false)]), None);
        assert_eq!(s.reachable(&[lit("Loop", true)]), None);
        assert_eq!(s.reachable(&[lit("Undeclared", true)]), None);
    }

    #[test]
    fn too_many_assignments_give_no_answer() {
        let mut parameters = Map::new();
        let mut ors = Vec::new();
        for i in 0..13 {
            parameters.insert(format!("P{i}"), json!({"Type": "String"}));
            ors.push(json!({"Fn::Equals": [{"Ref": format!("P{i}")}, "on"]}));
        }
        // 2^13 assignments: more than the bound, so no answer rather than a guess.
        let t = json!({"Parameters": parameters, "Conditions": {
            "Any": {"Fn::Or": ors[..10].to_vec()},
            "More": {"Fn::Or": ors[10..].to_vec()},
            "Both": {"Fn::And": [{"Condition": "Any"}, {"Condition": "More"}]}
        }});
        let mut s = ConditionSpace::new(&t, any);
        assert_eq!(s.reachable(&[lit("Both", true)]), None);
        assert_eq!(s.reachable(&[lit("More", true)]), Some(true));
    }

    #[test]
    fn a_template_spends_a_bounded_number_of_assignments_in_all() {
        let mut parameters = Map::new();
        let mut conditions = Map::new();
        for i in 0..24 {
            parameters.insert(
                format!("P{i}"),
                json!({"Type": "String", "AllowedValues": ["on", "off"]}),
            );
        }
        // Nine questions, each over twelve parameters of its own choosing: 4,096 assignments each.
        for k in 0..9 {
            let all: Vec<Value> = (k..k + 12)
                .map(|i| json!({"Fn::Equals": [{"Ref": format!("P{i}")}, "on"]}))
                .collect();
            conditions.insert(format!("C{k}"), json!({"Fn::And": all}));
        }
        let t = json!({"Parameters": parameters, "Conditions": conditions});
        let mut s = ConditionSpace::new(&t, any);
        for k in 0..8 {
            assert_eq!(
                s.reachable(&[lit(&format!("C{k}"), true)]),
                Some(true),
                "C{k}"
            );
        }
        assert_eq!(s.reachable(&[lit("C8", true)]), None);
        // What was enumerated still answers.
        assert_eq!(s.reachable(&[lit("C0", false)]), Some(true));
    }

    #[test]
    fn only_values_the_parameter_admits_are_tried() {
        let t = json!({
            "Parameters": {"Count": {"Type": "Number"}},
            "Conditions": {"None": {"Fn::Equals": [{"Ref": "Count"}, 0]}}
        });
        let at_least_one = |_: &Value, v: &str| v.parse::<f64>().is_ok_and(|n| n >= 1.0);
        let mut s = ConditionSpace::new(&t, at_least_one);
        assert_eq!(s.reachable(&[lit("None", true)]), Some(false));
        assert_eq!(s.reachable(&[lit("None", false)]), Some(true));
        let mut s = ConditionSpace::new(&t, any);
        assert_eq!(s.reachable(&[lit("None", true)]), Some(true));
    }
}
