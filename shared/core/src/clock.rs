//! Time as the records write it: RFC 3339 in UTC to the second, beside epoch seconds for
//! conditions and expiry.

/// Current time as RFC 3339 and as epoch seconds.
pub fn now() -> (String, i64) {
    let now = time::OffsetDateTime::now_utc();
    (rfc3339(now), now.unix_timestamp())
}

pub fn rfc3339(at: time::OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}
