//! The first state of an execution started from the Step Functions console with only
//! `{"stack": "vpc", "env": "dev"}` (or `{"env": "dev"}`): the input is expanded into the request
//! the CLI would have sent, from the catalog this pipeline version installed, and handed to a new
//! execution named as the CLI names its own.

use infra_agent_core::catalog::{Catalog, CatalogStack};
use infra_agent_core::contract::console::{ConsoleDeploy, ConsoleEnvironment, TemplateLocation};
use infra_agent_core::contract::deploy::{DeployRequest, TemplateRef};
use infra_agent_core::contract::environment::{EnvironmentRequest, PlannedStack};
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::install::CatalogBundle;
use infra_agent_core::naming::{new_execution_name, Env, StackKey};
use infra_agent_core::StepError;

use super::environment::deployed_outputs;
use crate::ports::Pipeline;

/// Who a console execution was started by, as recorded: Step Functions does not tell a state
/// machine who started it.
pub const CONSOLE: &str = "console";
/// The stack part of an environment run's id (`{env}-all-{timestamp}-{id}`), as the CLI names it.
pub const ENVIRONMENT_RUN: &str = "all";

fn invalid(message: String) -> StepError {
    StepError::InvalidEvent {
        step: "expand",
        message,
    }
}

pub async fn expand_deploy(
    pipeline: &Pipeline,
    start: &ConsoleDeploy,
) -> Result<DeployRequest, StepError> {
    let bundle = installed_bundle(pipeline).await?;
    let catalog = checked_catalog(&bundle, start.env)?;
    let entry = catalog.stack(&start.stack).ok_or_else(|| {
        let known: Vec<&str> = catalog.stacks().map(|s| s.key.as_str()).collect();
        invalid(format!(
            "stack {} is not in the installed catalog; its stacks are {}",
            start.stack,
            known.join(", ")
        ))
    })?;
    let template = match &start.template {
        Some(location) => stored_template(pipeline, &start.stack, location).await?,
        None => store_catalog_template(pipeline, &bundle, entry).await?,
    };
    let outputs = deployed_outputs(
        pipeline.stacks.as_ref(),
        start.env,
        catalog.upstream(&start.stack).iter(),
    )
    .await?;
    let parameters = catalog
        .resolve_parameters(&start.stack, &outputs)
        .map_err(|e| invalid(format!("{} in {}: {e}", start.stack, start.env)))?;
    Ok(DeployRequest {
        promoted_from: None,
        returns_to: None,
        kind: Default::default(),
        version: CONTRACT_VERSION,
        deployment_id: new_execution_name(start.env, &start.stack),
        stack: start.stack.clone(),
        env: start.env,
        template,
        requested_by: CONSOLE.into(),
        iac_version: bundle.version,
        parameters,
        approval_timeout_seconds: None,
    })
}

pub async fn expand_environment(
    pipeline: &Pipeline,
    start: &ConsoleEnvironment,
) -> Result<EnvironmentRequest, StepError> {
    let bundle = installed_bundle(pipeline).await?;
    let catalog = checked_catalog(&bundle, start.env)?;
    let mut waves = Vec::new();
    for wave in catalog.waves() {
        let mut planned = Vec::new();
        for key in wave {
            let Some(entry) = catalog.stack(key) else {
                continue;
            };
            planned.push(PlannedStack {
                stack: key.clone(),
                template: store_catalog_template(pipeline, &bundle, entry).await?,
                upstreams: entry.upstreams().cloned().collect(),
                wiring: entry.wiring.clone(),
                skip: None,
            });
        }
        waves.push(planned);
    }
    let run: StackKey = ENVIRONMENT_RUN
        .parse()
        .map_err(|e| StepError::Configuration(format!("{e}")))?;
    Ok(EnvironmentRequest {
        version: CONTRACT_VERSION,
        run_id: new_execution_name(start.env, &run),
        env: start.env,
        requested_by: CONSOLE.into(),
        iac_version: bundle.version,
        approval_timeout_seconds: None,
        waves,
    })
}

/// The catalog bundle `infra-agent install` uploaded, its content checked against its key.
pub(crate) async fn installed_bundle(pipeline: &Pipeline) -> Result<CatalogBundle, StepError> {
    let location = pipeline.settings.catalog.as_ref().ok_or_else(|| {
        StepError::Configuration(
            "no installed catalog (INFRA_AGENT_CATALOG): start executions with a full request, or install the pipeline with `infra-agent install`".into(),
        )
    })?;
    let text = pipeline.templates.get_template(location).await?;
    serde_json::from_str(&text).map_err(|e| {
        StepError::Configuration(format!(
            "the installed catalog s3://{}/{} is not a catalog bundle: {e}",
            location.bucket, location.key
        ))
    })
}

/// The bundled template of a catalog stack, stored where deployments read templates.
async fn store_catalog_template(
    pipeline: &Pipeline,
    bundle: &CatalogBundle,
    entry: &CatalogStack,
) -> Result<TemplateRef, StepError> {
    let body = bundle.template(&entry.template).ok_or_else(|| {
        StepError::Configuration(format!(
            "the installed catalog has no template {}",
            entry.template.display()
        ))
    })?;
    pipeline
        .templates
        .put_template(pipeline.settings.template_bucket()?, &entry.key, body)
        .await
}

fn checked_catalog(bundle: &CatalogBundle, env: Env) -> Result<Catalog, StepError> {
    let catalog = bundle
        .catalog()
        .map_err(|e| StepError::Configuration(format!("the installed catalog: {e}")))?;
    let config =
        EnvironmentConfig::builtin(env).map_err(|e| StepError::Configuration(e.to_string()))?;
    catalog
        .check_environment(&config)
        .map_err(|e| StepError::Configuration(e.to_string()))?;
    Ok(catalog)
}

/// A template named by the console input: only from the pipeline's template bucket, and only with
/// a hash to check it by.
async fn stored_template(
    pipeline: &Pipeline,
    stack: &StackKey,
    location: &TemplateLocation,
) -> Result<TemplateRef, StepError> {
    let bucket = pipeline.settings.template_bucket()?;
    if location.bucket != bucket {
        return Err(invalid(format!(
            "template bucket {} is not the pipeline's template bucket {bucket}",
            location.bucket
        )));
    }
    let reference = location.template_ref().ok_or_else(|| {
        invalid(format!(
            "template key {} names no content hash: give a key infra-agent stored (templates/{stack}/<sha256>.yaml) or its sha256",
            location.key
        ))
    })?;
    // Read once to check it exists and matches its hash before anything starts.
    pipeline.templates.get_template(&reference).await?;
    Ok(reference)
}

#[cfg(test)]
mod tests {
    use infra_agent_core::deploy::templates::sha256_hex;
    use infra_agent_core::install::Artifact;
    use infra_agent_core::naming::parse_deployment_id;

    use super::*;
    use crate::fakes::Fakes;
    use crate::functions;
    use crate::ports::TemplateStore;

    const ARTIFACTS: &str = "infra-agent-artifacts-test";

    fn bundle() -> CatalogBundle {
        let catalog =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/catalog.toml");
        CatalogBundle::read(&catalog, "9.9.9").unwrap()
    }

    /// The record function's pipeline with the bundle installed as `install` uploads it.
    async fn installed(fakes: &Fakes) -> Pipeline {
        let artifact = Artifact::catalog(&bundle());
        let text = String::from_utf8(artifact.bytes.clone()).unwrap();
        let stored = fakes
            .templates
            .put_document(ARTIFACTS, &artifact.key, &text)
            .await
            .unwrap();
        let mut pipeline = functions::wire_record(fakes);
        pipeline.settings.catalog = Some(stored);
        pipeline
    }

    fn console(stack: &str) -> ConsoleDeploy {
        serde_json::from_value(serde_json::json!({"stack": stack, "env": "dev"})).unwrap()
    }

    #[tokio::test]
    async fn stack_and_environment_expand_into_the_installed_catalogs_request() {
        let fakes = Fakes::new();
        let pipeline = installed(&fakes).await;

        let request = expand_deploy(&pipeline, &console("vpc")).await.unwrap();

        let vpc = bundle().templates["vpc.yaml"].clone();
        assert_eq!(request.template.sha256, sha256_hex(vpc.as_bytes()));
        assert_eq!(
            fakes
                .templates
                .get_template(&request.template)
                .await
                .unwrap(),
            vpc,
            "the catalog's template is stored where the deployment reads it"
        );
        assert_eq!(request.requested_by, CONSOLE);
        assert_eq!(request.iac_version, "9.9.9");
        let (env, stack) = parse_deployment_id(&request.deployment_id).unwrap();
        assert_eq!((env, stack.as_str()), (Env::Dev, "vpc"));
    }

    #[tokio::test]
    async fn an_unknown_stack_is_refused_naming_the_known_ones() {
        let fakes = Fakes::new();
        let pipeline = installed(&fakes).await;

        let refused = expand_deploy(&pipeline, &console("database"))
            .await
            .unwrap_err()
            .to_string();

        assert!(refused.contains("database"), "{refused}");
        assert!(refused.contains("vpc"), "{refused}");
    }

    #[tokio::test]
    async fn a_stack_whose_upstream_is_not_deployed_is_refused() {
        let fakes = Fakes::new();
        let pipeline = installed(&fakes).await;

        let refused = expand_deploy(&pipeline, &console("security-groups"))
            .await
            .unwrap_err()
            .to_string();

        assert!(refused.contains("vpc"), "{refused}");
    }

    #[tokio::test]
    async fn a_named_template_must_be_in_the_template_bucket_under_its_hash() {
        let fakes = Fakes::new();
        let pipeline = installed(&fakes).await;
        let stored = fakes
            .templates
            .put_template(
                pipeline.settings.template_bucket().unwrap(),
                &"vpc".parse().unwrap(),
                "Resources: {}",
            )
            .await
            .unwrap();
        let with = |bucket: &str, key: &str| ConsoleDeploy {
            template: Some(TemplateLocation {
                bucket: bucket.into(),
                key: key.into(),
                sha256: None,
            }),
            ..console("vpc")
        };

        let request = expand_deploy(&pipeline, &with(&stored.bucket, &stored.key))
            .await
            .unwrap();
        assert_eq!(request.template, stored);
        let elsewhere = expand_deploy(&pipeline, &with("someone-elses", &stored.key))
            .await
            .unwrap_err()
            .to_string();
        assert!(elsewhere.contains("someone-elses"), "{elsewhere}");
        let unhashed = expand_deploy(&pipeline, &with(&stored.bucket, "vpc.yaml"))
            .await
            .unwrap_err()
            .to_string();
        assert!(unhashed.contains("content hash"), "{unhashed}");
    }

    #[tokio::test]
    async fn an_environment_expands_into_its_waves_with_every_template_stored() {
        let fakes = Fakes::new();
        let mut pipeline = functions::wire_environment(&fakes);
        pipeline.settings.catalog = installed(&fakes).await.settings.catalog;

        let request = expand_environment(&pipeline, &ConsoleEnvironment { env: Env::Tst })
            .await
            .unwrap();

        let catalog = bundle().catalog().unwrap();
        assert_eq!(request.waves.len(), catalog.waves().len());
        for stack in request.waves.iter().flatten() {
            fakes.templates.get_template(&stack.template).await.unwrap();
        }
        assert!(request.run_id.starts_with("tst-all-"), "{}", request.run_id);
    }

    #[tokio::test]
    async fn without_an_installed_catalog_console_input_is_a_configuration_error() {
        let fakes = Fakes::new();
        let refused = expand_deploy(&functions::wire_record(&fakes), &console("vpc"))
            .await
            .unwrap_err();
        assert!(matches!(refused, StepError::Configuration(_)), "{refused}");
    }
}
