//! Lambda entry point of the approval link's page, served by its function URL (AuthType NONE: the
//! link's HMAC signature is the authentication).
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this endpoint only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::ApprovalLink,
        infra_agent_pipeline::functions::approval_link,
        infra_agent_pipeline::functions::wire_approval_link,
    )
    .await
}
