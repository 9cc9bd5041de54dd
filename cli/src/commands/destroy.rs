//! `destroy`: tear an environment's catalog stacks down in reverse deployment order, after a typed
//! confirmation, stopping at the first stack that does not delete, and saying what survives.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use shared::naming::{stack_name, Env, StackKey};
use shared::stacks::{describe_stack, first_failure};
use shared::store::AuditEntry;
use shared::template::Template;

use crate::backend::Backend;
use crate::output::print_table;

#[derive(clap::Args)]
pub struct DestroyArgs {
    /// Environment to tear down: dev, tst or prd.
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
    /// Skip the typed confirmation (not accepted for prd).
    #[arg(long)]
    yes: bool,
    /// Required to tear down prd.
    #[arg(long)]
    allow_prd: bool,
    /// The stack catalog.
    #[arg(long, default_value = "infra/catalog.toml")]
    catalog: PathBuf,
}

/// The words a person must type to confirm: `DELETE DEV`.
pub fn confirmation_phrase(env: Env) -> String {
    format!("DELETE {}", env.as_str().to_uppercase())
}

/// Refuses prd unless explicitly allowed, and prd never without the typed confirmation.
pub fn check_allowed(env: Env, yes: bool, allow_prd: bool) -> Result<(), String> {
    if env == Env::Prd && !allow_prd {
        return Err("refusing to destroy prd: pass --allow-prd (and confirm by typing)".into());
    }
    if env == Env::Prd && yes {
        return Err(
            "prd is never destroyed unattended: drop --yes and type the confirmation".into(),
        );
    }
    Ok(())
}

pub async fn destroy(backend: &Backend, args: DestroyArgs) -> anyhow::Result<ExitCode> {
    check_allowed(args.env, args.yes, args.allow_prd).map_err(anyhow::Error::msg)?;
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
        if let Some(state) = describe_stack(&backend.cfn, &name).await? {
            if state.status != "DELETE_COMPLETE" {
                present.push((stack.clone(), name, state.status));
            }
        }
    }
    if present.is_empty() {
        println!("Nothing to destroy in {}.", args.env);
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("Stacks to delete in {}, in this order:", args.env);
    for (_, name, status) in &present {
        eprintln!("  {name} ({status})");
    }
    if !args.yes {
        confirm(args.env)?;
    }
    let actor = backend.caller().await?;
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
        eprintln!("Deleting {name}...");
        let outcome = delete_and_wait(backend, name).await?;
        let entry = AuditEntry::new(
            args.env,
            stack.as_str(),
            &actor,
            "stack.destroy",
            &outcome.0,
        )
        .detail(outcome.1.clone().unwrap_or_default());
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

fn confirm(env: Env) -> anyhow::Result<()> {
    let phrase = confirmation_phrase(env);
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("confirmation needed: run in a terminal and type {phrase}, or pass --yes");
    }
    eprint!("Type {phrase} to delete these stacks: ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("read confirmation")?;
    if line.trim_end_matches(['\n', '\r']) != phrase {
        bail!("confirmation did not match {phrase}; nothing was deleted");
    }
    Ok(())
}

/// Deletes a stack and waits for the outcome: its final status and, on failure, the reason.
async fn delete_and_wait(
    backend: &Backend,
    name: &str,
) -> anyhow::Result<(String, Option<String>)> {
    backend
        .cfn
        .delete_stack()
        .stack_name(name)
        .send()
        .await
        .with_context(|| format!("delete {name}"))?;
    loop {
        match describe_stack(&backend.cfn, name).await? {
            None => return Ok(("DELETE_COMPLETE".into(), None)),
            Some(state) if state.status == "DELETE_COMPLETE" => return Ok((state.status, None)),
            Some(state) if state.status.ends_with("_IN_PROGRESS") => {
                tokio::time::sleep(Duration::from_secs(2)).await
            }
            Some(state) => {
                let reason = first_failure(&backend.cfn, name)
                    .await?
                    .map(|f| format!("{}: {}", f.resource.unwrap_or_default(), f.reason))
                    .or(state.status_reason);
                return Ok((state.status, reason));
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
    fn prd_is_refused_without_allow_prd_and_never_unattended() {
        assert!(check_allowed(Env::Prd, false, false).is_err());
        assert!(check_allowed(Env::Prd, true, true).is_err());
        assert!(check_allowed(Env::Prd, false, true).is_ok());
        assert!(check_allowed(Env::Dev, true, false).is_ok());
    }
}
