//! Which AWS the CLI talks to: the standard AWS configuration chain, or — with `--local` — the
//! local backend, whose endpoint and resource names `scripts/local-backend start` wrote to
//! `.local/env`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use infra_agent_core::registry::StateMachine;
use infra_agent_pipeline::aws::cloudformation::CloudFormation;
use infra_agent_pipeline::aws::dynamodb::DynamoStore;
use infra_agent_pipeline::aws::s3::S3Templates;

pub struct Backend {
    pub store: DynamoStore,
    /// CloudFormation through the stacks port; `cfn` for what only the CLI does (deleting stacks).
    pub stacks: CloudFormation,
    pub templates: S3Templates,
    pub sfn: aws_sdk_sfn::Client,
    pub sts: aws_sdk_sts::Client,
    pub cfn: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub template_bucket: String,
    pub state_machine_arn: String,
    /// The deploy-environment machine (`deploy --all`).
    pub environment_state_machine_arn: String,
    /// The drift-scan machine (`drift`).
    pub drift_state_machine_arn: String,
    /// The promote machine (`promote`).
    pub promote_state_machine_arn: String,
    /// The local emulator: stacks it cannot deploy are skipped there, loudly.
    pub is_emulator: bool,
    pub sns: aws_sdk_sns::Client,
    /// Where approvers are told about teardown approvals, when set.
    pub approval_topic_arn: Option<String>,
}

const LOCAL_ENV: &str = ".local/env";
/// Set by `scripts/local-backend` in `.local/env`: the emulator behind the local backend.
pub const EMULATOR_VAR: &str = "INFRA_AGENT_MOTO_URL";

impl Backend {
    /// Builds clients from the environment; `load_local_env` must have run first for `--local`.
    pub async fn connect() -> anyhow::Result<Backend> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .with_context(|| {
                    format!(
                        "{name} is not set: export the pipeline's settings, or use --local with the local backend running"
                    )
                })
        };
        let table = var(infra_agent_pipeline::settings::VAR_TABLE)?;
        let template_bucket = var(infra_agent_pipeline::settings::VAR_BUCKET)?;
        let state_machine_arn = var(StateMachine::Deploy.arn_variable())?;
        // Beside the deploy machine unless set: both are deployed together.
        let beside_deploy = |machine: StateMachine| {
            var(machine.arn_variable()).unwrap_or_else(|_| {
                let prefix = state_machine_arn
                    .rsplit_once(':')
                    .map_or(state_machine_arn.as_str(), |(prefix, _)| prefix);
                format!("{prefix}:{}", machine.name())
            })
        };
        let environment_state_machine_arn = beside_deploy(StateMachine::DeployEnvironment);
        let drift_state_machine_arn = beside_deploy(StateMachine::DriftScan);
        let promote_state_machine_arn = beside_deploy(StateMachine::Promote);
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let s3 = infra_agent_pipeline::aws::s3::s3_client(&config);
        let sfn = aws_sdk_sfn::Client::new(&config);
        Ok(Backend {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table),
            stacks: CloudFormation::new(cfn.clone()),
            templates: S3Templates::new(s3.clone()),
            sfn,
            sts: aws_sdk_sts::Client::new(&config),
            cfn,
            s3,
            template_bucket,
            state_machine_arn,
            environment_state_machine_arn,
            drift_state_machine_arn,
            promote_state_machine_arn,
            is_emulator: std::env::var_os(EMULATOR_VAR).is_some(),
            sns: aws_sdk_sns::Client::new(&config),
            approval_topic_arn: var(infra_agent_pipeline::settings::VAR_TOPIC).ok(),
        })
    }

    /// The ARN of the deploy execution named `deployment_id` (executions are named by their
    /// deployment).
    pub fn deploy_execution_arn(&self, deployment_id: &str) -> String {
        format!(
            "{}:{deployment_id}",
            self.state_machine_arn
                .replacen(":stateMachine:", ":execution:", 1)
        )
    }

    /// Who is calling: the IAM identity's ARN.
    pub async fn caller(&self) -> anyhow::Result<String> {
        let identity = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .context("could not determine your AWS identity (sts:GetCallerIdentity)")?;
        identity
            .arn
            .context("sts:GetCallerIdentity returned no ARN")
    }
}

/// Reads `export NAME=value` lines of `.local/env` (searched from the current directory up) into
/// this process's environment. Runs before any thread starts, as `set_var` requires.
pub fn load_local_env() -> anyhow::Result<()> {
    let path = find_upwards(LOCAL_ENV).with_context(|| {
        format!("{LOCAL_ENV} not found: start the local backend with `scripts/local-backend start`")
    })?;
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.strip_prefix("export ").unwrap_or(line).split_once('=')
        else {
            bail!("{}:{}: expected NAME=value", path.display(), number + 1);
        };
        // Values are written unquoted by the start script.
        std::env::set_var(name.trim(), value.trim());
    }
    Ok(())
}

fn find_upwards(relative: &str) -> Option<PathBuf> {
    let mut dir: &Path = &std::env::current_dir().ok()?;
    loop {
        let candidate = dir.join(relative);
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = dir.parent()?;
    }
}
