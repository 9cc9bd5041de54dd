//! Lambda entry point of the execute step (start and poll).
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::Execute,
        infra_agent_pipeline::functions::execute,
        infra_agent_pipeline::functions::wire_execute,
    )
    .await
}
