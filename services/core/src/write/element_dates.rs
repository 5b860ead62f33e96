//! Calendar checks for every date, dateTime, instant, time and Period in a resource,
//! not only the ones a search indexes.
//!
//! fhirbolt keeps primitive values as strings, so `"birthDate": "2026-02-30"` or a
//! Period that ends before it starts would otherwise be stored and served as if it
//! meant something. The structure has already been validated when this runs, so an
//! element's name tells its type: the walk below goes by name through the whole
//! resource, extensions included, and refuses (400) the first value that is not a
//! real point or span in time, naming the element.

use jiff::tz::TimeZone;
use serde_json::{Map, Value};

use crate::base::error::ApiError;
use crate::search::fhir_time::{parse_range, period_range};

/// What type an element holds, decided by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Temporal {
    /// `YYYY[-MM[-DD]]`.
    Date,
    /// A date, or a full time to the second with an offset.
    DateTime,
    /// A full time to the second with an offset.
    Instant,
    /// `hh:mm:ss[.f]`, a time of day.
    Time,
    /// An object with optional `start` and `end` dateTimes, start ≤ end (R4 per-1).
    Period,
}

/// Element names of the stored resource types and their data types. Names are
/// unambiguous within these resources (`start` and `end` are handled by context).
const BY_NAME: &[(&str, Temporal)] = &[
    ("birthDate", Temporal::Date),
    ("valueDate", Temporal::Date),
    ("created", Temporal::DateTime),
    ("manufactureDate", Temporal::DateTime),
    ("expirationDate", Temporal::DateTime),
    ("valueDateTime", Temporal::DateTime),
    ("valueInstant", Temporal::Instant),
    ("openingTime", Temporal::Time),
    ("closingTime", Temporal::Time),
    ("availableStartTime", Temporal::Time),
    ("availableEndTime", Temporal::Time),
    ("valueTime", Temporal::Time),
    ("period", Temporal::Period),
    ("planningHorizon", Temporal::Period),
    ("requestedPeriod", Temporal::Period),
    ("during", Temporal::Period),
    ("valuePeriod", Temporal::Period),
];

/// Checks every temporal element of `resource` (a validated resource of any stored
/// type). Date-only values are read in `tz` when a Period compares them.
pub fn check(resource: &Value, tz: &TimeZone) -> Result<(), ApiError> {
    let Some(object) = resource.as_object() else {
        return Ok(());
    };
    let rtype = object
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("Resource");
    // Slot and Appointment `start` / `end` are instants at the top level; elsewhere
    // `start` and `end` only occur inside Periods, which are checked as a whole.
    if matches!(rtype, "Slot" | "Appointment") {
        for name in ["start", "end"] {
            if let Some(v) = object.get(name) {
                check_value(v, Temporal::Instant, &format!("{rtype}.{name}"), tz)?;
            }
        }
    }
    walk(object, rtype, tz)
}

fn walk(object: &Map<String, Value>, path: &str, tz: &TimeZone) -> Result<(), ApiError> {
    for (name, value) in object {
        let here = format!("{path}.{name}");
        if let Some((_, kind)) = BY_NAME.iter().find(|(n, _)| n == name) {
            match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        check_value(item, *kind, &format!("{here}[{i}]"), tz)?;
                    }
                }
                single => check_value(single, *kind, &here, tz)?,
            }
            continue;
        }
        match value {
            Value::Object(inner) => walk(inner, &here, tz)?,
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Object(inner) = item {
                        walk(inner, &format!("{here}[{i}]"), tz)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_value(value: &Value, kind: Temporal, path: &str, tz: &TimeZone) -> Result<(), ApiError> {
    let bad = |why: String| Err(ApiError::BadRequest(format!("{path}: {why}")));
    if kind == Temporal::Period {
        let Some(period) = value.as_object() else {
            return bad("a Period must be an object".into());
        };
        let text = |name: &str| period.get(name).and_then(Value::as_str);
        for name in ["start", "end"] {
            if let Some(v) = period.get(name) {
                check_value(v, Temporal::DateTime, &format!("{path}.{name}"), tz)?;
            }
        }
        return match period_range(text("start"), text("end"), tz) {
            Ok(_) => Ok(()),
            Err(e) => bad(e.to_string()),
        };
    }
    let Some(text) = value.as_str() else {
        return bad("expected a string".into());
    };
    match kind {
        Temporal::Time => match is_time(text) {
            true => Ok(()),
            false => bad(format!("{text:?} is not a time of day hh:mm:ss")),
        },
        Temporal::Date if text.contains('T') => bad(format!("{text:?} is not a date YYYY-MM-DD")),
        Temporal::Instant if !text.contains('T') => bad(format!(
            "{text:?} is not an instant such as 2026-03-29T04:00:00+03:00"
        )),
        // A time part makes it a full dateTime: seconds and an offset are required
        // (the search syntax may leave them out; a stored value may not).
        Temporal::DateTime | Temporal::Instant if text.contains('T') && !has_full_time(text) => {
            bad(format!(
                "{text:?} needs seconds and a time-zone offset, such as 2026-03-29T04:00:00+03:00"
            ))
        }
        _ => match parse_range(text, tz) {
            Ok(_) => Ok(()),
            Err(e) => bad(e.to_string()),
        },
    }
}

/// `…Thh:mm:ss[.f](Z|±hh:mm)` after the date: seconds and an offset are present.
fn has_full_time(text: &str) -> bool {
    let Some((_, time)) = text.split_once('T') else {
        return false;
    };
    let (clock, zoned) = match time.find(['Z', '+', '-']) {
        Some(at) => (&time[..at], true),
        None => (time, false),
    };
    zoned && clock.split(':').count() == 3
}

/// `hh:mm:ss[.f+]` with hour 00–23 and minute and second 00–59.
fn is_time(text: &str) -> bool {
    let (clock, fraction) = match text.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (text, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let field = |s: &str, max: u32| {
        s.len() == 2
            && s.bytes().all(|b| b.is_ascii_digit())
            && s.parse::<u32>().unwrap_or(99) <= max
    };
    parts.len() == 3 && field(parts[0], 23) && field(parts[1], 59) && field(parts[2], 59)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn helsinki() -> TimeZone {
        TimeZone::get("Europe/Helsinki").unwrap()
    }

    fn error_of(resource: Value) -> String {
        check(&resource, &helsinki()).unwrap_err().to_string()
    }

    #[test]
    fn accepts_real_values() {
        let encounter = json!({
            "resourceType": "Encounter",
            "period": {"start": "2026-03-29T02:30:00+02:00", "end": "2026-03-29"},
            "location": [{"period": {"start": "2026-10-25T03:30:00+03:00"}}],
            "extension": [{"url": "x", "valueDateTime": "2026-10-26T12:00:00+02:00"}]
        });
        assert!(check(&encounter, &helsinki()).is_ok());
        let location = json!({
            "resourceType": "Location",
            "hoursOfOperation": [{"openingTime": "07:00:00", "closingTime": "23:59:59.5"}]
        });
        assert!(check(&location, &helsinki()).is_ok());
    }

    #[test]
    fn refuses_impossible_calendar_values_naming_the_element() {
        let msg = error_of(json!({"resourceType": "Practitioner", "birthDate": "1990-02-30"}));
        assert!(msg.starts_with("Practitioner.birthDate"), "{msg}");
        let msg = error_of(json!({"resourceType": "Appointment", "end": "2026-13-01T10:00:00Z"}));
        assert!(msg.starts_with("Appointment.end"), "{msg}");
        let msg = error_of(json!({"resourceType": "Device", "expirationDate": "2026-01-01T10:00"}));
        assert!(msg.contains("offset"), "{msg}");
        let msg = error_of(json!({"resourceType": "Location",
            "hoursOfOperation": [{"openingTime": "24:00:00"}]}));
        assert!(
            msg.starts_with("Location.hoursOfOperation[0].openingTime"),
            "{msg}"
        );
    }

    #[test]
    fn refuses_periods_that_end_before_they_start() {
        let msg = error_of(json!({"resourceType": "Encounter", "location": [
            {"period": {"start": "2026-03-29T10:00:00+03:00", "end": "2026-03-29T09:00:00+03:00"}}
        ]}));
        assert!(msg.starts_with("Encounter.location[0].period"), "{msg}");
        let msg = error_of(json!({"resourceType": "Schedule",
            "planningHorizon": {"start": "2026-02-01", "end": "2026-01-31"}}));
        assert!(msg.starts_with("Schedule.planningHorizon"), "{msg}");
    }

    #[test]
    fn time_of_day_shapes() {
        for ok in ["00:00:00", "23:59:59", "12:30:00.25"] {
            assert!(is_time(ok), "{ok}");
        }
        for bad in ["7:00:00", "12:60:00", "12:00", "12:00:00.", "ää:00:00"] {
            assert!(!is_time(bad), "{bad}");
        }
    }
}
