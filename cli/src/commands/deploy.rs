//! `deploy` and `wait`: store the template, start the deploy state machine under a named
//! execution, and show its progress state by state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use shared::catalog::{Catalog, OutputsByStack};
use shared::contract::deploy::DeployRequest;
use shared::contract::record::DeploymentStatus;
use shared::contract::CONTRACT_VERSION;
use shared::environment::EnvironmentConfig;
use shared::naming::{new_execution_name, parse_deployment_id, stack_name, Env, StackKey};
use shared::pipeline::templates::put_template;
use shared::stacks::{describe_stack, stack_outputs};
use shared::store::DeploymentRecord;

use crate::backend::Backend;
use crate::output::{print_json, Format};

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
    status: DeploymentStatus,
    stack_name: &'a str,
    stack_status: Option<&'a str>,
    change_set: Option<&'a str>,
    approval_id: Option<&'a str>,
    approver: Option<&'a str>,
    failure: Option<&'a shared::contract::execute::StackFailure>,
    execution_arn: &'a str,
}

pub async fn deploy(
    backend: &Backend,
    args: DeployArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    if args.all {
        return deploy_all(backend, &args).await;
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
                eprintln!("note: no wiring from the catalog ({e})");
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
    let template = put_template(&backend.s3, &backend.template_bucket, stack, &body).await?;
    let deployment_id = new_execution_name(args.env, stack);
    let request = DeployRequest {
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
    let input = serde_json::json!({ "request": request });
    let started = backend
        .sfn
        .start_execution()
        .state_machine_arn(&backend.state_machine_arn)
        .name(&deployment_id)
        .input(input.to_string())
        .send()
        .await
        .context("could not start the deploy state machine")?;
    eprintln!(
        "Deployment {deployment_id} started: {stack} to {} (template {})",
        args.env,
        &request.template.sha256[..12]
    );
    Ok((started.execution_arn, deployment_id))
}

pub fn load_catalog(path: &Path) -> anyhow::Result<Catalog> {
    let templates = path
        .parent()
        .map(|dir| dir.join("stacks"))
        .unwrap_or_else(|| PathBuf::from("infra/stacks"));
    Catalog::load(path, &templates).map_err(|e| anyhow::anyhow!(e))
}

/// Whether a stack's status means it is there to read outputs from.
pub fn is_deployed(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" | "IMPORT_COMPLETE"
    )
}

/// The stack's wired parameter values from its deployed upstreams' outputs; refuses with
/// "deploy <upstream> first" before anything is changed.
async fn wired_parameters(
    backend: &Backend,
    catalog: &Catalog,
    env: Env,
    stack: &StackKey,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut outputs = OutputsByStack::new();
    for upstream in catalog.upstream(stack) {
        let name = stack_name(env, &upstream);
        let deployed = describe_stack(&backend.cfn, &name)
            .await?
            .is_some_and(|s| is_deployed(&s.status));
        if deployed {
            outputs.insert(upstream, stack_outputs(&backend.cfn, &name).await?);
        }
    }
    catalog
        .resolve_parameters(stack, &outputs)
        .map_err(|e| anyhow::anyhow!("{stack} in {env}: {e}"))
}

/// `deploy --all`: the catalog's waves in order, the stacks of a wave at once; the first failure
/// stops it, and the summary says what was deployed, what failed and what was not attempted.
async fn deploy_all(backend: &Backend, args: &DeployArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(&args.catalog)?;
    let config = EnvironmentConfig::builtin(args.env)?;
    catalog
        .check_environment(&config)
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut results: Vec<(StackKey, String)> = Vec::new();
    let mut failed = false;
    for (number, wave) in catalog.waves().iter().enumerate() {
        if failed {
            results.extend(
                wave.iter()
                    .map(|s| (s.clone(), "not attempted".to_string())),
            );
            continue;
        }
        let names: Vec<&str> = wave.iter().map(StackKey::as_str).collect();
        eprintln!("Wave {}: {}", number + 1, names.join(", "));
        let mut running = Vec::new();
        for stack in wave {
            let Some(entry) = catalog.stack(stack) else {
                continue;
            };
            let path = entry.template.clone();
            match wired_parameters(backend, &catalog, args.env, stack).await {
                Ok(parameters) => running.push((
                    stack.clone(),
                    start(backend, args, stack, &path, parameters).await?,
                )),
                Err(e) => {
                    eprintln!("  {stack}: refused: {e}");
                    results.push((stack.clone(), format!("refused: {e}")));
                    failed = true;
                }
            }
        }
        for (stack, (arn, id)) in running {
            let code = follow(backend, &arn, &id, false, Format::Table).await?;
            let record = backend
                .store
                .deployment(args.env, stack.as_str(), &id)
                .await?;
            let status = record.map_or("UNKNOWN", |r| r.status.as_str());
            if code != ExitCode::SUCCESS {
                failed = true;
            }
            results.push((stack, format!("{status} ({id})")));
        }
    }
    println!();
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|(stack, result)| vec![stack.to_string(), result.clone()])
        .collect();
    crate::output::print_table(&["Stack", "Result"], &rows);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn wait(backend: &Backend, args: WaitArgs, format: Format) -> anyhow::Result<ExitCode> {
    parse_deployment_id(&args.deployment_id)?;
    let arn = execution_arn(&backend.state_machine_arn, &args.deployment_id);
    follow(backend, &arn, &args.deployment_id, false, format).await
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
async fn follow(
    backend: &Backend,
    execution_arn: &str,
    deployment_id: &str,
    stop_at_approval: bool,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let (env, stack) = parse_deployment_id(deployment_id)?;
    let mut shown = 0usize;
    let mut announced = false;
    loop {
        let events = state_entries(backend, execution_arn).await?;
        for name in events.iter().skip(shown) {
            eprintln!("  → {name}");
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
        let record = backend
            .store
            .deployment(env, stack.as_str(), deployment_id)
            .await?;
        let awaiting = record
            .as_ref()
            .is_some_and(|r| r.status == DeploymentStatus::AwaitingApproval);
        if awaiting && !stop_at_approval && !announced {
            let id = record
                .as_ref()
                .and_then(|r| r.approval_id.as_deref())
                .unwrap_or("?");
            eprintln!("  … {deployment_id} waits for approval {id}: `infra-agent approve {id}` or the link in the approval message");
            announced = true;
        }
        if !running || (stop_at_approval && awaiting) {
            let Some(record) = record else {
                anyhow::bail!(
                    "execution {deployment_id} ended {} without a deployment record",
                    execution.status.as_str()
                );
            };
            // A refused or finished record is final; a running one is only final when waiting.
            if !running && !record.status.is_final() {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            show(&record, execution_arn, format)?;
            return Ok(match record.status {
                DeploymentStatus::Succeeded
                | DeploymentStatus::NoChanges
                | DeploymentStatus::AwaitingApproval => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Names of the states entered so far, in order.
async fn state_entries(backend: &Backend, execution_arn: &str) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = backend
            .sfn
            .get_execution_history()
            .execution_arn(execution_arn)
            .set_next_token(token)
            .send()
            .await
            .context("could not read the execution history")?;
        for event in page.events() {
            if let Some(entered) = event.state_entered_event_details() {
                names.push(entered.name().to_string());
            }
        }
        token = page.next_token;
        if token.is_none() {
            return Ok(names);
        }
    }
}

fn show(record: &DeploymentRecord, execution_arn: &str, format: Format) -> anyhow::Result<()> {
    let view = DeploymentView {
        deployment_id: &record.deployment_id,
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
    println!(
        "Deployment {}: {}",
        record.deployment_id,
        record.status.as_str()
    );
    println!(
        "  Stack:      {} {}",
        record.stack_name,
        record.stack_status.as_deref().unwrap_or("")
    );
    if let Some(summary) = &record.change_summary {
        for line in summary.count_lines() {
            println!("  Change:     {line}");
        }
    }
    if let Some(approver) = &record.approver {
        println!("  Approver:   {approver}");
    }
    if let Some(failure) = &record.failure {
        println!(
            "  Reason:     {}{}",
            failure
                .resource
                .as_deref()
                .map(|r| format!("{r}: "))
                .unwrap_or_default(),
            failure.reason
        );
        if let Some(advice) = &failure.recommendation {
            println!("  Advice:     {advice}");
        }
    }
    if record.status == DeploymentStatus::AwaitingApproval {
        let id = record.approval_id.as_deref().unwrap_or("?");
        println!("  Approval:   {id} (the approval link was sent to the approval topic)");
        println!("  Decide:     infra-agent approve {id}   |   infra-agent reject {id}");
        println!("  Follow:     infra-agent wait {}", record.deployment_id);
    }
    if let Some(stack_status) = &record.stack_status {
        if record.status.is_final() {
            println!("{stack_status}");
        }
    }
    Ok(())
}

/// The IaC_Version tag: the git commit of the working tree, else the CLI's own version.
fn iac_version() -> String {
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
