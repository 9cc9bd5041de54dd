//! The cost step: what the change set's template costs per month in its environment, against what
//! the stack costs as deployed now, and whether the difference exceeds the environment's budget.

use crate::ports::Pipeline;
use crate::StepError;
use infra_agent_core::contract::change_set::ChangeSetType;
use infra_agent_core::contract::cost::{cost_report_key, CostInput, CostReport};
use infra_agent_core::contract::deploy::TemplateRef;
use infra_agent_core::cost::{
    delta, estimate_priced, refresh_book, CostEstimate, PriceBook, PricedBook, Usd,
};
use infra_agent_core::deploy::parameters::offered_parameters;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::template::Template;
use infra_agent_core::validation::ValidationContext;

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
        pipeline.prices.as_ref(),
        pipeline.store.as_ref(),
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
    let report = CostReport {
        available: true,
        reason: None,
        exceeds_budget: delta.exceeds_budget(budget),
        monthly_budget: Some(budget),
        estimate: Some(after),
        delta: Some(delta),
        truncated: false,
        report: None,
    };
    // The whole report is stored once; the state and the record carry it with short lists.
    let text = serde_json::to_string(&report)
        .map_err(|e| StepError::RecordConflict(format!("cannot encode cost report: {e}")))?;
    let stored = pipeline
        .templates
        .put_document(
            &request.template.bucket,
            &cost_report_key(&request.template, &request.deployment_id),
            &text,
        )
        .await?;
    Ok(report.inline(Some(stored)))
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
        truncated: false,
        report: None,
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
    let body = pipeline.templates.get_template(template).await?;
    let parsed = match Template::parse(&template.key, &body) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e.to_string())),
    };
    Ok(estimate_priced(&parsed, ctx, region, prices).map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_agent_core::cost::CostEstimate;

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
            truncated: false,
            report: None,
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
