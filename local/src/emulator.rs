//! Our own calls to the emulator's APIs where the local backend links no SDK client: a function's
//! URL configuration (Lambda), and what creating one needs. The emulator checks no signature, but
//! routes a request by the service its signing scope names, so each call is signed for its service.

use std::time::SystemTime;

use anyhow::Context;
use aws_credential_types::Credentials;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use infra_agent_core::registry::UrlAuth;
use infra_agent_pipeline::aws::sigv4;

/// The emulator, at `base` (`http://127.0.0.1:PORT`).
pub struct Emulator {
    base: String,
    region: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// An answer of the emulator.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl Emulator {
    pub fn new(base: &str, region: &str) -> Emulator {
        Emulator {
            base: base.trim_end_matches('/').to_string(),
            region: region.to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// `method path` of `service`'s API, with `body` (JSON for Lambda, a form for query APIs).
    pub async fn call(
        &self,
        service: &str,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<Answer> {
        let url = format!("{}{path}", self.base);
        let content = [("content-type", content_type)];
        // Any key will do: the emulator reads only the scope.
        let credentials = Credentials::new("local", "local", None, None, "emulator");
        let signature = sigv4::sign(
            &sigv4::Request {
                service,
                method,
                url: &url,
                headers: &content,
                body: &body,
            },
            &credentials,
            &self.region,
            SystemTime::now(),
        )?;
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(&url)
            .header("content-type", content_type);
        for (name, value) in &signature {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = self
            .client
            .request(request.body(Full::new(Bytes::from(body)))?)
            .await
            .with_context(|| format!("emulator unreachable at {}", self.base))?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body })
    }

    /// The environment variables function `name` is configured with (GetFunction).
    pub async fn function_environment(
        &self,
        name: &str,
    ) -> anyhow::Result<std::collections::HashMap<String, String>> {
        let path = format!("/2015-03-31/functions/{name}");
        let answer = self
            .call(sigv4::SERVICE, "GET", &path, "application/json", Vec::new())
            .await?;
        anyhow::ensure!(
            (200..300).contains(&answer.status),
            "GetFunction {name}: HTTP {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
        let function: serde_json::Value = serde_json::from_slice(&answer.body)
            .with_context(|| format!("GetFunction {name} is not JSON"))?;
        Ok(function["Configuration"]["Environment"]["Variables"]
            .as_object()
            .map(|vars| {
                vars.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// How the URL of function `name` authenticates callers; none when it has no URL.
    pub async fn url_auth(&self, name: &str) -> anyhow::Result<Option<UrlAuth>> {
        let path = format!("/2021-10-31/functions/{name}/url");
        let answer = self
            .call(sigv4::SERVICE, "GET", &path, "application/json", Vec::new())
            .await?;
        match answer.status {
            404 => Ok(None),
            // The emulator answers GetFunctionUrlConfig with 201.
            200..=299 => {
                let config: serde_json::Value = serde_json::from_slice(&answer.body)
                    .with_context(|| format!("URL configuration of {name} is not JSON"))?;
                let auth_type = config["AuthType"].as_str().unwrap_or_default();
                UrlAuth::parse(auth_type).map(Some).with_context(|| {
                    format!(
                        "URL of {name} has an AuthType of {auth_type:?}, neither NONE nor AWS_IAM"
                    )
                })
            }
            status => anyhow::bail!(
                "URL configuration of {name}: HTTP {status}: {}",
                String::from_utf8_lossy(&answer.body)
            ),
        }
    }
}
