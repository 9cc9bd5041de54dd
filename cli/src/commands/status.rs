//! `status` and `history`: what is deployed where, read with Queries on the records table.

use infra_agent_pipeline::ports::{Deployments, DriftRecords};
use std::process::ExitCode;

use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::naming::{Env, StackKey};
use infra_agent_core::records::StackHead;
use infra_agent_pipeline::ports::{Stacks, TemplateStore};

use crate::backend::Backend;
use crate::output::{cell, print_json, print_table, Format};

#[derive(clap::Args)]
pub struct StatusArgs {
    /// Environment: dev, tst or prd.
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
}

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// Stack of the catalog, e.g. `vpc`.
    stack: String,
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
    /// Show at most this many deployments.
    #[arg(long, default_value_t = 20)]
    limit: i32,
}

#[derive(serde::Serialize)]
struct StackStatusView {
    stack_name: String,
    status: Option<String>,
    last_updated: String,
    last_deployment: String,
    last_deployment_status: String,
    /// `IN_SYNC`, `DRIFTED`, … as the stack's last drift check found it; `NEVER` if never checked.
    drift: String,
    drift_checked_at: Option<String>,
}

/// The status of `head`'s deployment after reconciling it, if its execution ended without
/// recording.
async fn reconciled(
    backend: &Backend,
    head: &StackHead,
    actor: &mut Option<String>,
) -> anyhow::Result<Option<DeploymentStatus>> {
    let id = &head.last_deployment_id;
    let Some(state) = crate::reconcile::execution(backend, id).await? else {
        return Ok(None);
    };
    if state.end.is_none() {
        return Ok(None);
    }
    let Some(record) = backend
        .store
        .deployment(head.env, head.stack.as_str(), id)
        .await?
    else {
        return Ok(None);
    };
    let who = match actor {
        Some(who) => who.clone(),
        None => actor.insert(backend.caller().await?).clone(),
    };
    crate::reconcile::if_ended(backend, &record, &state, &who).await?;
    Ok(backend
        .store
        .deployment(head.env, head.stack.as_str(), id)
        .await?
        .map(|r| r.status))
}

pub async fn status(
    backend: &Backend,
    args: StatusArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let heads = backend.store.environment_status(args.env).await?;
    let drifts = backend.store.drift_heads(args.env).await?;
    let mut views = Vec::with_capacity(heads.len());
    let mut actor = None;
    for mut head in heads {
        // A deployment still open in the records whose execution has ended is reconciled first,
        // so the table never shows a deployment in progress that nothing runs.
        if !head.last_status.is_final() {
            if let Some(status) = reconciled(backend, &head, &mut actor).await? {
                head.last_status = status;
            }
        }
        let drift = drifts.iter().find(|d| d.stack == head.stack);
        // The live status, which may have moved since the last deployment (drift, manual change).
        let live = backend.stacks.describe_stack(&head.stack_name).await?;
        views.push(StackStatusView {
            stack_name: head.stack_name,
            // A stack CloudFormation no longer has is absent, whatever its last record says.
            status: Some(live.map_or_else(|| "NOT_DEPLOYED".to_string(), |s| s.status.to_string())),
            last_updated: head.updated_at,
            last_deployment: head.last_deployment_id,
            last_deployment_status: head.last_status.as_str().to_string(),
            drift: drift.map_or_else(|| "NEVER".to_string(), |d| d.status.as_str().to_string()),
            drift_checked_at: drift.map(|d| d.checked_at.clone()),
        });
    }
    if format == Format::Json {
        print_json(&views)?;
    } else {
        let rows: Vec<Vec<String>> = views
            .iter()
            .map(|v| {
                vec![
                    v.stack_name.clone(),
                    cell(v.status.as_deref()),
                    v.last_updated.clone(),
                    format!("{} ({})", v.last_deployment, v.last_deployment_status),
                    match &v.drift_checked_at {
                        Some(at) => format!("{} ({at})", drift_word(&v.drift)),
                        None => "never checked".to_string(),
                    },
                ]
            })
            .collect();
        print_table(
            &[
                "Stack Name",
                "Status",
                "Last Updated",
                "Last deployment",
                "Drift",
            ],
            &rows,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// How the Drift column reads a stack's last check.
fn drift_word(status: &str) -> &str {
    match status {
        "IN_SYNC" => "in sync",
        "DRIFTED" => "drifted",
        "SKIPPED" => "not checked",
        "FAILED" => "check failed",
        other => other,
    }
}

pub async fn history(
    backend: &Backend,
    args: HistoryArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let stack: StackKey = args.stack.parse()?;
    let records = backend
        .store
        .history(args.env, stack.as_str(), Some(args.limit.max(1)))
        .await?;
    if format == Format::Json {
        // Each record with its full validation and cost reports, read from where the pipeline
        // stored them.
        let mut views = Vec::with_capacity(records.len());
        for record in &records {
            let mut view = serde_json::to_value(record)?;
            if let Some(stored) = record.validation.as_ref().and_then(|v| v.report.as_ref()) {
                view["validation_report"] = match backend.templates.get_template(stored).await {
                    Ok(text) => serde_json::from_str(&text)?,
                    Err(e) => serde_json::json!({ "unreadable": e.to_string() }),
                };
            }
            if let Some(stored) = record.cost.as_ref().and_then(|c| c.report.as_ref()) {
                view["cost_report"] = match backend.templates.get_template(stored).await {
                    Ok(text) => serde_json::from_str(&text)?,
                    Err(e) => serde_json::json!({ "unreadable": e.to_string() }),
                };
            }
            views.push(view);
        }
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.deployment_id.clone(),
                r.kind.as_str().to_string(),
                r.status.as_str().to_string(),
                r.started_at.clone(),
                cell(r.finished_at.as_deref()),
                cell(r.approver.as_deref()),
                r.template_sha256.chars().take(12).collect(),
                r.verification.as_ref().map_or_else(
                    || "-".to_string(),
                    |v| format!("{}/{}", v.passed(), v.passed() + v.failed()),
                ),
                cell(r.failure.as_ref().map(|f| f.reason.as_str())),
            ]
        })
        .collect();
    print_table(
        &[
            "Deployment",
            "Kind",
            "Status",
            "Started",
            "Finished",
            "Approver",
            "Template",
            "Checks",
            "Reason",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
