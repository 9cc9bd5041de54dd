//! Prices refreshed from the AWS Price List API: every price of the offline book that has a
//! `GetProducts` query is taken from the cache, else from the API, else kept from the book.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::book::PriceBook;
use super::money::Usd;
use super::price_list::PriceApiError;
use super::price_list::{self, ListedPrice, ProductQuery};
use crate::StepError;

/// How long a listed price is trusted. AWS announces price changes weeks ahead and an estimate
/// is a guide, so a week-old price is good enough and keeps API calls to about one a week.
pub const PRICE_CACHE_SECONDS: i64 = 7 * 24 * 60 * 60;

/// Every price refreshed here is hourly; a listing in another unit means the query matched the
/// wrong product, and multiplying it by 730 hours would be nonsense.
const HOURLY_UNIT: &str = "Hrs";

/// What the refreshable prices cover, for the line that says where prices came from.
const REFRESHED_KINDS: &str = "NAT gateway, public IPv4, EKS control plane and EC2 instance hours";

/// Where listed prices come from: the Price List API in AWS, a fake in tests.
#[async_trait::async_trait]
pub trait PriceSource: Send + Sync {
    async fn listed_price(&self, query: &ProductQuery) -> Result<ListedPrice, PriceApiError>;
}

/// Listed prices kept between runs (DynamoDB in the pipeline).
#[async_trait::async_trait]
pub trait PriceCache: Send + Sync {
    /// The cached prices of `region` among `query_ids`, by query id. Expired ones may be
    /// returned; `refresh_book` ignores them.
    async fn cached_prices(
        &self,
        region: &str,
        query_ids: &[String],
        now_epoch: i64,
    ) -> Result<BTreeMap<String, CachedPrice>, StepError>;

    async fn cache_price(&self, price: &CachedPrice) -> Result<(), StepError>;
}

/// A listed price as cached: what the API said, when, and until when it is trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedPrice {
    pub region: String,
    /// `ProductQuery::id` of the query that found it.
    pub query_id: String,
    /// Micro-dollars: exact, and a DynamoDB number without floating point on the way.
    pub price_micros: i64,
    pub unit: String,
    pub sku: String,
    pub effective_date: String,
    pub fetched_at: String,
    /// Epoch seconds; also the table's TTL attribute.
    pub expires_epoch: i64,
}

impl CachedPrice {
    /// TTL deletion runs up to days late, so every reader checks the expiry itself.
    pub fn is_fresh(&self, now_epoch: i64) -> bool {
        self.expires_epoch > now_epoch
    }

    pub fn usd(&self) -> Usd {
        Usd::from_micros(self.price_micros)
    }
}

/// Where one price of a `PricedBook` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PriceOrigin {
    PriceListApi,
    Cache,
    Offline,
}

/// The offline book with the prices the API (or its cache) could give put in, and the record of
/// which did and why the others did not.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedBook {
    pub book: PriceBook,
    /// Origin of every price that has a query, by its path in the book
    /// (`vpc.nat_gateway_hour`, `ec2.instance_hour.m5.large`). Other prices are always offline.
    pub origins: BTreeMap<String, PriceOrigin>,
    /// Why prices fell back to the offline book; empty when none did.
    pub notes: Vec<String>,
}

impl PricedBook {
    /// The offline book as is, for when no refresh is attempted (CLI, tests).
    pub fn offline(book: &PriceBook) -> PricedBook {
        PricedBook {
            book: book.clone(),
            origins: refreshable(book)
                .iter()
                .map(|slot| (slot.path(), PriceOrigin::Offline))
                .collect(),
            notes: Vec::new(),
        }
    }

    /// One line on where the prices came from, for the estimate and its readers.
    pub fn source(&self) -> String {
        let count = |origin| self.origins.values().filter(|o| **o == origin).count();
        let (fetched, cached, offline) = (
            count(PriceOrigin::PriceListApi),
            count(PriceOrigin::Cache),
            count(PriceOrigin::Offline),
        );
        let book = offline_source(&self.book);
        if fetched + cached == 0 {
            return book;
        }
        let mut counts = Vec::new();
        if fetched > 0 {
            counts.push(format!("{fetched} fetched"));
        }
        if cached > 0 {
            counts.push(format!("{cached} cached"));
        }
        if offline > 0 {
            counts.push(format!("{offline} from the offline book"));
        }
        format!(
            "Price List API ({}) for {REFRESHED_KINDS}; {book} for the rest",
            counts.join(", ")
        )
    }
}

/// How an estimate priced from the book alone names its source.
pub(crate) fn offline_source(book: &PriceBook) -> String {
    format!("offline price book (as of {})", book.as_of)
}

/// Refreshes every price of `offline` that has a query: from `cache` if fresh there, else from
/// `source` (and then cached). Never fails: a price that cannot be had stays the offline one,
/// and `notes` say why.
pub async fn refresh_book<S, C>(
    offline: &PriceBook,
    source: &S,
    cache: &C,
    now: OffsetDateTime,
) -> PricedBook
where
    S: PriceSource + ?Sized,
    C: PriceCache + ?Sized,
{
    let region = offline.region.clone();
    let now_epoch = now.unix_timestamp();
    let mut priced = PricedBook::offline(offline);
    let wanted: Vec<(HourlyPrice, ProductQuery)> = refreshable(offline)
        .into_iter()
        .map(|slot| {
            let query = slot.query(&region);
            (slot, query)
        })
        .collect();
    let ids: Vec<String> = wanted.iter().map(|(_, q)| q.id()).collect();
    let (mut cached, mut cache_works) = match cache.cached_prices(&region, &ids, now_epoch).await {
        Ok(found) => (found, true),
        Err(e) => {
            priced.notes.push(format!(
                "price cache unreadable ({e}); prices asked of the Price List API"
            ));
            (BTreeMap::new(), false)
        }
    };
    // The first failed call stops the rest: when the API cannot be reached (no Pricing API on
    // the emulator, no route out of a private subnet, no permission), every call would fail
    // the same way after the same timeout.
    let mut api_down: Option<String> = None;
    let mut not_asked = 0usize;
    for ((slot, query), id) in wanted.into_iter().zip(ids) {
        let path = slot.path();
        if let Some(hit) = cached.remove(&id).filter(|c| c.is_fresh(now_epoch)) {
            slot.set(&mut priced.book, hit.usd());
            priced.origins.insert(path, PriceOrigin::Cache);
            continue;
        }
        if api_down.is_some() {
            not_asked += 1;
            continue;
        }
        match source.listed_price(&query).await {
            Ok(listed) if listed.unit != HOURLY_UNIT => priced.notes.push(format!(
                "{path}: the Price List API lists sku {} per '{}', not per hour; offline price kept",
                listed.sku, listed.unit
            )),
            Ok(listed) => {
                slot.set(&mut priced.book, listed.usd);
                priced.origins.insert(path, PriceOrigin::PriceListApi);
                if cache_works {
                    let entry = cache_entry(&region, id, &listed, now);
                    if let Err(e) = cache.cache_price(&entry).await {
                        priced
                            .notes
                            .push(format!("price cache not written ({e}); prices stay uncached"));
                        cache_works = false;
                    }
                }
            }
            Err(e @ PriceApiError::Call { .. }) => {
                api_down = Some(e.to_string());
                not_asked += 1;
            }
            Err(e) => priced
                .notes
                .push(format!("{path}: {e}; offline price kept")),
        }
    }
    if let Some(reason) = api_down {
        priced.notes.push(format!(
            "Price List API unavailable: {reason}; offline price book of {} used for {not_asked} price(s)",
            offline.as_of
        ));
    }
    priced
}

fn cache_entry(
    region: &str,
    query_id: String,
    listed: &ListedPrice,
    now: OffsetDateTime,
) -> CachedPrice {
    CachedPrice {
        region: region.to_string(),
        query_id,
        price_micros: listed.usd.micros(),
        unit: listed.unit.clone(),
        sku: listed.sku.clone(),
        effective_date: listed.effective_date.clone(),
        fetched_at: crate::clock::rfc3339(now),
        expires_epoch: now.unix_timestamp() + PRICE_CACHE_SECONDS,
    }
}

/// A price of the book that a `ProductQuery` can find; all are per hour.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HourlyPrice {
    NatGateway,
    PublicIpv4,
    EksStandard,
    EksExtended,
    Instance(String),
}

/// The book's prices that have a query, in a fixed order (instance types sorted).
fn refreshable(book: &PriceBook) -> Vec<HourlyPrice> {
    let mut prices = vec![
        HourlyPrice::NatGateway,
        HourlyPrice::PublicIpv4,
        HourlyPrice::EksStandard,
        HourlyPrice::EksExtended,
    ];
    prices.extend(
        book.ec2
            .instance_hour
            .keys()
            .cloned()
            .map(HourlyPrice::Instance),
    );
    prices
}

impl HourlyPrice {
    /// The price's path in the book file.
    fn path(&self) -> String {
        match self {
            HourlyPrice::NatGateway => "vpc.nat_gateway_hour".into(),
            HourlyPrice::PublicIpv4 => "vpc.public_ipv4_hour".into(),
            HourlyPrice::EksStandard => "eks.cluster_hour_standard".into(),
            HourlyPrice::EksExtended => "eks.cluster_hour_extended".into(),
            HourlyPrice::Instance(instance_type) => format!("ec2.instance_hour.{instance_type}"),
        }
    }

    fn query(&self, region: &str) -> ProductQuery {
        match self {
            HourlyPrice::NatGateway => price_list::nat_gateway_hour(region),
            HourlyPrice::PublicIpv4 => price_list::public_ipv4_hour(region),
            HourlyPrice::EksStandard => price_list::eks_cluster_hour(region, false),
            HourlyPrice::EksExtended => price_list::eks_cluster_hour(region, true),
            HourlyPrice::Instance(instance_type) => {
                price_list::instance_hour(region, instance_type)
            }
        }
    }

    fn set(&self, book: &mut PriceBook, usd: Usd) {
        match self {
            HourlyPrice::NatGateway => book.vpc.nat_gateway_hour = usd,
            HourlyPrice::PublicIpv4 => book.vpc.public_ipv4_hour = usd,
            HourlyPrice::EksStandard => book.eks.cluster_hour_standard = usd,
            HourlyPrice::EksExtended => book.eks.cluster_hour_extended = usd,
            HourlyPrice::Instance(instance_type) => {
                book.ec2.instance_hour.insert(instance_type.clone(), usd);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    const REGION: &str = "us-east-1";

    fn offline() -> &'static PriceBook {
        PriceBook::builtin(REGION).expect("the built-in us-east-1 book parses")
    }

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2025-07-01 12:00 UTC)
    }

    fn usd(text: &str) -> Usd {
        Usd::parse(text).expect("test amount")
    }

    fn listed(usd_text: &str, unit: &str) -> ListedPrice {
        ListedPrice {
            sku: "TESTSKU".into(),
            usage_type: "NatGateway-Hours".into(),
            unit: unit.into(),
            usd: usd(usd_text),
            description: "test price".into(),
            effective_date: "2025-06-01T00:00:00Z".into(),
        }
    }

    /// Answers the queries it knows, `NotFound` for the rest, or a call failure for all when down.
    #[derive(Default)]
    struct FakeApi {
        prices: BTreeMap<String, ListedPrice>,
        down: bool,
        calls: Mutex<Vec<String>>,
    }

    impl FakeApi {
        fn with(query: ProductQuery, price: ListedPrice) -> FakeApi {
            FakeApi {
                prices: BTreeMap::from([(query.id(), price)]),
                ..FakeApi::default()
            }
        }

        fn calls(&self) -> usize {
            self.calls.lock().map(|c| c.len()).unwrap_or_default()
        }
    }

    #[async_trait::async_trait]
    impl PriceSource for FakeApi {
        async fn listed_price(&self, query: &ProductQuery) -> Result<ListedPrice, PriceApiError> {
            if let Ok(mut calls) = self.calls.lock() {
                calls.push(query.id());
            }
            if self.down {
                return Err(PriceApiError::Call {
                    service_code: query.service_code.into(),
                    filters: "…".into(),
                    message: "dispatch failure: connection refused".into(),
                });
            }
            self.prices
                .get(&query.id())
                .cloned()
                .ok_or_else(|| PriceApiError::NotFound {
                    service_code: query.service_code.into(),
                    filters: query.id(),
                })
        }
    }

    /// Keeps whatever it is given, expired or not, as DynamoDB does until TTL catches up.
    #[derive(Default)]
    struct MemoryCache {
        items: Mutex<BTreeMap<String, CachedPrice>>,
        broken: bool,
    }

    impl MemoryCache {
        fn holding(price: CachedPrice) -> MemoryCache {
            MemoryCache {
                items: Mutex::new(BTreeMap::from([(price.query_id.clone(), price)])),
                broken: false,
            }
        }

        fn get(&self, query_id: &str) -> Option<CachedPrice> {
            self.items.lock().ok()?.get(query_id).cloned()
        }
    }

    #[async_trait::async_trait]
    impl PriceCache for MemoryCache {
        async fn cached_prices(
            &self,
            region: &str,
            query_ids: &[String],
            _now_epoch: i64,
        ) -> Result<BTreeMap<String, CachedPrice>, StepError> {
            if self.broken {
                return Err(StepError::Aws {
                    service: "dynamodb",
                    operation: "BatchGetItem",
                    message: "AccessDeniedException".into(),
                });
            }
            let items = self
                .items
                .lock()
                .map_err(|e| StepError::RecordConflict(e.to_string()))?;
            Ok(query_ids
                .iter()
                .filter_map(|id| items.get(id).filter(|p| p.region == region))
                .map(|p| (p.query_id.clone(), p.clone()))
                .collect())
        }

        async fn cache_price(&self, price: &CachedPrice) -> Result<(), StepError> {
            let mut items = self
                .items
                .lock()
                .map_err(|e| StepError::RecordConflict(e.to_string()))?;
            items.insert(price.query_id.clone(), price.clone());
            Ok(())
        }
    }

    fn cached_nat(usd_text: &str, expires_epoch: i64) -> CachedPrice {
        CachedPrice {
            region: REGION.into(),
            query_id: price_list::nat_gateway_hour(REGION).id(),
            price_micros: usd(usd_text).micros(),
            unit: "Hrs".into(),
            sku: "TESTSKU".into(),
            effective_date: "2025-06-01T00:00:00Z".into(),
            fetched_at: "2025-06-30T12:00:00Z".into(),
            expires_epoch,
        }
    }

    #[tokio::test]
    async fn fresh_cached_price_is_used_without_asking_the_api() {
        let cache = MemoryCache::holding(cached_nat("0.05", now().unix_timestamp() + 60));
        let api = FakeApi::with(price_list::nat_gateway_hour(REGION), listed("0.09", "Hrs"));
        let priced = refresh_book(offline(), &api, &cache, now()).await;
        assert_eq!(priced.book.vpc.nat_gateway_hour, usd("0.05"));
        assert_eq!(priced.origins["vpc.nat_gateway_hour"], PriceOrigin::Cache);
        assert!(!api
            .calls
            .lock()
            .unwrap()
            .contains(&price_list::nat_gateway_hour(REGION).id()));
    }

    #[tokio::test]
    async fn api_price_overrides_the_offline_one_and_is_cached_for_a_week() {
        let cache = MemoryCache::default();
        let api = FakeApi::with(price_list::nat_gateway_hour(REGION), listed("0.052", "Hrs"));
        let priced = refresh_book(offline(), &api, &cache, now()).await;
        assert_eq!(priced.book.vpc.nat_gateway_hour, usd("0.052"));
        assert_eq!(
            priced.origins["vpc.nat_gateway_hour"],
            PriceOrigin::PriceListApi
        );
        let stored = cache
            .get(&price_list::nat_gateway_hour(REGION).id())
            .expect("the fetched price is cached");
        assert_eq!(stored.usd(), usd("0.052"));
        assert_eq!(stored.fetched_at, "2025-07-01T12:00:00Z");
        assert_eq!(stored.expires_epoch, now().unix_timestamp() + 7 * 86_400);
        // Not listed by the fake: NotFound, kept offline, said per price.
        assert_eq!(
            priced.book.vpc.public_ipv4_hour,
            offline().vpc.public_ipv4_hour
        );
        assert_eq!(priced.origins["vpc.public_ipv4_hour"], PriceOrigin::Offline);
        assert!(priced
            .notes
            .iter()
            .any(|n| n.starts_with("vpc.public_ipv4_hour: ") && n.contains("no product matches")));
    }

    #[tokio::test]
    async fn expired_cached_price_is_fetched_again_and_replaced() {
        let cache = MemoryCache::holding(cached_nat("0.05", now().unix_timestamp()));
        let api = FakeApi::with(price_list::nat_gateway_hour(REGION), listed("0.047", "Hrs"));
        let priced = refresh_book(offline(), &api, &cache, now()).await;
        assert_eq!(priced.book.vpc.nat_gateway_hour, usd("0.047"));
        assert_eq!(
            priced.origins["vpc.nat_gateway_hour"],
            PriceOrigin::PriceListApi
        );
        let stored = cache.get(&price_list::nat_gateway_hour(REGION).id());
        assert_eq!(stored.map(|p| p.usd()), Some(usd("0.047")));
    }

    #[tokio::test]
    async fn unreachable_api_keeps_offline_prices_with_one_note_after_one_call() {
        let cache = MemoryCache::default();
        let api = FakeApi {
            down: true,
            ..FakeApi::default()
        };
        let priced = refresh_book(offline(), &api, &cache, now()).await;
        assert_eq!(api.calls(), 1);
        assert_eq!(priced.book, *offline());
        assert!(priced.origins.values().all(|o| *o == PriceOrigin::Offline));
        assert_eq!(priced.notes.len(), 1, "{:?}", priced.notes);
        let note = &priced.notes[0];
        assert!(note.starts_with("Price List API unavailable: "), "{note}");
        assert!(note.contains("connection refused"), "{note}");
        assert!(
            note.ends_with(&format!(
                "offline price book of 2025-06-01 used for {} price(s)",
                priced.origins.len()
            )),
            "{note}"
        );
        assert_eq!(priced.source(), "offline price book (as of 2025-06-01)");
    }

    #[tokio::test]
    async fn unreachable_api_still_uses_what_the_cache_holds() {
        let cache = MemoryCache::holding(cached_nat("0.05", now().unix_timestamp() + 60));
        let api = FakeApi {
            down: true,
            ..FakeApi::default()
        };
        let priced = refresh_book(offline(), &api, &cache, now()).await;
        assert_eq!(priced.book.vpc.nat_gateway_hour, usd("0.05"));
        assert_eq!(priced.notes.len(), 1);
        let others = priced.origins.len() - 1;
        assert_eq!(
            priced.source(),
            format!(
                "Price List API (1 cached, {others} from the offline book) for {REFRESHED_KINDS}; \
                 offline price book (as of 2025-06-01) for the rest"
            )
        );
    }

    #[tokio::test]
    async fn price_listed_in_another_unit_is_not_used() {
        let cache = MemoryCache::default();
        let api = FakeApi::with(
            price_list::nat_gateway_hour(REGION),
            listed("32.85", "GB-Mo"),
        );
        let priced = refresh_book(offline(), &api, &cache, now()).await;
        assert_eq!(
            priced.book.vpc.nat_gateway_hour,
            offline().vpc.nat_gateway_hour
        );
        assert!(cache
            .get(&price_list::nat_gateway_hour(REGION).id())
            .is_none());
        assert!(priced
            .notes
            .iter()
            .any(|n| n.starts_with("vpc.nat_gateway_hour: ") && n.contains("per 'GB-Mo'")));
    }

    #[tokio::test]
    async fn unreadable_cache_falls_through_to_the_api_and_says_so() {
        let cache = MemoryCache {
            broken: true,
            ..MemoryCache::default()
        };
        let api = FakeApi::with(price_list::nat_gateway_hour(REGION), listed("0.046", "Hrs"));
        let priced = refresh_book(offline(), &api, &cache, now()).await;
        assert_eq!(priced.book.vpc.nat_gateway_hour, usd("0.046"));
        assert!(
            priced.notes[0].starts_with("price cache unreadable ("),
            "{:?}",
            priced.notes
        );
        assert!(cache
            .get(&price_list::nat_gateway_hour(REGION).id())
            .is_none());
    }

    #[test]
    fn every_instance_type_of_the_book_has_a_query() {
        let priced = PricedBook::offline(offline());
        for instance_type in offline().ec2.instance_hour.keys() {
            assert!(priced
                .origins
                .contains_key(&format!("ec2.instance_hour.{instance_type}")));
        }
        assert_eq!(priced.origins.len(), offline().ec2.instance_hour.len() + 4);
    }
}
