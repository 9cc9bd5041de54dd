//! Lambda entry point of the validate step.
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // The first invocation of a cold start then finds the schemas loaded.
    infra_agent_core::validation::warm_up();
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::Validate,
        infra_agent_pipeline::functions::validate,
        infra_agent_pipeline::functions::wire_validate,
    )
    .await
}
