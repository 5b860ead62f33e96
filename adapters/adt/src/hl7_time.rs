//! HL7 v2 timestamps (`TS`: `YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]`) as FHIR values.
//!
//! Finnish feeds usually send local wall-clock time without an offset. Such a time is
//! read in the source's zone (Europe/Helsinki by default); a time that the zone skips or
//! repeats at a daylight-saving change takes the offset in force before the change
//! (jiff's "compatible" rule, the same the core uses for searches). A time with an
//! offset keeps it. Either way the result carries its offset, as a FHIR instant must.

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};

/// Why a timestamp could not be read; the text names the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not an HL7 timestamp YYYYMMDDHHMM[SS][+ZZZZ]: {reason}")]
pub struct TimeError {
    pub value: String,
    pub reason: &'static str,
}

/// A point in time with minute precision at least: a FHIR `dateTime` with seconds and
/// an offset (`2026-03-29T04:00:00+03:00`).
pub fn instant(value: &str, zone: &TimeZone) -> Result<String, TimeError> {
    let fail = |reason| TimeError {
        value: value.to_owned(),
        reason,
    };
    let (digits, offset) = split_offset(value).ok_or_else(|| fail("bad offset"))?;
    let clock = digits.split('.').next().unwrap_or_default();
    if clock.len() < 12 {
        return Err(fail("needs at least minutes"));
    }
    let date = clock
        .get(..8)
        .and_then(date_of)
        .ok_or_else(|| fail("not a calendar date"))?;
    let number = |range: std::ops::Range<usize>| {
        clock
            .get(range)
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<i8>().ok())
    };
    let hour = number(8..10).ok_or_else(|| fail("bad hour"))?;
    let minute = number(10..12).ok_or_else(|| fail("bad minute"))?;
    let second = match clock.len() {
        12 => 0,
        14 => number(12..14).ok_or_else(|| fail("bad second"))?,
        _ => return Err(fail("unexpected digits")),
    };
    let civil = DateTime::new(
        date.year(),
        date.month(),
        date.day(),
        hour,
        minute,
        second,
        0,
    )
    .map_err(|_| fail("not a time of day"))?;
    let zoned = match offset {
        Some(offset) => civil
            .to_zoned_datetime(TimeZone::fixed(offset))
            .map_err(|_| fail("out of range"))?,
        None => civil
            .to_zoned_datetime(zone.clone())
            .map_err(|_| fail("out of range"))?,
    };
    Ok(zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// A date, or a point in time when the value has one: for PV2-9 (expected discharge),
/// which sources send either way. Returns a FHIR `dateTime`.
pub fn date_or_instant(value: &str, zone: &TimeZone) -> Result<String, TimeError> {
    let digits = split_offset(value).map(|(d, _)| d).unwrap_or(value);
    if digits.len() == 8 {
        let date = date_of(digits).ok_or_else(|| TimeError {
            value: value.to_owned(),
            reason: "not a calendar date",
        })?;
        return Ok(date.strftime("%Y-%m-%d").to_string());
    }
    instant(value, zone)
}

/// `YYYYMMDD` as a date, if it is a real one.
fn date_of(digits: &str) -> Option<Date> {
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = digits[..4].parse().ok()?;
    let month = digits[4..6].parse().ok()?;
    let day = digits[6..8].parse().ok()?;
    Date::new(year, month, day).ok()
}

/// Splits `…+0300` into the digits and the offset; `None` when the offset is malformed.
fn split_offset(value: &str) -> Option<(&str, Option<Offset>)> {
    let Some(at) = value.find(['+', '-']) else {
        return Some((value, None));
    };
    let (digits, zone) = value.split_at(at);
    let sign: i32 = if zone.starts_with('-') { -1 } else { 1 };
    let hhmm = &zone[1..];
    if hhmm.len() != 4 || !hhmm.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = hhmm[..2].parse().ok()?;
    let minutes: i32 = hhmm[2..].parse().ok()?;
    if hours > 14 || minutes > 59 {
        return None;
    }
    let offset = Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()?;
    Some((digits, Some(offset)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helsinki() -> TimeZone {
        TimeZone::get("Europe/Helsinki").unwrap()
    }

    #[test]
    fn local_times_take_the_zone_offset_of_their_day() {
        let tz = helsinki();
        assert_eq!(
            instant("202601151030", &tz).unwrap(),
            "2026-01-15T10:30:00+02:00"
        );
        assert_eq!(
            instant("20260715103045", &tz).unwrap(),
            "2026-07-15T10:30:45+03:00"
        );
    }

    #[test]
    fn daylight_saving_changes() {
        let tz = helsinki();
        // Spring: 03:30 does not exist; it is read as 04:30 summer time.
        assert_eq!(
            instant("202603290330", &tz).unwrap(),
            "2026-03-29T04:30:00+03:00"
        );
        // Autumn: 03:30 happens twice; the first (summer time) is taken.
        assert_eq!(
            instant("202610250330", &tz).unwrap(),
            "2026-10-25T03:30:00+03:00"
        );
        // An explicit offset picks the second one.
        assert_eq!(
            instant("202610250330+0200", &tz).unwrap(),
            "2026-10-25T03:30:00+02:00"
        );
    }

    #[test]
    fn fractions_are_ignored_and_dates_stay_dates() {
        let tz = helsinki();
        assert_eq!(
            instant("20260115103045.123", &tz).unwrap(),
            "2026-01-15T10:30:45+02:00"
        );
        assert_eq!(date_or_instant("20260120", &tz).unwrap(), "2026-01-20");
        assert_eq!(
            date_or_instant("202601201200", &tz).unwrap(),
            "2026-01-20T12:00:00+02:00"
        );
    }

    #[test]
    fn garbage_is_an_error_naming_the_value() {
        let tz = helsinki();
        for bad in [
            "",
            "2026",
            "20260230",
            "202602301200",
            "202601152460",
            "20260115103",
            "2026011510ab",
            "202601151030+3",
            "202601151030+2500",
            "ääääääääääää",
            "aäääääääääää",
        ] {
            let err = instant(bad, &tz).unwrap_err();
            assert_eq!(err.value, bad);
        }
    }
}
