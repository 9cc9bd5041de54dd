//! The registry port over CloudFormation's `DescribeType`.

use async_trait::async_trait;
use aws_sdk_cloudformation::types::{DeprecatedStatus, RegistryType};
use aws_sdk_cloudformation::Client;
use infra_agent_core::StepError;

use super::error::{from_sdk, sdk_code};
use crate::ports::{RegisteredType, TypeRegistry};

pub struct Registry {
    client: Client,
}

impl Registry {
    pub fn new(client: Client) -> Self {
        Registry { client }
    }
}

#[async_trait]
impl TypeRegistry for Registry {
    async fn resource_type(&self, type_name: &str) -> Result<RegisteredType, StepError> {
        match self
            .client
            .describe_type()
            .r#type(RegistryType::Resource)
            .type_name(type_name)
            .send()
            .await
        {
            Ok(found) if found.deprecated_status() == Some(&DeprecatedStatus::Deprecated) => {
                Ok(RegisteredType::Missing {
                    reason: "deregistered (DEPRECATED) in this account and region".into(),
                })
            }
            Ok(found) => Ok(RegisteredType::Live {
                arn: found.arn().unwrap_or_default().to_string(),
                default_version: found.default_version_id().map(str::to_string),
            }),
            Err(e) if sdk_code(&e) == Some("TypeNotFoundException") => {
                Ok(RegisteredType::Missing {
                    reason: "not registered in this account and region".into(),
                })
            }
            Err(e) => Err(from_sdk("cloudformation", "DescribeType", &e)),
        }
    }
}
