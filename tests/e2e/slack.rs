//! Slack approvals against a stand-in Slack on 127.0.0.1: the approval topic's message reaches
//! the slack-notify function, which posts the Block Kit message; signed button clicks decide
//! through the approval link's function, which answers through `response_url`; what must be
//! refused is refused with nothing changed.

use std::time::Duration;

use infra_agent_core::approval::slack::MAX_CLOCK_SKEW_SECONDS;
use infra_agent_core::clock::now;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::Env;
use infra_agent_core::records::ApprovalStatus;
use infra_agent_tests::slack::{click_body, send_click, FakeSlack};
use infra_agent_tests::Backend;

const SIGNING_SECRET: &str = "e2e signing secret of the Slack app";
const TOKEN: &str = "xoxb-e2e-token";
const SECRET_ID: &str = "infra-agent/slack";

async fn set_slack_secret(value: &str) {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_secretsmanager::Client::new(&config)
        .put_secret_value()
        .secret_id(SECRET_ID)
        .secret_string(value)
        .send()
        .await
        .expect("put the Slack secret");
}

fn interactions_url() -> String {
    let base = std::env::var("INFRA_AGENT_APPROVAL_URL").expect("scripts/test sets it");
    format!("{}/slack/interactions", base.trim_end_matches('/'))
}

async fn status(backend: &Backend, id: &str) -> ApprovalStatus {
    backend.approval(id).await.status
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_message_buttons_decide_once_and_refuse_what_they_must() {
    let backend = Backend::connect().await;
    let slack = FakeSlack::start().await;
    set_slack_secret(
        &serde_json::json!({
            "signing_secret": SIGNING_SECRET,
            "bot_token": TOKEN,
            "api_url": slack.api_url(),
        })
        .to_string(),
    )
    .await;
    let dev = EnvironmentConfig::builtin(Env::Dev).unwrap().slack.unwrap();
    let approver = dev.approvers[0].clone();
    let url = interactions_url();

    // --- The message: posted once by slack-notify, with everything an approver judges by.
    let (started, message) = backend.waiting_vpc(Env::Dev, "slack").await;
    let id = message.approval_id;
    let posted = slack
        .wait_for("/api/chat.postMessage", &id, Duration::from_secs(30))
        .await;
    assert_eq!(
        posted.authorization.as_deref(),
        Some("Bearer xoxb-e2e-token")
    );
    assert_eq!(posted.body["channel"], dev.channel.as_str());
    let text = posted.body.to_string();
    for expected in [
        started.stack.as_str(),
        "Requested by",
        "Validation",
        "Cost",
        "Changes",
        "/lambda-url/infra-agent-approval-link/approvals/",
    ] {
        assert!(text.contains(expected), "{expected} missing: {text}");
    }
    let actions = posted.body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .expect("buttons");
    assert_eq!(actions["elements"][0]["action_id"], "approve");
    assert_eq!(actions["elements"][0]["style"], "primary");
    assert_eq!(actions["elements"][1]["style"], "danger");
    assert!(actions["elements"][1]["confirm"].is_object());

    // --- Forged, replayed and unknown-user clicks change nothing.
    let response_url = slack.response_url("dev");
    let good = click_body(&approver, "approve", &id, &response_url);
    let (_, epoch) = now();
    let (forged, answer) = send_click(&url, &good, "a guessed secret", epoch).await;
    assert_eq!(forged, 401, "{answer}");
    let (replayed, answer) = send_click(
        &url,
        &good,
        SIGNING_SECRET,
        epoch - MAX_CLOCK_SKEW_SECONDS - 60,
    )
    .await;
    assert_eq!(replayed, 401, "{answer}");
    assert!(answer.contains("replay"), "{answer}");
    let stranger = click_body("U0STRANGER9", "approve", &id, &response_url);
    let (ok, _) = send_click(&url, &stranger, SIGNING_SECRET, now().1).await;
    assert_eq!(ok, 200);
    let told = slack
        .wait_for(
            "/actions/dev",
            "not a Slack approver",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(told.body["response_type"], "ephemeral");
    assert_eq!(status(&backend, &id).await, ApprovalStatus::Pending);
    let trail = backend.audit_trail(&started).await;
    assert!(
        trail
            .iter()
            .filter(|a| a.action == "approval.decide" && a.outcome == "REFUSED")
            .count()
            >= 3,
        "forged, replayed and unknown clicks are audited: {trail:?}"
    );

    // --- The approver's click approves, the stack deploys, the message says who approved.
    let clicked = std::time::Instant::now();
    let (ok, _) = send_click(&url, &good, SIGNING_SECRET, now().1).await;
    assert_eq!(ok, 200);
    // Slack shows the clicker an error after 3 s; the figure is printed, not asserted.
    eprintln!(
        "the approving click (verify, decide, resume, update the message) answered in {} ms",
        clicked.elapsed().as_millis()
    );
    let updated = slack
        .wait_for("/actions/dev", "Approved", Duration::from_secs(5))
        .await;
    assert_eq!(updated.body["replace_original"], true);
    assert!(
        updated
            .body
            .to_string()
            .contains(&format!("(Slack {approver})")),
        "{}",
        updated.body
    );
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    assert_eq!(
        backend.stack_status(&started).await.as_deref(),
        Some("CREATE_COMPLETE")
    );

    // --- A second click is refused.
    let second = click_body(&dev.approvers[1], "reject", &id, &response_url);
    let (ok, _) = send_click(&url, &second, SIGNING_SECRET, now().1).await;
    assert_eq!(ok, 200);
    slack
        .wait_for("/actions/dev", "already decided", Duration::from_secs(5))
        .await;
    assert_eq!(status(&backend, &id).await, ApprovalStatus::Approved);

    // --- prd: no Approve button; an approve click is refused, a reject decides.
    let (prd_started, prd_message) = backend.waiting_vpc(Env::Prd, "slackprd").await;
    let prd_id = prd_message.approval_id;
    let posted = slack
        .wait_for("/api/chat.postMessage", &prd_id, Duration::from_secs(30))
        .await;
    assert!(!posted
        .body
        .to_string()
        .contains("\"action_id\":\"approve\""));
    assert!(posted
        .body
        .to_string()
        .contains(&format!("infra-agent approve {prd_id}")));
    let prd_url = slack.response_url("prd");
    let approve = click_body(&approver, "approve", &prd_id, &prd_url);
    let (ok, _) = send_click(&url, &approve, SIGNING_SECRET, now().1).await;
    assert_eq!(ok, 200);
    slack
        .wait_for(
            "/actions/prd",
            "cannot be approved from Slack",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(status(&backend, &prd_id).await, ApprovalStatus::Pending);
    let reject = click_body(&approver, "reject", &prd_id, &prd_url);
    send_click(&url, &reject, SIGNING_SECRET, now().1).await;
    assert_eq!(status(&backend, &prd_id).await, ApprovalStatus::Rejected);
    let ended = backend.wait_for_end(&prd_started).await;
    assert_eq!(
        ended.error.as_deref(),
        Some("ApprovalRejected"),
        "{ended:?}"
    );

    set_slack_secret("{}").await;
}
