//! Availability zones written as literals (cfn-lint W3010): a warning, as the template then
//! deploys to one region only; `Fn::GetAZs` or a parameter keeps it portable.

use serde_json::Value;

use super::{child, intrinsic, Doc, *};
use crate::template::pointer;

/// Where cfn-lint 1.41 looks for an availability zone: type, then the path below `Properties`
/// (`*` is every item of a list).
const ZONE_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::AutoScaling::AutoScalingGroup", "AvailabilityZones/*"),
    ("AWS::DAX::Cluster", "AvailabilityZones/*"),
    ("AWS::DMS::ReplicationInstance", "AvailabilityZone"),
    ("AWS::EC2::Host", "AvailabilityZone"),
    ("AWS::EC2::Instance", "AvailabilityZone"),
    (
        "AWS::EC2::LaunchTemplate",
        "LaunchTemplateData/Placement/AvailabilityZone",
    ),
    ("AWS::EC2::Subnet", "AvailabilityZone"),
    ("AWS::EC2::Volume", "AvailabilityZone"),
    (
        "AWS::ElasticLoadBalancing::LoadBalancer",
        "AvailabilityZones/*",
    ),
    (
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Targets/*/AvailabilityZone",
    ),
    ("AWS::EMR::Cluster", "Instances/Placement/AvailabilityZone"),
    ("AWS::OpsWorks::Instance", "AvailabilityZone"),
    ("AWS::RDS::DBCluster", "AvailabilityZones/*"),
    ("AWS::RDS::DBInstance", "AvailabilityZone"),
];

pub(super) fn check(doc: &Doc<'_>, findings: &mut Vec<Finding>) {
    let Some(resources) = doc.section("Resources") else {
        return;
    };
    for (id, resource) in resources {
        let Some(kind) = resource.get("Type").and_then(Value::as_str) else {
            continue;
        };
        let Some(properties) = resource.get("Properties") else {
            continue;
        };
        let base = format!("{}/Properties", pointer::of("Resources", id));
        for (_, path) in ZONE_PROPERTIES.iter().filter(|(t, _)| *t == kind) {
            let steps: Vec<&str> = path.split('/').collect();
            literal_zones(properties, &base, &steps, &mut |at, zone| {
                findings.push(doc.warning(
                    HARDCODED_ZONE,
                    at,
                    format!(
                        "availability zone {zone} is hard-coded: use Fn::GetAZs or a parameter"
                    ),
                ));
            });
        }
    }
}

/// Calls `found(path, zone)` for each literal string at `steps` below `value`; anything a
/// function computes is not a literal.
fn literal_zones(value: &Value, path: &str, steps: &[&str], found: &mut dyn FnMut(&str, &str)) {
    if intrinsic(value).is_some() {
        return;
    }
    match (steps.split_first(), value) {
        (None, Value::String(zone)) if zone != "all" => found(path, zone),
        (Some((&"*", rest)), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                literal_zones(item, &format!("{path}/{i}"), rest, found);
            }
        }
        (Some((key, rest)), Value::Object(map)) => {
            if let Some(next) = map.get(*key) {
                literal_zones(next, &child(path, key), rest, found);
            }
        }
        _ => {}
    }
}
