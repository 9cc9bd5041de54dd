//! Resource grouping: a rules file that judges each resource alone is run once per group of
//! resources it is shown identically, and what guard finds on one is spread over its group.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::guard::run_guard;
use super::projection::{GuardData, Resource};
use super::reach::Selection;
use super::report::{GuardOutcome, Violation};
use super::{evaluate_whole, PolicyError, RuleSource};

/// The header line of a rules file whose every rule judges each resource it selects from that
/// resource's data alone (no rule compares resources or reads their logical ids): such a file is
/// run once per group of resources it is shown identically.
const JUDGES_EACH_RESOURCE: &str = "# Judges each resource on its own";

pub(super) fn judges_each_resource_alone(text: &str) -> bool {
    text.lines().any(|line| line.trim() == JUDGES_EACH_RESOURCE)
}

/// Guard run on one resource per group whose data the file is shown the same: guard's cost
/// grows with the resources it evaluates, and most resources carry the same tags. What it finds
/// on a representative is then found on every member of its group.
pub(super) fn evaluate_grouped(
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::validation::policy::RULE_FILES;

    /// A rules file marked as judging each resource on its own reports the same run once per
    /// group of identically shown resources as run on every resource. Returns how many
    /// violations they found.
    pub(in crate::validation::policy) fn assert_grouped_run_agrees(
        name: &str,
        template: &Value,
    ) -> usize {
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
}
