//! The bench's own AWS emulator: the local backend's patched moto from `.venv`, on a free port of
//! 127.0.0.1, stopped when the bench ends.

use std::fs::File;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use tokio::process::{Child, Command};

pub const REGION: &str = "us-east-1";
/// moto's account.
pub const ACCOUNT: &str = "123456789012";
/// What the functions and the bench sign with; the emulator checks no signature.
pub const ACCESS_KEY: &str = "bench";
const READY_WAIT: Duration = Duration::from_secs(30);

pub struct Emulator {
    url: String,
    config: SdkConfig,
    _process: Child,
}

impl Emulator {
    /// Starts `scripts/moto_server_patched.py` with the venv's Python; its output goes to `log`.
    pub async fn start(root: &Path, log: &Path) -> anyhow::Result<Emulator> {
        let python = root.join(".venv/bin/python");
        anyhow::ensure!(
            python.exists(),
            "{} is missing: scripts/package (or scripts/local-backend start) sets up .venv",
            python.display()
        );
        let port = free_port()?;
        let out = File::create(log).with_context(|| format!("create {}", log.display()))?;
        let process = Command::new(&python)
            .arg(root.join("scripts/moto_server_patched.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .context("start the emulator")?;
        let url = format!("http://127.0.0.1:{port}");
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&url)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                ACCESS_KEY, ACCESS_KEY, None, None, "bench",
            ))
            .load()
            .await;
        let emulator = Emulator {
            url,
            config,
            _process: process,
        };
        emulator.wait_ready(log).await?;
        Ok(emulator)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    async fn wait_ready(&self, log: &Path) -> anyhow::Result<()> {
        let dynamodb = aws_sdk_dynamodb::Client::new(&self.config);
        let deadline = Instant::now() + READY_WAIT;
        while dynamodb.list_tables().send().await.is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "the emulator did not answer on {} within {READY_WAIT:?}; see {}",
                self.url,
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
