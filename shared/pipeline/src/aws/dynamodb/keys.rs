//! Key layout of the single table. Every partition and sort key is built here.

use infra_agent_core::naming::Env;

/// Deployment records and audit entries of one stack in one environment.
pub fn stack_partition(env: Env, stack: &str) -> String {
    format!("STACK#{env}#{stack}")
}

/// Execution names start `{env}-{stack}-{timestamp}`, so these sort by start time.
pub fn deployment_sort(deployment_id: &str) -> String {
    format!("DEPLOY#{deployment_id}")
}

pub const DEPLOYMENT_PREFIX: &str = "DEPLOY#";
pub const AUDIT_PREFIX: &str = "AUDIT#";

pub fn audit_sort(at: &str, id: &str) -> String {
    format!("AUDIT#{at}#{id}")
}

/// One item per stack of an environment: the latest deployment, for `status --env`.
pub fn environment_partition(env: Env) -> String {
    format!("ENV#{env}")
}

pub fn stack_head_sort(stack: &str) -> String {
    format!("STACK#{stack}")
}

pub const STACK_HEAD_PREFIX: &str = "STACK#";

/// Environment runs (`deploy --all`) live beside the stack heads; run ids sort by start time.
pub fn environment_run_sort(run_id: &str) -> String {
    format!("RUN#{run_id}")
}

pub const ENVIRONMENT_RUN_PREFIX: &str = "RUN#";

/// A stack's drift records, in its partition; check times sort them.
pub fn drift_sort(checked_at: &str, scan_id: &str) -> String {
    format!("DRIFT#{checked_at}#{scan_id}")
}

pub const DRIFT_PREFIX: &str = "DRIFT#";

/// Each stack's latest drift check, beside its deployment head.
pub fn drift_head_sort(stack: &str) -> String {
    format!("DRIFTHEAD#{stack}")
}

pub const DRIFT_HEAD_PREFIX: &str = "DRIFTHEAD#";

/// Promotions, in the target environment's partition.
pub fn promotion_sort(promotion_id: &str) -> String {
    format!("PROMO#{promotion_id}")
}

/// Drift scans, beside the environment's runs.
pub fn scan_sort(scan_id: &str) -> String {
    format!("SCAN#{scan_id}")
}

pub fn lock_partition(env: Env, stack: &str) -> String {
    format!("LOCK#{env}#{stack}")
}

pub const LOCK_SORT: &str = "LOCK";

pub fn approval_partition(approval_id: &str) -> String {
    format!("APPROVAL#{approval_id}")
}

pub const APPROVAL_SORT: &str = "APPROVAL";

/// Per-day change-set sequence counter of a stack.
pub fn change_set_counter_sort(day: &str) -> String {
    format!("CHANGESET#{day}")
}

/// A listed price cached from the Price List API: one item per region and query
/// (`ProductQuery::id`).
pub fn price_partition(region: &str, query_id: &str) -> String {
    format!("PRICE#{region}#{query_id}")
}

pub const PRICE_SORT: &str = "PRICE";

/// The table's time-to-live attribute (`infra/bootstrap.yaml`): only items that may vanish carry it
/// — a lock a day after it expired (an expired lock is free anyway), a cached price a month
/// after it went stale. Deployment, approval, audit and run records never do.
pub const TTL_ATTRIBUTE: &str = "ttl_epoch";
pub const LOCK_TTL_AFTER_EXPIRY_SECONDS: i64 = 24 * 3600;
pub const PRICE_TTL_AFTER_EXPIRY_SECONDS: i64 = 30 * 24 * 3600;
