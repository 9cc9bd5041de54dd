//! Lambda entry point of the drift-check step (the drift-scan machine's tasks).
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::DriftCheck,
        infra_agent_pipeline::functions::drift_check,
        infra_agent_pipeline::functions::wire_drift_check,
    )
    .await
}
