//! Lambda entry point of the cost step (monthly estimate and delta of a change set).
//! All behaviour lives in `shared`; this binary only hosts it.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(shared::handlers::Function::CostEstimate).await
}
