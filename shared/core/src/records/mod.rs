//! What the pipeline keeps: deployment records, stack locks, approvals, environment runs and the
//! audit trail. The pipeline crate stores them (DynamoDB, or in memory in tests).

mod approval;
mod audit;
mod deployment;
mod lock;
mod run;

pub use approval::{ApprovalKind, ApprovalRecord, ApprovalStatus, DecideError};
pub use audit::AuditEntry;
pub use deployment::{DeploymentRecord, StackHead};
pub use lock::StackLock;
pub use run::{EnvironmentRun, RunStatus};
