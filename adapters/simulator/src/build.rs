//! The hospital's structure, built from a seed: sites, wards with bed places and
//! over-capacity places, a theatre suite, a recovery unit, a rehabilitation hospital,
//! equipment, staff shifts, and the elective operation lists of the coming days.

use jiff::{Span, Timestamp, ToSpan as _};
use rand::Rng as _;

use crate::records::*;
use crate::world::{Store as _, World};

/// How big a hospital to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Acute hospitals (the first has the theatres and the recovery unit).
    pub hospitals: usize,
    pub wards_per_hospital: usize,
    pub beds_per_ward: usize,
    pub over_capacity_per_ward: usize,
    pub theatres: usize,
    pub recovery_bays: usize,
    pub rehabilitation_beds: usize,
    pub equipment: usize,
    /// Outpatient clinic rooms, each with a list of 20-minute booking windows.
    pub clinic_rooms: usize,
    /// Days of operation lists and shifts ahead of the start.
    pub days_ahead: usize,
}

impl Size {
    /// A regional hospital small enough to read on a screen.
    pub fn demo() -> Size {
        Size {
            hospitals: 2,
            wards_per_hospital: 4,
            beds_per_ward: 20,
            over_capacity_per_ward: 2,
            theatres: 6,
            recovery_bays: 12,
            rehabilitation_beds: 30,
            equipment: 40,
            clinic_rooms: 4,
            days_ahead: 3,
        }
    }

    /// A large regional hospital: 2,000 beds, 40 theatres, 90 days of bookings
    /// (about 500,000 Slots once pulled), for the initial-sync benchmark.
    pub fn large() -> Size {
        Size {
            hospitals: 4,
            wards_per_hospital: 20,
            beds_per_ward: 24,
            over_capacity_per_ward: 1,
            theatres: 40,
            recovery_bays: 60,
            rehabilitation_beds: 0,
            equipment: 1_000,
            clinic_rooms: 220,
            days_ahead: 90,
        }
    }
}

const BEDS_PER_ROOM: usize = 4;
const SPECIALTIES: [&str; 6] = [
    "sisätaudit",
    "kirurgia",
    "ortopedia",
    "neurologia",
    "kardiologia",
    "gastroenterologia",
];
const EQUIPMENT: [(&str, &str); 5] = [
    ("infuusiopumppu", "Infuusiopumppu"),
    ("monitori", "Valvontamonitori"),
    ("hengityslaite", "Hengityslaite"),
    ("ultraaani", "Ultraäänilaite"),
    ("sanky", "Sähkösänky"),
];

/// Fills `world` with the hospital of `size`.
pub fn build(world: &mut World, size: Size) {
    let mut wards = Vec::new();
    for h in 1..=size.hospitals.max(1) {
        let site = format!("S{h}");
        world.store(Toimipiste {
            koodi: site.clone(),
            nimi: format!("Keskussairaala {h}"),
            tyyppi: "sairaala".into(),
            muutos: 0,
            poistettu: false,
        });
        for w in 1..=size.wards_per_hospital {
            let unit = format!("S{h}-OS{w}");
            let specialty = SPECIALTIES[(h * 7 + w) % SPECIALTIES.len()];
            ward(
                world,
                &site,
                &unit,
                &format!("Osasto {w} ({specialty})"),
                "vuodeosasto",
                specialty,
                size.beds_per_ward,
                size.over_capacity_per_ward,
            );
            wards.push(unit);
        }
    }
    // The theatres and recovery of the first hospital.
    world.store(Yksikko {
        koodi: "S1-LEIK".into(),
        nimi: "Leikkausosasto".into(),
        toimipiste: "S1".into(),
        tyyppi: "leikkausosasto".into(),
        erikoisala: None,
        muutos: 0,
        poistettu: false,
    });
    for t in 1..=size.theatres {
        world.store(Huone {
            koodi: format!("S1-SALI{t}"),
            nimi: format!("Sali {t}"),
            yksikko: "S1-LEIK".into(),
            tyyppi: "leikkaussali".into(),
            muutos: 0,
            poistettu: false,
        });
    }
    world.store(Yksikko {
        koodi: "S1-HER".into(),
        nimi: "Heräämö".into(),
        toimipiste: "S1".into(),
        tyyppi: "heraamo".into(),
        erikoisala: None,
        muutos: 0,
        poistettu: false,
    });
    for b in 1..=size.recovery_bays {
        world.store(Vuodepaikka {
            koodi: format!("S1-HER-{b}"),
            nimi: format!("Heräämöpaikka {b}"),
            yksikko: "S1-HER".into(),
            huone: None,
            ylipaikka: false,
            suljettu: false,
            muutos: 0,
            poistettu: false,
        });
    }
    world.store(Toimipiste {
        koodi: "K1".into(),
        nimi: "Kuntoutussairaala".into(),
        tyyppi: "kuntoutussairaala".into(),
        muutos: 0,
        poistettu: false,
    });
    ward(
        world,
        "K1",
        "K1-KUNT",
        "Kuntoutusosasto",
        "kuntoutusosasto",
        "kuntoutus",
        size.rehabilitation_beds,
        0,
    );
    wards.push("K1-KUNT".into());

    for e in 1..=size.equipment {
        let (kind, name) = EQUIPMENT[e % EQUIPMENT.len()];
        let unit = wards[e % wards.len()].clone();
        world.store(Laite {
            koodi: format!("L{e:04}"),
            nimi: format!("{name} {e}"),
            tyyppi: kind.into(),
            yksikko: unit,
            huolto: None,
            muutos: 0,
            poistettu: false,
        });
    }
    world.plan.wards = wards.clone();
    world.plan.theatres = size.theatres;
    world.plan.clinic_rooms = size.clinic_rooms;
    clinic(world, size.clinic_rooms);
    world.plan.days_ahead = size.days_ahead.max(1);
    let start = world.now;
    for day in 0..size.days_ahead.max(1) {
        shifts(world, &wards, start, day as i64);
        operation_list(world, size.theatres, &wards, start, day as i64);
        clinic_lists(world, size.clinic_rooms, start, day as i64);
    }
    crate::life::census(world, CENSUS_SHARE);
}

/// How full the wards are when the simulation starts.
const CENSUS_SHARE: f64 = 0.75;

#[allow(clippy::too_many_arguments)] // one call per kind of ward, each argument named there
fn ward(
    world: &mut World,
    site: &str,
    unit: &str,
    name: &str,
    kind: &str,
    specialty: &str,
    beds: usize,
    over: usize,
) {
    world.store(Yksikko {
        koodi: unit.into(),
        nimi: name.into(),
        toimipiste: site.into(),
        tyyppi: kind.into(),
        erikoisala: Some(specialty.into()),
        muutos: 0,
        poistettu: false,
    });
    for b in 0..beds + over {
        let room = format!("{unit}-H{}", b / BEDS_PER_ROOM + 1);
        if b % BEDS_PER_ROOM == 0 {
            world.store(Huone {
                koodi: room.clone(),
                nimi: format!("Huone {}", b / BEDS_PER_ROOM + 1),
                yksikko: unit.into(),
                tyyppi: "potilashuone".into(),
                muutos: 0,
                poistettu: false,
            });
        }
        let over_capacity = b >= beds;
        world.store(Vuodepaikka {
            koodi: format!("{unit}-{}", b + 1),
            nimi: if over_capacity {
                format!("Ylipaikka {}", b + 1 - beds)
            } else {
                format!("Paikka {}", b + 1)
            },
            yksikko: unit.into(),
            huone: Some(room),
            ylipaikka: over_capacity,
            suljettu: false,
            muutos: 0,
            poistettu: false,
        });
    }
}

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

/// The outpatient clinic of the first hospital and its rooms.
fn clinic(world: &mut World, rooms: usize) {
    if rooms == 0 {
        return;
    }
    world.store(Yksikko {
        koodi: "S1-POLI".into(),
        nimi: "Poliklinikka".into(),
        toimipiste: "S1".into(),
        tyyppi: "poliklinikka".into(),
        erikoisala: None,
        muutos: 0,
        poistettu: false,
    });
    for r in 1..=rooms {
        world.store(Huone {
            koodi: format!("S1-POLI-H{r}"),
            nimi: format!("Vastaanotto {r}"),
            yksikko: "S1-POLI".into(),
            tyyppi: "vastaanottohuone".into(),
            muutos: 0,
            poistettu: false,
        });
    }
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
