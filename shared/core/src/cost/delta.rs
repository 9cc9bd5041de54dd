//! What a change costs: the estimate before and after a change set, per resource and in total,
//! and whether the increase exceeds an environment's monthly budget.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::money::Usd;
use super::{CostEstimate, NotPriced, ResourceCost};

/// Monthly cost before → after. Money in `*_monthly` is fixed charges; `*_high_monthly` adds the
/// high end of usage ranges, for an approver who wants the worst case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostDelta {
    pub region: String,
    pub before_monthly: Usd,
    pub after_monthly: Usd,
    pub delta_monthly: Usd,
    pub delta_high_monthly: Usd,
    /// Resources whose cost changes, were added or were removed, in template order (after, then
    /// removed ones).
    pub resources: Vec<ResourceDelta>,
    /// What the new template leaves unpriced: a delta that hides these would look too small.
    pub not_priced: Vec<NotPriced>,
    pub prices_as_of: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDelta {
    pub logical_id: String,
    pub resource_type: String,
    /// `None`: the resource does not exist on that side.
    pub before_monthly: Option<Usd>,
    pub after_monthly: Option<Usd>,
    pub delta_monthly: Usd,
}

/// The change from `before` (the stack as deployed, or an empty estimate for a new stack) to
/// `after` (the change set's template).
pub fn delta(before: &CostEstimate, after: &CostEstimate) -> CostDelta {
    let old: BTreeMap<&str, &ResourceCost> = before
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r))
        .collect();
    let mut resources = Vec::new();
    for new in &after.resources {
        let previous = old.get(new.logical_id.as_str());
        let changed = match previous {
            Some(prev) => prev.monthly != new.monthly || prev.resource_type != new.resource_type,
            None => true,
        };
        if changed {
            let before_monthly = previous.map(|p| p.monthly);
            resources.push(ResourceDelta {
                logical_id: new.logical_id.clone(),
                resource_type: new.resource_type.clone(),
                before_monthly,
                after_monthly: Some(new.monthly),
                delta_monthly: new
                    .monthly
                    .saturating_sub(before_monthly.unwrap_or(Usd::ZERO)),
            });
        }
    }
    for gone in &before.resources {
        if !after
            .resources
            .iter()
            .any(|r| r.logical_id == gone.logical_id)
        {
            resources.push(ResourceDelta {
                logical_id: gone.logical_id.clone(),
                resource_type: gone.resource_type.clone(),
                before_monthly: Some(gone.monthly),
                after_monthly: None,
                delta_monthly: Usd::ZERO.saturating_sub(gone.monthly),
            });
        }
    }
    CostDelta {
        region: after.region.clone(),
        before_monthly: before.total_monthly,
        after_monthly: after.total_monthly,
        delta_monthly: after.total_monthly.saturating_sub(before.total_monthly),
        delta_high_monthly: after.high_monthly().saturating_sub(before.high_monthly()),
        resources,
        not_priced: after.not_priced.clone(),
        prices_as_of: after.prices_as_of.clone(),
    }
}

impl CostDelta {
    /// True when the change adds more than `monthly_budget` of fixed monthly cost. Usage ranges
    /// are assumptions, so they inform the approver (`delta_high_monthly`) but do not flag.
    pub fn exceeds_budget(&self, monthly_budget: Usd) -> bool {
        self.delta_monthly > monthly_budget
    }
}

impl CostEstimate {
    /// The estimate of nothing: the "before" of a stack that does not exist yet.
    pub fn empty(region: &str, prices_as_of: &str) -> CostEstimate {
        CostEstimate {
            region: region.to_string(),
            total_monthly: Usd::ZERO,
            lines: Vec::new(),
            ranges: Vec::new(),
            not_priced: Vec::new(),
            prices_as_of: prices_as_of.to_string(),
            resources: Vec::new(),
            price_source: String::new(),
            price_notes: Vec::new(),
        }
    }
}
