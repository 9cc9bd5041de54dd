//! The part of the Lambda Runtime API a custom runtime talks to, served on 127.0.0.1 for one
//! sandbox: it hands out the events it is given and reports when the function polls and answers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

const PREFIX: &str = "/2018-06-01/runtime";
/// The deadline handed with each event, as Lambda's function timeout.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What the function did, in the order it did it.
#[derive(Debug)]
pub enum Report {
    /// `GET …/invocation/next`: ready for an event.
    Polled,
    /// `POST …/invocation/{id}/response`.
    Response { request_id: String, body: Value },
    /// `POST …/invocation/{id}/error`.
    Error { request_id: String, error: Value },
    /// `POST …/init/error`: the function could not start.
    InitError(Value),
}

/// The Runtime API of one sandbox.
pub struct RuntimeApi {
    address: SocketAddr,
    events: mpsc::Sender<(String, Value)>,
    reports: mpsc::UnboundedReceiver<(Instant, Report)>,
    server: JoinHandle<()>,
}

struct State {
    function_arn: String,
    events: Mutex<mpsc::Receiver<(String, Value)>>,
    reports: mpsc::UnboundedSender<(Instant, Report)>,
}

impl RuntimeApi {
    /// Listens on a free port of 127.0.0.1 for the function `function_arn`.
    pub async fn start(function_arn: String) -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (events_tx, events_rx) = mpsc::channel(1);
        let (reports_tx, reports_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            function_arn,
            events: Mutex::new(events_rx),
            reports: reports_tx,
        });
        let server = tokio::spawn(accept(listener, state));
        Ok(RuntimeApi {
            address,
            events: events_tx,
            reports: reports_rx,
            server,
        })
    }

    /// `AWS_LAMBDA_RUNTIME_API`: host and port, as Lambda gives it.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues `event` for the function's next poll under `request_id`.
    pub async fn hand(&self, request_id: String, event: Value) {
        // The receiver lives as long as the server task, which lives as long as `self`.
        let _ = self.events.send((request_id, event)).await;
    }

    /// The next thing the function did, or `None` after `wait`.
    pub async fn next_report(&mut self, wait: Duration) -> Option<(Instant, Report)> {
        tokio::time::timeout(wait, self.reports.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn accept(listener: TcpListener, state: Arc<State>) {
    while let Ok((stream, _)) = listener.accept().await {
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(route(&state, req).await) }
            });
            // A connection ends when the sandbox is killed; nothing to report.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn route(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return status(StatusCode::NOT_FOUND);
    };
    let method = req.method().clone();
    if method == Method::GET && rest == "/invocation/next" {
        return next(state).await;
    }
    if method != Method::POST {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return status(StatusCode::BAD_REQUEST),
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let now = Instant::now();
    let report = if rest == "/init/error" {
        Report::InitError(body)
    } else if let Some(invocation) = rest.strip_prefix("/invocation/") {
        match invocation.split_once('/') {
            Some((id, "response")) => Report::Response {
                request_id: id.to_string(),
                body,
            },
            Some((id, "error")) => Report::Error {
                request_id: id.to_string(),
                error: body,
            },
            _ => return status(StatusCode::NOT_FOUND),
        }
    } else {
        return status(StatusCode::NOT_FOUND);
    };
    let _ = state.reports.send((now, report));
    status(StatusCode::ACCEPTED)
}

/// Long-polls until an event is handed over, as Lambda does.
async fn next(state: &State) -> Response<Full<Bytes>> {
    let _ = state.reports.send((Instant::now(), Report::Polled));
    let Some((request_id, event)) = state.events.lock().await.recv().await else {
        return status(StatusCode::GONE);
    };
    let deadline = SystemTime::now() + TIMEOUT;
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", request_id)
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header("lambda-runtime-invoked-function-arn", &state.function_arn)
        .body(Full::new(Bytes::from(event.to_string())))
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}
