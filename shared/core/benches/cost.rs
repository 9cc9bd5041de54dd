//! Time to price a template from the in-memory price book: the catalog's VPC stack per environment
//! and a synthetic 100-resource template; and the whole catalog of one environment priced as the
//! cost step does, its list prices read from the cache (no API call).
//! Run with `cargo bench -p infra-agent-shared --bench cost`.

use std::time::{Duration, Instant};

use std::collections::BTreeMap;
use std::sync::Mutex;

use infra_agent_core::catalog::{Catalog, CATALOG_FILE, TEMPLATES_DIR};
use infra_agent_core::cost::price_list::{ListedPrice, PriceApiError, ProductQuery};
use infra_agent_core::cost::{
    estimate, estimate_priced, refresh_book, CachedPrice, PriceBook, PriceCache, PriceOrigin,
    PriceSource, Usd,
};
use infra_agent_core::environment::environment_parameters;
use infra_agent_core::environment::EnvironmentConfig;
use infra_agent_core::naming::Env;
use infra_agent_core::template::Template;
use infra_agent_core::validation::ValidationContext;
use infra_agent_core::StepError;

const VPC: &str = include_str!("../../../infra/stacks/vpc.yaml");
const RUNS: usize = 2_000;

/// 100 resources of every priced kind, with conditions and parameter Refs to resolve.
fn synthetic() -> String {
    let mut body = String::from(
        "Parameters:\n  Environment: { Type: String }\n  Nodes: { Type: Number, Default: 3 }\n\
         Conditions:\n  IsPrd: !Equals [!Ref Environment, prd]\nResources:\n",
    );
    let kinds = [
        "{ Type: AWS::EC2::EIP }",
        "{ Type: AWS::EC2::NatGateway, Condition: IsPrd, Properties: { SubnetId: s } }",
        "{ Type: AWS::EKS::Nodegroup, Properties: { InstanceTypes: [!If [IsPrd, m5.large, t3.medium]], ScalingConfig: { DesiredSize: !Ref Nodes } } }",
        "{ Type: AWS::EC2::Volume, Properties: { Size: 100, VolumeType: gp3, Iops: 4000 } }",
        "{ Type: AWS::ElasticLoadBalancingV2::LoadBalancer, Properties: { Subnets: [a, b] } }",
        "{ Type: AWS::EC2::VPCEndpoint, Properties: { VpcEndpointType: Interface, SubnetIds: [a, b, c] } }",
        "{ Type: AWS::Logs::LogGroup, Properties: { RetentionInDays: 30 } }",
        "{ Type: AWS::KMS::Key }",
        "{ Type: AWS::RDS::DBInstance, Properties: { Engine: postgres, DBInstanceClass: db.t3.medium, AllocatedStorage: 50 } }",
        "{ Type: AWS::EC2::Subnet, Properties: { CidrBlock: 10.0.0.0/24 } }",
    ];
    for i in 0..100 {
        body.push_str(&format!("  R{i}: {}\n", kinds[i % kinds.len()]));
    }
    body
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn bench(name: &str, body: &str, env: Env, book: &PriceBook) {
    let config = EnvironmentConfig::builtin(env).expect("built-in environment");
    let ctx = ValidationContext {
        env: Some(env),
        parameters: environment_parameters(&config, "0.0.0"),
    };
    let template = Template::parse(name, body).expect("bench template parses");
    let mut priced = Vec::with_capacity(RUNS);
    let mut parsed_and_priced = Vec::with_capacity(RUNS);
    let mut total = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let estimate = estimate(&template, &ctx, &config.region, book).expect("estimate");
        priced.push(start.elapsed());
        total = Some(estimate.total_monthly);
        let start = Instant::now();
        let template = Template::parse(name, body).expect("bench template parses");
        std::hint::black_box(estimate_ok(&template, &ctx, &config.region, book));
        parsed_and_priced.push(start.elapsed());
    }
    priced.sort();
    parsed_and_priced.sort();
    println!(
        "{name:<24} {env}  price p50 {:>9.1?}  p99 {:>9.1?}   parse+price p50 {:>9.1?}  p99 {:>9.1?}   total {}",
        percentile(&priced, 50),
        percentile(&priced, 99),
        percentile(&parsed_and_priced, 50),
        percentile(&parsed_and_priced, 99),
        total.map(|t| t.to_string()).unwrap_or_default(),
    );
}

fn estimate_ok(
    template: &Template,
    ctx: &ValidationContext,
    region: &str,
    book: &PriceBook,
) -> bool {
    estimate(template, ctx, region, book).is_ok()
}

fn main() {
    let start = Instant::now();
    let book = PriceBook::builtin("us-east-1").expect("built-in price book");
    println!(
        "price book load: {:.1?} (once per process)",
        start.elapsed()
    );
    println!("{RUNS} runs each");
    let synthetic = synthetic();
    for env in Env::ALL {
        bench("infra/stacks/vpc.yaml", VPC, env, book);
    }
    for env in [Env::Dev, Env::Prd] {
        bench("synthetic-100-resources", &synthetic, env, book);
    }
    catalog_from_cache(book);
}

/// The cache as the cost step sees DynamoDB, in memory.
#[derive(Default)]
struct MemoryCache(Mutex<BTreeMap<String, CachedPrice>>);

#[async_trait::async_trait]
impl PriceCache for MemoryCache {
    async fn cached_prices(
        &self,
        region: &str,
        query_ids: &[String],
        _now_epoch: i64,
    ) -> Result<BTreeMap<String, CachedPrice>, StepError> {
        let cached = self
            .0
            .lock()
            .map_err(|e| StepError::Configuration(e.to_string()))?;
        Ok(query_ids
            .iter()
            .filter_map(|id| {
                cached
                    .get(&format!("{region}/{id}"))
                    .map(|p| (id.clone(), p.clone()))
            })
            .collect())
    }

    async fn cache_price(&self, price: &CachedPrice) -> Result<(), StepError> {
        let mut cached = self
            .0
            .lock()
            .map_err(|e| StepError::Configuration(e.to_string()))?;
        cached.insert(
            format!("{}/{}", price.region, price.query_id),
            price.clone(),
        );
        Ok(())
    }
}

/// Fills the cache once (as a first deployment does); after that it must not be asked.
struct FillOnce {
    allowed: bool,
}

#[async_trait::async_trait]
impl PriceSource for FillOnce {
    async fn listed_price(&self, query: &ProductQuery) -> Result<ListedPrice, PriceApiError> {
        assert!(
            self.allowed,
            "priced from the API, not the cache: {}",
            query.id()
        );
        Ok(ListedPrice {
            sku: format!("SKU-{}", query.id().len()),
            usage_type: String::new(),
            unit: "Hrs".into(),
            usd: Usd::from_micros(45_000),
            description: "bench".into(),
            effective_date: "2025-06-01T00:00:00Z".into(),
        })
    }
}

/// Every catalog template of one environment: prices refreshed from the cache, then each template
/// parsed and priced, as the cost step does per stack.
fn catalog_from_cache(book: &PriceBook) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let catalog = Catalog::load(&root.join(CATALOG_FILE), &root.join(TEMPLATES_DIR))
        .expect("the catalog loads");
    let templates: Vec<(String, String)> = catalog
        .stacks()
        .map(|s| {
            let body = std::fs::read_to_string(&s.template).expect("catalog template");
            (s.key.to_string(), body)
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let cache = MemoryCache::default();
    let now = time::OffsetDateTime::now_utc();
    runtime.block_on(refresh_book(book, &FillOnce { allowed: true }, &cache, now));
    const CATALOG_RUNS: usize = 200;
    for env in Env::ALL {
        let config = EnvironmentConfig::builtin(env).expect("built-in environment");
        let ctx = ValidationContext {
            env: Some(env),
            parameters: environment_parameters(&config, "0.0.0"),
        };
        let mut times = Vec::with_capacity(CATALOG_RUNS);
        let mut from_cache = 0;
        for _ in 0..CATALOG_RUNS {
            let start = Instant::now();
            let prices = runtime.block_on(refresh_book(
                book,
                &FillOnce { allowed: false },
                &cache,
                now,
            ));
            for (name, body) in &templates {
                let template = Template::parse(name, body).expect("catalog template parses");
                std::hint::black_box(
                    estimate_priced(&template, &ctx, &config.region, &prices).expect("priced"),
                );
            }
            times.push(start.elapsed());
            from_cache = prices
                .origins
                .values()
                .filter(|o| **o == PriceOrigin::Cache)
                .count();
        }
        times.sort();
        println!(
            "whole catalog ({} stacks) {env}, prices from the cache ({from_cache} cached): p50 {:>9.1?}  p99 {:>9.1?}  (target < 50 ms)",
            templates.len(),
            percentile(&times, 50),
            percentile(&times, 99),
        );
    }
}
