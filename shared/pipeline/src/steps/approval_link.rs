//! The approval link's page: GET shows the confirmation page, only POST decides (mail scanners and
//! chat unfurlers fetch links). The link's HMAC signature is the only authentication (its function
//! URL's AuthType is NONE), so a prd link can reject but never approve.

use infra_agent_core::approval::http::{parse_form, refusal_status, HttpRequest, HttpResponse};
use infra_agent_core::approval::link::ApprovalLink;
use infra_agent_core::approval::page;
use infra_agent_core::approval::rules::links_may_approve;
use infra_agent_core::approval::text::{approver_name, comment_text};

use super::approval_page::confirmation_page;
use super::decision::decide;
use crate::ports::Pipeline;
use infra_agent_core::clock::now;
use infra_agent_core::contract::approval::Decision;
use infra_agent_core::records::{ApprovalRecord, ApprovalStatus, DecideError};

pub async fn handle(pipeline: &Pipeline, request: HttpRequest) -> HttpResponse {
    if request.path == super::slack::INTERACTIONS_PATH {
        return super::slack::interaction(pipeline, &request).await;
    }
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
    let key = match pipeline.settings.approval_key() {
        Ok(key) => key,
        Err(e) => return server_error(&e),
    };
    if !key.verify(approval_id, expires_epoch, signature) {
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
            .relative_url();
            HttpResponse::page(200, confirmation_page(pipeline, &approval, &action).await)
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
            let Some(approver) =
                approver_name(form.get("approver").map(String::as_str).unwrap_or(""))
            else {
                return HttpResponse::page(
                    400,
                    page::outcome(
                        "Bad request",
                        "Give your name (at most 100 characters, no control characters). Nothing was changed.",
                    ),
                );
            };
            if !links_may_approve(approval.env) && decision == Decision::Approved {
                return HttpResponse::page(
                    403,
                    page::outcome(
                        "Approval needs an authenticated approver",
                        "Production changes cannot be approved from a link. Approve with `infra-agent approve` \
                         under your IAM identity. Rejecting from this page is allowed. Nothing was changed.",
                    ),
                );
            }
            let comment = form.get("comment").and_then(|c| comment_text(c));
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
                    let missing = record.approvers_still_needed();
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

fn already_decided_text(approval: &ApprovalRecord) -> String {
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
    HttpResponse::page(
        refusal_status(&refused),
        page::outcome("Not decided", &format!("{refused}. Nothing was changed.")),
    )
}

fn server_error(err: &crate::StepError) -> HttpResponse {
    tracing::error!(error = %err, "approval link failed");
    HttpResponse::page(
        503,
        page::outcome(
            "Try again",
            "The approval service could not complete the request. Nothing was decided; try again.",
        ),
    )
}

#[cfg(test)]
mod tests {
    use infra_agent_core::records::ApprovalRecord;
    use serde_json::json;

    use super::*;
    use crate::fakes::Fakes;
    use crate::ports::Approvals;
    use infra_agent_core::approval::text::MAX_APPROVER_LEN;

    const ID: &str = "a1b2c3d4-0123456789ab";
    const HOSTILE: &str = "Eve\x1b[2J\x1b[1;1HAll good\x1b]0;owned\x07";

    /// A pending dev approval that one approver decides, its execution waiting.
    async fn pending(fakes: &Fakes) -> ApprovalRecord {
        let (at, epoch) = now();
        let record: ApprovalRecord = serde_json::from_value(json!({
            "approval_id": ID,
            "deployment_id": "dev-vpc-20270115T080000-abcd",
            "env": "dev",
            "stack": "vpc",
            "stack_name": "infra-agent-dev-vpc",
            "change_set_name": "infra-agent-dev-vpc-20270115-001",
            "requested_by": "alice",
            "summary_lines": [],
            "replacements": [],
            "deletions": [],
            "validation_passed": true,
            "required_approvers": 1,
            "task_token": "token-1",
            "status": "PENDING",
            "created_at": at,
            "expires_at": at,
            "expires_epoch": epoch + 3600,
        }))
        .expect("a valid approval record");
        fakes.store.put_approval(&record).await.unwrap();
        fakes.store.approval(ID).await.unwrap().expect("stored")
    }

    /// The POST of the confirmation page's form, on a valid link.
    async fn press(fakes: &Fakes, form: &[(&str, &str)]) -> HttpResponse {
        let pipeline = fakes.pipeline();
        let (_, epoch) = now();
        let link = ApprovalLink::new(pipeline.settings.approval_key().unwrap(), ID, epoch + 600);
        let request = HttpRequest {
            method: "POST".into(),
            path: format!("/approvals/{ID}"),
            query: [
                ("exp".to_string(), link.expires_epoch.to_string()),
                ("sig".to_string(), link.signature),
            ]
            .into(),
            body: form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish(),
            caller: None,
            headers: Default::default(),
        };
        handle(&pipeline, request).await
    }

    #[tokio::test]
    async fn approver_name_with_control_characters_is_refused_and_changes_nothing() {
        for name in [
            HOSTILE,
            "Eve\nApproved by: Mallory",
            "Eve\u{9b}2J",
            "Eve\u{202e}evE",
        ] {
            let fakes = Fakes::new();
            let before = pending(&fakes).await;
            let response = press(&fakes, &[("decision", "approve"), ("approver", name)]).await;
            assert_eq!(response.status, 400, "{name:?}");
            assert!(
                response.body.contains("Give your name"),
                "{}",
                response.body
            );
            assert_eq!(fakes.store.approval(ID).await.unwrap(), Some(before));
            assert!(fakes.executions.resumed().is_empty(), "{name:?}");
        }
    }

    #[tokio::test]
    async fn approver_name_is_bounded_in_characters_not_bytes() {
        let fakes = Fakes::new();
        let before = pending(&fakes).await;
        let too_long = "é".repeat(MAX_APPROVER_LEN + 1);
        let response = press(&fakes, &[("decision", "approve"), ("approver", &too_long)]).await;
        assert_eq!(response.status, 400);
        assert_eq!(fakes.store.approval(ID).await.unwrap(), Some(before));

        let longest = "é".repeat(MAX_APPROVER_LEN);
        let response = press(&fakes, &[("decision", "approve"), ("approver", &longest)]).await;
        assert_eq!(response.status, 200, "{}", response.body);
        let decided = fakes.store.approval(ID).await.unwrap().expect("stored");
        assert_eq!(decided.status, ApprovalStatus::Approved);
        assert_eq!(decided.approver.as_deref(), Some(longest.as_str()));
    }

    #[tokio::test]
    async fn comment_is_recorded_on_one_line_without_control_characters() {
        let fakes = Fakes::new();
        pending(&fakes).await;
        let response = press(
            &fakes,
            &[
                ("decision", "reject"),
                ("approver", "  Ada  "),
                (
                    "comment",
                    "\tnot now\r\nsee\u{1b}[2J ticket\u{7}\u{202e}42\n",
                ),
            ],
        )
        .await;
        assert_eq!(response.status, 200, "{}", response.body);
        let decided = fakes.store.approval(ID).await.unwrap().expect("stored");
        assert_eq!(decided.status, ApprovalStatus::Rejected);
        assert_eq!(decided.approver.as_deref(), Some("Ada"));
        assert_eq!(
            decided.comment.as_deref(),
            Some("not now  see [2J ticket  42")
        );
    }
}
