//! `install` and `uninstall` against an emulator of their own, started here from the same
//! patched emulator the local backend runs (the shared backend's pipeline must stay installed
//! under the other tests): the first install creates, the second changes nothing, an uninstall
//! keeps the records, a reinstall uses them again, and `--delete-data` removes everything.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{text, ROOT};

struct Emulator {
    child: Child,
    url: String,
}

impl Emulator {
    fn start() -> Emulator {
        let python = format!("{ROOT}/.venv/bin/python");
        assert!(
            std::path::Path::new(&python).exists(),
            "no .venv: run the tests with `scripts/test`"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python)
            .arg(format!("{ROOT}/scripts/moto_server_patched.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // Where function URLs would point: no host serves this emulator.
            .env("MOTO_PORT", "9")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the emulator did not start");
            std::thread::sleep(Duration::from_millis(200));
        }
        Emulator { child, url }
    }

    fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_infra-agent"))
            .args(args)
            .current_dir(ROOT)
            .env("AWS_ENDPOINT_URL", &self.url)
            .env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("INFRA_AGENT_LOCAL")
            .env_remove("INFRA_AGENT_MOTO_URL")
            // The placeholder functions the local backend packaged.
            .env("INFRA_AGENT_ARTIFACTS", format!("{ROOT}/.local/lambda"))
            .output()
            .expect("run infra-agent")
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let output = self.cli(args);
        assert!(output.status.success(), "{args:?}: {}", text(&output));
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&output)))
    }
}

/// Whether a live stack `name` exists, asked with CloudFormation's query protocol (the emulator
/// does not check signatures).
fn stack_exists(url: &str, name: &str) -> bool {
    let host = url.trim_start_matches("http://");
    let body = format!("Action=DescribeStacks&Version=2010-05-15&StackName={name}");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/cloudformation/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.starts_with("HTTP/1.1 200")
        && response.contains("<StackStatus>")
        && !response.contains("DELETE_COMPLETE")
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn install_creates_then_changes_nothing_and_uninstall_keeps_the_records_unless_told() {
    let emulator = Emulator::start();

    let first = emulator.json(&["install", "--yes", "--output", "json"]);
    assert_eq!(first["result"], "created", "{first}");
    assert!(first["uploaded"].as_u64().unwrap() > 0, "{first}");
    for output in ["ApprovalUrl", "DecisionUrl", "DeployStateMachineArn"] {
        assert!(first["outputs"][output].is_string(), "{output}: {first}");
    }

    let again = emulator.cli(&["install", "--yes"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("no changes"), "{}", text(&again));
    let again = emulator.json(&["install", "--yes", "--output", "json"]);
    assert_eq!(again["result"], "no_changes", "{again}");
    assert_eq!(again["uploaded"], 0, "{again}");

    let refused = emulator.cli(&["uninstall"]);
    assert!(!refused.status.success(), "no confirmation, no uninstall");
    assert!(emulator_has(&emulator, "infra-agent-pipeline"));

    let removed = emulator.cli(&["uninstall", "--yes"]);
    assert!(removed.status.success(), "{}", text(&removed));
    assert!(!emulator_has(&emulator, "infra-agent-pipeline"));
    assert!(
        emulator_has(&emulator, "infra-agent-bootstrap"),
        "the records, buckets and key are kept"
    );

    let reinstalled = emulator.json(&["install", "--yes", "--output", "json"]);
    assert_eq!(reinstalled["result"], "created", "{reinstalled}");
    assert_eq!(
        reinstalled["artifact_bucket"], first["artifact_bucket"],
        "the kept data is used again"
    );

    let everything = emulator.cli(&["uninstall", "--yes", "--delete-data"]);
    assert!(everything.status.success(), "{}", text(&everything));
    assert!(!emulator_has(&emulator, "infra-agent-pipeline"));
    assert!(!emulator_has(&emulator, "infra-agent-bootstrap"));
}

fn emulator_has(emulator: &Emulator, stack: &str) -> bool {
    stack_exists(&emulator.url, stack)
}
