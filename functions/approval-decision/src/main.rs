//! Lambda entry point of the decision endpoint, served by its function URL (AuthType AWS_IAM: the
//! caller IAM authenticated is the approver).
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this endpoint only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::ApprovalDecision,
        infra_agent_pipeline::functions::approval_decision,
        infra_agent_pipeline::functions::wire_approval_decision,
    )
    .await
}
