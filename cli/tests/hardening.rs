//! Deployments whose execution ends without recording — stopped by an operator, or timed out —
//! as the CLI meets them on the local backend (which, unlike AWS, sends no Step Functions
//! events): `wait` ends and says what happened, `status` shows the truth, the stack is free.
//! Needs the backend that `scripts/test` starts.

mod common;

use common::{cli, text};

use std::process::{Command, Output};

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(output)))
}

/// A stack name of its own, so the test shares nothing with the catalog's stacks.
fn unique_stack() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("stop{:x}", n % 0xfffff)
}

/// Stops an execution as an operator would in the console.
fn stop_execution(deployment_id: &str) {
    let machine = std::env::var("INFRA_AGENT_STATE_MACHINE_ARN").unwrap();
    let arn = format!(
        "{}:{deployment_id}",
        machine.replacen(":stateMachine:", ":execution:", 1)
    );
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new(format!("{root}/.venv/bin/python"))
        .args([
            "-c",
            &format!(
                "import boto3\nboto3.client('stepfunctions').stop_execution(executionArn='{arn}', error='OperatorStop', cause='stopped by hand')"
            ),
        ])
        .output()
        .expect("run the venv's python");
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_stopped_deployment_ends_its_wait_closes_its_record_and_frees_the_stack() {
    let stack = unique_stack();
    let started = cli(&[
        "deploy",
        &stack,
        "--env",
        "dev",
        "--template",
        "infra/stacks/vpc.yaml",
        "--output",
        "json",
    ]);
    assert!(started.status.success(), "{}", text(&started));
    let deployment_id = json(&started)["deployment_id"]
        .as_str()
        .expect("a deployment id")
        .to_string();

    let refused = cli(&["unlock", &stack, "--env", "dev", "--reason", "testing"]);
    assert!(
        !refused.status.success(),
        "a running deployment's lock is not released: {}",
        text(&refused)
    );
    assert!(
        text(&refused).contains(&deployment_id),
        "{}",
        text(&refused)
    );

    stop_execution(&deployment_id);
    let waited = cli(&["wait", &deployment_id, "--output", "json"]);

    assert!(!waited.status.success(), "{}", text(&waited));
    let view = json(&waited);
    assert_eq!(view["status"], "ABORTED", "{view}");
    let status = json(&cli(&["status", "--env", "dev", "--output", "json"]));
    let head = status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["last_deployment"] == deployment_id.as_str())
        .unwrap_or_else(|| panic!("{status}"));
    assert_eq!(head["last_deployment_status"], "ABORTED");
    let unlocked = json(&cli(&[
        "unlock", &stack, "--env", "dev", "--reason", "testing", "--output", "json",
    ]));
    assert_eq!(unlocked["holder"], serde_json::Value::Null, "{unlocked}");

    let again = cli(&[
        "deploy",
        &stack,
        "--env",
        "dev",
        "--template",
        "infra/stacks/vpc.yaml",
        "--output",
        "json",
    ]);
    assert!(
        again.status.success(),
        "the stack is free again: {}",
        text(&again)
    );
    let second = json(&again)["deployment_id"].as_str().unwrap().to_string();
    stop_execution(&second);
    let cleaned = cli(&["status", "--env", "dev", "--output", "json"]);
    let head = json(&cleaned)
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["last_deployment"] == second.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        head["last_deployment_status"], "ABORTED",
        "status alone reconciles: {head}"
    );
}
