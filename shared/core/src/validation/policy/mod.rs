//! NIST 800-53 policy: the guard rules under `infra/guard/`, embedded in the binary, run through
//! the `cfn-guard` engine as a library. Anything short of a clean guard run is an error.

// The corpus walker the benches use, for the corpus test below.
#[cfg(test)]
#[path = "../../../benches/corpus/mod.rs"]
mod corpus;
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
    /// It reads `../shared/corpus/` (see its README): a corpus that is missing, empty or
    /// unreadable fails the test rather than letting it pass over nothing.
    #[test]
    fn direct_guard_run_agrees_with_the_validate_command_on_the_corpus() {
        let files =
            corpus::templates_under(&corpus::corpus_dir()).unwrap_or_else(|e| panic!("{e}"));
        let mut checked = 0;
        for path in &files {
            let body = std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let name = path.display().to_string();
            // Some corpus templates have known problems: what does not parse is not judged.
            if let Ok(template) = crate::template::Template::parse(&name, &body) {
                guard::tests::assert_runs_agree(&name, &template.value);
                groups::tests::assert_grouped_run_agrees(&name, &template.value);
                checked += 1;
            }
        }
        // Nearly every corpus template parses: far fewer means the parser or the corpus broke.
        assert!(
            checked * 10 >= files.len() * 9,
            "only {checked} of {} corpus templates parsed",
            files.len()
        );
        println!("{checked} of {} corpus templates agree", files.len());
    }
}

/// The corpus walker fails on a corpus that is not there, so the corpus test cannot pass over
/// nothing. (Here rather than beside the walker: the benches that share it run no tests.)
#[cfg(test)]
mod corpus_tests {
    use super::corpus::templates_under;
    use std::path::PathBuf;

    /// A fresh, empty directory under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("infra-agent-corpus-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        dir
    }

    #[test]
    fn missing_corpus_is_an_error_naming_the_directory() {
        let dir = scratch("missing").join("not-checked-out");
        let err = templates_under(&dir).unwrap_err();
        assert!(err.contains("not-checked-out"), "{err}");
    }

    #[test]
    fn corpus_without_templates_is_an_error() {
        let dir = scratch("empty");
        assert!(templates_under(&dir).is_err(), "an empty directory");
        std::fs::create_dir_all(dir.join("S3")).unwrap();
        std::fs::write(dir.join("S3/README.md"), "# not a template").unwrap();
        let err = templates_under(&dir).unwrap_err();
        assert!(err.contains("no templates"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn templates_are_found_in_nested_directories_in_order() {
        let dir = scratch("nested");
        std::fs::create_dir_all(dir.join("VPC/nested")).unwrap();
        for file in ["VPC/nested/b.yml", "VPC/a.json", "c.yaml", "notes.txt"] {
            std::fs::write(dir.join(file), "Resources: {}").unwrap();
        }
        let found = templates_under(&dir).expect("templates");
        let names: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["VPC/a.json", "VPC/nested/b.yml", "c.yaml"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
