//! `infra-agent-local`: the pieces of the local backend that are ours — the Lambda host that runs
//! the pipeline's functions in-process for the emulator, and the bootstrap of the pipeline's resources.

use std::net::SocketAddr;

use infra_agent_local::{bootstrap, host, identities, inbox};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "infra-agent-local", about = "Local backend for infra-agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Lambda Invoke API and the function URLs; proxy everything else to the emulator.
    Serve {
        /// Address to listen on (loopback only).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Base URL of the AWS emulator.
        #[arg(long)]
        upstream: String,
    },
    /// Decide a deployment's approval the way an approver does: find its message in the approval
    /// inbox, open the link (GET shows the page), then press a button (POST).
    Decide {
        /// Deployment id whose approval to decide.
        #[arg(long)]
        deployment: String,
        /// approve or reject.
        #[arg(long, value_parser = ["approve", "reject"])]
        decision: String,
        /// Name to enter on the page.
        #[arg(long)]
        approver: String,
        /// Only print the approval link, decide nothing.
        #[arg(long)]
        show_link: bool,
    },
    /// After `infra-agent install`: print the pipeline stack's resources as `export NAME=value`
    /// lines, and subscribe an inbox queue to the approval topic.
    Bootstrap,
    /// The deployed name of every function the pipeline's template declares, one per line.
    Functions,
    /// Write a fresh set of local IAM identities (mode 600): the engineer signing with the
    /// default credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), approvers and an outsider.
    Identities {
        /// The file to write, e.g. .local/identities.json.
        #[arg(long)]
        write: std::path::PathBuf,
    },
    /// Run a command signed as local identity NAME (.local/identities.json): its credentials in
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the rest of the environment as it is
    /// (source .local/env first), e.g. `as approver -- infra-agent approve <id>`.
    As {
        /// engineer, approver, prd-approver-1, prd-approver-2 or outsider.
        name: String,
        /// The command and its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { listen, upstream } => {
            anyhow::ensure!(
                listen.ip().is_loopback(),
                "the local host listens on loopback only, not {listen}"
            );
            host::serve(listen, upstream).await
        }
        Command::Bootstrap => bootstrap::run().await,
        Command::Functions => {
            for function in infra_agent_core::registry::Function::ALL {
                println!("{}", function.name());
            }
            Ok(())
        }
        Command::Decide {
            deployment,
            decision,
            approver,
            show_link,
        } => inbox::decide_from_inbox(&deployment, &decision, &approver, show_link).await,
        Command::Identities { write } => {
            let var = |name: &str| {
                std::env::var(name)
                    .map_err(|_| anyhow::anyhow!("{name} is not set: source .local/env first"))
            };
            identities::Identities::fresh(
                &var("AWS_ACCESS_KEY_ID")?,
                &var("AWS_SECRET_ACCESS_KEY")?,
            )
            .write(&write)
        }
        Command::As { name, command } => {
            let identities = identities::Identities::from_env()?;
            let who = identities.by_name(&name).ok_or_else(|| {
                anyhow::anyhow!("no local identity {name} in {}", identities::VAR_IDENTITIES)
            })?;
            let (program, args) = command
                .split_first()
                .ok_or_else(|| anyhow::anyhow!("no command to run"))?;
            let status = std::process::Command::new(program)
                .args(args)
                .env("AWS_ACCESS_KEY_ID", &who.access_key_id)
                .env("AWS_SECRET_ACCESS_KEY", &who.secret_access_key)
                .env_remove("AWS_SESSION_TOKEN")
                .status()
                .map_err(|e| anyhow::anyhow!("run {program}: {e}"))?;
            std::process::exit(status.code().unwrap_or(1));
        }
    }
}
