//! The approval link's signing key in Secrets Manager, read once per cold start: the current
//! version signs, and the previous one (after a rotation) still verifies links signed before it.

use aws_sdk_secretsmanager::Client;
use infra_agent_core::StepError;

use super::error::{sdk_code, sdk_message};
use crate::settings::{PipelineSettings, VAR_APPROVAL_KEY_SECRET};

/// The signing key's current value and, once it was rotated, the previous one.
pub struct SigningKeys {
    pub current: String,
    pub previous: Option<String>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKeys(..)")
    }
}

pub async fn signing_keys(
    config: &aws_config::SdkConfig,
    secret_id: &str,
) -> Result<SigningKeys, StepError> {
    let client = Client::new(config);
    let current = stage(&client, secret_id, "AWSCURRENT")
        .await?
        .ok_or_else(|| {
            StepError::Configuration(format!("secret {secret_id} has no current value"))
        })?;
    let previous = stage(&client, secret_id, "AWSPREVIOUS").await?;
    Ok(SigningKeys { current, previous })
}

/// The value of one version stage; `None` when no version carries it.
async fn stage(client: &Client, secret_id: &str, stage: &str) -> Result<Option<String>, StepError> {
    match client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await
    {
        Ok(value) => Ok(value.secret_string),
        Err(e) if sdk_code(&e) == Some("ResourceNotFoundException") && stage != "AWSCURRENT" => {
            Ok(None)
        }
        Err(e) => Err(StepError::Configuration(format!(
            "cannot read the approval signing key {secret_id} ({stage}): {}",
            sdk_message(&e)
        ))),
    }
}

/// The settings of a function as its environment gives them, with the signing key read from its
/// secret when the environment names the secret rather than the key (`infra/pipeline.yaml`).
pub async fn load_settings(
    config: &aws_config::SdkConfig,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<PipelineSettings, StepError> {
    let settings = PipelineSettings::from_lookup(&lookup)?;
    let secret = lookup(VAR_APPROVAL_KEY_SECRET).filter(|s| !s.trim().is_empty());
    match (&settings.approval_key, secret) {
        (None, Some(secret)) => {
            let keys = signing_keys(config, &secret).await?;
            settings.with_signing_keys(&keys.current, keys.previous.as_deref())
        }
        _ => Ok(settings),
    }
}
