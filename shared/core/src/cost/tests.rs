//! Hand-computed estimates per priced type, parameter and condition resolution, deltas, budgets and
//! price book errors.

use std::collections::BTreeMap;

use super::*;
use crate::naming::Env;

const REGION: &str = "us-east-1";

fn book() -> &'static PriceBook {
    PriceBook::builtin(REGION).expect("the built-in us-east-1 book parses")
}

fn estimate_yaml(body: &str, parameters: &[(&str, &str)]) -> CostEstimate {
    let template = Template::parse("test.yaml", body).expect("test template parses");
    let ctx = ValidationContext {
        env: Some(Env::Dev),
        parameters: parameters
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    };
    estimate(&template, &ctx, REGION, book()).expect("estimate")
}

fn usd(text: &str) -> Usd {
    Usd::parse(text).expect("test amount")
}

fn line<'a>(estimate: &'a CostEstimate, resource_type: &str) -> &'a CostLine {
    estimate
        .lines
        .iter()
        .find(|l| l.resource_type == resource_type)
        .unwrap_or_else(|| panic!("no line for {resource_type}: {:#?}", estimate.lines))
}

fn lines_of<'a>(estimate: &'a CostEstimate, resource_type: &str) -> Vec<&'a CostLine> {
    estimate
        .lines
        .iter()
        .filter(|l| l.resource_type == resource_type)
        .collect()
}

const THREE_NATS: &str = r#"
Resources:
  EipA: { Type: AWS::EC2::EIP, Properties: { Domain: vpc } }
  EipB: { Type: AWS::EC2::EIP, Properties: { Domain: vpc } }
  EipC: { Type: AWS::EC2::EIP, Properties: { Domain: vpc } }
  NatA: { Type: AWS::EC2::NatGateway, Properties: { AllocationId: !GetAtt EipA.AllocationId, SubnetId: subnet-a } }
  NatB: { Type: AWS::EC2::NatGateway, Properties: { AllocationId: !GetAtt EipB.AllocationId, SubnetId: subnet-b } }
  NatC: { Type: AWS::EC2::NatGateway, Properties: { AllocationId: !GetAtt EipC.AllocationId, SubnetId: subnet-c } }
"#;

#[test]
fn three_nat_gateways_and_their_eips_cost_the_issue_figures() {
    let estimate = estimate_yaml(THREE_NATS, &[]);
    let nat = line(&estimate, "AWS::EC2::NatGateway");
    assert_eq!(nat.quantity, 3);
    assert_eq!(nat.monthly, usd("98.55"));
    assert_eq!(nat.formula, "$0.045/hr × 3 × 730 hrs");
    assert_eq!(nat.logical_ids, ["NatA", "NatB", "NatC"]);
    let ipv4 = line(&estimate, "AWS::EC2::EIP");
    assert_eq!(ipv4.quantity, 3);
    assert_eq!(ipv4.monthly, usd("10.95"));
    assert_eq!(ipv4.formula, "$0.005/hr × 3 × 730 hrs (public IPv4)");
    // NAT gateways' addresses are the EIPs: counted once, not again on the gateway.
    assert_eq!(estimate.lines.len(), 2);
    assert_eq!(estimate.total_monthly, usd("109.50"));
    assert_eq!(estimate.prices_as_of, book().as_of);
}

#[test]
fn nat_data_processing_is_a_range_with_its_assumption() {
    let estimate = estimate_yaml(THREE_NATS, &[]);
    let range = &estimate.ranges[0];
    assert_eq!(range.usage, "data processed");
    // 3 × $0.045 × 10 GB = $1.35; 3 × $0.045 × 500 GB = $67.50.
    assert_eq!(range.low_monthly, usd("1.35"));
    assert_eq!(range.high_monthly, usd("67.50"));
    assert_eq!(range.formula, "$0.045/GB × 10–500 GB × 3");
    assert!(range.assumption.contains("per NAT gateway"));
    assert_eq!(estimate.high_monthly(), usd("177.00"));
}

#[test]
fn estimate_from_the_offline_book_names_it_as_the_source() {
    let estimate = estimate_yaml(THREE_NATS, &[]);
    assert_eq!(
        estimate.price_source,
        "offline price book (as of 2025-06-01)"
    );
    assert!(estimate.price_notes.is_empty());
}

#[test]
fn estimate_priced_from_the_api_uses_its_price_and_says_so() {
    let mut priced = PricedBook::offline(book());
    priced.book.vpc.nat_gateway_hour = usd("0.05");
    priced
        .origins
        .insert("vpc.nat_gateway_hour".into(), PriceOrigin::PriceListApi);
    priced
        .notes
        .push("vpc.public_ipv4_hour: no product matches; offline price kept".into());
    let template = Template::parse("test.yaml", THREE_NATS).expect("test template parses");
    let ctx = ValidationContext {
        env: Some(Env::Dev),
        parameters: BTreeMap::new(),
    };
    let estimate = estimate_priced(&template, &ctx, REGION, &priced).expect("estimate");
    let nat = line(&estimate, "AWS::EC2::NatGateway");
    // 3 × $0.05 × 730 = $109.50.
    assert_eq!(nat.monthly, usd("109.50"));
    assert_eq!(nat.formula, "$0.05/hr × 3 × 730 hrs");
    assert!(
        estimate
            .price_source
            .starts_with("Price List API (1 fetched, "),
        "{}",
        estimate.price_source
    );
    assert!(estimate
        .price_source
        .ends_with("; offline price book (as of 2025-06-01) for the rest"));
    assert_eq!(estimate.price_notes, priced.notes);
    let json = serde_json::to_value(&estimate).unwrap();
    assert!(json["price_source"].is_string() && json["price_notes"].is_array());
}

#[test]
fn estimate_serialises_to_the_documented_json_shape() {
    let estimate = estimate_yaml(THREE_NATS, &[]);
    let json = serde_json::to_value(&estimate).unwrap();
    for key in [
        "region",
        "total_monthly",
        "lines",
        "ranges",
        "not_priced",
        "prices_as_of",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["total_monthly"], serde_json::json!(109.5));
    // Lines follow the template: the EIPs come first.
    let first = &json["lines"][1];
    for key in [
        "resource_type",
        "logical_ids",
        "quantity",
        "unit_price",
        "unit",
        "monthly",
        "formula",
    ] {
        assert!(first.get(key).is_some(), "line lacks {key}");
    }
    assert_eq!(first["unit_price"], serde_json::json!(0.045));
    assert_eq!(first["monthly"], serde_json::json!(98.55));
    let back: CostEstimate = serde_json::from_value(json).unwrap();
    assert_eq!(back, estimate);
}

#[test]
fn nat_count_follows_a_parameter_driven_condition() {
    let body = r#"
Parameters:
  HighAvailability: { Type: String, Default: "false", AllowedValues: ["true", "false"] }
Conditions:
  IsHa: !Equals [!Ref HighAvailability, "true"]
Resources:
  EipA: { Type: AWS::EC2::EIP }
  EipB: { Type: AWS::EC2::EIP, Condition: IsHa }
  NatA: { Type: AWS::EC2::NatGateway, Properties: { SubnetId: a } }
  NatB: { Type: AWS::EC2::NatGateway, Condition: IsHa, Properties: { SubnetId: b } }
"#;
    let single = estimate_yaml(body, &[]);
    assert_eq!(line(&single, "AWS::EC2::NatGateway").quantity, 1);
    assert_eq!(line(&single, "AWS::EC2::NatGateway").monthly, usd("32.85"));
    assert_eq!(single.total_monthly, usd("36.50"));
    let ha = estimate_yaml(body, &[("HighAvailability", "true")]);
    assert_eq!(line(&ha, "AWS::EC2::NatGateway").quantity, 2);
    assert_eq!(ha.total_monthly, usd("73.00"));
}

#[test]
fn fn_if_and_find_in_map_choose_the_environments_instance_type() {
    let body = r#"
Parameters:
  Environment: { Type: String }
Mappings:
  Sizes:
    dev: { Type: t3.medium }
    prd: { Type: m5.large }
Conditions:
  IsPrd: !Equals [!Ref Environment, prd]
Resources:
  Nodes:
    Type: AWS::EKS::Nodegroup
    Properties:
      InstanceTypes: [!FindInMap [Sizes, !Ref Environment, Type]]
      ScalingConfig:
        DesiredSize: !If [IsPrd, 3, 1]
        MinSize: 1
        MaxSize: 5
      DiskSize: !If [IsPrd, 50, !Ref AWS::NoValue]
"#;
    // dev: 1 × t3.medium = $0.0416 × 730 = $30.368 → $30.37; 20 GiB gp2 = $2.00.
    let dev = estimate_yaml(body, &[]);
    let nodes = lines_of(&dev, "AWS::EKS::Nodegroup");
    assert_eq!(nodes[0].monthly, usd("30.37"));
    assert_eq!(
        nodes[0].formula,
        "$0.0416/hr × 1 × 730 hrs (t3.medium on-demand)"
    );
    assert_eq!(nodes[1].monthly, usd("2.00"));
    // prd: 3 × m5.large = 3 × $0.096 × 730 = $210.24; 3 × 50 GiB gp2 = $15.00.
    let prd = estimate_yaml(body, &[("Environment", "prd")]);
    let nodes = lines_of(&prd, "AWS::EKS::Nodegroup");
    assert_eq!(nodes[0].monthly, usd("210.24"));
    assert_eq!(nodes[1].quantity, 150);
    assert_eq!(nodes[1].monthly, usd("15.00"));
    assert_eq!(prd.total_monthly, usd("225.24"));
}

#[test]
fn undecidable_condition_prices_the_resource_and_says_so() {
    let body = r#"
Conditions:
  InUsEast: !Equals [!ImportValue other-stack-flag, "yes"]
Resources:
  Key: { Type: AWS::KMS::Key, Condition: InUsEast }
"#;
    let estimate = estimate_yaml(body, &[]);
    let key = line(&estimate, "AWS::KMS::Key");
    assert_eq!(key.monthly, usd("1.00"));
    assert!(
        key.formula.contains("if condition InUsEast holds"),
        "{}",
        key.formula
    );
}

#[test]
fn eks_control_plane_standard_and_extended_support() {
    let body = r#"
Resources:
  Current: { Type: AWS::EKS::Cluster, Properties: { Version: "1.31" } }
  Old: { Type: AWS::EKS::Cluster, Properties: { Version: "1.28" } }
  OldButStandardOnly:
    Type: AWS::EKS::Cluster
    Properties: { Version: "1.28", UpgradePolicy: { SupportType: STANDARD } }
"#;
    let estimate = estimate_yaml(body, &[]);
    let clusters = lines_of(&estimate, "AWS::EKS::Cluster");
    // $0.10 × 730 = $73.00; extended $0.60 × 730 = $438.00.
    assert_eq!(clusters[0].monthly, usd("73.00"));
    assert_eq!(clusters[0].logical_ids, ["Current"]);
    assert_eq!(clusters[1].monthly, usd("438.00"));
    assert_eq!(
        clusters[1].formula,
        "$0.60/hr × 1 × 730 hrs (Kubernetes 1.28: extended support)"
    );
    assert_eq!(clusters[2].monthly, usd("73.00"));
    assert_eq!(estimate.total_monthly, usd("584.00"));
}

#[test]
fn spot_node_group_is_a_range_from_the_discount_assumption() {
    let body = r#"
Resources:
  Spot:
    Type: AWS::EKS::Nodegroup
    Properties:
      CapacityType: SPOT
      InstanceTypes: [m5.large]
      ScalingConfig: { DesiredSize: 4, MinSize: 1, MaxSize: 4 }
"#;
    let estimate = estimate_yaml(body, &[]);
    // On-demand 4 × $0.096 × 730 = $280.32; 90% off = $28.03, 50% off = $140.16.
    let spot = &estimate.ranges[0];
    assert_eq!(spot.low_monthly, usd("28.03"));
    assert_eq!(spot.high_monthly, usd("140.16"));
    assert_eq!(spot.assumption, "spot 50–90% below on-demand");
    // Only the disks are fixed: 4 × 20 GiB gp2 = $8.00.
    assert_eq!(estimate.total_monthly, usd("8.00"));
}

#[test]
fn node_group_defaults_are_priced_and_stated() {
    let body =
        "Resources:\n  Nodes: { Type: AWS::EKS::Nodegroup, Properties: { ClusterName: c } }\n";
    let estimate = estimate_yaml(body, &[]);
    let nodes = lines_of(&estimate, "AWS::EKS::Nodegroup");
    // 2 × t3.medium × 730 = $60.736 → $60.74.
    assert_eq!(nodes[0].monthly, usd("60.74"));
    assert!(nodes[0].formula.contains("EKS default desired size 2"));
    assert_eq!(nodes[1].quantity, 40);
}

#[test]
fn launch_template_node_group_is_not_priced_with_reason() {
    let body = r#"
Resources:
  Nodes:
    Type: AWS::EKS::Nodegroup
    Properties: { LaunchTemplate: { Id: lt-1 }, ScalingConfig: { DesiredSize: 2 } }
"#;
    let estimate = estimate_yaml(body, &[]);
    assert!(estimate.lines.is_empty());
    assert_eq!(estimate.not_priced[0].logical_id, "Nodes");
    assert!(estimate.not_priced[0].reason.contains("launch template"));
}

#[test]
fn ebs_volumes_by_type_size_and_provisioned_performance() {
    let body = r#"
Resources:
  Plain: { Type: AWS::EC2::Volume, Properties: { Size: 100, VolumeType: gp3 } }
  Fast: { Type: AWS::EC2::Volume, Properties: { Size: 100, VolumeType: gp3, Iops: 6000, Throughput: 250 } }
  Old: { Type: AWS::EC2::Volume, Properties: { Size: "50" } }
  Io: { Type: AWS::EC2::Volume, Properties: { Size: 10, VolumeType: io1, Iops: 1000 } }
  FromSnapshot: { Type: AWS::EC2::Volume, Properties: { SnapshotId: snap-1 } }
"#;
    let estimate = estimate_yaml(body, &[]);
    let volumes = lines_of(&estimate, "AWS::EC2::Volume");
    // gp3: 200 GB × $0.08 = $16.00; 3,000 extra IOPS × $0.005 = $15.00; 125 MB/s × $0.04 = $5.00.
    assert_eq!(volumes[0].quantity, 200);
    assert_eq!(volumes[0].monthly, usd("16.00"));
    assert_eq!(volumes[0].formula, "$0.08/GB-month × 200 GB (EBS gp3)");
    assert_eq!(volumes[1].monthly, usd("15.00"));
    assert_eq!(volumes[2].monthly, usd("5.00"));
    // gp2 default: 50 × $0.10 = $5.00; io1: 10 × $0.125 + 1000 × $0.065 = $1.25 + $65.00.
    assert_eq!(volumes[3].monthly, usd("5.00"));
    assert_eq!(volumes[4].monthly, usd("1.25"));
    assert_eq!(volumes[5].monthly, usd("65.00"));
    assert_eq!(estimate.total_monthly, usd("107.25"));
    assert_eq!(estimate.not_priced[0].logical_id, "FromSnapshot");
}

#[test]
fn load_balancers_hours_public_ips_and_lcu_ranges() {
    let body = r#"
Resources:
  Public:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: { Subnets: [a, b, c] }
  Internal:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: { Type: network, Scheme: internal, Subnets: [a, b] }
"#;
    let estimate = estimate_yaml(body, &[]);
    let lbs = lines_of(&estimate, "AWS::ElasticLoadBalancingV2::LoadBalancer");
    // $0.0225 × 730 = $16.425 → $16.43 each; 3 public IPv4 (one per subnet) × $0.005 × 730 = $10.95.
    assert_eq!(lbs[0].formula, "$0.0225/hr × 1 × 730 hrs (ALB)");
    assert_eq!(lbs[0].monthly, usd("16.43"));
    assert_eq!(lbs[1].quantity, 3);
    assert_eq!(lbs[1].monthly, usd("10.95"));
    assert_eq!(lbs[2].formula, "$0.0225/hr × 1 × 730 hrs (NLB)");
    // LCU: ALB $0.008 × 1–10 × 730 = $5.84–$58.40; NLB $0.006 × … = $4.38–$43.80.
    assert_eq!(estimate.ranges[0].low_monthly, usd("5.84"));
    assert_eq!(estimate.ranges[0].high_monthly, usd("58.40"));
    assert_eq!(estimate.ranges[1].low_monthly, usd("4.38"));
    assert_eq!(estimate.ranges[1].high_monthly, usd("43.80"));
}

#[test]
fn interface_endpoints_are_charged_per_subnet_and_gateway_endpoints_are_free() {
    let body = r#"
Resources:
  Ecr: { Type: AWS::EC2::VPCEndpoint, Properties: { VpcEndpointType: Interface, SubnetIds: [a, b, c], ServiceName: x } }
  S3: { Type: AWS::EC2::VPCEndpoint, Properties: { ServiceName: y } }
"#;
    let estimate = estimate_yaml(body, &[]);
    let endpoints = lines_of(&estimate, "AWS::EC2::VPCEndpoint");
    // 3 AZs × $0.01 × 730 = $21.90.
    assert_eq!(endpoints[0].monthly, usd("21.90"));
    assert_eq!(endpoints[0].formula, "$0.01/hr × 3 × 730 hrs (per AZ)");
    assert_eq!(endpoints[1].monthly, Usd::ZERO);
    assert_eq!(endpoints[1].formula, "no charge");
    assert_eq!(estimate.ranges[0].high_monthly, usd("1.00"));
}

#[test]
fn log_group_ingestion_and_retention_are_ranges() {
    let body = r#"
Parameters:
  Days: { Type: Number, Default: 30 }
Resources:
  Logs: { Type: AWS::Logs::LogGroup, Properties: { RetentionInDays: !Ref Days } }
"#;
    let estimate = estimate_yaml(body, &[("Days", "90")]);
    assert_eq!(estimate.total_monthly, Usd::ZERO);
    // Ingestion $0.50 × 1–50 GB = $0.50–$25.00; storage $0.03 × 1–50 GB × 3 months = $0.09–$4.50.
    assert_eq!(estimate.ranges[0].low_monthly, usd("0.50"));
    assert_eq!(estimate.ranges[0].high_monthly, usd("25.00"));
    assert_eq!(estimate.ranges[1].low_monthly, usd("0.09"));
    assert_eq!(estimate.ranges[1].high_monthly, usd("4.50"));
    assert!(estimate.ranges[1].assumption.contains("kept 90 days"));
}

#[test]
fn kms_keys_rds_and_s3_are_priced() {
    let body = r#"
Resources:
  Key: { Type: AWS::KMS::Key }
  Alias: { Type: AWS::KMS::Alias, Properties: { AliasName: alias/x, TargetKeyId: !Ref Key } }
  Db:
    Type: AWS::RDS::DBInstance
    Properties: { Engine: postgres, DBInstanceClass: db.t3.medium, AllocatedStorage: "100", MultiAZ: true }
  Bucket: { Type: AWS::S3::Bucket }
"#;
    let estimate = estimate_yaml(body, &[]);
    assert_eq!(line(&estimate, "AWS::KMS::Key").monthly, usd("1.00"));
    assert_eq!(line(&estimate, "AWS::KMS::Alias").monthly, Usd::ZERO);
    let db = lines_of(&estimate, "AWS::RDS::DBInstance");
    // Multi-AZ: 2 × $0.072 × 730 = $105.12; 2 × 100 GB × $0.115 = $23.00.
    assert_eq!(db[0].monthly, usd("105.12"));
    assert_eq!(db[1].monthly, usd("23.00"));
    assert_eq!(estimate.total_monthly, usd("129.12"));
    // S3: $0.023 × 1–500 GB = $0.02–$11.50.
    let s3 = estimate
        .ranges
        .iter()
        .find(|r| r.resource_type == "AWS::S3::Bucket")
        .unwrap();
    assert_eq!(s3.low_monthly, usd("0.02"));
    assert_eq!(s3.high_monthly, usd("11.50"));
}

#[test]
fn unknown_types_are_listed_as_not_priced_never_dropped() {
    let body = r#"
Resources:
  Queue: { Type: AWS::SQS::Queue }
  Thing: { Type: Custom::Thing, Properties: { ServiceToken: arn } }
  Db: { Type: AWS::RDS::DBInstance, Properties: { Engine: aurora-postgresql, DBInstanceClass: db.r5.large } }
"#;
    let estimate = estimate_yaml(body, &[]);
    let ids: Vec<&str> = estimate
        .not_priced
        .iter()
        .map(|n| n.logical_id.as_str())
        .collect();
    assert_eq!(ids, ["Queue", "Thing", "Db"]);
    assert_eq!(
        estimate.not_priced[0].reason,
        "no price rule for AWS::SQS::Queue"
    );
    assert_eq!(estimate.resources.len(), 3);
}

#[test]
fn free_resources_are_listed_at_zero() {
    let body = r#"
Resources:
  Vpc: { Type: AWS::EC2::VPC, Properties: { CidrBlock: 10.0.0.0/16 } }
  SubnetA: { Type: AWS::EC2::Subnet, Properties: { VpcId: !Ref Vpc, CidrBlock: 10.0.0.0/20 } }
  SubnetB: { Type: AWS::EC2::Subnet, Properties: { VpcId: !Ref Vpc, CidrBlock: 10.0.16.0/20 } }
  Routes: { Type: AWS::EC2::RouteTable, Properties: { VpcId: !Ref Vpc } }
  Acl: { Type: AWS::EC2::NetworkAcl, Properties: { VpcId: !Ref Vpc } }
  Group: { Type: AWS::EC2::SecurityGroup, Properties: { GroupDescription: g, VpcId: !Ref Vpc } }
  Role: { Type: AWS::IAM::Role, Properties: { AssumeRolePolicyDocument: {} } }
"#;
    let estimate = estimate_yaml(body, &[]);
    let subnets = line(&estimate, "AWS::EC2::Subnet");
    assert_eq!(subnets.quantity, 2);
    assert_eq!(subnets.monthly, Usd::ZERO);
    assert!(estimate.not_priced.is_empty(), "{:?}", estimate.not_priced);
    assert!(estimate.ranges.is_empty());
    assert_eq!(estimate.total_monthly, Usd::ZERO);
    let priced_ids: usize = estimate.lines.iter().map(|l| l.logical_ids.len()).sum();
    assert_eq!(priced_ids, estimate.resources.len());
}

#[test]
fn delta_reports_each_changed_resource_and_the_total() {
    let before = estimate_yaml(
        "Resources:\n  Key: { Type: AWS::KMS::Key }\n  EipA: { Type: AWS::EC2::EIP }\n",
        &[],
    );
    let after = estimate_yaml(THREE_NATS, &[]);
    let change = delta(&before, &after);
    assert_eq!(change.before_monthly, usd("4.65"));
    assert_eq!(change.after_monthly, usd("109.50"));
    assert_eq!(change.delta_monthly, usd("104.85"));
    let by_id: BTreeMap<&str, &ResourceDelta> = change
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r))
        .collect();
    // EipA is unchanged and so not listed; the key is removed; the rest are new.
    assert!(!by_id.contains_key("EipA"));
    assert_eq!(by_id["Key"].after_monthly, None);
    assert_eq!(by_id["Key"].delta_monthly, usd("-1.00"));
    assert_eq!(by_id["NatA"].before_monthly, None);
    assert_eq!(by_id["NatA"].delta_monthly, usd("32.85"));
    assert_eq!(change.resources.len(), 6);
}

#[test]
fn new_stack_delta_is_its_whole_estimate() {
    let after = estimate_yaml(THREE_NATS, &[]);
    let change = delta(&CostEstimate::empty(REGION, &after.prices_as_of), &after);
    assert_eq!(change.delta_monthly, after.total_monthly);
    assert_eq!(change.delta_high_monthly, after.high_monthly());
}

#[test]
fn budget_flags_only_an_increase_above_it() {
    let after = estimate_yaml(THREE_NATS, &[]);
    let change = delta(&CostEstimate::empty(REGION, "x"), &after);
    assert!(change.exceeds_budget(Usd::dollars(100)));
    assert!(!change.exceeds_budget(usd("109.50")));
    let shrink = delta(&after, &CostEstimate::empty(REGION, "x"));
    assert!(!shrink.exceeds_budget(Usd::ZERO));
}

#[test]
fn unknown_region_has_no_price_book() {
    assert_eq!(
        PriceBook::builtin("eu-west-9"),
        Err(PriceBookError::UnknownRegion {
            region: "eu-west-9".into()
        })
    );
    let template = Template::parse("t.yaml", THREE_NATS).unwrap();
    let err = estimate(
        &template,
        &ValidationContext::default(),
        "eu-west-1",
        book(),
    )
    .unwrap_err();
    assert!(matches!(err, CostError::RegionMismatch { .. }));
}

fn shipped_book_json() -> serde_json::Value {
    serde_json::from_str(include_str!("../../../../infra/prices/us-east-1.json")).unwrap()
}

#[test]
fn price_book_rejects_unknown_keys() {
    let mut json = shipped_book_json();
    json["vpc"]["nat_gateway_minute"] = "0.1".into();
    let err = PriceBook::parse("bad.json", &json.to_string()).unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown field `nat_gateway_minute`"),
        "{err}"
    );
}

#[test]
fn price_book_rejects_missing_keys() {
    let mut json = shipped_book_json();
    json["kms"].as_object_mut().unwrap().remove("key_month");
    let err = PriceBook::parse("bad.json", &json.to_string()).unwrap_err();
    assert!(
        err.to_string().contains("missing field `key_month`"),
        "{err}"
    );
    assert!(err.to_string().starts_with("price book bad.json: "));
}

#[test]
fn price_book_rejects_inexact_or_malformed_prices() {
    let mut json = shipped_book_json();
    json["ec2"]["instance_hour"]["m5.large"] = "0.0960001".into();
    let err = PriceBook::parse("bad.json", &json.to_string()).unwrap_err();
    assert!(err.to_string().contains("m5.large"), "{err}");
    let mut json = shipped_book_json();
    json["usage"]["nat_gb_per_gateway"] = serde_json::json!({"low": 9, "high": 1});
    assert!(PriceBook::parse("bad.json", &json.to_string()).is_err());
}

#[test]
fn price_book_states_its_source_and_date() {
    let book = book();
    assert!(book.source.contains("Price List API"));
    assert_eq!(book.as_of.len(), 10);
    assert_eq!(book.hours_per_month, 730);
}

#[test]
fn node_group_takes_instance_type_and_disk_from_its_launch_template() {
    let body = r#"
Parameters:
  DiskGiB: { Type: Number, Default: 80 }
Resources:
  Nodes:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        InstanceType: m5.large
        BlockDeviceMappings:
          - DeviceName: /dev/xvda
            Ebs: { VolumeSize: !Ref DiskGiB, VolumeType: gp3 }
  Group:
    Type: AWS::EKS::Nodegroup
    Properties:
      LaunchTemplate: { Id: !Ref Nodes, Version: !GetAtt Nodes.LatestVersionNumber }
      ScalingConfig: { DesiredSize: 3, MinSize: 3, MaxSize: 6 }
"#;
    let estimate = estimate_yaml(body, &[]);
    // 3 × m5.large = 3 × $0.096 × 730 = $210.24; 3 × 80 GiB gp3 × $0.08 = $19.20.
    let nodes = lines_of(&estimate, "AWS::EKS::Nodegroup");
    assert_eq!(nodes[0].monthly, usd("210.24"));
    assert!(
        nodes[0].formula.contains("from the launch template"),
        "{}",
        nodes[0].formula
    );
    assert_eq!(nodes[1].quantity, 240);
    assert_eq!(nodes[1].monthly, usd("19.20"));
    assert!(nodes[1].formula.contains("gp3"), "{}", nodes[1].formula);
    assert!(estimate.not_priced.is_empty(), "{:?}", estimate.not_priced);
}

#[test]
fn node_group_with_a_launch_template_from_elsewhere_is_listed_as_not_priced() {
    let body = r#"
Resources:
  Group:
    Type: AWS::EKS::Nodegroup
    Properties:
      LaunchTemplate: { Id: lt-0123456789abcdef0 }
      ScalingConfig: { DesiredSize: 2, MinSize: 2, MaxSize: 2 }
"#;
    let estimate = estimate_yaml(body, &[]);
    assert!(
        estimate
            .not_priced
            .iter()
            .any(|n| n.logical_id == "Group" && n.reason.contains("launch template")),
        "{:?}",
        estimate.not_priced
    );
}

#[test]
fn eks_add_ons_cost_nothing_themselves() {
    let body = r#"
Resources:
  Dns: { Type: AWS::EKS::Addon, Properties: { ClusterName: c, AddonName: coredns } }
"#;
    let estimate = estimate_yaml(body, &[]);
    assert_eq!(line(&estimate, "AWS::EKS::Addon").monthly, usd("0.00"));
    assert!(estimate.not_priced.is_empty());
}
