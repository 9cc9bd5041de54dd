//! Lambda entry point of the execute step (start and poll).
//! All behaviour lives in `shared`; this binary only hosts it.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(shared::handlers::Function::Execute).await
}
