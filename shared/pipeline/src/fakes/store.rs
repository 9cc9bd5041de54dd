//! The records port in memory. Every write checks the same condition the DynamoDB adapter puts in
//! its condition expression, under one lock, so concurrent callers race as they do on the table.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::cost::{CachedPrice, PriceCache};
use infra_agent_core::naming::Env;
use infra_agent_core::records::{
    ApprovalRecord, ApprovalStatus, AuditEntry, DecideError, DeploymentRecord, DriftHead,
    DriftRecord, DriftScan, EnvironmentRun, PromotionRecord, StackHead, StackLock,
};
use infra_agent_core::StepError;

use crate::ports::{Approvals, AuditTrail, Deployments, DriftRecords, Locks, Promotions, Runs};

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
    scans: BTreeMap<(Env, String), DriftScan>,
    promotions: BTreeMap<(Env, String), PromotionRecord>,
    /// By stack, then `(checked_at, scan_id)` (the table's sort key order).
    drifts: BTreeMap<StackId, BTreeMap<(String, String), DriftRecord>>,
    audit: Vec<AuditEntry>,
    prices: BTreeMap<(String, String), CachedPrice>,
}

/// Something another party does right after a vote is cast (a test's race).
type AfterVote = Box<dyn FnOnce(&mut ApprovalRecord) + Send>;

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
    after_vote: Mutex<Option<AfterVote>>,
}

impl MemoryStore {
    fn tables(&self) -> MutexGuard<'_, Tables> {
        // A test that panicked while holding the lock already failed; its data is still readable.
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `race` on the approval right after the next vote is recorded, as another approver's
    /// concurrent decision would land between a vote and the decision it leads to.
    pub fn after_next_vote(&self, race: impl FnOnce(&mut ApprovalRecord) + Send + 'static) {
        *self.after_vote.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(race));
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
                let voted = a.clone();
                if let Some(race) = self
                    .after_vote
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                {
                    race(a);
                }
                Ok(Ok(voted))
            }
            _ => Ok(Err(DecideError::vote_refusal(
                approval_id,
                approver,
                current,
            ))),
        }
    }

    async fn withdraw_approver(&self, approval_id: &str, approver: &str) -> Result<(), StepError> {
        if let Some(a) = self.tables().approvals.get_mut(approval_id) {
            a.approved_by.retain(|n| n != approver);
        }
        Ok(())
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
            tables.heads.insert(id, StackHead::of(record));
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
impl DriftRecords for MemoryStore {
    async fn put_scan(&self, scan: &DriftScan) -> Result<(), StepError> {
        self.tables()
            .scans
            .insert((scan.env, scan.scan_id.clone()), scan.clone());
        Ok(())
    }

    async fn scan(&self, env: Env, scan_id: &str) -> Result<Option<DriftScan>, StepError> {
        Ok(self
            .tables()
            .scans
            .get(&(env, scan_id.to_string()))
            .cloned())
    }

    async fn put_drift(&self, record: &DriftRecord) -> Result<(), StepError> {
        self.tables()
            .drifts
            .entry(key(record.drift.env, record.drift.stack.as_str()))
            .or_default()
            .insert(
                (record.checked_at.clone(), record.scan_id.clone()),
                record.clone(),
            );
        Ok(())
    }

    async fn drift(
        &self,
        env: Env,
        stack: &str,
        checked_at: &str,
        scan_id: &str,
    ) -> Result<Option<DriftRecord>, StepError> {
        Ok(self
            .tables()
            .drifts
            .get(&key(env, stack))
            .and_then(|records| records.get(&(checked_at.to_string(), scan_id.to_string())))
            .cloned())
    }

    async fn drift_history(
        &self,
        env: Env,
        stack: &str,
        limit: Option<i32>,
    ) -> Result<Vec<DriftRecord>, StepError> {
        let tables = self.tables();
        let newest_first = tables
            .drifts
            .get(&key(env, stack))
            .into_iter()
            .flat_map(|records| records.values().rev().cloned());
        Ok(match limit {
            Some(n) => newest_first.take(usize::try_from(n).unwrap_or(0)).collect(),
            None => newest_first.collect(),
        })
    }

    async fn drift_heads(&self, env: Env) -> Result<Vec<DriftHead>, StepError> {
        Ok(self
            .tables()
            .drifts
            .iter()
            .filter(|((e, _), _)| *e == env)
            .filter_map(|(_, records)| records.values().next_back().map(DriftHead::of))
            .collect())
    }
}

#[async_trait]
impl Promotions for MemoryStore {
    async fn put_promotion(&self, promotion: &PromotionRecord) -> Result<(), StepError> {
        self.tables().promotions.insert(
            (promotion.to, promotion.promotion_id.clone()),
            promotion.clone(),
        );
        Ok(())
    }

    async fn promotion(
        &self,
        to: Env,
        promotion_id: &str,
    ) -> Result<Option<PromotionRecord>, StepError> {
        Ok(self
            .tables()
            .promotions
            .get(&(to, promotion_id.to_string()))
            .cloned())
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

#[cfg(test)]
mod tests {
    //! The rules deployments rest on, against the in-memory store: each test fails when the
    //! condition it names is dropped from `MemoryStore` (and so from the adapter it mirrors).

    use infra_agent_core::contract::approval::TaskToken;
    use infra_agent_core::records::ApprovalKind;

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn lock(holder: &str, expires_epoch: i64) -> StackLock {
        StackLock {
            env: Env::Dev,
            stack: "vpc".into(),
            holder: holder.into(),
            acquired_at: "2027-01-15T08:00:00Z".into(),
            expires_at: "2027-01-15T11:00:00Z".into(),
            expires_epoch,
        }
    }

    fn approval(required_approvers: u32, expires_epoch: i64) -> ApprovalRecord {
        crate::fakes::pending_approval("a1b2c3d4-0123456789ab", required_approvers, expires_epoch)
    }

    #[tokio::test]
    async fn locked_stack_rejects_second_deployment_and_names_the_holder() {
        let store = MemoryStore::default();
        store
            .acquire_lock(&lock("first", NOW + 60), NOW)
            .await
            .unwrap();

        let err = store
            .acquire_lock(&lock("second", NOW + 60), NOW)
            .await
            .unwrap_err();

        assert_eq!(err.error_type(), "StackLocked");
        assert!(err.to_string().contains("first"), "{err}");
        let held = store.lock(Env::Dev, "vpc").await.unwrap().unwrap();
        assert_eq!(held.holder, "first", "a refused acquire changes nothing");
    }

    #[tokio::test]
    async fn a_retried_step_retakes_its_own_lock() {
        let store = MemoryStore::default();
        store
            .acquire_lock(&lock("first", NOW + 60), NOW)
            .await
            .unwrap();

        store
            .acquire_lock(&lock("first", NOW + 120), NOW)
            .await
            .expect("the holder may take its lock again");

        let held = store.lock(Env::Dev, "vpc").await.unwrap().unwrap();
        assert_eq!(held.expires_epoch, NOW + 120);
    }

    #[tokio::test]
    async fn an_expired_lock_is_taken_over_but_one_expiring_now_is_not() {
        let store = MemoryStore::default();
        store
            .acquire_lock(&lock("dead", NOW - 1), NOW - 100)
            .await
            .unwrap();
        store
            .acquire_lock(&lock("next", NOW + 60), NOW)
            .await
            .expect("an expired lock is free");
        assert_eq!(
            store.lock(Env::Dev, "vpc").await.unwrap().unwrap().holder,
            "next"
        );

        let err = store
            .acquire_lock(&lock("third", NOW + 60), NOW + 60)
            .await
            .unwrap_err();
        assert_eq!(
            err.error_type(),
            "StackLocked",
            "expires_epoch < now, strictly"
        );
    }

    #[tokio::test]
    async fn only_the_holder_releases_the_lock() {
        let store = MemoryStore::default();
        store
            .acquire_lock(&lock("first", NOW + 60), NOW)
            .await
            .unwrap();

        assert!(!store.release_lock(Env::Dev, "vpc", "other").await.unwrap());
        assert!(store.lock(Env::Dev, "vpc").await.unwrap().is_some());
        assert!(store.release_lock(Env::Dev, "vpc", "first").await.unwrap());
        assert!(store.lock(Env::Dev, "vpc").await.unwrap().is_none());
        assert!(
            !store.release_lock(Env::Dev, "vpc", "first").await.unwrap(),
            "releasing twice releases nothing"
        );
    }

    #[tokio::test]
    async fn an_approval_is_decided_once() {
        let store = MemoryStore::default();
        store.put_approval(&approval(1, NOW + 60)).await.unwrap();
        let id = "a1b2c3d4-0123456789ab";

        let first = store
            .decide_approval(id, ApprovalStatus::Rejected, "bob", Some("no"), ("t", NOW))
            .await
            .unwrap();
        assert_eq!(first.unwrap().status, ApprovalStatus::Rejected);
        let second = store
            .decide_approval(id, ApprovalStatus::Approved, "eve", None, ("t", NOW))
            .await
            .unwrap();

        assert_eq!(
            second,
            Err(DecideError::AlreadyDecided {
                id: id.into(),
                status: ApprovalStatus::Rejected
            })
        );
        let stored = store.approval(id).await.unwrap().unwrap();
        assert_eq!(stored.approver.as_deref(), Some("bob"));
    }

    #[tokio::test]
    async fn an_expired_approval_cannot_be_decided_or_voted_on() {
        let store = MemoryStore::default();
        store.put_approval(&approval(1, NOW)).await.unwrap();
        let id = "a1b2c3d4-0123456789ab";

        let decided = store
            .decide_approval(id, ApprovalStatus::Approved, "bob", None, ("t", NOW))
            .await
            .unwrap();
        let voted = store.add_approver(id, "bob", NOW).await.unwrap();

        assert!(
            matches!(decided, Err(DecideError::Expired { .. })),
            "{decided:?}"
        );
        assert!(
            matches!(voted, Err(DecideError::Expired { .. })),
            "{voted:?}"
        );
        assert_eq!(
            store.approval(id).await.unwrap().unwrap().status,
            ApprovalStatus::Pending
        );
    }

    #[tokio::test]
    async fn each_approver_counts_once() {
        let store = MemoryStore::default();
        store.put_approval(&approval(2, NOW + 60)).await.unwrap();
        let id = "a1b2c3d4-0123456789ab";

        store.add_approver(id, "ada", NOW).await.unwrap().unwrap();
        let again = store.add_approver(id, "ada", NOW).await.unwrap();
        let other = store.add_approver(id, "grace", NOW).await.unwrap().unwrap();

        assert_eq!(
            again,
            Err(DecideError::AlreadyApprovedBy {
                id: id.into(),
                approver: "ada".into()
            })
        );
        assert_eq!(other.approved_by, vec!["ada", "grace"]);
    }

    #[tokio::test]
    async fn a_retried_approval_keeps_its_votes_and_a_decided_one_is_never_reopened() {
        let store = MemoryStore::default();
        let id = "a1b2c3d4-0123456789ab";
        store.put_approval(&approval(2, NOW + 60)).await.unwrap();
        store.add_approver(id, "ada", NOW).await.unwrap().unwrap();

        let mut retried = approval(2, NOW + 600);
        retried.task_token = Some(TaskToken::new("token-2".into()));
        store.put_approval(&retried).await.unwrap();

        let stored = store.approval(id).await.unwrap().unwrap();
        assert_eq!(stored.approved_by, vec!["ada"], "votes are kept");
        assert_eq!(stored.expires_epoch, NOW + 600);
        assert_eq!(stored.task_token, Some(TaskToken::new("token-2".into())));

        store
            .decide_approval(id, ApprovalStatus::Rejected, "bob", None, ("t", NOW))
            .await
            .unwrap()
            .unwrap();
        let err = store.put_approval(&retried).await.unwrap_err();
        assert_eq!(err.error_type(), "RecordConflict");
        assert_eq!(
            store.approval(id).await.unwrap().unwrap().status,
            ApprovalStatus::Rejected
        );
    }

    #[tokio::test]
    async fn a_teardown_approval_is_used_once_and_only_when_approved() {
        let store = MemoryStore::default();
        let id = "a1b2c3d4-0123456789ab";
        let mut teardown = approval(1, NOW + 60);
        teardown.kind = ApprovalKind::Teardown;
        teardown.task_token = None;
        store.put_approval(&teardown).await.unwrap();

        let pending = store.consume_approval(id, "t0").await.unwrap();
        assert!(
            pending.is_err(),
            "a pending teardown is not usable: {pending:?}"
        );
        assert_eq!(store.approval(id).await.unwrap().unwrap().consumed_at, None);
        store
            .decide_approval(id, ApprovalStatus::Approved, "ada", None, ("t", NOW))
            .await
            .unwrap()
            .unwrap();
        store.consume_approval(id, "t1").await.unwrap().unwrap();
        let reused = store.consume_approval(id, "t2").await.unwrap();

        assert_eq!(
            reused,
            Err(DecideError::AlreadyUsed {
                id: id.into(),
                at: "t1".into()
            })
        );
    }

    #[tokio::test]
    async fn an_approval_that_ran_out_of_time_is_refused_as_expired_not_as_decided() {
        let store = MemoryStore::default();
        store.put_approval(&approval(1, NOW + 60)).await.unwrap();
        let id = "a1b2c3d4-0123456789ab";
        store.mark_approval_expired(id).await.unwrap();

        let late = store
            .decide_approval(id, ApprovalStatus::Approved, "ada", None, ("t", NOW))
            .await
            .unwrap();

        assert!(matches!(late, Err(DecideError::Expired { .. })), "{late:?}");
    }
}
