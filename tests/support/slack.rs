//! A stand-in for Slack on 127.0.0.1: it records every request the pipeline sends (posted
//! messages, answers to `response_url`s) and answers as Slack does; and button clicks sent to the
//! interactivity endpoint the way Slack sends them, signed with the app's signing secret.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use infra_agent_core::approval::slack::{signature, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use serde_json::Value;
use tokio::net::TcpListener;

/// One request Slack received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Clone)]
pub struct FakeSlack {
    pub address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeSlack {
    /// Starts listening on a free port of 127.0.0.1.
    pub async fn start() -> FakeSlack {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().unwrap();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let log = log.clone();
                        async move {
                            let path = req.uri().path().to_string();
                            let authorization = req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_string);
                            let bytes = req.into_body().collect().await?.to_bytes();
                            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                            log.lock().unwrap().push(Received {
                                path: path.clone(),
                                authorization,
                                body,
                            });
                            // The Web API answers JSON with "ok"; webhooks and response URLs "ok".
                            let answer = if path.starts_with("/api/") {
                                r#"{"ok":true,"channel":"C1","ts":"1.2"}"#
                            } else {
                                "ok"
                            };
                            Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from(answer))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeSlack { address, received }
    }

    /// The base URL of its Web API (the secret's `api_url`).
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.address)
    }

    /// A response URL of one message, on this stand-in.
    pub fn response_url(&self, name: &str) -> String {
        format!("http://{}/actions/{name}", self.address)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits up to `within` for a request to `path` whose body mentions `needle`.
    pub async fn wait_for(&self, path: &str, needle: &str, within: Duration) -> Received {
        let deadline = Instant::now() + within;
        loop {
            if let Some(found) = self
                .received()
                .into_iter()
                .find(|r| r.path == path && r.body.to_string().contains(needle))
            {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "Slack received nothing at {path} mentioning {needle} within {within:?}: {:?}",
                self.received().iter().map(|r| &r.path).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The form body of a button click on an approval message, as Slack posts it.
pub fn click_body(user: &str, action: &str, approval_id: &str, response_url: &str) -> String {
    let payload = serde_json::json!({
        "type": "block_actions",
        "user": {"id": user, "username": format!("user-{}", user.to_lowercase())},
        "actions": [{"action_id": action, "value": approval_id, "type": "button"}],
        "response_url": response_url,
    });
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

/// POSTs `body` to `url` with Slack's signature headers made with `secret` at `timestamp`;
/// returns the status and the answer.
pub async fn send_click(url: &str, body: &str, secret: &str, timestamp: i64) -> (u16, String) {
    let ts = timestamp.to_string();
    let request = Request::post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(TIMESTAMP_HEADER, &ts)
        .header(SIGNATURE_HEADER, signature(secret, &ts, body.as_bytes()))
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(request)
        .await
        .expect("the interactivity endpoint answers");
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
