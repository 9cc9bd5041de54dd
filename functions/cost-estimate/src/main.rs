//! Lambda entry point of the cost step (monthly estimate and delta of a change set).
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::CostEstimate,
        infra_agent_pipeline::functions::cost_estimate,
        infra_agent_pipeline::functions::wire_cost_estimate,
    )
    .await
}
