//! Lambda entry point of the approval step and approval link endpoint.
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run_approval(
        infra_agent_pipeline::functions::approval,
        infra_agent_pipeline::functions::wire_approval,
    )
    .await
}
