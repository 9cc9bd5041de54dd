//! The decision endpoint's client: `POST {url}/decisions/{approval_id}` with the decision as JSON,
//! SigV4-signed (service `lambda`) with the caller's own credentials from the standard AWS chain.
//! The endpoint records the signed caller as the approver; nothing here names anyone.

use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use infra_agent_core::approval::api::DecisionRequest;
use infra_agent_pipeline::aws::sigv4;
use infra_agent_pipeline::settings::VAR_DECISION_URL;

/// The endpoint's answer: its status and JSON text.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// The decision endpoint's URL, from `INFRA_AGENT_DECISION_URL`.
pub fn endpoint() -> anyhow::Result<String> {
    std::env::var(VAR_DECISION_URL)
        .ok()
        .filter(|url| !url.trim().is_empty())
        .with_context(|| {
            format!(
                "{VAR_DECISION_URL} is not set: export the decision endpoint's URL (the pipeline's approval-decision function URL), or use --local with the local backend running"
            )
        })
}

/// Sends `decision` on approval `approval_id`, signed as the caller.
pub async fn send(
    config: &aws_config::SdkConfig,
    endpoint: &str,
    approval_id: &str,
    decision: &DecisionRequest,
) -> anyhow::Result<Answer> {
    if approval_id.is_empty()
        || !approval_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        bail!("'{}' is not an approval id", approval_id.escape_debug());
    }
    let url = format!("{}/decisions/{approval_id}", endpoint.trim_end_matches('/'));
    let body = serde_json::to_vec(decision)?;
    let credentials = config
        .credentials_provider()
        .context("no AWS credentials are configured")?
        .provide_credentials()
        .await
        .context("could not load your AWS credentials")?;
    let region = config
        .region()
        .context("no AWS region is configured (AWS_REGION)")?;
    let content_type = ("content-type", "application/json");
    let signature = sigv4::sign(
        &sigv4::Request {
            service: sigv4::SERVICE,
            method: "POST",
            url: &url,
            headers: &[content_type],
            body: &body,
        },
        &credentials,
        region.as_ref(),
        SystemTime::now(),
    )?;
    let mut request = aws_smithy_runtime_api::http::Request::new(SdkBody::from(body));
    request.set_method("POST").context("the request's method")?;
    request
        .set_uri(url.as_str())
        .with_context(|| format!("{url} is not a URL"))?;
    request.headers_mut().insert(content_type.0, content_type.1);
    for (name, value) in signature {
        request.headers_mut().insert(name, value);
    }
    let settings = HttpConnectorSettings::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .build();
    let connector = aws_smithy_http_client::default_connector(&settings, config.sleep_impl())
        .context("no HTTP client available")?;
    let response = connector
        .call(request)
        .await
        .with_context(|| format!("could not reach the decision endpoint {endpoint}"))?;
    let status = response.status().as_u16();
    let body = ByteStream::new(response.into_body())
        .collect()
        .await
        .context("the decision endpoint's answer was cut")?
        .into_bytes();
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
