//! What a step needs from AWS, as traits: stacks (CloudFormation), records (DynamoDB),
//! notifications (SNS), template storage (S3), waiting executions (Step Functions) and prices.
//! `crate::aws` implements them with the SDK, `crate::fakes` in memory with the same semantics.

mod executions;
mod notifier;
mod stacks;
mod store;
mod templates;

use std::sync::Arc;

pub use executions::{Executions, TaskOutcome, TaskResumed};
pub use infra_agent_core::cost::{PriceCache, PriceSource};
pub use notifier::{Notification, Notifier};
pub use stacks::{ChangeSetSpec, ExecuteStart, Stacks};
pub use store::{Approvals, AuditTrail, Deployments, Locks, Runs, Store};
pub use templates::TemplateStore;

use crate::settings::PipelineSettings;

/// Everything a step is handed: the ports and the pipeline's settings. Built once per process
/// (Lambda cold start, CLI run, local host) by `aws::connect`, or in memory by `fakes`.
#[derive(Clone)]
pub struct Pipeline {
    pub stacks: Arc<dyn Stacks>,
    pub store: Arc<dyn Store>,
    pub notifier: Arc<dyn Notifier>,
    pub templates: Arc<dyn TemplateStore>,
    pub executions: Arc<dyn Executions>,
    /// List prices (the Price List API, us-east-1 whatever the pipeline's region).
    pub prices: Arc<dyn PriceSource>,
    pub settings: PipelineSettings,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
