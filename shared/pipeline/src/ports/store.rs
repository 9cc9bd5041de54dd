//! The records port: locks, approvals, deployment records, environment runs, drift records and
//! the audit trail (one DynamoDB table). The conditions below are the contract every implementation keeps: the
//! safety of concurrent deployments and of approvals rests on them.

use async_trait::async_trait;
use infra_agent_core::cost::PriceCache;
use infra_agent_core::naming::Env;
use infra_agent_core::records::{
    ApprovalRecord, ApprovalStatus, AuditEntry, DecideError, DeploymentRecord, DriftHead,
    DriftRecord, DriftScan, EnvironmentRun, PromotionRecord, StackHead, StackLock,
};
use infra_agent_core::StepError;

/// One deployment at a time per stack.
#[async_trait]
pub trait Locks: Send + Sync {
    /// Takes the lock for `lock.holder`: succeeds when it is free, expired (`expires_epoch` before
    /// `now_epoch`) or already held by the same holder (a retried step); otherwise `StackLocked`
    /// naming the holder, and the lock is unchanged.
    async fn acquire_lock(&self, lock: &StackLock, now_epoch: i64) -> Result<(), StepError>;

    /// Releases the lock only if `holder` holds it. Returns whether it did.
    async fn release_lock(&self, env: Env, stack: &str, holder: &str) -> Result<bool, StepError>;

    async fn lock(&self, env: Env, stack: &str) -> Result<Option<StackLock>, StepError>;
}

/// Approvals, decided once.
#[async_trait]
pub trait Approvals: Send + Sync {
    /// Stores a new approval. One of the same id that is pending (a retried approval step) keeps
    /// its votes: only its task token and expiry are replaced. A decided approval is never
    /// reopened: `RecordConflict`.
    async fn put_approval(&self, approval: &ApprovalRecord) -> Result<(), StepError>;

    async fn approval(&self, approval_id: &str) -> Result<Option<ApprovalRecord>, StepError>;

    /// Adds `approver` to a pending, unexpired approval, once per person. Returns the record
    /// with every approver so far.
    async fn add_approver(
        &self,
        approval_id: &str,
        approver: &str,
        now_epoch: i64,
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError>;

    /// Takes `approver`'s vote back (if it is there): their approval lost a race to another
    /// decision, so it approved nothing and must not be listed as if it had.
    async fn withdraw_approver(&self, approval_id: &str, approver: &str) -> Result<(), StepError>;

    /// Moves a pending, unexpired approval to `status`, once. Returns the updated record.
    async fn decide_approval(
        &self,
        approval_id: &str,
        status: ApprovalStatus,
        approver: &str,
        comment: Option<&str>,
        now: (&str, i64),
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError>;

    /// Uses an approved teardown approval, once.
    async fn consume_approval(
        &self,
        approval_id: &str,
        now: &str,
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError>;

    /// Marks an approval expired when Step Functions no longer waits for it.
    async fn mark_approval_expired(&self, approval_id: &str) -> Result<(), StepError>;
}

/// Deployment records and each stack's head (its latest deployment).
#[async_trait]
pub trait Deployments: Send + Sync {
    /// Writes a record and moves the stack's head to it, unless the head already names a newer
    /// deployment; a `Refused` record leaves the head alone.
    async fn put_deployment(&self, record: &DeploymentRecord) -> Result<(), StepError>;

    async fn deployment(
        &self,
        env: Env,
        stack: &str,
        deployment_id: &str,
    ) -> Result<Option<DeploymentRecord>, StepError>;

    /// Deployments of one stack, newest first.
    async fn history(
        &self,
        env: Env,
        stack: &str,
        limit: Option<i32>,
    ) -> Result<Vec<DeploymentRecord>, StepError>;

    /// The latest deployment of every stack ever deployed to `env`.
    async fn environment_status(&self, env: Env) -> Result<Vec<StackHead>, StepError>;

    /// Next change-set sequence number of a stack for a day (`yyyymmdd`), starting at 1.
    async fn next_change_set_sequence(
        &self,
        env: Env,
        stack: &str,
        day: &str,
    ) -> Result<u32, StepError>;

    /// The stack's latest deployment whose template it runs (among its 50 latest): what is
    /// deployed now, its post-deploy checks passed or not.
    async fn last_succeeded(
        &self,
        env: Env,
        stack: &str,
    ) -> Result<Option<DeploymentRecord>, StepError> {
        Ok(self
            .history(env, stack, Some(50))
            .await?
            .into_iter()
            .find(|r| r.status.is_deployed()))
    }
}

/// Environment runs (`deploy --all`).
#[async_trait]
pub trait Runs: Send + Sync {
    async fn put_environment_run(&self, run: &EnvironmentRun) -> Result<(), StepError>;

    async fn environment_run(
        &self,
        env: Env,
        run_id: &str,
    ) -> Result<Option<EnvironmentRun>, StepError>;

    /// Runs of an environment, newest first.
    async fn environment_runs(
        &self,
        env: Env,
        limit: Option<i32>,
    ) -> Result<Vec<EnvironmentRun>, StepError>;
}

/// Drift scans, each stack's drift records and its latest check.
#[async_trait]
pub trait DriftRecords: Send + Sync {
    async fn put_scan(&self, scan: &DriftScan) -> Result<(), StepError>;

    async fn scan(&self, env: Env, scan_id: &str) -> Result<Option<DriftScan>, StepError>;

    /// Writes a stack's drift record and makes it the stack's latest check.
    async fn put_drift(&self, record: &DriftRecord) -> Result<(), StepError>;

    async fn drift(
        &self,
        env: Env,
        stack: &str,
        checked_at: &str,
        scan_id: &str,
    ) -> Result<Option<DriftRecord>, StepError>;

    /// A stack's drift records, newest first.
    async fn drift_history(
        &self,
        env: Env,
        stack: &str,
        limit: Option<i32>,
    ) -> Result<Vec<DriftRecord>, StepError>;

    /// The latest check of every stack of `env` ever checked.
    async fn drift_heads(&self, env: Env) -> Result<Vec<DriftHead>, StepError>;
}

/// Promotions, by target environment.
#[async_trait]
pub trait Promotions: Send + Sync {
    async fn put_promotion(&self, promotion: &PromotionRecord) -> Result<(), StepError>;

    async fn promotion(
        &self,
        to: Env,
        promotion_id: &str,
    ) -> Result<Option<PromotionRecord>, StepError>;
}

/// The append-only audit trail.
#[async_trait]
pub trait AuditTrail: Send + Sync {
    async fn audit(&self, entry: &AuditEntry) -> Result<(), StepError>;

    /// Audit entries of one stack, oldest first.
    async fn audit_trail(&self, env: Env, stack: &str) -> Result<Vec<AuditEntry>, StepError>;
}

/// The whole records port, as steps are handed it.
pub trait Store:
    Locks + Approvals + Deployments + Runs + DriftRecords + Promotions + AuditTrail + PriceCache
{
}

impl<T> Store for T where
    T: Locks + Approvals + Deployments + Runs + DriftRecords + Promotions + AuditTrail + PriceCache
{
}
