//! Template storage in memory, content-addressed like the S3 adapter.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use infra_agent_core::contract::deploy::TemplateRef;
use infra_agent_core::deploy::templates::sha256_hex;
use infra_agent_core::StepError;

use crate::ports::TemplateStore;

#[derive(Default)]
pub struct MemoryTemplates {
    objects: Mutex<BTreeMap<(String, String), Vec<u8>>>,
}

impl MemoryTemplates {
    /// Replaces a stored object's bytes, as someone with write access to the bucket could.
    pub fn overwrite(&self, template: &TemplateRef, bytes: &[u8]) {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                (template.bucket.clone(), template.key.clone()),
                bytes.to_vec(),
            );
    }
}

#[async_trait]
impl TemplateStore for MemoryTemplates {
    async fn put_document(
        &self,
        bucket: &str,
        key: &str,
        body: &str,
    ) -> Result<TemplateRef, StepError> {
        let document = TemplateRef {
            bucket: bucket.to_string(),
            key: key.to_string(),
            sha256: sha256_hex(body.as_bytes()),
        };
        self.overwrite(&document, body.as_bytes());
        Ok(document)
    }

    async fn get_template(&self, template: &TemplateRef) -> Result<String, StepError> {
        let objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = objects
            .get(&(template.bucket.clone(), template.key.clone()))
            .ok_or_else(|| template.unavailable("NoSuchKey: the object does not exist".into()))?;
        template.verified_body(bytes)
    }
}
