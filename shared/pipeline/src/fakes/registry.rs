//! The registry in memory: the resource types a test registers.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use infra_agent_core::StepError;

use crate::ports::{RegisteredType, TypeRegistry};

#[derive(Default)]
pub struct FakeRegistry {
    registered: Mutex<BTreeSet<String>>,
    /// Every type asked about, in order.
    pub asked: Mutex<Vec<String>>,
    /// Answer every question with an error (access denied, unreachable).
    pub failing: Mutex<bool>,
}

impl FakeRegistry {
    pub fn register(&self, type_name: &str) {
        self.registered
            .lock()
            .unwrap()
            .insert(type_name.to_string());
    }
}

#[async_trait]
impl TypeRegistry for FakeRegistry {
    async fn resource_type(&self, type_name: &str) -> Result<RegisteredType, StepError> {
        self.asked.lock().unwrap().push(type_name.to_string());
        if *self.failing.lock().unwrap() {
            return Err(StepError::Aws {
                service: "cloudformation",
                operation: "DescribeType",
                message: "AccessDenied".into(),
            });
        }
        Ok(if self.registered.lock().unwrap().contains(type_name) {
            RegisteredType::Live {
                arn: format!(
                    "arn:aws:cloudformation:us-east-1:123456789012:type/resource/{}",
                    type_name.replace("::", "-")
                ),
                default_version: Some("00000001".into()),
            }
        } else {
            RegisteredType::Missing {
                reason: "not registered in this account and region".into(),
            }
        })
    }
}
