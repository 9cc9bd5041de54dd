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
