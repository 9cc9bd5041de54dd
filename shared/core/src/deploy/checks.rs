//! Post-deploy checks: read-only assertions on what a deployment actually built. Generic ones for
//! every stack (complete, every output present, every resource complete) and the ones the catalog
//! declares per stack (how many of a type, a live property's value, how many distinct values).
//! A check whose evidence cannot be read is skipped with the reason and counted, never passed.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::template::Template;

/// A check the catalog declares for a stack (`[[stacks.<key>.checks]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredCheck {
    /// What it asserts, as people say it: "nine subnets across three zones".
    pub name: String,
    /// The resource type it looks at.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Exactly this many resources of the type are built.
    #[serde(default)]
    pub count: Option<u32>,
    /// As many resources of the type as this parameter of the deployment says.
    #[serde(default)]
    pub count_parameter: Option<String>,
    /// A live property (JSON pointer into the resource's properties, without the leading `/`)
    /// that `equals` or has `distinct` values across the resources of the type.
    #[serde(default)]
    pub property: Option<String>,
    #[serde(default)]
    pub equals: Option<Value>,
    #[serde(default)]
    pub distinct: Option<u32>,
}

impl DeclaredCheck {
    /// Whether the check reads resources' live properties.
    pub fn reads_properties(&self) -> bool {
        self.property.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// Its evidence could not be read (here): neither passed nor failed, and counted.
    Skipped,
}

/// One check with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub outcome: CheckOutcome,
    pub detail: String,
}

/// Every check of a deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub results: Vec<CheckResult>,
}

impl Verification {
    fn count(&self, outcome: CheckOutcome) -> usize {
        self.results.iter().filter(|r| r.outcome == outcome).count()
    }

    pub fn passed(&self) -> usize {
        self.count(CheckOutcome::Passed)
    }

    pub fn failed(&self) -> usize {
        self.count(CheckOutcome::Failed)
    }

    pub fn skipped(&self) -> usize {
        self.count(CheckOutcome::Skipped)
    }

    /// Every check that ran passed (skipped ones are said, not failed).
    pub fn ok(&self) -> bool {
        self.failed() == 0
    }

    /// "checks passed (5/5), 1 skipped" / "checks FAILED (4/5): …".
    pub fn headline(&self) -> String {
        let ran = self.passed() + self.failed();
        let skipped = match self.skipped() {
            0 => String::new(),
            n => format!(", {n} skipped"),
        };
        if self.ok() {
            format!("checks passed ({}/{ran}){skipped}", self.passed())
        } else {
            let failed: Vec<&str> = self
                .results
                .iter()
                .filter(|r| r.outcome == CheckOutcome::Failed)
                .map(|r| r.name.as_str())
                .collect();
            format!(
                "checks FAILED ({}/{ran}){skipped}: {}",
                self.passed(),
                failed.join("; ")
            )
        }
    }

    /// Checks that could not run at all (the verify step broke): a failed verification.
    pub fn could_not_run(reason: &str) -> Verification {
        Verification {
            results: vec![CheckResult {
                name: "post-deploy checks ran".into(),
                outcome: CheckOutcome::Failed,
                detail: reason.to_string(),
            }],
        }
    }
}

/// A resource as CloudFormation built it, with its live properties where they can be read.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltResource {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    /// Live properties, or why they cannot be read.
    pub live: Result<Value, String>,
}

/// What the checks look at.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSnapshot {
    pub status: String,
    pub outputs: BTreeMap<String, String>,
    pub resources: Vec<BuiltResource>,
}

/// Runs the generic checks and `declared` on what was built. `template` is the deployed one and
/// `parameters` the values it was deployed with.
pub fn verify(
    snapshot: &StackSnapshot,
    template: &Template,
    parameters: &BTreeMap<String, String>,
    declared: &[DeclaredCheck],
) -> Verification {
    let mut results = vec![
        stack_complete(snapshot),
        outputs_present(snapshot, template),
        resources_complete(snapshot),
    ];
    results.extend(declared.iter().map(|c| run(c, snapshot, parameters)));
    Verification { results }
}

fn result(name: &str, passed: bool, detail: String) -> CheckResult {
    CheckResult {
        name: name.to_string(),
        outcome: if passed {
            CheckOutcome::Passed
        } else {
            CheckOutcome::Failed
        },
        detail,
    }
}

fn stack_complete(snapshot: &StackSnapshot) -> CheckResult {
    let complete = matches!(
        snapshot.status.as_str(),
        "CREATE_COMPLETE" | "UPDATE_COMPLETE"
    );
    result(
        "stack is complete",
        complete,
        format!("stack status {}", snapshot.status),
    )
}

/// Outputs without a `Condition` must be there with a value; conditional ones are not judged.
fn outputs_present(snapshot: &StackSnapshot, template: &Template) -> CheckResult {
    let declared: Vec<&String> = template
        .value
        .get("Outputs")
        .and_then(Value::as_object)
        .map(|outputs| {
            outputs
                .iter()
                .filter(|(_, o)| o.get("Condition").is_none())
                .map(|(k, _)| k)
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<&str> = declared
        .iter()
        .filter(|k| {
            snapshot
                .outputs
                .get(k.as_str())
                .is_none_or(|v| v.is_empty())
        })
        .map(|k| k.as_str())
        .collect();
    result(
        "every output present",
        missing.is_empty(),
        if missing.is_empty() {
            format!("{} of {} outputs", declared.len(), declared.len())
        } else {
            format!("missing: {}", missing.join(", "))
        },
    )
}

fn resources_complete(snapshot: &StackSnapshot) -> CheckResult {
    let incomplete: Vec<String> = snapshot
        .resources
        .iter()
        .filter(|r| !r.status.ends_with("_COMPLETE") || r.status.starts_with("DELETE"))
        .map(|r| format!("{} {}", r.logical_id, r.status))
        .collect();
    result(
        "every resource complete",
        incomplete.is_empty(),
        if incomplete.is_empty() {
            format!("{} resources", snapshot.resources.len())
        } else {
            format!("not complete: {}", incomplete.join(", "))
        },
    )
}

fn run(
    check: &DeclaredCheck,
    snapshot: &StackSnapshot,
    parameters: &BTreeMap<String, String>,
) -> CheckResult {
    let of_type: Vec<&BuiltResource> = snapshot
        .resources
        .iter()
        .filter(|r| r.resource_type == check.resource_type && r.status.ends_with("_COMPLETE"))
        .collect();
    let expected_count = match (&check.count, &check.count_parameter) {
        (Some(n), _) => Some(Ok(*n)),
        (None, Some(parameter)) => Some(
            parameters
                .get(parameter)
                .and_then(|v| v.parse::<u32>().ok())
                .ok_or_else(|| format!("parameter {parameter} has no number in this deployment")),
        ),
        (None, None) => None,
    };
    if let Some(expected) = expected_count {
        let expected = match expected {
            Ok(n) => n,
            Err(reason) => return result(&check.name, false, reason),
        };
        let found = of_type.len();
        return result(
            &check.name,
            found == expected as usize,
            format!("{found} {} built, {expected} expected", check.resource_type),
        );
    }
    let Some(property) = &check.property else {
        return result(
            &check.name,
            false,
            "the check names neither a count nor a property".into(),
        );
    };
    if of_type.is_empty() {
        // Nothing to read the property of (an emulator that builds no such resource, or a
        // template without one): the count checks say whether that is wrong.
        return CheckResult {
            name: check.name.clone(),
            outcome: CheckOutcome::Skipped,
            detail: format!(
                "CloudFormation lists no complete {} in the stack to read {property} from",
                check.resource_type
            ),
        };
    }
    let pointer = format!("/{}", property.trim_start_matches('/'));
    let mut values = Vec::new();
    for resource in &of_type {
        match &resource.live {
            Ok(live) => values.push((
                resource.logical_id.as_str(),
                live.pointer(&pointer).cloned(),
            )),
            Err(reason) => {
                return CheckResult {
                    name: check.name.clone(),
                    outcome: CheckOutcome::Skipped,
                    detail: format!("{} cannot be read here: {reason}", resource.logical_id),
                }
            }
        }
    }
    if let Some(expected) = &check.equals {
        let wrong: Vec<String> = values
            .iter()
            .filter(|(_, v)| !same(v.as_ref(), expected))
            .map(|(id, v)| {
                format!(
                    "{id} has {}",
                    v.as_ref().map_or("nothing".into(), Value::to_string)
                )
            })
            .collect();
        return result(
            &check.name,
            wrong.is_empty(),
            if wrong.is_empty() {
                format!("{property} = {expected} on {} resources", values.len())
            } else {
                format!("{property} should be {expected}: {}", wrong.join(", "))
            },
        );
    }
    if let Some(expected) = check.distinct {
        let distinct: BTreeSet<String> = values
            .iter()
            .filter_map(|(_, v)| v.as_ref().map(Value::to_string))
            .collect();
        return result(
            &check.name,
            distinct.len() == expected as usize,
            format!(
                "{} distinct {property} ({}), {expected} expected",
                distinct.len(),
                distinct.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    result(
        &check.name,
        false,
        format!("the check on {property} says neither `equals` nor `distinct`"),
    )
}

/// Live values compare as CloudFormation writes them: `true` equals "true", 443 equals "443".
fn same(actual: Option<&Value>, expected: &Value) -> bool {
    match actual {
        None => false,
        Some(a) if a == expected => true,
        Some(a) => text(a) == text(expected),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: &str, kind: &str, live: Result<Value, String>) -> BuiltResource {
        BuiltResource {
            logical_id: id.into(),
            resource_type: kind.into(),
            status: "CREATE_COMPLETE".into(),
            live,
        }
    }

    fn subnets(zones: &[&str]) -> Vec<BuiltResource> {
        zones
            .iter()
            .enumerate()
            .map(|(i, z)| {
                resource(
                    &format!("Subnet{i}"),
                    "AWS::EC2::Subnet",
                    Ok(serde_json::json!({ "AvailabilityZone": z, "MapPublicIpOnLaunch": false })),
                )
            })
            .collect()
    }

    fn check(toml_text: &str) -> DeclaredCheck {
        toml::from_str(toml_text).unwrap()
    }

    fn template() -> Template {
        Template::parse(
            "t.yaml",
            "Resources: {}\nOutputs:\n  VpcId: { Value: x }\n  Optional: { Condition: C, Value: y }\n",
        )
        .unwrap()
    }

    fn snapshot(resources: Vec<BuiltResource>) -> StackSnapshot {
        StackSnapshot {
            status: "CREATE_COMPLETE".into(),
            outputs: BTreeMap::from([("VpcId".to_string(), "vpc-1".to_string())]),
            resources,
        }
    }

    #[test]
    fn a_stack_built_as_declared_passes_every_check() {
        let declared = [
            check("name = \"nine subnets\"\ntype = \"AWS::EC2::Subnet\"\ncount = 9"),
            check("name = \"three zones\"\ntype = \"AWS::EC2::Subnet\"\nproperty = \"AvailabilityZone\"\ndistinct = 3"),
            check("name = \"no public IPs\"\ntype = \"AWS::EC2::Subnet\"\nproperty = \"MapPublicIpOnLaunch\"\nequals = false"),
            check("name = \"NAT as asked\"\ntype = \"AWS::EC2::NatGateway\"\ncount_parameter = \"NatGatewayCount\""),
        ];
        let mut built = subnets(&["a", "b", "c", "a", "b", "c", "a", "b", "c"]);
        built.push(resource(
            "Nat0",
            "AWS::EC2::NatGateway",
            Err("not read".into()),
        ));
        let parameters = BTreeMap::from([("NatGatewayCount".to_string(), "1".to_string())]);
        let v = verify(&snapshot(built), &template(), &parameters, &declared);
        assert!(v.ok(), "{v:?}");
        assert_eq!((v.passed(), v.failed(), v.skipped()), (7, 0, 0));
        assert_eq!(v.headline(), "checks passed (7/7)");
    }

    #[test]
    fn what_was_not_built_as_declared_fails_with_its_evidence() {
        let declared = [
            check("name = \"three zones\"\ntype = \"AWS::EC2::Subnet\"\nproperty = \"AvailabilityZone\"\ndistinct = 3"),
            check("name = \"NAT as asked\"\ntype = \"AWS::EC2::NatGateway\"\ncount_parameter = \"NatGatewayCount\""),
        ];
        let parameters = BTreeMap::from([("NatGatewayCount".to_string(), "3".to_string())]);
        let mut bad = snapshot(subnets(&["a", "a", "b"]));
        bad.outputs.clear();
        let v = verify(&bad, &template(), &parameters, &declared);
        assert!(!v.ok());
        let failed: Vec<(&str, &str)> = v
            .results
            .iter()
            .filter(|r| r.outcome == CheckOutcome::Failed)
            .map(|r| (r.name.as_str(), r.detail.as_str()))
            .collect();
        assert_eq!(
            failed,
            vec![
                ("every output present", "missing: VpcId"),
                (
                    "three zones",
                    "2 distinct AvailabilityZone (\"a\", \"b\"), 3 expected"
                ),
                ("NAT as asked", "0 AWS::EC2::NatGateway built, 3 expected"),
            ]
        );
        assert!(v
            .headline()
            .starts_with("checks FAILED (2/5): every output present"));
    }

    #[test]
    fn a_property_that_cannot_be_read_is_skipped_and_counted_not_passed() {
        let declared = [check(
            "name = \"private endpoint\"\ntype = \"AWS::EKS::Cluster\"\nproperty = \"ResourcesVpcConfig/EndpointPublicAccess\"\nequals = false",
        )];
        let built = vec![resource(
            "Cluster",
            "AWS::EKS::Cluster",
            Err("drift detection does not read AWS::EKS::Cluster".into()),
        )];
        let v = verify(&snapshot(built), &template(), &BTreeMap::new(), &declared);
        assert_eq!(v.skipped(), 1);
        assert!(v.ok());
        assert_eq!(v.headline(), "checks passed (3/3), 1 skipped");
        // Nor can it be read where no such resource is listed.
        let v = verify(
            &snapshot(Vec::new()),
            &template(),
            &BTreeMap::new(),
            &declared,
        );
        assert_eq!(v.skipped(), 1, "{v:?}");
    }
}
