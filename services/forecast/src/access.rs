//! Access to appointments: T3 and reppu.
//!
//! **T3** (third next available appointment, IHI's measure of access): the number of
//! calendar days from the day of asking to the day of the third free appointment slot
//! starting at or after the moment of asking. Calendar days, weekends and holidays
//! included, counted between local dates: the third free slot today is 0, tomorrow 1.
//! The third rather than the first because the first and second are often freed by a
//! cancellation by chance; the third says where free time really begins. With fewer
//! than three free slots published, T3 is unknown (`None`): at least the published
//! horizon, but not a number to average.
//!
//! Worked examples (now Monday 30.11. 14:00):
//! - free Monday 15:00, Tuesday 09:00, Thursday 10:00 → the third is Thursday 3.12.: T3 = 3;
//! - free Monday 14:30, 15:00, 15:20 → the third is today: T3 = 0;
//! - now Friday 4.12. 12:00, free Friday 13:00, Monday 7.12. 08:00 and 08:20 → T3 = 3
//!   (Saturday and Sunday count).
//!
//! **Reppu** ("backpack"): a professional's appointments already booked ahead (starting
//! at or after now, before the horizon's end if one is given), in person (*läsnäreppu*)
//! and remote (*etäreppu*): the workload ahead. The team's spread is given as minimum,
//! maximum, mean, standard deviation (of the population: the team is all of it) and
//! coefficient of variation (sd / mean): 0 when the load is even.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

/// A free appointment slot.
#[derive(Debug, Clone, PartialEq)]
pub struct FreeSlot {
    pub start: Timestamp,
    pub service: String,
    pub unit: String,
    /// The PractitionerRole the slot is for, if any.
    pub professional: Option<String>,
}

/// T3 in days from `now` (see the module's definition); `None` with fewer than three
/// free slots from now on.
pub fn third_next_available(now: Timestamp, zone: &TimeZone, starts: &[Timestamp]) -> Option<i64> {
    let mut ahead: Vec<Timestamp> = starts.iter().copied().filter(|s| *s >= now).collect();
    if ahead.len() < 3 {
        return None;
    }
    ahead.select_nth_unstable(2);
    let third = ahead[2];
    let today = now.to_zoned_datetime(zone.clone()).date();
    let day = third.to_zoned_datetime(zone.clone()).date();
    // Civil dates are 24 h apart whatever the clocks do.
    Some(day.duration_since(today).as_secs() / 86_400)
}

/// T3 per group, the groups named by `key` (service, unit or professional); slots
/// without a key are left out.
pub fn t3_by(
    now: Timestamp,
    zone: &TimeZone,
    slots: &[FreeSlot],
    key: impl Fn(&FreeSlot) -> Option<&str>,
) -> BTreeMap<String, Option<i64>> {
    let mut groups: BTreeMap<String, Vec<Timestamp>> = BTreeMap::new();
    for slot in slots {
        if let Some(k) = key(slot) {
            groups.entry(k.to_string()).or_default().push(slot.start);
        }
    }
    groups
        .into_iter()
        .map(|(k, starts)| (k, third_next_available(now, zone, &starts)))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Channel {
    InPerson,
    Remote,
}

/// A booked appointment.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub professional: String,
    pub start: Timestamp,
    pub channel: Channel,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reppu {
    pub professional: String,
    pub in_person: u32,
    pub remote: u32,
    pub total: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamReppu {
    pub professionals: Vec<Reppu>,
    pub min: u32,
    pub max: u32,
    pub mean: f64,
    pub sd: f64,
    /// sd / mean; `None` when the mean is 0.
    pub cv: Option<f64>,
}

/// Each of `team`'s reppu at `now` (a member with no bookings has an empty one) and
/// the team's spread. Bookings of people outside `team` are left out.
pub fn reppu(
    team: &[String],
    bookings: &[Booking],
    now: Timestamp,
    until: Option<Timestamp>,
) -> TeamReppu {
    let mut per: BTreeMap<&str, Reppu> = team
        .iter()
        .map(|p| {
            (
                p.as_str(),
                Reppu {
                    professional: p.clone(),
                    in_person: 0,
                    remote: 0,
                    total: 0,
                },
            )
        })
        .collect();
    for b in bookings
        .iter()
        .filter(|b| b.start >= now && until.is_none_or(|u| b.start < u))
    {
        if let Some(r) = per.get_mut(b.professional.as_str()) {
            match b.channel {
                Channel::InPerson => r.in_person += 1,
                Channel::Remote => r.remote += 1,
            }
            r.total += 1;
        }
    }
    let professionals: Vec<Reppu> = per.into_values().collect();
    let totals: Vec<f64> = professionals.iter().map(|r| f64::from(r.total)).collect();
    let n = totals.len().max(1) as f64;
    let mean = totals.iter().sum::<f64>() / n;
    let sd = (totals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    TeamReppu {
        min: professionals.iter().map(|r| r.total).min().unwrap_or(0),
        max: professionals.iter().map(|r| r.total).max().unwrap_or(0),
        mean,
        sd,
        cv: (mean > 0.0).then(|| sd / mean),
        professionals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{helsinki, local};

    #[test]
    fn the_worked_examples() {
        let zone = helsinki();
        let now = local("2026-11-30T14:00");
        let slots = [
            local("2026-12-03T10:00"),
            local("2026-11-30T15:00"),
            local("2026-12-01T09:00"),
            local("2026-11-30T09:00"), // before now: taken by the past
        ];
        assert_eq!(third_next_available(now, &zone, &slots), Some(3));
        let today = [
            local("2026-11-30T14:30"),
            local("2026-11-30T15:00"),
            local("2026-11-30T15:20"),
        ];
        assert_eq!(third_next_available(now, &zone, &today), Some(0));
        assert_eq!(third_next_available(now, &zone, &today[..2]), None);
        let friday = local("2026-12-04T12:00");
        let over_weekend = [
            local("2026-12-04T13:00"),
            local("2026-12-07T08:00"),
            local("2026-12-07T08:20"),
        ];
        assert_eq!(third_next_available(friday, &zone, &over_weekend), Some(3));
    }

    #[test]
    fn days_are_local_dates_across_the_spring_change() {
        let zone = helsinki();
        // Saturday 28.3. 23:30 local to Sunday 29.3. 23:30 local: 23 hours, one day.
        let now = local("2026-03-28T23:30");
        let sunday: Timestamp = "2026-03-29T20:30:00Z".parse().unwrap();
        assert_eq!(third_next_available(now, &zone, &[sunday; 3]), Some(1));
        // 00:10 local Saturday (22:10Z Friday) is still "today" on Saturday.
        let early: Timestamp = "2026-03-27T22:10:00Z".parse().unwrap();
        let saturday = [early, early, early];
        assert_eq!(
            third_next_available(local("2026-03-28T00:05"), &zone, &saturday),
            Some(0)
        );
    }

    #[test]
    fn t3_per_service_unit_and_professional() {
        let zone = helsinki();
        let now = local("2026-11-30T08:00");
        let slot = |day: &str, unit: &str, who: Option<&str>| FreeSlot {
            start: local(day),
            service: "yleislääkäri".into(),
            unit: unit.into(),
            professional: who.map(str::to_string),
        };
        let slots = vec![
            slot("2026-11-30T09:00", "A", Some("lääkäri-1")),
            slot("2026-12-02T09:00", "A", Some("lääkäri-1")),
            slot("2026-12-08T09:00", "A", Some("lääkäri-1")),
            slot("2026-12-01T09:00", "B", None),
        ];
        let by_service = t3_by(now, &zone, &slots, |s| Some(s.service.as_str()));
        // All four: 30.11., 1.12., 2.12., 8.12.: the third is 2.12.
        assert_eq!(by_service["yleislääkäri"], Some(2));
        let by_unit = t3_by(now, &zone, &slots, |s| Some(s.unit.as_str()));
        assert_eq!(by_unit["A"], Some(8));
        assert_eq!(by_unit["B"], None);
        let by_professional = t3_by(now, &zone, &slots, |s| s.professional.as_deref());
        assert_eq!(by_professional.len(), 1);
        assert_eq!(by_professional["lääkäri-1"], Some(8));
    }

    #[test]
    fn reppu_and_the_team_spread() {
        let now = local("2026-11-30T08:00");
        let book = |who: &str, at: &str, channel| Booking {
            professional: who.into(),
            start: local(at),
            channel,
        };
        let bookings = vec![
            book("a", "2026-11-30T09:00", Channel::InPerson),
            book("a", "2026-12-01T09:00", Channel::Remote),
            book("a", "2026-12-02T09:00", Channel::InPerson),
            book("a", "2026-11-30T07:00", Channel::InPerson), // past
            book("b", "2026-12-01T10:00", Channel::Remote),
            book("x", "2026-12-01T10:00", Channel::Remote), // not of the team
        ];
        let team = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let r = reppu(&team, &bookings, now, None);
        let a = &r.professionals[0];
        assert_eq!((a.in_person, a.remote, a.total), (2, 1, 3));
        assert_eq!(r.professionals[2].total, 0);
        // Totals 3, 1, 0: mean 4/3, variance (25/9 + 1/9 + 16/9)/3 = 14/9.
        assert_eq!((r.min, r.max), (0, 3));
        assert!((r.mean - 4.0 / 3.0).abs() < 1e-12);
        assert!((r.sd - (14.0f64 / 9.0).sqrt()).abs() < 1e-12);
        // Up to (not including) Tuesday 09:00: a's Monday visit only.
        let short = reppu(&team, &bookings, now, Some(local("2026-12-01T09:00")));
        assert_eq!(short.professionals[0].total, 1);
        assert_eq!(short.professionals[1].total, 0);
    }
}
