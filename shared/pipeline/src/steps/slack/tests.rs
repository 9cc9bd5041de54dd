use infra_agent_core::approval::slack::{signature, SlackCredentials};
use serde_json::json;

use super::*;
use crate::fakes::{pending_approval, Fakes};
use crate::ports::{Approvals, AuditTrail};

const ID: &str = "a1b2c3d4-0123456789ab";
const SECRET: &str = "a signing secret";
/// Listed under [slack] in dev.toml and prd.toml.
const APPROVER: &str = "U07PLATFORM1";
const RESPONSE_URL: &str = "https://hooks.slack.com/actions/T1/42/abc";

fn credentials() -> SlackCredentials {
    SlackCredentials::from_secret(
        &json!({"signing_secret": SECRET, "bot_token": "xoxb-1"}).to_string(),
    )
    .unwrap()
    .unwrap()
}

/// Fakes with Slack set up and a pending approval in `env`, its execution waiting.
async fn pending(env: Env) -> Fakes {
    let fakes = Fakes::new();
    fakes.chat.set_credentials(Some(credentials()));
    let mut record = pending_approval(ID, 1, now().1 + 3600);
    record.env = env;
    record.deployment_id = format!("{env}-vpc-20270115T080000-abcd");
    record.stack_name = format!("infra-agent-{env}-vpc");
    record.summary_lines = vec!["Add AWS::EC2::Subnet ×9".into()];
    fakes.store.put_approval(&record).await.unwrap();
    fakes
}

fn click_body(user: &str, action: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": user, "username": "ada"},
        "actions": [{"action_id": action, "value": ID, "type": "button"}],
        "response_url": RESPONSE_URL,
        "message": {"blocks": [{"type": "actions", "elements": [
            {"action_id": "view", "url": "https://link/approvals/x?sig=1"}
        ]}]},
    });
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

/// A request as Slack sends it, signed with `secret` at `timestamp`.
fn signed(body: &str, secret: &str, timestamp: i64) -> HttpRequest {
    let ts = timestamp.to_string();
    HttpRequest {
        method: "POST".into(),
        path: INTERACTIONS_PATH.into(),
        body: body.to_string(),
        headers: [
            (TIMESTAMP_HEADER.to_string(), ts.clone()),
            (
                SIGNATURE_HEADER.to_string(),
                signature(secret, &ts, body.as_bytes()),
            ),
        ]
        .into(),
        ..HttpRequest::default()
    }
}

async fn click(fakes: &Fakes, user: &str, action: &str) -> HttpResponse {
    let body = click_body(user, action);
    interaction(&fakes.pipeline(), &signed(&body, SECRET, now().1)).await
}

async fn status(fakes: &Fakes) -> ApprovalStatus {
    fakes.store.approval(ID).await.unwrap().unwrap().status
}

async fn audited(fakes: &Fakes, env: Env) -> Vec<AuditEntry> {
    fakes.store.audit_trail(env, "vpc").await.unwrap()
}

#[tokio::test]
async fn a_signed_approve_from_a_listed_user_decides_and_updates_the_message() {
    let fakes = pending(Env::Dev).await;
    let response = click(&fakes, APPROVER, "approve").await;
    assert_eq!(response.status, 200, "{}", response.body);
    let decided = fakes.store.approval(ID).await.unwrap().unwrap();
    assert_eq!(decided.status, ApprovalStatus::Approved);
    assert_eq!(
        decided.approver.as_deref(),
        Some("@ada (Slack U07PLATFORM1)")
    );
    assert_eq!(fakes.executions.resumed().len(), 1);
    let answers = fakes.chat.responded();
    assert_eq!(answers.len(), 1);
    let (url, message) = &answers[0];
    assert_eq!(url, RESPONSE_URL);
    assert_eq!(message["replace_original"], true);
    let text = message.to_string();
    assert!(
        text.contains("*Approved* by @ada (Slack U07PLATFORM1) at "),
        "{text}"
    );
    assert!(!text.contains("\"actions\""), "buttons gone: {text}");
    let trail = audited(&fakes, Env::Dev).await;
    assert!(trail.iter().any(|e| e.action == "approval.decide"
        && e.outcome == "APPROVED"
        && e.detail.as_deref().unwrap_or("").contains("via slack")));
}

#[tokio::test]
async fn forged_and_replayed_requests_change_nothing_and_are_audited() {
    let fakes = pending(Env::Dev).await;
    let body = click_body(APPROVER, "approve");
    let (_, epoch) = now();
    for (request, says) in [
        (
            signed(&body, "not the secret", epoch),
            "signature does not match",
        ),
        (signed(&body, SECRET, epoch - 301), "more than 300 s"),
        (
            HttpRequest {
                headers: Default::default(),
                ..signed(&body, SECRET, epoch)
            },
            "not signed",
        ),
        (
            // Signed, then the body changed on the way.
            HttpRequest {
                body: body.replace("approve", "reject"),
                ..signed(&body, SECRET, epoch)
            },
            "signature does not match",
        ),
    ] {
        let response = interaction(&fakes.pipeline(), &request).await;
        assert_eq!(response.status, 401, "{}", response.body);
        assert!(response.body.contains(says), "{}", response.body);
        assert!(response.body.contains("Nothing was changed"));
    }
    assert_eq!(status(&fakes).await, ApprovalStatus::Pending);
    assert!(fakes.executions.resumed().is_empty());
    assert!(
        fakes.chat.responded().is_empty(),
        "an unverified response_url is never called"
    );
    let refusals: Vec<_> = audited(&fakes, Env::Dev)
        .await
        .into_iter()
        .filter(|e| e.outcome == "REFUSED" && e.actor.starts_with("unverified Slack request"))
        .collect();
    assert_eq!(refusals.len(), 4, "{refusals:?}");
}

#[tokio::test]
async fn an_unknown_user_changes_nothing_and_is_told_why() {
    let fakes = pending(Env::Dev).await;
    let response = click(&fakes, "U0STRANGER", "approve").await;
    assert_eq!(response.status, 200);
    assert_eq!(status(&fakes).await, ApprovalStatus::Pending);
    assert!(fakes.executions.resumed().is_empty());
    let answers = fakes.chat.responded();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].1["response_type"], "ephemeral");
    assert!(answers[0].1["text"]
        .as_str()
        .unwrap()
        .contains("not a Slack approver of dev"));
    assert!(audited(&fakes, Env::Dev)
        .await
        .iter()
        .any(|e| e.outcome == "REFUSED" && e.actor.contains("U0STRANGER")));
}

#[tokio::test]
async fn a_second_click_is_refused_and_the_message_shows_the_first_decision() {
    let fakes = pending(Env::Dev).await;
    click(&fakes, APPROVER, "reject").await;
    assert_eq!(status(&fakes).await, ApprovalStatus::Rejected);
    let response = click(&fakes, "U07PLATFORM2", "approve").await;
    assert_eq!(response.status, 200);
    assert_eq!(status(&fakes).await, ApprovalStatus::Rejected);
    assert_eq!(fakes.executions.resumed().len(), 1);
    let answers = fakes.chat.responded();
    let last = &answers.last().unwrap().1;
    assert_eq!(last["response_type"], "ephemeral");
    assert!(
        last["text"].as_str().unwrap().contains("already decided"),
        "{last}"
    );
    assert!(
        answers
            .iter()
            .filter(|(_, m)| m.to_string().contains("*Rejected* by @ada"))
            .count()
            >= 2
    );
}

#[tokio::test]
async fn in_prd_slack_rejects_but_never_approves() {
    let fakes = pending(Env::Prd).await;
    click(&fakes, APPROVER, "approve").await;
    assert_eq!(status(&fakes).await, ApprovalStatus::Pending);
    assert!(fakes.executions.resumed().is_empty());
    let text = fakes.chat.responded()[0].1["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains(&format!("infra-agent approve {ID}")),
        "{text}"
    );

    click(&fakes, APPROVER, "reject").await;
    assert_eq!(status(&fakes).await, ApprovalStatus::Rejected);
}

#[tokio::test]
async fn answers_go_nowhere_but_slack() {
    let fakes = pending(Env::Dev).await;
    let body = click_body(APPROVER, "approve").replace("hooks.slack.com", "attacker.example");
    let response = interaction(&fakes.pipeline(), &signed(&body, SECRET, now().1)).await;
    assert_eq!(response.status, 200);
    assert_eq!(status(&fakes).await, ApprovalStatus::Approved);
    assert!(fakes.chat.responded().is_empty());
}

#[tokio::test]
async fn without_slack_set_up_the_endpoint_is_not_there() {
    let fakes = pending(Env::Dev).await;
    fakes.chat.set_credentials(None);
    let response = click(&fakes, APPROVER, "approve").await;
    assert_eq!(response.status, 404);
    assert_eq!(status(&fakes).await, ApprovalStatus::Pending);
}

fn sns(attributes: &[(&str, &str)]) -> SnsEvent {
    let attributes: serde_json::Map<String, Value> = attributes
        .iter()
        .map(|(k, v)| (k.to_string(), json!({"Type": "String", "Value": v})))
        .collect();
    serde_json::from_value(json!({"Records": [{"Sns": {
        "Subject": "subject",
        "Message": "body",
        "MessageAttributes": attributes,
    }}]}))
    .unwrap()
}

#[tokio::test]
async fn notify_posts_a_pending_approval_to_the_environment_s_channel_once() {
    let fakes = pending(Env::Dev).await;
    let event = || {
        sns(&[
            ("environment", "dev"),
            ("approval_id", ID),
            ("approval_url", "https://link/approvals/x?sig=1"),
        ])
    };
    let done = notify(&fakes.pipeline(), event()).await.unwrap();
    assert_eq!(done.posted.len(), 1, "{done:?}");
    let posted = fakes.chat.posted();
    assert_eq!(posted[0].0, "#platform-deploys-dev");
    assert!(posted[0]
        .1
        .to_string()
        .contains("https://link/approvals/x?sig=1"));

    // Decided before the message arrives (a retried delivery): not posted again.
    click(&fakes, APPROVER, "approve").await;
    let again = notify(&fakes.pipeline(), event()).await.unwrap();
    assert!(again.posted.is_empty());
    assert!(again.skipped[0].contains("decided already"), "{again:?}");
}

#[tokio::test]
async fn notify_skips_when_the_secret_is_empty_and_fails_when_slack_does() {
    let fakes = pending(Env::Dev).await;
    fakes.chat.set_credentials(None);
    let event = || sns(&[("environment", "dev"), ("approval_id", ID)]);
    let done = notify(&fakes.pipeline(), event()).await.unwrap();
    assert!(done.posted.is_empty());
    assert!(done.skipped[0].contains("Slack is not set up"), "{done:?}");

    fakes.chat.set_credentials(Some(credentials()));
    *fakes.chat.failing.lock().unwrap() = true;
    let err = notify(&fakes.pipeline(), event()).await.unwrap_err();
    assert!(matches!(err, StepError::Transient { .. }), "{err}");
}

#[tokio::test]
async fn notify_posts_drift_reports_too() {
    let fakes = Fakes::new();
    fakes.chat.set_credentials(Some(credentials()));
    let done = notify(&fakes.pipeline(), sns(&[("kind", "drift"), ("env", "tst")]))
        .await
        .unwrap();
    assert_eq!(done.posted, ["subject to #platform-deploys-tst"]);
}
