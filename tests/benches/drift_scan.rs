//! What a drift scan costs and how it grows: small stacks (one log group each, its deployment
//! recorded as the pipeline records it) are created on the local backend, a few drifted by hand,
//! then scanned through the drift-scan machine at two sizes. Printed per size: wall time, stacks
//! per minute, state transitions and their Step Functions price, Lambda invocations, and how many
//! stacks failed to check (throttling would show there). Time per stack at both sizes shows
//! whether the scan grows linearly.
//!
//!     scripts/local-backend start && set -a && . .local/env && set +a
//!     cargo bench -p infra-agent-tests --bench drift_scan [-- SMALL LARGE]

use std::time::Instant;

use infra_agent_core::contract::deploy::DeployRequest;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::naming::{new_execution_name, stack_name, Env, StackKey};
use infra_agent_core::records::DeploymentRecord;
use infra_agent_tests::{log_group_template, unique_stack, Backend};

/// us-east-1 list price of a standard workflow's state transition.
const SFN_PER_TRANSITION: f64 = 0.025 / 1_000.0;
/// Stacks created at once.
const CREATE_CONCURRENCY: usize = 16;
/// One stack in this many is drifted by hand before the scans.
const DRIFT_EVERY: usize = 20;

fn parameters() -> std::collections::BTreeMap<String, String> {
    [
        ("Environment", "dev"),
        ("Owner", "platform-team"),
        ("SecurityLevel", "internal"),
        ("IaCVersion", "1.0.0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Creates the stack and records its deployment, as a deploy execution would have.
async fn deployed(backend: &Backend, stack: &StackKey, record: &DeploymentRecord) {
    let name = stack_name(Env::Dev, stack);
    let mut create = backend
        .cfn
        .create_stack()
        .stack_name(&name)
        .template_body(log_group_template(365, true));
    for (key, value) in parameters() {
        create = create.parameters(
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key(key)
                .parameter_value(value)
                .build(),
        );
    }
    create.send().await.expect("create a small stack");
    let mut record = record.clone();
    record.stack = stack.clone();
    record.stack_name = name;
    record.deployment_id = new_execution_name(Env::Dev, stack);
    backend
        .pipeline
        .store
        .put_deployment(&record)
        .await
        .expect("record its deployment");
}

struct Figures {
    seconds: f64,
    transitions: usize,
    invocations: usize,
    drifted: u64,
    failed: u64,
}

async fn scan(backend: &Backend, stacks: &[StackKey]) -> Figures {
    let input = serde_json::json!({ "env": "dev", "stacks": stacks, "requested_by": "bench" });
    let clock = Instant::now();
    let (scan_id, status, output) = backend.scan(&input).await;
    let seconds = clock.elapsed().as_secs_f64();
    assert_eq!(status, "SUCCEEDED", "{scan_id}: {output}");
    let arn = backend
        .drift_state_machine_arn
        .replacen(":stateMachine:", ":execution:", 1)
        + ":"
        + &scan_id;
    let mut pages = backend
        .sfn
        .get_execution_history()
        .execution_arn(arn)
        .max_results(1000)
        .into_paginator()
        .send();
    let (mut transitions, mut invocations) = (0, 0);
    while let Some(page) = pages.next().await {
        for event in page.expect("execution history").events() {
            let kind = event.r#type().as_str();
            if kind.ends_with("StateEntered") {
                transitions += 1;
            }
            if kind == "LambdaFunctionScheduled" || kind == "TaskScheduled" {
                invocations += 1;
            }
        }
    }
    Figures {
        seconds,
        transitions,
        invocations,
        drifted: output["drifted"].as_u64().unwrap_or(0),
        failed: output["failed"].as_u64().unwrap_or(0),
    }
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (small, large) = match sizes.as_slice() {
        [s, l, ..] => (*s, *l),
        _ => (50, 200),
    };
    let backend = Backend::connect().await;
    let prefix = unique_stack("bench");
    let stacks: Vec<StackKey> = (0..large)
        .map(|i| format!("{prefix}-{i}").parse().expect("a stack key"))
        .collect();
    let template = backend
        .pipeline
        .templates
        .put_template(
            backend.pipeline.settings.template_bucket().expect("bucket"),
            &stacks[0],
            &log_group_template(365, true),
        )
        .await
        .expect("store the template");
    let request = DeployRequest {
        promoted_from: None,
        returns_to: None,
        kind: Default::default(),
        version: CONTRACT_VERSION,
        deployment_id: String::new(),
        stack: stacks[0].clone(),
        env: Env::Dev,
        template,
        requested_by: "bench".into(),
        iac_version: "1.0.0".into(),
        approval_timeout_seconds: None,
        parameters: Default::default(),
    };
    let mut record =
        infra_agent_pipeline::steps::begin::new_record(&request, "2026-01-01T00:00:00Z");
    record.status = DeploymentStatus::Succeeded;
    record.stack_status = Some("CREATE_COMPLETE".into());
    record.parameters = parameters();

    let clock = Instant::now();
    for chunk in stacks.chunks(CREATE_CONCURRENCY) {
        futures_util::future::join_all(chunk.iter().map(|s| deployed(&backend, s, &record))).await;
    }
    eprintln!(
        "created {large} stacks in {:.1} s",
        clock.elapsed().as_secs_f64()
    );
    let drifted: Vec<String> = stacks
        .iter()
        .step_by(DRIFT_EVERY)
        .map(|s| stack_name(Env::Dev, s))
        .collect();
    backend.by_hand(
        "logs = boto3.client('logs', region_name='us-east-1')\nfor stack in sys.argv[1:]:\n    group = next(r['PhysicalResourceId'] for r in cfn.list_stack_resources(StackName=stack)['StackResourceSummaries'] if r['LogicalResourceId'] == 'Logs')\n    logs.put_retention_policy(logGroupName=group, retentionInDays=1)",
        &drifted.iter().map(String::as_str).collect::<Vec<_>>(),
    );

    println!("Drift scans of small stacks on the local backend (one log group each; 1 in {DRIFT_EVERY} drifted):");
    println!();
    println!("  stacks   wall s   stacks/min   s/stack   transitions   invocations   SFN $/scan   drifted   failed");
    for size in [small, large] {
        let f = scan(&backend, &stacks[..size]).await;
        println!(
            "  {size:>6}   {:>6.1}   {:>10.1}   {:>7.3}   {:>11}   {:>11}   {:>10.5}   {:>7}   {:>6}",
            f.seconds,
            size as f64 / f.seconds * 60.0,
            f.seconds / size as f64,
            f.transitions,
            f.invocations,
            f.transitions as f64 * SFN_PER_TRANSITION,
            f.drifted,
            f.failed,
        );
    }
    println!();
    println!(
        "  (wall time on the emulator, whose detection completes on the second poll; AWS takes"
    );
    println!(
        "   seconds to minutes per stack. Transitions and invocations are what AWS would bill.)"
    );
}
