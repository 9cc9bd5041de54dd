//! The deploy-environment machine on the emulator: waves through the deploy machine, a stack that
//! does not deploy stops the run, later waves are not attempted, and the run record says so.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use infra_agent_core::catalog::Wire;
use infra_agent_core::contract::environment::{EnvironmentRequest, PlannedStack, StackOutcome};
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::naming::{new_execution_name, Env, StackKey};
use infra_agent_core::records::{EnvironmentRun, RunStatus};
use infra_agent_tests::{inbox, unique_stack, vpc_template, Backend, Started};

async fn planned(
    backend: &Backend,
    stack: &StackKey,
    template: &str,
    wires: &[(&str, &StackKey, &str)],
) -> PlannedStack {
    PlannedStack {
        stack: stack.clone(),
        template: backend
            .pipeline
            .templates
            .put_template(
                backend.pipeline.settings.template_bucket().unwrap(),
                stack,
                template,
            )
            .await
            .expect("store template"),
        upstreams: wires.iter().map(|(_, up, _)| (*up).clone()).collect(),
        wiring: wires
            .iter()
            .map(|(parameter, upstream, output)| Wire {
                parameter: parameter.to_string(),
                upstream: (*upstream).clone(),
                output: output.to_string(),
            })
            .collect(),
        skip: None,
    }
}

/// Starts a run of `waves` in dev; returns its request.
async fn start_run(backend: &Backend, waves: Vec<Vec<PlannedStack>>) -> EnvironmentRequest {
    let run_id = new_execution_name(Env::Dev, &"all".parse().unwrap());
    let request = EnvironmentRequest {
        version: CONTRACT_VERSION,
        run_id: run_id.clone(),
        env: Env::Dev,
        requested_by: "e2e-tests".into(),
        iac_version: "1.0.0".into(),
        approval_timeout_seconds: None,
        waves,
    };
    backend
        .sfn
        .start_execution()
        .state_machine_arn(&backend.environment_state_machine_arn)
        .name(&run_id)
        .input(request.machine_input().to_string())
        .send()
        .await
        .expect("start the deploy-environment machine");
    request
}

async fn run_record(backend: &Backend, request: &EnvironmentRequest) -> Option<EnvironmentRun> {
    backend
        .pipeline
        .store
        .environment_run(Env::Dev, &request.run_id)
        .await
        .expect("read run record")
}

/// Waits until the run record satisfies `done`.
async fn wait_for_run(
    backend: &Backend,
    request: &EnvironmentRequest,
    what: &str,
    done: impl Fn(&EnvironmentRun) -> bool,
) -> EnvironmentRun {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let run = run_record(backend, request).await;
        if let Some(run) = run.as_ref().filter(|r| done(r)) {
            return run.clone();
        }
        assert!(
            Instant::now() < deadline,
            "run {} never {what}; last record: {run:?}",
            request.run_id
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn execution_status(backend: &Backend, request: &EnvironmentRequest) -> (String, String) {
    let arn = format!(
        "{}:{}",
        backend
            .environment_state_machine_arn
            .replacen(":stateMachine:", ":execution:", 1),
        request.run_id
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = backend
            .sfn
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
            .expect("describe run execution");
        if out.status.as_str() != "RUNNING" {
            return (
                out.status.as_str().to_string(),
                out.error.unwrap_or_default(),
            );
        }
        assert!(Instant::now() < deadline, "run execution still running");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_stack_stops_the_run_and_later_waves_are_not_attempted() {
    let backend = Backend::connect().await;
    let network = unique_stack("net");
    let groups = unique_stack("groups");
    let waves = vec![
        vec![planned(&backend, &network, &vpc_template(&BTreeMap::new()), &[]).await],
        vec![
            planned(
                &backend,
                &groups,
                &vpc_template(&BTreeMap::new()),
                &[("VpcId", &network, "VpcId")],
            )
            .await,
        ],
    ];
    let request = start_run(&backend, waves).await;

    // The first wave's deployment asks for approval like any other; the approver says no.
    let run = wait_for_run(&backend, &request, "started wave 1", |r| {
        !r.in_flight.is_empty()
    })
    .await;
    assert_eq!(run.status, RunStatus::Running);
    let started = Started {
        deployment_id: run.in_flight[0].deployment_id.clone(),
        execution_arn: String::new(),
        stack: network.clone(),
        env: Env::Dev,
    };
    let message = backend.awaiting_approval(&started).await;
    let refused = inbox::post_form(
        &message.link,
        &[("decision", "reject"), ("approver", "Grace")],
    )
    .await
    .expect("POST rejection");
    assert_eq!(refused.status, 200, "{}", refused.body);

    let run = wait_for_run(&backend, &request, "ended", |r| {
        r.status != RunStatus::Running
    })
    .await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.finished_at.is_some());
    assert!(run.in_flight.is_empty());
    let outcomes: Vec<(&str, &str)> = run
        .results
        .iter()
        .map(|r| (r.stack.as_str(), r.outcome.label()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (network.as_str(), "failed"),
            (groups.as_str(), "not attempted")
        ]
    );
    let StackOutcome::Failed { reason, .. } = &run.results[0].outcome else {
        unreachable!()
    };
    assert!(reason.contains("REJECTED"), "{reason}");
    assert!(reason.contains("Grace"), "{reason}");

    let history = backend
        .pipeline
        .store
        .history(Env::Dev, groups.as_str(), None)
        .await
        .expect("history");
    assert!(history.is_empty(), "the second wave never started");
    assert_eq!(
        execution_status(&backend, &request).await,
        (
            "FAILED".to_string(),
            "EnvironmentDeploymentFailed".to_string()
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stack_whose_upstream_is_missing_is_refused_before_any_deployment() {
    let backend = Backend::connect().await;
    let missing = unique_stack("absent");
    let groups = unique_stack("groups");
    let waves = vec![vec![
        planned(
            &backend,
            &groups,
            &vpc_template(&BTreeMap::new()),
            &[("VpcId", &missing, "VpcId")],
        )
        .await,
    ]];
    let request = start_run(&backend, waves).await;
    let run = wait_for_run(&backend, &request, "ended", |r| {
        r.status != RunStatus::Running
    })
    .await;
    assert_eq!(run.status, RunStatus::Failed);
    let StackOutcome::Refused { reason } = &run.results[0].outcome else {
        panic!("{:?}", run.results);
    };
    assert!(
        reason.contains(&format!("deploy {missing} first")),
        "{reason}"
    );
    let history = backend
        .pipeline
        .store
        .history(Env::Dev, groups.as_str(), None)
        .await
        .expect("history");
    assert!(history.is_empty(), "nothing was started");
    assert_eq!(execution_status(&backend, &request).await.0, "FAILED");
}
