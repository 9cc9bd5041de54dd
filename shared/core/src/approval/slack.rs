//! Approvals in Slack: the Block Kit message the notify function posts, the request signature
//! Slack puts on every button click, the click's payload, and the message a decision leaves.
//!
//! Slack signs `v0:{timestamp}:{raw body}` with HMAC-SHA256 under the app's signing secret; a
//! click is believed only after that signature verifies (in constant time) and its timestamp is
//! within five minutes of now, before its `payload` field is read.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::rules::links_may_approve;
use crate::records::{ApprovalRecord, ApprovalStatus};

type HmacSha256 = Hmac<Sha256>;

/// How far a request's timestamp may be from now, either way (Slack's own advice).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 5 * 60;
/// The `X-Slack-Request-Timestamp` header, lower-cased as requests carry headers here.
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// The `X-Slack-Signature` header (`v0=<hex>`).
pub const SIGNATURE_HEADER: &str = "x-slack-signature";
/// Action ids of the message's buttons.
pub const APPROVE: &str = "approve";
pub const REJECT: &str = "reject";
pub const VIEW: &str = "view";
/// Slack's limits: a section's text, a header's text; longer lists are cut with a pointer to the
/// page.
const MAX_SECTION_CHARS: usize = 2900;
const MAX_HEADER_CHARS: usize = 150;
const MAX_LISTED: usize = 15;

/// Slack's Web API, unless the secret names another (GovSlack's `https://slack-gov.com/api`).
pub const DEFAULT_API_URL: &str = "https://slack.com/api";
/// Where Slack's `response_url`s point, whatever the workspace.
const RESPONSE_HOSTS: [&str; 2] = ["https://hooks.slack.com/", "https://hooks.slack-gov.com/"];

/// The Slack app's credentials, as the pipeline's Slack secret holds them (JSON):
/// `{"signing_secret": "…", "bot_token": "xoxb-…"}` or `{"signing_secret": "…",
/// "webhook_url": "https://hooks.slack.com/services/…"}`, optionally with `"api_url"`.
/// `Debug` shows none of them.
#[derive(Clone, PartialEq, Eq)]
pub struct SlackCredentials {
    /// Verifies the buttons' requests.
    pub signing_secret: String,
    pub delivery: Delivery,
    /// The Web API's base URL (`chat.postMessage` is below it).
    pub api_url: String,
}

/// How messages are posted.
#[derive(Clone, PartialEq, Eq)]
pub enum Delivery {
    /// `chat.postMessage` with a bot token (`xoxb-…`), to the environment's channel.
    BotToken(String),
    /// An incoming webhook, which posts to the channel it was made for.
    Webhook(String),
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Delivery::BotToken(_) => "BotToken(<redacted>)",
            Delivery::Webhook(_) => "Webhook(<redacted>)",
        })
    }
}

impl std::fmt::Debug for SlackCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackCredentials")
            .field("delivery", &self.delivery)
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFields {
    #[serde(default)]
    signing_secret: Option<String>,
    #[serde(default)]
    bot_token: Option<String>,
    #[serde(default)]
    webhook_url: Option<String>,
    #[serde(default)]
    api_url: Option<String>,
}

impl SlackCredentials {
    /// Reads the secret's value. `{}` (as the pipeline's template creates it) is Slack not set
    /// up: `None`. A half-filled secret is an error naming what is missing, never a value.
    pub fn from_secret(text: &str) -> Result<Option<SlackCredentials>, String> {
        let fields: SecretFields = serde_json::from_str(text).map_err(|e| {
            format!("the Slack secret is not the expected JSON object (signing_secret, bot_token or webhook_url, api_url): {e}")
        })?;
        let given = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let (secret, token, webhook) = (
            given(fields.signing_secret),
            given(fields.bot_token),
            given(fields.webhook_url),
        );
        if secret.is_none() && token.is_none() && webhook.is_none() {
            return Ok(None);
        }
        let signing_secret = secret.ok_or("the Slack secret has no signing_secret")?;
        let delivery = match (token, webhook) {
            (Some(token), None) => Delivery::BotToken(token),
            (None, Some(url)) if secure(&url) => Delivery::Webhook(url),
            (None, Some(_)) => {
                return Err("the Slack secret's webhook_url must be an https URL".into())
            }
            (Some(_), Some(_)) => {
                return Err("the Slack secret has both bot_token and webhook_url: keep one".into())
            }
            (None, None) => {
                return Err("the Slack secret has neither bot_token nor webhook_url".into())
            }
        };
        let api_url = given(fields.api_url)
            .unwrap_or_else(|| DEFAULT_API_URL.to_string())
            .trim_end_matches('/')
            .to_string();
        if !secure(&api_url) {
            return Err("the Slack secret's api_url must be an https URL".into());
        }
        Ok(Some(SlackCredentials {
            signing_secret,
            delivery,
            api_url,
        }))
    }

    /// Whether a click's `response_url` may be called: Slack's response hosts, or the host the
    /// secret's own API URL or webhook is on. A request is verified before this is asked; this
    /// keeps even a signed payload from sending the pipeline's answers anywhere else.
    pub fn may_respond_to(&self, response_url: &str) -> bool {
        let own = [
            Some(self.api_url.as_str()),
            match &self.delivery {
                Delivery::Webhook(url) => Some(url.as_str()),
                Delivery::BotToken(_) => None,
            },
        ];
        RESPONSE_HOSTS.iter().any(|h| response_url.starts_with(h))
            || own.into_iter().flatten().filter_map(origin).any(|o| {
                response_url
                    .strip_prefix(o)
                    .is_some_and(|rest| rest.starts_with('/'))
            })
    }
}

/// HTTPS, or plain HTTP to this machine's loopback address (a Slack stand-in for local runs):
/// tokens and answers never cross a network in the clear.
fn secure(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://127.0.0.1:")
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<&str> {
    let after_scheme = url.find("://")? + 3;
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    Some(&url[..end])
}

/// Why a request is not believed to come from Slack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackRefusal {
    #[error("the request is not signed (no X-Slack-Signature or X-Slack-Request-Timestamp)")]
    Unsigned,
    #[error("the request's timestamp is {age_seconds} s from now (more than {MAX_CLOCK_SKEW_SECONDS} s): a replay or a wrong clock")]
    Stale { age_seconds: i64 },
    #[error("the request's signature does not match the signing secret")]
    Forged,
}

/// `v0=<hex HMAC-SHA256 of v0:{timestamp}:{body}>`, as Slack signs.
pub fn signature(signing_secret: &str, timestamp: &str, body: &[u8]) -> String {
    format!(
        "v0={}",
        hex::encode(mac(signing_secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(signing_secret: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(signing_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

/// Checks a request's signature headers against its raw body: the timestamp first (a replay is
/// refused whatever it signs), then the signature, compared in constant time.
pub fn verify(
    signing_secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_epoch: i64,
) -> Result<(), SlackRefusal> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(SlackRefusal::Unsigned);
    };
    let sent: i64 = timestamp.trim().parse().map_err(|_| SlackRefusal::Forged)?;
    let age_seconds = now_epoch.saturating_sub(sent);
    if age_seconds.abs() > MAX_CLOCK_SKEW_SECONDS {
        return Err(SlackRefusal::Stale { age_seconds });
    }
    let given = signature
        .strip_prefix("v0=")
        .and_then(|hex_text| hex::decode(hex_text).ok())
        .ok_or(SlackRefusal::Forged)?;
    mac(signing_secret, timestamp, body)
        .verify_slice(&given)
        .map_err(|_| SlackRefusal::Forged)
}

/// A Slack user id (`U…`, or `W…` in Enterprise Grid), as env files list approvers.
pub fn is_user_id(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some('U' | 'W'))
        && text.len() >= 3
        && text.len() <= 32
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// What a button click carries that the endpoint reads (`type: block_actions`).
#[derive(Debug, Clone, Deserialize)]
pub struct Interaction {
    #[serde(rename = "type")]
    pub kind: String,
    pub user: SlackUser,
    #[serde(default)]
    pub actions: Vec<Action>,
    #[serde(default)]
    pub response_url: Option<String>,
    /// The message the button is on, as Slack sends it back.
    #[serde(default)]
    pub message: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SlackUser {
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Action {
    pub action_id: String,
    #[serde(default)]
    pub value: Option<String>,
}

impl Interaction {
    /// Reads the `payload` field of a verified request's form body.
    pub fn from_form(body: &str) -> Result<Interaction, String> {
        let form = super::http::parse_form(body);
        let payload = form.get("payload").ok_or("the form has no payload field")?;
        serde_json::from_str(payload).map_err(|e| format!("the payload does not read: {e}"))
    }

    /// The approval button pressed, with the approval it names: `None` for anything else (the
    /// View button opens the page in the browser and decides nothing).
    pub fn decision(&self) -> Option<(&str, &str)> {
        self.actions.iter().find_map(|a| {
            matches!(a.action_id.as_str(), APPROVE | REJECT)
                .then(|| (a.action_id.as_str(), a.value.as_deref().unwrap_or("")))
        })
    }

    /// The approval page the clicked message links to (its View button).
    pub fn view_url(&self) -> Option<&str> {
        self.message.as_ref()?["blocks"]
            .as_array()?
            .iter()
            .filter_map(|b| b["elements"].as_array())
            .flatten()
            .find(|e| e["action_id"] == VIEW)?["url"]
            .as_str()
    }

    /// How the approver is recorded: Slack's handle and user id, so the audit trail names the
    /// account that clicked.
    pub fn approver(&self) -> String {
        let handle = self
            .user
            .username
            .as_deref()
            .or(self.user.name.as_deref())
            .and_then(super::text::approver_name)
            .map(|h| h.chars().take(60).collect::<String>());
        match handle {
            Some(handle) => format!("@{handle} (Slack {})", self.user.id),
            None => format!("Slack {}", self.user.id),
        }
    }
}

/// Text for a `mrkdwn` field: Slack reads `&`, `<` and `>` as markup.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn cut(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn mrkdwn(text: impl Into<String>) -> Value {
    json!({"type": "mrkdwn", "text": cut(text.into(), MAX_SECTION_CHARS)})
}

fn plain(text: impl Into<String>) -> Value {
    json!({"type": "plain_text", "text": cut(text.into(), MAX_HEADER_CHARS), "emoji": true})
}

fn section(text: impl Into<String>) -> Value {
    json!({"type": "section", "text": mrkdwn(text)})
}

fn context(text: impl Into<String>) -> Value {
    json!({"type": "context", "elements": [mrkdwn(text)]})
}

/// A bulleted list, cut at `MAX_LISTED` items with a pointer to the page.
fn bullets(items: &[String]) -> String {
    let mut lines: Vec<String> = items
        .iter()
        .take(MAX_LISTED)
        .map(|i| format!("• {}", escape(i)))
        .collect();
    if items.len() > MAX_LISTED {
        lines.push(format!(
            "… and {} more (View shows all)",
            items.len() - MAX_LISTED
        ));
    }
    lines.join("\n")
}

/// The message's notification text (shown where blocks are not: notifications, screen readers).
fn fallback(approval: &ApprovalRecord) -> String {
    let mut text = format!(
        "Approval needed: {} in {} ({} changes",
        approval.stack_name,
        approval.env,
        approval.summary_lines.len()
    );
    if !approval.replacements.is_empty() {
        text.push_str(&format!(", {} replaced", approval.replacements.len()));
    }
    if !approval.deletions.is_empty() {
        text.push_str(&format!(", {} deleted", approval.deletions.len()));
    }
    text.push(')');
    text
}

/// Everything an approver judges a change by, as blocks: stack, environment, who asked,
/// validation, cost, approvers; the changes with replacements and deletions called out; what a
/// rollback returns to and the drift a deployment overwrites.
fn change_blocks(approval: &ApprovalRecord) -> Vec<Value> {
    let validation = if approval.validation_passed {
        ":white_check_mark: passed (NIST 800-53 rules)"
    } else {
        ":x: failed"
    };
    let cost = match (&approval.cost_line, approval.exceeds_budget) {
        (Some(line), true) => format!(":warning: {} — over the budget", escape(line)),
        (Some(line), false) => escape(line),
        (None, _) => "not estimated".to_string(),
    };
    let mut blocks = vec![
        json!({"type": "header", "text": plain(format!(
            "Approval needed: {} in {}", approval.stack, approval.env
        ))}),
        json!({"type": "section", "fields": [
            mrkdwn(format!("*Stack*\n`{}`", escape(&approval.stack_name))),
            mrkdwn(format!("*Environment*\n{}", approval.env)),
            mrkdwn(format!("*Requested by*\n{}", escape(&approval.requested_by))),
            mrkdwn(format!("*Validation*\n{validation}")),
            mrkdwn(format!("*Cost*\n{cost}")),
            mrkdwn(format!("*Approvers needed*\n{}", approval.required_approvers)),
        ]}),
    ];
    for (i, note) in approval.notes.iter().enumerate() {
        let text = escape(note);
        blocks.push(if i == 0 {
            section(format!(":rotating_light: *{text}*"))
        } else {
            context(text)
        });
    }
    let changes = if approval.summary_lines.is_empty() {
        "no resource changes".to_string()
    } else {
        bullets(&approval.summary_lines)
    };
    blocks.push(section(format!("*Changes*\n{changes}")));
    if !approval.replacements.is_empty() {
        blocks.push(section(format!(
            ":warning: *Replaced* (a new physical resource; the old one and its data go):\n{}",
            bullets(&approval.replacements)
        )));
    }
    if !approval.deletions.is_empty() {
        blocks.push(section(format!(
            ":warning: *Deleted*:\n{}",
            bullets(&approval.deletions)
        )));
    }
    blocks
}

fn button(action_id: &str, text: &str, value: &str) -> Value {
    json!({
        "type": "button",
        "action_id": action_id,
        "text": plain(text),
        "value": value,
    })
}

/// The approval message: the change, and Approve (primary), Reject (danger, confirmed) and View
/// (the approval page) buttons. Where links may not approve (prd), there is no Approve button and
/// the message says how to approve under IAM with MFA.
pub fn approval_message(approval: &ApprovalRecord, page_url: Option<&str>) -> Value {
    let mut blocks = change_blocks(approval);
    let mut approve = button(APPROVE, "Approve", &approval.approval_id);
    approve["style"] = json!("primary");
    let mut reject = button(REJECT, "Reject", &approval.approval_id);
    reject["style"] = json!("danger");
    reject["confirm"] = json!({
        "title": plain("Reject this change?"),
        "text": mrkdwn(format!(
            "The change set for `{}` in {} will be deleted and the deployment ends.",
            escape(&approval.stack_name), approval.env
        )),
        "confirm": plain("Reject"),
        "deny": plain("Cancel"),
        "style": "danger",
    });
    let view = page_url.map(|url| {
        json!({
            "type": "button",
            "action_id": VIEW,
            "text": plain("View"),
            "url": url,
            "accessibility_label": "Open the approval page",
        })
    });
    let mut elements = if links_may_approve(approval.env) {
        vec![approve, reject]
    } else {
        vec![reject]
    };
    elements.extend(view);
    blocks.push(json!({"type": "actions", "block_id": "decision", "elements": elements}));
    let mut footer = format!(
        "Approval `{}` · expires {}",
        approval.approval_id, approval.expires_at
    );
    if !links_may_approve(approval.env) {
        footer = format!(
            "{} changes are approved with `infra-agent approve {}` under your IAM identity, which requires MFA; Reject works here. {footer}",
            approval.env, approval.approval_id
        );
    }
    blocks.push(context(footer));
    json!({"text": fallback(approval), "blocks": blocks})
}

/// The clock time of an RFC 3339 instant, as the updated message shows it (`14:05 UTC`).
fn clock_time(at: &str) -> String {
    at.get(11..16)
        .map(|t| format!("{t} UTC"))
        .unwrap_or_else(|| at.to_string())
}

/// The message as a decision leaves it, sent through `response_url` to replace the original:
/// the change as it was, who decided and when, and no buttons. While more approvers are needed
/// the buttons stay, with who approved so far.
pub fn decided_message(approval: &ApprovalRecord, page_url: Option<&str>, by: &str) -> Value {
    let outcome = match approval.status {
        ApprovalStatus::Pending => {
            let mut message = approval_message(approval, page_url);
            let line = format!(
                ":ballot_box_with_check: Approved by {} ({} of {}); {} more must approve.",
                escape(&approval.approved_by.join(", ")),
                approval.approved_by.len(),
                approval.required_approvers,
                approval.approvers_still_needed()
            );
            if let Some(blocks) = message["blocks"].as_array_mut() {
                let at = blocks.len().saturating_sub(1);
                blocks.insert(at, section(line));
            }
            message["replace_original"] = json!(true);
            return message;
        }
        ApprovalStatus::Approved => ":white_check_mark: *Approved*",
        ApprovalStatus::Rejected => ":no_entry: *Rejected*",
        ApprovalStatus::Expired => ":hourglass: *Expired*",
    };
    let who = approval.approver.as_deref().unwrap_or(by);
    let when = approval
        .decided_at
        .as_deref()
        .map(|t| format!(" at {}", clock_time(t)))
        .unwrap_or_default();
    let mut line = format!("{outcome} by {}{when}", escape(who));
    if let Some(comment) = &approval.comment {
        line.push_str(&format!(": “{}”", escape(comment)));
    }
    let mut blocks = change_blocks(approval);
    if let Some(Value::Object(header)) = blocks.first_mut() {
        header.insert(
            "text".into(),
            plain(format!(
                "{} in {}: {}",
                approval.stack,
                approval.env,
                approval.status.as_str().to_lowercase()
            )),
        );
    }
    blocks.push(section(line.clone()));
    json!({
        "replace_original": true,
        "text": format!("{}: {}", fallback(approval), line.replace('*', "")),
        "blocks": blocks,
    })
}

/// A reply only the person who clicked sees; the message stays as it is.
pub fn ephemeral(text: &str) -> Value {
    json!({
        "response_type": "ephemeral",
        "replace_original": false,
        "text": text,
    })
}

/// A scan's report as a message, for environments that post to Slack.
pub fn report_message(subject: &str, body: &str) -> Value {
    json!({
        "text": subject,
        "blocks": [
            {"type": "header", "text": plain(subject)},
            section(format!("```{}```", escape(body))),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::Env;

    /// Slack's published example ("Verifying requests from Slack").
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const EXPECTED: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    /// The published example's request, checked at `now`.
    fn verify_example(now: i64) -> Result<(), SlackRefusal> {
        verify(
            SECRET,
            Some(TIMESTAMP),
            Some(EXPECTED),
            BODY.as_bytes(),
            now,
        )
    }

    #[test]
    fn signature_matches_slack_s_published_example() {
        assert_eq!(signature(SECRET, TIMESTAMP, BODY.as_bytes()), EXPECTED);
        let now = 1_531_420_618 + 10;
        assert_eq!(verify_example(now), Ok(()));
    }

    #[test]
    fn a_changed_body_secret_or_signature_is_forged() {
        let now = 1_531_420_618;
        let tampered = BODY.replace("roadrunner", "coyote");
        assert_eq!(
            verify(
                SECRET,
                Some(TIMESTAMP),
                Some(EXPECTED),
                tampered.as_bytes(),
                now
            ),
            Err(SlackRefusal::Forged)
        );
        assert_eq!(
            verify(
                "another secret",
                Some(TIMESTAMP),
                Some(EXPECTED),
                BODY.as_bytes(),
                now
            ),
            Err(SlackRefusal::Forged)
        );
        for bad in [
            "v0=zz",
            "a2114d57",
            "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            "",
        ] {
            assert_eq!(
                verify(SECRET, Some(TIMESTAMP), Some(bad), BODY.as_bytes(), now),
                Err(SlackRefusal::Forged),
                "{bad}"
            );
        }
        assert_eq!(
            verify(SECRET, None, Some(EXPECTED), BODY.as_bytes(), now),
            Err(SlackRefusal::Unsigned)
        );
    }

    #[test]
    fn a_timestamp_more_than_five_minutes_away_is_refused_even_when_signed() {
        let sent = 1_531_420_618;
        for now in [sent + 301, sent - 301, sent + 86_400] {
            assert!(
                matches!(verify_example(now), Err(SlackRefusal::Stale { .. })),
                "{now}"
            );
        }
        for now in [sent + 300, sent - 300] {
            assert_eq!(verify_example(now), Ok(()));
        }
    }

    #[test]
    fn the_secret_reads_as_not_set_up_bot_token_or_webhook() {
        assert_eq!(SlackCredentials::from_secret("{}"), Ok(None));
        let bot =
            SlackCredentials::from_secret(r#"{"signing_secret": "s", "bot_token": "xoxb-1"}"#)
                .unwrap()
                .unwrap();
        assert_eq!(bot.delivery, Delivery::BotToken("xoxb-1".into()));
        assert_eq!(bot.api_url, DEFAULT_API_URL);
        assert!(!format!("{bot:?}").contains("xoxb"));
        let hook = SlackCredentials::from_secret(
            r#"{"signing_secret": "s", "webhook_url": "https://hooks.slack.com/services/T/B/x"}"#,
        )
        .unwrap()
        .unwrap();
        assert!(matches!(hook.delivery, Delivery::Webhook(_)));
        for (bad, says) in [
            (r#"{"bot_token": "xoxb-1"}"#, "no signing_secret"),
            (
                r#"{"signing_secret": "s"}"#,
                "neither bot_token nor webhook_url",
            ),
            (
                r#"{"signing_secret": "s", "bot_token": "x", "webhook_url": "https://h"}"#,
                "both",
            ),
            (
                r#"{"signing_secret": "s", "webhook_url": "http://evil"}"#,
                "https",
            ),
            (
                r#"{"signing_secret": "s", "bot_token": "t", "api_url": "http://slack.example/api"}"#,
                "https",
            ),
            (r#"{"signing_secret": "s", "token": "x"}"#, "unknown field"),
        ] {
            let err = SlackCredentials::from_secret(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(!err.contains("xoxb"), "{err}");
        }
    }

    #[test]
    fn answers_go_only_to_slack_s_response_hosts_or_the_secret_s_own_host() {
        let gov = SlackCredentials::from_secret(
            r#"{"signing_secret": "s", "bot_token": "t", "api_url": "https://slack-gov.com/api/"}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(gov.api_url, "https://slack-gov.com/api");
        assert!(gov.may_respond_to("https://hooks.slack.com/actions/T/1/x"));
        assert!(gov.may_respond_to("https://slack-gov.com/actions/1"));
        for bad in [
            "https://hooks.slack.com.evil.example/actions",
            "https://slack-gov.com.evil.example/x",
            "http://169.254.169.254/latest/meta-data",
            "https://evil.example/https://hooks.slack.com/",
        ] {
            assert!(!gov.may_respond_to(bad), "{bad}");
        }
    }

    #[test]
    fn user_ids_are_slack_s_shape() {
        assert!(is_user_id("U024BE7LH"));
        assert!(is_user_id("W012A3CDE"));
        for bad in ["", "U", "u024be7lh", "@alice", "C024BE7LH", "U024 BE7LH"] {
            assert!(!is_user_id(bad), "{bad}");
        }
    }

    fn approval(env: Env) -> ApprovalRecord {
        serde_json::from_value(json!({
            "approval_id": "a1b2c3d4-0123456789ab",
            "deployment_id": "dev-vpc-20270115T080000-abcd",
            "env": env.as_str(),
            "stack": "vpc",
            "stack_name": format!("infra-agent-{env}-vpc"),
            "change_set_name": "cs",
            "requested_by": "alice <script>&",
            "summary_lines": ["Add AWS::EC2::Subnet ×9", "Modify AWS::EC2::VPC ×1"],
            "replacements": ["NatGateway (AWS::EC2::NatGateway)"],
            "deletions": ["OldRoute (AWS::EC2::Route)"],
            "notes": ["DRIFT: this change set overwrites manual changes to AlbSecurityGroup"],
            "validation_passed": true,
            "cost_line": "+$32.85/month ($0.00 → $32.85)",
            "exceeds_budget": false,
            "required_approvers": 1,
            "status": "PENDING",
            "created_at": "2027-01-15T08:00:00Z",
            "expires_at": "2027-01-15T09:00:00Z",
            "expires_epoch": 1,
        }))
        .unwrap()
    }

    fn buttons(message: &Value) -> Vec<String> {
        message["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().unwrap().clone())
            .map(|e| e["action_id"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_message_shows_the_change_and_offers_approve_reject_and_view() {
        let message = approval_message(&approval(Env::Dev), Some("https://link/approvals/x?sig=1"));
        let text = message.to_string();
        for expected in [
            "infra-agent-dev-vpc",
            "Add AWS::EC2::Subnet ×9",
            "*Replaced*",
            "NatGateway",
            "*Deleted*",
            "OldRoute",
            "+$32.85/month",
            "passed",
            "DRIFT: this change set overwrites",
            "alice &lt;script&gt;&amp;",
        ] {
            assert!(text.contains(expected), "{expected} missing from {text}");
        }
        assert!(!text.contains("<script>"));
        assert_eq!(buttons(&message), ["approve", "reject", "view"]);
        let actions = message["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["type"] == "actions")
            .unwrap();
        assert_eq!(actions["elements"][0]["style"], "primary");
        assert_eq!(actions["elements"][1]["style"], "danger");
        assert_eq!(
            actions["elements"][1]["confirm"]["confirm"]["text"],
            "Reject"
        );
        assert_eq!(
            actions["elements"][2]["url"],
            "https://link/approvals/x?sig=1"
        );
        assert!(message["text"]
            .as_str()
            .unwrap()
            .contains("1 replaced, 1 deleted"));
    }

    #[test]
    fn in_prd_the_message_can_reject_but_says_to_approve_with_the_cli() {
        let message = approval_message(&approval(Env::Prd), Some("https://link"));
        assert_eq!(buttons(&message), ["reject", "view"]);
        assert!(message
            .to_string()
            .contains("infra-agent approve a1b2c3d4-0123456789ab"));
    }

    #[test]
    fn a_decided_message_names_who_and_when_and_has_no_buttons() {
        let mut decided = approval(Env::Dev);
        decided.status = ApprovalStatus::Approved;
        decided.approver = Some("@ada (Slack U024BE7LH)".into());
        decided.decided_at = Some("2027-01-15T14:05:09Z".into());
        let message = decided_message(&decided, Some("https://link"), "ignored");
        assert_eq!(message["replace_original"], true);
        assert!(buttons(&message).is_empty());
        let text = message.to_string();
        assert!(
            text.contains("*Approved* by @ada (Slack U024BE7LH) at 14:05 UTC"),
            "{text}"
        );
    }

    #[test]
    fn a_vote_short_of_the_approvers_needed_keeps_the_buttons() {
        let mut voted = approval(Env::Tst);
        voted.required_approvers = 2;
        voted.approved_by = vec!["@ada (Slack U024BE7LH)".into()];
        let message = decided_message(&voted, Some("https://link"), "@ada");
        assert_eq!(buttons(&message), ["approve", "reject", "view"]);
        assert!(message
            .to_string()
            .contains("(1 of 2); 1 more must approve"));
    }

    #[test]
    fn a_click_names_its_decision_and_its_approver() {
        let payload = json!({
            "type": "block_actions",
            "user": {"id": "U024BE7LH", "username": "ada", "name": "ada"},
            "actions": [{"action_id": "approve", "value": "a1b2c3d4-0123456789ab"}],
            "response_url": "https://hooks.slack.com/actions/T/1/x",
        });
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &payload.to_string())
            .finish();
        let click = Interaction::from_form(&body).unwrap();
        assert_eq!(click.decision(), Some(("approve", "a1b2c3d4-0123456789ab")));
        assert_eq!(click.approver(), "@ada (Slack U024BE7LH)");
        assert!(Interaction::from_form("payload=%7Bnot").is_err());
        assert!(Interaction::from_form("other=1").is_err());
    }

    #[test]
    fn long_change_lists_are_cut_with_a_pointer_to_the_page() {
        let mut big = approval(Env::Dev);
        big.summary_lines = (0..40).map(|i| format!("Add Resource{i}")).collect();
        let text = approval_message(&big, None).to_string();
        assert!(text.contains("… and 25 more (View shows all)"));
        assert!(!text.contains("Resource39"));
    }
}
