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
                    let body = raw
                        .body()
                        .bytes()
                        .map(|b| readable_body(&String::from_utf8_lossy(b)))
                        .unwrap_or_default();
                    format!("HTTP {}: {body}", raw.status().as_u16())
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

/// An unparseable error response as a message: an HTML error page by its text (its title, or
/// its words without the markup), anything else as it is; bounded either way.
fn readable_body(body: &str) -> String {
    let body = body.trim();
    let text = if body.starts_with('<') {
        let lower = body.to_ascii_lowercase();
        let title = lower
            .find("<title>")
            .zip(lower.find("</title>"))
            .filter(|(start, end)| start < end)
            .map(|(start, end)| body[start + "<title>".len()..end].to_string());
        title.unwrap_or_else(|| {
            let mut words = String::new();
            let mut in_tag = false;
            for c in body.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => {
                        in_tag = false;
                        words.push(' ');
                    }
                    c if !in_tag => words.push(c),
                    _ => {}
                }
            }
            words.split_whitespace().collect::<Vec<_>>().join(" ")
        })
    } else {
        body.to_string()
    };
    text.trim().chars().take(MAX_RAW_ERROR_CHARS).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_error_page_is_told_by_its_title_not_its_markup() {
        let page = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>";
        assert_eq!(readable_body(page), "500 Internal Server Error");
        assert_eq!(
            readable_body("<html><body><p>Bad   gateway</p></body></html>"),
            "Bad gateway"
        );
        assert_eq!(readable_body("  plain text  "), "plain text");
        assert_eq!(readable_body(&"x".repeat(1000)).len(), MAX_RAW_ERROR_CHARS);
    }
}
