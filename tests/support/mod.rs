//! Shared support of the end-to-end tests: clients for the running local backend, deployments
//! started the way the CLI starts them, and waiting for executions and records.
//!
//! The tests need the local backend (`scripts/test` starts it and exports its settings); without
//! it they fail with an explanation rather than pass.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use infra_agent_core::contract::deploy::{DeployRequest, DeploymentKind};
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::naming::{new_execution_name, Env, StackKey};
use infra_agent_core::records::{ApprovalRecord, AuditEntry, DeploymentRecord};
use infra_agent_core::registry::StateMachine;
use infra_agent_pipeline::settings::PipelineSettings;
use infra_agent_pipeline::Pipeline;

pub mod browser;

pub use infra_agent_local::identities::{Identities, LocalIdentity};
pub use infra_agent_local::inbox;

pub mod slack;

/// The local backend as the tests see it.
pub struct Backend {
    /// The pipeline's ports on the emulator, as the functions see them.
    pub pipeline: Pipeline,
    /// Clients for what only tests and the CLI do: start and inspect executions, read stacks.
    pub sfn: aws_sdk_sfn::Client,
    pub cfn: aws_sdk_cloudformation::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub state_machine_arn: String,
    pub environment_state_machine_arn: String,
    pub drift_state_machine_arn: String,
    pub promote_state_machine_arn: String,
    pub queue_url: String,
    pub endpoint: String,
    /// The decision endpoint's function URL (AuthType AWS_IAM).
    pub decision_url: String,
    /// Who may sign requests to it.
    pub identities: Identities,
}

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the tests with `scripts/test`, which starts the local backend"
        )
    })
}

impl Backend {
    pub async fn connect() -> Backend {
        let settings = PipelineSettings::from_lookup(|name| std::env::var(name).ok())
            .unwrap_or_else(|e| panic!("{e}: run the tests with `scripts/test`"));
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Backend {
            pipeline: infra_agent_pipeline::aws::from_config(&config, settings),
            sfn: aws_sdk_sfn::Client::new(&config),
            cfn: aws_sdk_cloudformation::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            state_machine_arn: required(StateMachine::Deploy.arn_variable()),
            environment_state_machine_arn: required(StateMachine::DeployEnvironment.arn_variable()),
            drift_state_machine_arn: required(StateMachine::DriftScan.arn_variable()),
            promote_state_machine_arn: required(StateMachine::Promote.arn_variable()),
            queue_url: required("INFRA_AGENT_APPROVAL_QUEUE_URL"),
            endpoint: required("AWS_ENDPOINT_URL"),
            // A function URL ends with "/", as CloudFormation gives it.
            decision_url: required(infra_agent_pipeline::settings::VAR_DECISION_URL)
                .trim_end_matches('/')
                .to_string(),
            identities: Identities::from_env()
                .unwrap_or_else(|e| panic!("{e:#}: run the tests with `scripts/test`")),
        }
    }

    /// Local identity `name`.
    pub fn identity(&self, name: &str) -> LocalIdentity {
        self.identities
            .by_name(name)
            .unwrap_or_else(|| panic!("no local identity {name}"))
            .clone()
    }

    /// `{"decision": decision}` on `approval_id`, signed as local identity `name`, as
    /// `infra-agent approve|reject` sends it; the endpoint's status and JSON answer.
    pub async fn decide_as(
        &self,
        name: &str,
        approval_id: &str,
        decision: &str,
    ) -> (u16, serde_json::Value) {
        let body = serde_json::json!({ "decision": decision }).to_string();
        let url = format!("{}/decisions/{approval_id}", self.decision_url);
        post_signed(&url, Some(&self.identity(name)), &body, &body, &[]).await
    }

    /// Stores `template` and starts a named deploy execution, as `infra-agent deploy` does.
    pub async fn start(&self, stack: &StackKey, template: &str, iac_version: &str) -> Started {
        self.start_in(Env::Dev, stack, template, iac_version, None)
            .await
    }

    /// As `start`, with a shorter approval window.
    pub async fn start_with_timeout(
        &self,
        stack: &StackKey,
        template: &str,
        iac_version: &str,
        approval_timeout_seconds: Option<u32>,
    ) -> Started {
        self.start_in(
            Env::Dev,
            stack,
            template,
            iac_version,
            approval_timeout_seconds,
        )
        .await
    }

    /// Starts a deployment to `env`.
    pub async fn start_in(
        &self,
        env: Env,
        stack: &StackKey,
        template: &str,
        iac_version: &str,
        approval_timeout_seconds: Option<u32>,
    ) -> Started {
        self.start_wired(
            env,
            stack,
            template,
            iac_version,
            approval_timeout_seconds,
            BTreeMap::new(),
        )
        .await
    }

    /// Starts a deployment to `env` with parameter values wired from upstream stacks.
    pub async fn start_wired(
        &self,
        env: Env,
        stack: &StackKey,
        template: &str,
        iac_version: &str,
        approval_timeout_seconds: Option<u32>,
        parameters: BTreeMap<String, String>,
    ) -> Started {
        self.start_kind(
            DeploymentKind::Deploy,
            env,
            stack,
            template,
            iac_version,
            approval_timeout_seconds,
            parameters,
        )
        .await
    }

    /// Starts a deployment or a remediation, as the CLI does.
    #[allow(clippy::too_many_arguments)]
    pub async fn start_kind(
        &self,
        kind: DeploymentKind,
        env: Env,
        stack: &StackKey,
        template: &str,
        iac_version: &str,
        approval_timeout_seconds: Option<u32>,
        parameters: BTreeMap<String, String>,
    ) -> Started {
        let template_ref = self
            .pipeline
            .templates
            .put_template(
                self.pipeline
                    .settings
                    .template_bucket()
                    .expect("a template bucket"),
                stack,
                template,
            )
            .await
            .expect("store template");
        let request = DeployRequest {
            promoted_from: None,
            returns_to: None,
            kind,
            version: CONTRACT_VERSION,
            deployment_id: new_execution_name(env, stack),
            stack: stack.clone(),
            env,
            template: template_ref,
            requested_by: "e2e-tests".into(),
            iac_version: iac_version.into(),
            approval_timeout_seconds,
            parameters,
        };
        self.start_request(&request).await
    }

    /// Starts the deploy machine on `request`, as the CLI does.
    pub async fn start_request(&self, request: &DeployRequest) -> Started {
        let out = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(&request.deployment_id)
            .input(request.machine_input().to_string())
            .send()
            .await
            .expect("start execution");
        Started {
            deployment_id: request.deployment_id.clone(),
            execution_arn: out.execution_arn,
            stack: request.stack.clone(),
            env: request.env,
        }
    }

    /// Starts the promote machine on `request`; returns the execution's ARN.
    pub async fn start_promotion(
        &self,
        request: &infra_agent_core::contract::promote::PromotionRequest,
    ) -> String {
        self.sfn
            .start_execution()
            .state_machine_arn(&self.promote_state_machine_arn)
            .name(&request.promotion_id)
            .input(request.machine_input().to_string())
            .send()
            .await
            .expect("start the promotion")
            .execution_arn
    }

    /// Waits for any execution to end; its status and error.
    pub async fn wait_for_execution(&self, arn: &str) -> Ended {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let out = self
                .sfn
                .describe_execution()
                .execution_arn(arn)
                .send()
                .await
                .expect("describe execution");
            if out.status.as_str() != "RUNNING" {
                return Ended {
                    status: out.status.as_str().to_string(),
                    error: out.error,
                    cause: out.cause,
                };
            }
            assert!(Instant::now() < deadline, "{arn} still running");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Starts the drift-scan machine on `input` under a new scan id; waits for it to end and
    /// returns the scan id, the execution's status and its output.
    pub async fn scan(&self, input: &serde_json::Value) -> (String, String, serde_json::Value) {
        let scan_id = new_execution_name(Env::Dev, &"drift".parse().expect("a stack key"));
        let out = self
            .sfn
            .start_execution()
            .state_machine_arn(&self.drift_state_machine_arn)
            .name(&scan_id)
            .input(input.to_string())
            .send()
            .await
            .expect("start the drift scan");
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let execution = self
                .sfn
                .describe_execution()
                .execution_arn(&out.execution_arn)
                .send()
                .await
                .expect("describe the drift scan");
            if execution.status.as_str() != "RUNNING" {
                let output = execution
                    .output
                    .as_deref()
                    .map(|o| serde_json::from_str(o).expect("JSON output"))
                    .unwrap_or_default();
                return (scan_id, execution.status.as_str().to_string(), output);
            }
            assert!(
                Instant::now() < deadline,
                "drift scan {scan_id} still running"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Runs `script` with boto3 against the emulator, as a person with console access changes
    /// resources by hand; `args` are its `sys.argv[1:]`. Returns what it prints.
    pub fn by_hand(&self, script: &str, args: &[&str]) -> String {
        let out = std::process::Command::new(venv_tool("python"))
            .arg("-c")
            .arg(format!(
                "import sys, boto3\nec2 = boto3.client('ec2', region_name='us-east-1')\ncfn = boto3.client('cloudformation', region_name='us-east-1')\n{script}"
            ))
            .args(args)
            .output()
            .expect("run the venv's python");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub async fn record(&self, started: &Started) -> Option<DeploymentRecord> {
        self.pipeline
            .store
            .deployment(started.env, started.stack.as_str(), &started.deployment_id)
            .await
            .expect("read deployment record")
    }

    /// Waits until the deployment record reaches `status`.
    pub async fn wait_for_status(
        &self,
        started: &Started,
        status: DeploymentStatus,
    ) -> DeploymentRecord {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let record = self.record(started).await;
            if let Some(r) = record.as_ref().filter(|r| r.status == status) {
                return r.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{} never reached {status:?}; last record: {record:?}",
                started.deployment_id
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The execution as Step Functions describes it now.
    pub async fn execution(
        &self,
        started: &Started,
    ) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
        self.sfn
            .describe_execution()
            .execution_arn(&started.execution_arn)
            .send()
            .await
            .expect("describe execution")
    }

    /// Approval `id` as stored; the test fails if there is none.
    pub async fn approval(&self, id: &str) -> ApprovalRecord {
        self.pipeline
            .store
            .approval(id)
            .await
            .expect("read the approval")
            .unwrap_or_else(|| panic!("no approval {id}"))
    }

    /// The audit trail of `started`'s stack in its environment.
    pub async fn audit_trail(&self, started: &Started) -> Vec<AuditEntry> {
        self.pipeline
            .store
            .audit_trail(started.env, started.stack.as_str())
            .await
            .expect("read the audit trail")
    }

    /// Waits for the execution to end; returns its status and, for failures, the error name.
    pub async fn wait_for_end(&self, started: &Started) -> Ended {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let out = self.execution(started).await;
            if out.status.as_str() != "RUNNING" {
                return Ended {
                    status: out.status.as_str().to_string(),
                    error: out.error,
                    cause: out.cause,
                };
            }
            assert!(
                Instant::now() < deadline,
                "{} still running",
                started.deployment_id
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The approval message of a deployment, as an approver receives it.
    pub async fn approval_message(&self, started: &Started) -> inbox::ApprovalMessage {
        inbox::find_approval_message(
            &self.sqs,
            &self.queue_url,
            &started.deployment_id,
            Duration::from_secs(30),
        )
        .await
        .expect("approval message")
    }

    /// Waits until the deployment asks for approval; returns its approval message.
    pub async fn awaiting_approval(&self, started: &Started) -> inbox::ApprovalMessage {
        self.wait_for_status(started, DeploymentStatus::AwaitingApproval)
            .await;
        self.approval_message(started).await
    }

    /// Starts a deployment of a fresh vpc stack (named from `prefix`) to `env` and waits until it
    /// asks for approval; its approval message.
    pub async fn waiting_vpc(&self, env: Env, prefix: &str) -> (Started, inbox::ApprovalMessage) {
        let stack = unique_stack(prefix);
        let started = self
            .start_in(env, &stack, &vpc_template(&BTreeMap::new()), "1.0.0", None)
            .await;
        let message = self.awaiting_approval(&started).await;
        (started, message)
    }

    /// Approves through the link (GET, then POST) and waits for the execution to end.
    pub async fn approve_via_link(&self, started: &Started, approver: &str) -> Ended {
        let message = self.awaiting_approval(started).await;
        let page = inbox::get(&message.link).await.expect("GET approval page");
        assert_eq!(page.status, 200, "{}", page.body);
        let done = inbox::post_form(
            &message.link,
            &[("decision", "approve"), ("approver", approver)],
        )
        .await
        .expect("POST approval");
        assert_eq!(done.status, 200, "{}", done.body);
        self.wait_for_end(started).await
    }

    pub async fn stack_status(&self, started: &Started) -> Option<String> {
        let name = infra_agent_core::naming::stack_name(started.env, &started.stack);
        self.pipeline
            .stacks
            .describe_stack(&name)
            .await
            .expect("describe stack")
            .map(|s| s.status.to_string())
    }

    /// Whether a deployment holds the lock of `started`'s stack in `started`'s environment.
    pub async fn lock_held(&self, started: &Started) -> bool {
        self.pipeline
            .store
            .lock(started.env, started.stack.as_str())
            .await
            .expect("read lock")
            .is_some()
    }

    /// Change sets that still exist for `started`'s stack in `started`'s environment. A stack
    /// that does not exist has none; any other error of ListChangeSets fails the test.
    pub async fn change_sets(&self, started: &Started) -> Vec<String> {
        let name = infra_agent_core::naming::stack_name(started.env, &started.stack);
        match self.cfn.list_change_sets().stack_name(&name).send().await {
            // The emulator lists change sets of every stack: keep this stack's own.
            Ok(out) => out
                .summaries()
                .iter()
                .filter(|s| s.stack_name() == Some(name.as_str()))
                .filter_map(|s| s.change_set_name().map(str::to_string))
                .collect(),
            Err(e) if is_missing_stack(&e) => Vec::new(),
            Err(e) => panic!("ListChangeSets of {name}: {e:?}"),
        }
    }
}

/// POSTs `sent_body` to `url`, signed by `signer` over `signed_body` (none: unsigned), with
/// `headers` besides; the status and the answer as JSON (`null` when it is not JSON).
pub async fn post_signed(
    url: &str,
    signer: Option<&LocalIdentity>,
    signed_body: &str,
    sent_body: &str,
    headers: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    use http_body_util::{BodyExt, Full};
    use infra_agent_pipeline::aws::sigv4;
    let content_type = ("content-type", "application/json");
    let mut request = hyper::Request::post(url).header(content_type.0, content_type.1);
    if let Some(who) = signer {
        let signature = sigv4::sign(
            &sigv4::Request {
                service: sigv4::SERVICE,
                method: "POST",
                url,
                headers: &[content_type],
                body: signed_body.as_bytes(),
            },
            &who.credentials(),
            "us-east-1",
            std::time::SystemTime::now(),
        )
        .expect("signed");
        for (name, value) in signature {
            request = request.header(name, value);
        }
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(bytes::Bytes::from(sent_body.to_string())))
        .expect("a request");
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let response = client.request(request).await.expect("the host answers");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("an answer")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// CloudFormation's answer for a stack that does not exist: `ValidationError`, "… does not exist".
fn is_missing_stack<E>(err: &aws_sdk_cloudformation::error::SdkError<E>) -> bool
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata,
{
    err.as_service_error().is_some_and(|e| {
        e.code() == Some("ValidationError")
            && e.message().is_some_and(|m| m.contains("does not exist"))
    })
}

pub struct Started {
    pub deployment_id: String,
    pub execution_arn: String,
    pub stack: StackKey,
    pub env: Env,
}

#[derive(Debug)]
pub struct Ended {
    pub status: String,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// A stack key no other test uses.
pub fn unique_stack(prefix: &str) -> StackKey {
    let id = uuid_fragment();
    format!("{prefix}-{id}").parse().expect("valid stack key")
}

fn uuid_fragment() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{:x}{n}", nanos % 0xfffff)
}

/// The repository's VPC stack, with values substituted.
pub fn vpc_template(replacements: &BTreeMap<&str, &str>) -> String {
    let mut text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/stacks/vpc.yaml"
    ))
    .expect("read infra/stacks/vpc.yaml");
    for (from, to) in replacements {
        assert!(text.contains(from), "template has no {from:?}");
        text = text.replace(from, to);
    }
    text
}

/// A stack of one log group kept `days` days, with the stack tags (the `Owner` tag left out when
/// `owner_tag` is false, as a version from before that tag was required) and its name as output.
pub fn log_group_template(days: u32, owner_tag: bool) -> String {
    let owner = if owner_tag {
        "\n        - { Key: Owner, Value: !Ref Owner }"
    } else {
        ""
    };
    format!(
        r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Environment: {{ Type: String }}
  Owner: {{ Type: String }}
  SecurityLevel: {{ Type: String }}
  IaCVersion: {{ Type: String }}
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: {days}
      Tags:
        - {{ Key: Environment, Value: !Ref Environment }}{owner}
        - {{ Key: SecurityLevel, Value: !Ref SecurityLevel }}
        - {{ Key: IaC_Version, Value: !Ref IaCVersion }}
Outputs:
  LogGroup:
    Value: !Ref Logs
"#
    )
}

/// Path of a Python tool in the project's virtualenv.
pub fn venv_tool(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.venv/bin")
        .join(name)
}
