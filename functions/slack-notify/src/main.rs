//! Lambda entry point of Slack notify, subscribed to the approval topic: posts each approval (and
//! drift report) of an environment with Slack on to its channel.
//! All behaviour lives in `infra-agent-pipeline`; this binary hosts this step only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    infra_agent_lambda::run(
        infra_agent_core::registry::Function::SlackNotify,
        infra_agent_pipeline::functions::slack_notify,
        infra_agent_pipeline::functions::wire_slack_notify,
    )
    .await
}
