//! What the pipeline keeps: deployment records, stack locks, approvals, environment runs, drift
//! scans and the audit trail. The pipeline crate stores them (DynamoDB, or in memory in tests).

mod approval;
mod audit;
mod deployment;
mod drift;
mod lock;
mod promotion;
mod run;

pub use approval::{ApprovalKind, ApprovalRecord, ApprovalStatus, DecideError};
pub use audit::AuditEntry;
pub use deployment::{DeploymentRecord, StackHead};
pub use drift::{DriftHead, DriftRecord, DriftScan, ScanStatus};
pub use lock::StackLock;
pub use promotion::{PromotionRecord, PromotionStatus};
pub use run::{EnvironmentRun, RunStatus};
