//! `status` and `history`: what is deployed where, read with Queries on the records table.

use infra_agent_pipeline::ports::Deployments;
use std::process::ExitCode;

use infra_agent_core::naming::{Env, StackKey};
use infra_agent_pipeline::ports::Stacks;

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
}

pub async fn status(
    backend: &Backend,
    args: StatusArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let heads = backend.store.environment_status(args.env).await?;
    let mut views = Vec::with_capacity(heads.len());
    for head in heads {
        // The live status, which may have moved since the last deployment (drift, manual change).
        let live = backend.stacks.describe_stack(&head.stack_name).await?;
        views.push(StackStatusView {
            stack_name: head.stack_name,
            // A stack CloudFormation no longer has is absent, whatever its last record says.
            status: Some(live.map_or_else(|| "NOT_DEPLOYED".to_string(), |s| s.status.to_string())),
            last_updated: head.updated_at,
            last_deployment: head.last_deployment_id,
            last_deployment_status: head.last_status.as_str().to_string(),
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
                ]
            })
            .collect();
        print_table(
            &["Stack Name", "Status", "Last Updated", "Last deployment"],
            &rows,
        );
    }
    Ok(ExitCode::SUCCESS)
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
        print_json(&records)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.deployment_id.clone(),
                r.status.as_str().to_string(),
                r.started_at.clone(),
                cell(r.finished_at.as_deref()),
                cell(r.approver.as_deref()),
                r.template_sha256.chars().take(12).collect(),
                cell(r.failure.as_ref().map(|f| f.reason.as_str())),
            ]
        })
        .collect();
    print_table(
        &[
            "Deployment",
            "Status",
            "Started",
            "Finished",
            "Approver",
            "Template",
            "Reason",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
