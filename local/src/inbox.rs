//! The approval inbox: the SQS queue subscribed to the approval topic. Reads a deployment's
//! approval message and uses its link over HTTP exactly as an approver's browser would.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// An approval request as an approver receives it.
#[derive(Debug, Clone)]
pub struct ApprovalMessage {
    pub subject: String,
    pub body: String,
    pub approval_id: String,
    pub link: String,
}

/// A walk through the queue hides what it read for at most this long; it gives back what is not
/// its own as soon as the walk ends.
const WALK_VISIBILITY_SECONDS: i32 = 10;
/// Batches of ten read in one walk: the queue holds at most a few hundred messages in tests.
const WALK_BATCHES: usize = 50;

/// A message of the approval topic as a subscriber receives it.
#[derive(Debug, Clone)]
pub struct Notification {
    pub subject: String,
    pub body: String,
}

/// Waits up to `timeout` for the approval message of `deployment_id`.
pub async fn find_approval_message(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    deployment_id: &str,
    timeout: Duration,
) -> anyhow::Result<ApprovalMessage> {
    let (notification, approval_id) = find_notification(
        sqs,
        queue_url,
        "deployment_id",
        deployment_id,
        "approval_id",
        timeout,
    )
    .await?;
    let link = notification
        .body
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http://") || l.starts_with("https://"))
        .with_context(|| format!("the approval message of {deployment_id} has no link"))?
        .to_string();
    Ok(ApprovalMessage {
        subject: notification.subject,
        body: notification.body,
        approval_id: approval_id.unwrap_or_default(),
        link,
    })
}

/// Waits up to `timeout` for the message whose attribute `name` is `value` (a deployment's
/// approval request, a drift scan's report), takes it off the queue and returns it with the
/// value of its attribute `also`.
///
/// Approvals decided from the CLI (or never) leave their messages in the queue, and a read sees
/// only the first ten, so each attempt walks the whole queue: batches stay hidden while the walk
/// goes on (so the next batch reaches past them), and every message that is another deployment's
/// is made visible again right after, for its own reader.
pub async fn find_notification(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    name: &str,
    value: &str,
    also: &str,
    timeout: Duration,
) -> anyhow::Result<(Notification, Option<String>)> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let mut others = Vec::new();
        let mut found = None;
        for batch in 0..WALK_BATCHES {
            let out = sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(WALK_VISIBILITY_SECONDS)
                .wait_time_seconds(if batch == 0 { 1 } else { 0 })
                .send()
                .await
                .context("read the approval inbox")?;
            if out.messages().is_empty() {
                break;
            }
            for message in out.messages() {
                let handle = message.receipt_handle().unwrap_or_default().to_string();
                match parse_notification(message.body().unwrap_or_default(), name, value, also) {
                    Some(mine) if found.is_none() => found = Some((mine, handle)),
                    _ => others.push(handle),
                }
            }
            if found.is_some() {
                break;
            }
        }
        for handle in others {
            sqs.change_message_visibility()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .visibility_timeout(0)
                .send()
                .await
                .context("give back another deployment's approval message")?;
        }
        if let Some((message, handle)) = found {
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .send()
                .await
                .context("delete the approval message")?;
            return Ok(message);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("no message with {name} {value} within {timeout:?}")
}

/// Reads an SNS notification (as delivered to SQS) if its attribute `name` is `value`, with the
/// value of its attribute `also`.
fn parse_notification(
    envelope: &str,
    name: &str,
    value: &str,
    also: &str,
) -> Option<(Notification, Option<String>)> {
    let envelope: serde_json::Value = serde_json::from_str(envelope).ok()?;
    let attribute = |name: &str| {
        envelope
            .pointer(&format!("/MessageAttributes/{name}/Value"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    if attribute(name)? != value {
        return None;
    }
    let notification = Notification {
        subject: envelope
            .get("Subject")
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_string(),
        body: envelope.get("Message")?.as_str()?.to_string(),
    };
    Some((notification, attribute(also)))
}

/// An HTTP response's status and text.
pub struct Page {
    pub status: u16,
    pub body: String,
}

pub async fn get(url: &str) -> anyhow::Result<Page> {
    request(hyper::Method::GET, url, None).await
}

/// POSTs an HTML form, as a browser submits one.
pub async fn post_form(url: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    request(hyper::Method::POST, url, Some(body)).await
}

async fn request(method: hyper::Method, url: &str, form: Option<String>) -> anyhow::Result<Page> {
    let uri: hyper::Uri = url.parse().with_context(|| format!("bad URL {url}"))?;
    let host = uri.host().unwrap_or_default();
    anyhow::ensure!(
        host == "127.0.0.1" || host == "localhost",
        "the local inbox only follows links to this machine, not {host}"
    );
    let mut builder = hyper::Request::builder().method(method).uri(uri);
    if form.is_some() {
        builder = builder.header("content-type", "application/x-www-form-urlencoded");
    }
    let request = builder.body(Full::new(Bytes::from(form.unwrap_or_default())))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(request)
        .await
        .with_context(|| format!("request {url}"))?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Page {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The text of a page's `<h1>`.
pub fn title(html: &str) -> &str {
    html.split_once("<h1>")
        .and_then(|(_, rest)| rest.split_once("</h1>"))
        .map_or("", |(t, _)| t)
}

/// `infra-agent-local decide`: find the approval message, open the link, press the button.
pub async fn decide_from_inbox(
    deployment_id: &str,
    decision: &str,
    approver: &str,
    show_link: bool,
) -> anyhow::Result<()> {
    let queue_url = std::env::var("INFRA_AGENT_APPROVAL_QUEUE_URL")
        .context("INFRA_AGENT_APPROVAL_QUEUE_URL is not set: source .local/env first")?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let message =
        find_approval_message(&sqs, &queue_url, deployment_id, Duration::from_secs(30)).await?;
    eprintln!("Approval message: {}", message.subject);
    if show_link {
        println!("{}", message.link);
        return Ok(());
    }
    let page = get(&message.link).await?;
    anyhow::ensure!(
        page.status == 200 && page.body.contains("<form method=\"post\""),
        "the approval page did not offer a decision (HTTP {}: {})",
        page.status,
        title(&page.body)
    );
    eprintln!("Opened the approval page: {}", title(&page.body));
    let result = post_form(
        &message.link,
        &[("decision", decision), ("approver", approver)],
    )
    .await?;
    eprintln!(
        "Pressed {decision}: HTTP {} {}",
        result.status,
        title(&result.body)
    );
    anyhow::ensure!(result.status == 200, "the decision was not taken");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_of_another_deployment_is_ignored() {
        let envelope = serde_json::json!({
            "Type": "Notification",
            "Subject": "s",
            "Message": "Approval needed\n\nReview:\nhttp://127.0.0.1:1/approvals/a?exp=1&sig=2\n",
            "MessageAttributes": {
                "deployment_id": {"Type": "String", "Value": "dev-vpc-20260101T000000-aaaa"},
                "approval_id": {"Type": "String", "Value": "a"}
            }
        })
        .to_string();
        let mine = |id: &str| parse_notification(&envelope, "deployment_id", id, "approval_id");
        let (found, approval_id) = mine("dev-vpc-20260101T000000-aaaa").unwrap();
        assert!(found
            .body
            .contains("http://127.0.0.1:1/approvals/a?exp=1&sig=2"));
        assert_eq!(approval_id.as_deref(), Some("a"));
        assert!(mine("dev-vpc-20260101T000000-bbbb").is_none());
    }
}
