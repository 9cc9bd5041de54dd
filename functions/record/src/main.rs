//! Lambda entry point of the record step (begin and finish).
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::Record,
        infra_agent_pipeline::functions::record,
        infra_agent_pipeline::functions::wire_record,
    )
    .await
}
