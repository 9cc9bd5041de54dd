//! One cold start of a packaged function: its `bootstrap` started the way Lambda starts it (an
//! environment of Lambda's variables, the package as working directory, a Runtime API), timed
//! from spawn to its first poll and from each event handed over to its answer.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::runtime_api::{Report, RuntimeApi};

/// How long a function may take to poll for its first event, and to answer one.
const INIT_WAIT: Duration = Duration::from_secs(20);
const INVOKE_WAIT: Duration = Duration::from_secs(60);

/// What a function answered.
pub enum Answer {
    Response(Value),
    /// `errorType` and `errorMessage` of the invocation error.
    Error(String, String),
}

pub struct Sandbox {
    child: Child,
    api: RuntimeApi,
    log: PathBuf,
    /// From spawn to the first `GET …/invocation/next`.
    pub init: Duration,
    invocations: u32,
}

impl Sandbox {
    /// Starts `bootstrap` as function `name` with `env` (Lambda's variables and the function's
    /// own), its output to `log`, and waits for its first poll.
    pub async fn start(
        name: &str,
        bootstrap: &Path,
        function_arn: String,
        env: &[(String, String)],
        log: PathBuf,
    ) -> anyhow::Result<Sandbox> {
        let mut api = RuntimeApi::start(function_arn).await?;
        let out = File::create(&log).with_context(|| format!("create {}", log.display()))?;
        let task_root = bootstrap.parent().unwrap_or(Path::new("."));
        let mut command = Command::new(bootstrap);
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("LAMBDA_TASK_ROOT", task_root)
            .current_dir(task_root)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("start {}", bootstrap.display()))?;
        let output = log.display();
        let init = tokio::select! {
            report = api.next_report(INIT_WAIT) => match report {
                Some((at, Report::Polled)) => at - spawned,
                Some((_, Report::InitError(error))) => {
                    bail!("{name} failed to start: {}; see {output}", describe(&error))
                }
                Some((_, other)) => bail!("{name} answered before its first poll: {other:?}"),
                None => bail!("{name} did not poll within {INIT_WAIT:?}; see {output}"),
            },
            status = child.wait() => {
                bail!("{name} exited before its first poll ({}); see {output}", status?)
            }
        };
        Ok(Sandbox {
            child,
            api,
            log,
            init,
            invocations: 0,
        })
    }

    /// Hands `event` to the function and waits for its answer; returns the time to it.
    pub async fn invoke(&mut self, event: Value) -> anyhow::Result<(Duration, Answer)> {
        self.invocations += 1;
        let request_id = format!("{:08x}-bench-{:04}", std::process::id(), self.invocations);
        let handed = Instant::now();
        self.api.hand(request_id.clone(), event).await;
        let output = self.log.display();
        loop {
            tokio::select! {
                report = self.api.next_report(INVOKE_WAIT) => match report {
                    Some((at, Report::Response { request_id: id, body })) if id == request_id => {
                        return Ok((at - handed, Answer::Response(body)));
                    }
                    Some((at, Report::Error { request_id: id, error })) if id == request_id => {
                        let text = |key: &str| {
                            error.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
                        };
                        let answer = Answer::Error(text("errorType"), text("errorMessage"));
                        return Ok((at - handed, answer));
                    }
                    // Its next poll, once it has answered, or an answer to nothing we asked.
                    Some(_) => continue,
                    None => bail!("no answer within {INVOKE_WAIT:?}; see {output}"),
                },
                status = self.child.wait() => {
                    bail!("the process exited ({}) before answering; see {output}", status?)
                }
            }
        }
    }

    /// The process's peak resident set (VmHWM), in bytes.
    pub fn peak_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }
}

fn describe(error: &Value) -> String {
    match (error.get("errorType"), error.get("errorMessage")) {
        (Some(t), Some(m)) => format!(
            "{} {}",
            t.as_str().unwrap_or_default(),
            m.as_str().unwrap_or_default()
        ),
        _ => error.to_string(),
    }
}
