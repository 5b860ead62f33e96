//! HL7 timestamps (`YYYYMMDDHHMMSS+0000`) for the ACKs we write.
//!
//! MSH-7 of an ACK only needs "now", written unambiguously. UTC with an explicit `+0000`
//! offset is unambiguous across the daylight-saving changes that local Finnish time has,
//! and needs no time-zone database — so this small conversion is done here rather than
//! pulling a date-time crate into a parsing crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats an instant as an HL7 DTM in UTC: `YYYYMMDDHHMMSS+0000`. Instants before 1970
/// are written as the epoch; an ACK never needs them.
pub fn hl7_timestamp_utc(instant: SystemTime) -> String {
    let secs = instant
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}+0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (the well-known algorithm by
/// Howard Hinnant, restricted to dates from 1970 on).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> String {
        hl7_timestamp_utc(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn known_instants() {
        assert_eq!(at(0), "19700101000000+0000");
        // 2000-02-29 is a leap day of a year divisible by 400.
        assert_eq!(at(951_782_400), "20000229000000+0000");
        // 2025-03-30 01:00 UTC: the moment Finland moves to summer time.
        assert_eq!(at(1_743_296_400), "20250330010000+0000");
        assert_eq!(at(1_767_225_599), "20251231235959+0000");
        assert_eq!(at(4_107_542_400), "21000301000000+0000");
    }

    #[test]
    fn before_the_epoch_is_the_epoch() {
        let early = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(hl7_timestamp_utc(early), "19700101000000+0000");
    }
}
