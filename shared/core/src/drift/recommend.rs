//! The recommendation for a drifted resource: what to put back, which controls that restores, and
//! the command that does it through the approval.

use serde_json::Value;

use super::{DifferenceKind, PropertyDifference, ResourceDrift, ResourceDriftStatus};

/// Rule lists whose elements read as "protocol port from source".
const RULE_LISTS: [(&str, &str); 2] = [
    ("SecurityGroupIngress", "ingress rule"),
    ("SecurityGroupEgress", "egress rule"),
];

pub(super) fn for_resource(
    resource: &ResourceDrift,
    controls: &[String],
    remediation: Option<&str>,
) -> String {
    let breaks = if controls.is_empty() {
        String::new()
    } else {
        format!(": it breaks {}", controls.join(", "))
    };
    let how = remediation.map_or_else(String::new, |command| format!(" Run `{command}`"));
    if resource.status == ResourceDriftStatus::Deleted {
        return format!(
            "Recreate {} {}, deleted outside CloudFormation{breaks}.{how}, or redeploy the stack if the revert cannot recreate it.",
            resource.resource_type, resource.logical_id
        );
    }
    let actions: Vec<String> = resource.differences.iter().map(action_for).collect();
    let mut actions = dedup(actions);
    if actions.len() > 3 {
        let more = actions.len() - 3;
        actions.truncate(3);
        actions.push(format!("{more} more"));
    }
    let what = capitalise(&actions.join("; "));
    let how = if how.is_empty() {
        String::new()
    } else {
        format!("{how} to revert it through the approval.")
    };
    format!("{what}{breaks}.{how}")
}

fn action_for(difference: &PropertyDifference) -> String {
    let top = difference
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    if let Some((_, noun)) = RULE_LISTS.iter().find(|(list, _)| *list == top) {
        let towards = if top == "SecurityGroupEgress" {
            "to"
        } else {
            "from"
        };
        let rule =
            |text: Option<&str>| text.map_or_else(String::new, |t| describe_rule(t, towards));
        return match difference.kind {
            DifferenceKind::Add => {
                format!("remove the {noun} {}", rule(difference.actual.as_deref()))
            }
            DifferenceKind::Remove => {
                format!(
                    "restore the {noun} {}",
                    rule(difference.expected.as_deref())
                )
            }
            DifferenceKind::NotEqual => format!("put the {noun} {} back", difference.path),
        };
    }
    if top == "Tags" {
        return match difference.kind {
            DifferenceKind::Add => format!(
                "remove the tag {}",
                tag_key(difference.actual.as_deref()).unwrap_or_default()
            ),
            DifferenceKind::Remove => format!(
                "restore the tag {}",
                tag_key(difference.expected.as_deref()).unwrap_or_default()
            ),
            DifferenceKind::NotEqual => format!(
                "set {} back to {}",
                difference.path,
                difference
                    .expected
                    .as_deref()
                    .unwrap_or("its template value")
            ),
        };
    }
    match difference.kind {
        DifferenceKind::Add => format!("remove {} (added outside CloudFormation)", difference.path),
        DifferenceKind::Remove => format!("restore {}", difference.path),
        DifferenceKind::NotEqual => format!(
            "set {} back to {} (now {})",
            difference.path,
            difference
                .expected
                .as_deref()
                .unwrap_or("its template value"),
            difference.actual.as_deref().unwrap_or("unset")
        ),
    }
}

/// "tcp 80 from 0.0.0.0/0", from a rule as drift detection shows it.
fn describe_rule(text: &str, towards: &str) -> String {
    let Ok(rule) = serde_json::from_str::<Value>(text) else {
        return text.to_string();
    };
    let field = |name: &str| -> Option<String> {
        rule.get(name).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    let protocol = match field("IpProtocol").as_deref() {
        Some("-1") | None => "all traffic".to_string(),
        Some(p) => p.to_string(),
    };
    let ports = match (field("FromPort"), field("ToPort")) {
        (Some(from), Some(to)) if from == to && from != "-1" => format!(" {from}"),
        (Some(from), Some(to)) if from != "-1" => format!(" {from}-{to}"),
        _ => String::new(),
    };
    let peer = [
        "CidrIp",
        "CidrIpv6",
        "SourceSecurityGroupId",
        "DestinationSecurityGroupId",
    ]
    .iter()
    .find_map(|k| field(k))
    .map_or_else(String::new, |p| format!(" {towards} {p}"));
    format!("{protocol}{ports}{peer}")
}

fn tag_key(text: Option<&str>) -> Option<String> {
    let tag: Value = serde_json::from_str(text?).ok()?;
    Some(tag.get("Key")?.as_str()?.to_string())
}

fn dedup(mut items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    items.retain(|i| seen.insert(i.clone()));
    items
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
