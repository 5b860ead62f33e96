//! The lists of one day: the wards' staff shifts, each theatre's elective operation
//! list and the clinic rooms' booking windows.
//!
//! They are made for the coming days when the hospital is built ([`crate::build`]) and
//! for one more day at every local midnight as it lives ([`crate::life`]), so they sit
//! below both.

use jiff::{Span, Timestamp, ToSpan as _};
use rand::Rng as _;

use crate::records::*;
use crate::world::{Store as _, World};

/// The local midnight `day` days after `start`'s day.
pub fn local_midnight(world: &World, start: Timestamp, day: i64) -> Timestamp {
    let date = start.to_zoned_datetime(world.zone.clone()).date();
    let date = date.checked_add(day.days()).unwrap_or(date);
    date.to_zoned_datetime(world.zone.clone())
        .map(|z| z.timestamp())
        .unwrap_or(start)
}

/// `midnight` plus `minutes`, as the export writes times (UTC, RFC 3339).
fn at(midnight: Timestamp, minutes: i64) -> String {
    midnight
        .checked_add(Span::new().minutes(minutes))
        .unwrap_or(midnight)
        .to_string()
}

/// Morning, evening and night shifts for every ward on `day`.
pub fn shifts(world: &mut World, wards: &[String], start: Timestamp, day: i64) {
    let midnight = local_midnight(world, start, day);
    for unit in wards {
        // Morning, evening and night: start minute, hours, staff on the shift.
        for (begin, hours, staff) in [(7 * 60, 8, 4), (15 * 60, 8, 3), (23 * 60, 8, 2)] {
            for n in 1..=staff {
                let number = world.next("tyovuoro");
                let role = if n == 1 {
                    "sairaanhoitaja"
                } else {
                    ["sairaanhoitaja", "lahihoitaja"][n % 2]
                };
                let mut competences = vec!["iv-laakehoito".to_owned()];
                if world.rng.random_bool(0.3) {
                    competences.push("elvytys".into());
                }
                let person = world.rng.random_range(1..=900);
                world.store(Tyovuoro {
                    koodi: format!("TV{number:06}"),
                    henkilo: format!("H{person:04}"),
                    rooli: role.into(),
                    osaamiset: competences,
                    yksikko: unit.clone(),
                    alkaa: at(midnight, begin),
                    paattyy: at(midnight, begin + hours * 60),
                    muutos: 0,
                    poistettu: false,
                });
            }
        }
    }
}

/// The elective list of each theatre on `day`: cases from 08:00 to about 15:00.
pub fn operation_list(
    world: &mut World,
    theatres: usize,
    wards: &[String],
    start: Timestamp,
    day: i64,
) {
    let midnight = local_midnight(world, start, day);
    for t in 1..=theatres {
        let mut minute = 8 * 60;
        while minute < 15 * 60 {
            let length = world.rng.random_range(45..=180);
            new_operation(
                world,
                &format!("S1-SALI{t}"),
                wards,
                at(midnight, minute),
                at(midnight, minute + length),
                "elektiivinen",
            );
            minute += length + 30; // cleaning between cases
        }
    }
}

/// Adds one booked operation.
pub fn new_operation(
    world: &mut World,
    theatre: &str,
    wards: &[String],
    start: String,
    end: String,
    urgency: &str,
) {
    let number = world.next("leikkaus");
    let case = world.next("tapaus");
    let destination = match world.rng.random_range(0..10) {
        0..=1 => "koti".to_owned(),
        2 => "K1-KUNT".to_owned(),
        _ => wards[world.rng.random_range(0..wards.len())].clone(),
    };
    world.store(Leikkaus {
        koodi: format!("LK{number:06}"),
        sali: theatre.into(),
        tapaus: format!("T-{case:06}"),
        kiireellisyys: urgency.into(),
        alkaa: start,
        paattyy: end,
        tila: "varattu".into(),
        vaihe: "odottaa".into(),
        toteutunut_alku: None,
        toteutunut_loppu: None,
        siirtovalmis: None,
        heraamosta: None,
        heraamopaikka: None,
        jatkohoito: destination,
        muutos: 0,
        poistettu: false,
    });
}

/// Each clinic room's booking windows on `day`: every 20 minutes from 08:00 to 16:00,
/// most of them booked.
pub fn clinic_lists(world: &mut World, rooms: usize, start: Timestamp, day: i64) {
    let midnight = local_midnight(world, start, day);
    let date = midnight.to_zoned_datetime(world.zone.clone()).date();
    for r in 1..=rooms {
        for window in 0..24 {
            let begin = 8 * 60 + window * 20;
            let booked = world.rng.random_bool(0.7);
            world.store(Vastaanottoaika {
                koodi: format!("S1-POLI-H{r}/{date}/{window:02}"),
                huone: format!("S1-POLI-H{r}"),
                alkaa: at(midnight, begin),
                paattyy: at(midnight, begin + 20),
                tila: if booked { "varattu" } else { "vapaa" }.into(),
                muutos: 0,
                poistettu: false,
            });
        }
    }
}
