//! The CLI against the local backend: catalog wiring on deploy, refusal of a stack whose upstream
//! is missing, and teardown with its confirmation. Needs the backend that `scripts/test` starts.

use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    assert!(
        std::env::var("INFRA_AGENT_STATE_MACHINE_ARN").is_ok(),
        "the local backend is not running: run the tests with `scripts/test`"
    );
    Command::new(env!("CARGO_BIN_EXE_infra-agent"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run infra-agent")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(output)))
}

/// Deploys a catalog stack to tst, approves it under a name and follows it to the end.
fn deploy_and_approve(stack: &str) -> serde_json::Value {
    let started = cli(&["deploy", stack, "--env", "tst", "--output", "json"]);
    assert!(started.status.success(), "{}", text(&started));
    let view = json(&started);
    assert_eq!(view["status"], "AWAITING_APPROVAL", "{view}");
    let approval = view["approval_id"].as_str().unwrap().to_string();
    let approved = cli(&["approve", &approval, "--as", "tester"]);
    assert!(approved.status.success(), "{}", text(&approved));
    let deployment = view["deployment_id"].as_str().unwrap();
    let ended = cli(&["wait", deployment, "--output", "json"]);
    assert!(ended.status.success(), "{}", text(&ended));
    json(&ended)
}

#[test]
fn catalog_stacks_deploy_in_order_with_wiring_and_tear_down_in_reverse() {
    // Nothing of tst exists yet: a downstream stack is refused before anything is started.
    let refused = cli(&["deploy", "security-groups", "--env", "tst"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("deploy vpc first"),
        "{}",
        text(&refused)
    );
    let history = cli(&[
        "history",
        "security-groups",
        "--env",
        "tst",
        "--output",
        "json",
    ]);
    assert_eq!(
        json(&history).as_array().map(Vec::len),
        Some(0),
        "nothing was started"
    );

    let vpc = deploy_and_approve("vpc");
    assert_eq!(vpc["stack_status"], "CREATE_COMPLETE", "{vpc}");
    let groups = deploy_and_approve("security-groups");
    assert_eq!(groups["status"], "SUCCEEDED", "{groups}");

    // The wired VpcId reached the downstream stack's parameters.
    let records = json(&cli(&[
        "history",
        "security-groups",
        "--env",
        "tst",
        "--output",
        "json",
    ]));
    let vpc_id = records[0]["parameters"]["VpcId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(vpc_id.starts_with("vpc-"), "{records}");

    // Teardown: never without confirmation, never prd unattended.
    let unconfirmed = cli(&["destroy", "--env", "tst"]);
    assert!(!unconfirmed.status.success());
    assert!(
        text(&unconfirmed).contains("DELETE TST"),
        "{}",
        text(&unconfirmed)
    );
    let prd = cli(&["destroy", "--env", "prd", "--yes"]);
    assert!(!prd.status.success());
    assert!(text(&prd).contains("--allow-prd"), "{}", text(&prd));

    let destroyed = cli(&["destroy", "--env", "tst", "--yes"]);
    let report = text(&destroyed);
    let groups_at = report
        .find("infra-agent-tst-security-groups")
        .expect("security-groups listed");
    let vpc_at = report.find("infra-agent-tst-vpc").expect("vpc listed");
    assert!(groups_at < vpc_at, "reverse order: {report}");
    assert!(destroyed.status.success(), "{report}");
    let status = cli(&["status", "--env", "tst", "--output", "json"]);
    for stack in json(&status).as_array().unwrap() {
        assert_ne!(stack["status"], "CREATE_COMPLETE", "{stack}");
    }
}
