//! The offline price book: AWS list prices per region in `infra/prices/<region>.json`, compiled in
//! so a Lambda needs no files, and read into typed fields so a missing or misspelt price fails loudly.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer};

use super::money::Usd;

const US_EAST_1: &str = include_str!("../../../../infra/prices/us-east-1.json");

/// Regions with a built-in price book.
pub const REGIONS: [&str; 1] = ["us-east-1"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceBookError {
    #[error("no price book for region '{region}' (have: {})", REGIONS.join(", "))]
    UnknownRegion { region: String },
    #[error("price book {file}: {message}")]
    Invalid { file: String, message: String },
}

/// Every price and usage assumption the estimator reads. Unknown keys are errors: a price that
/// the code never reads is a price someone believes is applied.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceBook {
    pub region: String,
    pub source: String,
    pub as_of: String,
    pub hours_per_month: u32,
    pub vpc: VpcPrices,
    pub ec2: Ec2Prices,
    pub ebs: EbsPrices,
    pub eks: EksPrices,
    pub elb: ElbPrices,
    pub logs: LogsPrices,
    pub kms: KmsPrices,
    pub rds: RdsPrices,
    pub s3: S3Prices,
    pub usage: UsageAssumptions,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpcPrices {
    pub from: String,
    #[serde(deserialize_with = "price")]
    pub nat_gateway_hour: Usd,
    #[serde(deserialize_with = "price")]
    pub nat_gateway_gb: Usd,
    #[serde(deserialize_with = "price")]
    pub public_ipv4_hour: Usd,
    #[serde(deserialize_with = "price")]
    pub interface_endpoint_az_hour: Usd,
    #[serde(deserialize_with = "price")]
    pub interface_endpoint_gb: Usd,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ec2Prices {
    pub from: String,
    /// On-demand Linux price per instance type.
    #[serde(deserialize_with = "price_map")]
    pub instance_hour: BTreeMap<String, Usd>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EbsPrices {
    pub from: String,
    /// Storage per volume type (`gp3`, `gp2`, `io1`, …).
    #[serde(deserialize_with = "price_map")]
    pub gb_month: BTreeMap<String, Usd>,
    #[serde(deserialize_with = "price")]
    pub gp3_iops_month_above_3000: Usd,
    #[serde(deserialize_with = "price")]
    pub gp3_mbps_month_above_125: Usd,
    #[serde(deserialize_with = "price_map")]
    pub provisioned_iops_month: BTreeMap<String, Usd>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EksPrices {
    pub from: String,
    #[serde(deserialize_with = "price")]
    pub cluster_hour_standard: Usd,
    #[serde(deserialize_with = "price")]
    pub cluster_hour_extended: Usd,
    /// Kubernetes versions older than this are in extended support on `as_of`.
    pub oldest_standard_support_version: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElbPrices {
    pub from: String,
    #[serde(deserialize_with = "price")]
    pub alb_hour: Usd,
    #[serde(deserialize_with = "price")]
    pub alb_lcu_hour: Usd,
    #[serde(deserialize_with = "price")]
    pub nlb_hour: Usd,
    #[serde(deserialize_with = "price")]
    pub nlb_lcu_hour: Usd,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsPrices {
    pub from: String,
    #[serde(deserialize_with = "price")]
    pub ingestion_gb: Usd,
    #[serde(deserialize_with = "price")]
    pub storage_gb_month: Usd,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmsPrices {
    pub from: String,
    #[serde(deserialize_with = "price")]
    pub key_month: Usd,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RdsPrices {
    pub from: String,
    /// Single-AZ price per engine, then per instance class.
    #[serde(deserialize_with = "price_map_map")]
    pub instance_hour: BTreeMap<String, BTreeMap<String, Usd>>,
    #[serde(deserialize_with = "price_map")]
    pub storage_gb_month: BTreeMap<String, Usd>,
    #[serde(deserialize_with = "price")]
    pub io1_iops_month: Usd,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Prices {
    pub from: String,
    #[serde(deserialize_with = "price")]
    pub standard_gb_month: Usd,
}

/// A usage quantity a template cannot state, as a stated low–high assumption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub low: u64,
    pub high: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageAssumptions {
    pub why: String,
    pub nat_gb_per_gateway: Span,
    pub lcu_per_load_balancer: Span,
    pub endpoint_gb_per_endpoint: Span,
    pub log_gb_per_group: Span,
    pub s3_gb_per_bucket: Span,
    /// Spot price as a discount off on-demand, in percent.
    pub spot_discount_percent: Span,
}

impl PriceBook {
    /// The book compiled into this binary for `region`, parsed once per process.
    pub fn builtin(region: &str) -> Result<&'static PriceBook, PriceBookError> {
        static US_EAST_1_BOOK: OnceLock<Result<PriceBook, PriceBookError>> = OnceLock::new();
        match region {
            "us-east-1" => US_EAST_1_BOOK
                .get_or_init(|| PriceBook::parse("infra/prices/us-east-1.json", US_EAST_1))
                .as_ref()
                .map_err(Clone::clone),
            other => Err(PriceBookError::UnknownRegion {
                region: other.to_string(),
            }),
        }
    }

    /// Parses a price book and checks what serde cannot: sane spans and hours.
    pub fn parse(file: &str, text: &str) -> Result<PriceBook, PriceBookError> {
        let invalid = |message: String| PriceBookError::Invalid {
            file: file.to_string(),
            message,
        };
        let book: PriceBook = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if book.hours_per_month == 0 {
            return Err(invalid("hours_per_month must be positive".into()));
        }
        let u = &book.usage;
        for (name, span) in [
            ("nat_gb_per_gateway", u.nat_gb_per_gateway),
            ("lcu_per_load_balancer", u.lcu_per_load_balancer),
            ("endpoint_gb_per_endpoint", u.endpoint_gb_per_endpoint),
            ("log_gb_per_group", u.log_gb_per_group),
            ("s3_gb_per_bucket", u.s3_gb_per_bucket),
            ("spot_discount_percent", u.spot_discount_percent),
        ] {
            if span.low > span.high {
                return Err(invalid(format!("usage.{name}: low is above high")));
            }
        }
        if u.spot_discount_percent.high > 100 {
            return Err(invalid("usage.spot_discount_percent above 100".into()));
        }
        Ok(book)
    }
}

fn price<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Usd, D::Error> {
    let text = String::deserialize(deserializer)?;
    Usd::parse(&text).map_err(serde::de::Error::custom)
}

fn price_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Usd>, D::Error> {
    BTreeMap::<String, String>::deserialize(deserializer)?
        .into_iter()
        .map(|(key, text)| {
            Usd::parse(&text)
                .map(|usd| (key.clone(), usd))
                .map_err(|e| serde::de::Error::custom(format!("{key}: {e}")))
        })
        .collect()
}

fn price_map_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, BTreeMap<String, Usd>>, D::Error> {
    BTreeMap::<String, BTreeMap<String, String>>::deserialize(deserializer)?
        .into_iter()
        .map(|(outer, inner)| {
            let inner = inner
                .into_iter()
                .map(|(key, text)| {
                    Usd::parse(&text)
                        .map(|usd| (key.clone(), usd))
                        .map_err(|e| serde::de::Error::custom(format!("{outer}.{key}: {e}")))
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?;
            Ok((outer, inner))
        })
        .collect()
}
