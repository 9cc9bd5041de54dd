//! The approval endpoint: GET shows the confirmation page, only POST decides (mail scanners and
//! chat unfurlers fetch links). Transport-neutral: the Lambda function URL glue and the local
//! Lambda host both translate to and from `approval::http`'s request and response.

use infra_agent_core::approval::http::{parse_form, HttpRequest, HttpResponse};
use infra_agent_core::approval::link::ApprovalLink;
use infra_agent_core::approval::page;

use super::decision::decide;
use crate::ports::Pipeline;
use infra_agent_core::clock::now;
use infra_agent_core::contract::approval::Decision;
use infra_agent_core::naming::Env;
use infra_agent_core::records::{ApprovalStatus, DecideError};

const MAX_APPROVER_LEN: usize = 100;
const MAX_COMMENT_LEN: usize = 500;

pub async fn handle(pipeline: &Pipeline, request: HttpRequest) -> HttpResponse {
    let Some(approval_id) = request
        .path
        .strip_prefix("/approvals/")
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    else {
        return HttpResponse::page(404, page::outcome("Not found", "There is no such page."));
    };
    let forged = || {
        HttpResponse::page(
            403,
            page::outcome(
                "Link not valid",
                "This approval link is not valid (its signature does not match). Nothing was changed.",
            ),
        )
    };
    let Some(expires_epoch) = request.query.get("exp").and_then(|e| e.parse::<i64>().ok()) else {
        return forged();
    };
    let signature = request.query.get("sig").map(String::as_str).unwrap_or("");
    if !pipeline
        .settings
        .approval_key
        .verify(approval_id, expires_epoch, signature)
    {
        tracing::warn!(approval_id, "approval link with a bad signature");
        return forged();
    }
    let (_, now_epoch) = now();
    if expires_epoch <= now_epoch {
        return HttpResponse::page(
            410,
            page::outcome(
                "Link expired",
                "This approval link has expired. Nothing was changed.",
            ),
        );
    }
    let approval = match pipeline.store.approval(approval_id).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return HttpResponse::page(
                404,
                page::outcome(
                    "Unknown approval",
                    "No such approval exists. Nothing was changed.",
                ),
            )
        }
        Err(e) => return server_error(&e),
    };
    match request.method.as_str() {
        "GET" | "HEAD" => {
            if approval.status != ApprovalStatus::Pending {
                return HttpResponse::page(409, already_decided_text(&approval));
            }
            let action = ApprovalLink {
                approval_id: approval_id.to_string(),
                expires_epoch,
                signature: signature.to_string(),
            }
            .url("");
            HttpResponse::page(200, page::confirmation(&approval, &action))
        }
        "POST" => {
            let form = parse_form(&request.body);
            let decision = match form.get("decision").map(String::as_str) {
                Some("approve") => Decision::Approved,
                Some("reject") => Decision::Rejected,
                _ => {
                    return HttpResponse::page(
                        400,
                        page::outcome(
                            "Bad request",
                            "Choose Approve or Reject. Nothing was changed.",
                        ),
                    )
                }
            };
            let approver = form.get("approver").map(|a| a.trim()).unwrap_or("");
            if approver.is_empty() || approver.len() > MAX_APPROVER_LEN {
                return HttpResponse::page(
                    400,
                    page::outcome(
                        "Bad request",
                        "Give your name (at most 100 characters). Nothing was changed.",
                    ),
                );
            }
            if approval.env == Env::Prd && decision == Decision::Approved {
                return HttpResponse::page(
                    403,
                    page::outcome(
                        "Approval needs an authenticated approver",
                        "Production changes cannot be approved from a link. Approve with `infra-agent approve` \
                         under your IAM identity. Rejecting from this page is allowed. Nothing was changed.",
                    ),
                );
            }
            let comment = form
                .get("comment")
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .map(|c| c.chars().take(MAX_COMMENT_LEN).collect::<String>());
            match decide(
                pipeline.store.as_ref(),
                pipeline.executions.as_ref(),
                approval_id,
                decision,
                approver,
                comment.as_deref(),
                "link",
            )
            .await
            {
                Ok(Ok(record)) if record.status == ApprovalStatus::Pending => {
                    let missing = record.required_approvers as usize
                        - record
                            .approved_by
                            .len()
                            .min(record.required_approvers as usize);
                    HttpResponse::page(
                        202,
                        page::outcome(
                            "Approval recorded",
                            &format!(
                                "Thank you, {approver}. This change needs {} distinct approvers; {missing} more must approve before it proceeds.",
                                record.required_approvers
                            ),
                        ),
                    )
                }
                Ok(Ok(_)) => {
                    let (title, text) = match decision {
                        Decision::Approved => (
                            "Approved",
                            format!(
                                "Thank you, {approver}. The change to {} in {} is approved and the deployment continues.",
                                approval.stack_name, approval.env
                            ),
                        ),
                        Decision::Rejected => (
                            "Rejected",
                            format!(
                                "Thank you, {approver}. The change to {} in {} is rejected; its change set will be deleted.",
                                approval.stack_name, approval.env
                            ),
                        ),
                    };
                    HttpResponse::page(200, page::outcome(title, &text))
                }
                Ok(Err(refused)) => refusal_page(refused),
                Err(e) => server_error(&e),
            }
        }
        _ => HttpResponse::page(
            405,
            page::outcome(
                "Method not allowed",
                "Use the page's buttons. Nothing was changed.",
            ),
        ),
    }
}

fn already_decided_text(approval: &infra_agent_core::records::ApprovalRecord) -> String {
    page::outcome(
        "Already decided",
        &format!(
            "This approval was already decided: {:?}{}{}. Links work once; nothing was changed.",
            approval.status,
            approval
                .approver
                .as_deref()
                .map(|a| format!(" by {a}"))
                .unwrap_or_default(),
            approval
                .decided_at
                .as_deref()
                .map(|t| format!(" at {t}"))
                .unwrap_or_default(),
        ),
    )
}

fn refusal_page(refused: DecideError) -> HttpResponse {
    let status = match refused {
        DecideError::NotFound(_) => 404,
        DecideError::AlreadyDecided { .. }
        | DecideError::AlreadyApprovedBy { .. }
        | DecideError::AlreadyUsed { .. } => 409,
        DecideError::Expired { .. } => 410,
    };
    HttpResponse::page(
        status,
        page::outcome("Not decided", &format!("{refused}. Nothing was changed.")),
    )
}

fn server_error(err: &crate::StepError) -> HttpResponse {
    tracing::error!(error = %err, "approval endpoint failed");
    HttpResponse::page(
        503,
        page::outcome(
            "Try again",
            "The approval service could not complete the request. Nothing was decided; try again.",
        ),
    )
}
