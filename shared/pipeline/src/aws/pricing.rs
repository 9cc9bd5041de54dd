//! The AWS Price List API adapter: runs a `ProductQuery` through `GetProducts` (us-east-1
//! endpoint) and returns the one on-demand price it finds, or says why there is none.

use std::time::Duration;

use aws_sdk_pricing::config::retry::RetryConfig;
use aws_sdk_pricing::config::timeout::TimeoutConfig;
use aws_sdk_pricing::types::{Filter, FilterType};

use async_trait::async_trait;
use infra_agent_core::cost::price_list::{
    on_demand_price, ListedPrice, PriceApiError, ProductQuery,
};
use infra_agent_core::cost::PriceSource;

/// The Pricing API answers from a few regions only; us-east-1 serves every region's prices.
pub const PRICING_API_REGION: &str = "us-east-1";

/// Prices have an offline fallback, so an unreachable or slow API must cost a deployment
/// seconds: the SDK's defaults put no limit on an attempt and make three.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_ATTEMPTS: u32 = 2;

/// Fetches list prices. Built once per process around a Pricing client for `PRICING_API_REGION`.
#[derive(Debug, Clone)]
pub struct PriceListClient {
    client: aws_sdk_pricing::Client,
}

impl PriceListClient {
    pub fn new(client: aws_sdk_pricing::Client) -> Self {
        PriceListClient { client }
    }

    /// A client for `PRICING_API_REGION` from the process's AWS configuration, whatever region
    /// that names, with short timeouts. A custom endpoint (the emulator) is kept: it has no
    /// Pricing API, and the estimate falls back to the offline book.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        let conf = aws_sdk_pricing::config::Builder::from(config)
            .region(aws_sdk_pricing::config::Region::new(PRICING_API_REGION))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .build();
        PriceListClient::new(aws_sdk_pricing::Client::from_conf(conf))
    }

    /// The single on-demand price `query` selects. Several matches mean the query is too loose
    /// for a price to be trusted, so that is an error rather than a guess.
    pub async fn price(&self, query: &ProductQuery) -> Result<ListedPrice, PriceApiError> {
        let described = describe(query);
        let filters = query
            .filters
            .iter()
            .map(|(field, value)| {
                Filter::builder()
                    .r#type(FilterType::TermMatch)
                    .field(*field)
                    .value(value)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PriceApiError::Call {
                service_code: query.service_code.to_string(),
                filters: described.clone(),
                message: e.to_string(),
            })?;
        let output = self
            .client
            .get_products()
            .service_code(query.service_code)
            .format_version("aws_v1")
            .set_filters(Some(filters))
            .max_results(2)
            .send()
            .await
            .map_err(|e| PriceApiError::Call {
                service_code: query.service_code.to_string(),
                filters: described.clone(),
                // Code and message on one line: notes carry this into estimates and messages,
                // and an endpoint without the API answers with an HTML page.
                message: crate::aws::error::sdk_message(&e)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            })?;
        match output.price_list() {
            [one] => Ok(on_demand_price(one)?),
            [] => Err(PriceApiError::NotFound {
                service_code: query.service_code.to_string(),
                filters: described,
            }),
            many => Err(PriceApiError::Ambiguous {
                service_code: query.service_code.to_string(),
                filters: described,
                count: many.len(),
            }),
        }
    }
}

#[async_trait]
impl PriceSource for PriceListClient {
    async fn listed_price(&self, query: &ProductQuery) -> Result<ListedPrice, PriceApiError> {
        self.price(query).await
    }
}

fn describe(query: &ProductQuery) -> String {
    query
        .filters
        .iter()
        .map(|(field, value)| format!("{field}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use aws_config::retry::RetryConfig;
    use aws_sdk_pricing::Client;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

    use super::*;
    use infra_agent_core::cost::price_list;
    use infra_agent_core::cost::Usd;

    const NAT_HOUR: &str =
        include_str!("../../../core/src/cost/fixtures/get-products-nat-gateway-us-east-1.json");

    fn client(rules: &[&Rule]) -> PriceListClient {
        PriceListClient::new(mock_client!(
            aws_sdk_pricing,
            RuleMode::Sequential,
            rules,
            |config| { config.retry_config(RetryConfig::disabled()) }
        ))
    }

    // The recorded body goes through the SDK's own awsJson deserialiser, as a real answer would.
    #[tokio::test]
    async fn prices_a_query_from_a_get_products_http_response() {
        let rule = mock!(Client::get_products)
            .match_requests(|req| {
                req.service_code() == Some("AmazonEC2")
                    && req
                        .filters()
                        .iter()
                        .any(|f| f.value() == "NatGateway-Hours")
            })
            .sequence()
            .http_status(200, Some(NAT_HOUR.to_string()))
            .build();
        let price = client(&[&rule])
            .price(&price_list::nat_gateway_hour("us-east-1"))
            .await
            .unwrap();
        assert_eq!(price.usd, Usd::parse("0.045").unwrap());
        assert_eq!(price.sku, "M2YSHUBETB3JX4M4");
    }

    #[tokio::test]
    async fn no_matching_product_is_not_found() {
        let rule = mock!(Client::get_products)
            .sequence()
            .http_status(
                200,
                Some(r#"{"FormatVersion":"aws_v1","PriceList":[]}"#.into()),
            )
            .build();
        let err = client(&[&rule])
            .price(&price_list::instance_hour("us-east-1", "m5.nonexistent"))
            .await
            .unwrap_err();
        assert!(matches!(err, PriceApiError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("instanceType=m5.nonexistent"));
    }

    #[tokio::test]
    async fn api_error_names_the_query() {
        let body =
            r#"{"__type":"InvalidParameterException","message":"Input parameters are invalid."}"#;
        let rule = mock!(Client::get_products)
            .sequence()
            .http_status(400, Some(body.into()))
            .build();
        let err = client(&[&rule])
            .price(&price_list::eks_cluster_hour("us-east-1", false))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("AmazonEKS"), "{text}");
        assert!(text.contains("InvalidParameterException"), "{text}");
    }
}
