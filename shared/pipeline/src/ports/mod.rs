//! What a step needs from AWS, as traits: stacks and drift detection (CloudFormation), records (DynamoDB),
//! notifications (SNS), Slack, template storage (S3), waiting executions (Step Functions) and prices.
//! `crate::aws` implements them with the SDK, `crate::fakes` in memory with the same semantics.

mod chat;
mod drift;
mod executions;
mod notifier;
mod registry;
mod stacks;
mod store;
mod templates;
mod unused;

use std::sync::Arc;

pub use chat::Chat;
pub use drift::{DetectionState, StackDrifts, StackResource};
pub use executions::{Executions, TaskOutcome, TaskResumed};
pub use infra_agent_core::cost::{PriceCache, PriceSource};
pub use notifier::{Notification, Notifier};
pub use registry::{RegisteredType, TypeRegistry};
pub use stacks::{ChangeSetSpec, ExecuteStart, Stacks};
pub use store::{Approvals, AuditTrail, Deployments, DriftRecords, Locks, Promotions, Runs, Store};
pub use templates::TemplateStore;
pub use unused::Unused;

use crate::settings::PipelineSettings;

/// Everything a step is handed: the ports and the pipeline's settings. Built once per process
/// (Lambda cold start, CLI run, local host) by `aws::connect`, or in memory by `fakes`.
#[derive(Clone)]
pub struct Pipeline {
    pub stacks: Arc<dyn Stacks>,
    /// CloudFormation's drift detection.
    pub drift: Arc<dyn StackDrifts>,
    pub store: Arc<dyn Store>,
    pub notifier: Arc<dyn Notifier>,
    pub templates: Arc<dyn TemplateStore>,
    pub executions: Arc<dyn Executions>,
    /// List prices (the Price List API, us-east-1 whatever the pipeline's region).
    pub prices: Arc<dyn PriceSource>,
    /// Slack (approval messages and their buttons' answers).
    pub chat: Arc<dyn Chat>,
    /// The account's CloudFormation registry (third-party resource types).
    pub registry: Arc<dyn TypeRegistry>,
    pub settings: PipelineSettings,
}

/// Where a function's ports come from: the SDK adapters in a Lambda binary, the in-memory fakes
/// in tests. Each function's wiring (`functions::wire_*`) takes only the ports its step uses.
pub trait Adapters {
    fn stacks(&self) -> Arc<dyn Stacks>;
    fn drift(&self) -> Arc<dyn StackDrifts>;
    fn store(&self) -> Arc<dyn Store>;
    fn notifier(&self) -> Arc<dyn Notifier>;
    fn templates(&self) -> Arc<dyn TemplateStore>;
    fn executions(&self) -> Arc<dyn Executions>;
    fn prices(&self) -> Arc<dyn PriceSource>;
    fn chat(&self) -> Arc<dyn Chat>;
    fn registry(&self) -> Arc<dyn TypeRegistry>;
    fn settings(&self) -> PipelineSettings;
}

impl Pipeline {
    /// A pipeline wired with nothing yet: each function's wiring replaces the ports it uses.
    pub fn unwired(settings: PipelineSettings) -> Pipeline {
        Pipeline {
            stacks: Arc::new(Unused),
            drift: Arc::new(Unused),
            store: Arc::new(Unused),
            notifier: Arc::new(Unused),
            templates: Arc::new(Unused),
            executions: Arc::new(Unused),
            prices: Arc::new(Unused),
            chat: Arc::new(Unused),
            registry: Arc::new(Unused),
            settings,
        }
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
