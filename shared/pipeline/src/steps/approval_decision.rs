//! The decision endpoint: `POST /decisions/{approval_id}` with `{"decision","comment"}`, behind a
//! function URL whose AuthType is AWS_IAM. The approver is the caller IAM authenticated — never a
//! name the client sends — and must match one of the approval's environment's approver patterns.

use infra_agent_core::approval::api::{DecisionAnswer, DecisionRefusal, DecisionRequest};
use infra_agent_core::approval::approvers::allowed_by;
use infra_agent_core::approval::http::{refusal_status, HttpRequest, HttpResponse};
use infra_agent_core::approval::text::comment_text;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::records::ApprovalStatus;

use super::decision::{decide, refused_entry};
use crate::ports::Pipeline;

/// The channel recorded with decisions taken here.
const CHANNEL: &str = "iam";

pub async fn handle(pipeline: &Pipeline, request: HttpRequest) -> HttpResponse {
    // Without an authenticated caller there is nobody to record: the request did not come
    // through the AWS_IAM URL.
    let Some(caller) = request.caller.as_deref().filter(|c| !c.trim().is_empty()) else {
        tracing::warn!(path = %request.path, "decision without an IAM-authenticated caller");
        return refusal(
            403,
            "Unauthenticated",
            "decisions are taken only for callers IAM authenticated (a SigV4-signed request to the \
             decision endpoint's AWS_IAM function URL)"
                .into(),
        );
    };
    let Some(approval_id) = request
        .path
        .strip_prefix("/decisions/")
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    else {
        return refusal(
            404,
            "NotFound",
            format!("no such resource: {}", request.path.escape_debug()),
        );
    };
    if request.method != "POST" {
        return refusal(
            405,
            "MethodNotAllowed",
            "decide with POST /decisions/{approval_id}".into(),
        );
    }
    let body: DecisionRequest = match serde_json::from_str(&request.body) {
        Ok(body) => body,
        Err(e) => {
            return refusal(
                400,
                "BadRequest",
                format!(
                    "expected {{\"decision\": \"approve\"|\"reject\", \"comment\": …}}: {e} \
                     (the approver is the signed caller; it cannot be named)"
                ),
            )
        }
    };
    let approval = match pipeline.store.approval(approval_id).await {
        Ok(Some(approval)) => approval,
        Ok(None) => {
            return refusal(
                404,
                "NotFound",
                format!("approval {approval_id} does not exist"),
            )
        }
        Err(e) => return unavailable(&e),
    };
    let config = match EnvironmentConfig::builtin(approval.env) {
        Ok(config) => config,
        Err(e) => return unavailable(&crate::StepError::Configuration(e.to_string())),
    };
    let decision = body.decision.decision();
    if allowed_by(&config.approvers, caller).is_none() {
        tracing::warn!(approval_id, caller, env = %approval.env, "caller may not decide");
        let refused = refused_entry(
            &approval,
            caller,
            format!(
                "approval {approval_id} ({}) via {CHANNEL}: the caller matches none of {}'s approver patterns",
                decision.as_str(),
                approval.env
            ),
        );
        if let Err(e) = pipeline.store.audit(&refused).await {
            return unavailable(&e);
        }
        return refusal(
            403,
            "NotAnApprover",
            format!(
                "{caller} may not decide approvals in {} (infra/environments/{}.toml lists who may)",
                approval.env, approval.env
            ),
        );
    }
    let comment = body.comment.as_deref().and_then(comment_text);
    match decide(
        pipeline.store.as_ref(),
        pipeline.executions.as_ref(),
        approval_id,
        decision,
        caller,
        comment.as_deref(),
        CHANNEL,
    )
    .await
    {
        Ok(Ok(record)) => {
            let status = if record.status == ApprovalStatus::Pending {
                202
            } else {
                200
            };
            HttpResponse::json(status, &DecisionAnswer::new(&record, decision, caller))
        }
        Ok(Err(refused)) => refusal(
            refusal_status(&refused),
            refused.code(),
            refused.to_string(),
        ),
        Err(e) => unavailable(&e),
    }
}

fn refusal(status: u16, error: &str, message: String) -> HttpResponse {
    HttpResponse::json(
        status,
        &DecisionRefusal {
            error: error.to_string(),
            message: format!("{message}; nothing was changed"),
        },
    )
}

fn unavailable(err: &crate::StepError) -> HttpResponse {
    tracing::error!(error = %err, "decision endpoint failed");
    refusal(
        503,
        "Unavailable",
        "the approval service could not complete the request; try again".into(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fakes::Fakes;
    use crate::ports::{Approvals, AuditTrail};
    use infra_agent_core::contract::approval::{ApprovalDecision, Decision};
    use infra_agent_core::naming::Env;
    use infra_agent_core::records::ApprovalRecord;

    const ID: &str = "a1b2c3d4-0123456789ab";
    const ADA: &str = "arn:aws:sts::123456789012:assumed-role/infra-agent-approver-prd/ada";
    const GRACE: &str = "arn:aws:sts::123456789012:assumed-role/infra-agent-approver-prd/grace";
    const ENGINEER: &str = "arn:aws:iam::123456789012:user/engineer";

    /// A pending prd approval (two distinct approvers), its execution waiting.
    async fn pending(fakes: &Fakes) -> ApprovalRecord {
        let expires = infra_agent_core::clock::now().1 + 3600;
        fakes
            .store
            .put_approval(&crate::fakes::pending_approval(ID, 2, expires))
            .await
            .unwrap();
        fakes.store.approval(ID).await.unwrap().expect("stored")
    }

    async fn post(fakes: &Fakes, caller: Option<&str>, body: serde_json::Value) -> HttpResponse {
        handle(
            &fakes.pipeline(),
            HttpRequest {
                method: "POST".into(),
                path: format!("/decisions/{ID}"),
                body: body.to_string(),
                caller: caller.map(str::to_string),
                ..HttpRequest::default()
            },
        )
        .await
    }

    fn answer(response: &HttpResponse) -> DecisionAnswer {
        serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{e}: {}", response.body))
    }

    fn refused(response: &HttpResponse) -> DecisionRefusal {
        serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{e}: {}", response.body))
    }

    #[tokio::test]
    async fn a_request_without_an_authenticated_caller_is_refused_and_changes_nothing() {
        let fakes = Fakes::new();
        let before = pending(&fakes).await;
        for caller in [None, Some(""), Some("  ")] {
            let response = post(&fakes, caller, json!({"decision": "approve"})).await;
            assert_eq!(response.status, 403, "{caller:?}");
            assert_eq!(response.content_type, "application/json");
            assert_eq!(refused(&response).error, "Unauthenticated");
        }
        assert_eq!(fakes.store.approval(ID).await.unwrap(), Some(before));
        assert!(fakes.executions.resumed().is_empty());
        assert!(fakes
            .store
            .audit_trail(Env::Prd, "vpc")
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn a_caller_matching_no_approver_pattern_is_refused_audited_and_changes_nothing() {
        let fakes = Fakes::new();
        let before = pending(&fakes).await;
        for decision in ["approve", "reject"] {
            let response = post(&fakes, Some(ENGINEER), json!({"decision": decision})).await;
            assert_eq!(response.status, 403, "{}", response.body);
            let refusal = refused(&response);
            assert_eq!(refusal.error, "NotAnApprover");
            assert!(refusal.message.contains(ENGINEER), "{}", refusal.message);
        }
        assert_eq!(fakes.store.approval(ID).await.unwrap(), Some(before));
        assert!(fakes.executions.resumed().is_empty());
        let trail = fakes.store.audit_trail(Env::Prd, "vpc").await.unwrap();
        assert_eq!(trail.len(), 2, "{trail:?}");
        for entry in trail {
            assert_eq!(
                (
                    entry.actor.as_str(),
                    entry.action.as_str(),
                    entry.outcome.as_str()
                ),
                (ENGINEER, "approval.decide", "REFUSED")
            );
            let detail = entry.detail.unwrap_or_default();
            assert!(
                detail.contains(ID) && detail.contains("approver patterns"),
                "{detail}"
            );
        }
    }

    /// The approver is whoever signed: a name in the body is refused, and nothing a client
    /// sends can stand in for the caller.
    #[tokio::test]
    async fn the_recorded_approver_is_the_caller_never_a_name_the_client_sends() {
        let fakes = Fakes::new();
        let before = pending(&fakes).await;
        let named = post(
            &fakes,
            Some(ADA),
            json!({"decision": "approve", "approver": GRACE}),
        )
        .await;
        assert_eq!(named.status, 400, "{}", named.body);
        assert!(
            refused(&named).message.contains("approver"),
            "{}",
            named.body
        );
        assert_eq!(fakes.store.approval(ID).await.unwrap(), Some(before));

        let first = post(
            &fakes,
            Some(ADA),
            json!({"decision": "approve", "comment": "approved by grace"}),
        )
        .await;
        assert_eq!(first.status, 202, "one of two: {}", first.body);
        let first = answer(&first);
        assert_eq!(first.recorded_approver, ADA);
        assert_eq!(first.approved_by, [ADA]);
        assert_eq!(first.approvers_still_needed, 1);
        assert_eq!(first.status, ApprovalStatus::Pending);
        assert!(fakes.executions.resumed().is_empty());

        let again = post(&fakes, Some(ADA), json!({"decision": "approve"})).await;
        assert_eq!(again.status, 409, "{}", again.body);
        assert_eq!(refused(&again).error, "AlreadyApprovedBy");

        let second = post(&fakes, Some(GRACE), json!({"decision": "approve"})).await;
        assert_eq!(second.status, 200, "{}", second.body);
        let second = answer(&second);
        assert_eq!(second.status, ApprovalStatus::Approved);
        assert_eq!(second.approvers_still_needed, 0);
        let stored = fakes.store.approval(ID).await.unwrap().expect("stored");
        assert_eq!(
            stored.approver.as_deref(),
            Some(format!("{ADA}, {GRACE}").as_str())
        );
        let resumed = fakes.executions.resumed();
        assert_eq!(resumed.len(), 1);
        let crate::ports::TaskOutcome::Success { output } = &resumed[0] else {
            panic!("{resumed:?}");
        };
        let sent: ApprovalDecision = serde_json::from_str(output).unwrap();
        assert_eq!(sent.decision, Decision::Approved);
        assert_eq!(sent.channel, "iam");
    }

    #[tokio::test]
    async fn malformed_requests_and_unknown_approvals_are_refused_and_change_nothing() {
        let fakes = Fakes::new();
        let before = pending(&fakes).await;
        for (method, path, body, status) in [
            (
                "GET",
                format!("/decisions/{ID}"),
                json!({"decision": "approve"}),
                405,
            ),
            (
                "POST",
                "/decisions/".to_string(),
                json!({"decision": "approve"}),
                404,
            ),
            (
                "POST",
                format!("/approvals/{ID}"),
                json!({"decision": "approve"}),
                404,
            ),
            (
                "POST",
                "/decisions/../x".to_string(),
                json!({"decision": "approve"}),
                404,
            ),
            (
                "POST",
                format!("/decisions/{ID}"),
                json!({"decision": "maybe"}),
                400,
            ),
            (
                "POST",
                format!("/decisions/{ID}"),
                json!({"comment": "no decision"}),
                400,
            ),
            (
                "POST",
                "/decisions/ffffffff-ffffffffffff".to_string(),
                json!({"decision": "reject"}),
                404,
            ),
        ] {
            let response = handle(
                &fakes.pipeline(),
                HttpRequest {
                    method: method.into(),
                    path: path.clone(),
                    body: body.to_string(),
                    caller: Some(ADA.into()),
                    ..HttpRequest::default()
                },
            )
            .await;
            assert_eq!(
                response.status, status,
                "{method} {path} {body}: {}",
                response.body
            );
        }
        assert_eq!(fakes.store.approval(ID).await.unwrap(), Some(before));
    }

    #[tokio::test]
    async fn a_rejection_is_recorded_under_the_caller_with_its_comment_on_one_line() {
        let fakes = Fakes::new();
        pending(&fakes).await;
        let response = post(
            &fakes,
            Some(GRACE),
            json!({"decision": "reject", "comment": "not\r\nnow\u{1b}[2J"}),
        )
        .await;
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(answer(&response).decision, Decision::Rejected);
        let stored = fakes.store.approval(ID).await.unwrap().expect("stored");
        assert_eq!(stored.status, ApprovalStatus::Rejected);
        assert_eq!(stored.approver.as_deref(), Some(GRACE));
        assert_eq!(stored.comment.as_deref(), Some("not  now [2J"));
    }
}
