//! A booking's time, wherever the sender put it.
//!
//! v2.5 and later give it in TQ1 (TQ1-7 start, TQ1-8 end, TQ1-6 duration); v2.3 and
//! v2.4 senders in SCH-11, the timing quantity (component 4 start, 5 end, 3 duration
//! as `M60`, `H2`), which many later senders still fill. Others give it only per
//! resource: AIS-4 start with AIS-7/AIS-8 duration (likewise AIL-6, AIG-8, AIP-6),
//! or an appointment duration in SCH-9/SCH-10. They are read in that order; the end
//! is the first explicit end, else the start plus the first duration.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use ohjaamo_hl7::Message;

use crate::event::MappingError;
use crate::hl7_time;

/// When a booking is: FHIR instants with offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub start: String,
    /// `None` when the message gives neither an end nor a duration.
    pub end: Option<String>,
}

/// A value as the mapping reads it: trimmed, and the HL7 null `""` as nothing.
pub(super) fn clean(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "\"\"")
        .map(str::to_owned)
}

/// Where a start may be, in order, with its field's name for errors.
const STARTS: &[&str] = &[
    "TQ1-7-1",
    "SCH-11-4-1",
    "AIS-4-1",
    "AIL-6-1",
    "AIG-8-1",
    "AIP-6-1",
];
/// Where an explicit end may be.
const ENDS: &[&str] = &["TQ1-8-1", "SCH-11-5-1"];

/// The booking's timing; `None` when no start is given anywhere.
pub fn read(message: &Message, zone: &TimeZone) -> Result<Option<Timing>, MappingError> {
    let text = |position: &str| clean(message.get(position).as_deref());
    let time = |field: &'static str| -> Result<Option<String>, MappingError> {
        text(field)
            .map(|v| hl7_time::instant(&v, zone))
            .transpose()
            .map_err(|source| MappingError::BadTime { field, source })
    };
    let mut start = None;
    for field in STARTS {
        if let Some(t) = time(field)? {
            start = Some(t);
            break;
        }
    }
    let Some(start) = start else {
        return Ok(None);
    };
    let mut end = None;
    for field in ENDS {
        if let Some(t) = time(field)? {
            end = Some(t);
            break;
        }
    }
    if end.is_none()
        && let Some(length) = duration(message)?
    {
        end = Some(plus(&start, length, zone)?);
    }
    if let Some(end) = &end
        && let (Ok(s), Ok(e)) = (start.parse::<Timestamp>(), end.parse::<Timestamp>())
        && e < s
    {
        return Err(MappingError::Inconsistent(format!(
            "the booking ends ({end}) before it starts ({start})"
        )));
    }
    Ok(Some(Timing { start, end }))
}

/// The first duration given: TQ1-6 (quantity^units), SCH-11-3 (`M60`), AIS-7 with
/// AIS-8, SCH-9 with SCH-10.
fn duration(message: &Message) -> Result<Option<SignedDuration>, MappingError> {
    let text = |position: &str| clean(message.get(position).as_deref());
    let pairs: [(&'static str, &str, &str); 3] = [
        ("TQ1-6", "TQ1-6-1", "TQ1-6-2"),
        ("AIS-7", "AIS-7-1", "AIS-8-1"),
        ("SCH-9", "SCH-9-1", "SCH-10-1"),
    ];
    if let Some(tq) = text("SCH-11-3") {
        return tq_interval(&tq)
            .map(Some)
            .ok_or(MappingError::Inconsistent(format!(
                "SCH-11-3 {tq:?} is not a duration (M60, H2, S90, D1)"
            )));
    }
    for (field, quantity, units) in pairs {
        if let Some(quantity) = text(quantity) {
            let units = text(units).unwrap_or_default();
            return quantity_of(&quantity, &units).map(Some).ok_or_else(|| {
                MappingError::Inconsistent(format!(
                    "{field} {quantity:?} {units:?} is not a duration"
                ))
            });
        }
    }
    Ok(None)
}

/// A TQ duration component: a unit letter and a number (`S30`, `M60`, `H2`, `D1`,
/// `W1`).
fn tq_interval(value: &str) -> Option<SignedDuration> {
    let (unit, number) = value.split_at_checked(1)?;
    let n: f64 = number.trim().parse().ok()?;
    let seconds = match unit.to_ascii_uppercase().as_str() {
        "S" => 1.0,
        "M" => 60.0,
        "H" => 3600.0,
        "D" => 86_400.0,
        "W" => 604_800.0,
        _ => return None,
    };
    seconds_of(n * seconds)
}

/// A quantity in units (ISO+ / ANSI: `s`, `min`, `h`, `d`, in any case; none means
/// minutes, as chapter 10 says of AIS-8 and SCH-10).
fn quantity_of(quantity: &str, units: &str) -> Option<SignedDuration> {
    let n: f64 = quantity.trim().parse().ok()?;
    let seconds = match units.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "second" | "seconds" => 1.0,
        "" | "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        _ => return None,
    };
    seconds_of(n * seconds)
}

/// Seconds as a duration, when positive and under a year.
fn seconds_of(seconds: f64) -> Option<SignedDuration> {
    (seconds.is_finite() && (0.0..=366.0 * 86_400.0).contains(&seconds))
        .then(|| SignedDuration::from_secs(seconds.round() as i64))
}

/// `start` plus `length`, in `zone`'s offset.
fn plus(start: &str, length: SignedDuration, zone: &TimeZone) -> Result<String, MappingError> {
    start
        .parse::<Timestamp>()
        .ok()
        .and_then(|s| s.checked_add(length).ok())
        .map(|end| {
            end.to_zoned_datetime(zone.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .ok_or_else(|| MappingError::Inconsistent(format!("{start} plus {length} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Option<Timing>, MappingError> {
        let message = Message::parse(text.as_bytes()).unwrap();
        read(&message, &TimeZone::get("Europe/Helsinki").unwrap())
    }

    #[test]
    fn every_place_of_the_time_is_read() {
        let msh = "MSH|^~\\&|A|B|C|D|202603150800||SIU^S12|1|P|2.5\r";
        let tq1 = read_text(&format!(
            "{msh}SCH|1|2\rTQ1|1||||||202603161000|202603161130\r"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(tq1.start, "2026-03-16T10:00:00+02:00");
        assert_eq!(tq1.end.as_deref(), Some("2026-03-16T11:30:00+02:00"));
        let sch11 = read_text(&format!("{msh}SCH|1|2|||||||||^^M90^202603161000\r"))
            .unwrap()
            .unwrap();
        assert_eq!(sch11.end.as_deref(), Some("2026-03-16T11:30:00+02:00"));
        let ais = read_text(&format!(
            "{msh}SCH|1|2\rRGS|1\rAIS|1||LEIK^Leikkaus|202603161000|||2|h\r"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(ais.end.as_deref(), Some("2026-03-16T12:00:00+02:00"));
        let sch9 = read_text(&format!(
            "{msh}SCH|1|2|||||||45|min\rRGS|1\rAIL|1||^SALI1|OR||202603161000\r"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(sch9.end.as_deref(), Some("2026-03-16T10:45:00+02:00"));
        assert_eq!(read_text(&format!("{msh}SCH|1|2\r")).unwrap(), None);
    }

    #[test]
    fn bad_times_are_errors_naming_the_field() {
        let msh = "MSH|^~\\&|A|B|C|D|202603150800||SIU^S12|1|P|2.5\r";
        match read_text(&format!("{msh}SCH|1|2\rTQ1|1||||||2026031610\r")) {
            Err(MappingError::BadTime { field, .. }) => assert_eq!(field, "TQ1-7-1"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_text(&format!(
                "{msh}SCH|1|2\rTQ1|1||||||202603161000|202603160900\r"
            )),
            Err(MappingError::Inconsistent(_))
        ));
        assert!(matches!(
            read_text(&format!("{msh}SCH|1|2|||||||||^^X9^202603161000\r")),
            Err(MappingError::Inconsistent(_))
        ));
    }
}
