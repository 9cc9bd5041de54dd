//! After `infra-agent install` has created the pipeline's stack in the emulator from
//! `infra/pipeline.yaml`, reads what the CLI, the host and the tests need from the stack's outputs
//! (and the signing key from its secret) and prints it as `export` lines; subscribes a queue to
//! the approval topic so tests and the demo can read approval messages back. Safe to run again.

use anyhow::Context;
use infra_agent_core::install::{BOOTSTRAP_STACK, PIPELINE_STACK};
use infra_agent_core::registry::StateMachine;
use infra_agent_pipeline::ports::Stacks;
use infra_agent_pipeline::settings::{
    VAR_APPROVAL_KEY, VAR_APPROVAL_URL, VAR_BUCKET, VAR_CATALOG, VAR_CLOUDFORMATION_ROLE,
    VAR_DECISION_URL, VAR_TABLE, VAR_TOPIC,
};

/// moto's account; function ARNs must name it for the emulator to route invocations.
pub const ACCOUNT: &str = "123456789012";
/// Exported for tests and the demo: the queue subscribed to the approval topic.
const VAR_QUEUE_URL: &str = "INFRA_AGENT_APPROVAL_QUEUE_URL";

/// The bootstrap stack's outputs behind the variables of what outlives an uninstall.
const FROM_BOOTSTRAP: [(&str, &str); 2] =
    [(VAR_TABLE, "TableName"), (VAR_BUCKET, "TemplateBucketName")];

/// The pipeline stack's output behind each exported variable.
const FROM_OUTPUTS: [(&str, &str); 5] = [
    (VAR_TOPIC, "ApprovalTopicArn"),
    (VAR_APPROVAL_URL, "ApprovalUrl"),
    (VAR_DECISION_URL, "DecisionUrl"),
    (VAR_CLOUDFORMATION_ROLE, "CloudFormationRoles"),
    (VAR_CATALOG, "CatalogLocation"),
];

pub async fn run() -> anyhow::Result<()> {
    let config = infra_agent_pipeline::aws::config().await;
    let region = config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into());
    let stacks = infra_agent_pipeline::aws::cloudformation::CloudFormation::new(
        aws_sdk_cloudformation::Client::new(&config),
    );
    let outputs = stacks.stack_outputs(PIPELINE_STACK).await?;
    let output = |key: &str| {
        outputs
            .get(key)
            .cloned()
            .with_context(|| format!("{PIPELINE_STACK} has no output {key}: was it installed?"))
    };
    let data = stacks.stack_outputs(BOOTSTRAP_STACK).await?;
    for (variable, key) in FROM_BOOTSTRAP {
        let value = data
            .get(key)
            .with_context(|| format!("{BOOTSTRAP_STACK} has no output {key}"))?;
        println!("export {variable}={value}");
    }
    for (variable, key) in FROM_OUTPUTS {
        println!("export {variable}={}", output(key)?);
    }
    for machine in StateMachine::ALL {
        let short = infra_agent_core::install::definition_key_parameter(machine);
        let key = format!("{}StateMachineArn", short.trim_end_matches("DefinitionKey"));
        println!("export {}={}", machine.arn_variable(), output(&key)?);
    }

    // The host and the tests sign and check links with the key the template generated, as the
    // functions read it at a cold start.
    let secret = output("ApprovalSigningKeySecretArn")?;
    let keys = infra_agent_pipeline::aws::secrets::signing_keys(&config, &secret).await?;
    println!("export {VAR_APPROVAL_KEY}={}", keys.current);

    let topic_arn = output("ApprovalTopicArn")?;
    let topic_name = topic_arn
        .rsplit(':')
        .next()
        .context("approval topic ARN has no name")?;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue_name = format!("{topic_name}-inbox");
    let queue_url = sqs
        .create_queue()
        .queue_name(&queue_name)
        .send()
        .await
        .context("create approval inbox queue")?
        .queue_url
        .context("no queue URL returned")?;
    let queue_arn = format!("arn:aws:sqs:{region}:{ACCOUNT}:{queue_name}");
    aws_sdk_sns::Client::new(&config)
        .subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("RawMessageDelivery", "false")
        .send()
        .await
        .context("subscribe the inbox queue to the approval topic")?;
    println!("export {VAR_QUEUE_URL}={queue_url}");
    Ok(())
}
