//! Time helpers: the store keeps milliseconds since the epoch, the API speaks RFC 3339.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch, UTC.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// `2024-11-13T07:11:51.658Z`: RFC 3339, UTC, milliseconds.
pub fn rfc3339_ms(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// RFC 3339 with nanoseconds, as the metadata file's `processing_date`.
pub fn rfc3339_now_nanos() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Parse an RFC 3339 timestamp into milliseconds.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// `YYYY_MM_DD` of a millisecond timestamp, the date folder of the output layout.
pub fn date_folder(ms: i64) -> String {
    rfc3339_ms(ms)[..10].replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis_and_z() {
        assert_eq!(rfc3339_ms(1_731_481_911_658), "2024-11-13T07:11:51.658Z");
        assert_eq!(date_folder(1_731_481_911_658), "2024_11_13");
        assert_eq!(
            parse_rfc3339_ms("2024-11-13T07:11:51.658Z"),
            Some(1_731_481_911_658)
        );
    }
}
