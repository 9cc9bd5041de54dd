//! Installing the pipeline into an account: the two stacks `infra-agent install` manages, what it
//! uploads (every object under its content hash, so an unchanged install uploads nothing and
//! changes nothing), and the parameters of the pipeline's own template.

use std::collections::BTreeMap;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CatalogError, CATALOG_FILE, TEMPLATES_DIR};
use crate::deploy::templates::sha256_hex;
use crate::environment::EnvironmentConfig;
use crate::naming::Env;
use crate::registry::{Function, StateMachine};

/// The pipeline's own stack.
pub const PIPELINE_STACK: &str = "infra-agent-pipeline";
/// The stack holding the artifact bucket, created by `install` when missing.
pub const BOOTSTRAP_STACK: &str = "infra-agent-bootstrap";
/// The pipeline's template (`infra/pipeline.yaml`) of this version.
pub const PIPELINE_TEMPLATE: &str = include_str!("../../../infra/pipeline.yaml");
/// The bootstrap stack's template (`infra/bootstrap.yaml`).
pub const BOOTSTRAP_TEMPLATE: &str = include_str!("../../../infra/bootstrap.yaml");
/// Output of the bootstrap stack naming the artifact bucket.
pub const ARTIFACT_BUCKET_OUTPUT: &str = "ArtifactBucketName";
/// The file `scripts/package` writes beside the zips.
pub const PACKAGED_MANIFEST: &str = "packaged.json";

/// What `scripts/package` says about the zips it wrote; only the architecture is read; each zip
/// is hashed again by the installer, so a stale manifest cannot name the wrong code.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PackagedManifest {
    #[serde(default = "default_architecture")]
    pub architecture: String,
}

fn default_architecture() -> String {
    "x86_64".into()
}

/// The catalog as installed: the catalog file, the environment files and the catalog's templates,
/// one JSON document in the artifact bucket. Executions started from the console deploy from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogBundle {
    /// The infra-agent version that installed it (the IaC_Version of console deployments).
    pub version: String,
    /// `infra/catalog.toml`.
    pub catalog: String,
    /// `infra/environments/<env>.toml` by environment name.
    pub environments: BTreeMap<String, String>,
    /// `infra/stacks/<file>` by file name.
    pub templates: BTreeMap<String, String>,
}

impl CatalogBundle {
    /// Reads `catalog_file`, the environment files beside it (`environments/<env>.toml`) and the
    /// templates in `stacks/`, and checks the catalog as the pipeline will read it.
    pub fn read(catalog_file: &Path, version: &str) -> Result<CatalogBundle, String> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
        };
        let infra = catalog_file.parent().unwrap_or(Path::new("."));
        let mut environments = BTreeMap::new();
        for env in Env::ALL {
            let path = infra.join("environments").join(format!("{env}.toml"));
            environments.insert(env.to_string(), read(&path)?);
        }
        let stacks = infra.join("stacks");
        let mut templates = BTreeMap::new();
        let entries =
            std::fs::read_dir(&stacks).map_err(|e| format!("{}: {e}", stacks.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("{}: {e}", stacks.display()))?
                .path();
            let is_template = path
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json");
            if let (true, Some(name)) = (is_template, path.file_name()) {
                templates.insert(name.to_string_lossy().into_owned(), read(&path)?);
            }
        }
        let bundle = CatalogBundle {
            version: version.to_string(),
            catalog: read(catalog_file)?,
            environments,
            templates,
        };
        bundle.catalog().map_err(|e| e.to_string())?;
        Ok(bundle)
    }

    /// The catalog, checked against the bundled templates as `Catalog::load` checks files.
    pub fn catalog(&self) -> Result<Catalog, CatalogError> {
        Catalog::parse(
            CATALOG_FILE,
            &self.catalog,
            Path::new(TEMPLATES_DIR),
            |path| {
                self.template(path).map(str::to_string).ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "not in the installed catalog",
                    )
                })
            },
        )
    }

    /// The bundled text of a catalog stack's template.
    pub fn template(&self, path: &Path) -> Option<&str> {
        let name = path.file_name()?.to_str()?;
        self.templates.get(name).map(String::as_str)
    }
}

/// An object to upload to the artifact bucket, addressed by its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub key: String,
    pub sha256: String,
    pub bytes: Vec<u8>,
    /// The template parameter naming its key, if any.
    pub parameter: Option<String>,
}

impl Artifact {
    fn new(prefix: &str, extension: &str, bytes: Vec<u8>, parameter: Option<String>) -> Artifact {
        let sha256 = sha256_hex(&bytes);
        Artifact {
            key: format!("{prefix}/{sha256}.{extension}"),
            sha256,
            bytes,
            parameter,
        }
    }

    /// A function's zip: `functions/infra-agent-<step>/<sha256>.zip`.
    pub fn function(function: Function, zip: Vec<u8>) -> Artifact {
        Artifact::new(
            &format!("functions/{}", function.name()),
            "zip",
            zip,
            Some(code_key_parameter(function)),
        )
    }

    /// A state machine definition as written in the repository, placeholders included (the
    /// template's `DefinitionSubstitutions` fill them).
    pub fn definition(machine: StateMachine) -> Artifact {
        Artifact::new(
            &format!("statemachine/{}", machine.name()),
            "asl.json",
            machine.definition().as_bytes().to_vec(),
            Some(definition_key_parameter(machine)),
        )
    }

    /// The pipeline's own template, too large to pass inline to CloudFormation.
    pub fn pipeline_template() -> Artifact {
        Artifact::new(
            "templates/pipeline",
            "yaml",
            PIPELINE_TEMPLATE.as_bytes().to_vec(),
            None,
        )
    }

    /// The catalog bundle console-started executions read.
    pub fn catalog(bundle: &CatalogBundle) -> Artifact {
        let bytes = serde_json::to_vec(bundle).expect("a bundle of strings encodes");
        Artifact::new("catalog", "json", bytes, Some("CatalogKey".into()))
    }
}

/// The template parameter holding a function's code key: `CreateChangeSetCodeKey`.
pub fn code_key_parameter(function: Function) -> String {
    format!("{}CodeKey", pascal_case(function.step()))
}

/// The template parameter holding a definition's key: `DeployEnvironmentDefinitionKey`.
pub fn definition_key_parameter(machine: StateMachine) -> String {
    let short = machine
        .name()
        .strip_prefix("infra-agent-")
        .unwrap_or(machine.name());
    format!("{}DefinitionKey", pascal_case(short))
}

fn pascal_case(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// The pipeline stack's parameters: every artifact's key, the artifact bucket, the architecture
/// and the installed version.
pub fn pipeline_parameters(
    artifacts: &[Artifact],
    artifact_bucket: &str,
    architecture: &str,
    version: &str,
    approval_email: Option<&str>,
) -> BTreeMap<String, String> {
    let mut parameters: BTreeMap<String, String> = artifacts
        .iter()
        .filter_map(|a| Some((a.parameter.clone()?, a.key.clone())))
        .collect();
    parameters.insert("ArtifactBucket".into(), artifact_bucket.into());
    parameters.insert("Architecture".into(), architecture.into());
    parameters.insert("IaCVersion".into(), version.into());
    if let Some(email) = approval_email {
        parameters.insert("ApprovalEmail".into(), email.into());
    }
    for env in Env::ALL {
        if let Ok(config) = EnvironmentConfig::builtin(env) {
            parameters.insert(drift_schedule_parameter(env), config.drift_scan_schedule());
        }
    }
    parameters
}

/// The template parameter holding an environment's drift-scan schedule: `DriftScanRateDev`.
pub fn drift_schedule_parameter(env: Env) -> String {
    format!("DriftScanRate{}", pascal_case(env.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Template;

    #[test]
    fn parameter_names_follow_the_steps_and_machines() {
        assert_eq!(
            code_key_parameter(Function::CreateChangeSet),
            "CreateChangeSetCodeKey"
        );
        assert_eq!(code_key_parameter(Function::Validate), "ValidateCodeKey");
        assert_eq!(
            definition_key_parameter(StateMachine::DeployEnvironment),
            "DeployEnvironmentDefinitionKey"
        );
        assert_eq!(
            definition_key_parameter(StateMachine::Deploy),
            "DeployDefinitionKey"
        );
    }

    #[test]
    fn every_parameter_install_passes_is_declared_by_the_template_and_every_required_one_passed() {
        let template = Template::parse("infra/pipeline.yaml", PIPELINE_TEMPLATE).unwrap();
        let declared = template.parameters();
        let mut artifacts: Vec<Artifact> = Function::ALL
            .iter()
            .map(|f| Artifact::function(*f, vec![1, 2, 3]))
            .collect();
        artifacts.extend(StateMachine::ALL.iter().map(|m| Artifact::definition(*m)));
        artifacts.push(Artifact::catalog(&bundle()));
        let passed = pipeline_parameters(&artifacts, "b", "x86_64", "1.0.0", Some("a@b.test"));

        for name in passed.keys() {
            assert!(
                declared.iter().any(|p| &p.name == name),
                "install passes {name}, which infra/pipeline.yaml does not declare"
            );
        }
        for p in declared.iter().filter(|p| p.default.is_none()) {
            assert!(
                passed.contains_key(&p.name),
                "infra/pipeline.yaml needs {} and install does not pass it",
                p.name
            );
        }
    }

    fn bundle() -> CatalogBundle {
        let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/catalog.toml");
        CatalogBundle::read(&catalog, "1.0.0").unwrap()
    }

    #[test]
    fn the_bundled_catalog_is_the_catalog_and_names_each_stacks_template() {
        let bundle = bundle();
        let catalog = bundle.catalog().unwrap();
        for stack in catalog.stacks() {
            assert!(bundle.template(&stack.template).is_some(), "{}", stack.key);
        }
        let mut broken = bundle.clone();
        broken.templates.remove("vpc.yaml");
        let refused = broken.catalog().unwrap_err().to_string();
        assert!(refused.contains("vpc.yaml"), "{refused}");
    }

    #[test]
    fn keys_are_content_addressed() {
        let a = Artifact::function(Function::Execute, b"one".to_vec());
        let b = Artifact::function(Function::Execute, b"two".to_vec());
        assert_ne!(a.key, b.key);
        assert_eq!(
            a.key,
            format!("functions/infra-agent-execute/{}.zip", sha256_hex(b"one"))
        );
        assert_eq!(a, Artifact::function(Function::Execute, b"one".to_vec()));
    }
}
