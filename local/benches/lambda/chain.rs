//! Real events for every function: one deployment of `infra/stacks/vpc.yaml` to dev carried from
//! step to step the way the deploy state machine carries its state, then the environment step's
//! first wave of the catalog. Each packaged function is cold-started for its event; a function
//! that was not packaged runs in-process, so the chain still reaches the ones that were.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use infra_agent_core::catalog::Catalog;
use infra_agent_core::clock::now;
use infra_agent_core::contract::approval::{ApprovalDecision, Decision};
use infra_agent_core::contract::deploy::DeployRequest;
use infra_agent_core::contract::environment::{EnvironmentRequest, PlannedStack};
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::cost::price_list::{ListedPrice, PriceApiError, ProductQuery};
use infra_agent_core::cost::{refresh_book, PriceBook, PriceSource, Usd};
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::{new_execution_name, Env, StackKey};
use infra_agent_core::registry::Function;
use infra_agent_pipeline::functions::{handler, Handler};
use infra_agent_pipeline::settings::{
    PipelineSettings, VAR_APPROVAL_KEY, VAR_APPROVAL_URL, VAR_BUCKET, VAR_TABLE, VAR_TOPIC,
};
use infra_agent_pipeline::Pipeline;
use serde_json::{json, Value};

use crate::emulator::{Emulator, ACCESS_KEY, ACCOUNT, REGION};
use crate::sandbox::{Answer, Sandbox};

/// One event of the chain, and the function that processes it.
pub struct Step {
    pub function: Function,
    pub event: &'static str,
}

/// The chain's events, in the order it hands them over.
pub const STEPS: [Step; 8] = [
    Step {
        function: Function::Record,
        event: "begin",
    },
    Step {
        function: Function::Validate,
        event: "request (vpc, dev)",
    },
    Step {
        function: Function::CreateChangeSet,
        event: "request + plan",
    },
    Step {
        function: Function::CostEstimate,
        event: "request + change set",
    },
    Step {
        function: Function::Approval,
        event: "approval request",
    },
    Step {
        function: Function::Execute,
        event: "start",
    },
    Step {
        function: Function::Record,
        event: "finish SUCCEEDED",
    },
    Step {
        function: Function::Environment,
        event: "advance (first wave)",
    },
];

/// A cold start: spawn to first poll, the event to its answer, and the peak RSS then.
pub struct Sample {
    pub init: Duration,
    pub first_response: Duration,
    pub peak_rss: Option<u64>,
}

const TEMPLATE: &str = "infra/stacks/vpc.yaml";
/// As many polls as a change set on the emulator may take, a second apart.
const MAX_POLLS: usize = 60;
/// Lambda's variables that do not depend on the function (the rest are set per sandbox).
const LAMBDA_VARIABLES: [(&str, &str); 9] = [
    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
    ("AWS_LAMBDA_LOG_STREAM_NAME", "lambda-bench"),
    ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
    ("_HANDLER", "bootstrap"),
    ("TZ", ":UTC"),
    ("LANG", "en_US.UTF-8"),
    ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
    ("AWS_REGION", REGION),
];

pub struct Chain {
    lambda_dir: PathBuf,
    logs: PathBuf,
    packaged: BTreeSet<String>,
    /// Every sandbox's environment: Lambda's variables, credentials, the emulator, the settings.
    env: Vec<(String, String)>,
    /// Runs the functions that were not packaged.
    pipeline: Pipeline,
    template: String,
    catalog: Catalog,
}

impl Chain {
    /// Creates what the events need in the emulator: the records table, the template bucket and
    /// the approval topic.
    pub async fn prepare(
        root: &Path,
        emulator: &Emulator,
        lambda_dir: &Path,
        packaged: &[String],
        logs: PathBuf,
    ) -> anyhow::Result<Chain> {
        let config = emulator.config();
        let table = "infra-agent-bench";
        let bucket = "infra-agent-bench-templates";
        create_table(&aws_sdk_dynamodb::Client::new(config), table).await?;
        infra_agent_pipeline::aws::s3::s3_client(config)
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .context("create the template bucket")?;
        let topic = aws_sdk_sns::Client::new(config)
            .create_topic()
            .name("infra-agent-bench-approvals")
            .send()
            .await
            .context("create the approval topic")?
            .topic_arn
            .context("no topic ARN returned")?;
        let settings: BTreeMap<&str, String> = BTreeMap::from([
            (VAR_TABLE, table.to_string()),
            (VAR_BUCKET, bucket.to_string()),
            (VAR_TOPIC, topic),
            // Links in the approval message; nothing opens them.
            (VAR_APPROVAL_URL, "http://127.0.0.1/approvals".to_string()),
            (VAR_APPROVAL_KEY, random_key()?),
        ]);
        let pipeline = infra_agent_pipeline::aws::from_config(
            config,
            PipelineSettings::from_lookup(|name| settings.get(name).cloned())?,
        );
        fill_price_cache(&pipeline).await?;
        let mut env: Vec<(String, String)> = LAMBDA_VARIABLES
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.extend([
            ("AWS_DEFAULT_REGION".into(), REGION.into()),
            ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), ACCESS_KEY.into()),
            ("AWS_SESSION_TOKEN".into(), ACCESS_KEY.into()),
            ("AWS_ENDPOINT_URL".into(), emulator.url().into()),
        ]);
        env.extend(settings.into_iter().map(|(k, v)| (k.to_string(), v)));
        let template = std::fs::read_to_string(root.join(TEMPLATE))
            .with_context(|| format!("read {TEMPLATE}"))?;
        let catalog = Catalog::load(&root.join("infra/catalog.toml"), &root.join("infra/stacks"))
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(Chain {
            lambda_dir: lambda_dir.to_path_buf(),
            logs,
            packaged: packaged.iter().cloned().collect(),
            env,
            pipeline,
            template,
            catalog,
        })
    }

    /// Deployment number `run` through every step; one sample per step of `STEPS` (`None` for
    /// a step that ran in-process).
    pub async fn deploy(&self, run: usize) -> anyhow::Result<Vec<Option<Sample>>> {
        let stack: StackKey = format!("bench-vpc-{run}").parse()?;
        let template = self
            .pipeline
            .templates
            .put_template(
                self.pipeline.settings.template_bucket()?,
                &stack,
                &self.template,
            )
            .await?;
        let request = DeployRequest {
            promoted_from: None,
            returns_to: None,
            kind: Default::default(),
            version: CONTRACT_VERSION,
            deployment_id: new_execution_name(Env::Dev, &stack),
            stack,
            env: Env::Dev,
            template,
            requested_by: "lambda-bench".into(),
            iac_version: "1.0.0".into(),
            parameters: BTreeMap::new(),
            approval_timeout_seconds: None,
        };
        let mut state = json!({ "request": request });
        let mut samples = Vec::new();

        let (sample, plan, _) = self
            .cold(
                run,
                0,
                json!({"action": "begin", "request": state["request"]}),
            )
            .await?;
        samples.push(sample);
        state["plan"] = plan;

        let (sample, validation, _) = self
            .cold(run, 1, json!({"request": state["request"]}))
            .await?;
        samples.push(sample);
        anyhow::ensure!(
            validation["passed"] == true,
            "{TEMPLATE} did not pass validation for dev: {validation}"
        );
        state["validation"] = validation;

        let (sample, change_set, _) = self
            .cold(
                run,
                2,
                json!({"request": state["request"], "plan": state["plan"]}),
            )
            .await?;
        samples.push(sample);
        anyhow::ensure!(
            change_set["has_changes"] == true,
            "the change set of a new stack has no changes: {change_set}"
        );
        state["change_set"] = change_set;

        let (sample, cost, _) = self
            .cold(
                run,
                3,
                json!({"request": state["request"], "change_set": state["change_set"]}),
            )
            .await?;
        samples.push(sample);
        state["cost"] = cost;

        // Step Functions hands the approval step a task token to wait on; this one is the
        // bench's own, so the step stores and announces it and nothing can resume on it.
        let (sample, requested, _) = self
            .cold(
                run,
                4,
                json!({
                    "task_token": format!("lambda-bench-token-{run}"),
                    "request": state["request"],
                    "plan": state["plan"],
                    "change_set": state["change_set"],
                    "validation": state["validation"],
                    "cost": state["cost"],
                }),
            )
            .await?;
        samples.push(sample);
        // What Step Functions puts at `$.approval` once the approver approves.
        state["approval"] = serde_json::to_value(ApprovalDecision {
            approval_id: requested["approval_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            decision: Decision::Approved,
            approver: "lambda-bench".into(),
            decided_at: now().0,
            channel: "cli".into(),
            comment: None,
        })?;

        let execute = json!({
            "request": state["request"],
            "plan": state["plan"],
            "change_set": state["change_set"],
        });
        let mut start = execute.clone();
        start["action"] = json!("start");
        let (sample, mut execution, mut runner) = self.cold(run, 5, start).await?;
        samples.push(sample);
        // The machine's poll loop, against the same (now warm) sandbox.
        for _ in 0..MAX_POLLS {
            if execution["phase"] != "IN_PROGRESS" {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            let mut poll = execute.clone();
            poll["action"] = json!("poll");
            poll["execution"] = execution;
            execution = runner.invoke(Function::Execute, poll).await?.1;
        }
        drop(runner);
        anyhow::ensure!(
            execution["phase"] == "SUCCEEDED",
            "the stack did not deploy: {execution}"
        );
        state["execution"] = execution;

        let (sample, _, _) = self
            .cold(
                run,
                6,
                json!({"action": "finish", "outcome": "SUCCEEDED", "state": state}),
            )
            .await?;
        samples.push(sample);

        let (sample, _, _) = self
            .cold(
                run,
                7,
                json!({
                    "action": "advance",
                    "request": self.environment_request().await?,
                    "progress": null,
                    "wave_results": [],
                }),
            )
            .await?;
        samples.push(sample);
        Ok(samples)
    }

    /// A run of the whole catalog in dev, its templates stored, as `deploy --all` starts it.
    async fn environment_request(&self) -> anyhow::Result<EnvironmentRequest> {
        let mut waves = Vec::new();
        for wave in self.catalog.waves() {
            let mut planned = Vec::new();
            for key in wave {
                let Some(entry) = self.catalog.stack(key) else {
                    continue;
                };
                let body = std::fs::read_to_string(&entry.template)
                    .with_context(|| format!("read {}", entry.template.display()))?;
                planned.push(PlannedStack {
                    stack: key.clone(),
                    template: self
                        .pipeline
                        .templates
                        .put_template(self.pipeline.settings.template_bucket()?, key, &body)
                        .await?,
                    upstreams: entry.upstreams().cloned().collect(),
                    wiring: entry.wiring.clone(),
                    skip: None,
                });
            }
            waves.push(planned);
        }
        Ok(EnvironmentRequest {
            version: CONTRACT_VERSION,
            run_id: new_execution_name(Env::Dev, &"all".parse()?),
            env: Env::Dev,
            requested_by: "lambda-bench".into(),
            iac_version: "1.0.0".into(),
            approval_timeout_seconds: None,
            waves,
        })
    }

    /// Step `index` of `STEPS` on a fresh sandbox (or in-process when its function was not
    /// packaged): the sample, the function's result, and the runner for further events.
    async fn cold(
        &self,
        run: usize,
        index: usize,
        event: Value,
    ) -> anyhow::Result<(Option<Sample>, Value, Runner<'_>)> {
        let function = STEPS[index].function;
        let name = function.name();
        if !self.packaged.contains(&name) {
            let mut runner = Runner::InProcess(&self.pipeline, handler(function));
            let (_, result) = runner.invoke(function, event).await?;
            return Ok((None, result, runner));
        }
        let bootstrap = self.lambda_dir.join(&name).join("bootstrap");
        let sandbox = Sandbox::start(
            &name,
            &bootstrap,
            function.arn(REGION, ACCOUNT),
            &self.env,
            self.logs.join(format!("{name}-{run}-{index}.log")),
        )
        .await?;
        let init = sandbox.init;
        let mut runner = Runner::Sandbox(Box::new(sandbox));
        let (first_response, result) = runner.invoke(function, event).await?;
        let peak_rss = match &runner {
            Runner::Sandbox(s) => s.peak_rss(),
            Runner::InProcess(..) => None,
        };
        Ok((
            Some(Sample {
                init,
                first_response,
                peak_rss,
            }),
            result,
            runner,
        ))
    }
}

/// Where a step runs: its packaged function, or its handler in this process.
enum Runner<'a> {
    Sandbox(Box<Sandbox>),
    InProcess(&'a Pipeline, Handler),
}

impl Runner<'_> {
    /// Hands `event` over; an error answer fails the chain.
    async fn invoke(
        &mut self,
        function: Function,
        event: Value,
    ) -> anyhow::Result<(Duration, Value)> {
        match self {
            Runner::Sandbox(sandbox) => match sandbox
                .invoke(event)
                .await
                .with_context(|| function.name())?
            {
                (took, Answer::Response(result)) => Ok((took, result)),
                (_, Answer::Error(error_type, message)) => {
                    anyhow::bail!("{} answered {error_type}: {message}", function.name())
                }
            },
            Runner::InProcess(pipeline, handler) => {
                let started = std::time::Instant::now();
                let result = handler(pipeline, event)
                    .await
                    .with_context(|| format!("{} (in-process)", function.name()))?;
                Ok((started.elapsed(), result))
            }
        }
    }
}

/// Caches a listed price for every price the cost step refreshes, as its first run in AWS does.
/// The emulator has no Price List API: with nothing cached, the step would wait out the SDK's
/// retry of the API (up to a second of jitter) before pricing from the offline book, where in AWS
/// it reads the cache all week after one call per price.
async fn fill_price_cache(pipeline: &Pipeline) -> anyhow::Result<()> {
    let region = EnvironmentConfig::builtin(Env::Dev)?.region;
    let book = PriceBook::builtin(&region)?;
    let filled = refresh_book(
        book,
        &ListedPrices,
        pipeline.store.as_ref(),
        time::OffsetDateTime::now_utc(),
    )
    .await;
    anyhow::ensure!(
        filled.notes.is_empty(),
        "the price cache was not filled: {}",
        filled.notes.join("; ")
    );
    Ok(())
}

/// The Price List API as the bench plays it: one hourly price for every query.
struct ListedPrices;

#[async_trait::async_trait]
impl PriceSource for ListedPrices {
    async fn listed_price(&self, query: &ProductQuery) -> Result<ListedPrice, PriceApiError> {
        Ok(ListedPrice {
            sku: query.id(),
            usage_type: String::new(),
            unit: "Hrs".into(),
            usd: Usd::from_micros(45_000),
            description: "lambda bench".into(),
            effective_date: "2025-06-01T00:00:00Z".into(),
        })
    }
}

/// A fresh approval signing key, hex-encoded.
fn random_key() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("read /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The records table with the key schema the store reads (`infra/bootstrap.yaml` declares it in
/// an account).
async fn create_table(client: &aws_sdk_dynamodb::Client, table: &str) -> anyhow::Result<()> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let mut call = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest);
    for (name, kind) in [("pk", KeyType::Hash), ("sk", KeyType::Range)] {
        call = call
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()?,
            );
    }
    call.send().await.context("create the records table")?;
    Ok(())
}
