//! Templates are stored content-addressed (`templates/{stack}/{sha256}.yaml`), so a deployment
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

/// An S3 URL CloudFormation can read a large template from.
pub fn template_url(template: &TemplateRef) -> String {
    format!(
        "https://{}.s3.amazonaws.com/{}",
        template.bucket, template.key
    )
}

impl TemplateRef {
    /// The template cannot be used, and why.
    pub fn unavailable(&self, reason: String) -> StepError {
        StepError::TemplateUnavailable {
            key: format!("s3://{}/{}", self.bucket, self.key),
            reason,
        }
    }

    /// The stored body, if it still has the hash it is filed under and is text.
    pub fn verified_body(&self, bytes: &[u8]) -> Result<String, StepError> {
        let actual = sha256_hex(bytes);
        if actual != self.sha256 {
            return Err(self.unavailable(format!(
                "content hash {actual} does not match the recorded {}",
                self.sha256
            )));
        }
        String::from_utf8(bytes.to_vec())
            .map_err(|_| self.unavailable("template is not UTF-8".into()))
    }
}
