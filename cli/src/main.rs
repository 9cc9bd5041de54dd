//! `infra-agent`: deploy CloudFormation stacks through the infra-agent pipeline, decide approvals,
//! and read what was deployed where.

mod backend;
mod commands;
mod decisions;
mod output;
mod reconcile;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use infra_agent_core::approval::api::DecisionVerb;
use output::Format;

#[derive(Parser)]
#[command(
    name = "infra-agent",
    version,
    about = "Deploy CloudFormation stacks safely: validate, change set, approval, execute, record"
)]
struct Cli {
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Format::Table)]
    output: Format,
    /// Use the local backend (the emulator started by `scripts/local-backend start`).
    #[arg(long, global = true, env = "INFRA_AGENT_LOCAL", value_parser = clap::builder::BoolishValueParser::new())]
    local: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Deploy a stack: store its template, start the deploy state machine, follow its progress.
    Deploy(commands::deploy::DeployArgs),
    /// Tear down an environment's catalog stacks in reverse order (typed confirmation).
    Destroy(commands::destroy::DestroyArgs),
    /// Follow a deployment until it ends.
    Wait(commands::deploy::WaitArgs),
    /// Approve a pending change set or teardown, as your IAM identity (the decision endpoint).
    Approve(commands::approve::DecideArgs),
    /// Reject a pending change set (it is deleted) or teardown, as your IAM identity.
    Reject(commands::approve::DecideArgs),
    /// Stacks of an environment with their latest deployment.
    Status(commands::status::StatusArgs),
    /// Release a stack's lock whose deployment no longer runs (audited; refused while it runs).
    Unlock(commands::unlock::UnlockArgs),
    /// Deployments of one stack, newest first.
    History(commands::status::HistoryArgs),
    /// Promote a stack's deployed, verified version to the next environment (dev → tst → prd):
    /// every check shown first, then the target's deployment and approval.
    Promote(commands::promote::PromoteArgs),
    /// Return a stack to an earlier successful deployment (default: the one before the current),
    /// through validation and approval like any change.
    Rollback(commands::rollback::RollbackArgs),
    /// Scan an environment (or one stack) for drift and show expected vs actual with the NIST
    /// controls it breaks; `drift history`, `drift remediate` (through the approval).
    Drift(commands::drift::DriftArgs),
    /// Validate templates locally, as the pipeline's validate step does.
    Validate(commands::validate::ValidateArgs),
    /// Estimate the monthly cost of a stack or template in an environment (offline list prices).
    Cost(commands::cost::CostArgs),
    /// Deployment waves of an environment from the catalog, with what each stack needs (offline).
    Plan(commands::plan::PlanArgs),
    /// Install or update the pipeline in the account: upload the packaged functions, then create
    /// or update the stack infra-agent-pipeline through a change set shown first.
    Install(commands::install::InstallArgs),
    /// Delete the stack infra-agent-pipeline (typed confirmation); the records table and the
    /// buckets are kept unless --delete-data.
    Uninstall(commands::install::UninstallArgs),
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = Cli::parse();
    if cli.local {
        if let Err(err) = backend::load_local_env() {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    // The local backend's settings name its emulator, whether read with --local or exported.
    let local = cli.local || std::env::var_os(backend::EMULATOR_VAR).is_some();
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            let text = format!("{err:#}");
            eprintln!("error: {}", output::inert(&text));
            if let Some(hint) = unreachable_hint(&text, local) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}

/// What to do when AWS (or the local backend standing in for it) could not be reached at all.
fn unreachable_hint(error: &str, local: bool) -> Option<&'static str> {
    let unreachable = [
        "dispatch failure",
        "Connection refused",
        "emulator unreachable",
    ]
    .iter()
    .any(|sign| error.contains(sign));
    match (unreachable, local) {
        (false, _) => None,
        (true, true) => Some(
            "the local backend is not answering: `scripts/local-backend status`, then `scripts/local-backend start` (the emulator's state is kept when it still runs)",
        ),
        (true, false) => Some(
            "AWS could not be reached: check the network, AWS_REGION and any AWS_ENDPOINT_URL setting",
        ),
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let format = cli.output;
    if let Command::Validate(args) = &cli.command {
        return commands::validate::run(args, format);
    }
    if let Command::Cost(args) = &cli.command {
        // Prices offline; compares with the deployed stack when a backend is configured.
        let backend = backend::Backend::connect().await.ok();
        return commands::cost::run(args, format, backend.as_ref()).await;
    }
    if let Command::Plan(args) = &cli.command {
        // Plans offline when no backend is configured; asks for live status when one is.
        let backend = backend::Backend::connect().await.ok();
        return commands::plan::run(args, format, backend.as_ref()).await;
    }
    // The pipeline's own stack: installed before any of its settings exist. Decisions go to the
    // decision endpoint only: no table, no Step Functions.
    match cli.command {
        Command::Install(args) => commands::install::install(args, format).await,
        Command::Uninstall(args) => commands::install::uninstall(args).await,
        Command::Approve(args) => {
            commands::approve::decide(args, DecisionVerb::Approve, format).await
        }
        Command::Reject(args) => {
            commands::approve::decide(args, DecisionVerb::Reject, format).await
        }
        command => {
            let backend = backend::Backend::connect().await?;
            run_with(&backend, command, format).await
        }
    }
}

async fn run_with(
    backend: &backend::Backend,
    command: Command,
    format: Format,
) -> anyhow::Result<ExitCode> {
    match command {
        Command::Deploy(args) => commands::deploy::deploy(backend, args, format).await,
        Command::Destroy(args) => commands::destroy::destroy(backend, args).await,
        Command::Wait(args) => commands::deploy::wait(backend, args, format).await,
        Command::Status(args) => commands::status::status(backend, args, format).await,
        Command::Unlock(args) => commands::unlock::unlock(backend, args, format).await,
        Command::History(args) => commands::status::history(backend, args, format).await,
        Command::Drift(args) => commands::drift::drift(backend, args, format).await,
        Command::Rollback(args) => commands::rollback::rollback(backend, args, format).await,
        Command::Promote(args) => commands::promote::promote(backend, args, format).await,
        Command::Approve(_)
        | Command::Reject(_)
        | Command::Validate(_)
        | Command::Cost(_)
        | Command::Plan(_)
        | Command::Install(_)
        | Command::Uninstall(_) => unreachable!("handled above"),
    }
}

/// `infra-agent … | head` should end quietly when the reader goes away, as other command-line
/// tools do, not panic on a failed write: restore the default SIGPIPE action Rust turns off.
fn restore_default_sigpipe() {
    // SAFETY: called first thing in `main`, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The approver is whoever signs the request: no option names another.
    #[test]
    fn approve_and_reject_take_a_comment_but_no_approver_name() {
        for verb in ["approve", "reject"] {
            let named = Cli::try_parse_from([
                "infra-agent",
                verb,
                "a1b2c3d4-0123456789ab",
                "--as",
                "tester",
            ]);
            let err = named
                .err()
                .unwrap_or_else(|| panic!("{verb} --as was accepted"));
            assert!(err.to_string().contains("--as"), "{err}");
            assert!(Cli::try_parse_from([
                "infra-agent",
                verb,
                "a1b2c3d4-0123456789ab",
                "--comment",
                "ok"
            ])
            .is_ok());
        }
    }

    #[test]
    fn an_unreachable_backend_gets_a_hint_and_other_errors_do_not() {
        let refused = "could not read execution x: dispatch failure: io error: Connection refused (os error 111)";
        assert!(unreachable_hint(refused, true).is_some_and(|h| h.contains("local-backend")));
        assert!(unreachable_hint(refused, false).is_some_and(|h| h.contains("AWS")));
        let emulator = "ServiceUnavailable: emulator unreachable: connection refused";
        assert!(unreachable_hint(emulator, true).is_some());
        assert_eq!(
            unreachable_hint("stack vpc in dev is locked by deployment d", true),
            None
        );
    }
}
