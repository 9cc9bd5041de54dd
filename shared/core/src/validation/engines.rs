//! RDS engines and engine versions: a DB instance or cluster names an engine RDS offers and, for
//! the engines whose versions are listed, a version RDS can still create. The lists are the
//! ones cfn-lint checks with (from RDS's own catalogue), written beside the resource schemas.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use super::{embedded_data, Finding};
use crate::template::{pointer, Template};

/// A DB instance's engine or engine version RDS does not offer (cfn-lint E3691).
pub const INSTANCE_ENGINE_VERSION: &str = "E3691";
/// A DB cluster's engine or engine version RDS does not offer (cfn-lint E3690).
pub const CLUSTER_ENGINE_VERSION: &str = "E3690";

/// `scripts/gen-resource-schemas` writes it beside the resource schemas.
const ENGINES: &str = include_str!("../../data/rds-engine-versions.json");

#[derive(Debug, Deserialize)]
struct EnginesFile {
    /// Resource type → what RDS offers it.
    types: BTreeMap<String, Offered>,
}

/// What RDS offers one resource type.
#[derive(Debug, Deserialize)]
struct Offered {
    rule: String,
    engines: Vec<String>,
    /// Engine → the versions it can be created with; engines not listed are not judged.
    versions: BTreeMap<String, Vec<String>>,
}

fn offered() -> Result<&'static BTreeMap<String, Offered>, String> {
    static LOADED: OnceLock<Result<EnginesFile, String>> = OnceLock::new();
    embedded_data(&LOADED, ENGINES, "RDS engine").map(|f| &f.types)
}

/// Literal engines and versions only: a parameter or condition is judged where it is resolved.
pub fn check(template: &Template) -> Vec<Finding> {
    let offered = match offered() {
        Ok(o) => o,
        // Fail closed, like every other check that cannot run.
        Err(message) => return vec![Finding::could_not_run(message)],
    };
    let Some(resources) = template.resources() else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for (id, resource) in resources {
        let Some((resource_type, offer)) = resource
            .get("Type")
            .and_then(Value::as_str)
            .and_then(|t| Some((t, offered.get(t)?)))
        else {
            continue;
        };
        let Some(engine) = resource
            .pointer("/Properties/Engine")
            .and_then(Value::as_str)
        else {
            continue;
        };
        // RDS reads engine names in any case.
        let engine = engine.to_ascii_lowercase();
        let finding = |property: &str, message: String| {
            let path = format!("{}/Properties/{property}", pointer::of("Resources", id));
            Finding::on_resource(template, &offer.rule, id, resource_type, &path, message)
        };
        if !offer.engines.contains(&engine) {
            findings.push(finding(
                "Engine",
                format!(
                    "engine '{engine}' is not one RDS offers for {resource_type} (offered: {})",
                    offer.engines.join(", ")
                ),
            ));
            continue;
        }
        let (Some(versions), Some(version)) = (
            offer.versions.get(&engine),
            resource
                .pointer("/Properties/EngineVersion")
                .and_then(Value::as_str),
        ) else {
            continue;
        };
        if !versions.iter().any(|v| v == version) {
            let newest: Vec<&str> = versions.iter().rev().take(4).map(String::as_str).collect();
            findings.push(finding(
                "EngineVersion",
                format!(
                    "{engine} {version} cannot be created: RDS offers {} versions of {engine}, such as {}",
                    versions.len(),
                    newest.join(", ")
                ),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(engine: &str, version: &str) -> Template {
        let body = format!(
            "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: {engine}\n      EngineVersion: '{version}'\n      DBInstanceClass: db.t3.micro\n"
        );
        Template::parse("db.yaml", &body).unwrap()
    }

    #[test]
    fn an_engine_version_rds_no_longer_offers_is_an_error_on_its_line() {
        let found = check(&instance("mysql", "5.1.0"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, INSTANCE_ENGINE_VERSION);
        assert_eq!(found[0].line, Some(6));
        assert!(
            found[0].message.contains("mysql 5.1.0"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn an_offered_version_passes_in_any_engine_case() {
        let versions = &offered().unwrap()["AWS::RDS::DBInstance"].versions["mysql"];
        let current = versions.last().unwrap();
        assert!(check(&instance("mysql", current)).is_empty());
        assert!(check(&instance("MySQL", current)).is_empty());
    }

    #[test]
    fn an_unknown_engine_is_an_error_and_a_cluster_has_its_own_rule() {
        let found = check(&instance("mysqll", "8.0"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, Some(5));
        let body = "Resources:\n  C:\n    Type: AWS::RDS::DBCluster\n    Properties:\n      Engine: aurora-postgresql\n      EngineVersion: '9.9'\n";
        let found = check(&Template::parse("c.yaml", body).unwrap());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, CLUSTER_ENGINE_VERSION);
    }

    #[test]
    fn computed_engines_and_versions_are_not_judged() {
        let body = "Parameters:\n  V:\n    Type: String\nResources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: mysql\n      EngineVersion: !Ref V\n      DBInstanceClass: db.t3.micro\n";
        assert!(check(&Template::parse("db.yaml", body).unwrap()).is_empty());
    }
}
