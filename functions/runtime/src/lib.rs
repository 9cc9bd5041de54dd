//! The Lambda glue every infra-agent function shares: JSON logs, settings and clients built once
//! per cold start, and step errors mapped to typed Lambda errors (`errorType`) for Retry/Catch.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use base64::Engine;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use shared::approval::http::{parse_form, HttpRequest, HttpResponse};
use shared::aws::{Pipeline, PipelineSettings};
use shared::handlers::{approval_http, Function};

/// Runs `function` under the Lambda runtime until the sandbox is torn down.
pub async fn run(function: Function) -> Result<(), lambda_runtime::Error> {
    init_logging();
    let settings = PipelineSettings::from_lookup(|name| std::env::var(name).ok())?;
    let pipeline = Pipeline::connect(settings).await;
    let pipeline = &pipeline;
    // Boxed: the runtime's service stack around the steps' futures nests deeper than the
    // compiler's default layout depth.
    let serve: std::pin::Pin<Box<dyn std::future::Future<Output = _> + '_>> = Box::pin(
        lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
            handle(pipeline, function, event.payload).await
        })),
    );
    serve.await
}

async fn handle(
    pipeline: &Pipeline,
    function: Function,
    payload: Value,
) -> Result<Value, Diagnostic> {
    // The approval function is also the approval link's function URL.
    if function == Function::Approval && is_function_url_event(&payload) {
        return Ok(url_response(serve_url(pipeline, payload).await));
    }
    function.invoke(pipeline, payload).await.map_err(|err| {
        tracing::error!(function = function.name(), error_type = err.error_type(), error = %err, "step failed");
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
        Err(e) => {
            return HttpResponse {
                status: 400,
                content_type: "text/plain; charset=utf-8",
                body: format!("malformed request: {e}"),
            }
        }
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
    approval_http(pipeline, http).await
}

fn url_response(response: HttpResponse) -> Value {
    json!({
        "statusCode": response.status,
        "headers": {
            "content-type": response.content_type,
            "cache-control": "no-store",
            "x-frame-options": "DENY",
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        },
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
