//! The hospital's structure, built from a seed: sites, wards with bed places and
//! over-capacity places, a theatre suite, a recovery unit, a rehabilitation hospital,
//! equipment, staff shifts, and the elective operation lists of the coming days.
//!
//! The lists of each day are made in [`crate::days`], which the living hospital uses
//! again at every midnight; the ward census at the start comes from [`crate::life`].

use crate::records::*;
use crate::world::{Store as _, World};

// The day lists stay reachable under `build`, where they were public before they got a
// module of their own.
pub use crate::days::{clinic_lists, local_midnight, new_operation, operation_list, shifts};

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
