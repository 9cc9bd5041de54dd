//! Output of the change-set step: what CloudFormation would do, summarised for approvers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChangeSetType {
    Create,
    Update,
}

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// CREATE, MODIFY, DELETE, IMPORT, DYNAMIC.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// CloudFormation's `Replacement`: "True", "False" or "Conditional" for modifications.
    pub replacement: Option<String>,
}

/// "CREATE AWS::EC2::Subnet ×9".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionCount {
    pub action: String,
    pub resource_type: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChangeSummary {
    pub counts: Vec<ActionCount>,
    pub changes: Vec<ResourceChange>,
    /// Logical ids that will be replaced (or may be: "Conditional").
    pub replacements: Vec<String>,
    /// Logical ids that will be deleted.
    pub deletions: Vec<String>,
}

impl ChangeSummary {
    pub fn from_changes(mut changes: Vec<ResourceChange>) -> Self {
        changes.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
        let mut counts: BTreeMap<(String, String), u32> = BTreeMap::new();
        for change in &changes {
            *counts
                .entry((change.action.clone(), change.resource_type.clone()))
                .or_default() += 1;
        }
        let replacements = changes
            .iter()
            .filter(|c| {
                c.action == "MODIFY"
                    && matches!(c.replacement.as_deref(), Some("True") | Some("Conditional"))
            })
            .map(|c| c.logical_id.clone())
            .collect();
        let deletions = changes
            .iter()
            .filter(|c| c.action == "DELETE")
            .map(|c| c.logical_id.clone())
            .collect();
        ChangeSummary {
            counts: counts
                .into_iter()
                .map(|((action, resource_type), count)| ActionCount {
                    action,
                    resource_type,
                    count,
                })
                .collect(),
            changes,
            replacements,
            deletions,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// One line per action and type: `CREATE AWS::EC2::Subnet ×9`.
    pub fn count_lines(&self) -> Vec<String> {
        self.counts
            .iter()
            .map(|c| format!("{} {} ×{}", c.action, c.resource_type, c.count))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSetResult {
    pub stack_name: String,
    pub change_set_name: String,
    /// Absent when the change set had no changes and was deleted.
    pub change_set_arn: Option<String>,
    pub change_set_type: ChangeSetType,
    pub has_changes: bool,
    pub summary: ChangeSummary,
    /// The parameter values passed to CloudFormation.
    pub parameters: BTreeMap<String, String>,
    /// The stack tags applied.
    pub tags: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: &str, id: &str, ty: &str, replacement: Option<&str>) -> ResourceChange {
        ResourceChange {
            action: action.into(),
            logical_id: id.into(),
            resource_type: ty.into(),
            replacement: replacement.map(str::to_string),
        }
    }

    #[test]
    fn summary_counts_per_action_and_type_and_flags_replacements_and_deletions() {
        let mut changes: Vec<_> = (0..9)
            .map(|i| change("CREATE", &format!("Subnet{i}"), "AWS::EC2::Subnet", None))
            .collect();
        changes.push(change("MODIFY", "Vpc", "AWS::EC2::VPC", Some("True")));
        changes.push(change(
            "MODIFY",
            "Sg",
            "AWS::EC2::SecurityGroup",
            Some("False"),
        ));
        changes.push(change("DELETE", "OldRoute", "AWS::EC2::Route", None));
        let summary = ChangeSummary::from_changes(changes);
        assert!(summary
            .count_lines()
            .contains(&"CREATE AWS::EC2::Subnet ×9".to_string()));
        assert_eq!(summary.replacements, vec!["Vpc"]);
        assert_eq!(summary.deletions, vec!["OldRoute"]);
        assert_eq!(summary.changes.len(), 12);
    }
}
