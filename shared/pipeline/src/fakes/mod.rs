//! In-memory ports for tests: the store keeps DynamoDB's conditional-write semantics exactly as the
//! adapter relies on them, so the rules that keep deployments safe are tested without an emulator.

mod chat;
mod drift;
mod executions;
mod notifier;
mod registry;
mod stacks;
mod store;
mod templates;

use std::sync::Arc;

use infra_agent_core::approval::link::SigningKey;
use infra_agent_core::contract::approval::TaskToken;
use infra_agent_core::contract::deploy::{DeployRequest, TemplateRef};
use infra_agent_core::contract::CONTRACT_VERSION;
use infra_agent_core::cost::price_list::{ListedPrice, PriceApiError, ProductQuery};
use infra_agent_core::cost::PriceSource;
use infra_agent_core::naming::Env;
use infra_agent_core::records::{ApprovalKind, ApprovalRecord, ApprovalStatus};

pub use chat::RecordingChat;
pub use drift::FakeDrift;
pub use executions::RecordingExecutions;
pub use notifier::RecordingNotifier;
pub use registry::FakeRegistry;
pub use stacks::FakeStacks;
pub use store::MemoryStore;
pub use templates::MemoryTemplates;

use crate::ports::{
    Adapters, Chat, Executions, Notifier, Pipeline, StackDrifts, Stacks, Store, TemplateStore,
    TypeRegistry,
};
use crate::settings::PipelineSettings;

/// Every port in memory, kept so a test can look at what a step did.
#[derive(Clone)]
pub struct Fakes {
    pub stacks: Arc<FakeStacks>,
    pub drift: Arc<FakeDrift>,
    pub store: Arc<MemoryStore>,
    pub notifier: Arc<RecordingNotifier>,
    pub templates: Arc<MemoryTemplates>,
    pub executions: Arc<RecordingExecutions>,
    pub chat: Arc<RecordingChat>,
    pub registry: Arc<FakeRegistry>,
}

impl Default for Fakes {
    fn default() -> Self {
        let stacks = Arc::new(FakeStacks::default());
        Fakes {
            drift: Arc::new(FakeDrift::over(stacks.clone())),
            stacks,
            store: Arc::default(),
            notifier: Arc::default(),
            templates: Arc::default(),
            executions: Arc::default(),
            chat: Arc::default(),
            registry: Arc::default(),
        }
    }
}

impl Fakes {
    pub fn new() -> Self {
        Fakes::default()
    }

    /// A pipeline over these fakes; prices come from the offline book (the API is unreachable).
    pub fn pipeline(&self) -> Pipeline {
        Pipeline {
            stacks: self.stacks.clone(),
            drift: self.drift.clone(),
            store: self.store.clone(),
            notifier: self.notifier.clone(),
            templates: self.templates.clone(),
            executions: self.executions.clone(),
            prices: Arc::new(Unreachable),
            chat: self.chat.clone(),
            registry: self.registry.clone(),
            settings: settings(),
        }
    }
}

impl Adapters for Fakes {
    fn stacks(&self) -> Arc<dyn Stacks> {
        self.stacks.clone()
    }
    fn drift(&self) -> Arc<dyn StackDrifts> {
        self.drift.clone()
    }
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
    fn notifier(&self) -> Arc<dyn Notifier> {
        self.notifier.clone()
    }
    fn templates(&self) -> Arc<dyn TemplateStore> {
        self.templates.clone()
    }
    fn executions(&self) -> Arc<dyn Executions> {
        self.executions.clone()
    }
    fn prices(&self) -> Arc<dyn PriceSource> {
        Arc::new(Unreachable)
    }
    fn chat(&self) -> Arc<dyn Chat> {
        self.chat.clone()
    }
    fn registry(&self) -> Arc<dyn TypeRegistry> {
        self.registry.clone()
    }
    fn settings(&self) -> PipelineSettings {
        settings()
    }
}

/// Settings of a test pipeline: made-up resource names and a fixed signing key.
pub fn settings() -> PipelineSettings {
    PipelineSettings {
        table: "infra-agent-test".into(),
        template_bucket: Some("infra-agent-test-templates".into()),
        approval_topic_arn: Some("arn:aws:sns:us-east-1:123456789012:infra-agent-approvals".into()),
        approval_base_url: Some("https://approve.example.test".into()),
        approval_key: Some(
            SigningKey::from_text("a test key that is long enough to sign links")
                .expect("a 44-byte key is long enough"),
        ),
        cloudformation_role: Some(
            "arn:aws:iam::123456789012:role/infra-agent-cloudformation-{env}".into(),
        ),
        catalog: None,
        slack_secret: Some(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:infra-agent/slack".into(),
        ),
    }
}

/// A deployment request of stack `vpc` in dev, as `begin` accepts it (its template is not stored).
pub fn deploy_request(deployment_id: &str) -> DeployRequest {
    DeployRequest {
        promoted_from: None,
        returns_to: None,
        kind: Default::default(),
        version: CONTRACT_VERSION,
        deployment_id: deployment_id.into(),
        stack: "vpc".parse().expect("a valid stack key"),
        env: Env::Dev,
        template: TemplateRef {
            bucket: "infra-agent-test-templates".into(),
            key: "templates/vpc/0f1e.yaml".into(),
            sha256: "a".repeat(64),
        },
        requested_by: "alice".into(),
        iac_version: "1.0.0".into(),
        approval_timeout_seconds: None,
        parameters: Default::default(),
    }
}

/// A pending prd approval of stack `vpc` that `required_approvers` people must approve, waited on
/// with task token `token-1`.
pub fn pending_approval(
    approval_id: &str,
    required_approvers: u32,
    expires_epoch: i64,
) -> ApprovalRecord {
    ApprovalRecord {
        notes: Vec::new(),
        approval_id: approval_id.into(),
        kind: ApprovalKind::Deployment,
        deployment_id: "prd-vpc-20270115T080000-abcd".into(),
        env: Env::Prd,
        stack: "vpc".into(),
        stack_name: "infra-agent-prd-vpc".into(),
        change_set_name: "infra-agent-prd-vpc-20270115-001".into(),
        requested_by: "alice".into(),
        summary_lines: Vec::new(),
        replacements: Vec::new(),
        deletions: Vec::new(),
        validation_passed: true,
        validation_report: None,
        cost_report: None,
        cost_line: None,
        exceeds_budget: false,
        required_approvers,
        approved_by: Vec::new(),
        task_token: Some(TaskToken::new("token-1".into())),
        status: ApprovalStatus::Pending,
        created_at: "2027-01-15T08:00:00Z".into(),
        expires_at: "2027-01-15T09:00:00Z".into(),
        expires_epoch,
        approver: None,
        decided_at: None,
        comment: None,
        consumed_at: None,
    }
}

/// A Price List API that cannot be reached.
struct Unreachable;

#[async_trait::async_trait]
impl PriceSource for Unreachable {
    async fn listed_price(&self, query: &ProductQuery) -> Result<ListedPrice, PriceApiError> {
        Err(PriceApiError::Call {
            service_code: query.service_code.to_string(),
            filters: String::new(),
            message: "the Price List API is not reachable from tests".into(),
        })
    }
}
