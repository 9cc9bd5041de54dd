//! A port a function does not use. Each Lambda binary wires only the adapters its step needs
//! (so it links only those SDK clients) and this in place of the rest; a call reaching it is a
//! wiring mistake, reported as a configuration error naming the port.

use std::collections::BTreeMap;

use async_trait::async_trait;
use infra_agent_core::contract::approval::TaskToken;
use infra_agent_core::contract::deploy::TemplateRef;
use infra_agent_core::cost::price_list::{ListedPrice, PriceApiError, ProductQuery};
use infra_agent_core::cost::{CachedPrice, PriceCache, PriceSource};
use infra_agent_core::drift::ResourceDrift;
use infra_agent_core::naming::Env;
use infra_agent_core::records::{
    ApprovalRecord, ApprovalStatus, AuditEntry, DecideError, DeploymentRecord, DriftHead,
    DriftRecord, DriftScan, EnvironmentRun, PromotionRecord, StackHead, StackLock,
};
use infra_agent_core::stack::{ChangeSetView, StackEvent, StackState};
use infra_agent_core::StepError;

use super::{
    Approvals, AuditTrail, ChangeSetSpec, Chat, Deployments, DetectionState, DriftRecords,
    ExecuteStart, Executions, Locks, Notification, Notifier, Promotions, RegisteredType, Runs,
    StackDrifts, Stacks, TaskOutcome, TaskResumed, TemplateStore, TypeRegistry,
};

/// Stands in for every port a function was not wired with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unused;

fn missing<T>(port: &str) -> Result<T, StepError> {
    Err(StepError::Configuration(format!(
        "this function is not wired with the {port} port"
    )))
}

#[async_trait]
impl Stacks for Unused {
    async fn describe_stack(&self, _: &str) -> Result<Option<StackState>, StepError> {
        missing("stacks")
    }
    async fn stack_outputs(&self, _: &str) -> Result<BTreeMap<String, String>, StepError> {
        missing("stacks")
    }
    async fn create_change_set(&self, _: &ChangeSetSpec<'_>) -> Result<(), StepError> {
        missing("stacks")
    }
    async fn describe_change_set(&self, _: &str, _: &str) -> Result<ChangeSetView, StepError> {
        missing("stacks")
    }
    async fn delete_change_set(&self, _: &str, _: &str) -> Result<(), StepError> {
        missing("stacks")
    }
    async fn execute_change_set(&self, _: &str, _: &str) -> Result<ExecuteStart, StepError> {
        missing("stacks")
    }
    async fn delete_stack(&self, _: &str) -> Result<(), StepError> {
        missing("stacks")
    }
    async fn latest_operation_events(&self, _: &str) -> Result<Vec<StackEvent>, StepError> {
        missing("stacks")
    }
}

#[async_trait]
impl StackDrifts for Unused {
    async fn stack_outputs(&self, _: &str) -> Result<BTreeMap<String, String>, StepError> {
        missing("drift")
    }
    async fn stack_resources(&self, _: &str) -> Result<Vec<super::StackResource>, StepError> {
        missing("drift")
    }
    async fn resource_drift(&self, _: &str, _: &str) -> Result<ResourceDrift, StepError> {
        missing("drift")
    }
    async fn describe_stack(&self, _: &str) -> Result<Option<StackState>, StepError> {
        missing("drift")
    }
    async fn detect_stack_drift(&self, _: &str) -> Result<String, StepError> {
        missing("drift")
    }
    async fn detection_status(&self, _: &str) -> Result<DetectionState, StepError> {
        missing("drift")
    }
    async fn resource_drifts(&self, _: &str) -> Result<Vec<ResourceDrift>, StepError> {
        missing("drift")
    }
}

#[async_trait]
impl DriftRecords for Unused {
    async fn put_scan(&self, _: &DriftScan) -> Result<(), StepError> {
        missing("records")
    }
    async fn scan(&self, _: Env, _: &str) -> Result<Option<DriftScan>, StepError> {
        missing("records")
    }
    async fn put_drift(&self, _: &DriftRecord) -> Result<(), StepError> {
        missing("records")
    }
    async fn drift(
        &self,
        _: Env,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<Option<DriftRecord>, StepError> {
        missing("records")
    }
    async fn drift_history(
        &self,
        _: Env,
        _: &str,
        _: Option<i32>,
    ) -> Result<Vec<DriftRecord>, StepError> {
        missing("records")
    }
    async fn drift_heads(&self, _: Env) -> Result<Vec<DriftHead>, StepError> {
        missing("records")
    }
}

#[async_trait]
impl Promotions for Unused {
    async fn put_promotion(&self, _: &PromotionRecord) -> Result<(), StepError> {
        missing("records")
    }
    async fn promotion(&self, _: Env, _: &str) -> Result<Option<PromotionRecord>, StepError> {
        missing("records")
    }
}

#[async_trait]
impl Locks for Unused {
    async fn acquire_lock(&self, _: &StackLock, _: i64) -> Result<(), StepError> {
        missing("records")
    }
    async fn release_lock(&self, _: Env, _: &str, _: &str) -> Result<bool, StepError> {
        missing("records")
    }
    async fn lock(&self, _: Env, _: &str) -> Result<Option<StackLock>, StepError> {
        missing("records")
    }
}

#[async_trait]
impl Approvals for Unused {
    async fn put_approval(&self, _: &ApprovalRecord) -> Result<(), StepError> {
        missing("records")
    }
    async fn approval(&self, _: &str) -> Result<Option<ApprovalRecord>, StepError> {
        missing("records")
    }
    async fn add_approver(
        &self,
        _: &str,
        _: &str,
        _: i64,
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError> {
        missing("records")
    }
    async fn withdraw_approver(&self, _: &str, _: &str) -> Result<(), StepError> {
        missing("records")
    }
    async fn decide_approval(
        &self,
        _: &str,
        _: ApprovalStatus,
        _: &str,
        _: Option<&str>,
        _: (&str, i64),
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError> {
        missing("records")
    }
    async fn consume_approval(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError> {
        missing("records")
    }
    async fn mark_approval_expired(&self, _: &str) -> Result<(), StepError> {
        missing("records")
    }
}

#[async_trait]
impl Deployments for Unused {
    async fn put_deployment(&self, _: &DeploymentRecord) -> Result<(), StepError> {
        missing("records")
    }
    async fn deployment(
        &self,
        _: Env,
        _: &str,
        _: &str,
    ) -> Result<Option<DeploymentRecord>, StepError> {
        missing("records")
    }
    async fn history(
        &self,
        _: Env,
        _: &str,
        _: Option<i32>,
    ) -> Result<Vec<DeploymentRecord>, StepError> {
        missing("records")
    }
    async fn environment_status(&self, _: Env) -> Result<Vec<StackHead>, StepError> {
        missing("records")
    }
    async fn next_change_set_sequence(&self, _: Env, _: &str, _: &str) -> Result<u32, StepError> {
        missing("records")
    }
}

#[async_trait]
impl Runs for Unused {
    async fn put_environment_run(&self, _: &EnvironmentRun) -> Result<(), StepError> {
        missing("records")
    }
    async fn environment_run(&self, _: Env, _: &str) -> Result<Option<EnvironmentRun>, StepError> {
        missing("records")
    }
    async fn environment_runs(
        &self,
        _: Env,
        _: Option<i32>,
    ) -> Result<Vec<EnvironmentRun>, StepError> {
        missing("records")
    }
}

#[async_trait]
impl AuditTrail for Unused {
    async fn audit(&self, _: &AuditEntry) -> Result<(), StepError> {
        missing("records")
    }
    async fn audit_trail(&self, _: Env, _: &str) -> Result<Vec<AuditEntry>, StepError> {
        missing("records")
    }
}

#[async_trait]
impl PriceCache for Unused {
    async fn cached_prices(
        &self,
        _: &str,
        _: &[String],
        _: i64,
    ) -> Result<BTreeMap<String, CachedPrice>, StepError> {
        missing("records")
    }
    async fn cache_price(&self, _: &CachedPrice) -> Result<(), StepError> {
        missing("records")
    }
}

#[async_trait]
impl Notifier for Unused {
    async fn publish(&self, _: &str, _: &Notification) -> Result<Option<String>, StepError> {
        missing("notifications")
    }
}

#[async_trait]
impl TypeRegistry for Unused {
    async fn resource_type(&self, _: &str) -> Result<RegisteredType, StepError> {
        missing("registry")
    }
}

#[async_trait]
impl Chat for Unused {
    async fn credentials(
        &self,
    ) -> Result<Option<infra_agent_core::approval::slack::SlackCredentials>, StepError> {
        missing("chat")
    }
    async fn post(
        &self,
        _: &infra_agent_core::approval::slack::SlackCredentials,
        _: &str,
        _: &serde_json::Value,
    ) -> Result<(), StepError> {
        missing("chat")
    }
    async fn respond(&self, _: &str, _: &serde_json::Value) -> Result<(), StepError> {
        missing("chat")
    }
}

#[async_trait]
impl TemplateStore for Unused {
    async fn put_document(&self, _: &str, _: &str, _: &str) -> Result<TemplateRef, StepError> {
        missing("templates")
    }
    async fn get_template(&self, _: &TemplateRef) -> Result<String, StepError> {
        missing("templates")
    }
}

#[async_trait]
impl Executions for Unused {
    async fn resume(&self, _: &TaskToken, _: &TaskOutcome) -> Result<TaskResumed, StepError> {
        missing("executions")
    }
}

#[async_trait]
impl PriceSource for Unused {
    async fn listed_price(&self, query: &ProductQuery) -> Result<ListedPrice, PriceApiError> {
        Err(PriceApiError::Call {
            service_code: query.service_code.to_string(),
            filters: String::new(),
            message: "this function is not wired with the prices port".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_to_an_unwired_port_names_it() {
        let err = Stacks::describe_stack(&Unused, "s").await.unwrap_err();
        assert_eq!(err.error_type(), "ConfigurationError");
        assert!(err.to_string().contains("stacks port"), "{err}");
    }
}
