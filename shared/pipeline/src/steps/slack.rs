//! Slack: the notify function posts each approval (and each drift report) of an environment that
//! has a `[slack]` table to its channel; the approval link's function answers the buttons at
//! `POST /slack/interactions`, deciding through the same single-use decision as the link and the
//! CLI, after Slack's request signature verified.

use std::collections::BTreeMap;

use infra_agent_core::approval::http::{HttpRequest, HttpResponse};
use infra_agent_core::approval::rules::links_may_approve;
use infra_agent_core::approval::slack::{
    self, Interaction, SlackCredentials, SlackRefusal, APPROVE, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use infra_agent_core::clock::now;
use infra_agent_core::contract::approval::Decision;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::Env;
use infra_agent_core::records::{ApprovalRecord, ApprovalStatus, AuditEntry, DecideError};
use infra_agent_core::StepError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::decision::{decide, refused_entry};
use crate::ports::Pipeline;

/// The path of the interactivity endpoint below the approval URL (the Slack app's "Request URL").
pub const INTERACTIONS_PATH: &str = "/slack/interactions";
/// How the audit trail names the channel.
const CHANNEL: &str = "slack";

/// An SNS delivery to a Lambda function.
#[derive(Debug, Deserialize)]
pub struct SnsEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SnsRecord>,
}

#[derive(Debug, Deserialize)]
pub struct SnsRecord {
    #[serde(rename = "Sns")]
    pub sns: SnsMessage,
}

#[derive(Debug, Deserialize)]
pub struct SnsMessage {
    #[serde(rename = "Subject", default)]
    pub subject: Option<String>,
    #[serde(rename = "Message", default)]
    pub message: String,
    #[serde(rename = "MessageAttributes", default)]
    pub attributes: BTreeMap<String, SnsAttribute>,
}

#[derive(Debug, Deserialize)]
pub struct SnsAttribute {
    #[serde(rename = "Value")]
    pub value: String,
}

impl SnsMessage {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(|a| a.value.as_str())
    }
}

/// What the notify function did with each message.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Notified {
    pub posted: Vec<String>,
    /// Messages not posted, with why (Slack off for the environment, the secret empty, the
    /// approval already decided).
    pub skipped: Vec<String>,
}

/// Posts each message of `event` that concerns an environment with Slack on. A failed post is an
/// error (Lambda retries the delivery); everything skipped is said why.
pub async fn notify(pipeline: &Pipeline, event: SnsEvent) -> Result<Notified, StepError> {
    let mut notified = Notified::default();
    let mut credentials: Option<Option<SlackCredentials>> = None;
    for record in event.records {
        let message = record.sns;
        let env = message
            .attribute("environment")
            .or(message.attribute("env"))
            .and_then(|e| e.parse::<Env>().ok());
        let Some(env) = env else {
            notified
                .skipped
                .push("a message without an environment attribute".into());
            continue;
        };
        let config =
            EnvironmentConfig::builtin(env).map_err(|e| StepError::Configuration(e.to_string()))?;
        let Some(settings) = config.slack else {
            notified.skipped.push(format!(
                "Slack is off for {env} (its env file has no [slack])"
            ));
            continue;
        };
        if credentials.is_none() {
            credentials = Some(pipeline.chat.credentials().await?);
        }
        let Some(Some(creds)) = &credentials else {
            notified
                .skipped
                .push("the Slack secret is empty: Slack is not set up".into());
            continue;
        };
        if let Some(approval_id) = message.attribute("approval_id") {
            let Some(approval) = pipeline.store.approval(approval_id).await? else {
                notified
                    .skipped
                    .push(format!("approval {approval_id} is not recorded"));
                continue;
            };
            if approval.status != ApprovalStatus::Pending {
                notified.skipped.push(format!(
                    "approval {approval_id} is decided already ({})",
                    approval.status.as_str()
                ));
                continue;
            }
            let body = slack::approval_message(&approval, message.attribute("approval_url"));
            pipeline.chat.post(creds, &settings.channel, &body).await?;
            pipeline
                .store
                .audit(
                    &AuditEntry::new(
                        env,
                        &approval.stack,
                        "pipeline:slack-notify",
                        "approval.announce",
                        "POSTED",
                    )
                    .deployment(&approval.deployment_id)
                    .detail(format!(
                        "approval {approval_id} posted to Slack {}",
                        settings.channel
                    )),
                )
                .await?;
            notified
                .posted
                .push(format!("approval {approval_id} to {}", settings.channel));
        } else if message.attribute("kind") == Some("drift") {
            let subject = message
                .subject
                .as_deref()
                .unwrap_or("infra-agent drift report");
            let body = slack::report_message(subject, &message.message);
            pipeline.chat.post(creds, &settings.channel, &body).await?;
            notified
                .posted
                .push(format!("{subject} to {}", settings.channel));
        } else {
            notified
                .skipped
                .push("a message that is neither an approval nor a drift report".into());
        }
    }
    tracing::info!(posted = notified.posted.len(), skipped = ?notified.skipped, "slack notify");
    Ok(notified)
}

/// Answers a click on a Slack message's button. Nothing of the request is read before its
/// signature verifies; then the click decides once, as a link does, and the message is updated
/// through the click's `response_url`. Slack shows the clicker an error unless it gets a 200
/// within three seconds, so refusals the clicker should read are 200s with an ephemeral reply.
pub async fn interaction(pipeline: &Pipeline, request: &HttpRequest) -> HttpResponse {
    if request.method != "POST" {
        return HttpResponse::text(405, "Slack sends button clicks with POST.");
    }
    let credentials = match pipeline.chat.credentials().await {
        Ok(Some(credentials)) => credentials,
        Ok(None) => {
            return HttpResponse::text(404, "Slack is not set up for this pipeline.");
        }
        Err(e) => {
            tracing::error!(error = %e, "Slack credentials unreadable");
            return HttpResponse::text(503, "Try again: nothing was decided.");
        }
    };
    let (_, now_epoch) = now();
    if let Err(refusal) = slack::verify(
        &credentials.signing_secret,
        request.header(TIMESTAMP_HEADER),
        request.header(SIGNATURE_HEADER),
        request.body.as_bytes(),
        now_epoch,
    ) {
        tracing::warn!(reason = %refusal, "Slack request refused");
        audit_unverified(pipeline, &request.body, &refusal).await;
        return HttpResponse::text(401, format!("Refused: {refusal}. Nothing was changed."));
    }
    let click = match Interaction::from_form(&request.body) {
        Ok(click) => click,
        Err(e) => return HttpResponse::text(400, format!("{e}. Nothing was changed.")),
    };
    let Some((action, approval_id)) = click.decision() else {
        // View (a link button) and anything else: nothing to decide.
        return HttpResponse::text(200, "");
    };
    let reply = Reply {
        pipeline,
        credentials: &credentials,
        click: &click,
    };
    let approval = match pipeline.store.approval(approval_id).await {
        Ok(Some(approval)) => approval,
        Ok(None) => {
            reply
                .ephemeral(&format!(
                    "There is no approval {approval_id}. Nothing was changed."
                ))
                .await;
            return HttpResponse::text(200, "");
        }
        Err(e) => return reply.unavailable(&e).await,
    };
    let approver = click.approver();
    let decision = if action == APPROVE {
        Decision::Approved
    } else {
        Decision::Rejected
    };
    let slack_approver = EnvironmentConfig::builtin(approval.env)
        .ok()
        .and_then(|c| c.slack)
        .is_some_and(|s| s.approvers.contains(&click.user.id));
    if !slack_approver {
        refused(
            pipeline,
            &approval,
            &approver,
            decision,
            "not a Slack approver of the environment",
        )
        .await;
        reply
            .ephemeral(&format!(
                "You ({}) are not a Slack approver of {} (infra/environments/{}.toml lists them under [slack]). Nothing was changed.",
                click.user.id, approval.env, approval.env
            ))
            .await;
        return HttpResponse::text(200, "");
    }
    if decision == Decision::Approved && !links_may_approve(approval.env) {
        refused(
            pipeline,
            &approval,
            &approver,
            decision,
            "approving is not allowed from Slack in this environment",
        )
        .await;
        reply
            .ephemeral(&format!(
                "{} changes cannot be approved from Slack. Approve with `infra-agent approve {}` under your IAM identity (MFA required). Rejecting here is allowed. Nothing was changed.",
                approval.env, approval.approval_id
            ))
            .await;
        return HttpResponse::text(200, "");
    }
    match decide(
        pipeline.store.as_ref(),
        pipeline.executions.as_ref(),
        approval_id,
        decision,
        &approver,
        None,
        CHANNEL,
    )
    .await
    {
        Ok(Ok(record)) => {
            reply
                .send(&slack::decided_message(
                    &record,
                    click.view_url(),
                    &approver,
                ))
                .await;
        }
        Ok(Err(refusal)) => {
            refused(
                pipeline,
                &approval,
                &approver,
                decision,
                &refusal.to_string(),
            )
            .await;
            match pipeline.store.approval(approval_id).await {
                // Decided elsewhere (the link, the CLI, another click): the message now says so.
                Ok(Some(current)) if current.status != ApprovalStatus::Pending => {
                    reply
                        .send(&slack::decided_message(&current, None, ""))
                        .await;
                }
                _ => {}
            }
            reply.ephemeral(&refusal_text(&refusal)).await;
        }
        Err(e) => return reply.unavailable(&e).await,
    }
    HttpResponse::text(200, "")
}

fn refusal_text(refusal: &DecideError) -> String {
    format!("{refusal}. Nothing was changed.")
}

/// Answers to one click, through its `response_url`, where the secret allows sending them.
struct Reply<'a> {
    pipeline: &'a Pipeline,
    credentials: &'a SlackCredentials,
    click: &'a Interaction,
}

impl Reply<'_> {
    async fn send(&self, message: &Value) {
        let Some(url) = self.click.response_url.as_deref() else {
            return;
        };
        if !self.credentials.may_respond_to(url) {
            tracing::warn!("response_url outside Slack's hosts: no answer sent");
            return;
        }
        if let Err(e) = self.pipeline.chat.respond(url, message).await {
            tracing::warn!(error = %e, "Slack answer not delivered");
        }
    }

    async fn ephemeral(&self, text: &str) {
        self.send(&slack::ephemeral(text)).await;
    }

    async fn unavailable(&self, error: &StepError) -> HttpResponse {
        tracing::error!(error = %error, "Slack click not decided");
        self.ephemeral(
            "The approval service could not record that. Nothing was decided; try again.",
        )
        .await;
        HttpResponse::text(200, "")
    }
}

/// Records a click that decided nothing.
async fn refused(
    pipeline: &Pipeline,
    approval: &ApprovalRecord,
    approver: &str,
    decision: Decision,
    why: &str,
) {
    let detail = format!(
        "{} of approval {} via {CHANNEL} refused: {why}",
        decision.as_str(),
        approval.approval_id
    );
    write_audit(pipeline, refused_entry(approval, approver, detail)).await;
}

/// A refusal is answered whether or not its audit entry could be written; the failure is logged.
async fn write_audit(pipeline: &Pipeline, entry: AuditEntry) {
    if let Err(e) = pipeline.store.audit(&entry).await {
        tracing::error!(error = %e, "audit entry not written");
    }
}

/// Records a request whose signature did not verify against the approval it claims to decide,
/// when it names one that exists: nothing of it is acted on, but auditors see the attempt.
async fn audit_unverified(pipeline: &Pipeline, body: &str, refusal: &SlackRefusal) {
    let Ok(claim) = Interaction::from_form(body) else {
        return;
    };
    let Some((action, approval_id)) = claim.decision() else {
        return;
    };
    let Ok(Some(approval)) = pipeline.store.approval(approval_id).await else {
        return;
    };
    let actor: String = format!("unverified Slack request (claims {})", claim.user.id)
        .chars()
        .take(120)
        .collect();
    let detail = format!("{action} of approval {approval_id} via {CHANNEL} refused: {refusal}");
    write_audit(pipeline, refused_entry(&approval, &actor, detail)).await;
}

#[cfg(test)]
mod tests;
