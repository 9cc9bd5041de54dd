//! `approve` and `reject`: send a decision on a pending approval to the decision endpoint, signed
//! with your AWS credentials. The endpoint decides: it records the signed caller as the approver,
//! only if the approval's environment lists the caller among its approvers, once, before expiry.

use std::process::ExitCode;

use anyhow::Context;
use infra_agent_core::approval::api::{
    DecisionAnswer, DecisionRefusal, DecisionRequest, DecisionVerb,
};
use infra_agent_core::contract::approval::Decision;
use infra_agent_core::records::{ApprovalKind, ApprovalStatus};

use crate::decisions;
use crate::output::{eprint_line, inert, print_json, print_line, Format};

#[derive(clap::Args)]
pub struct DecideArgs {
    /// Approval id (shown by `deploy` and in the approval message).
    approval_id: String,
    /// Comment to record with the decision.
    #[arg(long)]
    comment: Option<String>,
}

pub async fn decide(
    args: DecideArgs,
    verb: DecisionVerb,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let endpoint = decisions::endpoint()?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let request = DecisionRequest {
        decision: verb,
        comment: args.comment,
    };
    let answer = decisions::send(&config, &endpoint, &args.approval_id, &request).await?;
    if !(200..300).contains(&answer.status) {
        refused(answer.status, &answer.body, format)?;
        return Ok(ExitCode::FAILURE);
    }
    let decided: DecisionAnswer = serde_json::from_str(&answer.body).with_context(|| {
        format!(
            "the decision endpoint answered HTTP {} with something else than a decision",
            answer.status
        )
    })?;
    if format == Format::Json {
        print_json(&decided)?;
        return Ok(ExitCode::SUCCESS);
    }
    if decided.status == ApprovalStatus::Pending {
        print_line(format!(
            "Recorded the approval of {} in {} by {}; {} more distinct approver(s) needed.",
            decided.stack_name,
            decided.env,
            decided.recorded_approver,
            decided.approvers_still_needed
        ));
        return Ok(ExitCode::SUCCESS);
    }
    print_line(format!(
        "{} {} in {} (deployment {}) as {}",
        match decided.decision {
            Decision::Approved => "Approved",
            Decision::Rejected => "Rejected",
        },
        decided.stack_name,
        decided.env,
        decided.deployment_id,
        decided.recorded_approver
    ));
    match decided.kind {
        ApprovalKind::Teardown if decided.decision == Decision::Approved => print_line(format!(
            "Teardown: infra-agent destroy --env {} --allow-prd --approval {}",
            decided.env, decided.approval_id
        )),
        ApprovalKind::Teardown => {}
        ApprovalKind::Deployment => print_line(format!(
            "Follow: infra-agent wait {}",
            decided.deployment_id
        )),
    }
    Ok(ExitCode::SUCCESS)
}

/// Says why the endpoint took no decision: its own refusal, or IAM's (the URL refuses requests
/// it cannot authenticate before the function runs).
fn refused(status: u16, body: &str, format: Format) -> anyhow::Result<()> {
    match serde_json::from_str::<DecisionRefusal>(body) {
        Ok(refusal) => {
            if format == Format::Json {
                print_json(&refusal)?;
            }
            eprint_line(format!("error: {} (HTTP {status})", refusal.message));
        }
        Err(_) if status == 403 => eprint_line(
            "error: the decision endpoint refused the request (HTTP 403): IAM did not authenticate it, or your identity may not call the endpoint; nothing was changed",
        ),
        Err(_) => eprint_line(format!(
            "error: the decision endpoint answered HTTP {status}: {}; nothing was decided",
            inert(&body.chars().take(300).collect::<String>())
        )),
    }
    Ok(())
}
