//! Malformed events reach every function through the Lambda Invoke API and come back as typed
//! errors, never as a crash of the host; the functions behind a URL cannot be invoked at all.

use infra_agent_core::registry::Function;
use infra_agent_tests::Backend;

async fn invoke(
    endpoint: &str,
    function: &str,
    body: &str,
) -> (u16, Option<String>, serde_json::Value) {
    use http_body_util::{BodyExt, Full};
    let uri = format!("{endpoint}/2015-03-31/functions/{function}/invocations");
    let request = hyper::Request::post(uri)
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from(body.to_string())))
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let response = client.request(request).await.expect("host answers");
    let status = response.status().as_u16();
    let function_error = response
        .headers()
        .get("x-amz-function-error")
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        function_error,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_events_to_every_function_get_typed_errors() {
    let backend = Backend::connect().await;
    let bodies = [
        "{}",
        "[]",
        "null",
        "\"text\"",
        r#"{"action":"nope"}"#,
        r#"{"request":{"version":"one"}}"#,
    ];
    for function in Function::ALL {
        if function.url_auth().is_some() {
            // Reached only through its URL: a direct invocation is refused, whatever it says.
            let (status, _, payload) = invoke(&backend.endpoint, &function.name(), "{}").await;
            assert_eq!(status, 403, "{} {payload}", function.name());
            assert_eq!(payload["Type"], "User", "{payload}");
            continue;
        }
        for body in bodies {
            let (status, function_error, payload) =
                invoke(&backend.endpoint, &function.name(), body).await;
            assert_eq!(status, 200, "{} {body}", function.name());
            assert_eq!(
                function_error.as_deref(),
                Some("Unhandled"),
                "{} {body}",
                function.name()
            );
            assert_eq!(
                payload["errorType"],
                "InvalidEvent",
                "{} {body}: {payload}",
                function.name()
            );
            assert!(payload["errorMessage"]
                .as_str()
                .is_some_and(|m| !m.is_empty()));
        }
    }
    let (status, _, payload) = invoke(&backend.endpoint, "infra-agent-validate", "{not json").await;
    assert_eq!(status, 400, "{payload}");
    let (status, _, _) = invoke(&backend.endpoint, "no-such-function", "{}").await;
    assert_eq!(status, 404);
}
