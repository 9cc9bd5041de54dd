//! The environment step: between waves of the deploy-environment machine it judges the wave that
//! ran (from the deployment records), then plans the next one with wiring read from live outputs.

use std::collections::BTreeMap;

use crate::ports::Pipeline;
use infra_agent_core::catalog::{resolve_wiring, OutputsByStack};
use infra_agent_core::contract::deploy::DeployRequest;
use infra_agent_core::contract::environment::{
    AbandonedRun, EnvironmentProgress, EnvironmentRequest, EnvironmentState, InFlight,
    PlannedStack, StackOutcome, StackResult, WaveDeployment, WaveResult,
};
use infra_agent_core::contract::record::{CaughtError, DeploymentStatus};
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::naming::{new_execution_name, stack_name, Env, StackKey};

use crate::ports::Stacks;
use crate::StepError;
use infra_agent_core::clock::now;
use infra_agent_core::records::{DeploymentRecord, EnvironmentRun, RunStatus};

/// Judges the wave that ran, plans the next one, and records the run. Waves whose stacks are all
/// skipped pass without a round trip through the machine.
pub async fn advance(
    pipeline: &Pipeline,
    mut state: EnvironmentState,
) -> Result<EnvironmentState, StepError> {
    let request = &state.request;
    let first_call = state.progress.is_none();
    let mut progress = state.progress.take().unwrap_or_default();
    if first_call {
        check_request(request)?;
    }

    let mut records = BTreeMap::new();
    for flight in &progress.in_flight {
        let record = pipeline
            .store
            .deployment(request.env, flight.stack.as_str(), &flight.deployment_id)
            .await?;
        records.insert(flight.deployment_id.clone(), record);
    }
    judge_wave(&mut progress, &state.wave_results, &records);

    let mut deployments = Vec::new();
    while deployments.is_empty() && !run_is_over(request, &progress) {
        let wave = &request.waves[progress.next_wave];
        let upstreams: Vec<&StackKey> = wave.iter().flat_map(|s| s.upstreams.iter()).collect();
        let outputs = deployed_outputs(pipeline.stacks.as_ref(), request.env, upstreams).await?;
        deployments = plan_wave(request, &mut progress, &outputs, new_execution_name);
    }
    let done = deployments.is_empty();
    let failed = progress.results.iter().any(|r| r.outcome.stops_the_run());
    if done {
        mark_not_attempted(request, &mut progress);
    }

    record_run(pipeline, request, &progress, done, failed, None).await?;

    Ok(EnvironmentState {
        summary: if done {
            summary(&progress)
        } else {
            String::new()
        },
        request: state.request,
        progress: Some(progress),
        wave_results: Vec::new(),
        deployments,
        done,
        failed,
    })
}

/// The machine's Catch path: the run itself broke (not a stack). Records it as failed, keeping
/// every outcome judged so far.
pub async fn abandon(
    pipeline: &Pipeline,
    input: AbandonedRun,
) -> Result<EnvironmentState, StepError> {
    let mut progress = input.progress.unwrap_or_default();
    let reason = input.error.message();
    for flight in std::mem::take(&mut progress.in_flight) {
        progress.results.push(StackResult {
            stack: flight.stack,
            wave: progress.next_wave,
            outcome: StackOutcome::Failed {
                deployment_id: Some(flight.deployment_id),
                reason: format!("not judged: {reason}"),
            },
        });
    }
    mark_not_attempted(&input.request, &mut progress);
    record_run(
        pipeline,
        &input.request,
        &progress,
        true,
        true,
        Some(reason),
    )
    .await?;
    Ok(EnvironmentState {
        summary: summary(&progress),
        request: input.request,
        progress: Some(progress),
        wave_results: Vec::new(),
        deployments: Vec::new(),
        done: true,
        failed: true,
    })
}

fn check_request(request: &EnvironmentRequest) -> Result<(), StepError> {
    if request.version != CONTRACT_VERSION {
        return Err(StepError::invalid_event(
            "environment",
            format!(
                "request version {} is not supported (expected {CONTRACT_VERSION})",
                request.version
            ),
        ));
    }
    if request.waves.iter().all(Vec::is_empty) {
        return Err(StepError::invalid_event(
            "environment",
            "the request has no stacks to deploy",
        ));
    }
    Ok(())
}

fn run_is_over(request: &EnvironmentRequest, progress: &EnvironmentProgress) -> bool {
    progress.next_wave >= request.waves.len()
        || progress.results.iter().any(|r| r.outcome.stops_the_run())
}

/// Turns the in-flight deployments of the wave that ran into outcomes. The deployment record is
/// the truth; the Map's caught error explains an execution that ended without one (e.g. locked).
fn judge_wave(
    progress: &mut EnvironmentProgress,
    wave_results: &[WaveResult],
    records: &BTreeMap<String, Option<DeploymentRecord>>,
) {
    let wave = progress.next_wave;
    for flight in std::mem::take(&mut progress.in_flight) {
        let record = records.get(&flight.deployment_id).and_then(Option::as_ref);
        let caught = wave_results
            .iter()
            .find(|r| r.request.deployment_id == flight.deployment_id)
            .and_then(|r| r.error.as_ref());
        let outcome = match record {
            Some(r)
                if matches!(
                    r.status,
                    DeploymentStatus::Succeeded | DeploymentStatus::NoChanges
                ) =>
            {
                StackOutcome::Deployed {
                    deployment_id: flight.deployment_id.clone(),
                    status: r.status,
                }
            }
            Some(r) => StackOutcome::Failed {
                deployment_id: Some(flight.deployment_id.clone()),
                reason: record_reason(r),
            },
            None => StackOutcome::Failed {
                deployment_id: Some(flight.deployment_id.clone()),
                reason: caught.map_or_else(
                    || "the deployment left no record".to_string(),
                    caught_reason,
                ),
            },
        };
        progress.results.push(StackResult {
            stack: flight.stack,
            wave,
            outcome,
        });
    }
}

/// `StackLocked: held by …`. A child execution's failure comes as its DescribeExecution output:
/// its own error and cause are what matter.
fn caught_reason(caught: &CaughtError) -> String {
    let child = caught
        .cause
        .as_deref()
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|v| {
            let error = v.get("Error")?.as_str()?.to_string();
            let cause = v.get("Cause").and_then(|c| c.as_str()).unwrap_or_default();
            Some(CaughtError {
                error,
                cause: Some(cause.to_string()),
            })
        });
    let caught = child.as_ref().unwrap_or(caught);
    let message = caught.message();
    if message.is_empty() || message == caught.error {
        caught.error.clone()
    } else {
        format!("{}: {message}", caught.error)
    }
}

fn record_reason(record: &DeploymentRecord) -> String {
    let status = record.status.as_str();
    match (&record.failure, record.status) {
        (Some(failure), _) => match &failure.resource {
            Some(resource) => format!("{status}: {resource}: {}", failure.reason),
            None => format!("{status}: {}", failure.reason),
        },
        (None, DeploymentStatus::Rejected) => match &record.approver {
            Some(who) => format!("{status} by {who}"),
            None => status.to_string(),
        },
        (None, DeploymentStatus::Failed) => match &record.validation {
            Some(v) if !v.passed => {
                format!("{status}: validation found {} error(s)", v.errors)
            }
            _ => status.to_string(),
        },
        _ => status.to_string(),
    }
}

/// Plans the wave at `progress.next_wave`: skipped stacks are reported, a stack whose upstream is
/// missing refuses the whole wave (nothing of it starts), the rest get deploy requests with their
/// wired parameters. Advances `next_wave`.
fn plan_wave(
    request: &EnvironmentRequest,
    progress: &mut EnvironmentProgress,
    outputs: &OutputsByStack,
    mut name: impl FnMut(infra_agent_core::naming::Env, &StackKey) -> String,
) -> Vec<WaveDeployment> {
    let index = progress.next_wave;
    let wave_number = index + 1;
    progress.next_wave += 1;
    let Some(wave) = request.waves.get(index) else {
        return Vec::new();
    };
    let mut planned: Vec<(&PlannedStack, BTreeMap<String, String>)> = Vec::new();
    let mut refused = false;
    for stack in wave {
        if let Some(reason) = &stack.skip {
            progress.results.push(StackResult {
                stack: stack.stack.clone(),
                wave: wave_number,
                outcome: StackOutcome::Skipped {
                    reason: reason.clone(),
                },
            });
            continue;
        }
        match resolve_wiring(&stack.stack, &stack.upstreams, &stack.wiring, outputs) {
            Ok(parameters) => planned.push((stack, parameters)),
            Err(missing) => {
                refused = true;
                progress.results.push(StackResult {
                    stack: stack.stack.clone(),
                    wave: wave_number,
                    outcome: StackOutcome::Refused {
                        reason: missing.to_string(),
                    },
                });
            }
        }
    }
    if refused {
        for (stack, _) in planned {
            progress.results.push(StackResult {
                stack: stack.stack.clone(),
                wave: wave_number,
                outcome: StackOutcome::NotAttempted,
            });
        }
        return Vec::new();
    }
    planned
        .into_iter()
        .map(|(stack, parameters)| {
            let deployment_id = name(request.env, &stack.stack);
            progress.in_flight.push(InFlight {
                stack: stack.stack.clone(),
                deployment_id: deployment_id.clone(),
            });
            WaveDeployment {
                request: DeployRequest {
                    promoted_from: None,
                    returns_to: None,
                    kind: Default::default(),
                    version: CONTRACT_VERSION,
                    deployment_id,
                    stack: stack.stack.clone(),
                    env: request.env,
                    template: stack.template.clone(),
                    requested_by: request.requested_by.clone(),
                    iac_version: request.iac_version.clone(),
                    parameters,
                    approval_timeout_seconds: request.approval_timeout_seconds,
                },
            }
        })
        .collect()
}

/// Every stack of the waves not started yet.
fn mark_not_attempted(request: &EnvironmentRequest, progress: &mut EnvironmentProgress) {
    for (index, wave) in request.waves.iter().enumerate().skip(progress.next_wave) {
        for stack in wave {
            progress.results.push(StackResult {
                stack: stack.stack.clone(),
                wave: index + 1,
                outcome: StackOutcome::NotAttempted,
            });
        }
    }
    progress.next_wave = request.waves.len();
}

/// Writes the run's record as it stands now; it keeps the time the run was first recorded.
async fn record_run(
    pipeline: &Pipeline,
    request: &EnvironmentRequest,
    progress: &EnvironmentProgress,
    done: bool,
    failed: bool,
    reason: Option<String>,
) -> Result<(), StepError> {
    let (at, _) = now();
    let started_at = pipeline
        .store
        .environment_run(request.env, &request.run_id)
        .await?
        .map_or_else(|| at.clone(), |existing| existing.started_at);
    let status = match (done, failed) {
        (false, _) => RunStatus::Running,
        (true, false) => RunStatus::Succeeded,
        (true, true) => RunStatus::Failed,
    };
    let run = EnvironmentRun {
        run_id: request.run_id.clone(),
        env: request.env,
        status,
        requested_by: request.requested_by.clone(),
        iac_version: request.iac_version.clone(),
        results: progress.results.clone(),
        in_flight: progress.in_flight.clone(),
        reason,
        started_at,
        updated_at: at.clone(),
        finished_at: done.then_some(at),
    };
    pipeline.store.put_environment_run(&run).await
}

/// One line per stack: `wave 1  vpc  deployed (SUCCEEDED, dev-vpc-…)`.
pub fn summary(progress: &EnvironmentProgress) -> String {
    progress
        .results
        .iter()
        .map(|r| format!("wave {}  {}  {}", r.wave, r.stack, describe(&r.outcome)))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn describe(outcome: &StackOutcome) -> String {
    match outcome {
        StackOutcome::Deployed {
            deployment_id,
            status,
        } => format!("deployed ({}, {deployment_id})", status.as_str()),
        StackOutcome::Failed {
            deployment_id,
            reason,
        } => match deployment_id {
            Some(id) => format!("failed ({id}): {reason}"),
            None => format!("failed: {reason}"),
        },
        StackOutcome::Refused { reason } => format!("refused: {reason}"),
        StackOutcome::Skipped { reason } => format!("skipped: {reason}"),
        StackOutcome::NotAttempted => "not attempted".to_string(),
    }
}

/// Outputs of those of `stacks` deployed in `env`; a stack that is not deployed has no entry.
pub async fn deployed_outputs<'a>(
    stacks: &dyn Stacks,
    env: Env,
    wanted: impl IntoIterator<Item = &'a StackKey>,
) -> Result<OutputsByStack, StepError> {
    let mut outputs = OutputsByStack::new();
    for stack in wanted {
        if outputs.contains_key(stack) {
            continue;
        }
        let name = stack_name(env, stack);
        let deployed = stacks
            .describe_stack(&name)
            .await?
            .is_some_and(|s| s.status.is_deployed());
        if deployed {
            outputs.insert(stack.clone(), stacks.stack_outputs(&name).await?);
        }
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_agent_core::catalog::Wire;
    use infra_agent_core::contract::deploy::TemplateRef;
    use infra_agent_core::naming::Env;

    fn key(s: &str) -> StackKey {
        s.parse().unwrap()
    }

    fn planned(stack: &str, wires: &[(&str, &str, &str)]) -> PlannedStack {
        PlannedStack {
            stack: key(stack),
            template: TemplateRef {
                bucket: "b".into(),
                key: format!("templates/{stack}/x.yaml"),
                sha256: "x".into(),
            },
            upstreams: wires.iter().map(|(_, up, _)| key(up)).collect(),
            wiring: wires
                .iter()
                .map(|(parameter, upstream, output)| Wire {
                    parameter: parameter.to_string(),
                    upstream: key(upstream),
                    output: output.to_string(),
                })
                .collect(),
            skip: None,
        }
    }

    fn request(waves: Vec<Vec<PlannedStack>>) -> EnvironmentRequest {
        EnvironmentRequest {
            version: CONTRACT_VERSION,
            run_id: "dev-all-20261127T120000-abcd1234".into(),
            env: Env::Dev,
            requested_by: "ada".into(),
            iac_version: "1.0.0".into(),
            approval_timeout_seconds: None,
            waves,
        }
    }

    fn platform() -> EnvironmentRequest {
        request(vec![
            vec![planned("iam-roles", &[]), planned("vpc", &[])],
            vec![planned("security-groups", &[("VpcId", "vpc", "VpcId")])],
            vec![planned(
                "cluster",
                &[
                    ("ClusterRoleArn", "iam-roles", "ClusterRoleArn"),
                    ("ClusterSecurityGroupId", "security-groups", "GroupId"),
                ],
            )],
        ])
    }

    fn naming(env: Env, stack: &StackKey) -> String {
        format!("{env}-{stack}-20261127T120000-00000001")
    }

    fn record(id: &str, stack: &str, status: DeploymentStatus) -> DeploymentRecord {
        DeploymentRecord {
            promoted_from: None,
            verification: None,
            returns_to: None,
            kind: Default::default(),
            deployment_id: id.into(),
            env: Env::Dev,
            stack: key(stack),
            stack_name: format!("infra-agent-dev-{stack}"),
            status,
            requested_by: "ada".into(),
            iac_version: "1.0.0".into(),
            template_bucket: "b".into(),
            template_key: "k".into(),
            template_sha256: "x".into(),
            parameters: BTreeMap::new(),
            change_set_name: None,
            change_set_arn: None,
            change_summary: None,
            validation: None,
            cost: None,
            approval_id: None,
            approver: Some("grace".into()),
            stack_status: None,
            failure: None,
            started_at: "t".into(),
            updated_at: "t".into(),
            finished_at: None,
        }
    }

    fn outputs(entries: &[(&str, &[(&str, &str)])]) -> OutputsByStack {
        entries
            .iter()
            .map(|(stack, outs)| {
                (
                    key(stack),
                    outs.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn first_wave_starts_every_stack_of_the_wave_at_once() {
        let request = platform();
        let mut progress = EnvironmentProgress::default();
        let wave = plan_wave(&request, &mut progress, &OutputsByStack::new(), naming);
        let stacks: Vec<&str> = wave.iter().map(|d| d.request.stack.as_str()).collect();
        assert_eq!(stacks, ["iam-roles", "vpc"]);
        assert_eq!(progress.next_wave, 1);
        assert_eq!(progress.in_flight.len(), 2);
        assert_eq!(wave[1].request.deployment_id, naming(Env::Dev, &key("vpc")));
        assert_eq!(wave[1].request.requested_by, "ada");
    }

    #[test]
    fn wired_outputs_reach_the_downstream_request() {
        let request = platform();
        let mut progress = EnvironmentProgress {
            next_wave: 1,
            ..Default::default()
        };
        let live = outputs(&[("vpc", &[("VpcId", "vpc-0abc")])]);
        let wave = plan_wave(&request, &mut progress, &live, naming);
        assert_eq!(wave.len(), 1);
        assert_eq!(wave[0].request.parameters["VpcId"], "vpc-0abc");
    }

    #[test]
    fn missing_upstream_refuses_the_wave_before_anything_starts() {
        let request = platform();
        let mut progress = EnvironmentProgress {
            next_wave: 2,
            ..Default::default()
        };
        // security-groups is not deployed.
        let live = outputs(&[("iam-roles", &[("ClusterRoleArn", "arn:role")])]);
        let wave = plan_wave(&request, &mut progress, &live, naming);
        assert!(wave.is_empty());
        assert!(progress.in_flight.is_empty());
        let StackOutcome::Refused { reason } = &progress.results[0].outcome else {
            panic!("{:?}", progress.results);
        };
        assert!(reason.contains("deploy security-groups first"), "{reason}");
    }

    #[test]
    fn failed_stack_stops_the_run_and_later_waves_are_not_attempted() {
        let request = platform();
        let mut progress = EnvironmentProgress::default();
        plan_wave(&request, &mut progress, &OutputsByStack::new(), naming);
        let roles = naming(Env::Dev, &key("iam-roles"));
        let vpc = naming(Env::Dev, &key("vpc"));
        let mut failed = record(&vpc, "vpc", DeploymentStatus::Failed);
        failed.failure = Some(infra_agent_core::contract::execute::StackFailure {
            resource: Some("PublicSubnet1".into()),
            resource_type: Some("AWS::EC2::Subnet".into()),
            reason: "CIDR outside the VPC".into(),
            rollback_status: None,
            recommendation: None,
        });
        let records = BTreeMap::from([
            (
                roles.clone(),
                Some(record(&roles, "iam-roles", DeploymentStatus::Succeeded)),
            ),
            (vpc.clone(), Some(failed)),
        ]);
        judge_wave(&mut progress, &[], &records);
        assert!(run_is_over(&request, &progress));
        mark_not_attempted(&request, &mut progress);

        let outcomes: Vec<(&str, &str)> = progress
            .results
            .iter()
            .map(|r| (r.stack.as_str(), r.outcome.label()))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("iam-roles", "deployed"),
                ("vpc", "failed"),
                ("security-groups", "not attempted"),
                ("cluster", "not attempted"),
            ]
        );
        let text = summary(&progress);
        assert!(
            text.contains("PublicSubnet1: CIDR outside the VPC"),
            "{text}"
        );
    }

    #[test]
    fn execution_without_a_record_is_judged_by_the_caught_error() {
        let request = platform();
        let mut progress = EnvironmentProgress::default();
        let wave = plan_wave(&request, &mut progress, &OutputsByStack::new(), naming);
        let results: Vec<WaveResult> = wave
            .iter()
            .map(|d| WaveResult {
                request: d.request.clone(),
                execution: None,
                error: Some(CaughtError {
                    error: "StackLocked".into(),
                    cause: Some("held by dev-vpc-1".into()),
                }),
            })
            .collect();
        judge_wave(&mut progress, &results, &BTreeMap::new());
        let StackOutcome::Failed { reason, .. } = &progress.results[0].outcome else {
            panic!("{:?}", progress.results);
        };
        assert!(reason.contains("StackLocked"), "{reason}");
    }

    #[test]
    fn rejected_deployment_names_its_approver() {
        let request = platform();
        let mut progress = EnvironmentProgress::default();
        plan_wave(&request, &mut progress, &OutputsByStack::new(), naming);
        let records: BTreeMap<_, _> = progress
            .in_flight
            .iter()
            .map(|f| {
                (
                    f.deployment_id.clone(),
                    Some(record(
                        &f.deployment_id,
                        f.stack.as_str(),
                        DeploymentStatus::Rejected,
                    )),
                )
            })
            .collect();
        judge_wave(&mut progress, &[], &records);
        assert_eq!(
            describe(&progress.results[0].outcome),
            format!(
                "failed ({}): REJECTED by grace",
                naming(Env::Dev, &key("iam-roles"))
            )
        );
    }

    #[test]
    fn skipped_stacks_are_reported_and_do_not_stop_the_run() {
        let mut services = planned("k8s-services", &[]);
        services.skip = Some("registry type the emulator lacks".into());
        // A wave after the skipped one, so the run is not over merely for want of waves.
        let request = request(vec![
            vec![planned("vpc", &[])],
            vec![services],
            vec![planned("security-groups", &[("VpcId", "vpc", "VpcId")])],
        ]);
        let mut progress = EnvironmentProgress {
            next_wave: 1,
            ..Default::default()
        };
        let wave = plan_wave(&request, &mut progress, &OutputsByStack::new(), naming);
        assert!(wave.is_empty(), "a skipped stack starts nothing");
        assert_eq!(progress.next_wave, 2);
        assert!(
            !run_is_over(&request, &progress),
            "the wave after the skipped one still runs: {:?}",
            progress.results
        );
        assert_eq!(progress.results.len(), 1, "{:?}", progress.results);
        let StackOutcome::Skipped { reason } = &progress.results[0].outcome else {
            panic!("{:?}", progress.results);
        };
        assert_eq!(reason, "registry type the emulator lacks");
        assert_eq!(progress.results[0].stack.as_str(), "k8s-services");
    }

    /// `advance` passes a wave of skipped stacks without a round trip through the machine: the
    /// wave after it is planned in the same call.
    #[tokio::test]
    async fn a_wave_of_skipped_stacks_passes_on_to_the_next_wave_in_one_call() {
        use crate::ports::Deployments;

        let fakes = crate::fakes::Fakes::new();
        let pipeline = fakes.pipeline();
        fakes.stacks.put_stack(
            "infra-agent-dev-vpc",
            infra_agent_core::stack::StackStatus::CreateComplete,
            &[("VpcId", "vpc-0abc")],
        );
        let mut services = planned("k8s-services", &[]);
        services.skip = Some("registry type the emulator lacks".into());
        let vpc = naming(Env::Dev, &key("vpc"));
        fakes
            .store
            .put_deployment(&record(&vpc, "vpc", DeploymentStatus::Succeeded))
            .await
            .unwrap();
        let state = EnvironmentState {
            request: request(vec![
                vec![planned("vpc", &[])],
                vec![services],
                vec![planned("security-groups", &[("VpcId", "vpc", "VpcId")])],
            ]),
            progress: Some(EnvironmentProgress {
                next_wave: 1,
                in_flight: vec![InFlight {
                    stack: key("vpc"),
                    deployment_id: vpc.clone(),
                }],
                ..Default::default()
            }),
            wave_results: Vec::new(),
            deployments: Vec::new(),
            done: false,
            failed: false,
            summary: String::new(),
        };

        let next = advance(&pipeline, state).await.expect("advance");

        assert!(!next.done && !next.failed, "{}", next.summary);
        let stacks: Vec<&str> = next
            .deployments
            .iter()
            .map(|d| d.request.stack.as_str())
            .collect();
        assert_eq!(stacks, ["security-groups"]);
        assert_eq!(next.deployments[0].request.parameters["VpcId"], "vpc-0abc");
        let progress = next.progress.expect("progress");
        let outcomes: Vec<(&str, &str)> = progress
            .results
            .iter()
            .map(|r| (r.stack.as_str(), r.outcome.label()))
            .collect();
        assert_eq!(outcomes, [("vpc", "deployed"), ("k8s-services", "skipped")]);
        assert_eq!(progress.next_wave, 3);
    }

    #[test]
    fn requests_of_another_contract_version_are_refused() {
        let mut request = platform();
        request.version = 99;
        let err = check_request(&request).unwrap_err();
        assert!(err.to_string().contains("version 99"), "{err}");
        assert!(check_request(&request_empty()).is_err());
    }

    fn request_empty() -> EnvironmentRequest {
        request(vec![vec![]])
    }
}
