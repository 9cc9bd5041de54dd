//! What an AWS_IAM function URL checks before its function runs, as the local host does it: a
//! SigV4 signature (service `lambda`, this region) by one of the local identities, over this very
//! request and body, made within 15 minutes. The signature is checked by signing the request again
//! with the identity's secret and comparing in constant time.

use std::time::{Duration, SystemTime};

use infra_agent_pipeline::aws::sigv4;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::identities::{Identities, LocalIdentity};

/// How far a request's `x-amz-date` may be from now, as AWS allows.
const SKEW: Duration = Duration::from_secs(15 * 60);
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A request as it reached the host.
pub struct Received<'a> {
    pub method: &'a str,
    /// `/path?query` as sent.
    pub path_and_query: &'a str,
    /// Every header, names in any case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Why a request was refused. Says nothing secret: no signature, no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the request is not signed (no SigV4 authorization header)")]
    Unsigned,
    #[error("the authorization header is not a SigV4 one: {0}")]
    Malformed(&'static str),
    #[error("the access key belongs to no local identity")]
    UnknownKey,
    #[error("signed for {0}, not for lambda in this region")]
    WrongScope(String),
    #[error("x-amz-date is missing, malformed or not the credential's date")]
    BadDate,
    #[error("signed at {0}, more than 15 minutes from now")]
    Stale(String),
    #[error("x-amz-content-sha256 is not the hash of the body")]
    PayloadHash,
    #[error("{0} must be signed")]
    NotSigned(&'static str),
    #[error("the signature does not match (another secret, or a request changed since signing)")]
    Mismatch,
}

/// The local identity that signed `request`, or why the request is refused.
pub fn verify<'a>(
    identities: &'a Identities,
    request: &Received<'_>,
    region: &str,
    now: SystemTime,
) -> Result<&'a LocalIdentity, Refused> {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    let authorization = match header("authorization").as_slice() {
        [] => return Err(Refused::Unsigned),
        [one] => *one,
        _ => return Err(Refused::Malformed("more than one authorization header")),
    };
    let parts = Authorization::parse(authorization)?;
    let identity = identities
        .by_access_key(parts.access_key)
        .ok_or(Refused::UnknownKey)?;
    if parts.region != region || parts.service != sigv4::SERVICE {
        return Err(Refused::WrongScope(format!(
            "{} in {}",
            parts.service, parts.region
        )));
    }
    let date = match header("x-amz-date").as_slice() {
        [one] => *one,
        _ => return Err(Refused::BadDate),
    };
    let signed_at = parse_date(date).ok_or(Refused::BadDate)?;
    if !date.starts_with(parts.date) {
        return Err(Refused::BadDate);
    }
    let skew = match now.duration_since(signed_at) {
        Ok(behind) => behind,
        Err(ahead) => ahead.duration(),
    };
    if skew > SKEW {
        return Err(Refused::Stale(date.to_string()));
    }
    let content_sha256 = match header("x-amz-content-sha256").as_slice() {
        [] => false,
        [claimed] if *claimed == hex_sha256(request.body) => true,
        _ => return Err(Refused::PayloadHash),
    };
    for required in ["host", "x-amz-date"] {
        if !parts.signed_headers.contains(&required) {
            return Err(Refused::NotSigned(required));
        }
    }
    if content_sha256 && !parts.signed_headers.contains(&"x-amz-content-sha256") {
        return Err(Refused::NotSigned("x-amz-content-sha256"));
    }
    // Exactly the headers the client says it signed, every value of each.
    let mut signed = Vec::new();
    for name in &parts.signed_headers {
        let values = header(name);
        if values.is_empty() {
            return Err(Refused::Malformed("a signed header is missing"));
        }
        signed.extend(values.into_iter().map(|v| (*name, v)));
    }
    let host = header("host").first().copied().unwrap_or_default();
    let url = format!("http://{host}{}", request.path_and_query);
    let expected = sigv4::signature(
        &sigv4::Request {
            service: sigv4::SERVICE,
            method: request.method,
            url: &url,
            headers: &signed,
            body: request.body,
        },
        &identity.credentials(),
        region,
        signed_at,
        content_sha256,
    )
    .map_err(|_| Refused::Malformed("the request cannot be signed again"))?;
    if bool::from(expected.as_bytes().ct_eq(parts.signature.as_bytes())) {
        Ok(identity)
    } else {
        Err(Refused::Mismatch)
    }
}

/// `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
/// Signature=hex`
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

impl<'a> Authorization<'a> {
    fn parse(text: &'a str) -> Result<Self, Refused> {
        let rest = text
            .strip_prefix(ALGORITHM)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(Refused::Malformed("not AWS4-HMAC-SHA256"))?;
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for part in rest.split(',').map(str::trim) {
            match part.split_once('=') {
                Some(("Credential", v)) => credential = Some(v),
                Some(("SignedHeaders", v)) => signed_headers = Some(v),
                Some(("Signature", v)) => signature = Some(v),
                _ => return Err(Refused::Malformed("an unknown part")),
            }
        }
        let scope: Vec<&str> = credential
            .ok_or(Refused::Malformed("no Credential"))?
            .split('/')
            .collect();
        let [access_key, date, region, service, "aws4_request"] = scope[..] else {
            return Err(Refused::Malformed("a credential scope of another shape"));
        };
        let signed_headers: Vec<&str> = signed_headers
            .ok_or(Refused::Malformed("no SignedHeaders"))?
            .split(';')
            .collect();
        if signed_headers
            .iter()
            .any(|h| h.is_empty() || *h != h.to_ascii_lowercase())
        {
            return Err(Refused::Malformed("SignedHeaders not in lowercase"));
        }
        Ok(Authorization {
            access_key,
            date,
            region,
            service,
            signed_headers,
            signature: signature.ok_or(Refused::Malformed("no Signature"))?,
        })
    }
}

/// `20261204T230300Z`
fn parse_date(text: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let at = time::PrimitiveDateTime::parse(text, format)
        .ok()?
        .assume_utc();
    let seconds = u64::try_from(at.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

fn hex_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGION: &str = "us-east-1";
    const PATH: &str = "/lambda-url/infra-agent-approval-decision/decisions/a1b2c3d4-0123456789ab";
    const BODY: &[u8] = br#"{"decision":"approve"}"#;
    const HOST: &str = "127.0.0.1:9000";

    fn identities() -> Identities {
        Identities::fresh("local", "local")
    }

    /// The request as `who` signs it at `at`, with the headers a client sends.
    fn signed(who: &LocalIdentity, body: &[u8], at: SystemTime) -> Vec<(String, String)> {
        let url = format!("http://{HOST}{PATH}");
        let extra = [("content-type", "application/json")];
        let mut headers = sigv4::sign(
            &sigv4::Request {
                service: sigv4::SERVICE,
                method: "POST",
                url: &url,
                headers: &extra,
                body,
            },
            &who.credentials(),
            REGION,
            at,
        )
        .expect("signed");
        headers.push(("Host".into(), HOST.into()));
        headers.push(("Content-Type".into(), "application/json".into()));
        headers.push(("User-Agent".into(), "test".into()));
        headers
    }

    /// The ARN of who signed, or why not.
    fn check(
        identities: &Identities,
        headers: &[(String, String)],
        body: &[u8],
        now: SystemTime,
    ) -> Result<String, Refused> {
        verify(
            identities,
            &Received {
                method: "POST",
                path_and_query: PATH,
                headers,
                body,
            },
            REGION,
            now,
        )
        .map(|identity| identity.arn.clone())
    }

    fn set(headers: &mut [(String, String)], name: &str, value: String) {
        for (n, v) in headers.iter_mut() {
            if n.eq_ignore_ascii_case(name) {
                *v = value.clone();
            }
        }
    }

    #[test]
    fn a_request_signed_by_an_identity_is_that_identity() {
        let identities = identities();
        let now = SystemTime::now();
        for name in ["engineer", "approver", "prd-approver-1", "outsider"] {
            let who = identities.by_name(name).unwrap();
            let found = check(&identities, &signed(who, BODY, now), BODY, now);
            assert_eq!(found, Ok(who.arn.clone()), "{name}");
        }
        // The clock may be up to 15 minutes off either way.
        let who = identities.by_name("approver").unwrap();
        let skewed = now - Duration::from_secs(14 * 60);
        assert!(check(&identities, &signed(who, BODY, skewed), BODY, now).is_ok());
    }

    #[test]
    fn unsigned_mis_signed_and_replayed_requests_are_refused() {
        let identities = identities();
        let now = SystemTime::now();
        let approver = identities.by_name("approver").unwrap();
        let good = signed(approver, BODY, now);

        let unsigned: Vec<_> = good
            .iter()
            .filter(|(n, _)| n != "authorization")
            .cloned()
            .collect();
        assert_eq!(
            check(&identities, &unsigned, BODY, now),
            Err(Refused::Unsigned)
        );

        // The approver's key, signed with another secret.
        let mut forger = approver.clone();
        forger.secret_access_key = "guessed".into();
        let forged = signed(&forger, BODY, now);
        assert_eq!(
            check(&identities, &forged, BODY, now),
            Err(Refused::Mismatch)
        );

        // A body changed after signing: its hash no longer matches, nor would the signature.
        let tampered = br#"{"decision":"reject"}"#;
        assert_eq!(
            check(&identities, &good, tampered, now),
            Err(Refused::PayloadHash)
        );
        let mut rehashed = good.clone();
        set(&mut rehashed, "x-amz-content-sha256", hex_sha256(tampered));
        assert_eq!(
            check(&identities, &rehashed, tampered, now),
            Err(Refused::Mismatch)
        );

        // A signed header changed, or the time moved with the signature kept.
        let mut retyped = good.clone();
        set(&mut retyped, "content-type", "text/plain".into());
        assert_eq!(
            check(&identities, &retyped, BODY, now),
            Err(Refused::Mismatch)
        );

        let old = now - Duration::from_secs(16 * 60);
        assert!(matches!(
            check(&identities, &signed(approver, BODY, old), BODY, now),
            Err(Refused::Stale(_))
        ));
        let future = now + Duration::from_secs(16 * 60);
        assert!(matches!(
            check(&identities, &signed(approver, BODY, future), BODY, now),
            Err(Refused::Stale(_))
        ));

        let stranger = LocalIdentity {
            access_key_id: "AKIANOBODY".into(),
            ..approver.clone()
        };
        assert_eq!(
            check(&identities, &signed(&stranger, BODY, now), BODY, now),
            Err(Refused::UnknownKey)
        );
    }

    #[test]
    fn a_signature_for_another_service_or_region_is_refused() {
        let identities = identities();
        let now = SystemTime::now();
        let approver = identities.by_name("approver").unwrap();
        let good = signed(approver, BODY, now);
        let authorization = good
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1
            .clone();
        for (from, to) in [("/lambda/", "/sts/"), ("/us-east-1/", "/eu-west-1/")] {
            let mut other = good.clone();
            set(&mut other, "authorization", authorization.replace(from, to));
            assert!(
                matches!(
                    check(&identities, &other, BODY, now),
                    Err(Refused::WrongScope(_))
                ),
                "{to}"
            );
        }
        for broken in [
            "AWS4-HMAC-SHA1 Credential=x",
            "AWS4-HMAC-SHA256 Credential=local/20261204/us-east-1/lambda",
            "Bearer abc",
        ] {
            let mut other = good.clone();
            set(&mut other, "authorization", broken.into());
            assert!(
                matches!(
                    check(&identities, &other, BODY, now),
                    Err(Refused::Malformed(_))
                ),
                "{broken}"
            );
        }
    }
}
