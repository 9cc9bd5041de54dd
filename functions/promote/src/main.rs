//! Lambda entry point of the promote step (the promote machine's checks and record).
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::Promote,
        infra_agent_pipeline::functions::promote,
        infra_agent_pipeline::functions::wire_promote,
    )
    .await
}
