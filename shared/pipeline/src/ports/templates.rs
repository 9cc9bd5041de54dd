//! The template storage port: bodies stored under their content hash (S3).

use async_trait::async_trait;
use infra_agent_core::contract::deploy::TemplateRef;
use infra_agent_core::deploy::templates::{sha256_hex, template_key};
use infra_agent_core::naming::StackKey;
use infra_agent_core::StepError;

#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Stores a template body under `templates/{stack}/{sha256}.yaml` (idempotent).
    async fn put_template(
        &self,
        bucket: &str,
        stack: &StackKey,
        body: &str,
    ) -> Result<TemplateRef, StepError> {
        let key = template_key(stack, &sha256_hex(body.as_bytes()));
        self.put_document(bucket, &key, body).await
    }

    /// Stores a document (a report) under `key`, hashed so that a read can verify it.
    async fn put_document(
        &self,
        bucket: &str,
        key: &str,
        body: &str,
    ) -> Result<TemplateRef, StepError>;

    /// Reads a stored template; `TemplateUnavailable` when it is missing or its content no longer
    /// has the hash it is filed under.
    async fn get_template(&self, template: &TemplateRef) -> Result<String, StepError>;
}
