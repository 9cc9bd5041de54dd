//! AWS SDK errors as step errors: throttling, server errors and dispatch failures are transient
//! (Retry matches them), the rest permanent; an unparseable error response is quoted, not lost.

use infra_agent_core::StepError;

/// Classifies an AWS SDK error: throttling, server errors and dispatch failures are transient.
pub fn from_sdk<E>(service: &'static str, operation: &'static str, err: &SdkError<E>) -> StepError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = sdk_message(err);
    let transient = match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service_err) => {
            let code = service_err.err().code().unwrap_or_default();
            code.contains("Throttl")
                || code == "RequestLimitExceeded"
                || code == "ServiceUnavailable"
                || code == "InternalFailure"
                || code == "InternalServerError"
        }
        _ => false,
    };
    if transient {
        StepError::Transient {
            service,
            operation,
            message,
        }
    } else {
        StepError::Aws {
            service,
            operation,
            message,
        }
    }
}

/// An AWS SDK error as every service client returns it.
pub type SdkError<E> =
    aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>;

/// Longest piece of an unparseable error response quoted in a message.
const MAX_RAW_ERROR_CHARS: usize = 400;

/// "Code: message" of an SDK error, without the request metadata noise. An error response the
/// SDK could not parse is quoted, so its reason is not lost.
pub fn sdk_message<E>(err: &SdkError<E>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            match (inner.code(), inner.message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg}"),
                (Some(code), None) => code.to_string(),
                (None, Some(msg)) => msg.to_string(),
                (None, None) => {
                    let raw = e.raw();
                    let body: String = raw
                        .body()
                        .bytes()
                        .map(|b| {
                            String::from_utf8_lossy(b)
                                .chars()
                                .take(MAX_RAW_ERROR_CHARS)
                                .collect()
                        })
                        .unwrap_or_default();
                    format!("HTTP {}: {}", raw.status().as_u16(), body.trim())
                }
            }
        }
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

/// The error code of an SDK service error, if it is one.
pub fn sdk_code<E>(err: &SdkError<E>) -> Option<&str>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(e) => e.err().code(),
        _ => None,
    }
}
