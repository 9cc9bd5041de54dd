//! What every CLI test against the local backend does: run `infra-agent` from the repository's
//! root, and read what it printed.

use std::process::{Command, Output};

/// The repository's root, where the CLI finds the catalog and `.local/env`.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

pub fn cli(args: &[&str]) -> Output {
    assert!(
        std::env::var("INFRA_AGENT_STATE_MACHINE_ARN").is_ok(),
        "the local backend is not running: run the tests with `scripts/test`"
    );
    Command::new(env!("CARGO_BIN_EXE_infra-agent"))
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("run infra-agent")
}

/// Everything the command printed, stdout then stderr.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
