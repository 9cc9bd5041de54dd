//! The Lambda function URL's event and response (payload format 2.0): what AWS hands a function
//! behind its URL — and the local host hands it the same way — read into and written from
//! `approval::http`'s request and response.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use base64::Engine;
use infra_agent_core::approval::http::{parse_form, HttpRequest, HttpResponse};
use infra_agent_core::StepError;
use serde_json::{json, Value};

/// The HTTP request of a function URL event. An event of another shape (a direct invocation) is
/// an invalid event for `step`: the URL functions answer only through their URL.
pub fn request(step: &'static str, event: Value) -> Result<HttpRequest, StepError> {
    let event: LambdaFunctionUrlRequest =
        serde_json::from_value(event).map_err(|e| StepError::invalid_event(step, e))?;
    let method = event
        .request_context
        .http
        .method
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            StepError::invalid_event(
                step,
                "not a function URL event: requestContext.http.method is missing",
            )
        })?;
    let body = match (event.body, event.is_base64_encoded) {
        (Some(b), true) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|e| StepError::invalid_event(step, format!("body is not base64: {e}")))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())?,
        (Some(b), false) => b,
        (None, _) => String::new(),
    };
    let caller = event
        .request_context
        .authorizer
        .and_then(|a| a.iam)
        .and_then(|iam| iam.user_arn)
        .filter(|arn| !arn.is_empty());
    let headers = event
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some((
                name.as_str().to_ascii_lowercase(),
                value.to_str().ok()?.to_string(),
            ))
        })
        .collect();
    Ok(HttpRequest {
        method,
        headers,
        path: event.raw_path.unwrap_or_default(),
        query: parse_form(event.raw_query_string.as_deref().unwrap_or("")),
        body,
        caller,
    })
}

/// What the function URL answers: the endpoint's one response, headers included.
pub fn response(response: &HttpResponse) -> Value {
    let headers: serde_json::Map<String, Value> = response
        .headers()
        .into_iter()
        .map(|(name, value)| (name.to_string(), json!(value)))
        .collect();
    json!({
        "statusCode": response.status,
        "headers": headers,
        "body": response.body,
        "isBase64Encoded": false,
    })
}

/// An HTTP request as a function URL receives it, for the local host to hand to a function.
pub struct UrlRequest<'a> {
    pub method: &'a str,
    /// The path below the URL's root, `/…`.
    pub path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// The caller's ARN, where an `AWS_IAM` URL authenticated the request.
    pub caller: Option<&'a str>,
    /// The access key the request was signed with (with `caller`).
    pub access_key: Option<&'a str>,
}

/// The event AWS sends a function for `request` through its URL (payload format 2.0).
pub fn event(request: &UrlRequest<'_>, function_name: &str, (at, epoch): (&str, i64)) -> Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in request.headers {
        let name = name.to_ascii_lowercase();
        // Repeated headers arrive joined by commas, as in AWS's events.
        let joined = match headers.get(&name).and_then(Value::as_str) {
            Some(before) => format!("{before},{value}"),
            None => value.clone(),
        };
        headers.insert(name, json!(joined));
    }
    let (body, is_base64_encoded) = match std::str::from_utf8(request.body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(request.body),
            true,
        ),
    };
    let authorizer = request.caller.map(|arn| {
        json!({
            "iam": {
                "accessKey": request.access_key,
                "accountId": arn.split(':').nth(4),
                "callerId": Value::Null,
                "userArn": arn,
                "userId": Value::Null,
            }
        })
    });
    let header = |name: &str| headers.get(name).cloned().unwrap_or(Value::Null);
    let mut context = json!({
        "accountId": "anonymous",
        "apiId": function_name,
        "domainName": header("host"),
        "domainPrefix": function_name,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": header("user-agent"),
        },
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": "$default",
        "stage": "$default",
        "time": at,
        "timeEpoch": epoch * 1000,
    });
    if let Some(authorizer) = authorizer {
        context["authorizer"] = authorizer;
    }
    let query: serde_json::Map<String, Value> = parse_form(request.raw_query)
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "queryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(query) },
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64_encoded,
    })
}

/// A function's answer as its URL sends it: status, headers and body. An answer that is not a
/// response object is, as in AWS, a 200 whose JSON body it is.
pub fn read_response(answer: &Value) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let Some(status) = answer
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
    else {
        return (
            200,
            vec![("content-type".into(), "application/json".into())],
            answer.to_string().into_bytes(),
        );
    };
    let headers = answer
        .get("headers")
        .and_then(Value::as_object)
        .map(|all| {
            all.iter()
                .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let text = answer.get("body").and_then(Value::as_str).unwrap_or("");
    let body = if answer["isBase64Encoded"] == json!(true) {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    (status, headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_request<'a>(headers: &'a [(String, String)], caller: Option<&'a str>) -> UrlRequest<'a> {
        UrlRequest {
            method: "POST",
            path: "/decisions/a1b2c3d4-0123456789ab",
            raw_query: "x=1",
            headers,
            body: br#"{"decision":"approve"}"#,
            caller,
            access_key: caller.map(|_| "AKIDLOCAL"),
        }
    }

    const AT: (&str, i64) = ("04/Dec/2026:23:03:00 +0000", 1_796_425_380);

    #[test]
    fn an_event_made_for_a_request_reads_back_as_that_request_with_its_caller() {
        let headers = [
            ("Host".to_string(), "127.0.0.1:9000".to_string()),
            ("X-Extra".to_string(), "a".to_string()),
            ("x-extra".to_string(), "b".to_string()),
        ];
        let arn = "arn:aws:sts::123456789012:assumed-role/infra-agent-approver-prd/ada";
        let event = event(
            &url_request(&headers, Some(arn)),
            "infra-agent-approval-decision",
            AT,
        );
        assert_eq!(event["headers"]["x-extra"], "a,b");
        assert_eq!(
            event["requestContext"]["authorizer"]["iam"]["accountId"],
            "123456789012"
        );
        let read = request("approval-decision", event).expect("a function URL event");
        assert_eq!(read.method, "POST");
        assert_eq!(read.path, "/decisions/a1b2c3d4-0123456789ab");
        assert_eq!(read.query["x"], "1");
        assert_eq!(read.body, r#"{"decision":"approve"}"#);
        assert_eq!(read.caller.as_deref(), Some(arn));
    }

    #[test]
    fn a_request_no_iam_authenticated_carries_no_caller() {
        let event = event(&url_request(&[], None), "infra-agent-approval-link", AT);
        assert!(event["requestContext"].get("authorizer").is_none());
        let read = request("approval-link", event).expect("a function URL event");
        assert_eq!(read.caller, None);
    }

    #[test]
    fn an_event_of_another_shape_is_an_invalid_event_naming_the_step() {
        for event in [
            json!({}),
            json!({"requestContext": {"authorizer": {"iam": {"userArn": "arn:aws:iam::1:user/x"}}}}),
            json!({"requestContext": {"http": {}, "timeEpoch": 0}, "isBase64Encoded": false}),
        ] {
            let err = request("approval-decision", event.clone()).expect_err("refused");
            assert_eq!(err.error_type(), "InvalidEvent", "{event}");
            assert!(err.to_string().contains("approval-decision"), "{err}");
        }
    }

    #[test]
    fn a_response_reads_back_with_its_status_headers_and_body() {
        let sent = HttpResponse::json(403, &json!({"error": "NotAnApprover"}));
        let (status, headers, body) = read_response(&response(&sent));
        assert_eq!(status, 403);
        assert!(headers.contains(&("content-type".into(), "application/json".into())));
        assert!(headers.contains(&("x-frame-options".into(), "DENY".into())));
        assert_eq!(body, sent.body.as_bytes());
        let (status, _, body) = read_response(&json!({"plain": true}));
        assert_eq!((status, body), (200, br#"{"plain":true}"#.to_vec()));
    }
}
