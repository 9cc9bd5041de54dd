//! The CLI against the local backend: catalog wiring on deploy, refusal of a stack whose upstream
//! is missing, and teardown with its confirmation. Needs the backend that `scripts/test` starts.

mod common;

use common::{cli, cli_as, run_approving, text};

use std::process::{Command, Output};
use std::sync::Mutex;

/// tst's stacks: the catalog test deploys into tst, the environment test promotes into it.
static TST: Mutex<()> = Mutex::new(());

/// Runs boto3 (the emulator's own client library, in the project's venv) against the local
/// backend's EC2, for changes made outside the pipeline. `ec2` is the client.
fn emulator_ec2(code: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new(format!("{root}/.venv/bin/python"))
        .args([
            "-c",
            &format!("import boto3\nec2 = boto3.client('ec2')\n{code}"),
        ])
        .output()
        .expect("run the venv's python");
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(output)))
}

/// Deploys a catalog stack to tst, approves it as tst's approver and follows it to the end.
fn deploy_and_approve(stack: &str) -> serde_json::Value {
    let started = cli(&["deploy", stack, "--env", "tst", "--output", "json"]);
    assert!(started.status.success(), "{}", text(&started));
    let view = json(&started);
    assert_eq!(view["status"], "AWAITING_APPROVAL", "{view}");
    let approval = view["approval_id"].as_str().unwrap().to_string();
    let approved = cli_as("approver", &["approve", &approval]);
    assert!(approved.status.success(), "{}", text(&approved));
    let deployment = view["deployment_id"].as_str().unwrap();
    let ended = cli(&["wait", deployment, "--output", "json"]);
    assert!(ended.status.success(), "{}", text(&ended));
    json(&ended)
}

#[test]
fn catalog_stacks_deploy_in_order_with_wiring_and_tear_down_in_reverse() {
    let _tst = TST.lock().unwrap_or_else(|e| e.into_inner());
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

    // Something outside the pipeline still uses the VPC: its stack does not delete, and the
    // teardown stops there and says why.
    let blocker = emulator_ec2(&format!(
        "print(ec2.create_subnet(VpcId='{vpc_id}', CidrBlock='10.0.200.0/24')['Subnet']['SubnetId'])"
    ));
    let blocked = cli(&["destroy", "--env", "tst", "--yes"]);
    let report = text(&blocked);
    assert!(!blocked.status.success(), "{report}");
    let groups_at = report
        .find("infra-agent-tst-security-groups ")
        .expect("security-groups listed");
    let vpc_at = report.find("infra-agent-tst-vpc ").expect("vpc listed");
    assert!(groups_at < vpc_at, "reverse order: {report}");
    assert!(report.contains("DELETE_FAILED"), "{report}");
    assert!(report.contains("dependencies"), "the reason: {report}");

    emulator_ec2(&format!("ec2.delete_subnet(SubnetId='{}')", blocker.trim()));
    let destroyed = cli(&["destroy", "--env", "tst", "--yes"]);
    let report = text(&destroyed);
    assert!(destroyed.status.success(), "{report}");
    assert!(report.contains("infra-agent-tst-vpc "), "{report}");
    let status = json(&cli(&["status", "--env", "tst", "--output", "json"]));
    for name in ["infra-agent-tst-vpc", "infra-agent-tst-security-groups"] {
        let listed = status
            .as_array()
            .and_then(|all| all.iter().find(|s| s["stack_name"] == name))
            .unwrap_or_else(|| panic!("{name} not listed: {status}"));
        assert!(
            matches!(
                listed["status"].as_str(),
                Some("NOT_DEPLOYED" | "DELETE_COMPLETE")
            ),
            "{listed}"
        );
    }
}

/// `deploy --all` in dev: the deploy-environment machine runs the catalog's waves; every
/// deployment's approval is given as it is asked for (here through the CLI, reading the run's
/// progress lines). Then the environment is torn down in reverse order.
#[test]
fn whole_environment_deploys_wave_by_wave_and_tears_down_in_reverse() {
    let run = run_approving(&["deploy", "--all", "--env", "dev", "--output", "json"]);
    let (output, mut approvals) = (run.output, run.approvals);
    let progress = run.lines.join("\n");
    assert!(output.status.success(), "{progress}");
    let record: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {progress}"));
    assert_eq!(record["status"], "SUCCEEDED", "{record}");

    // Every stack of phases 1 and 2 deployed, each after what it needs; phase 3 skipped here,
    // with the reason stated.
    let results = record["results"].as_array().expect("results");
    let wave_of = |stack: &str| {
        let result = results
            .iter()
            .find(|r| r["stack"] == stack)
            .unwrap_or_else(|| panic!("{stack} missing: {record}"));
        assert_eq!(result["outcome"], "DEPLOYED", "{result}");
        result["wave"].as_u64().unwrap()
    };
    let (roles, vpc, groups) = (
        wave_of("iam-roles"),
        wave_of("vpc"),
        wave_of("security-groups"),
    );
    let (cluster, nodes, addons) = (
        wave_of("cluster"),
        wave_of("node-groups"),
        wave_of("addons"),
    );
    assert_eq!((roles, vpc), (1, 1), "{record}");
    assert!(vpc < groups && groups < cluster && cluster < nodes && nodes < addons);
    // Each deployed stack asked for its own approval, once, and got it.
    let deployed: Vec<&str> = results
        .iter()
        .filter(|r| r["outcome"] == "DEPLOYED")
        .filter_map(|r| r["stack"].as_str())
        .collect();
    assert_eq!(deployed.len(), 6, "{record}");
    approvals.sort();
    approvals.dedup();
    assert_eq!(approvals.len(), deployed.len(), "{progress}");
    // k8s-services uses a registry type: skipped on the emulator, with the reason, and said so.
    let skipped: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["outcome"] == "SKIPPED")
        .collect();
    assert_eq!(skipped.len(), 1, "{record}");
    assert_eq!(skipped[0]["stack"], "k8s-services", "{record}");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("emulator")),
        "{record}"
    );
    assert!(progress.contains("k8s-services: skipped"), "{progress}");

    // The wiring reached the cluster: its subnets are the VPC's private subnets.
    let vpc_records = json(&cli(&[
        "history", "vpc", "--env", "dev", "--output", "json",
    ]));
    let cluster_records = json(&cli(&[
        "history", "cluster", "--env", "dev", "--output", "json",
    ]));
    let subnets = cluster_records[0]["parameters"]["PrivateSubnetIds"]
        .as_str()
        .unwrap_or_default();
    assert!(subnets.starts_with("subnet-"), "{cluster_records}");
    assert_eq!(vpc_records[0]["status"], "SUCCEEDED", "{vpc_records}");

    // plan sees what is deployed now.
    let plan = json(&cli(&["plan", "--env", "dev", "--output", "json"]));
    let planned = |stack: &str| {
        plan["stacks"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["stack"] == stack))
            .cloned()
            .unwrap_or_else(|| panic!("{stack} planned: {plan}"))
    };
    assert_eq!(planned("vpc")["deployed"], true, "{plan}");
    assert_eq!(planned("vpc")["stack_status"], "CREATE_COMPLETE", "{plan}");
    assert_eq!(planned("k8s-services")["deployed"], false, "{plan}");

    // The cost of the catalog's template against the deployed stack: the same template, no change.
    let cost = json(&cli(&["cost", "vpc", "--env", "dev", "--output", "json"]));
    assert!(
        cost["compared_with"]
            .as_str()
            .is_some_and(|id| id.starts_with("dev-vpc-")),
        "{cost}"
    );
    assert_eq!(cost["delta"]["delta_monthly"], 0.0, "{cost}");
    assert_eq!(
        cost["delta"]["after_monthly"], cost["total_monthly"],
        "{cost}"
    );

    promote_all_to_tst();

    let destroyed = cli(&["destroy", "--env", "dev", "--yes"]);
    let report = text(&destroyed);
    assert!(destroyed.status.success(), "{report}");
    let position = |stack: &str| {
        report
            .find(&format!("infra-agent-dev-{stack} "))
            .unwrap_or_else(|| panic!("{stack} not listed: {report}"))
    };
    assert!(position("addons") < position("node-groups"), "{report}");
    assert!(position("security-groups") < position("vpc"), "{report}");
    // Nothing the run deployed is left (other tests' dev stacks may be listed too).
    let status = json(&cli(&["status", "--env", "dev", "--output", "json"]));
    for stack in deployed {
        let name = format!("infra-agent-dev-{stack}");
        let listed = status
            .as_array()
            .and_then(|all| all.iter().find(|s| s["stack_name"] == name.as_str()))
            .unwrap_or_else(|| panic!("{name} not listed: {status}"));
        assert!(
            matches!(
                listed["status"].as_str(),
                Some("NOT_DEPLOYED" | "DELETE_COMPLETE")
            ),
            "{listed}"
        );
    }
}

/// prd is torn down only on a teardown approval of exactly its stacks, by two distinct approvers
/// of prd through the decision endpoint, and an approval is used once.
#[test]
fn prd_teardown_needs_an_approval_by_two_people_and_uses_it_once() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let config = runtime.block_on(aws_config::load_defaults(
        aws_config::BehaviorVersion::latest(),
    ));
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    // A prd catalog stack, created directly: deploying to prd needs two IAM identities.
    let create = || {
        runtime
            .block_on(
                cfn.create_stack()
                    .stack_name("infra-agent-prd-iam-roles")
                    .template_body("Resources:\n  Handle:\n    Type: AWS::CloudFormation::WaitConditionHandle\n")
                    .send(),
            )
            .expect("create a prd stack");
    };
    create();

    let unattended = cli(&["destroy", "--env", "prd", "--allow-prd", "--yes"]);
    assert!(!unattended.status.success());
    assert!(
        text(&unattended).contains("without an approval"),
        "{}",
        text(&unattended)
    );

    let requested = cli(&["destroy", "--env", "prd", "--allow-prd"]);
    let said = text(&requested);
    assert!(!requested.status.success(), "{said}");
    assert!(said.contains("Nothing was deleted"), "{said}");
    let approval = said
        .split("needs approval ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no approval id: {said}"))
        .to_string();
    let with_approval = [
        "destroy",
        "--env",
        "prd",
        "--allow-prd",
        "--approval",
        &approval,
        "--yes",
    ];

    let pending = cli(&with_approval);
    assert!(!pending.status.success());
    assert!(text(&pending).contains("0 of 2"), "{}", text(&pending));

    // The engineer who asked is no approver of prd: refused, nothing counted.
    let engineer = cli(&["approve", &approval]);
    assert!(!engineer.status.success(), "{}", text(&engineer));
    assert!(
        text(&engineer).contains("may not decide approvals in prd"),
        "{}",
        text(&engineer)
    );
    assert!(text(&cli(&with_approval)).contains("0 of 2"));

    let first = cli_as("prd-approver-1", &["approve", &approval]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("1 more distinct approver"),
        "{}",
        text(&first)
    );
    let again = cli_as("prd-approver-1", &["approve", &approval]);
    assert!(
        !again.status.success(),
        "the same person twice: {}",
        text(&again)
    );
    assert!(
        text(&again).contains("has already approved"),
        "refused as the same person: {}",
        text(&again)
    );
    let one_of_two = cli(&with_approval);
    assert!(
        text(&one_of_two).contains("1 of 2"),
        "{}",
        text(&one_of_two)
    );

    let second = cli_as("prd-approver-2", &["approve", &approval]);
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        text(&second).contains(&format!("--approval {approval}")),
        "the teardown's next step: {}",
        text(&second)
    );
    let destroyed = cli(&with_approval);
    let report = text(&destroyed);
    assert!(destroyed.status.success(), "{report}");
    assert!(report.contains("infra-agent-prd-iam-roles"), "{report}");
    assert!(report.contains("DELETE_COMPLETE"), "{report}");

    // The approval was for that teardown only.
    create();
    let reused = cli(&with_approval);
    assert!(!reused.status.success());
    assert!(text(&reused).contains("already used"), "{}", text(&reused));
    runtime
        .block_on(
            cfn.delete_stack()
                .stack_name("infra-agent-prd-iam-roles")
                .send(),
        )
        .expect("clean up");
}

/// `promote --all` from dev to tst: each catalog stack's deployed, verified version, wave by
/// wave, each scanned for drift first (none was) and approved as it asks; then tst is torn down.
fn promote_all_to_tst() {
    let _tst = TST.lock().unwrap_or_else(|e| e.into_inner());
    let run = run_approving(&[
        "promote", "--all", "--from", "dev", "--to", "tst", "--output", "json",
    ]);
    let output = run.output;
    let progress = run.lines.join("\n");
    assert!(output.status.success(), "{progress}");
    let record: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {progress}"));
    assert_eq!(record["status"], "PROMOTED", "{record}");
    let results = record["results"].as_array().expect("results");
    let promoted: Vec<&str> = results
        .iter()
        .filter(|r| r["outcome"] == "PROMOTED")
        .filter_map(|r| r["stack"].as_str())
        .collect();
    assert_eq!(promoted.len(), 6, "{record}");
    // tst runs dev's templates, and each record names its source.
    for stack in ["vpc", "cluster"] {
        let dev = json(&cli(&[
            "history", stack, "--env", "dev", "--output", "json",
        ]));
        let tst = json(&cli(&[
            "history", stack, "--env", "tst", "--output", "json",
        ]));
        assert_eq!(tst[0]["kind"], "promotion", "{tst}");
        assert_eq!(
            tst[0]["template_sha256"], dev[0]["template_sha256"],
            "{tst}"
        );
        assert_eq!(
            tst[0]["promoted_from"]["deployment_id"],
            dev[0]["deployment_id"]
        );
    }
    let destroyed = cli(&["destroy", "--env", "tst", "--yes"]);
    assert!(destroyed.status.success(), "{}", text(&destroyed));
}
