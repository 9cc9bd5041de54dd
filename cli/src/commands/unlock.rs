//! `unlock`: an operator frees a stack whose lock outlived its deployment (the execution was
//! stopped or its host died), never one whose deployment still runs. Audited.

use std::process::ExitCode;

use anyhow::bail;
use infra_agent_core::naming::{Env, StackKey};
use infra_agent_core::records::AuditEntry;
use infra_agent_pipeline::ports::{AuditTrail, Deployments, Locks};

use crate::backend::Backend;
use crate::output::{print_json, print_line, Format};
use crate::reconcile;

#[derive(clap::Args)]
pub struct UnlockArgs {
    /// Stack of the catalog, e.g. `vpc`.
    stack: String,
    #[arg(long, value_parser = super::parse_env)]
    env: Env,
    /// Why the lock is released by hand (kept in the audit trail).
    #[arg(long)]
    reason: String,
}

#[derive(serde::Serialize)]
struct Unlocked {
    stack: String,
    env: Env,
    holder: Option<String>,
    released: bool,
    /// The holder's record, closed because its execution had ended.
    record_status: Option<String>,
}

pub async fn unlock(
    backend: &Backend,
    args: UnlockArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let stack: StackKey = args.stack.parse()?;
    let reason = args.reason.trim();
    if reason.is_empty() {
        bail!("--reason must say why the lock is released");
    }
    let Some(lock) = backend.store.lock(args.env, stack.as_str()).await? else {
        let view = Unlocked {
            stack: stack.to_string(),
            env: args.env,
            holder: None,
            released: false,
            record_status: None,
        };
        if format == Format::Json {
            print_json(&view)?;
        } else {
            print_line(format!("{stack} in {} is not locked.", args.env));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let actor = backend.caller().await?;
    let execution = reconcile::execution(backend, &lock.holder).await?;
    if let Some(state) = execution.as_ref().filter(|s| s.end.is_none()) {
        bail!(
            "deployment {} holds the lock and its execution is {}: wait for it, or stop it ({}) first",
            lock.holder,
            state.status,
            state.arn
        );
    }
    let mut record_status = None;
    if let (Some(state), Some(record)) = (
        execution.as_ref(),
        backend
            .store
            .deployment(args.env, stack.as_str(), &lock.holder)
            .await?,
    ) {
        if let Some(done) = reconcile::if_ended(backend, &record, state, &actor).await? {
            record_status = done.status;
        }
    }
    let released = backend
        .store
        .release_lock(args.env, stack.as_str(), &lock.holder)
        .await?;
    backend
        .store
        .audit(
            &AuditEntry::new(
                args.env,
                stack.as_str(),
                &actor,
                "lock.release",
                if released { "RELEASED" } else { "ALREADY_FREE" },
            )
            .deployment(&lock.holder)
            .detail(format!("released by hand: {reason}")),
        )
        .await?;
    let view = Unlocked {
        stack: stack.to_string(),
        env: args.env,
        holder: Some(lock.holder.clone()),
        released,
        record_status,
    };
    if format == Format::Json {
        print_json(&view)?;
    } else {
        print_line(format!(
            "{stack} in {}: lock of {} {}.",
            args.env,
            lock.holder,
            if released {
                "released"
            } else {
                "was already gone"
            }
        ));
        if let Some(status) = &view.record_status {
            print_line(format!("  Its deployment record is now {status}."));
        }
    }
    Ok(ExitCode::SUCCESS)
}
