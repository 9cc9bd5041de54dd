//! The local Lambda host: answers the Lambda Invoke API by running the function's core entry point
//! in-process (the same `Function::invoke` the Lambda binaries run), serves function URLs at
//! `/lambda-url/{function-name}/{path…}` as AWS does (AWS_IAM ones check SigV4 against the local
//! identities first), and proxies every other request to the AWS emulator.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONNECTION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use infra_agent_core::registry::{Function, UrlAuth};
use infra_agent_pipeline::function_url::{self, UrlRequest};
use infra_agent_pipeline::functions::handler;
use infra_agent_pipeline::Pipeline;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::emulator::Emulator;
use crate::iam_auth::{self, Received};
use crate::identities::{Identities, LocalIdentity};

const INVOKE_PREFIX: &str = "/2015-03-31/functions/";
/// Where the function URLs are: `http://127.0.0.1:{port}/lambda-url/{function-name}/…`, the
/// `FunctionUrl` the emulator reports for an `AWS::Lambda::Url`.
pub const URL_PREFIX: &str = "/lambda-url/";
/// Lambda's own limit on a synchronous invocation payload.
const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// What the function URLs take: the link page's form (a decision, a name of at most 100
/// characters, a comment of at most 500, which percent-encode to under 8 KB) or a decision's JSON.
const MAX_URL_BODY_BYTES: usize = 64 * 1024;
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
    /// Each function wired as in AWS: its own ports, and the settings its installed configuration
    /// gives it (the variables of `infra/pipeline.yaml`), so a function missing a variable or a
    /// port fails here as it would there.
    pipelines: HashMap<Function, Pipeline>,
    upstream: hyper::Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    /// The emulator's own APIs: the functions' URL configurations.
    emulator: Emulator,
    /// Who may sign requests to AWS_IAM function URLs.
    identities: Identities,
    region: String,
}

type HostResponse = Response<Full<Bytes>>;

pub async fn serve(listen: SocketAddr, upstream: String) -> anyhow::Result<()> {
    let config = infra_agent_pipeline::aws::config().await;
    let region = config
        .region()
        .map_or_else(|| "us-east-1".to_string(), |r| r.to_string());
    let pipelines = installed_functions(&Emulator::new(&upstream, &region), &config).await?;
    let identities = Identities::from_env().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "no local identities: every request to an AWS_IAM function URL is refused");
        Identities::default()
    });
    let host = Host::new(pipelines, upstream.parse()?, identities, &region);
    let listener = TcpListener::bind(listen).await?;
    // The start script reads the bound address from this line.
    println!("listening on {}", listener.local_addr()?);
    host.run(listener).await
}

/// Every function of the registry as the emulator has it installed: its environment variables
/// read from its configuration, the signing key from its secret, its ports as its binary wires
/// them.
async fn installed_functions(
    emulator: &Emulator,
    config: &aws_config::SdkConfig,
) -> anyhow::Result<HashMap<Function, Pipeline>> {
    let mut pipelines = HashMap::new();
    for function in Function::ALL {
        let name = function.name();
        let variables = emulator
            .function_environment(&name)
            .await
            .with_context(|| format!("{name} is not installed in the emulator"))?;
        let settings = infra_agent_pipeline::aws::secrets::load_settings(config, |variable| {
            variables.get(variable).cloned()
        })
        .await
        .with_context(|| format!("settings of {name}"))?;
        let adapters = infra_agent_pipeline::aws::Aws {
            config: config.clone(),
            settings,
        };
        pipelines.insert(
            function,
            infra_agent_pipeline::functions::wire(function, &adapters),
        );
    }
    Ok(pipelines)
}

impl Host {
    fn new(
        pipelines: HashMap<Function, Pipeline>,
        upstream: hyper::Uri,
        identities: Identities,
        region: &str,
    ) -> Arc<Host> {
        Arc::new(Host {
            pipelines,
            emulator: Emulator::new(&upstream.to_string(), region),
            upstream,
            client: Client::builder(TokioExecutor::new()).build_http(),
            identities,
            region: region.to_string(),
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
        if let Some(rest) = path.strip_prefix(URL_PREFIX) {
            let (name, below) = rest.split_once('/').unwrap_or((rest, ""));
            let (name, below) = (name.to_string(), format!("/{below}"));
            return self.function_url(&name, &below, req).await;
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
        // As the pipeline's IAM has it: nobody may invoke a URL function directly, since the
        // event it would be handed could name any caller.
        if function.url_auth().is_some() {
            return lambda_api_error(
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                &format!(
                    "{} is reached only through its function URL, never invoked directly",
                    function.name()
                ),
            );
        }
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
        match handler(function)(&self.pipelines[&function], event).await {
            Ok(result) => json_response(StatusCode::OK, &result, None),
            Err(err) => {
                tracing::warn!(function = function.name(), error_type = err.error_type(), error = %err, "function error");
                let payload = serde_json::to_value(err.payload()).unwrap_or_else(|_| json!({}));
                // As Lambda does: the invocation itself succeeded; the function reported an error.
                json_response(StatusCode::OK, &payload, Some("Unhandled"))
            }
        }
    }

    /// A request to function `name`'s URL, as AWS serves it: 404 without a URL configuration in
    /// the emulator; for AWS_IAM, 403 unless a local identity signed this very request, before
    /// the function runs; then the function, handed the URL's event (with the caller for
    /// AWS_IAM), and its answer as the HTTP response.
    async fn function_url(&self, name: &str, below: &str, req: Request<Incoming>) -> HostResponse {
        let method = req.method().as_str().to_string();
        let path_and_query = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
        let raw_query = req.uri().query().unwrap_or("").to_string();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = match read_limited(req.into_body(), MAX_URL_BODY_BYTES).await {
            Ok(body) => body,
            Err(BodyRefused::TooLarge) => {
                return refused(url_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request too large",
                ))
            }
            Err(BodyRefused::Unreadable(_)) => {
                return url_error(StatusCode::BAD_REQUEST, "Bad request")
            }
        };
        let Some(function) = Function::from_name_or_arn(name) else {
            return url_error(StatusCode::NOT_FOUND, "Not found");
        };
        let auth = match self.emulator.url_auth(&function.name()).await {
            Ok(Some(auth)) => auth,
            Ok(None) => return url_error(StatusCode::NOT_FOUND, "Not found"),
            Err(e) => {
                tracing::error!(function = name, error = %format!("{e:#}"), "no URL configuration");
                return url_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
            }
        };
        let caller: Option<&LocalIdentity> = match auth {
            UrlAuth::None => None,
            UrlAuth::AwsIam => {
                let received = Received {
                    method: &method,
                    path_and_query: &path_and_query,
                    headers: &headers,
                    body: &body,
                };
                match iam_auth::verify(&self.identities, &received, &self.region, SystemTime::now())
                {
                    Ok(identity) => Some(identity),
                    Err(why) => {
                        tracing::warn!(function = name, reason = %why, "refused by the URL's AWS_IAM authentication");
                        return url_error(StatusCode::FORBIDDEN, "Forbidden");
                    }
                }
            }
        };
        let now = time::OffsetDateTime::now_utc();
        let at = now
            .format(time::macros::format_description!(
                "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
            ))
            .unwrap_or_default();
        let event = function_url::event(
            &UrlRequest {
                method: &method,
                path: below,
                raw_query: &raw_query,
                headers: &headers,
                body: &body,
                caller: caller.map(|c| c.arn.as_str()),
                access_key: caller.map(|c| c.access_key_id.as_str()),
            },
            &function.name(),
            (&at, now.unix_timestamp()),
        );
        match handler(function)(&self.pipelines[&function], event).await {
            Ok(answer) => {
                let (status, headers, body) = function_url::read_response(&answer);
                let mut out = Response::new(Full::new(Bytes::from(body)));
                *out.status_mut() =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                for (name, value) in headers {
                    if let (Ok(name), Ok(value)) = (
                        hyper::header::HeaderName::from_bytes(name.as_bytes()),
                        HeaderValue::from_str(&value),
                    ) {
                        out.headers_mut().insert(name, value);
                    }
                }
                out
            }
            Err(err) => {
                tracing::warn!(function = function.name(), error_type = err.error_type(), error = %err, "function error behind its URL");
                url_error(StatusCode::BAD_GATEWAY, "Internal Server Error")
            }
        }
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

/// A function URL's own answer, before or instead of the function's: `{"Message": …}`, as AWS
/// sends it.
fn url_error(status: StatusCode, message: &str) -> HostResponse {
    let mut resp = Response::new(Full::new(Bytes::from(
        json!({ "Message": message }).to_string(),
    )));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
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
        let fakes = Fakes::new();
        let host = Host::new(
            Function::ALL
                .into_iter()
                .map(|f| (f, fakes.pipeline()))
                .collect(),
            upstream.parse().expect("a URI"),
            Identities::fresh("local", "local"),
            "us-east-1",
        );
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
                "/lambda-url/infra-agent-approval-link/approvals/a1b2c3d4-0123456789ab?exp=1&sig=00",
                MAX_URL_BODY_BYTES,
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

    /// Invoked directly, a URL function would take the caller from an event anyone can write.
    #[tokio::test]
    async fn the_url_functions_cannot_be_invoked_directly() {
        let addr = host().await;
        let forged = json!({
            "rawPath": "/decisions/a1b2c3d4-0123456789ab",
            "requestContext": {
                "http": {"method": "POST"},
                "authorizer": {"iam": {"userArn": "arn:aws:sts::123456789012:assumed-role/infra-agent-approver-prd/x"}},
                "timeEpoch": 0
            },
            "body": "{\"decision\":\"approve\"}",
            "isBase64Encoded": false
        });
        for function in [Function::ApprovalDecision, Function::ApprovalLink] {
            let request = Request::post(format!(
                "http://{addr}/2015-03-31/functions/{}/invocations",
                function.name()
            ))
            .body(Full::new(Bytes::from(forged.to_string())))
            .expect("a request");
            let response = send(request).await;
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{}",
                function.name()
            );
            assert_eq!(
                header(&response, "x-amzn-errortype"),
                "AccessDeniedException"
            );
        }
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
