//! Input and output of the cost step. `available: false` carries the reason no estimate could be
//! made; the deployment goes on with it.

use serde::{Deserialize, Serialize};

use super::change_set::ChangeSetResult;
use super::deploy::DeployRequest;
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
}

impl CostReport {
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
