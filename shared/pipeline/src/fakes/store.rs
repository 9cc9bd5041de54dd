//! The records port in memory. Every write checks the same condition the DynamoDB adapter puts in
//! its condition expression, under one lock, so concurrent callers race as they do on the table.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::cost::{CachedPrice, PriceCache};
use infra_agent_core::naming::Env;
use infra_agent_core::records::{
    ApprovalRecord, ApprovalStatus, AuditEntry, DecideError, DeploymentRecord, EnvironmentRun,
    StackHead, StackLock,
};
use infra_agent_core::StepError;

use crate::ports::{Approvals, AuditTrail, Deployments, Locks, Runs};

type StackId = (Env, String);

#[derive(Default)]
struct Tables {
    locks: BTreeMap<StackId, StackLock>,
    approvals: BTreeMap<String, ApprovalRecord>,
    /// By stack, then deployment id (the table's sort key order).
    deployments: BTreeMap<StackId, BTreeMap<String, DeploymentRecord>>,
    heads: BTreeMap<StackId, StackHead>,
    counters: BTreeMap<(StackId, String), u32>,
    runs: BTreeMap<(Env, String), EnvironmentRun>,
    audit: Vec<AuditEntry>,
    prices: BTreeMap<(String, String), CachedPrice>,
}

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    fn tables(&self) -> MutexGuard<'_, Tables> {
        // A test that panicked while holding the lock already failed; its data is still readable.
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What a refused condition looks like to a caller that does not expect one.
    fn condition_failed(operation: &'static str) -> StepError {
        StepError::Aws {
            service: "dynamodb",
            operation,
            message: "ConditionalCheckFailedException: The conditional request failed".into(),
        }
    }
}

fn key(env: Env, stack: &str) -> StackId {
    (env, stack.to_string())
}

#[async_trait]
impl Locks for MemoryStore {
    async fn acquire_lock(&self, lock: &StackLock, now_epoch: i64) -> Result<(), StepError> {
        let mut tables = self.tables();
        let id = key(lock.env, &lock.stack);
        // attribute_not_exists(pk) OR expires_epoch < :now OR holder = :me
        let free = match tables.locks.get(&id) {
            None => true,
            Some(held) => held.expires_epoch < now_epoch || held.holder == lock.holder,
        };
        if !free {
            let held = &tables.locks[&id];
            return Err(StepError::StackLocked {
                env: held.env.to_string(),
                stack: held.stack.clone(),
                holder: held.holder.clone(),
                since: held.acquired_at.clone(),
                expires: held.expires_at.clone(),
            });
        }
        tables.locks.insert(id, lock.clone());
        Ok(())
    }

    async fn release_lock(&self, env: Env, stack: &str, holder: &str) -> Result<bool, StepError> {
        let mut tables = self.tables();
        let id = key(env, stack);
        // holder = :me (false on a missing item)
        if tables.locks.get(&id).is_some_and(|l| l.holder == holder) {
            tables.locks.remove(&id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn lock(&self, env: Env, stack: &str) -> Result<Option<StackLock>, StepError> {
        Ok(self.tables().locks.get(&key(env, stack)).cloned())
    }
}

#[async_trait]
impl Approvals for MemoryStore {
    async fn put_approval(&self, approval: &ApprovalRecord) -> Result<(), StepError> {
        let mut tables = self.tables();
        match tables.approvals.get_mut(&approval.approval_id) {
            // attribute_not_exists(pk)
            None => {
                tables
                    .approvals
                    .insert(approval.approval_id.clone(), approval.clone());
                Ok(())
            }
            // status = PENDING: only the token and expiry are replaced.
            Some(stored) if stored.status == ApprovalStatus::Pending => {
                stored.task_token = approval.task_token.clone();
                stored.expires_at = approval.expires_at.clone();
                stored.expires_epoch = approval.expires_epoch;
                Ok(())
            }
            Some(_) => Err(StepError::RecordConflict(format!(
                "approval {} was already decided; it is not asked again",
                approval.approval_id
            ))),
        }
    }

    async fn approval(&self, approval_id: &str) -> Result<Option<ApprovalRecord>, StepError> {
        Ok(self.tables().approvals.get(approval_id).cloned())
    }

    async fn add_approver(
        &self,
        approval_id: &str,
        approver: &str,
        now_epoch: i64,
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError> {
        let mut tables = self.tables();
        let current = tables.approvals.get(approval_id).cloned();
        match tables.approvals.get_mut(approval_id) {
            // attribute_exists(pk) AND status = PENDING AND expires_epoch > :epoch
            //   AND NOT contains(approved_by, :name)
            Some(a)
                if a.status == ApprovalStatus::Pending
                    && a.expires_epoch > now_epoch
                    && !a.approved_by.iter().any(|n| n == approver) =>
            {
                a.approved_by.push(approver.to_string());
                Ok(Ok(a.clone()))
            }
            Some(a)
                if a.status == ApprovalStatus::Pending
                    && a.approved_by.iter().any(|n| n == approver) =>
            {
                Ok(Err(DecideError::AlreadyApprovedBy {
                    id: a.approval_id.clone(),
                    approver: approver.to_string(),
                }))
            }
            _ => Ok(Err(DecideError::refusal(approval_id, current))),
        }
    }

    async fn decide_approval(
        &self,
        approval_id: &str,
        status: ApprovalStatus,
        approver: &str,
        comment: Option<&str>,
        now: (&str, i64),
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError> {
        let mut tables = self.tables();
        let current = tables.approvals.get(approval_id).cloned();
        match tables.approvals.get_mut(approval_id) {
            // attribute_exists(pk) AND status = PENDING AND expires_epoch > :epoch
            Some(a) if a.status == ApprovalStatus::Pending && a.expires_epoch > now.1 => {
                a.status = status;
                a.approver = Some(approver.to_string());
                a.decided_at = Some(now.0.to_string());
                a.comment = comment.map(str::to_string);
                Ok(Ok(a.clone()))
            }
            _ => Ok(Err(DecideError::refusal(approval_id, current))),
        }
    }

    async fn consume_approval(
        &self,
        approval_id: &str,
        now: &str,
    ) -> Result<Result<ApprovalRecord, DecideError>, StepError> {
        let mut tables = self.tables();
        let current = tables.approvals.get(approval_id).cloned();
        match tables.approvals.get_mut(approval_id) {
            // attribute_exists(pk) AND status = APPROVED AND no consumed_at
            Some(a) if a.status == ApprovalStatus::Approved && a.consumed_at.is_none() => {
                a.consumed_at = Some(now.to_string());
                Ok(Ok(a.clone()))
            }
            Some(a) if a.consumed_at.is_some() => Ok(Err(DecideError::AlreadyUsed {
                id: a.approval_id.clone(),
                at: a.consumed_at.clone().unwrap_or_default(),
            })),
            _ => Ok(Err(DecideError::refusal(approval_id, current))),
        }
    }

    async fn mark_approval_expired(&self, approval_id: &str) -> Result<(), StepError> {
        match self.tables().approvals.get_mut(approval_id) {
            Some(a) => {
                a.status = ApprovalStatus::Expired;
                Ok(())
            }
            None => Err(Self::condition_failed("UpdateItem")),
        }
    }
}

#[async_trait]
impl Deployments for MemoryStore {
    async fn put_deployment(&self, record: &DeploymentRecord) -> Result<(), StepError> {
        let mut tables = self.tables();
        let id = key(record.env, record.stack.as_str());
        tables
            .deployments
            .entry(id.clone())
            .or_default()
            .insert(record.deployment_id.clone(), record.clone());
        if record.status == DeploymentStatus::Refused {
            return Ok(());
        }
        // attribute_not_exists(pk) OR last_deployment_id <= :id
        let newer_exists = tables
            .heads
            .get(&id)
            .is_some_and(|h| h.last_deployment_id.as_str() > record.deployment_id.as_str());
        if !newer_exists {
            tables.heads.insert(
                id,
                StackHead {
                    env: record.env,
                    stack: record.stack.clone(),
                    stack_name: record.stack_name.clone(),
                    last_deployment_id: record.deployment_id.clone(),
                    last_status: record.status,
                    stack_status: record.stack_status.clone(),
                    updated_at: record.updated_at.clone(),
                },
            );
        }
        Ok(())
    }

    async fn deployment(
        &self,
        env: Env,
        stack: &str,
        deployment_id: &str,
    ) -> Result<Option<DeploymentRecord>, StepError> {
        Ok(self
            .tables()
            .deployments
            .get(&key(env, stack))
            .and_then(|d| d.get(deployment_id))
            .cloned())
    }

    async fn history(
        &self,
        env: Env,
        stack: &str,
        limit: Option<i32>,
    ) -> Result<Vec<DeploymentRecord>, StepError> {
        let tables = self.tables();
        let newest_first = tables
            .deployments
            .get(&key(env, stack))
            .into_iter()
            .flat_map(|d| d.values().rev().cloned());
        Ok(match limit {
            Some(n) => newest_first.take(usize::try_from(n).unwrap_or(0)).collect(),
            None => newest_first.collect(),
        })
    }

    async fn environment_status(&self, env: Env) -> Result<Vec<StackHead>, StepError> {
        Ok(self
            .tables()
            .heads
            .iter()
            .filter(|((e, _), _)| *e == env)
            .map(|(_, head)| head.clone())
            .collect())
    }

    async fn next_change_set_sequence(
        &self,
        env: Env,
        stack: &str,
        day: &str,
    ) -> Result<u32, StepError> {
        let mut tables = self.tables();
        let counter = tables
            .counters
            .entry((key(env, stack), day.to_string()))
            .or_default();
        *counter += 1;
        Ok(*counter)
    }
}

#[async_trait]
impl Runs for MemoryStore {
    async fn put_environment_run(&self, run: &EnvironmentRun) -> Result<(), StepError> {
        self.tables()
            .runs
            .insert((run.env, run.run_id.clone()), run.clone());
        Ok(())
    }

    async fn environment_run(
        &self,
        env: Env,
        run_id: &str,
    ) -> Result<Option<EnvironmentRun>, StepError> {
        Ok(self.tables().runs.get(&(env, run_id.to_string())).cloned())
    }

    async fn environment_runs(
        &self,
        env: Env,
        limit: Option<i32>,
    ) -> Result<Vec<EnvironmentRun>, StepError> {
        let tables = self.tables();
        let newest_first = tables
            .runs
            .iter()
            .rev()
            .filter(|((e, _), _)| *e == env)
            .map(|(_, run)| run.clone());
        Ok(match limit {
            Some(n) => newest_first.take(usize::try_from(n).unwrap_or(0)).collect(),
            None => newest_first.collect(),
        })
    }
}

#[async_trait]
impl AuditTrail for MemoryStore {
    async fn audit(&self, entry: &AuditEntry) -> Result<(), StepError> {
        self.tables().audit.push(entry.clone());
        Ok(())
    }

    async fn audit_trail(&self, env: Env, stack: &str) -> Result<Vec<AuditEntry>, StepError> {
        let mut trail: Vec<AuditEntry> = self
            .tables()
            .audit
            .iter()
            .filter(|e| e.env == env && e.stack == stack)
            .cloned()
            .collect();
        // Sorted by time as the sort key sorts them; a stable sort keeps writes of one second in order.
        trail.sort_by(|a, b| a.at.cmp(&b.at));
        Ok(trail)
    }
}

#[async_trait]
impl PriceCache for MemoryStore {
    async fn cached_prices(
        &self,
        region: &str,
        query_ids: &[String],
        now_epoch: i64,
    ) -> Result<BTreeMap<String, CachedPrice>, StepError> {
        let tables = self.tables();
        Ok(query_ids
            .iter()
            .filter_map(|id| tables.prices.get(&(region.to_string(), id.clone())))
            .filter(|p| p.is_fresh(now_epoch))
            .map(|p| (p.query_id.clone(), p.clone()))
            .collect())
    }

    async fn cache_price(&self, price: &CachedPrice) -> Result<(), StepError> {
        self.tables().prices.insert(
            (price.region.clone(), price.query_id.clone()),
            price.clone(),
        );
        Ok(())
    }
}
