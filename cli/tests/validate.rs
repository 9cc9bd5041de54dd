//! `infra-agent validate` as a process: exit codes, the text lines and the JSON shapes the
//! validation issue specifies, on template files written to a scratch directory.

use std::path::PathBuf;
use std::process::{Command, Output};

const COMPLIANT: &str = "\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      Tags:
        - {Key: Environment, Value: dev}
        - {Key: Owner, Value: platform}
        - {Key: SecurityLevel, Value: internal}
        - {Key: IaC_Version, Value: '1.0.0'}
";

const UNTAGGED_GROUP: &str = "\
Resources:
  CustomSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: app
      Tags:
        - {Key: Environment, Value: dev}
        - {Key: IaC_Version, Value: '1.0.0'}
";

/// A scratch directory of this test process, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("infra-agent-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn file(&self, name: &str, body: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, body).expect("write template");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn validate(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infra-agent"))
        .arg("validate")
        .args(args)
        .output()
        .expect("infra-agent runs")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[test]
fn compliant_template_exits_zero_with_the_pass_lines() {
    let scratch = Scratch::new("pass");
    let file = scratch.file("ok.yaml", COMPLIANT);
    let out = validate(&[file.as_os_str()]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("✓ Template validation passed\n"),
        "{stdout}"
    );
}

#[test]
fn missing_tags_exit_one_with_one_grouped_cm8_line() {
    let scratch = Scratch::new("tags");
    let file = scratch.file("sg.yaml", UNTAGGED_GROUP);
    let out = validate(&[file.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ERROR [CM-8] CustomSecurityGroup (AWS::EC2::SecurityGroup) line 6: missing mandatory tags Owner, SecurityLevel\n"),
        "{stdout}"
    );
}

#[test]
fn json_for_one_file_has_the_issue_shape() {
    let scratch = Scratch::new("json1");
    let file = scratch.file("sg.yaml", UNTAGGED_GROUP);
    let out = validate(&[file.as_os_str(), "--output".as_ref(), "json".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["passed"], false);
    assert!(report.get("file").is_none());
    assert!(report["controls"].is_object());
    assert!(report["suppressed"].is_array());
    let cm8 = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["control"] == "CM-8")
        .expect("a CM-8 finding");
    assert_eq!(cm8["rule"], "cm8_required_tags");
    assert_eq!(cm8["severity"], "error");
    assert_eq!(cm8["resource"], "CustomSecurityGroup");
    assert_eq!(cm8["line"], 6);
}

#[test]
fn json_for_several_files_lists_each_with_its_file() {
    let scratch = Scratch::new("json2");
    let ok = scratch.file("ok.yaml", COMPLIANT);
    let bad = scratch.file("bad.json", "{\"Resources\": {,}}");
    let out = validate(&[
        ok.as_os_str(),
        bad.as_os_str(),
        "--output".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["passed"], false);
    let templates = report["templates"].as_array().expect("templates");
    assert_eq!(templates.len(), 2);
    assert_eq!(templates[0]["file"], ok.display().to_string());
    assert_eq!(templates[0]["passed"], true);
    assert_eq!(templates[1]["passed"], false);
    assert_eq!(templates[1]["findings"][0]["rule"], "E0000");
}

#[test]
fn unreadable_file_is_an_error_finding_and_exit_one() {
    let scratch = Scratch::new("missing");
    let missing = scratch.0.join("nope.yaml");
    let out = validate(&[missing.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("ERROR [E0000] template: "), "{stdout}");
    assert!(stdout.contains("cannot read file"), "{stdout}");
}
