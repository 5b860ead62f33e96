//! How the figures travel as JSON: camelCase like FHIR, every field required.
//!
//! serde lets an `Option` field be absent and reads it as `None`; for a figure that
//! would turn a renamed or dropped field into "no value" without a word. Fields read
//! with [`present`] must be there, `null` when there is no value.

use serde::{Deserialize, Deserializer};

/// An optional value that must be present (as `null` when there is none).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{OperatingRoomFigures, RecoveryFigures, WardFigures};

    fn ward_json() -> serde_json::Value {
        json!({
            "bedsTotal": 5, "bedsClosed": 1, "bedsOpen": 4, "occupied": 2, "reserved": 1,
            "freeNow": 1, "freeingToday": 1, "freeingTomorrow": 0,
            "overCapacityPatients": 1, "patients": 3, "occupancyPercent": 75.0
        })
    }

    #[test]
    fn ward_figures_are_camel_case_both_ways() {
        let f: WardFigures = serde_json::from_value(ward_json()).unwrap();
        assert_eq!((f.beds_open, f.free_now, f.patients), (4, 1, 3));
        assert_eq!(serde_json::to_value(&f).unwrap(), ward_json());
    }

    #[test]
    fn figures_stored_in_snake_case_are_still_read() {
        let stored = json!({
            "beds_total": 5, "beds_closed": 1, "beds_open": 4, "occupied": 2, "reserved": 1,
            "free_now": 1, "freeing_today": 1, "freeing_tomorrow": 0,
            "over_capacity_patients": 1, "patients": 3, "occupancy_percent": 75.0
        });
        let f: WardFigures = serde_json::from_value(stored).unwrap();
        assert_eq!(f, serde_json::from_value(ward_json()).unwrap());
        let room: OperatingRoomFigures = serde_json::from_value(json!({
            "state": "in-use", "current_case": "T-1", "current_planned_end": null,
            "current_expected_end": null, "next_case": null, "next_planned_start": null,
            "cases_left_today": 2, "cases_done_today": 1, "use_today_minutes": 60,
            "planned_today_minutes": 120
        }))
        .unwrap();
        assert_eq!(room.current_case.as_deref(), Some("T-1"));
        assert_eq!(room.cases_left_today, 2);
    }

    #[test]
    fn a_missing_or_renamed_figure_is_an_error_not_zero() {
        for name in ["freeNow", "occupancyPercent"] {
            let mut figures = ward_json();
            figures.as_object_mut().unwrap().remove(name);
            let e = serde_json::from_value::<WardFigures>(figures).unwrap_err();
            assert!(e.to_string().contains("missing field"), "{name}: {e}");
        }
        let mut no_open_bed = ward_json();
        no_open_bed["occupancyPercent"] = json!(null);
        let f: WardFigures = serde_json::from_value(no_open_bed).unwrap();
        assert_eq!(f.occupancy_percent, None);
        let e = serde_json::from_value::<RecoveryFigures>(json!({"bays_total": 1})).unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");
    }
}
