//! `destroy`: tear an environment's catalog stacks down in reverse deployment order, after a typed
//! confirmation, stopping at the first stack that does not delete, and saying what survives.

use infra_agent_pipeline::ports::{Approvals, AuditTrail};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use infra_agent_core::clock::now;
use infra_agent_core::deploy::teardown::{
    check_teardown, needs_approval, notification, teardown_approval, TEARDOWN,
};
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::{stack_name, Env, StackKey};
use infra_agent_core::records::AuditEntry;
use infra_agent_core::stack::{first_failure, StackStatus};
use infra_agent_core::template::Template;
use infra_agent_pipeline::ports::Stacks;

use crate::backend::Backend;
use crate::output::{answer, eprint_line, inert, print_line, print_table};

#[derive(clap::Args)]
pub struct DestroyArgs {
    /// Environment to tear down: dev, tst or prd.
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
    /// Skip the typed confirmation (in prd only together with an approval).
    #[arg(long)]
    yes: bool,
    /// Required to tear down prd.
    #[arg(long)]
    allow_prd: bool,
    /// The approved teardown approval (prd): without it, one is requested and nothing deleted.
    #[arg(long)]
    approval: Option<String>,
    /// The stack catalog.
    #[arg(long, default_value = "infra/catalog.toml")]
    catalog: PathBuf,
}

/// The words a person must type to confirm: `DELETE DEV`.
pub fn confirmation_phrase(env: Env) -> String {
    format!("DELETE {}", env.as_str().to_uppercase())
}

/// Refuses prd unless explicitly allowed, and prd unattended (`--yes`) unless an approval is
/// presented: two people have then agreed to exactly this teardown.
pub fn check_allowed(env: Env, yes: bool, allow_prd: bool, approval: bool) -> Result<(), String> {
    if env == Env::Prd && !allow_prd {
        return Err(
            "refusing to destroy prd: pass --allow-prd (a teardown approval is then requested)"
                .into(),
        );
    }
    if env == Env::Prd && yes && !approval {
        return Err(
            "prd is never destroyed unattended without an approval: drop --yes, or pass --approval <id>"
                .into(),
        );
    }
    Ok(())
}

pub async fn destroy(backend: &Backend, args: DestroyArgs) -> anyhow::Result<ExitCode> {
    check_allowed(args.env, args.yes, args.allow_prd, args.approval.is_some())
        .map_err(anyhow::Error::msg)?;
    let catalog = super::deploy::load_catalog(&args.catalog)?;
    let order: Vec<StackKey> = catalog
        .waves()
        .iter()
        .rev()
        .flat_map(|w| w.iter().rev().cloned())
        .collect();
    let mut present = Vec::new();
    for stack in &order {
        let name = stack_name(args.env, stack);
        if let Some(state) = backend.stacks.describe_stack(&name).await? {
            if state.status != StackStatus::DeleteComplete {
                present.push((stack.clone(), name, state.status.to_string()));
            }
        }
    }
    if present.is_empty() {
        print_line(format!("Nothing to destroy in {}.", args.env));
        return Ok(ExitCode::SUCCESS);
    }
    eprint_line(format!("Stacks to delete in {}, in this order:", args.env));
    for (_, name, status) in &present {
        eprint_line(format!("  {name} ({status})"));
    }
    let actor = backend.caller().await?;
    let names: Vec<String> = present.iter().map(|(_, name, _)| name.clone()).collect();
    let approval = if needs_approval(args.env) {
        match &args.approval {
            None => return request_teardown_approval(backend, args.env, &names, &actor).await,
            Some(id) => Some(approved_teardown(backend, id, args.env, &names).await?),
        }
    } else {
        None
    };
    if !args.yes {
        confirm(args.env)?;
    }
    if let Some(id) = &approval {
        let (at, _) = now();
        if let Err(refused) = backend.store.consume_approval(id, &at).await? {
            bail!("{refused}; nothing was deleted");
        }
    }
    let mut rows = Vec::new();
    let mut stopped = false;
    for (stack, name, _) in &present {
        if stopped {
            rows.push(vec![name.clone(), "not attempted".into(), String::new()]);
            continue;
        }
        let survivors = survivors(backend, name)
            .await
            .unwrap_or_else(|e| vec![format!("unknown ({e:#})")]);
        eprint_line(format!("Deleting {name}..."));
        let outcome = delete_and_wait(&backend.cfn, &backend.stacks, name).await?;
        let entry = AuditEntry::new(
            args.env,
            stack.as_str(),
            &actor,
            "stack.destroy",
            &outcome.0,
        )
        .detail(match &approval {
            Some(id) => format!("approval {id}; {}", outcome.1.clone().unwrap_or_default()),
            None => outcome.1.clone().unwrap_or_default(),
        });
        backend.store.audit(&entry).await?;
        if outcome.0 != "DELETE_COMPLETE" {
            stopped = true;
        }
        rows.push(vec![
            name.clone(),
            match &outcome.1 {
                Some(reason) => format!("{}: {reason}", outcome.0),
                None => outcome.0.clone(),
            },
            survivors.join("; "),
        ]);
    }
    print_table(&["Stack", "Result", "Survives the deletion"], &rows);
    Ok(if stopped {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Stores a teardown approval for the stacks about to be deleted, tells the approvers, and stops:
/// nothing is deleted until the approval is presented with `--approval`.
async fn request_teardown_approval(
    backend: &Backend,
    env: Env,
    names: &[String],
    actor: &str,
) -> anyhow::Result<ExitCode> {
    let config = EnvironmentConfig::builtin(env)?;
    let approval = teardown_approval(&config, names, actor, time::OffsetDateTime::now_utc());
    backend.store.put_approval(&approval).await?;
    backend
        .store
        .audit(
            &AuditEntry::new(env, TEARDOWN, actor, "teardown.request", "PENDING")
                .deployment(&approval.deployment_id)
                .detail(format!(
                    "approval {} for {}",
                    approval.approval_id,
                    names.join(", ")
                )),
        )
        .await?;
    let (subject, body) = notification(&approval);
    match &backend.approval_topic_arn {
        Some(topic) => {
            backend
                .sns
                .publish()
                .topic_arn(topic)
                .subject(subject)
                .message(body)
                .message_attributes("environment", sns_text(env.as_str())?)
                .message_attributes("approval_id", sns_text(&approval.approval_id)?)
                .send()
                .await
                .context("could not notify the approvers (approval topic)")?;
        }
        None => eprint_line(
            "note: INFRA_AGENT_APPROVAL_TOPIC_ARN is not set: tell the approvers yourself",
        ),
    }
    let id = &approval.approval_id;
    eprint_line(format!(
        "Teardown of {env} needs approval {id} by {n} distinct approvers (until {until}):",
        n = approval.required_approvers,
        until = approval.expires_at,
    ));
    eprint_line(format!("  infra-agent approve {id}"));
    eprint_line(format!(
        "then run again with --approval {id}. Nothing was deleted."
    ));
    Ok(ExitCode::FAILURE)
}

fn sns_text(value: &str) -> anyhow::Result<aws_sdk_sns::types::MessageAttributeValue> {
    aws_sdk_sns::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .context("message attribute")
}

/// The presented approval, checked against the stacks about to be deleted.
async fn approved_teardown(
    backend: &Backend,
    id: &str,
    env: Env,
    names: &[String],
) -> anyhow::Result<String> {
    let approval = backend
        .store
        .approval(id)
        .await?
        .with_context(|| format!("approval {id} does not exist"))?;
    // The refusal can quote the approval's approver: shown inert like any record data.
    check_teardown(&approval, env, names)
        .map_err(|e| anyhow::anyhow!("{}; nothing was deleted", inert(&e.to_string())))?;
    eprint_line(format!(
        "Teardown approved by {}",
        approval.approver.as_deref().unwrap_or("?")
    ));
    Ok(approval.approval_id)
}

fn confirm(env: Env) -> anyhow::Result<()> {
    let phrase = confirmation_phrase(env);
    let typed = answer(
        format!("Type {phrase} to delete these stacks: "),
        &format!("type {phrase}"),
    )?;
    if typed != phrase {
        bail!("confirmation did not match {phrase}; nothing was deleted");
    }
    Ok(())
}

/// Deletes a stack and waits for the outcome: its final status and, on failure, the reason.
pub(crate) async fn delete_and_wait(
    cfn: &aws_sdk_cloudformation::Client,
    stacks: &dyn Stacks,
    name: &str,
) -> anyhow::Result<(String, Option<String>)> {
    // A refused DeleteStack is this stack not deleting: it stops the teardown like a failure.
    if let Err(e) = cfn.delete_stack().stack_name(name).send().await {
        return Ok((
            "DELETE_FAILED".into(),
            Some(format!(
                "DeleteStack refused: {}",
                infra_agent_pipeline::aws::error::sdk_message(&e)
            )),
        ));
    }
    loop {
        match stacks.describe_stack(name).await? {
            None => return Ok(("DELETE_COMPLETE".into(), None)),
            Some(state) if state.status == StackStatus::DeleteComplete => {
                return Ok((state.status.to_string(), None))
            }
            Some(state) if !state.status.is_terminal() => {
                tokio::time::sleep(Duration::from_secs(2)).await
            }
            Some(state) => {
                let events = stacks.latest_operation_events(name).await?;
                let reason = first_failure(name, &events)
                    .map(|f| format!("{}: {}", f.resource.unwrap_or_default(), f.reason))
                    .or(state.status_reason);
                return Ok((state.status.to_string(), reason));
            }
        }
    }
}

/// What the deletion leaves behind: resources with `DeletionPolicy: Retain` and S3 buckets that
/// still hold objects (CloudFormation cannot delete those).
async fn survivors(backend: &Backend, name: &str) -> anyhow::Result<Vec<String>> {
    let body = backend
        .cfn
        .get_template()
        .stack_name(name)
        .send()
        .await?
        .template_body
        .unwrap_or_default();
    let template = Template::parse(name, &body).map_err(anyhow::Error::msg)?;
    let physical: std::collections::BTreeMap<String, String> = backend
        .cfn
        .describe_stack_resources()
        .stack_name(name)
        .send()
        .await?
        .stack_resources()
        .iter()
        .filter_map(|r| {
            Some((
                r.logical_resource_id()?.to_string(),
                r.physical_resource_id()?.to_string(),
            ))
        })
        .collect();
    let mut found = Vec::new();
    let Some(resources) = template.resources() else {
        return Ok(found);
    };
    for (id, resource) in resources {
        let policy = resource
            .get("DeletionPolicy")
            .and_then(|p| p.as_str())
            .unwrap_or("Delete");
        let ty = resource
            .get("Type")
            .and_then(|t| t.as_str())
            .unwrap_or_default();
        if policy.starts_with("Retain") {
            found.push(format!("{id} ({ty}, {policy})"));
        } else if ty == "AWS::S3::Bucket" {
            if let Some(bucket) = physical.get(id) {
                let listed = backend
                    .s3
                    .list_objects_v2()
                    .bucket(bucket)
                    .max_keys(1)
                    .send()
                    .await;
                if listed.is_ok_and(|l| l.key_count().unwrap_or(0) > 0) {
                    found.push(format!("{id} (bucket {bucket} is not empty)"));
                }
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation_is_the_environment_in_upper_case() {
        assert_eq!(confirmation_phrase(Env::Dev), "DELETE DEV");
        assert_eq!(confirmation_phrase(Env::Prd), "DELETE PRD");
    }

    #[test]
    fn prd_is_refused_without_allow_prd_and_unattended_only_with_an_approval() {
        assert!(check_allowed(Env::Prd, false, false, false).is_err());
        assert!(check_allowed(Env::Prd, false, false, true).is_err());
        assert!(check_allowed(Env::Prd, true, true, false).is_err());
        assert!(check_allowed(Env::Prd, true, true, true).is_ok());
        assert!(check_allowed(Env::Prd, false, true, false).is_ok());
        assert!(check_allowed(Env::Dev, true, false, false).is_ok());
    }
}
