//! Creates the pipeline's own resources in the emulator — the records table, the approval topic
//! with a queue subscribed to read messages back, the template bucket and the state machines —
//! and prints what the CLI and tests need as `export` lines. Safe to run again.

use std::path::Path;

use anyhow::Context;
use infra_agent_core::registry::StateMachine;
use infra_agent_pipeline::settings::PipelineSettings;

/// moto's account; function ARNs must name it for the emulator to route invocations.
pub const ACCOUNT: &str = "123456789012";
/// Exported for tests and the demo: the queue subscribed to the approval topic.
const VAR_QUEUE_URL: &str = "INFRA_AGENT_APPROVAL_QUEUE_URL";

pub async fn run(definitions: &Path, approval_url: &str) -> anyhow::Result<()> {
    let settings = PipelineSettings::from_lookup(|name| std::env::var(name).ok())?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let region = config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into());

    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    infra_agent_pipeline::aws::dynamodb::create_table(&dynamodb, &settings.table).await?;

    let s3 = infra_agent_pipeline::aws::s3::s3_client(&config);
    if let Err(e) = s3
        .create_bucket()
        .bucket(&settings.template_bucket)
        .send()
        .await
    {
        let code = infra_agent_pipeline::aws::error::sdk_code(&e)
            .unwrap_or_default()
            .to_string();
        anyhow::ensure!(
            code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists",
            "create bucket {}: {}",
            settings.template_bucket,
            infra_agent_pipeline::aws::error::sdk_message(&e)
        );
    }

    let sns = aws_sdk_sns::Client::new(&config);
    let topic_name = settings
        .approval_topic_arn
        .rsplit(':')
        .next()
        .context("approval topic ARN has no name")?;
    let topic_arn = sns
        .create_topic()
        .name(topic_name)
        .send()
        .await
        .context("create approval topic")?
        .topic_arn
        .context("no topic ARN returned")?;
    anyhow::ensure!(
        topic_arn == settings.approval_topic_arn,
        "topic created as {topic_arn}, but the settings name {}",
        settings.approval_topic_arn
    );

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
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("RawMessageDelivery", "false")
        .send()
        .await
        .context("subscribe the inbox queue to the approval topic")?;

    let sfn = aws_sdk_sfn::Client::new(&config);
    let role = format!("arn:aws:iam::{ACCOUNT}:role/infra-agent-states");
    for machine in StateMachine::ALL {
        let path = definitions.join(machine.file());
        let definition =
            std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        let definition = infra_agent_core::registry::render(&definition, &region, ACCOUNT);
        let arn = create_or_update_state_machine(&sfn, machine.name(), &definition, &role).await?;
        println!("export {}={arn}", machine.arn_variable());
    }
    // Until the local backend deploys the pipeline's template: the URL functions and their URLs.
    let endpoint = std::env::var("AWS_ENDPOINT_URL").context("AWS_ENDPOINT_URL is not set")?;
    let emulator = crate::emulator::Emulator::new(&endpoint, &region);
    crate::function_urls::create(&emulator, ACCOUNT).await?;

    println!("export {VAR_QUEUE_URL}={queue_url}");
    println!("export INFRA_AGENT_APPROVAL_URL={approval_url}");
    Ok(())
}

async fn create_or_update_state_machine(
    sfn: &aws_sdk_sfn::Client,
    name: &str,
    definition: &str,
    role: &str,
) -> anyhow::Result<String> {
    let existing = sfn
        .list_state_machines()
        .send()
        .await
        .context("list state machines")?
        .state_machines
        .into_iter()
        .find(|m| m.name == name);
    if let Some(machine) = existing {
        sfn.update_state_machine()
            .state_machine_arn(&machine.state_machine_arn)
            .definition(definition)
            .send()
            .await
            .with_context(|| format!("update state machine {name}"))?;
        return Ok(machine.state_machine_arn);
    }
    Ok(sfn
        .create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(role)
        .send()
        .await
        .with_context(|| format!("create state machine {name}"))?
        .state_machine_arn)
}
