//! The approval endpoints' HTTP request and response, whatever carries them (a Lambda function
//! URL in AWS, the local host in tests): one response, with the same headers everywhere.

use std::collections::BTreeMap;

use crate::records::DecideError;

#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    /// The path below the function URL's root, e.g. `/approvals/{id}`.
    pub path: String,
    pub query: BTreeMap<String, String>,
    /// The body of a POST: a form (`application/x-www-form-urlencoded`) or JSON.
    pub body: String,
    /// Request headers, names lower-cased (repeated headers joined by commas, as AWS hands them).
    pub headers: BTreeMap<String, String>,
    /// The caller's IAM ARN, when IAM authenticated the request (a function URL whose AuthType is
    /// `AWS_IAM` puts it in `requestContext.authorizer.iam.userArn`); none through any other URL.
    pub caller: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// The page may not be framed (clickjacking a decision), loads nothing from elsewhere and posts
/// only to itself; no cache keeps a decision page.
const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("cache-control", "no-store"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    ),
];

impl HttpRequest {
    /// A header's value; `name` in lower case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

impl HttpResponse {
    /// An HTML page.
    pub fn page(status: u16, body: String) -> Self {
        HttpResponse {
            status,
            content_type: "text/html; charset=utf-8",
            body,
        }
    }

    /// Plain text, for programs that show it as it is (Slack).
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        HttpResponse {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }

    /// A JSON answer, for programs.
    pub fn json(status: u16, body: &impl serde::Serialize) -> Self {
        HttpResponse {
            status,
            content_type: "application/json",
            body: serde_json::to_string(body).unwrap_or_else(|_| "{}".into()),
        }
    }

    /// Every header of the response, content type first.
    pub fn headers(&self) -> Vec<(&'static str, &'static str)> {
        let mut headers = vec![("content-type", self.content_type)];
        headers.extend(SECURITY_HEADERS);
        headers
    }
}

/// The HTTP status of a decision that was not taken: the approval is missing (404), was decided
/// or used, or this approver counted already (409), or its time is up (410).
pub fn refusal_status(refused: &DecideError) -> u16 {
    match refused {
        DecideError::NotFound(_) => 404,
        DecideError::AlreadyDecided { .. }
        | DecideError::AlreadyApprovedBy { .. }
        | DecideError::AlreadyUsed { .. } => 409,
        DecideError::Expired { .. } => 410,
    }
}

/// Parses `a=1&b=two` (query strings and form bodies).
pub fn parse_form(text: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_forbids_framing_and_caching() {
        for response in [
            HttpResponse::page(200, "<p>ok</p>".into()),
            HttpResponse::json(403, &serde_json::json!({"error": "NotAnApprover"})),
        ] {
            let headers: BTreeMap<_, _> = response.headers().into_iter().collect();
            assert_eq!(headers["x-frame-options"], "DENY");
            assert_eq!(headers["cache-control"], "no-store");
            assert!(headers["content-security-policy"].contains("default-src 'none'"));
            assert!(headers["content-security-policy"].contains("frame-ancestors 'none'"));
            assert_eq!(headers["content-type"], response.content_type);
        }
    }

    #[test]
    fn forms_are_percent_decoded() {
        let form = parse_form("decision=approve&approver=Ada+L%C3%B6we&comment=a%26b");
        assert_eq!(form["decision"], "approve");
        assert_eq!(form["approver"], "Ada Löwe");
        assert_eq!(form["comment"], "a&b");
    }
}
