//! The parameters and stack tags a deployment passes to CloudFormation: the environment's values,
//! the wired upstream outputs, and the mandatory tags.

use std::collections::BTreeMap;

use crate::contract::deploy::DeployRequest;
use crate::environment::{environment_parameters, EnvironmentConfig};
use crate::template::Template;

/// Template parameters the pipeline itself supplies, from the environment and the request.
pub const STANDARD_PARAMETERS: [&str; 4] = ["Environment", "Owner", "SecurityLevel", "IaCVersion"];

/// What a deployment offers its template: the environment's values, then the wired upstream
/// outputs of the request, which win.
pub fn offered_parameters(
    config: &EnvironmentConfig,
    request: &DeployRequest,
) -> BTreeMap<String, String> {
    let mut values = environment_parameters(config, &request.iac_version);
    values.extend(request.parameters.clone());
    values
}

/// The mandatory stack tags (NIST CM-8, CM-3), propagated by CloudFormation to taggable resources.
pub fn stack_tags(config: &EnvironmentConfig, request: &DeployRequest) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("Environment".to_string(), request.env.to_string()),
        ("Owner".to_string(), config.owner.clone()),
        ("SecurityLevel".to_string(), config.security_level.clone()),
        ("IaC_Version".to_string(), request.iac_version.clone()),
    ])
}

/// The values passed for the template's declared parameters. A parameter without a default that
/// the environment does not supply is an error naming it and where to add it.
pub fn resolve_parameters(
    template: &Template,
    offered: &BTreeMap<String, String>,
    env_file: &str,
) -> Result<BTreeMap<String, String>, String> {
    let mut resolved = BTreeMap::new();
    let mut missing = Vec::new();
    for decl in template.parameters() {
        match offered.get(&decl.name) {
            Some(value) => {
                resolved.insert(decl.name, value.clone());
            }
            None if decl.default.is_some() => {}
            None => missing.push(decl.name),
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "template parameters without a default and without a value: {} (add them to [parameters] in {env_file})",
            missing.join(", ")
        ));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_parameter_without_default_names_it_and_the_env_file() {
        let template = Template::parse(
            "t.json",
            r#"{"Parameters":{"VpcCidr":{"Type":"String"},"Name":{"Type":"String","Default":"x"},"Owner":{"Type":"String"}},
               "Resources":{"R":{"Type":"AWS::SNS::Topic"}}}"#,
        )
        .unwrap();
        let offered = BTreeMap::from([("Owner".to_string(), "team".to_string())]);
        let err =
            resolve_parameters(&template, &offered, "infra/environments/dev.toml").unwrap_err();
        assert!(err.contains("VpcCidr") && err.contains("dev.toml"), "{err}");
        assert!(!err.contains("Name"));
        let offered = BTreeMap::from([
            ("Owner".to_string(), "team".to_string()),
            ("VpcCidr".to_string(), "10.0.0.0/16".to_string()),
            ("Unused".to_string(), "u".to_string()),
        ]);
        let resolved = resolve_parameters(&template, &offered, "dev.toml").unwrap();
        assert_eq!(
            resolved.len(),
            2,
            "only declared parameters are passed: {resolved:?}"
        );
    }
}
