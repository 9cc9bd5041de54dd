//! The CloudFormation registry of the account and region: whether a third-party resource type the
//! bundled schemas do not know is registered where the stack will be deployed.

use async_trait::async_trait;
use infra_agent_core::StepError;

/// What the registry says of a resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisteredType {
    /// Registered and usable: its ARN and default version, as the registry gives them.
    Live {
        arn: String,
        default_version: Option<String>,
    },
    /// Not registered (or deregistered): CloudFormation would refuse a stack that uses it.
    Missing { reason: String },
}

#[async_trait]
pub trait TypeRegistry: Send + Sync {
    /// `DescribeType` of resource type `type_name`.
    async fn resource_type(&self, type_name: &str) -> Result<RegisteredType, StepError>;
}
