//! Lambda entry point of the approval step and approval link endpoint.
//! All behaviour lives in `shared`; this binary only hosts it.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(shared::handlers::Function::Approval).await
}
