//! Lambda entry point of the environment step (between the waves of deploy-environment).
//! All behaviour lives in `shared`; this binary only hosts it.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(shared::handlers::Function::Environment).await
}
