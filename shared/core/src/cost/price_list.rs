//! The AWS Price List API side of prices: which `GetProducts` query finds each price, and the
//! reading of one returned PriceList document into an on-demand unit price.

use serde::Deserialize;
use std::collections::BTreeMap;

use super::money::Usd;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceListError {
    #[error("PriceList document is not valid JSON: {0}")]
    Json(String),
    #[error("PriceList document for sku {sku} has no on-demand term")]
    NoOnDemandTerm { sku: String },
    #[error(
        "PriceList document for sku {sku} has {count} on-demand price dimensions, expected one"
    )]
    AmbiguousDimensions { sku: String, count: usize },
    #[error("PriceList document for sku {sku} has no USD price")]
    NoUsdPrice { sku: String },
    #[error("PriceList document for sku {sku}: price '{text}' is not a decimal amount")]
    BadPrice { sku: String, text: String },
}

/// One `GetProducts` query: a service code and `TERM_MATCH` filters (field, value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductQuery {
    pub service_code: &'static str,
    pub filters: Vec<(&'static str, String)>,
}

impl ProductQuery {
    /// A stable text naming the query, for cache keys: the service code and the filters sorted,
    /// so the order a builder lists them in does not matter.
    pub fn id(&self) -> String {
        let mut filters: Vec<String> = self
            .filters
            .iter()
            .map(|(field, value)| format!("{field}={value}"))
            .collect();
        filters.sort();
        format!("{}?{}", self.service_code, filters.join("&"))
    }
}

/// A price as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPrice {
    pub sku: String,
    pub usage_type: String,
    pub unit: String,
    pub usd: Usd,
    pub description: String,
    pub effective_date: String,
}

/// Usage types carry a region prefix everywhere but us-east-1 (`USE2-NatGateway-Hours`).
fn usage_type(region: &str, usage: &str) -> String {
    let prefix = match region {
        "us-east-1" => "",
        "us-east-2" => "USE2-",
        "us-west-1" => "USW1-",
        "us-west-2" => "USW2-",
        "eu-west-1" => "EU-",
        "eu-central-1" => "EUC1-",
        _ => return format!("{region}:{usage}"),
    };
    format!("{prefix}{usage}")
}

/// The query for the hourly NAT gateway price in `region`.
pub fn nat_gateway_hour(region: &str) -> ProductQuery {
    ProductQuery {
        service_code: "AmazonEC2",
        filters: vec![
            ("regionCode", region.to_string()),
            ("productFamily", "NAT Gateway".into()),
            ("usagetype", usage_type(region, "NatGateway-Hours")),
        ],
    }
}

/// The query for the hourly public IPv4 address price in `region` (in use or idle: same price).
pub fn public_ipv4_hour(region: &str) -> ProductQuery {
    ProductQuery {
        service_code: "AmazonVPC",
        filters: vec![
            ("regionCode", region.to_string()),
            ("usagetype", usage_type(region, "PublicIPv4:InUseAddress")),
        ],
    }
}

/// The query for an on-demand Linux, shared-tenancy instance hour.
pub fn instance_hour(region: &str, instance_type: &str) -> ProductQuery {
    ProductQuery {
        service_code: "AmazonEC2",
        filters: vec![
            ("regionCode", region.to_string()),
            ("instanceType", instance_type.to_string()),
            ("operatingSystem", "Linux".into()),
            ("tenancy", "Shared".into()),
            ("preInstalledSw", "NA".into()),
            ("capacitystatus", "Used".into()),
            ("licenseModel", "No License required".into()),
        ],
    }
}

/// The query for the hourly EKS control plane price (standard or extended support).
pub fn eks_cluster_hour(region: &str, extended: bool) -> ProductQuery {
    let usage = if extended {
        "AmazonEKS-Hours:extendedSupport"
    } else {
        "AmazonEKS-Hours:perCluster"
    };
    ProductQuery {
        service_code: "AmazonEKS",
        filters: vec![
            ("regionCode", region.to_string()),
            ("usagetype", usage_type(region, usage)),
        ],
    }
}

#[derive(Deserialize)]
struct Document {
    product: Product,
    #[serde(default)]
    terms: Terms,
}

#[derive(Deserialize)]
struct Product {
    sku: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct Terms {
    #[serde(rename = "OnDemand", default)]
    on_demand: BTreeMap<String, Term>,
}

#[derive(Deserialize)]
struct Term {
    #[serde(rename = "effectiveDate", default)]
    effective_date: String,
    #[serde(rename = "priceDimensions")]
    price_dimensions: BTreeMap<String, Dimension>,
}

#[derive(Deserialize)]
struct Dimension {
    unit: String,
    #[serde(default)]
    description: String,
    #[serde(rename = "beginRange", default)]
    begin_range: Option<String>,
    #[serde(rename = "pricePerUnit")]
    price_per_unit: BTreeMap<String, String>,
}

/// Reads one element of `GetProducts`' `PriceList` (each is a JSON document in a string). For
/// tiered prices the first tier (`beginRange` 0) is the list price a small account pays.
pub fn on_demand_price(document: &str) -> Result<ListedPrice, PriceListError> {
    let doc: Document =
        serde_json::from_str(document).map_err(|e| PriceListError::Json(e.to_string()))?;
    let sku = doc.product.sku;
    let mut terms = doc.terms.on_demand.into_values();
    let term = terms
        .next()
        .ok_or_else(|| PriceListError::NoOnDemandTerm { sku: sku.clone() })?;
    let dimensions: Vec<Dimension> = term
        .price_dimensions
        .into_values()
        .filter(|d| d.begin_range.as_deref().is_none_or(|b| b == "0"))
        .collect();
    let [dimension] = <[Dimension; 1]>::try_from(dimensions).map_err(|all| {
        PriceListError::AmbiguousDimensions {
            sku: sku.clone(),
            count: all.len(),
        }
    })?;
    let text = dimension
        .price_per_unit
        .get("USD")
        .ok_or_else(|| PriceListError::NoUsdPrice { sku: sku.clone() })?;
    let usd = list_price(text).ok_or_else(|| PriceListError::BadPrice {
        sku: sku.clone(),
        text: text.clone(),
    })?;
    Ok(ListedPrice {
        usage_type: doc
            .product
            .attributes
            .get("usagetype")
            .cloned()
            .unwrap_or_default(),
        sku,
        unit: dimension.unit,
        usd,
        description: dimension.description,
        effective_date: term.effective_date,
    })
}

/// The API writes prices with ten decimals (`"0.0450000000"`); micro-dollars keep six, so the
/// rest is rounded, which for the prices we read only drops zeros.
fn list_price(text: &str) -> Option<Usd> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if fraction.len() <= 6 {
        return Usd::parse(text.trim()).ok();
    }
    let (kept, rest) = fraction.split_at(6);
    let base = Usd::parse(&format!("{whole}.{kept}")).ok()?;
    let round_up = rest.bytes().next().is_some_and(|b| b >= b'5');
    if !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(if round_up {
        base.saturating_add(Usd::from_micros(1))
    } else {
        base
    })
}

/// Why the Price List API gave no single price for a query.
#[derive(Debug, thiserror::Error)]
pub enum PriceApiError {
    #[error("GetProducts {service_code} {filters}: {message}")]
    Call {
        service_code: String,
        filters: String,
        message: String,
    },
    #[error("GetProducts {service_code} {filters}: no product matches")]
    NotFound {
        service_code: String,
        filters: String,
    },
    #[error("GetProducts {service_code} {filters}: {count} products match, expected one")]
    Ambiguous {
        service_code: String,
        filters: String,
        count: usize,
    },
    #[error(transparent)]
    Document(#[from] PriceListError),
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-written from the documented PriceList document shape (product, serviceCode, terms.
    // OnDemand.<sku>.<offer>.priceDimensions.<rate>.pricePerUnit.USD) with real us-east-1 prices;
    // not captured from the API: the emulator has no Pricing API and this session no AWS account.
    const NAT_HOUR: &str = include_str!("fixtures/get-products-nat-gateway-us-east-1.json");
    const M5_LARGE: &str = include_str!("fixtures/get-products-m5-large-us-east-1.json");

    fn price_list(response: &str) -> Vec<String> {
        let body: serde_json::Value = serde_json::from_str(response).unwrap();
        body["PriceList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn reads_the_nat_gateway_hour_from_a_get_products_response() {
        let documents = price_list(NAT_HOUR);
        assert_eq!(documents.len(), 1);
        let price = on_demand_price(&documents[0]).unwrap();
        assert_eq!(price.usd, Usd::parse("0.045").unwrap());
        assert_eq!(price.unit, "Hrs");
        assert_eq!(price.usage_type, "NatGateway-Hours");
    }

    #[test]
    fn listed_prices_match_the_offline_book() {
        let book = crate::cost::PriceBook::builtin("us-east-1").unwrap();
        let nat = on_demand_price(&price_list(NAT_HOUR)[0]).unwrap();
        assert_eq!(nat.usd, book.vpc.nat_gateway_hour);
        let m5 = on_demand_price(&price_list(M5_LARGE)[0]).unwrap();
        assert_eq!(Some(&m5.usd), book.ec2.instance_hour.get("m5.large"));
    }

    #[test]
    fn document_without_on_demand_terms_is_an_error() {
        let doc = r#"{"product":{"sku":"ABC","attributes":{}},"terms":{"Reserved":{}}}"#;
        assert_eq!(
            on_demand_price(doc),
            Err(PriceListError::NoOnDemandTerm { sku: "ABC".into() })
        );
        assert!(matches!(
            on_demand_price("not json"),
            Err(PriceListError::Json(_))
        ));
    }

    #[test]
    fn ten_decimal_prices_round_to_micro_dollars() {
        assert_eq!(list_price("0.0450000000"), Usd::parse("0.045").ok());
        assert_eq!(list_price("0.0000166667"), Some(Usd::from_micros(17)));
        assert_eq!(list_price("0.0000x00000"), None);
    }

    #[test]
    fn queries_name_region_prefixed_usage_types() {
        assert_eq!(
            nat_gateway_hour("us-east-2").filters[2],
            ("usagetype", "USE2-NatGateway-Hours".to_string())
        );
        assert_eq!(
            nat_gateway_hour("us-east-1").filters[2],
            ("usagetype", "NatGateway-Hours".to_string())
        );
        assert_eq!(
            instance_hour("us-east-1", "m5.large").service_code,
            "AmazonEC2"
        );
        assert!(eks_cluster_hour("us-east-1", true).filters[1]
            .1
            .contains("extendedSupport"));
    }

    #[test]
    fn query_id_does_not_depend_on_filter_order() {
        let query = nat_gateway_hour("us-east-1");
        let mut reversed = query.clone();
        reversed.filters.reverse();
        assert_eq!(query.id(), reversed.id());
        assert_eq!(
            query.id(),
            "AmazonEC2?productFamily=NAT Gateway&regionCode=us-east-1&usagetype=NatGateway-Hours"
        );
        assert_ne!(query.id(), nat_gateway_hour("us-east-2").id());
    }
}
