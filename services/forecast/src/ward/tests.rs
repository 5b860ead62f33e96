//! Hand-computed ward forecasts, across the daylight-saving Sundays.

use super::*;
use crate::learn::Durations;
use crate::testing::{helsinki, t};

/// Half of planned discharges happen at 12:00 on the day, half slip to 12:00 the day
/// after; nobody without a plan ever leaves within the horizon; no arrivals.
fn baseline() -> Baseline {
    let mut offsets = vec![12.0; 10];
    offsets.extend(vec![36.0; 10]);
    Baseline {
        dispersion: 1.0,
        length_of_stay_all: Durations::new(vec![1000.0; 40]),
        discharge_offset: Durations::new(offsets),
        recovery: Durations::new(vec![1.0, 2.0, 5.0]),
        ..Baseline::default()
    }
}

fn ward(stays: Vec<Stay>, incoming: Vec<Incoming>) -> Ward {
    Ward {
        code: "W1".into(),
        site: "S1".into(),
        specialty: "SIS".into(),
        beds: 1,
        stays,
        incoming,
    }
}

fn planned(date: &str) -> Stay {
    Stay {
        admitted: t("2026-11-28T10:00:00Z"),
        specialty: "SIS".into(),
        planned_discharge: Some(date.parse().unwrap()),
        leaves: None,
    }
}

#[test]
fn a_planned_discharge_that_slips_half_the_time() {
    let zone = helsinki();
    // Monday 2026-11-30 08:20 local (06:20Z); the stay is planned to leave today.
    let now = t("2026-11-30T06:20:00Z");
    let f = forecast_ward(
        &ward(vec![planned("2026-11-30")], vec![]),
        &baseline(),
        now,
        &zone,
        30,
    );
    // Horizon 1 is 09:00 local: offset 9 h, nobody has left: 1.
    assert_eq!(f.hours[0].at, t("2026-11-30T07:00:00Z"));
    assert_eq!(f.hours[0].horizon, 1);
    assert_eq!(f.hours[0].expected, 1.0);
    // 12:00 local (horizon 4): the half leaving at 12:00 has left.
    assert_eq!(f.hours[3].expected, 0.5);
    assert_eq!((f.hours[3].low, f.hours[3].high), (0.0, 1.0));
    // Tuesday 12:00 local (horizon 28): the slipped half has left too.
    assert_eq!(f.hours[27].expected, 0.0);
    assert_eq!(f.hours[26].expected, 0.5);
    // One bed: more than one patient never happens.
    assert_eq!(f.hours[0].over_beds, 0.0);
}

#[test]
fn a_stay_seen_past_its_planned_day_is_in_the_slipped_half() {
    let zone = helsinki();
    // Monday 14:00 local: the stay planned for today is still here, so it is one of
    // those that slip; it leaves Tuesday 12:00 for certain.
    let now = t("2026-11-30T12:00:00Z");
    let f = forecast_ward(
        &ward(vec![planned("2026-11-30")], vec![]),
        &baseline(),
        now,
        &zone,
        24,
    );
    assert_eq!(f.hours[20].expected, 1.0); // Tuesday 11:00 local
    assert_eq!(f.hours[21].expected, 0.0); // Tuesday 12:00 local
}

#[test]
fn known_departures_and_arrivals() {
    let zone = helsinki();
    let now = t("2026-11-30T06:20:00Z"); // 08:20 local
    let mut leaving = planned("2026-12-05");
    leaving.leaves = Some(t("2026-11-30T08:30:00Z")); // 10:30 local
    let incoming = Incoming {
        at: t("2026-11-30T12:00:00Z"), // 14:00 local
        probability: 0.9,
        specialty: "SIS".into(),
        planned_discharge: None,
    };
    let f = forecast_ward(
        &ward(vec![leaving], vec![incoming]),
        &baseline(),
        now,
        &zone,
        8,
    );
    let expected: Vec<f64> = f.hours.iter().map(|h| h.expected).collect();
    // 09, 10: the leaving patient; 11, 12, 13: nobody; 14, 15, 16: the arrival at 0.9.
    assert_eq!(expected, vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.9, 0.9, 0.9]);
}

#[test]
fn the_operating_list_sends_patients_after_recovery() {
    let cases = vec![
        OperatingCase {
            ends: t("2026-11-30T10:00:00Z"),
            destination: Some("W1".into()),
            recovery_hours: None,
            specialty: "SIS".into(),
            planned_discharge: None,
            probability: 0.95,
        },
        OperatingCase {
            ends: t("2026-11-30T10:00:00Z"),
            destination: None,
            recovery_hours: Some(1.0),
            specialty: "SIS".into(),
            planned_discharge: None,
            probability: 1.0,
        },
    ];
    let mut cases = cases;
    let mut odd = cases[0].clone();
    odd.recovery_hours = Some(f64::NAN);
    cases.push(odd);
    let arrivals = post_operative(&cases, &baseline());
    // The home case sends nobody; the other arrives after the learned median, 2 h.
    assert_eq!(arrivals.len(), 2);
    assert_eq!(arrivals[0].0, "W1");
    assert_eq!(arrivals[0].1.at, t("2026-11-30T12:00:00Z"));
    assert_eq!(arrivals[0].1.probability, 0.95);
    // A recovery time that is not a number is taken as unknown, not a panic.
    assert_eq!(arrivals[1].1.at, t("2026-11-30T12:00:00Z"));
}

/// Emergency arrivals only at local Sunday 03:xx, one an hour on average, and they
/// never leave within the horizon.
fn sunday_three_baseline() -> Baseline {
    let mut rates = vec![0.0; 168];
    rates[6 * 24 + 3] = 1.0;
    let mut base = baseline();
    base.arrivals.insert("W1".into(), rates);
    base
}

#[test]
fn emergency_arrivals_across_the_daylight_saving_sundays() {
    let zone = helsinki();
    let base = sunday_three_baseline();
    let empty = ward(vec![], vec![]);
    // Saturday 12:00 local to Sunday 12:00 local, each time.
    for (now, hours_to_noon, expected) in [
        // Ordinary Sunday 2026-11-29: one 03:00 hour, 24 hours.
        ("2026-11-28T10:00:00Z", 24, 1.0),
        // Spring 2026-03-29: no 03:00 at all, 23 hours.
        ("2026-03-28T10:00:00Z", 23, 0.0),
        // Autumn 2026-10-25: 03:00 twice, 25 hours.
        ("2026-10-24T09:00:00Z", 25, 2.0),
    ] {
        let f = forecast_ward(&empty, &base, t(now), &zone, 30);
        let noon = &f.hours[hours_to_noon - 1];
        assert_eq!(noon.horizon as usize, hours_to_noon, "{now}");
        let local = noon.at.to_zoned_datetime(zone.clone());
        assert_eq!(
            (local.weekday(), local.hour()),
            (jiff::civil::Weekday::Sunday, 12),
            "{now}"
        );
        assert!(
            (noon.expected - expected).abs() < 1e-12,
            "{now}: {}",
            noon.expected
        );
    }
}

#[test]
fn the_hour_under_way_counts_only_its_rest() {
    let zone = helsinki();
    let mut rates = vec![0.0; 168];
    rates[10] = 2.0; // Monday 10:xx local
    let mut base = baseline();
    base.arrivals.insert("W1".into(), rates);
    // Monday 10:30 local: half an hour of 2 an hour is 1 expected by 11:00, Poisson(1):
    // P(0) = 0.368 ≥ 0.1 so the interval starts at 0; P(≤2) = 0.920 so it ends at 2.
    let f = forecast_ward(
        &ward(vec![], vec![]),
        &base,
        t("2026-11-30T08:30:00Z"),
        &zone,
        2,
    );
    assert!((f.hours[0].expected - 1.0).abs() < 1e-12);
    assert_eq!((f.hours[0].low, f.hours[0].high), (0.0, 2.0));
    // P(more than one bed's worth) = 1 − P(0) − P(1) = 1 − 2/e.
    assert!((f.hours[0].over_beds - (1.0 - 2.0 / std::f64::consts::E)).abs() < 1e-9);
}

#[test]
fn a_site_sums_its_wards() {
    let zone = helsinki();
    let now = t("2026-11-30T06:20:00Z");
    let mut second = ward(vec![planned("2026-11-30")], vec![]);
    second.code = "W2".into();
    let wards = vec![ward(vec![planned("2026-11-30")], vec![]), second];
    let (per_ward, per_site) = forecast_hospital(&wards, &baseline(), now, &zone, 4);
    assert_eq!(per_ward.len(), 2);
    assert_eq!(per_site.len(), 1);
    let noon = &per_site[0].hours[3];
    // Two independent halves: 0, 1, 2 with 1/4, 1/2, 1/4.
    assert_eq!(noon.expected, 1.0);
    assert_eq!((noon.low, noon.high), (0.0, 2.0));
    assert_eq!(noon.beds, 2);
    assert_eq!(per_site[0].unit, "S1");
}
