//! Cost estimates: what a template deploys in one environment costs per month at AWS list prices,
//! with the formula of every line, usage as stated ranges, and what could not be priced.

mod book;
mod delta;
mod deployed;
mod money;
pub mod price_list;
mod pricing;
mod refresh;

pub use book::{PriceBook, PriceBookError, Span, UsageAssumptions, REGIONS};
pub use delta::{delta, CostDelta, ResourceDelta};
pub use money::{MoneyError, Usd};
pub use refresh::{
    refresh_book, CachedPrice, PriceCache, PriceOrigin, PriceSource, PricedBook,
    PRICE_CACHE_SECONDS,
};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::template::Template;
use crate::validation::ValidationContext;
use pricing::{Charge, UsageRange};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    #[error(transparent)]
    PriceBook(#[from] PriceBookError),
    #[error("the price book is for {book}, the estimate for {region}")]
    RegionMismatch { book: String, region: String },
}

/// A monthly estimate. `total_monthly` is the sum of `lines` (fixed charges); `ranges` are
/// usage-based and come on top; `resources` breaks both down per logical id, for deltas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    pub region: String,
    pub total_monthly: Usd,
    pub lines: Vec<CostLine>,
    pub ranges: Vec<CostRange>,
    pub not_priced: Vec<NotPriced>,
    pub prices_as_of: String,
    pub resources: Vec<ResourceCost>,
    /// Where the prices came from: the offline book alone, or the Price List API (fetched or
    /// cached) for the prices it can give and the book for the rest.
    #[serde(default)]
    pub price_source: String,
    /// Why prices fell back to the offline book, when any did.
    #[serde(default)]
    pub price_notes: Vec<String>,
}

/// Resources of one type charged at one unit price, e.g. three NAT gateways.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    pub resource_type: String,
    pub logical_ids: Vec<String>,
    pub quantity: u64,
    pub unit_price: Usd,
    pub unit: String,
    pub monthly: Usd,
    /// `$0.045/hr × 3 × 730 hrs`, with what is counted in parentheses when the type does not say.
    pub formula: String,
}

/// A usage-based cost, low to high under a stated assumption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostRange {
    pub resource_type: String,
    pub logical_ids: Vec<String>,
    pub usage: String,
    pub low_monthly: Usd,
    pub high_monthly: Usd,
    pub formula: String,
    pub assumption: String,
}

/// A resource (or part of one) the estimate does not include, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotPriced {
    pub resource_type: String,
    pub logical_id: String,
    pub reason: String,
}

/// One resource's share: fixed charges, and fixed plus its usage ranges low and high.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceCost {
    pub logical_id: String,
    pub resource_type: String,
    pub monthly: Usd,
    pub low_monthly: Usd,
    pub high_monthly: Usd,
}

impl CostEstimate {
    /// Fixed total plus the low ends of every range.
    pub fn low_monthly(&self) -> Usd {
        self.total_monthly
            .saturating_add(self.ranges.iter().map(|r| r.low_monthly).sum())
    }

    /// Fixed total plus the high ends of every range.
    pub fn high_monthly(&self) -> Usd {
        self.total_monthly
            .saturating_add(self.ranges.iter().map(|r| r.high_monthly).sum())
    }
}

/// Estimates `template` as deployed with `ctx`'s parameters in `region`, priced from `book`.
/// Pure and synchronous: the caller chooses the book (built-in, or refreshed from the API).
pub fn estimate(
    template: &Template,
    ctx: &ValidationContext,
    region: &str,
    book: &PriceBook,
) -> Result<CostEstimate, CostError> {
    if book.region != region {
        return Err(CostError::RegionMismatch {
            book: book.region.clone(),
            region: region.to_string(),
        });
    }
    let mut lines = Grouped::<LineKey, Charge>::default();
    let mut ranges = Grouped::<RangeKey, UsageRange>::default();
    let mut not_priced = Vec::new();
    let mut resources = Vec::new();
    let deployed = deployed::resources(template, ctx, region);
    let siblings: pricing::Siblings<'_> = deployed
        .iter()
        .map(|r| (r.logical_id.as_str(), r))
        .collect();
    for resource in &deployed {
        let mut priced = pricing::price(resource, &siblings, book);
        let resource_type = resource
            .resource_type
            .clone()
            .unwrap_or_else(|| "(no type)".into());
        if let Some(condition) = &resource.undecided_condition {
            let assumed = format!("if condition {condition} holds");
            for charge in &mut priced.charges {
                charge.note = join_note(&charge.note, &assumed);
            }
            for range in &mut priced.ranges {
                range.assumption = format!("{}; {assumed}", range.assumption);
            }
        }
        let fixed: Usd = priced
            .charges
            .iter()
            .map(|c| c.monthly_exact().to_cents())
            .sum();
        let low: Usd = priced.ranges.iter().map(|r| r.low.to_cents()).sum();
        let high: Usd = priced.ranges.iter().map(|r| r.high.to_cents()).sum();
        resources.push(ResourceCost {
            logical_id: resource.logical_id.clone(),
            resource_type: resource_type.clone(),
            monthly: fixed,
            low_monthly: fixed.saturating_add(low),
            high_monthly: fixed.saturating_add(high),
        });
        for charge in priced.charges {
            let key = LineKey {
                resource_type: resource_type.clone(),
                unit: charge.unit,
                unit_price: charge.unit_price,
                hours: charge.hours,
                note: charge.note.clone(),
            };
            lines.add(key, &resource.logical_id, charge);
        }
        for range in priced.ranges {
            let key = RangeKey {
                resource_type: resource_type.clone(),
                usage: range.usage.clone(),
                formula: range.formula.clone(),
                assumption: range.assumption.clone(),
            };
            ranges.add(key, &resource.logical_id, range);
        }
        not_priced.extend(priced.not_priced.into_iter().map(|reason| NotPriced {
            resource_type: resource_type.clone(),
            logical_id: resource.logical_id.clone(),
            reason,
        }));
    }
    let lines: Vec<CostLine> = lines.groups.into_iter().map(line).collect();
    Ok(CostEstimate {
        region: region.to_string(),
        total_monthly: lines.iter().map(|l| l.monthly).sum(),
        lines,
        ranges: ranges.groups.into_iter().map(range).collect(),
        not_priced,
        prices_as_of: book.as_of.clone(),
        resources,
        price_source: refresh::offline_source(book),
        price_notes: Vec::new(),
    })
}

/// Estimates with a refreshed book, saying where its prices came from.
pub fn estimate_priced(
    template: &Template,
    ctx: &ValidationContext,
    region: &str,
    priced: &PricedBook,
) -> Result<CostEstimate, CostError> {
    let mut estimate = estimate(template, ctx, region, &priced.book)?;
    estimate.price_source = priced.source();
    estimate.price_notes = priced.notes.clone();
    Ok(estimate)
}

/// Loads the built-in book for `region` and estimates with it.
pub fn estimate_with_builtin_prices(
    template: &Template,
    ctx: &ValidationContext,
    region: &str,
) -> Result<CostEstimate, CostError> {
    estimate(template, ctx, region, PriceBook::builtin(region)?)
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct LineKey {
    resource_type: String,
    unit: &'static str,
    unit_price: Usd,
    hours: Option<u32>,
    note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RangeKey {
    resource_type: String,
    usage: String,
    formula: String,
    assumption: String,
}

/// Items grouped by key in order of first appearance, so the output follows the template.
struct Grouped<K, V> {
    index: BTreeMap<K, usize>,
    groups: Vec<(K, Vec<String>, Vec<V>)>,
}

impl<K, V> Default for Grouped<K, V> {
    fn default() -> Self {
        Grouped {
            index: BTreeMap::new(),
            groups: Vec::new(),
        }
    }
}

impl<K: Ord + Clone, V> Grouped<K, V> {
    fn add(&mut self, key: K, logical_id: &str, item: V) {
        let at = *self.index.entry(key.clone()).or_insert_with(|| {
            self.groups.push((key, Vec::new(), Vec::new()));
            self.groups.len() - 1
        });
        if let Some((_, ids, items)) = self.groups.get_mut(at) {
            if !ids.iter().any(|id| id == logical_id) {
                ids.push(logical_id.to_string());
            }
            items.push(item);
        }
    }
}

fn line((key, logical_ids, charges): (LineKey, Vec<String>, Vec<Charge>)) -> CostLine {
    let quantity: u64 = charges.iter().map(|c| c.quantity).sum();
    let price = key.unit_price;
    let monthly = price
        .times(quantity)
        .times(u64::from(key.hours.unwrap_or(1)))
        .to_cents();
    let formula = if price == Usd::ZERO {
        "no charge".to_string()
    } else {
        let counted = match key.hours {
            Some(hours) => format!("{price}/hr × {quantity} × {hours} hrs"),
            None => {
                let what = match key.unit {
                    "GB-month" => " GB",
                    "IOPS-month" => " IOPS",
                    "MBps-month" => " MB/s",
                    _ => "",
                };
                format!("{price}/{} × {quantity}{what}", key.unit)
            }
        };
        if key.note.is_empty() {
            counted
        } else {
            format!("{counted} ({})", key.note)
        }
    };
    CostLine {
        resource_type: key.resource_type,
        logical_ids,
        quantity,
        unit_price: price,
        unit: key.unit.to_string(),
        monthly,
        formula,
    }
}

fn range((key, logical_ids, items): (RangeKey, Vec<String>, Vec<UsageRange>)) -> CostRange {
    let count = items.len();
    CostRange {
        resource_type: key.resource_type,
        logical_ids,
        usage: key.usage,
        low_monthly: items.iter().map(|r| r.low).sum::<Usd>().to_cents(),
        high_monthly: items.iter().map(|r| r.high).sum::<Usd>().to_cents(),
        formula: if count > 1 {
            format!("{} × {count}", key.formula)
        } else {
            key.formula
        },
        assumption: key.assumption,
    }
}

fn join_note(note: &str, more: &str) -> String {
    if note.is_empty() {
        more.to_string()
    } else {
        format!("{note}, {more}")
    }
}

#[cfg(test)]
mod tests;
