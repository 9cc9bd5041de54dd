//! `deploy` and `wait`: store the template, start the deploy state machine under a named
//! execution, and show its progress state by state.

use infra_agent_pipeline::ports::{Approvals, Deployments, Runs};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use infra_agent_core::catalog::Catalog;
use infra_agent_core::contract::deploy::{DeployRequest, DeploymentKind};
use infra_agent_core::contract::environment::{EnvironmentRequest, PlannedStack};
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::{new_execution_name, parse_deployment_id, Env, StackKey};
use infra_agent_core::records::DeploymentRecord;
use infra_agent_core::records::{EnvironmentRun, RunStatus};
use infra_agent_pipeline::ports::TemplateStore;
use infra_agent_pipeline::steps::environment::deployed_outputs;
use infra_agent_pipeline::steps::environment::describe;
use serde::Serialize;

use crate::backend::Backend;

/// The stack part of an environment run's id: `{env}-all-{timestamp}-{id}`.
const ENVIRONMENT_RUN: &str = "all";
use crate::output::{eprint_line, print_json, print_line, Format};

#[derive(clap::Args)]
pub struct DeployArgs {
    /// Stack of the catalog, e.g. `vpc`.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    stack: Option<String>,
    /// Deploy every stack of the catalog, wave by wave, stopping at the first failure.
    #[arg(long)]
    all: bool,
    /// Target environment: dev, tst or prd.
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
    /// Template file (default: the catalog's, or infra/stacks/<stack>.yaml).
    #[arg(long, conflicts_with = "all")]
    template: Option<PathBuf>,
    /// Keep following after the approval request until the deployment ends.
    #[arg(long)]
    wait: bool,
    /// Version of the infrastructure code for the IaC_Version tag (default: git commit).
    #[arg(long)]
    iac_version: Option<String>,
    /// Approval window in seconds, if shorter than the environment's.
    #[arg(long)]
    approval_timeout: Option<u32>,
    /// The stack catalog.
    #[arg(long, default_value = "infra/catalog.toml")]
    catalog: PathBuf,
}

#[derive(clap::Args)]
pub struct WaitArgs {
    /// Deployment id (the execution name printed by `deploy`).
    deployment_id: String,
}

/// What `deploy` and `wait` report.
#[derive(Serialize)]
struct DeploymentView<'a> {
    deployment_id: &'a str,
    kind: DeploymentKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    returns_to: Option<&'a str>,
    status: DeploymentStatus,
    stack_name: &'a str,
    stack_status: Option<&'a str>,
    change_set: Option<&'a str>,
    approval_id: Option<&'a str>,
    approver: Option<&'a str>,
    failure: Option<&'a infra_agent_core::contract::execute::StackFailure>,
    execution_arn: &'a str,
}

pub async fn deploy(
    backend: &Backend,
    args: DeployArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    if args.all {
        return deploy_all(backend, &args, format).await;
    }
    let stack: StackKey = args.stack.as_deref().unwrap_or_default().parse()?;
    let catalog = load_catalog(&args.catalog);
    // A catalog stack gets its wired parameters; its upstreams must be deployed first.
    let (path, parameters) = match catalog
        .as_ref()
        .ok()
        .and_then(|c| c.stack(&stack).map(|s| (c, s)))
    {
        Some((catalog, entry)) => (
            args.template
                .clone()
                .unwrap_or_else(|| entry.template.clone()),
            wired_parameters(backend, catalog, args.env, &stack).await?,
        ),
        None => {
            if let (Err(e), None) = (&catalog, &args.template) {
                eprint_line(format!("note: no wiring from the catalog ({e})"));
            }
            (
                args.template
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(format!("infra/stacks/{stack}.yaml"))),
                BTreeMap::new(),
            )
        }
    };
    let started = start(backend, &args, &stack, &path, parameters).await?;
    follow(backend, &started.0, &started.1, !args.wait, format).await
}

/// Stores the template and starts the named deploy execution; returns (execution ARN, id).
async fn start(
    backend: &Backend,
    args: &DeployArgs,
    stack: &StackKey,
    path: &Path,
    parameters: BTreeMap<String, String>,
) -> anyhow::Result<(String, String)> {
    let body = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read template {}", path.display()))?;
    let template = backend
        .templates
        .put_template(&backend.template_bucket, stack, &body)
        .await?;
    let deployment_id = new_execution_name(args.env, stack);
    let request = DeployRequest {
        promoted_from: None,
        returns_to: None,
        kind: Default::default(),
        version: CONTRACT_VERSION,
        deployment_id: deployment_id.clone(),
        stack: stack.clone(),
        env: args.env,
        template,
        requested_by: backend.caller().await?,
        iac_version: args.iac_version.clone().unwrap_or_else(iac_version),
        approval_timeout_seconds: args.approval_timeout,
        parameters,
    };
    let execution_arn = start_deployment(backend, &request).await?;
    Ok((execution_arn, deployment_id))
}

/// Starts the deploy machine on `request`, in an execution named by its deployment id; returns
/// the execution's ARN.
pub(crate) async fn start_deployment(
    backend: &Backend,
    request: &DeployRequest,
) -> anyhow::Result<String> {
    let started = backend
        .sfn
        .start_execution()
        .state_machine_arn(&backend.state_machine_arn)
        .name(&request.deployment_id)
        .input(request.machine_input().to_string())
        .send()
        .await
        .context("could not start the deploy state machine")?;
    eprint_line(format!(
        "{} {} started: {} to {} (template {})",
        request.kind.label(),
        request.deployment_id,
        request.stack,
        request.env,
        &request.template.sha256[..12]
    ));
    Ok(started.execution_arn)
}

pub fn load_catalog(path: &Path) -> anyhow::Result<Catalog> {
    let templates = path
        .parent()
        .map(|dir| dir.join("stacks"))
        .unwrap_or_else(|| PathBuf::from("infra/stacks"));
    Catalog::load(path, &templates).map_err(|e| anyhow::anyhow!(e))
}

/// The stack's wired parameter values from its deployed upstreams' outputs; refuses with
/// "deploy <upstream> first" before anything is changed.
pub(crate) async fn wired_parameters(
    backend: &Backend,
    catalog: &Catalog,
    env: Env,
    stack: &StackKey,
) -> anyhow::Result<BTreeMap<String, String>> {
    let outputs = deployed_outputs(&backend.stacks, env, catalog.upstream(stack).iter()).await?;
    catalog
        .resolve_parameters(stack, &outputs)
        .map_err(|e| anyhow::anyhow!("{stack} in {env}: {e}"))
}

/// `deploy --all`: starts the deploy-environment state machine on the catalog's waves (templates
/// stored first) and follows it: each stack's deployment as it waits for approval and ends, then
/// what was deployed, what failed and what was not attempted.
async fn deploy_all(
    backend: &Backend,
    args: &DeployArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(&args.catalog)?;
    let config = EnvironmentConfig::builtin(args.env)?;
    catalog
        .check_environment(&config)
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut waves = Vec::new();
    for wave in catalog.waves() {
        let mut planned = Vec::new();
        for key in wave {
            let Some(entry) = catalog.stack(key) else {
                continue;
            };
            let body = std::fs::read_to_string(&entry.template)
                .with_context(|| format!("cannot read template {}", entry.template.display()))?;
            let skip = entry
                .skip_on_emulator
                .as_ref()
                .filter(|_| backend.is_emulator)
                .map(|reason| format!("not deployable on the local emulator: {reason}"));
            planned.push(PlannedStack {
                stack: key.clone(),
                template: backend
                    .templates
                    .put_template(&backend.template_bucket, key, &body)
                    .await?,
                upstreams: entry.upstreams().cloned().collect(),
                wiring: entry.wiring.clone(),
                skip,
            });
        }
        waves.push(planned);
    }
    let run_id = new_execution_name(args.env, &ENVIRONMENT_RUN.parse()?);
    let request = EnvironmentRequest {
        version: CONTRACT_VERSION,
        run_id: run_id.clone(),
        env: args.env,
        requested_by: backend.caller().await?,
        iac_version: args.iac_version.clone().unwrap_or_else(iac_version),
        approval_timeout_seconds: args.approval_timeout,
        waves,
    };
    let started = backend
        .sfn
        .start_execution()
        .state_machine_arn(&backend.environment_state_machine_arn)
        .name(&run_id)
        .input(request.machine_input().to_string())
        .send()
        .await
        .context("could not start the deploy-environment state machine")?;
    for (number, wave) in request.waves.iter().enumerate() {
        let names: Vec<&str> = wave.iter().map(|s| s.stack.as_str()).collect();
        eprint_line(format!("Wave {}: {}", number + 1, names.join(", ")));
    }
    eprint_line(format!(
        "Environment run {run_id} started: {} to {}",
        request.iac_version, args.env
    ));
    follow_run(backend, &started.execution_arn, &request, format).await
}

/// Prints each deployment of the run as it changes (waiting for approval, ended) until the run
/// ends, then its outcome per stack.
async fn follow_run(
    backend: &Backend,
    execution_arn: &str,
    request: &EnvironmentRequest,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let env = request.env;
    let mut seen: BTreeMap<String, DeploymentStatus> = BTreeMap::new();
    let mut judged = 0usize;
    loop {
        let execution = backend
            .sfn
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .with_context(|| format!("could not read run {}", request.run_id))?;
        let run = backend.store.environment_run(env, &request.run_id).await?;
        if let Some(run) = &run {
            for result in run.results.iter().skip(judged) {
                eprint_line(format!("  {}: {}", result.stack, describe(&result.outcome)));
            }
            judged = judged.max(run.results.len());
            for flight in &run.in_flight {
                let record = backend
                    .store
                    .deployment(env, flight.stack.as_str(), &flight.deployment_id)
                    .await?;
                let Some(record) = record else { continue };
                if seen.get(&flight.deployment_id) == Some(&record.status) {
                    continue;
                }
                seen.insert(flight.deployment_id.clone(), record.status);
                match (record.status, record.approval_id.as_deref()) {
                    (DeploymentStatus::AwaitingApproval, Some(approval)) => eprint_line(format!(
                        "  … {} ({}) waits for approval {approval}: `infra-agent approve {approval}` or the link in the approval message",
                        flight.stack, flight.deployment_id
                    )),
                    (status, _) => eprint_line(format!("  → {} {}", flight.stack, status.as_str())),
                }
            }
        }
        let running = execution.status.as_str() == "RUNNING";
        let finished = run.as_ref().is_some_and(|r| r.status != RunStatus::Running);
        if !running && (finished || run.is_none()) {
            return show_run(run.as_ref(), execution.status.as_str(), request, format);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn show_run(
    run: Option<&EnvironmentRun>,
    execution_status: &str,
    request: &EnvironmentRequest,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let Some(run) = run else {
        anyhow::bail!(
            "run {} ended {execution_status} without a run record",
            request.run_id
        );
    };
    if format == Format::Json {
        print_json(run)?;
    } else {
        println!();
        print_line(format!(
            "Environment run {}: {}",
            run.run_id,
            run.status.as_str()
        ));
        let rows: Vec<Vec<String>> = run
            .results
            .iter()
            .map(|r| {
                vec![
                    r.wave.to_string(),
                    r.stack.to_string(),
                    describe(&r.outcome),
                ]
            })
            .collect();
        crate::output::print_table(&["Wave", "Stack", "Result"], &rows);
        if let Some(reason) = &run.reason {
            print_line(format!("Stopped: {reason}"));
        }
    }
    Ok(if run.status == RunStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn wait(backend: &Backend, args: WaitArgs, format: Format) -> anyhow::Result<ExitCode> {
    parse_deployment_id(&args.deployment_id)?;
    let arn = execution_arn(&backend.state_machine_arn, &args.deployment_id);
    follow_from(backend, &arn, &args.deployment_id, false, false, format).await
}

/// `arn:…:stateMachine:NAME` → `arn:…:execution:NAME:ID`
fn execution_arn(state_machine_arn: &str, deployment_id: &str) -> String {
    format!(
        "{}:{deployment_id}",
        state_machine_arn.replacen(":stateMachine:", ":execution:", 1)
    )
}

/// Prints each state as the execution enters it; returns when it ends, or — when
/// `stop_at_approval` — once it waits for a human decision.
pub(crate) async fn follow(
    backend: &Backend,
    execution_arn: &str,
    deployment_id: &str,
    stop_at_approval: bool,
    format: Format,
) -> anyhow::Result<ExitCode> {
    follow_from(
        backend,
        execution_arn,
        deployment_id,
        stop_at_approval,
        true,
        format,
    )
    .await
}

/// States of the change set's execution.
const EXECUTING_STATES: [&str; 4] = [
    "Execute change set",
    "Stack finished?",
    "Wait for stack",
    "Check stack status",
];

/// Follows the execution: each state once, as it is entered, with the time since the execution
/// started; CloudFormation's resource events while the change set executes, with a running count;
/// the approval's instructions once, while it is still pending. `from_start` false (`wait`) sums
/// up the states already passed in one line instead of listing them again.
async fn follow_from(
    backend: &Backend,
    execution_arn: &str,
    deployment_id: &str,
    stop_at_approval: bool,
    from_start: bool,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let (env, stack) = parse_deployment_id(deployment_id)?;
    let mut shown = 0usize;
    let mut announced = false;
    let mut first = true;
    let mut resource_events = std::collections::BTreeSet::new();
    let mut spinner = crate::output::Spinner::new();
    let mut since = (String::new(), std::time::Instant::now());
    loop {
        let events = state_entries(backend, execution_arn).await?;
        if first && !from_start {
            if let Some((name, at)) = events.last() {
                eprint_line(format!(
                    "  … {} states passed; now in {name} (+{at:.0}s)",
                    events.len()
                ));
                shown = events.len();
            }
        }
        first = false;
        let record = backend
            .store
            .deployment(env, stack.as_str(), deployment_id)
            .await?;
        // One read of the stack's events per poll at most.
        let mut streamed = false;
        for (name, at) in events.iter().skip(shown) {
            eprint_line(format!("  → {name} (+{at:.1}s)"));
            // The resources right under the state that executes them.
            if let (true, Some(record)) = (EXECUTING_STATES[0] == name, &record) {
                stream_resource_events(backend, record, &mut resource_events).await?;
                streamed = true;
            }
        }
        shown = shown.max(events.len());
        let execution = backend
            .sfn
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .with_context(|| format!("could not read execution {deployment_id}"))?;
        let running = execution.status.as_str() == "RUNNING";
        let awaiting = record
            .as_ref()
            .is_some_and(|r| r.status == DeploymentStatus::AwaitingApproval);
        // From the change set's execution on, its events are streamed (the last time right
        // before the outcome, so a fast operation still shows every resource).
        let executing = events
            .iter()
            .any(|(name, _)| EXECUTING_STATES.contains(&name.as_str()));
        if let (true, false, Some(record)) = (executing, streamed, &record) {
            stream_resource_events(backend, record, &mut resource_events).await?;
        }
        // Announced only while the approval is still pending: once decided, the record may say
        // "awaiting" a moment longer, but nobody needs to act.
        let pending = match record.as_ref().and_then(|r| r.approval_id.as_deref()) {
            Some(id) if awaiting && !announced => backend
                .store
                .approval(id)
                .await?
                .is_some_and(|a| a.status == infra_agent_core::records::ApprovalStatus::Pending),
            _ => awaiting,
        };
        if awaiting && pending && !executing && !stop_at_approval && !announced {
            let id = record
                .as_ref()
                .and_then(|r| r.approval_id.as_deref())
                .unwrap_or("?");
            eprint_line(format!("  … {deployment_id} waits for approval {id}: `infra-agent approve {id}` or the link in the approval message"));
            announced = true;
        }
        if !running || (stop_at_approval && awaiting) {
            let Some(record) = record else {
                anyhow::bail!(
                    "execution {deployment_id} ended {} without a deployment record",
                    execution.status.as_str()
                );
            };
            // The execution ended but its record is open: the record step may still be writing
            // it, or never will (the execution was stopped, timed out, or its host died).
            let record = if !running && !record.status.is_final() {
                settled_record(backend, record, deployment_id).await?
            } else {
                record
            };
            spinner.clear();
            show(&record, execution_arn, format)?;
            return Ok(match record.status {
                DeploymentStatus::Succeeded
                | DeploymentStatus::NoChanges
                | DeploymentStatus::AwaitingApproval => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            });
        }
        // While nothing new happens: which state it is in, and for how long.
        let current = events
            .last()
            .map(|(name, _)| name.as_str())
            .unwrap_or("Starting");
        if since.0 != current {
            since = (current.to_string(), std::time::Instant::now());
        }
        for _ in 0..4 {
            spinner.tick(&format!("{current} ({}s)", since.1.elapsed().as_secs()));
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// The record of a deployment whose execution ended: the record step's own once it lands, or —
/// if none lands within a few seconds — the reconciled one, which says how the execution ended.
async fn settled_record(
    backend: &Backend,
    mut record: DeploymentRecord,
    deployment_id: &str,
) -> anyhow::Result<DeploymentRecord> {
    let (env, stack) = parse_deployment_id(deployment_id)?;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        match backend
            .store
            .deployment(env, stack.as_str(), deployment_id)
            .await?
        {
            Some(latest) if latest.status.is_final() => return Ok(latest),
            Some(latest) => record = latest,
            None => {}
        }
    }
    let Some(state) = crate::reconcile::execution(backend, deployment_id).await? else {
        return Ok(record);
    };
    let actor = backend.caller().await?;
    if crate::reconcile::if_ended(backend, &record, &state, &actor)
        .await?
        .is_some()
    {
        eprint_line(format!(
            "  execution {deployment_id} ended {} without recording; its record is closed and its lock released",
            state.status
        ));
    }
    Ok(backend
        .store
        .deployment(env, stack.as_str(), deployment_id)
        .await?
        .unwrap_or(record))
}

/// Names of the states entered so far, in order.
/// CloudFormation's events of the stack's operation not shown yet, oldest first, each with the
/// count of resources done out of the change set's.
async fn stream_resource_events(
    backend: &Backend,
    record: &DeploymentRecord,
    seen: &mut std::collections::BTreeSet<(String, String)>,
) -> anyhow::Result<()> {
    use infra_agent_pipeline::ports::Stacks;
    let total = record
        .change_summary
        .as_ref()
        .map_or(0, |s| s.changes.len());
    let events = backend
        .stacks
        .latest_operation_events(&record.stack_name)
        .await?;
    for event in events.iter().rev() {
        if event.logical_id == record.stack_name
            || !seen.insert((event.logical_id.clone(), event.status.clone()))
        {
            continue;
        }
        let done = seen
            .iter()
            .filter(|(_, status)| status.ends_with("_COMPLETE") || status.ends_with("_FAILED"))
            .count();
        let reason = if event.status.ends_with("_FAILED") && !event.reason.is_empty() {
            format!(": {}", event.reason)
        } else {
            String::new()
        };
        eprint_line(format!(
            "      {:<20} {} {} ({done}/{total} resources){reason}",
            event.status, event.resource_type, event.logical_id
        ));
    }
    Ok(())
}

/// The states entered so far, each with the seconds since the execution started.
async fn state_entries(
    backend: &Backend,
    execution_arn: &str,
) -> anyhow::Result<Vec<(String, f64)>> {
    let mut names = Vec::new();
    let mut started: Option<f64> = None;
    let mut pages = backend
        .sfn
        .get_execution_history()
        .execution_arn(execution_arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.context("could not read the execution history")?;
        for event in page.events() {
            let at = event.timestamp().as_secs_f64();
            let since = at - *started.get_or_insert(at);
            if let Some(entered) = event.state_entered_event_details() {
                names.push((entered.name().to_string(), since));
            }
        }
    }
    Ok(names)
}

fn show(record: &DeploymentRecord, execution_arn: &str, format: Format) -> anyhow::Result<()> {
    let view = DeploymentView {
        deployment_id: &record.deployment_id,
        kind: record.kind,
        returns_to: record.returns_to.as_deref(),
        status: record.status,
        stack_name: &record.stack_name,
        stack_status: record.stack_status.as_deref(),
        change_set: record.change_set_name.as_deref(),
        approval_id: record.approval_id.as_deref(),
        approver: record.approver.as_deref(),
        failure: record.failure.as_ref(),
        execution_arn,
    };
    if format == Format::Json {
        return print_json(&view);
    }
    print_line(format!(
        "{} {}: {}",
        record.kind.label(),
        record.deployment_id,
        record.status.as_str()
    ));
    if let Some(target) = &record.returns_to {
        print_line(format!("  Returns to: {target}"));
    }
    if let Some(verification) = &record.verification {
        print_line(format!(
            "  Checks:     {} {}",
            record.env.as_str().to_uppercase(),
            verification.headline()
        ));
        for failed in verification
            .results
            .iter()
            .filter(|r| r.outcome != infra_agent_core::deploy::checks::CheckOutcome::Passed)
        {
            print_line(format!(
                "    {} {}: {}",
                match failed.outcome {
                    infra_agent_core::deploy::checks::CheckOutcome::Failed => "FAILED ",
                    _ => "skipped",
                },
                failed.name,
                failed.detail
            ));
        }
    }
    print_line(format!(
        "  Stack:      {} {}",
        record.stack_name,
        record.stack_status.as_deref().unwrap_or("")
    ));
    if let Some(summary) = &record.change_summary {
        for line in summary.count_lines() {
            print_line(format!("  Change:     {line}"));
        }
    }
    if let Some(approver) = &record.approver {
        print_line(format!("  Approver:   {approver}"));
    }
    if let Some(failure) = &record.failure {
        print_line(format!(
            "  Reason:     {}{}",
            failure
                .resource
                .as_deref()
                .map(|r| format!("{r}: "))
                .unwrap_or_default(),
            failure.reason
        ));
        if let Some(advice) = &failure.recommendation {
            print_line(format!("  Advice:     {advice}"));
        }
    }
    if record.status == DeploymentStatus::AwaitingApproval {
        let id = record.approval_id.as_deref().unwrap_or("?");
        print_line(format!(
            "  Approval:   {id} (the approval link was sent to the approval topic)"
        ));
        print_line(format!(
            "  Decide:     infra-agent approve {id}   |   infra-agent reject {id}"
        ));
        print_line(format!(
            "  Follow:     infra-agent wait {}",
            record.deployment_id
        ));
    }
    if let Some(stack_status) = &record.stack_status {
        if record.status.is_final() {
            print_line(stack_status);
        }
    }
    Ok(())
}

/// The IaC_Version tag: the git commit of the working tree, else the CLI's own version.
pub(crate) fn iac_version() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string())
}
