//! What every CLI test against the local backend does: run `infra-agent` from the repository's
//! root, and read what it printed.

use std::process::{Command, Output};

/// The repository's root, where the CLI finds the catalog and `.local/env`.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Runs `infra-agent` with the default credentials: the engineer's.
#[allow(dead_code)] // not every test binary runs the CLI against the shared backend
pub fn cli(args: &[&str]) -> Output {
    command(args).output().expect("run infra-agent")
}

/// Runs `infra-agent` with the credentials of local identity `name` (`.local/identities.json`):
/// what it signs, the local backend takes as that identity's.
#[allow(dead_code)] // not every test binary signs as another identity
pub fn cli_as(name: &str, args: &[&str]) -> Output {
    let identities = infra_agent_local::identities::Identities::from_env()
        .expect("the local backend's identities");
    let who = identities
        .by_name(name)
        .unwrap_or_else(|| panic!("no local identity {name}"));
    command(args)
        .env("AWS_ACCESS_KEY_ID", &who.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &who.secret_access_key)
        .output()
        .expect("run infra-agent")
}

fn command(args: &[&str]) -> Command {
    assert!(
        std::env::var("INFRA_AGENT_STATE_MACHINE_ARN").is_ok(),
        "the local backend is not running: run the tests with `scripts/test`"
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_infra-agent"));
    command.args(args).current_dir(ROOT);
    command
}

/// Everything the command printed, stdout then stderr.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A run of `infra-agent` that asks for approvals along the way.
#[allow(dead_code)] // not every test binary follows a run through its approvals
pub struct ApprovedRun {
    /// stdout and the exit status (stderr was read line by line: see `lines`).
    pub output: Output,
    /// What it printed on stderr, line by line.
    pub lines: Vec<String>,
    /// Every approval it announced, in order, each given as soon as it was asked for.
    pub approvals: Vec<String>,
}

/// Runs `infra-agent` and gives each approval it announces on stderr ("… waits for approval
/// <id>: …") as local identity `approver`, through the CLI, while the run goes on.
#[allow(dead_code)] // not every test binary follows a run through its approvals
pub fn run_approving(args: &[&str]) -> ApprovedRun {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let mut run = command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start infra-agent");
    let progress = BufReader::new(run.stderr.take().expect("stderr"));
    let mut lines = Vec::new();
    let mut approvals = Vec::new();
    for line in progress.lines() {
        let line = line.expect("read progress");
        if let Some((_, rest)) = line.split_once("waits for approval ") {
            let approval = rest.split(':').next().unwrap_or_default().trim();
            let approved = cli_as("approver", &["approve", approval]);
            assert!(approved.status.success(), "{}", text(&approved));
            approvals.push(approval.to_string());
        }
        lines.push(line);
    }
    let output = run.wait_with_output().expect("infra-agent ends");
    ApprovedRun {
        output,
        lines,
        approvals,
    }
}
