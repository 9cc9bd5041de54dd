//! Lambda entry point of the change-set step.
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::CreateChangeSet,
        infra_agent_pipeline::functions::create_change_set,
        infra_agent_pipeline::functions::wire_create_change_set,
    )
    .await
}
