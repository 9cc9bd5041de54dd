//! Lambda entry point of the approval step (`.waitForTaskToken`).
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::Approval,
        infra_agent_pipeline::functions::approval,
        infra_agent_pipeline::functions::wire_approval,
    )
    .await
}
