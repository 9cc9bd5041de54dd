//! Templates stored content-addressed in S3 (`templates/{stack}/{sha256}.yaml`), so a deployment
//! record names exactly what was deployed and can be deployed again.

use sha2::{Digest, Sha256};

use crate::contract::deploy::TemplateRef;
use crate::naming::StackKey;
use crate::StepError;

pub fn sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

pub fn template_key(stack: &StackKey, sha256: &str) -> String {
    format!("templates/{stack}/{sha256}.yaml")
}

/// Stores a template body (idempotent: the key is the content's hash).
pub async fn put_template(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    stack: &StackKey,
    body: &str,
) -> Result<TemplateRef, StepError> {
    let sha256 = sha256_hex(body.as_bytes());
    let key = template_key(stack, &sha256);
    s3.put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("application/x-yaml")
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .map_err(|e| StepError::from_sdk("s3", "PutObject", &e))?;
    Ok(TemplateRef {
        bucket: bucket.to_string(),
        key,
        sha256,
    })
}

/// Reads a stored template and checks it still has the hash it is filed under.
pub async fn get_template(
    s3: &aws_sdk_s3::Client,
    template: &TemplateRef,
) -> Result<String, StepError> {
    let unavailable = |reason: String| StepError::TemplateUnavailable {
        key: format!("s3://{}/{}", template.bucket, template.key),
        reason,
    };
    let out = s3
        .get_object()
        .bucket(&template.bucket)
        .key(&template.key)
        .send()
        .await
        .map_err(|e| match StepError::from_sdk("s3", "GetObject", &e) {
            transient @ StepError::Transient { .. } => transient,
            _ => unavailable(crate::error::sdk_message(&e)),
        })?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| unavailable(e.to_string()))?
        .into_bytes();
    let actual = sha256_hex(&bytes);
    if actual != template.sha256 {
        return Err(unavailable(format!(
            "content hash {actual} does not match the recorded {}",
            template.sha256
        )));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| unavailable("template is not UTF-8".into()))
}

/// An S3 URL CloudFormation can read a large template from.
pub fn template_url(template: &TemplateRef) -> String {
    format!(
        "https://{}.s3.amazonaws.com/{}",
        template.bucket, template.key
    )
}
