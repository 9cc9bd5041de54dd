//! Running cfn-guard: one rules file on one template's JSON, through guard's direct entry point
//! where its report comes back whole and through its `validate` command where it does not.

use std::io::Cursor;

use cfn_guard::commands::validate::{OutputFormatType, ShowSummaryType};
use cfn_guard::commands::{Executable, FAILURE_STATUS_CODE, SUCCESS_STATUS_CODE};
use cfn_guard::utils::reader::{ReadBuffer, Reader};
use cfn_guard::utils::writer::{WriteBuffer, Writer};
use cfn_guard::{CommandBuilder, ValidateBuilder, ValidateInput};

use super::report::GuardOutcome;
use super::{PolicyError, RuleSource};

/// One guard run of one rules file on one template (JSON text). Guard is synchronous and keeps
/// `Rc` values: nothing of it outlives this call.
pub(super) fn run_guard(source: &RuleSource, data: &str) -> Result<GuardOutcome, PolicyError> {
    match run_guard_direct(source, data) {
        Some(outcome) => Ok(outcome),
        None => run_guard_command(source.text, data),
    }
}

/// Guard's direct entry point reads the template with serde_json and copies it once, where its
/// `validate` command re-reads it with a YAML reader and copies it twice more. It hands back
/// only the last 8 KiB of its report, though, and errors without their context: `None` unless
/// the report is complete, and the run is then redone through the command.
fn run_guard_direct(source: &RuleSource, data: &str) -> Option<GuardOutcome> {
    let report = cfn_guard::run_checks(
        ValidateInput {
            content: data,
            file_name: "template",
        },
        ValidateInput {
            content: source.text,
            file_name: source.file,
        },
        false,
    )
    .ok()?;
    GuardOutcome::from_file_report(&report).ok()
}

/// The same run through guard's `validate` command: slower, complete in what it reports.
fn run_guard_command(rules: &str, data: &str) -> Result<GuardOutcome, PolicyError> {
    let payload = serde_json::json!({
        "rules": [rules],
        "data": [data],
    });
    let mut reader = Reader::new(ReadBuffer::Cursor(Cursor::new(
        payload.to_string().into_bytes(),
    )));
    let mut writer = Writer::new(WriteBuffer::Vec(Vec::new()))
        .map_err(|e| PolicyError::Engine(e.to_string()))?;
    let command = ValidateBuilder::default()
        .payload(true)
        .structured(true)
        .output_format(OutputFormatType::JSON)
        .show_summary(vec![ShowSummaryType::None])
        .try_build()
        .map_err(|e| PolicyError::Engine(e.to_string()))?;
    let status = command
        .execute(&mut writer, &mut reader)
        .map_err(|e| PolicyError::Engine(e.to_string()))?;
    if status != SUCCESS_STATUS_CODE && status != FAILURE_STATUS_CODE {
        return Err(PolicyError::ExitStatus(status));
    }
    let output = writer
        .into_string()
        .map_err(|e| PolicyError::Report(e.to_string()))?;
    GuardOutcome::from_report(&output)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::validation::policy::projection::GuardData;
    use crate::validation::policy::reach::Selection;
    use crate::validation::policy::RULE_FILES;
    use serde_json::Value;

    /// Guard shown only what a rules file can reach (and run directly where it can) reports what
    /// the `validate` command reports on every resource of the selected types, for every
    /// shipped rules file.
    /// Returns how many violations they found.
    pub(in crate::validation::policy) fn assert_runs_agree(name: &str, template: &Value) -> usize {
        let mut found = 0;
        for source in &RULE_FILES {
            let selection = Selection::of(source.text);
            let data = serde_json::to_string(&GuardData {
                template,
                selection: selection.as_ref(),
                representatives: None,
            })
            .unwrap_or_default();
            let whole = selection.as_ref().map(Selection::with_every_key);
            let whole = serde_json::to_string(&GuardData {
                template,
                selection: whole.as_ref(),
                representatives: None,
            })
            .unwrap_or_default();
            let direct = match run_guard(source, &data) {
                Ok(outcome) => outcome,
                Err(e) => panic!("{name} {}: {e}", source.file),
            };
            let command = run_guard_command(source.text, &whole);
            let Ok(command) = command else {
                panic!("{name} {}: the command failed: {command:?}", source.file);
            };
            // Guard's own messages quote the values it looked at, which a projection trims;
            // the rules' messages are compared whole.
            let sorted = |o: &GuardOutcome| {
                let mut v: Vec<_> =
                    o.violations
                        .iter()
                        .map(|v| {
                            let ours = v.message.split(':').next().is_some_and(|c| {
                                c.len() <= 6 && c.contains('-') && !c.contains(' ')
                            });
                            (
                                v.rule.clone(),
                                v.path.clone(),
                                ours.then(|| v.message.clone()),
                            )
                        })
                        .collect();
                v.sort();
                v
            };
            assert_eq!(sorted(&direct), sorted(&command), "{name} {}", source.file);
            assert_eq!(direct.failed, command.failed, "{name} {}", source.file);
            assert_eq!(
                direct.compliant, command.compliant,
                "{name} {}",
                source.file
            );
            assert_eq!(
                direct.not_applicable, command.not_applicable,
                "{name} {}",
                source.file
            );
            found += direct.violations.len();
        }
        found
    }

    #[test]
    fn direct_guard_run_reports_what_the_validate_command_reports() {
        let template = serde_json::json!({
            "Parameters": {"Big": {"Type": "Number", "Default": 18446744073709551615u64}},
            "Resources": {
                "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"Tags": [{"Key": "Environment", "Value": "qa"}]}},
                "Open": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [
                    {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0", "FromPort": 18446744073709551615u64, "ToPort": 22}
                ]}},
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": ["*"]}]}}]}},
                "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": {"Owner": 1}}},
                "Nodes": {"Type": "AWS::EKS::Nodegroup", "Properties": {"Tags": {"Environment": "prd"}}},
                "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"PubliclyAccessible": true}},
                "Log": {"Type": "AWS::EC2::FlowLog", "Properties": {"ResourceId": {"Ref": "Other"}, "TrafficType": "REJECT"}}
            }
        });
        let found = assert_runs_agree("inline", &template);
        assert!(found > 0, "{found}");
    }
}
