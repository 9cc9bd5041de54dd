//! The chat port over Slack: the credentials from the pipeline's Slack secret (read on each use,
//! so a secret filled in after the install takes effect at once), messages posted with
//! `chat.postMessage` or an incoming webhook, answers sent to a click's `response_url`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use infra_agent_core::approval::slack::{Delivery, SlackCredentials};
use infra_agent_core::StepError;
use serde_json::Value;

use super::error::sdk_message;
use crate::ports::Chat;
use crate::settings::VAR_SLACK_SECRET;

/// Slack answers a button click's request within three seconds or shows the clicker an error:
/// everything the endpoint sends Slack on the way must fit well inside that.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);
const READ_TIMEOUT: Duration = Duration::from_secs(2);

pub struct Slack {
    client: Client,
    secret_id: Option<String>,
    http: Option<SharedHttpConnector>,
}

impl Slack {
    pub fn new(config: &aws_config::SdkConfig, secret_id: Option<String>) -> Self {
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .build();
        Slack {
            client: Client::new(config),
            secret_id,
            http: aws_smithy_http_client::default_connector(&settings, config.sleep_impl()),
        }
    }

    /// POSTs `body` as JSON to `url` (with a bearer token when given); the status and the answer.
    async fn post_json(
        &self,
        operation: &'static str,
        url: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> Result<(u16, String), StepError> {
        let http = self
            .http
            .as_ref()
            .ok_or_else(|| failed(operation, "no HTTP client available".into(), false))?;
        let mut request = aws_smithy_runtime_api::http::Request::new(SdkBody::from(
            body.to_string().into_bytes(),
        ));
        request
            .set_method("POST")
            .map_err(|e| failed(operation, format!("request: {e}"), false))?;
        request
            .set_uri(url)
            .map_err(|_| failed(operation, "the URL does not parse".into(), false))?;
        request
            .headers_mut()
            .insert("content-type", "application/json; charset=utf-8");
        if let Some(token) = bearer {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}"));
        }
        // The URL may hold a webhook's secret path: errors name the operation, never the URL.
        let response = http
            .call(request)
            .await
            .map_err(|e| failed(operation, format!("Slack did not answer: {e}"), true))?;
        let status = response.status().as_u16();
        let answer = ByteStream::new(response.into_body())
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.into_bytes()).into_owned())
            .unwrap_or_default();
        Ok((status, answer))
    }
}

fn failed(operation: &'static str, message: String, transient: bool) -> StepError {
    if transient {
        StepError::Transient {
            service: "slack",
            operation,
            message,
        }
    } else {
        StepError::Aws {
            service: "slack",
            operation,
            message,
        }
    }
}

/// Slack's verdict on a call: HTTP 2xx, and for the Web API `"ok": true`.
fn judge(
    operation: &'static str,
    (status, answer): (u16, String),
    web_api: bool,
) -> Result<(), StepError> {
    let transient = status == 429 || status >= 500;
    if !(200..300).contains(&status) {
        let said: String = answer.chars().take(200).collect();
        return Err(failed(
            operation,
            format!("HTTP {status}: {said}"),
            transient,
        ));
    }
    if web_api {
        let reply: Value = serde_json::from_str(&answer).unwrap_or(Value::Null);
        if reply["ok"] != Value::Bool(true) {
            let error = reply["error"].as_str().unwrap_or("no ok in the answer");
            return Err(failed(
                operation,
                format!("Slack refused: {error}"),
                error == "ratelimited",
            ));
        }
    }
    Ok(())
}

#[async_trait]
impl Chat for Slack {
    async fn credentials(&self) -> Result<Option<SlackCredentials>, StepError> {
        let secret_id = self.secret_id.as_deref().ok_or_else(|| {
            StepError::Configuration(format!("{VAR_SLACK_SECRET} is not set for this function"))
        })?;
        let value = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| {
                StepError::Configuration(format!(
                    "cannot read the Slack secret {secret_id}: {}",
                    sdk_message(&e)
                ))
            })?;
        SlackCredentials::from_secret(value.secret_string().unwrap_or("{}"))
            .map_err(|e| StepError::Configuration(format!("{secret_id}: {e}")))
    }

    async fn post(
        &self,
        credentials: &SlackCredentials,
        channel: &str,
        message: &Value,
    ) -> Result<(), StepError> {
        match &credentials.delivery {
            Delivery::BotToken(token) => {
                let mut message = message.clone();
                message["channel"] = Value::String(channel.to_string());
                let url = format!("{}/chat.postMessage", credentials.api_url);
                let answer = self
                    .post_json("chat.postMessage", &url, Some(token), &message)
                    .await?;
                judge("chat.postMessage", answer, true)
            }
            Delivery::Webhook(url) => {
                let answer = self.post_json("webhook", url, None, message).await?;
                judge("webhook", answer, false)
            }
        }
    }

    async fn respond(&self, response_url: &str, message: &Value) -> Result<(), StepError> {
        let answer = self
            .post_json("response_url", response_url, None, message)
            .await?;
        judge("response_url", answer, false)
    }
}
