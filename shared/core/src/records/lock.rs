//! Per-stack locks: a conditional write with an expiry, so one deployment at a time touches a
//! stack and a crashed one cannot hold it forever.

use serde::{Deserialize, Serialize};

use crate::naming::Env;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackLock {
    pub env: Env,
    pub stack: String,
    /// Deployment id of the holder.
    pub holder: String,
    pub acquired_at: String,
    pub expires_at: String,
    /// Epoch seconds; also the table's TTL attribute.
    pub expires_epoch: i64,
}
