//! The approval link's confirmation page with its evidence: the stored validation and cost
//! reports and the change set's parameters, each read from where the deployment left it.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::ports::Pipeline;
use infra_agent_core::approval::page::{self, Evidence, Stored};
use infra_agent_core::contract::cost::CostReport;
use infra_agent_core::contract::deploy::TemplateRef;
use infra_agent_core::records::{ApprovalKind, ApprovalRecord};
use infra_agent_core::template::Template;
use infra_agent_core::validation::ValidationReport;

/// The page for a pending `approval` whose form posts to `action`.
pub async fn confirmation_page(
    pipeline: &Pipeline,
    approval: &ApprovalRecord,
    action: &str,
) -> String {
    let validation =
        stored::<ValidationReport>(pipeline, approval.validation_report.as_ref()).await;
    let cost = stored::<CostReport>(pipeline, approval.cost_report.as_ref()).await;
    let parameters = parameters(pipeline, approval).await;
    let evidence = Evidence {
        validation: view(&validation),
        cost: view(&cost),
        parameters: parameters.as_ref(),
    };
    page::confirmation(approval, &evidence, action)
}

/// A stored JSON report: none when nothing was stored, the reason when it cannot be read.
async fn stored<T: DeserializeOwned>(
    pipeline: &Pipeline,
    at: Option<&TemplateRef>,
) -> Option<Result<T, String>> {
    let at = at?;
    let text = match pipeline.templates.get_template(at).await {
        Ok(text) => text,
        Err(e) => return Some(Err(e.to_string())),
    };
    Some(
        serde_json::from_str::<T>(&text)
            .map_err(|e| format!("the stored report does not read: {e}")),
    )
}

fn view<T>(report: &Option<Result<T, String>>) -> Stored<'_, T> {
    match report {
        None => Stored::NotStored,
        Some(Ok(report)) => Stored::Read(report),
        Some(Err(reason)) => Stored::Unreadable(reason),
    }
}

/// The parameter values the change set passes, as the change-set step recorded them on the
/// deployment. A teardown has none; a record that cannot be read leaves them off the page.
async fn parameters(
    pipeline: &Pipeline,
    approval: &ApprovalRecord,
) -> Option<BTreeMap<String, String>> {
    if approval.kind != ApprovalKind::Deployment {
        return None;
    }
    match pipeline
        .store
        .deployment(approval.env, &approval.stack, &approval.deployment_id)
        .await
    {
        Ok(Some(record)) => {
            // NoEcho values are shown as CloudFormation shows them; without the template to
            // tell which those are, no value is shown.
            let text = match pipeline
                .templates
                .get_template(&record.template_ref())
                .await
            {
                Ok(text) => text,
                Err(e) => {
                    tracing::warn!(error = %e, "template not read for the approval page");
                    return None;
                }
            };
            let template = Template::parse(&record.template_key, &text).ok()?;
            let hidden: Vec<String> = template
                .parameters()
                .into_iter()
                .filter(|p| p.no_echo)
                .map(|p| p.name)
                .collect();
            Some(
                record
                    .parameters
                    .into_iter()
                    .map(|(name, value)| {
                        let shown = if hidden.contains(&name) {
                            "****".to_string()
                        } else {
                            value
                        };
                        (name, shown)
                    })
                    .collect(),
            )
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, approval_id = %approval.approval_id, "deployment record not read for the approval page");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fakes::{pending_approval, Fakes};
    use infra_agent_core::records::DeploymentRecord;

    const BUCKET: &str = "infra-agent-test-templates";

    async fn store_report(fakes: &Fakes, key: &str, report: serde_json::Value) -> TemplateRef {
        fakes
            .pipeline()
            .templates
            .put_document(BUCKET, key, &report.to_string())
            .await
            .expect("stored")
    }

    #[tokio::test]
    async fn page_lists_the_stored_reports_and_the_recorded_parameters() {
        let fakes = Fakes::new();
        let pipeline = fakes.pipeline();
        let mut approval = pending_approval("a1b2c3d4-0123456789ab", 1, i64::MAX);
        approval.validation_report = Some(
            store_report(
                &fakes,
                "templates/vpc/reports/d/validation.json",
                json!({"source": "vpc.yaml", "passed": true, "findings": [],
                       "controls": {"SC-7": "passed", "AU-12": "notapplicable"}}),
            )
            .await,
        );
        approval.cost_report = Some(
            store_report(
                &fakes,
                "templates/vpc/reports/d/cost.json",
                json!({"available": true, "delta": {
                    "region": "us-east-1", "before_monthly": 0, "after_monthly": 32.85,
                    "delta_monthly": 32.85, "delta_high_monthly": 32.85,
                    "resources": [{"logical_id": "NatGateway", "resource_type": "AWS::EC2::NatGateway",
                                   "before_monthly": null, "after_monthly": 32.85, "delta_monthly": 32.85}],
                    "not_priced": [], "prices_as_of": "2025-06-01"}}),
            )
            .await,
        );
        let template = store_report(
            &fakes,
            "templates/vpc/0f1e.yaml",
            json!({"Parameters": {
                "VpcCidr": {"Type": "String"},
                "DbPassword": {"Type": "String", "NoEcho": true},
            }, "Resources": {}}),
        )
        .await;
        let record: DeploymentRecord = serde_json::from_value(json!({
            "deployment_id": approval.deployment_id, "env": "prd", "stack": "vpc",
            "stack_name": "infra-agent-prd-vpc", "status": "AWAITING_APPROVAL",
            "requested_by": "alice", "iac_version": "1.0.0", "template_bucket": template.bucket,
            "template_key": template.key, "template_sha256": template.sha256,
            "parameters": {"VpcCidr": "10.20.0.0/16", "DbPassword": "hunter2-secret"},
            "started_at": "t", "updated_at": "t"
        }))
        .expect("a deployment record");
        pipeline.store.put_deployment(&record).await.unwrap();

        let page = confirmation_page(&pipeline, &approval, "/approvals/x").await;

        for expected in [
            "<td>SC-7</td><td>passed</td>",
            "<td>AU-12</td><td>not applicable</td>",
            "<code>NatGateway</code> AWS::EC2::NatGateway</td><td class=\"num\">-</td><td class=\"num\">$32.85</td>",
            "<td>VpcCidr</td><td><code>10.20.0.0/16</code></td>",
            "<td>DbPassword</td><td><code>****</code></td>",
        ] {
            assert!(page.contains(expected), "{expected:?} missing from {page}");
        }
        assert!(!page.contains("hunter2"), "a NoEcho value on the page");
    }

    #[tokio::test]
    async fn a_report_that_is_gone_is_named_on_the_page() {
        let fakes = Fakes::new();
        let mut approval = pending_approval("a1b2c3d4-0123456789ab", 1, i64::MAX);
        approval.cost_report = Some(TemplateRef {
            bucket: BUCKET.into(),
            key: "templates/vpc/reports/gone/cost.json".into(),
            sha256: "0".into(),
        });
        let page = confirmation_page(&fakes.pipeline(), &approval, "/approvals/x").await;
        assert!(
            page.contains("The per-resource cost report could not be read"),
            "{page}"
        );
        assert!(
            !page.contains("<h2>Parameters</h2>"),
            "no record, no parameters"
        );
    }
}
