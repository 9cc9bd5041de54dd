//! Deployment records: one per execution, plus a per-stack head item holding the latest one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::contract::change_set::ChangeSummary;
use crate::contract::cost::CostReport;
use crate::contract::deploy::TemplateRef;
use crate::contract::execute::StackFailure;
use crate::contract::record::DeploymentStatus;
use crate::contract::validation::ValidationSummary;
use crate::naming::{Env, StackKey};

/// Everything needed to understand — and redeploy — one deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub deployment_id: String,
    pub env: Env,
    pub stack: StackKey,
    pub stack_name: String,
    pub status: DeploymentStatus,
    /// A deployment, or a remediation of drift.
    #[serde(default)]
    pub kind: crate::contract::deploy::DeploymentKind,
    /// The deployment a rollback returned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns_to: Option<String>,
    /// Where a promotion's version came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_from: Option<crate::contract::promote::PromotedFrom>,
    pub requested_by: String,
    pub iac_version: String,
    pub template_bucket: String,
    pub template_key: String,
    pub template_sha256: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    #[serde(default)]
    pub change_set_name: Option<String>,
    #[serde(default)]
    pub change_set_arn: Option<String>,
    #[serde(default)]
    pub change_summary: Option<ChangeSummary>,
    #[serde(default)]
    pub validation: Option<ValidationSummary>,
    #[serde(default)]
    pub cost: Option<CostReport>,
    #[serde(default)]
    pub approval_id: Option<String>,
    #[serde(default)]
    pub approver: Option<String>,
    #[serde(default)]
    pub stack_status: Option<String>,
    #[serde(default)]
    pub failure: Option<StackFailure>,
    /// The post-deploy checks, each with its evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::deploy::checks::Verification>,
    pub started_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// The latest deployment of a stack in an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackHead {
    pub env: Env,
    pub stack: StackKey,
    pub stack_name: String,
    pub last_deployment_id: String,
    pub last_status: DeploymentStatus,
    #[serde(default)]
    pub stack_status: Option<String>,
    pub updated_at: String,
}

impl StackHead {
    /// The head that names `record` as its stack's latest deployment.
    pub fn of(record: &DeploymentRecord) -> StackHead {
        StackHead {
            env: record.env,
            stack: record.stack.clone(),
            stack_name: record.stack_name.clone(),
            last_deployment_id: record.deployment_id.clone(),
            last_status: record.status,
            stack_status: record.stack_status.clone(),
            updated_at: record.updated_at.clone(),
        }
    }
}

impl DeploymentRecord {
    /// Where the deployment's template is stored.
    pub fn template_ref(&self) -> TemplateRef {
        TemplateRef {
            bucket: self.template_bucket.clone(),
            key: self.template_key.clone(),
            sha256: self.template_sha256.clone(),
        }
    }
}
