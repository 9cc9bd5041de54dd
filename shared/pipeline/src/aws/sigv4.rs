//! SigV4 for function URLs whose AuthType is AWS_IAM (signing name `lambda`): how a client signs a
//! request, and the signature a given secret gives a request — which is how the local host checks
//! one, by signing it again. One computation for both: `aws-sigv4`'s.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    self, PayloadChecksumKind, SignableBody, SignableRequest, SigningInstructions, SigningSettings,
};
use aws_sigv4::sign::v4;

/// Lambda's signing name, function URLs included.
pub const SERVICE: &str = "lambda";

/// A request as it is signed.
pub struct Request<'a> {
    /// The signing name: `SERVICE` for function URLs.
    pub service: &'a str,
    pub method: &'a str,
    /// The whole URL: scheme, host (and port), path and query.
    pub url: &'a str,
    /// Headers to sign besides those signing adds; to check a signature, exactly the headers the
    /// request says it signed (`host` and `x-amz-date` among them).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

#[derive(Debug, thiserror::Error)]
#[error("cannot sign the request: {0}")]
pub struct SigningFailed(String);

/// The headers that sign `request` as the holder of `credentials` at `at`: `authorization`,
/// `x-amz-date`, `x-amz-content-sha256` (the body's hash: the body is signed) and, for temporary
/// credentials, `x-amz-security-token`.
pub fn sign(
    request: &Request<'_>,
    credentials: &Credentials,
    region: &str,
    at: SystemTime,
) -> Result<Vec<(String, String)>, SigningFailed> {
    let (instructions, _) = compute(request, credentials, region, at, true)?;
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect())
}

/// The signature (lowercase hex) that the holder of `credentials` gives `request` at `at`,
/// signing exactly its headers — and `x-amz-content-sha256`, set to the body's hash, when
/// `content_sha256`.
pub fn signature(
    request: &Request<'_>,
    credentials: &Credentials,
    region: &str,
    at: SystemTime,
    content_sha256: bool,
) -> Result<String, SigningFailed> {
    Ok(compute(request, credentials, region, at, content_sha256)?.1)
}

fn compute(
    request: &Request<'_>,
    credentials: &Credentials,
    region: &str,
    at: SystemTime,
    content_sha256: bool,
) -> Result<(SigningInstructions, String), SigningFailed> {
    let failed = |e: &dyn std::fmt::Display| SigningFailed(e.to_string());
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    if content_sha256 {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(request.service)
        .time(at)
        .settings(settings)
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| failed(&e))?;
    Ok(http_request::sign(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn credentials(secret: &str) -> Credentials {
        Credentials::new("AKIDLOCAL", secret, None, None, "test")
    }

    const URL: &str = "http://127.0.0.1:9000/lambda-url/f/decisions/a1";
    const BODY: &[u8] = br#"{"decision":"approve"}"#;

    fn at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_425_380)
    }

    fn request<'a>(headers: &'a [(&'a str, &'a str)], body: &'a [u8]) -> Request<'a> {
        Request {
            service: SERVICE,
            method: "POST",
            url: URL,
            headers,
            body,
        }
    }

    /// The signed headers, as a server reads them back from the request.
    fn signed(headers: &[(String, String)]) -> (Vec<(&str, &str)>, String) {
        let authorization = &headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1;
        let given = authorization
            .rsplit("Signature=")
            .next()
            .unwrap()
            .to_string();
        let mut sent: Vec<(&str, &str)> = headers
            .iter()
            .filter(|(n, _)| n != "authorization")
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        sent.push(("host", "127.0.0.1:9000"));
        sent.push(("content-type", "application/json"));
        (sent, given)
    }

    #[test]
    fn a_signature_checks_against_the_same_secret_body_and_time_only() {
        let extra = [("content-type", "application/json")];
        let headers = sign(
            &request(&extra, BODY),
            &credentials("s3cret"),
            "us-east-1",
            at(),
        )
        .expect("signed");
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"x-amz-date") && names.contains(&"x-amz-content-sha256"));
        let authorization = &headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1;
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDLOCAL/")
                && authorization.contains("/us-east-1/lambda/aws4_request")
                && authorization
                    .contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date"),
            "{authorization}"
        );

        let (sent, given) = signed(&headers);
        let check = |secret: &str, body: &[u8], when: SystemTime| {
            signature(
                &request(&sent, body),
                &credentials(secret),
                "us-east-1",
                when,
                true,
            )
            .expect("computed")
        };
        assert_eq!(check("s3cret", BODY, at()), given);
        assert_ne!(check("other", BODY, at()), given);
        assert_ne!(check("s3cret", br#"{"decision":"reject"}"#, at()), given);
        assert_ne!(check("s3cret", BODY, at() + Duration::from_secs(1)), given);
    }
}
