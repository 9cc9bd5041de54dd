//! Time to price a template from the in-memory price book: the catalog's VPC stack per environment
//! and a synthetic 100-resource template. Run with `cargo bench -p infra-agent-shared --bench cost`.

use std::time::{Duration, Instant};

use shared::cost::{estimate, PriceBook};
use shared::environment::EnvironmentConfig;
use shared::naming::Env;
use shared::pipeline::change_set::environment_parameters;
use shared::template::Template;
use shared::validation::ValidationContext;

const VPC: &str = include_str!("../../infra/stacks/vpc.yaml");
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
}
