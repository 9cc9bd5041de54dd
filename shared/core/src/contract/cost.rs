//! Input and output of the cost step. `available: false` carries the reason no estimate could be
//! made; the deployment goes on with it.

use serde::{Deserialize, Serialize};

use super::change_set::ChangeSetResult;
use super::deploy::{DeployRequest, TemplateRef};
use crate::cost::{CostDelta, CostEstimate, Usd};

#[derive(Deserialize)]
pub struct CostInput {
    pub request: DeployRequest,
    pub change_set: ChangeSetResult,
}

/// The cost step's result (`$.cost`). `available: false` when no estimate could be made: the
/// deployment goes on, with the reason visible to approvers and in the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostReport {
    pub available: bool,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub estimate: Option<CostEstimate>,
    #[serde(default)]
    pub delta: Option<CostDelta>,
    #[serde(default)]
    pub monthly_budget: Option<Usd>,
    #[serde(default)]
    pub exceeds_budget: bool,
    /// The per-resource lists were cut to `INLINE_RESOURCES` entries each (largest changes
    /// first); the whole report is at `report`. Totals are always whole.
    #[serde(default)]
    pub truncated: bool,
    /// The whole report, stored once beside the template.
    #[serde(default)]
    pub report: Option<TemplateRef>,
}

/// Resources listed per list in the state and the record.
pub const INLINE_RESOURCES: usize = 50;

/// Where a deployment's full cost report is stored: beside its validation report.
pub fn cost_report_key(template: &TemplateRef, deployment_id: &str) -> String {
    let prefix = template
        .key
        .rsplit_once('/')
        .map_or(template.key.as_str(), |(prefix, _)| prefix);
    format!("{prefix}/reports/{deployment_id}/cost.json")
}

impl CostReport {
    /// This report as the state and the record carry it: every total and every unpriced
    /// resource (the headline counts them), the per-resource lists cut to `INLINE_RESOURCES`
    /// (the largest changes first), and `stored` naming the whole report.
    pub fn inline(&self, stored: Option<TemplateRef>) -> CostReport {
        let mut report = self.clone();
        report.report = stored;
        let mut cut = false;
        let mut keep = |len: usize| {
            cut |= len > INLINE_RESOURCES;
            len.min(INLINE_RESOURCES)
        };
        if let Some(estimate) = &mut report.estimate {
            let n = keep(estimate.resources.len());
            estimate.resources.truncate(n);
            for line in &mut estimate.lines {
                let n = keep(line.logical_ids.len());
                line.logical_ids.truncate(n);
            }
        }
        if let Some(delta) = &mut report.delta {
            delta
                .resources
                .sort_by_key(|r| std::cmp::Reverse(r.delta_monthly.micros().abs()));
            let n = keep(delta.resources.len());
            delta.resources.truncate(n);
        }
        report.truncated = cut;
        report
    }

    /// One line for messages and pages: `+$98.55/month ($0.00 → $98.55)`.
    pub fn headline(&self) -> String {
        match (&self.delta, &self.reason) {
            (Some(d), _) => {
                let sign = if d.delta_monthly.micros() >= 0 {
                    "+"
                } else {
                    ""
                };
                let mut line = format!(
                    "{sign}{}/month ({} → {})",
                    d.delta_monthly, d.before_monthly, d.after_monthly
                );
                if d.delta_high_monthly != d.delta_monthly {
                    line.push_str(&format!(
                        ", up to {sign}{} with usage",
                        d.delta_high_monthly
                    ));
                }
                if !d.not_priced.is_empty() {
                    line.push_str(&format!(", {} resource(s) not priced", d.not_priced.len()));
                }
                if self.exceeds_budget {
                    if let Some(budget) = self.monthly_budget {
                        line.push_str(&format!(" — EXCEEDS the budget of {budget}/month"));
                    }
                }
                line
            }
            (None, Some(reason)) => format!("estimate unavailable: {reason}"),
            (None, None) => "estimate unavailable".into(),
        }
    }

    /// Lines under the headline on where prices came from and why any fell back to the offline
    /// book: `Prices: …`, then one `price note: …` each.
    pub fn price_lines(&self) -> Vec<String> {
        let Some(estimate) = &self.estimate else {
            return Vec::new();
        };
        let mut lines = Vec::new();
        if !estimate.price_source.is_empty() {
            lines.push(format!("Prices: {}", estimate.price_source));
        }
        lines.extend(
            estimate
                .price_notes
                .iter()
                .map(|note| format!("price note: {note}")),
        );
        lines
    }
}
