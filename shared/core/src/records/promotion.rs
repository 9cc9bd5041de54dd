//! Promotion records: one per promotion, in the target environment's partition, with every
//! pre-promotion check and the deployment it started.

use serde::{Deserialize, Serialize};

use crate::contract::promote::PromotionCheck;
use crate::naming::{Env, StackKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PromotionStatus {
    Checking,
    /// A pre-promotion check failed: nothing was changed in the target.
    Refused,
    Deploying,
    /// The target deployment ended; its status says how.
    Ended,
}

impl PromotionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionStatus::Checking => "CHECKING",
            PromotionStatus::Refused => "REFUSED",
            PromotionStatus::Deploying => "DEPLOYING",
            PromotionStatus::Ended => "ENDED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionRecord {
    pub promotion_id: String,
    pub stack: StackKey,
    pub from: Env,
    pub to: Env,
    pub status: PromotionStatus,
    pub requested_by: String,
    #[serde(default)]
    pub template_sha256: Option<String>,
    #[serde(default)]
    pub source_deployment_id: Option<String>,
    #[serde(default)]
    pub checks: Vec<PromotionCheck>,
    /// The target deployment.
    pub deployment_id: String,
    /// The target deployment's outcome, once it ended.
    #[serde(default)]
    pub deployment_status: Option<String>,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
}
