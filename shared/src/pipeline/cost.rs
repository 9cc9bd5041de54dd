//! The cost step: what the change set's template costs per month in its environment, against what
//! the stack costs as deployed now, and whether the difference exceeds the environment's budget.

use serde::{Deserialize, Serialize};

use crate::aws::Pipeline;
use crate::contract::change_set::{ChangeSetResult, ChangeSetType};
use crate::contract::deploy::{DeployRequest, TemplateRef};
use crate::cost::{
    delta, estimate_priced, refresh_book, CostDelta, CostEstimate, PriceBook, PricedBook, Usd,
};
use crate::environment::EnvironmentConfig;
use crate::pipeline::change_set::offered_parameters;
use crate::pipeline::templates::get_template;
use crate::template::Template;
use crate::validation::ValidationContext;
use crate::StepError;

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

pub async fn estimate_cost(
    pipeline: &Pipeline,
    input: &CostInput,
) -> Result<CostReport, StepError> {
    let request = &input.request;
    let config = EnvironmentConfig::builtin(request.env)
        .map_err(|e| StepError::Configuration(e.to_string()))?;
    let ctx = ValidationContext {
        env: Some(request.env),
        parameters: offered_parameters(&config, request),
    };
    let offline = match PriceBook::builtin(&config.region) {
        Ok(book) => book,
        Err(e) => return Ok(unavailable(e.to_string())),
    };
    // Both sides of the delta are priced from one refresh, so the delta shows changes in the
    // template and never a price that moved in between.
    let prices = refresh_book(
        offline,
        &pipeline.pricing,
        &pipeline.store,
        time::OffsetDateTime::now_utc(),
    )
    .await;
    for note in &prices.notes {
        tracing::warn!(%note, "price kept from the offline book");
    }
    let after = match priced(pipeline, &request.template, &ctx, &config.region, &prices).await? {
        Ok(estimate) => estimate,
        Err(reason) => return Ok(unavailable(reason)),
    };
    let before = match input.change_set.change_set_type {
        ChangeSetType::Create => CostEstimate::empty(&after.region, &after.prices_as_of),
        ChangeSetType::Update => match pipeline
            .store
            .last_succeeded(request.env, request.stack.as_str())
            .await?
        {
            Some(record) => match priced(
                pipeline,
                &record.template_ref(),
                &ctx,
                &config.region,
                &prices,
            )
            .await?
            {
                Ok(estimate) => estimate,
                Err(reason) => return Ok(unavailable(format!("the deployed template: {reason}"))),
            },
            None => {
                return Ok(unavailable(
                    "no successful deployment of this stack is recorded to compare with".into(),
                ))
            }
        },
    };
    let delta = delta(&before, &after);
    let budget = Usd::dollars(i64::from(config.monthly_budget_usd));
    Ok(CostReport {
        available: true,
        reason: None,
        exceeds_budget: delta.exceeds_budget(budget),
        monthly_budget: Some(budget),
        estimate: Some(after),
        delta: Some(delta),
    })
}

fn unavailable(reason: String) -> CostReport {
    tracing::warn!(%reason, "cost estimate unavailable");
    CostReport {
        available: false,
        reason: Some(reason),
        estimate: None,
        delta: None,
        monthly_budget: None,
        exceeds_budget: false,
    }
}

/// Estimates a stored template; a template or price problem is a reason, not a failure.
async fn priced(
    pipeline: &Pipeline,
    template: &TemplateRef,
    ctx: &ValidationContext,
    region: &str,
    prices: &PricedBook,
) -> Result<Result<CostEstimate, String>, StepError> {
    let body = get_template(&pipeline.s3, template).await?;
    let parsed = match Template::parse(&template.key, &body) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e.to_string())),
    };
    Ok(estimate_priced(&parsed, ctx, region, prices).map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::CostEstimate;

    fn report(price_source: &str, price_notes: &[&str]) -> CostReport {
        let mut estimate = CostEstimate::empty("us-east-1", "2025-06-01");
        estimate.price_source = price_source.into();
        estimate.price_notes = price_notes.iter().map(|n| n.to_string()).collect();
        let delta = delta(&CostEstimate::empty("us-east-1", "2025-06-01"), &estimate);
        CostReport {
            available: true,
            reason: None,
            estimate: Some(estimate),
            delta: Some(delta),
            monthly_budget: None,
            exceeds_budget: false,
        }
    }

    #[test]
    fn price_fallback_is_told_below_the_headline_not_in_it() {
        let report = report(
            "offline price book (as of 2025-06-01)",
            &["Price List API unavailable: timeout; offline price book of 2025-06-01 used for 27 price(s)"],
        );
        assert_eq!(report.headline(), "+$0.00/month ($0.00 → $0.00)");
        assert_eq!(
            report.price_lines(),
            [
                "Prices: offline price book (as of 2025-06-01)",
                "price note: Price List API unavailable: timeout; offline price book of 2025-06-01 used for 27 price(s)",
            ]
        );
    }

    #[test]
    fn report_without_an_estimate_has_no_price_lines() {
        assert!(unavailable("no template".into()).price_lines().is_empty());
    }
}
