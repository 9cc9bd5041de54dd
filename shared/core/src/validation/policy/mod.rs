//! NIST 800-53 policy: the guard rules under `infra/guard/`, embedded in the binary, run through
//! the `cfn-guard` engine as a library. Anything short of a clean guard run is an error.

mod groups;
mod guard;
mod projection;
mod reach;
mod report;
mod rules;

use std::sync::OnceLock;

use serde_json::Value;

use groups::{evaluate_grouped, judges_each_resource_alone};
use guard::run_guard;
use projection::GuardData;
use reach::Selection;
use rules::read_headers;

// What the shipped rules files select is checked beside the other validation tests.
#[cfg(test)]
pub(crate) use reach::{selected_resources, SelectedResources};
pub use report::{GuardOutcome, Violation};
pub use rules::{RuleInfo, RuleSource, RULE_FILES};

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every template of the public corpus, checked out next to this repository, is judged the
    /// same when guard is shown only what each rules file reaches, run directly, and run once
    /// per group, as by the `validate` command on every resource of the selected types:
    /// `cargo test --release -p infra-agent-shared --lib direct_guard_run_agrees -- --ignored`.
    #[test]
    #[ignore = "needs the corpus checkout; slow in a debug build"]
    fn direct_guard_run_agrees_with_the_validate_command_on_the_corpus() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpus/aws-cloudformation-templates");
        let mut pending = vec![corpus.clone()];
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
                    guard::tests::assert_runs_agree(&name, &template.value);
                    groups::tests::assert_grouped_run_agrees(&name, &template.value);
                    checked += 1;
                }
            }
        }
        assert!(
            checked > 0,
            "no corpus templates under {}",
            corpus.display()
        );
        println!("{checked} corpus templates agree");
    }
}
