//! The local Lambda host: answers the Lambda Invoke API by running the function's core entry point
//! in-process (the same `Function::invoke` the Lambda binaries run), serves the approval link, and
//! proxies every other request to the AWS emulator.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONNECTION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use infra_agent_core::approval::http::{parse_form, HttpRequest, HttpResponse};
use infra_agent_core::approval::page;
use infra_agent_core::registry::Function;
use infra_agent_pipeline::functions::handler;
use infra_agent_pipeline::settings::PipelineSettings;
use infra_agent_pipeline::Pipeline;
use serde_json::{json, Value};
use tokio::net::TcpListener;

const INVOKE_PREFIX: &str = "/2015-03-31/functions/";
/// Lambda's own limit on a synchronous invocation payload.
const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// The approval page's form: a decision, a name of at most 100 characters and a comment of at
/// most 500, which percent-encode to under 8 KB.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// Requests for the emulator. The largest the pipeline sends are templates put to S3
/// (CloudFormation reads at most 1 MB from S3, 51,200 bytes inline), Step Functions inputs
/// (256 KB) and DynamoDB items (400 KB): 16 MiB leaves room for any of them, and for what tests
/// upload, while bounding what one client can make the host hold.
const MAX_PROXIED_BYTES: usize = 16 * 1024 * 1024;
/// After refusing a body, at most this much more of it is read and thrown away, for at most
/// `DISCARD_TIME`: a client still sending then reads the 413 instead of a connection reset
/// (closing a socket with unread data resets it), and nothing of it is held.
const DISCARD_BYTES: usize = 8 * 1024 * 1024;
const DISCARD_TIME: Duration = Duration::from_secs(2);

struct Host {
    pipeline: Pipeline,
    upstream: hyper::Uri,
    client: Client<HttpConnector, Full<Bytes>>,
}

type HostResponse = Response<Full<Bytes>>;

pub async fn serve(listen: SocketAddr, upstream: String) -> anyhow::Result<()> {
    let settings = PipelineSettings::from_lookup(|name| std::env::var(name).ok())?;
    let host = Host::new(
        infra_agent_pipeline::aws::connect(settings).await,
        upstream.parse()?,
    );
    let listener = TcpListener::bind(listen).await?;
    // The start script reads the bound address from this line.
    println!("listening on {}", listener.local_addr()?);
    host.run(listener).await
}

impl Host {
    fn new(pipeline: Pipeline, upstream: hyper::Uri) -> Arc<Host> {
        Arc::new(Host {
            pipeline,
            upstream,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    /// Answers every connection accepted on `listener`, until accepting fails.
    async fn run(self: Arc<Self>, listener: TcpListener) -> anyhow::Result<()> {
        loop {
            let (stream, _) = listener.accept().await?;
            let host = self.clone();
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

    async fn route(&self, req: Request<Incoming>) -> HostResponse {
        let path = req.uri().path().to_string();
        if req.method() == Method::POST
            && path.starts_with(INVOKE_PREFIX)
            && path.ends_with("/invocations")
        {
            let name = &path[INVOKE_PREFIX.len()..path.len() - "/invocations".len()];
            // Function names arrive URL-encoded when given as ARNs (`arn%3Aaws%3Alambda…`).
            let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            return match read_limited(req.into_body(), MAX_PAYLOAD_BYTES).await {
                Ok(body) => self.invoke(&name, &body).await,
                Err(BodyRefused::TooLarge) => refused(lambda_api_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestTooLargeException",
                    "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
                )),
                Err(BodyRefused::Unreadable(e)) => lambda_api_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContentException",
                    &format!("could not read request: {e}"),
                ),
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
        let body = match read_limited(req.into_body(), MAX_FORM_BYTES).await {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(BodyRefused::TooLarge) => return refused(approval_response(HttpResponse::page(
                413,
                page::outcome(
                    "Request too large",
                    "This request is larger than the approval form can send. Nothing was changed.",
                ),
            ))),
            Err(BodyRefused::Unreadable(_)) => {
                return approval_response(HttpResponse::page(
                    400,
                    page::outcome(
                        "Bad request",
                        "The request could not be read. Nothing was changed.",
                    ),
                ))
            }
        };
        let response = infra_agent_pipeline::steps::approval_link::handle(
            &self.pipeline,
            HttpRequest {
                method,
                path,
                query,
                body,
                caller: None,
            },
        )
        .await;
        approval_response(response)
    }

    async fn proxy(&self, req: Request<Incoming>) -> HostResponse {
        let protocol = Protocol::of(req.headers());
        let (mut parts, body) = req.into_parts();
        let body = match read_limited(body, MAX_PROXIED_BYTES).await {
            Ok(body) => body,
            Err(BodyRefused::TooLarge) => {
                return refused(aws_error(
                    protocol,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestEntityTooLarge",
                    &format!(
                        "request body over the local host's limit of {MAX_PROXIED_BYTES} bytes"
                    ),
                ))
            }
            Err(BodyRefused::Unreadable(e)) => {
                return aws_error(
                    protocol,
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
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
            Err(e) => {
                return aws_error(
                    protocol,
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!("bad request URI: {e}"),
                )
            }
        };
        if let Some(authority) = self.upstream.authority() {
            if let Ok(value) = HeaderValue::from_str(authority.as_str()) {
                parts.headers.insert(HOST, value);
            }
        }
        // A 503 the SDKs retry, in the error shape they read: the caller is told "emulator
        // unreachable", not that a body it could not parse began with an unexpected token.
        let unavailable = |what: &str, e: &dyn std::error::Error| {
            aws_error(
                protocol,
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                &format!("{what} at {}: {}", self.upstream, causes(e)),
            )
        };
        match self
            .client
            .request(Request::from_parts(parts, Full::new(body)))
            .await
        {
            Ok(resp) => {
                let (parts, body) = resp.into_parts();
                match body.collect().await {
                    Ok(b) => Response::from_parts(parts, Full::new(b.to_bytes())),
                    Err(e) => unavailable("emulator response cut", &e),
                }
            }
            Err(e) => unavailable("emulator unreachable", &e),
        }
    }
}

/// Why a request's body was not taken.
#[derive(Debug)]
enum BodyRefused {
    /// Longer than the limit; reading stopped there.
    TooLarge,
    Unreadable(String),
}

/// The request body, read frame by frame and refused as soon as it would pass `limit` bytes
/// (or announces more in its Content-Length), so an oversized body is never held whole.
async fn read_limited(mut body: Incoming, limit: usize) -> Result<Bytes, BodyRefused> {
    if body.size_hint().lower() > limit as u64 {
        discard(body);
        return Err(BodyRefused::TooLarge);
    }
    let mut read = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyRefused::Unreadable(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if read.len() + data.len() > limit {
            discard(body);
            return Err(BodyRefused::TooLarge);
        }
        read.extend_from_slice(&data);
    }
    Ok(read.freeze())
}

/// Reads and drops what a refused client still sends, within `DISCARD_BYTES` and
/// `DISCARD_TIME`, then lets the connection close.
fn discard(mut body: Incoming) {
    tokio::spawn(async move {
        let mut left = DISCARD_BYTES;
        let drain = async {
            while let Some(Ok(frame)) = body.frame().await {
                match frame.into_data() {
                    Ok(data) if data.len() < left => left -= data.len(),
                    Ok(_) => return,
                    Err(_) => {}
                }
            }
        };
        let _ = tokio::time::timeout(DISCARD_TIME, drain).await;
    });
}

/// A refusal closes the connection: the rest of the refused body is not read.
fn refused(mut response: HostResponse) -> HostResponse {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// An approval endpoint response with its headers, as the function URL sends it.
fn approval_response(response: HttpResponse) -> HostResponse {
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

/// How a caller's SDK reads an error: each AWS protocol has its own error shape, and a body the
/// SDK cannot parse hides the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// awsJson (DynamoDB, Step Functions, SQS) and restJson (Lambda): `__type` and `message`.
    Json,
    /// awsQuery (CloudFormation, SNS, STS): `<ErrorResponse><Error><Code>`.
    Query,
    /// restXml (S3): `<Error><Code>`.
    RestXml,
}

impl Protocol {
    fn of(headers: &HeaderMap) -> Protocol {
        let header = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .unwrap_or("")
        };
        if headers.contains_key("x-amz-target") {
            return Protocol::Json;
        }
        if header(CONTENT_TYPE).starts_with("application/x-www-form-urlencoded") {
            return Protocol::Query;
        }
        // The signing scope names the service: `Credential=KEY/DATE/REGION/s3/aws4_request`.
        if header(AUTHORIZATION).contains("/s3/aws4_request") {
            return Protocol::RestXml;
        }
        Protocol::Json
    }
}

/// An AWS error response in the caller's protocol.
fn aws_error(
    protocol: Protocol,
    status: StatusCode,
    code: &'static str,
    message: &str,
) -> HostResponse {
    let (content_type, body) = match protocol {
        Protocol::Json => (
            "application/json",
            json!({"__type": code, "message": message}).to_string(),
        ),
        Protocol::Query => (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>local-host</RequestId></ErrorResponse>",
                xml_text(message)
            ),
        ),
        Protocol::RestXml => (
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message></Error>",
                xml_text(message)
            ),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(code));
    resp
}

fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An error with its causes, `outer: inner: …`: the connector's own message ("client error
/// (Connect)") does not say what failed.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};

    use hyper::body::Frame;
    use infra_agent_pipeline::fakes::Fakes;

    use super::*;

    const CHUNK: usize = 64 * 1024;
    /// Far more than any limit: a host that read it all would be seen doing so.
    const HUGE: usize = 256 * 1024 * 1024;

    /// The host on a port of its own, in front of an emulator that is not there (a port that was
    /// bound and released).
    async fn host() -> SocketAddr {
        let gone = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let upstream = format!("http://{}", gone.local_addr().expect("address"));
        drop(gone);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let host = Host::new(Fakes::new().pipeline(), upstream.parse().expect("a URI"));
        tokio::spawn(host.run(listener));
        addr
    }

    /// A chunked body made as it is sent (no length announced), counting the bytes pulled.
    struct Generated {
        left: usize,
        pulled: Arc<AtomicUsize>,
        chunk: Bytes,
    }

    impl Generated {
        fn new(total: usize) -> (Self, Arc<AtomicUsize>) {
            let pulled = Arc::new(AtomicUsize::new(0));
            let body = Generated {
                left: total,
                pulled: pulled.clone(),
                chunk: Bytes::from(vec![b'x'; CHUNK]),
            };
            (body, pulled)
        }
    }

    impl Body for Generated {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.left == 0 {
                return Poll::Ready(None);
            }
            let n = self.left.min(CHUNK);
            self.left -= n;
            self.pulled.fetch_add(n, Ordering::SeqCst);
            Poll::Ready(Some(Ok(Frame::data(self.chunk.slice(..n)))))
        }
    }

    async fn send<B>(request: Request<B>) -> Response<Bytes>
    where
        B: Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let client = Client::builder(TokioExecutor::new()).build_http::<B>();
        let response = tokio::time::timeout(Duration::from_secs(20), client.request(request))
            .await
            .expect("an answer within 20 s")
            .expect("an HTTP answer");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("the whole answer").to_bytes();
        Response::from_parts(parts, body)
    }

    fn header<'a>(response: &'a Response<Bytes>, name: &str) -> &'a str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn an_oversized_chunked_body_is_refused_with_413_without_being_read() {
        let addr = host().await;
        for (path, limit) in [
            (
                "/2015-03-31/functions/validate/invocations",
                MAX_PAYLOAD_BYTES,
            ),
            (
                "/approvals/a1b2c3d4-0123456789ab?exp=1&sig=00",
                MAX_FORM_BYTES,
            ),
            ("/some-bucket/some-key", MAX_PROXIED_BYTES),
        ] {
            let (body, pulled) = Generated::new(HUGE);
            let request = Request::post(format!("http://{addr}{path}"))
                .body(body)
                .expect("a request");
            let response = send(request).await;
            assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
            // What the client could still push: the limit, what is thrown away after the
            // refusal, and the sockets' buffers — never the body.
            tokio::time::sleep(DISCARD_TIME + Duration::from_millis(500)).await;
            let sent = pulled.load(Ordering::SeqCst);
            assert!(sent > limit, "{path}: refused after {sent} bytes");
            assert!(
                sent < limit + DISCARD_BYTES + 64 * 1024 * 1024,
                "{path}: {sent} bytes read"
            );
        }
    }

    #[tokio::test]
    async fn an_invoke_announcing_more_than_6_mib_gets_lambda_s_own_error() {
        let addr = host().await;
        let request = Request::post(format!(
            "http://{addr}/2015-03-31/functions/validate/invocations"
        ))
        .body(Full::new(Bytes::from(vec![b' '; MAX_PAYLOAD_BYTES + 1])))
        .expect("a request");
        let response = send(request).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            header(&response, "x-amzn-errortype"),
            "RequestTooLargeException"
        );
        let body: Value = serde_json::from_slice(response.body()).expect("a JSON error");
        assert!(body["message"]
            .as_str()
            .is_some_and(|m| m.contains("6291456 bytes")));
    }

    /// Clients like Python's send the whole body before they read: they still get the answer
    /// when they send a little too much, not a connection reset.
    #[tokio::test]
    async fn a_client_that_sends_everything_before_reading_gets_the_413() {
        let addr = host().await;
        let answer = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(addr)?;
            stream.set_read_timeout(Some(Duration::from_secs(10)))?;
            let body = vec![b' '; MAX_PAYLOAD_BYTES + 1024];
            write!(
                stream,
                "POST /2015-03-31/functions/validate/invocations HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok::<_, std::io::Error>(answer)
        })
        .await
        .expect("the client ran")
        .expect("the whole body sent and an answer read");
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("RequestTooLargeException"), "{answer}");
    }

    #[tokio::test]
    async fn an_unreachable_emulator_is_a_503_in_json_for_json_protocols() {
        let addr = host().await;
        let request = Request::post(format!("http://{addr}/"))
            .header("x-amz-target", "DynamoDB_20120810.ListTables")
            .header(CONTENT_TYPE, "application/x-amz-json-1.0")
            .body(Full::new(Bytes::from_static(b"{}")))
            .expect("a request");
        let response = send(request).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header(&response, "x-amzn-errortype"), "ServiceUnavailable");
        let body: Value = serde_json::from_slice(response.body()).expect("a JSON error");
        assert_eq!(body["__type"], "ServiceUnavailable");
        let message = body["message"].as_str().expect("a message");
        assert!(
            message.starts_with("emulator unreachable at http://127.0.0.1:"),
            "{message}"
        );
    }

    /// The SDKs themselves read the error: JSON (DynamoDB), query XML (SNS), S3's XML.
    #[tokio::test]
    async fn sdk_callers_are_told_the_emulator_is_unreachable() {
        let endpoint = format!("http://{}", host().await);
        let unreachable = |code: Option<&str>, message: Option<&str>| {
            assert_eq!(code, Some("ServiceUnavailable"));
            let message = message.unwrap_or_default();
            assert!(message.starts_with("emulator unreachable"), "{message}");
        };

        use aws_sdk_dynamodb::config as ddb;
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            ddb::Builder::new()
                .behavior_version(ddb::BehaviorVersion::latest())
                .region(ddb::Region::new("us-east-1"))
                .credentials_provider(ddb::Credentials::new("local", "local", None, None, "test"))
                .endpoint_url(&endpoint)
                .retry_config(ddb::retry::RetryConfig::disabled())
                .build(),
        );
        let err = dynamodb
            .list_tables()
            .send()
            .await
            .expect_err("no emulator");
        {
            use aws_sdk_dynamodb::error::ProvideErrorMetadata;
            unreachable(err.code(), err.message());
        }

        use aws_sdk_sns::config as sns;
        let topics = aws_sdk_sns::Client::from_conf(
            sns::Builder::new()
                .behavior_version(sns::BehaviorVersion::latest())
                .region(sns::Region::new("us-east-1"))
                .credentials_provider(sns::Credentials::new("local", "local", None, None, "test"))
                .endpoint_url(&endpoint)
                .retry_config(sns::retry::RetryConfig::disabled())
                .build(),
        );
        let err = topics.list_topics().send().await.expect_err("no emulator");
        {
            use aws_sdk_sns::error::ProvideErrorMetadata;
            unreachable(err.code(), err.message());
        }

        use aws_sdk_s3::config as s3;
        let buckets = aws_sdk_s3::Client::from_conf(
            s3::Builder::new()
                .behavior_version(s3::BehaviorVersion::latest())
                .region(s3::Region::new("us-east-1"))
                .credentials_provider(s3::Credentials::new("local", "local", None, None, "test"))
                .endpoint_url(&endpoint)
                .force_path_style(true)
                .retry_config(s3::retry::RetryConfig::disabled())
                .build(),
        );
        let err = buckets
            .get_object()
            .bucket("templates")
            .key("vpc.yaml")
            .send()
            .await
            .expect_err("no emulator");
        {
            use aws_sdk_s3::error::ProvideErrorMetadata;
            unreachable(err.code(), err.message());
        }
    }
}
