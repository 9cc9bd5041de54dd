//! The Lambda glue every infra-agent function shares: JSON logs, settings and ports built once
//! per cold start, and step errors mapped to typed Lambda errors (`errorType`) for Retry/Catch.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use base64::Engine;
use infra_agent_core::approval::http::{parse_form, HttpRequest, HttpResponse};
use infra_agent_core::registry::Function;
use infra_agent_pipeline::aws::Aws;
use infra_agent_pipeline::functions::{approval_url, Handler};
use infra_agent_pipeline::settings::PipelineSettings;
use infra_agent_pipeline::Pipeline;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};

/// How a function's pipeline is wired from the SDK adapters (`functions::wire_*`).
pub type Wiring = fn(&Aws) -> Pipeline;

/// Runs `function`'s `handler`, wired by `wire`, under the Lambda runtime until the sandbox is
/// torn down.
pub async fn run(
    function: Function,
    handler: Handler,
    wire: Wiring,
) -> Result<(), lambda_runtime::Error> {
    serve(function, handler, wire, false).await
}

/// Runs the approval function, which also serves the approval link (its function URL).
pub async fn run_approval(handler: Handler, wire: Wiring) -> Result<(), lambda_runtime::Error> {
    serve(Function::Approval, handler, wire, true).await
}

async fn serve(
    function: Function,
    handler: Handler,
    wire: Wiring,
    serves_url: bool,
) -> Result<(), lambda_runtime::Error> {
    init_logging();
    let settings = PipelineSettings::from_lookup(|name| std::env::var(name).ok())?;
    let adapters = Aws {
        config: infra_agent_pipeline::aws::config().await,
        settings,
    };
    let pipeline = wire(&adapters);
    let pipeline = &pipeline;
    // Boxed: the runtime's service stack around the steps' futures nests deeper than the
    // compiler's default layout depth.
    let serve: std::pin::Pin<Box<dyn std::future::Future<Output = _> + '_>> = Box::pin(
        lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
            if serves_url && is_function_url_event(&event.payload) {
                return Ok(url_response(serve_url(pipeline, event.payload).await));
            }
            handle(pipeline, function, handler, event.payload).await
        })),
    );
    serve.await
}

async fn handle(
    pipeline: &Pipeline,
    function: Function,
    handler: Handler,
    payload: Value,
) -> Result<Value, Diagnostic> {
    handler(pipeline, payload).await.map_err(|err| {
        tracing::error!(function = function.step(), error_type = err.error_type(), error = %err, "step failed");
        let payload = err.payload();
        Diagnostic {
            error_type: payload.error_type.to_string(),
            error_message: payload.error_message,
        }
    })
}

fn is_function_url_event(payload: &Value) -> bool {
    payload.pointer("/requestContext/http/method").is_some()
}

async fn serve_url(pipeline: &Pipeline, payload: Value) -> HttpResponse {
    let request: LambdaFunctionUrlRequest = match serde_json::from_value(payload) {
        Ok(r) => r,
        Err(e) => return HttpResponse::text(400, format!("malformed request: {e}")),
    };
    let body = match (request.body, request.is_base64_encoded) {
        (Some(b), true) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default(),
        (Some(b), false) => b,
        (None, _) => String::new(),
    };
    let http = HttpRequest {
        method: request.request_context.http.method.unwrap_or_default(),
        path: request.raw_path.unwrap_or_default(),
        query: parse_form(request.raw_query_string.as_deref().unwrap_or("")),
        body,
    };
    approval_url(pipeline, http).await
}

/// The function URL's response: the endpoint's one response, headers included.
fn url_response(response: HttpResponse) -> Value {
    let headers: serde_json::Map<String, Value> = response
        .headers()
        .into_iter()
        .map(|(name, value)| (name.to_string(), json!(value)))
        .collect();
    json!({
        "statusCode": response.status,
        "headers": headers,
        "body": response.body,
        "isBase64Encoded": false,
    })
}

fn init_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
        .init();
}
