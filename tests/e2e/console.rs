//! Executions started from the Step Functions console with only the stack and environment: the
//! machine expands the input from the catalog `infra-agent install` put in the emulator, and
//! hands it to a deployment of its own.

use std::time::{Duration, Instant};

use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::deploy::templates::sha256_hex;
use infra_agent_core::naming::{parse_deployment_id, Env};
use infra_agent_tests::{inbox, Backend, Started};

async fn run_to_end(backend: &Backend, input: serde_json::Value) -> (String, serde_json::Value) {
    let started = backend
        .sfn
        .start_execution()
        .state_machine_arn(&backend.state_machine_arn)
        // The console names an execution with a fresh UUID unless told otherwise.
        .name(uuid::Uuid::new_v4().to_string())
        .input(input.to_string())
        .send()
        .await
        .expect("start from the console");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = backend
            .sfn
            .describe_execution()
            .execution_arn(&started.execution_arn)
            .send()
            .await
            .expect("describe");
        if out.status.as_str() != "RUNNING" {
            let detail = match out.output {
                Some(output) => serde_json::from_str(&output).unwrap(),
                None => serde_json::json!({ "error": out.error, "cause": out.cause }),
            };
            return (out.status.as_str().to_string(), detail);
        }
        assert!(
            Instant::now() < deadline,
            "the console execution still runs"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stack_and_environment_alone_deploy_the_installed_catalog_template() {
    let backend = Backend::connect().await;

    let (status, handover) = run_to_end(
        &backend,
        serde_json::json!({"stack": "iam-roles", "env": "tst"}),
    )
    .await;

    assert_eq!(status, "SUCCEEDED", "{handover}");
    assert_eq!(handover["requested_by"], "console", "{handover}");
    let deployment_id = handover["execution_name"].as_str().unwrap().to_string();
    let (env, stack) = parse_deployment_id(&deployment_id).expect("named as the CLI names them");
    assert_eq!((env, stack.as_str()), (Env::Tst, "iam-roles"));
    let started = Started {
        deployment_id,
        execution_arn: handover["execution_arn"].as_str().unwrap().to_string(),
        stack,
        env,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let record = loop {
        let record = backend.record(&started).await;
        if let Some(r) = record.filter(|r| {
            matches!(
                r.status,
                DeploymentStatus::AwaitingApproval | DeploymentStatus::NoChanges
            )
        }) {
            break r;
        }
        assert!(Instant::now() < deadline, "the deployment never got far");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let installed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/stacks/iam-roles.yaml"
    ))
    .unwrap();
    assert_eq!(record.template_sha256, sha256_hex(installed.as_bytes()));
    assert_eq!(record.requested_by, "console");

    if record.status == DeploymentStatus::AwaitingApproval {
        let message = backend.approval_message(&started).await;
        let done = inbox::post_form(
            &message.link,
            &[("decision", "reject"), ("approver", "Ada")],
        )
        .await
        .expect("reject");
        assert_eq!(done.status, 200, "{}", done.body);
        backend.wait_for_end(&started).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_stack_from_the_console_is_refused_naming_the_catalogs_stacks() {
    let backend = Backend::connect().await;

    let (status, detail) = run_to_end(
        &backend,
        serde_json::json!({"stack": "databse", "env": "dev"}),
    )
    .await;

    assert_eq!(status, "FAILED", "{detail}");
    let cause = detail["cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("databse") && cause.contains("vpc"),
        "{detail}"
    );
}
