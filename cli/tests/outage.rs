//! The local Lambda host dies while a deployment waits for approval: the CLI says the backend is
//! not answering, `scripts/local-backend start` brings the host back with the emulator's state
//! kept, and `wait` then closes the deployment's record and frees its stack. Its own test binary:
//! killing the host must not disturb other tests. Needs the backend that `scripts/test` starts.

mod common;

use common::{cli, text, ROOT};

use std::process::Command;
use std::time::{Duration, Instant};

/// The execution's status, asked of the emulator itself (the host that fronts it is down).
fn execution_status(deployment_id: &str) -> String {
    let machine = std::env::var("INFRA_AGENT_STATE_MACHINE_ARN").unwrap();
    let arn = format!(
        "{}:{deployment_id}",
        machine.replacen(":stateMachine:", ":execution:", 1)
    );
    let emulator = std::env::var("INFRA_AGENT_MOTO_URL").expect("the emulator's URL");
    let out = Command::new(format!("{ROOT}/.venv/bin/python"))
        .args([
            "-c",
            &format!(
                "import boto3\nprint(boto3.client('stepfunctions', endpoint_url='{emulator}').describe_execution(executionArn='{arn}')['status'])"
            ),
        ])
        .output()
        .expect("run the venv's python");
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_deployment_whose_host_died_is_reconciled_once_the_host_is_back() {
    let stack = format!(
        "host{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() % 0xfffff)
            .unwrap_or_default()
    );
    let started = cli(&[
        "deploy",
        &stack,
        "--env",
        "dev",
        "--template",
        "infra/stacks/vpc.yaml",
        "--approval-timeout",
        "3",
        "--output",
        "json",
    ]);
    assert!(started.status.success(), "{}", text(&started));
    let view: serde_json::Value = serde_json::from_slice(&started.stdout).unwrap();
    let deployment_id = view["deployment_id"].as_str().unwrap().to_string();

    let pid = std::fs::read_to_string(format!("{ROOT}/.local/host.pid")).unwrap();
    let killed = Command::new("kill")
        .args(["-9", pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success());

    let unreachable = cli(&["status", "--env", "dev"]);
    assert!(!unreachable.status.success());
    assert!(
        text(&unreachable).contains("the local backend is not answering"),
        "a clear error: {}",
        text(&unreachable)
    );

    // The approval times out; recording it fails (nothing answers the record function), and the
    // execution ends with the record still open.
    let deadline = Instant::now() + Duration::from_secs(180);
    while execution_status(&deployment_id) == "RUNNING" {
        assert!(Instant::now() < deadline, "{deployment_id} never ended");
        std::thread::sleep(Duration::from_secs(2));
    }

    let restarted = Command::new(format!("{ROOT}/scripts/local-backend"))
        .arg("start")
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(restarted.status.success(), "{}", text(&restarted));
    assert!(
        text(&restarted).contains("kept"),
        "only the host restarts: {}",
        text(&restarted)
    );

    let waited = cli(&["wait", &deployment_id, "--output", "json"]);
    assert!(!waited.status.success(), "{}", text(&waited));
    let record: serde_json::Value =
        serde_json::from_slice(&waited.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&waited)));
    assert_eq!(record["status"], "FAILED", "{record}");
    let reason = record["failure"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("before it recorded an outcome"), "{reason}");
    let unlock = cli(&[
        "unlock", &stack, "--env", "dev", "--reason", "test", "--output", "json",
    ]);
    let unlocked: serde_json::Value = serde_json::from_slice(&unlock.stdout).unwrap();
    assert_eq!(
        unlocked["holder"],
        serde_json::Value::Null,
        "the stack is free: {unlocked}"
    );
}
