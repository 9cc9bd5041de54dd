//! The local Lambda host: answers the Lambda Invoke API by running the function's core entry point
//! in-process (the same `Function::invoke` the Lambda binaries run), serves the approval link, and
//! proxies every other request to the AWS emulator.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use infra_agent_core::approval::http::{parse_form, HttpRequest};
use infra_agent_core::registry::Function;
use infra_agent_pipeline::functions::{approval_url, handler};
use infra_agent_pipeline::settings::PipelineSettings;
use infra_agent_pipeline::Pipeline;
use serde_json::{json, Value};
use tokio::net::TcpListener;

const INVOKE_PREFIX: &str = "/2015-03-31/functions/";
/// Lambda's own limit on a synchronous invocation payload.
const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

struct Host {
    pipeline: Pipeline,
    upstream: hyper::Uri,
    client: Client<HttpConnector, Full<Bytes>>,
}

type HostResponse = Response<Full<Bytes>>;

pub async fn serve(listen: SocketAddr, upstream: String) -> anyhow::Result<()> {
    let settings = PipelineSettings::from_lookup(|name| std::env::var(name).ok())?;
    let host = Arc::new(Host {
        pipeline: infra_agent_pipeline::aws::connect(settings).await,
        upstream: upstream.parse()?,
        client: Client::builder(TokioExecutor::new()).build_http(),
    });
    let listener = TcpListener::bind(listen).await?;
    // The start script reads the bound address from this line.
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let host = host.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let host = host.clone();
                async move { Ok::<_, std::convert::Infallible>(host.route(req).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}

impl Host {
    async fn route(&self, req: Request<Incoming>) -> HostResponse {
        let path = req.uri().path().to_string();
        if req.method() == Method::POST
            && path.starts_with(INVOKE_PREFIX)
            && path.ends_with("/invocations")
        {
            let name = &path[INVOKE_PREFIX.len()..path.len() - "/invocations".len()];
            // Function names arrive URL-encoded when given as ARNs (`arn%3Aaws%3Alambda…`).
            let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            return match read_body(req).await {
                Ok(body) => self.invoke(&name, &body).await,
                Err(resp) => resp,
            };
        }
        if path.starts_with("/approvals/") {
            return self.approval(req).await;
        }
        self.proxy(req).await
    }

    async fn invoke(&self, name: &str, body: &Bytes) -> HostResponse {
        let Some(function) = Function::from_name_or_arn(name) else {
            return lambda_api_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                &format!("Function not found: {name}"),
            );
        };
        let event: Value = if body.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => {
                    return lambda_api_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidRequestContentException",
                        &format!("Could not parse request body into json: {e}"),
                    )
                }
            }
        };
        match handler(function)(&self.pipeline, event).await {
            Ok(result) => json_response(StatusCode::OK, &result, None),
            Err(err) => {
                tracing::warn!(function = function.name(), error_type = err.error_type(), error = %err, "function error");
                let payload = serde_json::to_value(err.payload()).unwrap_or_else(|_| json!({}));
                // As Lambda does: the invocation itself succeeded; the function reported an error.
                json_response(StatusCode::OK, &payload, Some("Unhandled"))
            }
        }
    }

    async fn approval(&self, req: Request<Incoming>) -> HostResponse {
        let method = req.method().as_str().to_string();
        let path = req.uri().path().to_string();
        let query = parse_form(req.uri().query().unwrap_or(""));
        let body = match read_body(req).await {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(resp) => return resp,
        };
        let response = approval_url(
            &self.pipeline,
            HttpRequest {
                method,
                path,
                query,
                body,
            },
        )
        .await;
        let headers = response.headers();
        let mut out = Response::new(Full::new(Bytes::from(response.body)));
        *out.status_mut() =
            StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in headers {
            out.headers_mut()
                .insert(name, HeaderValue::from_static(value));
        }
        out
    }

    async fn proxy(&self, req: Request<Incoming>) -> HostResponse {
        let (mut parts, body) = req.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                return plain(
                    StatusCode::BAD_REQUEST,
                    &format!("could not read request: {e}"),
                )
            }
        };
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let mut uri = self.upstream.clone().into_parts();
        uri.path_and_query = path_and_query.parse().ok();
        parts.uri = match hyper::Uri::from_parts(uri) {
            Ok(u) => u,
            Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("bad request URI: {e}")),
        };
        if let Some(authority) = self.upstream.authority() {
            if let Ok(value) = HeaderValue::from_str(authority.as_str()) {
                parts.headers.insert(HOST, value);
            }
        }
        match self
            .client
            .request(Request::from_parts(parts, Full::new(body)))
            .await
        {
            Ok(resp) => {
                let (parts, body) = resp.into_parts();
                match body.collect().await {
                    Ok(b) => Response::from_parts(parts, Full::new(b.to_bytes())),
                    Err(e) => plain(
                        StatusCode::BAD_GATEWAY,
                        &format!("emulator response cut: {e}"),
                    ),
                }
            }
            Err(e) => plain(
                StatusCode::BAD_GATEWAY,
                &format!("emulator unreachable: {e}"),
            ),
        }
    }
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, HostResponse> {
    let body = req
        .into_body()
        .collect()
        .await
        .map_err(|e| {
            plain(
                StatusCode::BAD_REQUEST,
                &format!("could not read request: {e}"),
            )
        })?
        .to_bytes();
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(lambda_api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
        ));
    }
    Ok(body)
}

fn json_response(
    status: StatusCode,
    body: &Value,
    function_error: Option<&'static str>,
) -> HostResponse {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(
        "x-amz-executed-version",
        HeaderValue::from_static("$LATEST"),
    );
    if let Some(kind) = function_error {
        resp.headers_mut()
            .insert("x-amz-function-error", HeaderValue::from_static(kind));
    }
    resp
}

fn lambda_api_error(status: StatusCode, kind: &'static str, message: &str) -> HostResponse {
    let mut resp = json_response(status, &json!({"Type": "User", "message": message}), None);
    resp.headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(kind));
    resp
}

fn plain(status: StatusCode, text: &str) -> HostResponse {
    let mut resp = Response::new(Full::new(Bytes::from(text.to_string())));
    *resp.status_mut() = status;
    resp
}
