//! `install` and `uninstall`: the pipeline's own stack in an account. `install` creates the
//! bootstrap stack (the artifact bucket) when missing, uploads the packaged functions, state
//! machine definitions, catalog and template under their content hash, then creates or updates
//! `infra-agent-pipeline` through a change set it shows before it runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use infra_agent_core::contract::change_set::{ChangeSetType, ChangeSummary};
use infra_agent_core::install::{
    pipeline_parameters, Artifact, CatalogBundle, PackagedManifest, ARTIFACT_BUCKET_OUTPUT,
    BOOTSTRAP_STACK, BOOTSTRAP_TEMPLATE, PACKAGED_MANIFEST, PIPELINE_STACK,
};
use infra_agent_core::registry::{Function, StateMachine};
use infra_agent_core::stack::{change_set_type_for, first_failure, ChangeSetOutcome, StackStatus};
use infra_agent_pipeline::aws::cloudformation::CloudFormation;
use infra_agent_pipeline::aws::error::{sdk_code, sdk_message};
use infra_agent_pipeline::ports::{ChangeSetSpec, Stacks};
use infra_agent_pipeline::steps::change_set::wait_for_change_set;
use serde::Serialize;

use super::destroy::delete_and_wait;
use crate::output::{answer, eprint_line, print_json, print_line, print_table, Format};

#[derive(clap::Args)]
pub struct InstallArgs {
    /// Directory of the packaged functions (`scripts/package`): `<dir>/infra-agent-<step>/bootstrap.zip`
    /// and `packaged.json`. Default: `lambda/` under the cargo target directory.
    #[arg(long, env = "INFRA_AGENT_ARTIFACTS")]
    artifacts: Option<PathBuf>,
    /// The stack catalog installed for executions started from the Step Functions console.
    #[arg(long, default_value = "infra/catalog.toml")]
    catalog: PathBuf,
    /// E-mail address subscribed to approval requests.
    #[arg(long)]
    approval_email: Option<String>,
    /// Apply the change set without asking.
    #[arg(long)]
    yes: bool,
}

#[derive(clap::Args)]
pub struct UninstallArgs {
    /// Skip the typed confirmation.
    #[arg(long)]
    yes: bool,
    /// Also delete the bootstrap stack: the records table, the template and artifact buckets and
    /// their key (kept by default: the records are the audit trail).
    #[arg(long)]
    delete_data: bool,
}

/// How a stack came out of `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Applied {
    Created,
    Updated,
    NoChanges,
    Declined,
}

#[derive(Serialize)]
struct InstallView {
    stack: &'static str,
    result: Applied,
    artifact_bucket: String,
    uploaded: usize,
    already_uploaded: usize,
    outputs: BTreeMap<String, String>,
}

struct Clients {
    stacks: CloudFormation,
    cfn: aws_sdk_cloudformation::Client,
    s3: aws_sdk_s3::Client,
    dynamodb: aws_sdk_dynamodb::Client,
}

impl Clients {
    async fn connect() -> Clients {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        Clients {
            stacks: CloudFormation::new(cfn.clone()),
            cfn,
            s3: infra_agent_pipeline::aws::s3::s3_client(&config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
        }
    }
}

pub async fn install(args: InstallArgs, format: Format) -> anyhow::Result<ExitCode> {
    let clients = Clients::connect().await;
    let version = env!("CARGO_PKG_VERSION");
    let artifacts_dir = args.artifacts.clone().unwrap_or_else(default_artifacts_dir);
    // Read everything before touching the account: a missing zip changes nothing.
    let (architecture, mut artifacts) = packaged_functions(&artifacts_dir)?;
    artifacts.extend(StateMachine::ALL.iter().map(|m| Artifact::definition(*m)));
    let bundle = CatalogBundle::read(&args.catalog, version).map_err(anyhow::Error::msg)?;
    artifacts.push(Artifact::catalog(&bundle));
    let template = Artifact::pipeline_template();

    let bootstrap_parameters = BTreeMap::from([("IaCVersion".to_string(), version.to_string())]);
    let bootstrap = apply(
        &clients,
        BOOTSTRAP_STACK,
        Source::Body(BOOTSTRAP_TEMPLATE),
        &bootstrap_parameters,
        Confirm::No,
        format,
    )
    .await?;
    if bootstrap == Applied::Created {
        eprint_line(format!("Created {BOOTSTRAP_STACK} (the artifact bucket)"));
    }
    let bucket = clients
        .stacks
        .stack_outputs(BOOTSTRAP_STACK)
        .await?
        .remove(ARTIFACT_BUCKET_OUTPUT)
        .with_context(|| format!("{BOOTSTRAP_STACK} has no output {ARTIFACT_BUCKET_OUTPUT}"))?;

    let mut uploaded = 0;
    let mut already = 0;
    for artifact in artifacts.iter().chain([&template]) {
        if upload(&clients.s3, &bucket, artifact).await? {
            uploaded += 1;
        } else {
            already += 1;
        }
    }
    eprint_line(format!(
        "Artifacts in s3://{bucket}: {uploaded} uploaded, {already} already there"
    ));

    let parameters = pipeline_parameters(
        &artifacts,
        &bucket,
        &architecture,
        version,
        args.approval_email.as_deref(),
    );
    let url = infra_agent_core::deploy::templates::template_url(
        &infra_agent_core::contract::deploy::TemplateRef {
            bucket: bucket.clone(),
            key: template.key.clone(),
            sha256: template.sha256.clone(),
        },
    );
    let confirm = if args.yes { Confirm::No } else { Confirm::Ask };
    let result = apply(
        &clients,
        PIPELINE_STACK,
        Source::Url(url),
        &parameters,
        confirm,
        format,
    )
    .await?;
    if result == Applied::Declined {
        eprint_line("Nothing was changed.");
        return Ok(ExitCode::FAILURE);
    }
    let outputs = clients.stacks.stack_outputs(PIPELINE_STACK).await?;
    match format {
        Format::Json => print_json(&InstallView {
            stack: PIPELINE_STACK,
            result,
            artifact_bucket: bucket,
            uploaded,
            already_uploaded: already,
            outputs,
        })?,
        Format::Table => {
            print_line(match result {
                Applied::NoChanges => {
                    format!("{PIPELINE_STACK} is up to date: no changes (version {version})")
                }
                Applied::Created => format!("Installed {PIPELINE_STACK} (version {version})"),
                _ => format!("Updated {PIPELINE_STACK} (version {version})"),
            });
            let data = clients.stacks.stack_outputs(BOOTSTRAP_STACK).await?;
            print_line("");
            print_line("The CLI's settings for this pipeline:");
            for line in cli_settings(&data, &outputs) {
                print_line(format!("  export {line}"));
            }
            print_line("");
            let rows: Vec<Vec<String>> = outputs.into_iter().map(|(k, v)| vec![k, v]).collect();
            print_table(&["OUTPUT", "VALUE"], &rows);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `NAME=value` for each variable the CLI reads, from the two stacks' outputs.
fn cli_settings(
    data: &BTreeMap<String, String>,
    pipeline: &BTreeMap<String, String>,
) -> Vec<String> {
    use infra_agent_pipeline::settings::{VAR_BUCKET, VAR_DECISION_URL, VAR_TABLE, VAR_TOPIC};
    [
        (VAR_TABLE, data.get("TableName")),
        (VAR_BUCKET, data.get("TemplateBucketName")),
        (
            StateMachine::Deploy.arn_variable(),
            pipeline.get("DeployStateMachineArn"),
        ),
        (
            StateMachine::DeployEnvironment.arn_variable(),
            pipeline.get("DeployEnvironmentStateMachineArn"),
        ),
        (VAR_DECISION_URL, pipeline.get("DecisionUrl")),
        (VAR_TOPIC, pipeline.get("ApprovalTopicArn")),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some(format!("{name}={}", value?)))
    .collect()
}

pub async fn uninstall(args: UninstallArgs) -> anyhow::Result<ExitCode> {
    let clients = Clients::connect().await;
    let pipeline = clients.stacks.describe_stack(PIPELINE_STACK).await?;
    let bootstrap = clients.stacks.describe_stack(BOOTSTRAP_STACK).await?;
    for (stack, state) in [(PIPELINE_STACK, &pipeline), (BOOTSTRAP_STACK, &bootstrap)] {
        if let Some(state) = state.as_ref().filter(|s| !s.status.is_terminal()) {
            bail!("{stack} is {}: wait until it settles", state.status);
        }
    }
    let data = match &bootstrap {
        Some(_) => clients.stacks.stack_outputs(BOOTSTRAP_STACK).await?,
        None => BTreeMap::new(),
    };
    if pipeline.is_none() && (bootstrap.is_none() || !args.delete_data) {
        print_line(format!("{PIPELINE_STACK} is not installed"));
        return Ok(ExitCode::SUCCESS);
    }
    if pipeline.is_some() {
        print_line(format!(
            "This deletes {PIPELINE_STACK}: its functions, state machines, endpoints, roles and topic."
        ));
    }
    if args.delete_data {
        print_line(format!("--delete-data: {BOOTSTRAP_STACK} is deleted too: the records table (every deployment, approval and audit entry), the template and artifact buckets and their key. This cannot be undone."));
    } else {
        print_line(format!("Kept ({BOOTSTRAP_STACK}): the records table, the template and artifact buckets and their key; a later install uses them again. --delete-data deletes them."));
    }
    if !args.yes {
        confirm_typed(PIPELINE_STACK)?;
    }
    if pipeline.is_some() {
        delete_stack(&clients, PIPELINE_STACK).await?;
        print_line(format!("Deleted {PIPELINE_STACK}"));
    }
    if !args.delete_data {
        let kept: Vec<Vec<String>> = data.into_iter().map(|(k, v)| vec![k, v]).collect();
        print_table(&["KEPT", "VALUE"], &kept);
        return Ok(ExitCode::SUCCESS);
    }
    // The table refuses deletion while protected; CloudFormation cannot delete buckets that
    // still hold objects.
    if let Some(table) = data.get("TableName") {
        unprotect_table(&clients.dynamodb, table).await?;
    }
    for key in ["TemplateBucketName", ARTIFACT_BUCKET_OUTPUT] {
        if let Some(bucket) = data.get(key) {
            empty_bucket(&clients.s3, bucket).await?;
        }
    }
    delete_stack(&clients, BOOTSTRAP_STACK).await?;
    print_line(format!("Deleted {BOOTSTRAP_STACK} and its data"));
    Ok(ExitCode::SUCCESS)
}

fn default_artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("lambda")
}

/// Every function of the registry from `dir`, and the architecture they were built for.
fn packaged_functions(dir: &Path) -> anyhow::Result<(String, Vec<Artifact>)> {
    let manifest_path = dir.join(PACKAGED_MANIFEST);
    let manifest: PackagedManifest = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a packaging manifest", manifest_path.display()))?,
        Err(_) => PackagedManifest::default(),
    };
    let mut missing = Vec::new();
    let mut artifacts = Vec::new();
    for function in Function::ALL {
        let path = dir.join(function.name()).join("bootstrap.zip");
        match std::fs::read(&path) {
            Ok(zip) => artifacts.push(Artifact::function(function, zip)),
            Err(_) => missing.push(path.display().to_string()),
        }
    }
    if !missing.is_empty() {
        bail!(
            "packaged functions missing: {} (run scripts/package, or pass --artifacts)",
            missing.join(", ")
        );
    }
    Ok((manifest.architecture, artifacts))
}

/// Uploads `artifact` unless its key is there already; true when it was uploaded.
async fn upload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    artifact: &Artifact,
) -> anyhow::Result<bool> {
    match s3
        .head_object()
        .bucket(bucket)
        .key(&artifact.key)
        .send()
        .await
    {
        Ok(_) => return Ok(false),
        Err(e) if sdk_code(&e).is_some_and(|c| c == "NotFound" || c == "NoSuchKey") => {}
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {}
        Err(e) => bail!("read s3://{bucket}/{}: {}", artifact.key, sdk_message(&e)),
    }
    s3.put_object()
        .bucket(bucket)
        .key(&artifact.key)
        .body(artifact.bytes.clone().into())
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!("upload s3://{bucket}/{}: {}", artifact.key, sdk_message(&e))
        })?;
    Ok(true)
}

enum Source<'a> {
    Body(&'a str),
    Url(String),
}

#[derive(PartialEq, Eq)]
enum Confirm {
    Ask,
    No,
}

/// Creates or updates `stack` through a change set: shows it, asks if told to, executes it and
/// follows it to the end.
async fn apply(
    clients: &Clients,
    stack: &str,
    source: Source<'_>,
    parameters: &BTreeMap<String, String>,
    confirm: Confirm,
    format: Format,
) -> anyhow::Result<Applied> {
    let current = clients.stacks.describe_stack(stack).await?;
    if let Some(state) = &current {
        if !state.status.is_terminal() {
            bail!(
                "{stack} is {}: wait until it settles, then install again",
                state.status
            );
        }
        if state.status == StackStatus::RollbackComplete {
            bail!(
                "{stack} failed to create and was rolled back ({}): `infra-agent uninstall` removes it, then install again",
                state.status_reason.as_deref().unwrap_or("see its events")
            );
        }
    }
    let change_set_type = change_set_type_for(current.as_ref()).map_err(anyhow::Error::msg)?;
    let change_set_name = format!("install-{}", infra_agent_core::clock::now().1);
    let (body, url) = match source {
        Source::Body(body) => (body, None),
        Source::Url(url) => ("", Some(url)),
    };
    let tags = BTreeMap::new();
    clients
        .stacks
        .create_change_set(&ChangeSetSpec {
            stack_name: stack,
            change_set_name: &change_set_name,
            change_set_type,
            template_body: body,
            template_url: url,
            parameters,
            tags: &tags,
            description: "infra-agent install",
            // The installer's own credentials: the pipeline's roles do not exist before it.
            role_arn: None,
            revert_drift: false,
        })
        .await?;
    let outcome = wait_for_change_set(
        &clients.stacks,
        stack,
        &change_set_name,
        Duration::from_secs(2),
        Duration::from_secs(600),
    )
    .await?;
    let changes = match outcome {
        ChangeSetOutcome::NoChanges { .. } => {
            clients
                .stacks
                .delete_change_set(stack, &change_set_name)
                .await?;
            return Ok(Applied::NoChanges);
        }
        ChangeSetOutcome::Failed { reason } => {
            bail!("CloudFormation refused the change set of {stack}: {reason}")
        }
        ChangeSetOutcome::Ready { changes, .. } => changes,
    };
    let summary = ChangeSummary::from_changes(changes);
    if format == Format::Table || confirm == Confirm::Ask {
        show_summary(stack, change_set_type, &summary);
    }
    if confirm == Confirm::Ask && !confirmed(stack)? {
        clients
            .stacks
            .delete_change_set(stack, &change_set_name)
            .await?;
        return Ok(Applied::Declined);
    }
    match clients
        .stacks
        .execute_change_set(stack, &change_set_name)
        .await?
    {
        infra_agent_pipeline::ports::ExecuteStart::Started => {}
        other => bail!("CloudFormation did not execute the change set of {stack}: {other:?}"),
    }
    follow(clients, stack).await?;
    Ok(match change_set_type {
        ChangeSetType::Create => Applied::Created,
        ChangeSetType::Update => Applied::Updated,
    })
}

/// The change set as deployments show it: counts per action and type, replacements and
/// deletions called out.
fn show_summary(stack: &str, kind: ChangeSetType, summary: &ChangeSummary) {
    eprint_line(format!(
        "Change set of {stack} ({}):",
        match kind {
            ChangeSetType::Create => "create",
            ChangeSetType::Update => "update",
        }
    ));
    for line in summary.count_lines() {
        eprint_line(format!("  {line}"));
    }
    if !summary.replacements.is_empty() {
        eprint_line(format!("  REPLACED: {}", summary.replacements.join(", ")));
    }
    if !summary.deletions.is_empty() {
        eprint_line(format!("  DELETED: {}", summary.deletions.join(", ")));
    }
}

fn confirmed(stack: &str) -> anyhow::Result<bool> {
    let typed = answer(
        format!("Apply this change set to {stack}? Type yes: "),
        "answer yes",
    )?;
    Ok(typed.trim() == "yes")
}

fn confirm_typed(phrase: &str) -> anyhow::Result<()> {
    let typed = answer(
        format!("Type {phrase} to uninstall: "),
        &format!("type {phrase}"),
    )?;
    if typed != phrase {
        bail!("confirmation did not match {phrase}; nothing was deleted");
    }
    Ok(())
}

/// Follows the stack's operation to its end, printing each resource event once.
async fn follow(clients: &Clients, stack: &str) -> anyhow::Result<()> {
    let mut seen = BTreeSet::new();
    loop {
        let state = clients
            .stacks
            .describe_stack(stack)
            .await?
            .with_context(|| format!("{stack} disappeared"))?;
        let events = clients.stacks.latest_operation_events(stack).await?;
        for event in events.iter().rev() {
            let key = (event.logical_id.clone(), event.status.clone());
            if event.logical_id != stack && seen.insert(key) {
                eprint_line(format!(
                    "  {:<40} {:<22} {}",
                    event.logical_id, event.status, event.reason
                ));
            }
        }
        if state.status.is_terminal() {
            if state.status.is_success() {
                return Ok(());
            }
            let reason = first_failure(stack, &events)
                .map(|f| format!("{}: {}", f.resource.unwrap_or_default(), f.reason))
                .or(state.status_reason)
                .unwrap_or_else(|| "no reason given".into());
            bail!("{stack} ended {}: {reason}", state.status);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn delete_stack(clients: &Clients, stack: &str) -> anyhow::Result<()> {
    let (status, reason) = delete_and_wait(&clients.cfn, &clients.stacks, stack).await?;
    if status != StackStatus::DeleteComplete.as_str() {
        bail!("{stack} ended {status}: {}", reason.unwrap_or_default());
    }
    Ok(())
}

async fn unprotect_table(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> anyhow::Result<()> {
    dynamodb
        .update_table()
        .table_name(table)
        .deletion_protection_enabled(false)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "turn off deletion protection of {table}: {}",
                sdk_message(&e)
            )
        })?;
    Ok(())
}

/// Deletes every version of every object.
async fn empty_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<()> {
    loop {
        let listed = s3
            .list_object_versions()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("list s3://{bucket}: {}", sdk_message(&e)))?;
        let mut objects = Vec::new();
        for v in listed.versions() {
            objects.push((
                v.key().unwrap_or_default().to_string(),
                v.version_id().map(str::to_string),
            ));
        }
        for m in listed.delete_markers() {
            objects.push((
                m.key().unwrap_or_default().to_string(),
                m.version_id().map(str::to_string),
            ));
        }
        if objects.is_empty() {
            break;
        }
        for (key, version) in objects {
            s3.delete_object()
                .bucket(bucket)
                .key(&key)
                .set_version_id(version)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("delete s3://{bucket}/{key}: {}", sdk_message(&e)))?;
        }
    }
    Ok(())
}
