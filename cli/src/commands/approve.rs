//! `approve` and `reject`: decide a pending approval under your IAM identity. Same guarantees as
//! the link: once only, before expiry, recorded with the approver.

use infra_agent_pipeline::ports::Approvals;
use std::process::ExitCode;

use anyhow::{bail, Context};
use infra_agent_core::approval::text::{approver_name, comment_text};
use infra_agent_core::contract::approval::Decision;
use infra_agent_core::naming::Env;
use infra_agent_core::records::{ApprovalKind, ApprovalStatus};
use infra_agent_pipeline::steps::decision::decide as decide_approval;
use serde::Serialize;

use crate::backend::Backend;
use crate::output::{eprint_line, print_json, print_line, Format};

#[derive(clap::Args)]
pub struct DecideArgs {
    /// Approval id (shown by `deploy` and in the approval message).
    approval_id: String,
    /// Name to record as approver instead of your IAM identity (not allowed in prd).
    #[arg(long = "as")]
    approver: Option<String>,
    /// Comment to record with the decision.
    #[arg(long)]
    comment: Option<String>,
}

#[derive(Serialize)]
struct DecisionView<'a> {
    approval_id: &'a str,
    deployment_id: &'a str,
    decision: Decision,
    approver: &'a str,
}

pub async fn decide(
    backend: &Backend,
    args: DecideArgs,
    decision: Decision,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let approval = backend
        .store
        .approval(&args.approval_id)
        .await?
        .with_context(|| format!("approval {} does not exist", args.approval_id))?;
    let identity = backend.caller().await?;
    let approver = match (&args.approver, approval.env) {
        (Some(_), Env::Prd) => {
            bail!("prd approvals are recorded under your IAM identity; drop --as")
        }
        (Some(name), _) => match approver_name(name) {
            Some(name) => format!("{name} (via {identity})"),
            None => {
                bail!("--as needs a name of at most 100 characters, without control characters")
            }
        },
        (None, _) => identity,
    };
    // The same rules as the approval link's form: a name is printable, a comment one line.
    let comment = args.comment.as_deref().and_then(comment_text);
    let outcome = decide_approval(
        &backend.store,
        &backend.executions,
        &args.approval_id,
        decision,
        &approver,
        comment.as_deref(),
        "cli",
    )
    .await?;
    let record = match outcome {
        Ok(record) => record,
        Err(refused) => {
            eprint_line(format!("error: {refused}; nothing was changed"));
            return Ok(ExitCode::FAILURE);
        }
    };
    let waiting_for = (record.required_approvers as usize).saturating_sub(record.approved_by.len());
    if decision == Decision::Approved && record.status == ApprovalStatus::Pending {
        if format == Format::Json {
            print_json(&serde_json::json!({
                "approval_id": record.approval_id,
                "deployment_id": record.deployment_id,
                "recorded_approver": approver,
                "approved_by": record.approved_by,
                "approvers_still_needed": waiting_for,
            }))?;
        } else {
            print_line(format!(
                "Recorded your approval of {} in {}; {waiting_for} more distinct approver(s) needed.",
                record.stack_name, record.env
            ));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if format == Format::Json {
        print_json(&DecisionView {
            approval_id: &record.approval_id,
            deployment_id: &record.deployment_id,
            decision,
            approver: &approver,
        })?;
    } else {
        print_line(format!(
            "{} {} in {} (deployment {}) as {approver}",
            match decision {
                Decision::Approved => "Approved",
                Decision::Rejected => "Rejected",
            },
            record.stack_name,
            record.env,
            record.deployment_id
        ));
        match record.kind {
            ApprovalKind::Teardown if decision == Decision::Approved => print_line(format!(
                "Teardown: infra-agent destroy --env {} --allow-prd --approval {}",
                record.env, record.approval_id
            )),
            ApprovalKind::Teardown => {}
            ApprovalKind::Deployment => {
                print_line(format!("Follow: infra-agent wait {}", record.deployment_id))
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
