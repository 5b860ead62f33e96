//! What fhirbolt does not check: codes of required bindings and the `instant`
//! format. A Slot with `status: "booked"` or a `start` without a time would parse,
//! then mislead every display that reads it; both are refused (400) instead.

use ohjaamo_fhir::ResourceType;
use serde_json::Value;

use crate::base::error::ApiError;
use crate::search::extract::values_at;

/// `(type, element path, allowed codes)` for the R4 required bindings of the
/// resources we keep.
const REQUIRED_CODES: &[(ResourceType, &[&str], &[&str])] = &[
    (
        ResourceType::MeasureReport,
        &["status"],
        &["complete", "pending", "error"],
    ),
    (
        ResourceType::MeasureReport,
        &["type"],
        &["individual", "subject-list", "summary", "data-collection"],
    ),
    (
        ResourceType::Slot,
        &["status"],
        &[
            "busy",
            "free",
            "busy-unavailable",
            "busy-tentative",
            "entered-in-error",
        ],
    ),
    (
        ResourceType::Appointment,
        &["status"],
        &[
            "proposed",
            "pending",
            "booked",
            "arrived",
            "fulfilled",
            "cancelled",
            "noshow",
            "entered-in-error",
            "checked-in",
            "waitlist",
        ],
    ),
    (
        ResourceType::Appointment,
        &["participant", "status"],
        &["accepted", "declined", "tentative", "needs-action"],
    ),
    (
        ResourceType::Appointment,
        &["participant", "required"],
        &["required", "optional", "information-only"],
    ),
    (
        ResourceType::Encounter,
        &["status"],
        &[
            "planned",
            "arrived",
            "triaged",
            "in-progress",
            "onleave",
            "finished",
            "cancelled",
            "entered-in-error",
            "unknown",
        ],
    ),
    (
        ResourceType::Encounter,
        &["location", "status"],
        &["planned", "active", "reserved", "completed"],
    ),
    (
        ResourceType::Location,
        &["status"],
        &["active", "suspended", "inactive"],
    ),
    (ResourceType::Location, &["mode"], &["instance", "kind"]),
    (
        ResourceType::Location,
        &["hoursOfOperation", "daysOfWeek"],
        &["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    ),
    (
        ResourceType::Device,
        &["status"],
        &["active", "inactive", "entered-in-error", "unknown"],
    ),
    (
        ResourceType::PractitionerRole,
        &["availableTime", "daysOfWeek"],
        &["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    ),
    (
        ResourceType::HealthcareService,
        &["availableTime", "daysOfWeek"],
        &["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    ),
];

/// Elements of type `instant`: a full date and time to the second, with an offset.
const INSTANTS: &[(ResourceType, &[&str])] = &[
    (ResourceType::Slot, &["start"]),
    (ResourceType::Slot, &["end"]),
    (ResourceType::Appointment, &["start"]),
    (ResourceType::Appointment, &["end"]),
];

pub fn check(rtype: ResourceType, resource: &Value) -> Result<(), ApiError> {
    for (t, path, allowed) in REQUIRED_CODES.iter().filter(|(t, ..)| *t == rtype) {
        let mut values = Vec::new();
        values_at(resource, path, &mut values);
        for v in values {
            let code = v.as_str().unwrap_or("");
            if !allowed.contains(&code) {
                return Err(ApiError::BadRequest(format!(
                    "{t}.{} has code {code:?}; allowed: {}",
                    path.join("."),
                    allowed.join(", ")
                )));
            }
        }
    }
    for (t, path) in INSTANTS.iter().filter(|(t, _)| *t == rtype) {
        let mut values = Vec::new();
        values_at(resource, path, &mut values);
        for v in values {
            let text = v.as_str().unwrap_or("");
            if !is_instant(text) {
                return Err(ApiError::BadRequest(format!(
                    "{t}.{} is {text:?}, but must be an instant such as 2026-03-29T04:00:00+03:00",
                    path.join(".")
                )));
            }
        }
    }
    Ok(())
}

/// `YYYY-MM-DDThh:mm:ss(.f+)?(Z|±hh:mm)` in shape; the calendar values themselves
/// are checked when the value is indexed.
fn is_instant(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
        || !(b[10] == b'T'
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19))
    {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest {
        b"Z" => true,
        [sign, h1, h2, b':', m1, m2] => {
            matches!(sign, b'+' | b'-') && [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn instant_shapes() {
        for ok in [
            "2026-03-29T04:00:00+03:00",
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:00:00.5Z",
        ] {
            assert!(is_instant(ok), "{ok}");
        }
        for bad in [
            "2026-03-29",
            "2026-03-29T04:00",
            "2026-03-29T04:00:00",
            "2026-03-29T04:00:00.Z",
            "2026-03-29T04:00:00+3:00",
            "ä",
        ] {
            assert!(!is_instant(bad), "{bad}");
        }
    }

    #[test]
    fn codes_outside_required_bindings_are_refused() {
        let slot = json!({"resourceType": "Slot", "status": "booked", "start": "2026-03-29T04:00:00+03:00", "end": "2026-03-29T05:00:00+03:00"});
        let err = check(ResourceType::Slot, &slot).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Slot.status has code \"booked\""),
            "{err}"
        );
        let enc = json!({"resourceType": "Encounter", "status": "in-progress", "location": [{"status": "gone"}]});
        assert!(check(ResourceType::Encounter, &enc).is_err());
    }

    #[test]
    fn slot_times_must_be_instants() {
        let slot = json!({"resourceType": "Slot", "status": "free", "start": "2026-03-29", "end": "2026-03-29T05:00:00+03:00"});
        let err = check(ResourceType::Slot, &slot).unwrap_err();
        assert!(err.to_string().contains("Slot.start"), "{err}");
    }
}
