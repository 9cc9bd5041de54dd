//! The Lambda glue every infra-agent function shares: JSON logs, settings and ports built once
//! per cold start, and step errors mapped to typed Lambda errors (`errorType`) for Retry/Catch.
//! The functions behind a function URL are handlers like the others: they read the URL's event.

use infra_agent_core::registry::Function;
use infra_agent_pipeline::aws::Aws;
use infra_agent_pipeline::functions::Handler;
use infra_agent_pipeline::Pipeline;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

/// How a function's pipeline is wired from the SDK adapters (`functions::wire_*`).
pub type Wiring = fn(&Aws) -> Pipeline;

/// Runs `function`'s `handler`, wired by `wire`, under the Lambda runtime until the sandbox is
/// torn down.
pub async fn run(
    function: Function,
    handler: Handler,
    wire: Wiring,
) -> Result<(), lambda_runtime::Error> {
    init_logging();
    let config = infra_agent_pipeline::aws::config().await;
    // Read once per cold start; the signing key comes from its secret where the function has one.
    let settings =
        infra_agent_pipeline::aws::secrets::load_settings(&config, |name| std::env::var(name).ok())
            .await?;
    let adapters = Aws { config, settings };
    let pipeline = wire(&adapters);
    let pipeline = &pipeline;
    // Boxed: the runtime's service stack around the steps' futures nests deeper than the
    // compiler's default layout depth.
    let serve: std::pin::Pin<Box<dyn std::future::Future<Output = _> + '_>> = Box::pin(
        lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
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
