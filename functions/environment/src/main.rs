//! Lambda entry point of the environment step (between the waves of deploy-environment).
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::Environment,
        infra_agent_pipeline::functions::environment,
        infra_agent_pipeline::functions::wire_environment,
    )
    .await
}
