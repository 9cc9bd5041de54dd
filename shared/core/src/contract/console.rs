//! What a person gives a state machine when starting it from the Step Functions console: the
//! stack and environment (`{"stack": "vpc", "env": "dev"}`), optionally a template stored by
//! infra-agent; or just the environment for deploy-environment (`{"env": "dev"}`). The machine's
//! first state expands it into the full request and hands it to a new execution named as the
//! CLI names its own, so records, `infra-agent wait` and the reconciler treat both alike.

use serde::{Deserialize, Serialize};

use super::deploy::TemplateRef;
use crate::naming::{Env, StackKey};

/// `{"stack": "vpc", "env": "dev"}` for the deploy machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleDeploy {
    pub stack: StackKey,
    pub env: Env,
    /// A template stored by infra-agent instead of the installed catalog's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateLocation>,
}

/// `{"env": "dev"}` for the deploy-environment machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleEnvironment {
    pub env: Env,
}

/// Where a template is: in the pipeline's template bucket under its content hash
/// (`templates/<stack>/<sha256>.yaml`, as `history` shows), or with the hash given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateLocation {
    pub bucket: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl TemplateLocation {
    /// The template as a record names it: its hash given, or read from a content-addressed key.
    /// `None` when neither tells it (the template's integrity could not be checked).
    pub fn template_ref(&self) -> Option<TemplateRef> {
        let sha256 = match &self.sha256 {
            Some(sha) => sha.clone(),
            None => content_hash_of_key(&self.key)?,
        };
        Some(TemplateRef {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            sha256,
        })
    }
}

/// The sha256 a content-addressed key carries as its file name (`…/<64 hex>.<ext>`).
pub fn content_hash_of_key(key: &str) -> Option<String> {
    let file = key.rsplit('/').next()?;
    let stem = file.split('.').next()?;
    (stem.len() == 64 && stem.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| stem.to_ascii_lowercase())
}

/// What the expanding state answers: the execution that now runs the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    /// The new execution's name: the deployment id (or the run id).
    pub execution_name: String,
    pub requested_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_input_is_read_strictly() {
        let ok: ConsoleDeploy = serde_json::from_str(r#"{"stack": "vpc", "env": "dev"}"#).unwrap();
        assert_eq!(ok.env, Env::Dev);
        let unknown_env = serde_json::from_str::<ConsoleDeploy>(r#"{"stack": "vpc", "env": "qa"}"#)
            .unwrap_err()
            .to_string();
        assert!(unknown_env.contains("qa"), "{unknown_env}");
        let typo =
            serde_json::from_str::<ConsoleDeploy>(r#"{"stack": "vpc", "environment": "dev"}"#)
                .unwrap_err()
                .to_string();
        assert!(typo.contains("environment"), "{typo}");
    }

    #[test]
    fn a_content_addressed_key_tells_its_hash_and_another_key_does_not() {
        let sha = "a".repeat(64);
        let stored = TemplateLocation {
            bucket: "b".into(),
            key: format!("templates/vpc/{sha}.yaml"),
            sha256: None,
        };
        assert_eq!(stored.template_ref().unwrap().sha256, sha);
        let named = TemplateLocation {
            key: "vpc.yaml".into(),
            ..stored.clone()
        };
        assert_eq!(named.template_ref(), None);
        let given = TemplateLocation {
            sha256: Some("b".repeat(64)),
            ..named
        };
        assert_eq!(given.template_ref().unwrap().sha256, "b".repeat(64));
    }
}
