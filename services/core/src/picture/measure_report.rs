//! Each ward's capacity as a FHIR MeasureReport in the shape of HL7 SANER (Situational
//! Awareness for Novel Epidemic Response): a `summary` report about the ward's Location
//! for the current local day, one group of bed populations, each population coded
//! both as a standard measure population and with what it counts.
//!
//! Regional reporting reads these with plain FHIR searches
//! (`MeasureReport?subject=Location/<ward>`, `?date=ge…`). Besides SANER's total,
//! occupied and available beds, the populations include Ohjaamo's own: freeing
//! today, freeing tomorrow and patients in over-capacity places.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ohjaamo_picture::{LocalDay, WardFigures};
use serde::Deserialize;
use serde_json::{Value, json};

/// The Measure the reports answer (ours: SANER defines the shape, not this measure).
pub const MEASURE: &str = "https://ohjaamo.fi/fhir/Measure/ward-bed-capacity";
/// What each population counts.
pub const POPULATION_SYSTEM: &str = "https://ohjaamo.fi/fhir/CodeSystem/ward-capacity";
const MEASURE_POPULATION: &str = "http://terminology.hl7.org/CodeSystem/measure-population";

/// `(code, display, count)`: the populations reported, in order.
fn populations(f: &WardFigures) -> [(&'static str, &'static str, u32); 6] {
    [
        ("total-beds", "Total beds", f.beds_total),
        ("occupied-beds", "Occupied beds", f.occupied),
        ("available-beds", "Available beds", f.free_now),
        ("freeing-today", "Beds freeing later today", f.freeing_today),
        (
            "freeing-tomorrow",
            "Beds freeing tomorrow",
            f.freeing_tomorrow,
        ),
        (
            "over-capacity-patients",
            "Patients in over-capacity places",
            f.over_capacity_patients,
        ),
    ]
}

/// The id of a ward's report: one current report per ward, versioned by the store.
pub fn report_id(ward: &str) -> String {
    format!("ward-capacity-{ward}")
}

/// The report of the ward picture `picture` (the JSON the deriver stores), at `now`.
pub fn ward_capacity_report(picture: &Value, now: Timestamp, zone: &TimeZone) -> Option<Value> {
    let ward = picture["id"].as_str()?;
    let figures = match WardFigures::deserialize(&picture["figures"]) {
        Ok(figures) => figures,
        Err(e) => {
            // Our own stored picture: a bug, said loudly rather than reported as 0s.
            tracing::error!(ward, error = %e, "a stored ward picture does not read as ward figures");
            return None;
        }
    };
    let today = LocalDay::of(now, zone, 0)?;
    let instant = |t: Timestamp| {
        t.to_zoned_datetime(zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    };
    let populations: Vec<Value> = populations(&figures)
        .iter()
        .map(|(code, display, count)| {
            json!({
                "code": {
                    "coding": [
                        {"system": MEASURE_POPULATION, "code": "initial-population"},
                        {"system": POPULATION_SYSTEM, "code": code, "display": display},
                    ],
                    "text": display,
                },
                "count": count,
            })
        })
        .collect();
    Some(json!({
        "resourceType": "MeasureReport",
        "id": report_id(ward),
        "status": "complete",
        "type": "summary",
        "measure": MEASURE,
        "subject": {"reference": format!("Location/{ward}"), "display": picture["name"]},
        "date": instant(now),
        "period": {"start": instant(today.start), "end": instant(today.end)},
        "group": [{
            "code": {"coding": [{"system": POPULATION_SYSTEM, "code": "beds", "display": "Beds"}]},
            "population": populations,
        }],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_counts_the_ward_s_figures_for_its_local_day() {
        let zone = TimeZone::get("Europe/Helsinki").unwrap();
        let picture = json!({
            "id": "w1", "name": "Osasto 1", "kind": "ward",
            "figures": {"bedsTotal": 24, "bedsClosed": 0, "bedsOpen": 24, "occupied": 20,
                        "reserved": 1, "freeNow": 3, "freeingToday": 2, "freeingTomorrow": 4,
                        "overCapacityPatients": 1, "patients": 21, "occupancyPercent": 87.5},
        });
        // 23:30 UTC on 24 October is already 25 October in Helsinki, the 25-hour day.
        let now: Timestamp = "2026-10-24T23:30:00Z".parse().unwrap();
        let report = ward_capacity_report(&picture, now, &zone).unwrap();
        assert_eq!(report["id"], "ward-capacity-w1");
        assert_eq!(report["subject"]["reference"], "Location/w1");
        assert_eq!(report["period"]["start"], "2026-10-25T00:00:00+03:00");
        assert_eq!(report["period"]["end"], "2026-10-26T00:00:00+02:00");
        let counts: Vec<(String, u64)> = report["group"][0]["population"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["code"]["coding"][1]["code"].as_str().unwrap().to_owned(),
                    p["count"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            counts,
            [
                ("total-beds".to_owned(), 24),
                ("occupied-beds".to_owned(), 20),
                ("available-beds".to_owned(), 3),
                ("freeing-today".to_owned(), 2),
                ("freeing-tomorrow".to_owned(), 4),
                ("over-capacity-patients".to_owned(), 1),
            ]
        );
    }
}
