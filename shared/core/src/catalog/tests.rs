use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use super::*;

/// A template declaring `required` parameters (no Default), one defaulted parameter, and
/// `outputs`, each exported as `${AWS::StackName}-<output>`.
fn template(required: &[&str], outputs: &[&str]) -> String {
    let mut text = String::from("Parameters:\n  Tuning:\n    Type: String\n    Default: x\n");
    for name in required {
        text.push_str(&format!("  {name}:\n    Type: String\n"));
    }
    text.push_str("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n");
    if !outputs.is_empty() {
        text.push_str("Outputs:\n");
        for name in outputs {
            text.push_str(&format!(
                "  {name}:\n    Value: !Ref Topic\n    Export: {{ Name: !Sub \"${{AWS::StackName}}-{name}\" }}\n"
            ));
        }
    }
    text
}

const PLATFORM: &str = r#"
phases = ["foundation", "cluster"]

[stacks.iam-roles]
template = "iam-roles.yaml"
phase = 1

[stacks.vpc]
template = "vpc.yaml"
phase = 1

[stacks.security-groups]
template = "security-groups.yaml"
phase = 1
[stacks.security-groups.wiring]
VpcId = "vpc.VpcId"

[stacks.cluster]
template = "cluster.yaml"
phase = 2
[stacks.cluster.wiring]
ClusterRoleArn = "iam-roles.ClusterRoleArn"
SubnetIds = "vpc.PrivateSubnetIds"
SecurityGroupId = "security-groups.ClusterSecurityGroupId"

[stacks.node-groups]
template = "node-groups.yaml"
phase = 2
[stacks.node-groups.wiring]
ClusterName = "cluster.ClusterName"

[stacks.addons]
template = "addons.yaml"
phase = 2
depends_on = ["node-groups"]
skip_on_emulator = "needs a running cluster"
[stacks.addons.wiring]
ClusterName = "cluster.ClusterName"
"#;

fn platform_templates() -> Vec<(&'static str, String)> {
    vec![
        (
            "iam-roles.yaml",
            template(&["Environment"], &["ClusterRoleArn"]),
        ),
        (
            "vpc.yaml",
            template(&["Environment"], &["VpcId", "PrivateSubnetIds"]),
        ),
        (
            "security-groups.yaml",
            template(&["Environment", "VpcId"], &["ClusterSecurityGroupId"]),
        ),
        (
            "cluster.yaml",
            template(
                &["ClusterRoleArn", "SubnetIds", "SecurityGroupId"],
                &["ClusterName"],
            ),
        ),
        (
            "node-groups.yaml",
            template(&["ClusterName"], &["NodeGroupName"]),
        ),
        ("addons.yaml", template(&["ClusterName"], &[])),
    ]
}

/// Loads `catalog` with templates served from memory under `stacks/`.
fn load_with(catalog: &str, templates: &[(&str, String)]) -> Result<Catalog, CatalogError> {
    let files: BTreeMap<PathBuf, String> = templates
        .iter()
        .map(|(name, body)| (Path::new("stacks").join(name), body.clone()))
        .collect();
    Catalog::parse("catalog.toml", catalog, Path::new("stacks"), |path| {
        files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    })
}

fn platform() -> Catalog {
    load_with(PLATFORM, &platform_templates()).expect("the fixture platform loads")
}

/// The platform fixture with one template replaced.
fn platform_with(name: &str, body: String) -> Vec<(&'static str, String)> {
    platform_templates()
        .into_iter()
        .map(|(n, b)| if n == name { (n, body.clone()) } else { (n, b) })
        .collect()
}

fn key(name: &str) -> StackKey {
    name.parse().expect("valid stack key")
}

fn keys(names: &[&str]) -> Vec<StackKey> {
    names.iter().map(|n| key(n)).collect()
}

fn error_of(catalog: &str, templates: &[(&str, String)]) -> String {
    load_with(catalog, templates)
        .expect_err("the catalog must be refused")
        .to_string()
}

/// The built-in settings of `env` with `parameters` as its template parameters.
fn config(env: Env, parameters: &[(&str, &str)]) -> EnvironmentConfig {
    let mut config = EnvironmentConfig::builtin(env).expect("built-in environment");
    config.parameters = parameters
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    config
}

#[test]
fn waves_deploy_each_stack_after_its_upstreams_phase_by_phase() {
    let catalog = platform();
    assert_eq!(
        catalog.waves(),
        [
            keys(&["iam-roles", "vpc"]),
            keys(&["security-groups"]),
            keys(&["cluster"]),
            keys(&["node-groups"]),
            keys(&["addons"]),
        ]
    );
}

#[test]
fn stack_of_a_later_phase_waits_for_the_earlier_phase_even_without_dependencies() {
    let catalog = PLATFORM.replace(
        "[stacks.node-groups.wiring]\nClusterName = \"cluster.ClusterName\"\n",
        "",
    );
    let templates = platform_with("node-groups.yaml", template(&[], &[]));
    let catalog = load_with(&catalog, &templates).unwrap();
    assert_eq!(
        catalog.waves(),
        [
            keys(&["iam-roles", "vpc"]),
            keys(&["security-groups"]),
            keys(&["cluster", "node-groups"]),
            keys(&["addons"]),
        ]
    );
}

#[test]
fn upstream_lists_wired_and_explicit_dependencies_once() {
    let catalog = platform();
    assert_eq!(
        catalog.upstream(&key("addons")),
        keys(&["cluster", "node-groups"])
    );
    assert_eq!(
        catalog.upstream(&key("cluster")),
        keys(&["iam-roles", "security-groups", "vpc"])
    );
    assert!(catalog.upstream(&key("vpc")).is_empty());
}

#[test]
fn wiring_for_names_parameter_upstream_and_output() {
    let catalog = platform();
    assert_eq!(
        catalog.wiring_for(&key("security-groups")),
        [Wire {
            parameter: "VpcId".into(),
            upstream: key("vpc"),
            output: "VpcId".into(),
        }]
    );
}

#[test]
fn wired_upstream_outputs_become_downstream_parameter_values() {
    let catalog = platform();
    let outputs: OutputsByStack = BTreeMap::from([
        (
            key("iam-roles"),
            BTreeMap::from([("ClusterRoleArn".to_string(), "arn:role".to_string())]),
        ),
        (
            key("vpc"),
            BTreeMap::from([
                ("VpcId".to_string(), "vpc-1".to_string()),
                (
                    "PrivateSubnetIds".to_string(),
                    "subnet-a,subnet-b".to_string(),
                ),
            ]),
        ),
        (
            key("security-groups"),
            BTreeMap::from([("ClusterSecurityGroupId".to_string(), "sg-1".to_string())]),
        ),
    ]);
    let values = catalog
        .resolve_parameters(&key("cluster"), &outputs)
        .unwrap();
    assert_eq!(
        values,
        BTreeMap::from([
            ("ClusterRoleArn".to_string(), "arn:role".to_string()),
            ("SecurityGroupId".to_string(), "sg-1".to_string()),
            ("SubnetIds".to_string(), "subnet-a,subnet-b".to_string()),
        ])
    );
}

#[test]
fn stack_without_upstreams_resolves_to_no_wired_parameters() {
    let values = platform()
        .resolve_parameters(&key("vpc"), &OutputsByStack::new())
        .unwrap();
    assert!(values.is_empty());
}

#[test]
fn undeployed_upstream_is_refused_with_deploy_it_first() {
    let outputs: OutputsByStack = BTreeMap::from([(key("iam-roles"), BTreeMap::new())]);
    let err = platform()
        .resolve_parameters(&key("cluster"), &outputs)
        .unwrap_err();
    assert_eq!(
        err,
        MissingUpstream::NotDeployed {
            stack: key("cluster"),
            upstreams: keys(&["security-groups", "vpc"]),
        }
    );
    assert!(
        err.to_string()
            .contains("deploy security-groups, vpc first"),
        "{err}"
    );
}

#[test]
fn undeployed_explicit_dependency_is_refused_too() {
    let outputs: OutputsByStack = BTreeMap::from([(
        key("cluster"),
        BTreeMap::from([("ClusterName".to_string(), "c".to_string())]),
    )]);
    let err = platform()
        .resolve_parameters(&key("addons"), &outputs)
        .unwrap_err();
    assert!(
        err.to_string().contains("deploy node-groups first"),
        "{err}"
    );
}

#[test]
fn deployed_upstream_lacking_the_wired_output_is_refused_with_deploy_it_first() {
    let outputs: OutputsByStack = BTreeMap::from([(key("vpc"), BTreeMap::new())]);
    let err = platform()
        .resolve_parameters(&key("security-groups"), &outputs)
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("output 'VpcId'") && text.contains("deploy vpc first"),
        "{text}"
    );
}

#[test]
fn unknown_stack_in_wiring_is_an_error_naming_stack_and_parameter() {
    let catalog = PLATFORM.replace("VpcId = \"vpc.VpcId\"", "VpcId = \"network.VpcId\"");
    let err = error_of(&catalog, &platform_templates());
    assert!(
        err.contains("catalog.toml")
            && err.contains("'security-groups'")
            && err.contains("parameter 'VpcId'")
            && err.contains("unknown stack 'network'"),
        "{err}"
    );
}

#[test]
fn unknown_stack_in_depends_on_is_an_error() {
    let catalog = PLATFORM.replace("depends_on = [\"node-groups\"]", "depends_on = [\"nodes\"]");
    let err = error_of(&catalog, &platform_templates());
    assert!(
        err.contains("'addons'") && err.contains("depends_on") && err.contains("'nodes'"),
        "{err}"
    );
}

#[test]
fn unknown_upstream_output_names_output_upstream_and_its_template() {
    let catalog = PLATFORM.replace("\"vpc.PrivateSubnetIds\"", "\"vpc.PodSubnetIds\"");
    let err = error_of(&catalog, &platform_templates());
    assert!(
        err.contains("stacks/vpc.yaml")
            && err.contains("'cluster'")
            && err.contains("parameter 'SubnetIds'")
            && err.contains("output 'PodSubnetIds'")
            && err.contains("VpcId, PrivateSubnetIds"),
        "{err}"
    );
}

#[test]
fn unknown_downstream_parameter_names_parameter_and_its_template() {
    let catalog = PLATFORM.replace("VpcId = \"vpc.VpcId\"", "NetworkId = \"vpc.VpcId\"");
    let err = error_of(&catalog, &platform_templates());
    assert!(
        err.contains("stacks/security-groups.yaml")
            && err.contains("parameter 'NetworkId'")
            && err.contains("declared: Tuning, Environment, VpcId"),
        "{err}"
    );
}

#[test]
fn dependency_cycle_is_an_error_naming_the_cycle() {
    let catalog = PLATFORM.replace(
        "[stacks.vpc]\ntemplate = \"vpc.yaml\"\nphase = 1\n",
        "[stacks.vpc]\ntemplate = \"vpc.yaml\"\nphase = 1\ndepends_on = [\"security-groups\"]\n",
    );
    let err = error_of(&catalog, &platform_templates());
    assert!(
        err.contains("catalog.toml")
            && err.contains("cycle security-groups → vpc → security-groups"),
        "{err}"
    );
}

#[test]
fn stack_depending_on_itself_is_a_cycle() {
    let catalog = PLATFORM.replace(
        "depends_on = [\"node-groups\"]",
        "depends_on = [\"addons\"]",
    );
    let err = error_of(&catalog, &platform_templates());
    assert!(err.contains("cycle addons → addons"), "{err}");
}

#[test]
fn dependency_on_a_later_phase_is_an_error() {
    let catalog = format!(
        "{PLATFORM}\n[stacks.bastion]\ntemplate = \"bastion.yaml\"\nphase = 1\ndepends_on = [\"addons\"]\n"
    );
    let mut templates = platform_templates();
    templates.push(("bastion.yaml", template(&[], &[])));
    let err = error_of(&catalog, &templates);
    assert!(
        err.contains("'bastion' (phase 1) needs 'addons' of the later phase 2"),
        "{err}"
    );
}

#[test]
fn phase_outside_the_declared_phases_is_an_error() {
    let catalog = PLATFORM.replace(
        "template = \"addons.yaml\"\nphase = 2",
        "template = \"addons.yaml\"\nphase = 3",
    );
    let err = error_of(&catalog, &platform_templates());
    assert!(err.contains("'addons': phase 3"), "{err}");
}

#[test]
fn duplicate_export_names_across_stacks_are_an_error_naming_both() {
    let shared_export = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  VpcId:\n    Value: !Ref Topic\n    Export: { Name: !Sub \"platform-${Environment}-VpcId\" }\n  PrivateSubnetIds:\n    Value: !Ref Topic\n";
    let mut templates = platform_with("vpc.yaml", shared_export.to_string());
    templates.push(("legacy-vpc.yaml", shared_export.replace("VpcId:", "Id:")));
    let catalog =
        format!("{PLATFORM}\n[stacks.legacy-vpc]\ntemplate = \"legacy-vpc.yaml\"\nphase = 1\n");
    let err = error_of(&catalog, &templates);
    assert!(
        err.contains("'platform-dev-VpcId'")
            && err.contains("output 'Id' of 'legacy-vpc' (stacks/legacy-vpc.yaml)")
            && err.contains("output 'VpcId' of 'vpc' (stacks/vpc.yaml)"),
        "{err}"
    );
}

#[test]
fn exports_named_after_the_stack_do_not_clash_across_stacks() {
    // Every fixture template exports `${AWS::StackName}-<output>`; two stacks could share an
    // output name and still export distinct names.
    let mut templates = platform_templates();
    templates.push(("vpc-copy.yaml", template(&[], &["VpcId"])));
    let catalog =
        format!("{PLATFORM}\n[stacks.vpc-copy]\ntemplate = \"vpc-copy.yaml\"\nphase = 1\n");
    assert!(load_with(&catalog, &templates).is_ok());
}

#[test]
fn required_parameter_nobody_supplies_is_reported_with_stack_and_template() {
    let templates = platform_with(
        "node-groups.yaml",
        template(&["ClusterName", "InstanceType", "Owner"], &[]),
    );
    let catalog = load_with(PLATFORM, &templates).unwrap();
    let err = catalog
        .check_environment(&config(Env::Tst, &[]))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("in tst")
            && text.contains(
                "stack 'node-groups' (stacks/node-groups.yaml): parameter 'InstanceType'"
            )
            && text.contains("infra/environments/tst.toml")
            && !text.contains("'Owner'")
            && !text.contains("'ClusterName'"),
        "{text}"
    );
}

#[test]
fn environment_pipeline_and_wiring_together_supply_every_required_parameter() {
    let templates = platform_with(
        "node-groups.yaml",
        template(
            &[
                "ClusterName",
                "InstanceType",
                "Environment",
                "Owner",
                "SecurityLevel",
                "IaCVersion",
            ],
            &[],
        ),
    );
    let catalog = load_with(PLATFORM, &templates).unwrap();
    assert!(catalog
        .check_environment(&config(Env::Dev, &[("InstanceType", "m7i.large")]))
        .is_ok());
}

#[test]
fn unknown_key_in_the_catalog_is_an_error() {
    let catalog = PLATFORM.replace("depends_on =", "dependson =");
    let err = error_of(&catalog, &platform_templates());
    assert!(
        err.contains("catalog.toml") && err.contains("dependson"),
        "{err}"
    );
}

#[test]
fn wiring_without_stack_and_output_is_an_error() {
    let catalog = PLATFORM.replace("VpcId = \"vpc.VpcId\"", "VpcId = \"VpcId\"");
    let err = error_of(&catalog, &platform_templates());
    assert!(err.contains("expected \"<stack>.<output>\""), "{err}");
}

#[test]
fn template_outside_the_templates_directory_is_refused() {
    let catalog = PLATFORM.replace("\"vpc.yaml\"", "\"../secrets/vpc.yaml\"");
    let err = error_of(&catalog, &platform_templates());
    assert!(
        err.contains("'vpc'") && err.contains("relative path"),
        "{err}"
    );
}

#[test]
fn missing_template_file_is_an_error_naming_the_file() {
    let templates: Vec<_> = platform_templates()
        .into_iter()
        .filter(|(name, _)| *name != "addons.yaml")
        .collect();
    let err = error_of(PLATFORM, &templates);
    assert!(err.contains("cannot read stacks/addons.yaml"), "{err}");
}

#[test]
fn template_syntax_error_is_reported_with_its_file() {
    let templates = platform_with("vpc.yaml", "Resources: [unclosed".to_string());
    let err = error_of(PLATFORM, &templates);
    assert!(err.contains("stacks/vpc.yaml"), "{err}");
}

#[test]
fn stack_skipped_on_the_emulator_keeps_its_reason() {
    let catalog = platform();
    let addons = catalog.stack(&key("addons")).unwrap();
    assert_eq!(
        addons.skip_on_emulator.as_deref(),
        Some("needs a running cluster")
    );
    assert_eq!(catalog.phase_name(2), Some("cluster"));
    let vpc = catalog.stack(&key("vpc")).unwrap();
    assert_eq!(vpc.skip_on_emulator, None, "absent means deployable");
}

#[test]
fn emulator_skip_without_a_reason_is_refused() {
    let text = PLATFORM.replace(
        "skip_on_emulator = \"needs a running cluster\"",
        "skip_on_emulator = true",
    );
    assert_ne!(text, PLATFORM);
    let err = error_of(&text, &platform_templates());
    assert!(err.contains("skip_on_emulator"), "{err}");
}

#[test]
fn real_catalog_loads_with_its_templates_and_supplies_every_parameter_in_every_environment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let catalog = Catalog::load(&root.join(CATALOG_FILE), &root.join(TEMPLATES_DIR))
        .unwrap_or_else(|e| panic!("{e}"));
    for env in Env::ALL {
        let config = EnvironmentConfig::builtin(env).expect("built-in environment");
        catalog
            .check_environment(&config)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        catalog.waves(),
        [
            keys(&["iam-roles", "vpc"]),
            keys(&["security-groups"]),
            keys(&["cluster"]),
            keys(&["node-groups"]),
            keys(&["addons"]),
            keys(&["k8s-services"]),
        ]
    );
    let services = catalog.stack(&key("k8s-services")).unwrap();
    assert!(
        services
            .skip_on_emulator
            .as_deref()
            .is_some_and(|reason| reason.contains("AWSQS::Kubernetes::Helm")),
        "{:?}",
        services.skip_on_emulator
    );
}
