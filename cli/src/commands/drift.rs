//! `drift`: scan an environment (or one stack) through the drift-scan machine and show expected
//! vs actual per drifted resource with its NIST impact; `drift history`; `drift remediate`, which
//! reverts a stack's drift through the deploy machine's approval, then scans it again.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use infra_agent_core::contract::deploy::{DeployRequest, DeploymentKind, TemplateRef};
use infra_agent_core::contract::drift::ScanRequest;
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::drift::{approval_lines, StackDrift, StackDriftStatus};
use infra_agent_core::naming::{new_execution_name, Env, StackKey};
use infra_agent_core::records::{DriftRecord, ScanStatus};
use infra_agent_pipeline::ports::{Deployments, DriftRecords};
use serde::Serialize;

use crate::backend::Backend;
use crate::output::{cell, eprint_line, print_json, print_line, print_table, Format};

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DriftArgs {
    #[command(subcommand)]
    action: Option<DriftAction>,
    #[command(flatten)]
    scan: ScanArgs,
}

#[derive(clap::Subcommand)]
enum DriftAction {
    /// Drift checks of one stack, newest first.
    History(HistoryArgs),
    /// Revert a stack's drift: a change set back to its deployed template (REVERT_DRIFT), through
    /// the approval, then a new scan of the stack.
    Remediate(RemediateArgs),
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Stack of the catalog to check (default: every stack deployed to the environment).
    stack: Option<String>,
    /// Environment: dev, tst or prd.
    #[arg(long, value_parser = super::parse_env)]
    env: Option<Env>,
}

#[derive(clap::Args)]
struct HistoryArgs {
    stack: String,
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
    #[arg(long, default_value_t = 20)]
    limit: i32,
}

#[derive(clap::Args)]
struct RemediateArgs {
    stack: String,
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
    /// Approval window in seconds, if shorter than the environment's.
    #[arg(long)]
    approval_timeout: Option<u32>,
}

pub async fn drift(backend: &Backend, args: DriftArgs, format: Format) -> anyhow::Result<ExitCode> {
    match args.action {
        Some(DriftAction::History(h)) => history(backend, h, format).await,
        Some(DriftAction::Remediate(r)) => remediate(backend, r, format).await,
        None => {
            let env = args
                .scan
                .env
                .context("--env is required: the environment to scan (dev, tst or prd)")?;
            let stacks = match args.scan.stack {
                Some(stack) => Some(vec![stack.parse::<StackKey>()?]),
                None => None,
            };
            scan(backend, env, stacks, format).await
        }
    }
}

/// What `drift --output json` prints.
#[derive(Serialize)]
struct ScanView {
    scan_id: String,
    env: Env,
    stacks: Vec<StackView>,
}

#[derive(Serialize)]
struct StackView {
    stack: StackKey,
    stack_name: String,
    status: StackDriftStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    checked_at: Option<String>,
    resources: Vec<ResourceView>,
    not_checked: Vec<String>,
    filtered: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact_unavailable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remediation: Option<String>,
}

#[derive(Serialize)]
struct ResourceView {
    logical_id: String,
    physical_id: Option<String>,
    #[serde(rename = "type")]
    resource_type: String,
    status: &'static str,
    differences: Vec<DifferenceView>,
    controls: Vec<String>,
    recommendation: String,
}

#[derive(Serialize)]
struct DifferenceView {
    path: String,
    expected: Option<String>,
    actual: Option<String>,
    kind: &'static str,
}

impl StackView {
    fn of(drift: StackDrift, checked_at: Option<String>) -> StackView {
        StackView {
            stack: drift.stack,
            stack_name: drift.stack_name,
            status: drift.status,
            reason: drift.reason,
            checked_at,
            not_checked: drift
                .not_checked
                .into_iter()
                .map(|n| format!("{} ({})", n.logical_id, n.resource_type))
                .collect(),
            filtered: drift.filtered.len(),
            impact_unavailable: drift.impact_unavailable,
            remediation: drift.remediation,
            resources: drift
                .resources
                .into_iter()
                .map(|r| ResourceView {
                    logical_id: r.logical_id,
                    physical_id: r.physical_id,
                    resource_type: r.resource_type,
                    status: r.status.as_str(),
                    differences: r
                        .differences
                        .into_iter()
                        .map(|d| DifferenceView {
                            path: d.path,
                            expected: d.expected,
                            actual: d.actual,
                            kind: d.kind.as_str(),
                        })
                        .collect(),
                    controls: r.controls,
                    recommendation: r.recommendation,
                })
                .collect(),
        }
    }
}

/// Starts the drift-scan machine as the schedule would (plus who asked and which stacks), follows
/// it, and shows the result. Exit 0 in sync, 1 drift found, 2 could not check.
pub(crate) async fn scan(
    backend: &Backend,
    env: Env,
    stacks: Option<Vec<StackKey>>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let scan_id = new_execution_name(env, &"drift".parse()?);
    let request = ScanRequest {
        env,
        stacks,
        requested_by: Some(backend.caller().await?),
        started_by: None,
    };
    let started = backend
        .sfn
        .start_execution()
        .state_machine_arn(&backend.drift_state_machine_arn)
        .name(&scan_id)
        .input(serde_json::to_string(&request)?)
        .send()
        .await
        .context("could not start the drift-scan state machine")?;
    eprint_line(format!("Drift scan {scan_id} of {env} started"));
    let mut reported = BTreeSet::new();
    let status = loop {
        for head in backend.store.drift_heads(env).await? {
            if head.scan_id == scan_id && reported.insert(head.stack.clone()) {
                eprint_line(format!("  {}: {}", head.stack, head.status.as_str()));
            }
        }
        let execution = backend
            .sfn
            .describe_execution()
            .execution_arn(&started.execution_arn)
            .send()
            .await
            .with_context(|| format!("could not read drift scan {scan_id}"))?;
        if execution.status.as_str() != "RUNNING" {
            break execution.status.as_str().to_string();
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let Some(record) = backend
        .store
        .scan(env, &scan_id)
        .await?
        .filter(|s| s.status == ScanStatus::Completed)
    else {
        anyhow::bail!("drift scan {scan_id} ended {status} without completing its record");
    };
    let mut views = Vec::new();
    for result in &record.results {
        let drift = match &result.checked_at {
            Some(at) => backend
                .store
                .drift(env, result.stack.as_str(), at, &scan_id)
                .await?
                .map(|r| r.drift),
            None => None,
        };
        let drift = drift.unwrap_or_else(|| result.as_drift(env));
        views.push(StackView::of(drift, result.checked_at.clone()));
    }
    let view = ScanView {
        scan_id,
        env,
        stacks: views,
    };
    if format == Format::Json {
        print_json(&view)?;
    } else {
        show_scan(&view, record.notified);
    }
    let drifted = view.stacks.iter().any(|s| !s.resources.is_empty());
    let unchecked = view.stacks.iter().any(|s| {
        matches!(
            s.status,
            StackDriftStatus::Failed | StackDriftStatus::Skipped
        )
    });
    Ok(if drifted {
        ExitCode::from(1)
    } else if unchecked {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn show_scan(view: &ScanView, notified: bool) {
    println!();
    if view.stacks.is_empty() {
        print_line(format!(
            "Drift scan {}: nothing is deployed to {}",
            view.scan_id, view.env
        ));
        return;
    }
    let rows: Vec<Vec<String>> = view
        .stacks
        .iter()
        .map(|s| {
            vec![
                s.stack_name.clone(),
                s.status.as_str().to_string(),
                s.resources.len().to_string(),
                s.not_checked.len().to_string(),
                s.filtered.to_string(),
                cell(s.reason.as_deref()),
            ]
        })
        .collect();
    print_line(format!("Drift scan {} of {}", view.scan_id, view.env));
    print_table(
        &[
            "Stack",
            "Drift",
            "Drifted",
            "Not checked",
            "Filtered",
            "Reason",
        ],
        &rows,
    );
    for stack in view.stacks.iter().filter(|s| !s.resources.is_empty()) {
        println!();
        print_line(format!("{} ({})", stack.stack, stack.stack_name));
        let mut rows = Vec::new();
        for r in &stack.resources {
            let controls = r.controls.join(", ");
            if r.differences.is_empty() {
                rows.push(vec![
                    r.logical_id.clone(),
                    r.status.to_string(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    controls.clone(),
                ]);
            }
            for d in &r.differences {
                rows.push(vec![
                    r.logical_id.clone(),
                    r.status.to_string(),
                    d.path.clone(),
                    d.kind.to_string(),
                    cell(d.expected.as_deref()),
                    cell(d.actual.as_deref()),
                    controls.clone(),
                ]);
            }
        }
        print_table(
            &[
                "Resource", "Status", "Property", "Change", "Expected", "Actual", "NIST",
            ],
            &rows,
        );
        for r in &stack.resources {
            print_line(format!("  {}: {}", r.logical_id, r.recommendation));
        }
        if let Some(reason) = &stack.impact_unavailable {
            print_line(format!("  NIST impact not assessed: {reason}"));
        }
    }
    if notified {
        println!();
        print_line("The approval topic's subscribers were told.");
    }
}

async fn history(backend: &Backend, args: HistoryArgs, format: Format) -> anyhow::Result<ExitCode> {
    let stack: StackKey = args.stack.parse()?;
    let records = backend
        .store
        .drift_history(args.env, stack.as_str(), Some(args.limit.max(1)))
        .await?;
    if format == Format::Json {
        let views: Vec<StackView> = records
            .into_iter()
            .map(|r| StackView::of(r.drift, Some(r.checked_at)))
            .collect();
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.checked_at.clone(),
                r.scan_id.clone(),
                r.drift.status.as_str().to_string(),
                r.drift
                    .resources
                    .iter()
                    .map(|d| d.logical_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                r.drift.controls().join(", "),
                cell(r.drift.reason.as_deref()),
            ]
        })
        .collect();
    print_table(
        &[
            "Checked",
            "Scan",
            "Drift",
            "Drifted resources",
            "NIST",
            "Reason",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

/// Reverts the stack's drift through the deploy machine (kind `remediation`): its last
/// successful deployment's template and parameters, `REVERT_DRIFT`, the environment's approval.
/// Once the remediation ends, the stack is scanned again.
async fn remediate(
    backend: &Backend,
    args: RemediateArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let stack: StackKey = args.stack.parse()?;
    let env = args.env;
    let deployed = backend
        .store
        .last_succeeded(env, stack.as_str())
        .await?
        .with_context(|| {
            format!("no successful deployment of {stack} in {env} is recorded: there is no deployed template to revert to; deploy it with `infra-agent deploy {stack} --env {env}`")
        })?;
    let last: Option<DriftRecord> = backend
        .store
        .drift_history(env, stack.as_str(), Some(1))
        .await?
        .into_iter()
        .next();
    match &last {
        Some(record) if !record.drift.resources.is_empty() => {
            for line in approval_lines(
                DeploymentKind::Remediation,
                &record.drift,
                &record.scan_id,
                &record.checked_at,
            ) {
                eprint_line(line);
            }
            let cannot: Vec<&str> = record
                .drift
                .resources
                .iter()
                .filter(|r| r.status == infra_agent_core::drift::ResourceDriftStatus::Deleted)
                .map(|r| r.logical_id.as_str())
                .collect();
            if !cannot.is_empty() {
                eprint_line(format!(
                    "note: {} was deleted; if the revert cannot recreate it, redeploy with `infra-agent deploy {stack} --env {env}`",
                    cannot.join(", ")
                ));
            }
        }
        Some(record) => eprint_line(format!(
            "note: the last drift scan of {stack} ({}) found it {}; CloudFormation compares again now",
            record.checked_at,
            record.drift.status.as_str()
        )),
        None => eprint_line(format!(
            "note: {stack} in {env} was never scanned for drift; CloudFormation compares now"
        )),
    }
    let request = DeployRequest {
        promoted_from: None,
        returns_to: None,
        version: CONTRACT_VERSION,
        deployment_id: new_execution_name(env, &stack),
        stack: stack.clone(),
        env,
        template: TemplateRef {
            bucket: deployed.template_bucket.clone(),
            key: deployed.template_key.clone(),
            sha256: deployed.template_sha256.clone(),
        },
        requested_by: backend.caller().await?,
        iac_version: deployed.iac_version.clone(),
        parameters: deployed.parameters.clone(),
        approval_timeout_seconds: args.approval_timeout,
        kind: DeploymentKind::Remediation,
    };
    let execution_arn = super::deploy::start_deployment(backend, &request).await?;
    let ended = super::deploy::follow(
        backend,
        &execution_arn,
        &request.deployment_id,
        false,
        format,
    )
    .await?;
    if ended != ExitCode::SUCCESS {
        return Ok(ended);
    }
    eprint_line(format!("Scanning {stack} again"));
    scan(backend, env, Some(vec![stack]), format).await
}
