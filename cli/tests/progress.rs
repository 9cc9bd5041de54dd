//! The CLI's progress, read from its stderr in a real run: each state once, in order, with the
//! time since the execution started; the approval's instructions once and never after the change
//! set started executing; CloudFormation's resource events while it executes, with a count; and
//! `wait` later sums up what already happened instead of listing it again.

mod common;

use common::{cli, run_approving};

#[test]
fn a_deployment_shows_each_state_once_its_resources_and_no_stale_approval_line() {
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let stack = format!("progress-{:x}", id % 0xfffff);
    let run = run_approving(&[
        "deploy",
        &stack,
        "--env",
        "dev",
        "--template",
        "infra/stacks/vpc.yaml",
        "--wait",
        "--output",
        "json",
    ]);
    let (output, lines) = (run.output, run.lines);
    let progress = lines.join("\n");
    assert!(output.status.success(), "{progress}");
    // stdout is the one JSON document.
    let view: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    assert_eq!(view["status"], "SUCCEEDED", "{view}");

    let states: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.trim_start().strip_prefix("→ "))
        .map(|l| l.split(" (+").next().unwrap_or(l))
        .collect();
    let mut unique = states.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        states.len(),
        "a state printed twice: {progress}"
    );
    let position = |state: &str| {
        states
            .iter()
            .position(|s| *s == state)
            .unwrap_or_else(|| panic!("{state} never shown: {progress}"))
    };
    assert!(position("Validate template") < position("Wait for approval"));
    assert!(position("Wait for approval") < position("Execute change set"));
    assert!(position("Execute change set") < position("Verify stack"));
    assert!(
        lines.iter().all(|l| !l.contains("→ ") || l.contains(" (+")),
        "every state with its time: {progress}"
    );
    let announced: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("waits for approval"))
        .map(|(i, _)| i)
        .collect();
    let executing = lines
        .iter()
        .position(|l| l.contains("→ Execute change set"))
        .unwrap();
    assert_eq!(announced.len(), 1, "{progress}");
    assert!(
        announced[0] < executing,
        "a stale approval line: {progress}"
    );
    assert!(
        lines.iter().any(|l| l.contains("CREATE_COMPLETE")
            && l.contains("AWS::EC2::VPC Vpc")
            && l.contains(" resources)")),
        "resource events while it executes: {progress}"
    );

    // `wait` afterwards does not list the states again.
    let deployment = view["deployment_id"].as_str().unwrap();
    let waited = cli(&["wait", deployment]);
    let again = String::from_utf8_lossy(&waited.stderr);
    assert!(again.contains("states passed; now in"), "{again}");
    assert!(!again.contains("→ Validate template"), "{again}");
}
