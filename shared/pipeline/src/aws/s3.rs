//! The S3 adapter of the template storage port: bodies under their content hash, checked on read.

use async_trait::async_trait;
use infra_agent_core::contract::deploy::TemplateRef;
use infra_agent_core::deploy::templates::sha256_hex;
use infra_agent_core::StepError;

use super::error::{from_sdk, sdk_message};
use crate::ports::TemplateStore;

#[derive(Debug, Clone)]
pub struct S3Templates {
    client: aws_sdk_s3::Client,
}

impl S3Templates {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        S3Templates { client }
    }
}

/// An S3 client; behind a custom endpoint (an emulator) buckets are addressed by path, not by
/// virtual host.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build(),
    )
}

#[async_trait]
impl TemplateStore for S3Templates {
    async fn put_document(
        &self,
        bucket: &str,
        key: &str,
        body: &str,
    ) -> Result<TemplateRef, StepError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .map_err(|e| from_sdk("s3", "PutObject", &e))?;
        Ok(TemplateRef {
            bucket: bucket.to_string(),
            key: key.to_string(),
            sha256: sha256_hex(body.as_bytes()),
        })
    }

    async fn get_template(&self, template: &TemplateRef) -> Result<String, StepError> {
        let out = self
            .client
            .get_object()
            .bucket(&template.bucket)
            .key(&template.key)
            .send()
            .await
            .map_err(|e| match from_sdk("s3", "GetObject", &e) {
                transient @ StepError::Transient { .. } => transient,
                _ => template.unavailable(sdk_message(&e)),
            })?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| template.unavailable(e.to_string()))?
            .into_bytes();
        template.verified_body(&bytes)
    }
}
