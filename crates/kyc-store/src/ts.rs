//! Timestamps: stored as BIGINT unix milliseconds (UTC), which every backend orders and indexes
//! the same way.

use time::OffsetDateTime;

use crate::StoreError;

/// The current time in UTC, truncated to the millisecond precision the store keeps. Use it for
/// timestamps you pass in, so what you hold equals what you read back.
pub fn now() -> OffsetDateTime {
    from_ms_lossy(to_ms(OffsetDateTime::now_utc()))
}

/// Unix milliseconds, saturating far outside the years 1677-2262.
pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    let ms = t.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

pub(crate) fn from_ms(
    ms: i64,
    table: &'static str,
    column: &'static str,
) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| StoreError::corrupt(table, column))
}

fn from_ms_lossy(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(crate) fn now_ms() -> i64 {
    to_ms(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_millisecond_precision() {
        let t = now();
        assert_eq!(t.nanosecond() % 1_000_000, 0);
        assert_eq!(from_ms(to_ms(t), "t", "c").unwrap(), t);
        let before_epoch = OffsetDateTime::from_unix_timestamp_nanos(-1_500_000).unwrap();
        assert_eq!(to_ms(before_epoch), -2);
    }

    #[test]
    fn out_of_range_is_a_corrupt_row() {
        assert!(matches!(
            from_ms(i64::MAX, "t", "c"),
            Err(StoreError::CorruptRow {
                table: "t",
                column: "c"
            })
        ));
    }
}
