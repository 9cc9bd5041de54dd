//! `promote`: one stack's deployed, verified version from one environment to the next, through
//! the promote machine — every pre-promotion check shown first, then the target's deployment
//! (its approval rules, prd's two approvers) followed like `deploy`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use infra_agent_core::catalog::Catalog;
use infra_agent_core::contract::promote::PromotionRequest;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::naming::{new_execution_name, Env, StackKey};
use infra_agent_core::records::{PromotionRecord, PromotionStatus};
use infra_agent_pipeline::ports::{Deployments, Promotions};
use serde::Serialize;

use crate::backend::Backend;
use crate::output::{eprint_line, print_json, print_line, print_table, Format};

#[derive(clap::Args)]
pub struct PromoteArgs {
    /// Stack of the catalog, e.g. `vpc`.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    stack: Option<String>,
    /// Promote every stack of the catalog, wave by wave (each through its approval), stopping at
    /// the first that is refused or not deployed.
    #[arg(long)]
    all: bool,
    #[arg(long, value_parser = super::parse_env)]
    from: Env,
    #[arg(long, value_parser = super::parse_env)]
    to: Env,
    /// Keep following after the approval request until the target deployment ends.
    #[arg(long)]
    wait: bool,
    #[arg(long)]
    approval_timeout: Option<u32>,
    /// The stack catalog (the target's wiring).
    #[arg(long, default_value = "infra/catalog.toml")]
    catalog: PathBuf,
}

/// What `promote --output json` prints.
#[derive(Serialize)]
struct PromotionView<'a> {
    promotion_id: &'a str,
    stack: &'a StackKey,
    from: Env,
    to: Env,
    template_sha256: Option<&'a str>,
    checks: &'a [infra_agent_core::contract::promote::PromotionCheck],
    deployment_id: Option<&'a str>,
    status: String,
}

pub async fn promote(
    backend: &Backend,
    args: PromoteArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    if args.all {
        return promote_all(backend, &args, format).await;
    }
    let stack: StackKey = args.stack.as_deref().unwrap_or_default().parse()?;
    // A stack outside the catalog has no wiring to read.
    let catalog = super::deploy::load_catalog(&args.catalog).ok();
    Ok(
        promote_one(backend, &args, catalog.as_ref(), &stack, args.wait, format)
            .await?
            .0,
    )
}

/// How one stack of `promote --all` went.
#[derive(Serialize)]
struct StackPromotion {
    stack: StackKey,
    wave: usize,
    /// PROMOTED, REFUSED, NOT_DEPLOYED, SKIPPED or NOT_ATTEMPTED.
    outcome: &'static str,
    promotion_id: Option<String>,
    detail: Option<String>,
}

/// Every catalog stack, wave by wave as `deploy --all` deploys them, each promoted and followed
/// through its approval before the next wave (which reads its outputs).
async fn promote_all(
    backend: &Backend,
    args: &PromoteArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let catalog = super::deploy::load_catalog(&args.catalog)?;
    // Each stack's checks and deployment are shown as they go; stdout keeps the one document.
    crate::output::people_to_stderr(format == Format::Json);
    let mut results = Vec::new();
    let mut stopped = false;
    for (index, wave) in catalog.waves().iter().enumerate() {
        for stack in wave {
            let entry = catalog.stack(stack);
            let skip = entry
                .and_then(|e| e.skip_on_emulator.as_ref())
                .filter(|_| backend.is_emulator);
            let mut result = StackPromotion {
                stack: stack.clone(),
                wave: index + 1,
                outcome: "NOT_ATTEMPTED",
                promotion_id: None,
                detail: None,
            };
            if stopped {
                results.push(result);
                continue;
            }
            if let Some(reason) = skip {
                result.outcome = "SKIPPED";
                result.detail = Some(format!("not deployable on the local emulator: {reason}"));
                eprint_line(format!("  {stack}: skipped ({reason})"));
                results.push(result);
                continue;
            }
            eprint_line(format!("Wave {}: {stack}", index + 1));
            // Each stack is followed to its end: the next wave reads its outputs.
            let (code, record) =
                promote_one(backend, args, Some(&catalog), stack, true, Format::Table).await?;
            result.promotion_id = record.as_ref().map(|r| r.promotion_id.clone());
            result.outcome = match (&record, code == ExitCode::SUCCESS) {
                (Some(r), _) if r.status == PromotionStatus::Refused => "REFUSED",
                (_, true) => "PROMOTED",
                _ => "NOT_DEPLOYED",
            };
            result.detail = record.as_ref().map(|r| {
                let failed: Vec<&str> = r
                    .checks
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| c.name.as_str())
                    .collect();
                if failed.is_empty() {
                    r.deployment_id.clone()
                } else {
                    format!("failed: {}", failed.join(", "))
                }
            });
            stopped = result.outcome != "PROMOTED";
            results.push(result);
        }
    }
    crate::output::people_to_stderr(false);
    if format == Format::Json {
        print_json(&serde_json::json!({
            "from": args.from,
            "to": args.to,
            "status": if stopped { "STOPPED" } else { "PROMOTED" },
            "results": results,
        }))?;
    } else {
        println!();
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|r| {
                vec![
                    r.wave.to_string(),
                    r.stack.to_string(),
                    r.outcome.to_string(),
                    r.detail.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        print_table(&["Wave", "Stack", "Outcome", "Detail"], &rows);
    }
    Ok(if stopped {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Promotes one stack, wired in the target as `catalog` says; the exit code and the
/// promotion's record.
async fn promote_one(
    backend: &Backend,
    args: &PromoteArgs,
    catalog: Option<&Catalog>,
    stack: &StackKey,
    wait: bool,
    format: Format,
) -> anyhow::Result<(ExitCode, Option<PromotionRecord>)> {
    let stack = stack.clone();
    let parameters = match catalog {
        Some(catalog) if catalog.stack(&stack).is_some() => {
            super::deploy::wired_parameters(backend, catalog, args.to, &stack).await?
        }
        _ => Default::default(),
    };
    let request = PromotionRequest {
        version: CONTRACT_VERSION,
        promotion_id: new_execution_name(args.to, &"promote".parse()?),
        stack: stack.clone(),
        from: args.from,
        to: args.to,
        requested_by: backend.caller().await?,
        deployment_id: new_execution_name(args.to, &stack),
        parameters,
        approval_timeout_seconds: args.approval_timeout,
    };
    let started = backend
        .sfn
        .start_execution()
        .state_machine_arn(&backend.promote_state_machine_arn)
        .name(&request.promotion_id)
        .input(request.machine_input().to_string())
        .send()
        .await
        .context("could not start the promote state machine")?;
    eprint_line(format!(
        "Promotion {} of {stack} from {} to {} started",
        request.promotion_id, args.from, args.to
    ));
    // The checks, once judged (after a drift scan of the source if it needed one).
    let record = loop {
        let record = backend
            .store
            .promotion(args.to, &request.promotion_id)
            .await?;
        let execution = describe(backend, &started.execution_arn).await?;
        match record {
            Some(r) if r.status != PromotionStatus::Checking => break r,
            None | Some(_) if execution != "RUNNING" => anyhow::bail!(
                "promotion {} ended {execution} before its checks were recorded",
                request.promotion_id
            ),
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    };
    if format != Format::Json {
        show_checks(&record);
    }
    if record.status == PromotionStatus::Refused {
        if format == Format::Json {
            print_view(&record, "REFUSED")?;
        } else {
            print_line("Refused: nothing was changed in the target.");
        }
        return Ok((ExitCode::FAILURE, Some(record)));
    }
    // The target deployment, once the promote machine started it.
    loop {
        if backend
            .store
            .deployment(args.to, stack.as_str(), &request.deployment_id)
            .await?
            .is_some()
        {
            break;
        }
        if describe(backend, &started.execution_arn).await? != "RUNNING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if format != Format::Json {
        let arn = backend.deploy_execution_arn(&request.deployment_id);
        let code =
            super::deploy::follow(backend, &arn, &request.deployment_id, !wait, format).await?;
        return Ok((code, Some(record)));
    }
    let status = loop {
        let deployment = backend
            .store
            .deployment(args.to, stack.as_str(), &request.deployment_id)
            .await?;
        let status = deployment.map(|d| d.status);
        let waiting = status == Some(DeploymentStatus::AwaitingApproval) && !wait;
        if waiting || status.is_some_and(|s| s.is_final()) {
            break status;
        }
        if describe(backend, &started.execution_arn).await? != "RUNNING" {
            break status;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let status = status.map_or("NOT_STARTED", |s| s.as_str());
    print_view(&record, status)?;
    let code = match status {
        "SUCCEEDED" | "NO_CHANGES" | "AWAITING_APPROVAL" => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    };
    Ok((code, Some(record)))
}

async fn describe(backend: &Backend, arn: &str) -> anyhow::Result<String> {
    Ok(backend
        .sfn
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .context("could not read the promotion's execution")?
        .status
        .as_str()
        .to_string())
}

fn show_checks(record: &PromotionRecord) {
    let rows: Vec<Vec<String>> = record
        .checks
        .iter()
        .map(|c| {
            vec![
                if c.passed { "pass" } else { "FAIL" }.to_string(),
                c.name.clone(),
                c.detail.clone(),
            ]
        })
        .collect();
    print_line(format!(
        "Promotion {}: {} {} → {} (template {})",
        record.promotion_id,
        record.stack,
        record.from,
        record.to,
        record
            .template_sha256
            .as_deref()
            .map_or("-", |s| s.get(..12).unwrap_or(s))
    ));
    print_table(&["", "Check", "Evidence"], &rows);
}

fn print_view(record: &PromotionRecord, status: &str) -> anyhow::Result<()> {
    print_json(&PromotionView {
        promotion_id: &record.promotion_id,
        stack: &record.stack,
        from: record.from,
        to: record.to,
        template_sha256: record.template_sha256.as_deref(),
        checks: &record.checks,
        deployment_id: (record.status != PromotionStatus::Refused)
            .then_some(record.deployment_id.as_str()),
        status: status.to_string(),
    })
}
