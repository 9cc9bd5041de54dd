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
    // Not a terminal: plain lines, no spinner redrawing one.
    assert!(
        !progress.contains('\r') && !progress.contains('\x1b'),
        "a spinner outside a terminal: {progress:?}"
    );
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

/// In a terminal (a pseudo-terminal from `script`), a spinner shows the state being waited in,
/// and every line printed erases it first, so none is left among the lines.
#[test]
fn in_a_terminal_a_spinner_shows_the_wait_and_leaves_no_trace_in_the_lines() {
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let stack = format!("spinner-{:x}", id % 0xfffff);
    let command = format!(
        "{} deploy {stack} --env dev --template infra/stacks/vpc.yaml",
        env!("CARGO_BIN_EXE_infra-agent")
    );
    let output = std::process::Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .current_dir(common::ROOT)
        .env_remove("TERM")
        .output()
        .expect("script(1) runs the CLI in a pseudo-terminal");
    let shown = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{shown}");
    assert!(
        shown.contains("\r\x1b[2K\u{280b} "),
        "the spinner's first frame: {shown:?}"
    );
    // Every printed line starts clean: the spinner is erased before it, not left in it.
    for line in shown.split("\r\n") {
        let text = line.rsplit("\x1b[2K").next().unwrap_or(line);
        assert!(
            !text.contains(|c| ('\u{2800}'..='\u{28ff}').contains(&c)),
            "a spinner frame left in a line: {line:?}"
        );
    }
    assert!(shown.contains("AWAITING_APPROVAL"), "{shown}");
    let approval = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("Approval:"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no approval id: {shown}"))
        .to_string();
    let rejected = common::cli_as("approver", &["reject", &approval]);
    assert!(rejected.status.success(), "{}", common::text(&rejected));
}
