//! Lambda entry point of the validate step.
//! All behaviour lives in `shared`; this binary only hosts it.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // The first invocation of a cold start then finds the schemas loaded.
    shared::validation::warm_up();
    infra_agent_lambda::run(shared::handlers::Function::Validate).await
}
