//! The hospital living minute by minute.
//!
//! Every minute of simulated time: operations move through their phases (to
//! theatre, operation, to recovery, out of recovery — to a ward, the rehabilitation
//! hospital or home), some booked cases are cancelled late, emergency cases arrive,
//! patients are admitted, transferred and discharged (each with an ADT message), now
//! and then such an event is cancelled or corrected (A11, A12, A13, A08), beds close
//! and reopen, equipment goes to maintenance. All draws come from the world's seeded
//! generator in a fixed order, so a seed and a span of time give the same history.

use jiff::{Span, Timestamp, ToSpan as _};
use rand::Rng as _;

use crate::days::{clinic_lists, local_midnight, new_operation, operation_list, shifts};
use crate::hl7_out::{Place, adt};
use crate::records::*;
use crate::world::{Outgoing, Store as _, Undo, World};

/// Admissions per free (regular) bed per minute.
const ADMIT_PER_FREE_BED: f64 = 0.001;
/// Transfers, corrections per open stay per minute.
const TRANSFER_RATE: f64 = 0.000_1;
const CORRECTION_RATE: f64 = 0.000_02;
/// Chances that an event is cancelled a little later.
const CANCEL_ADMIT: f64 = 0.02;
const CANCEL_TRANSFER: f64 = 0.15;
const CANCEL_DISCHARGE: f64 = 0.08;
const CLOSE_RATE: f64 = 0.000_01;
const MAINTENANCE_RATE: f64 = 0.000_005;
const LATE_CANCEL_RATE: f64 = 0.000_5;
const EMERGENCY_RATE: f64 = 0.001;
/// Future shifts deleted from the roster, devices decommissioned (tombstones).
const SHIFT_DELETE_RATE: f64 = 0.002;
const DECOMMISSION_RATE: f64 = 0.000_02;

/// Lives `minutes` more minutes (none when negative).
pub fn advance_by(world: &mut World, minutes: i64) {
    let until = later(world, minutes.max(0));
    advance_to(world, until);
}

/// Lives until `until`, a minute at a time.
pub fn advance_to(world: &mut World, until: Timestamp) {
    loop {
        let Ok(next) = world.now.checked_add(1.minute()) else {
            return;
        };
        if next > until {
            return;
        }
        world.now = next;
        minute(world);
    }
}

fn minute(world: &mut World) {
    new_day(world);
    operations(world);
    cancels(world);
    admissions(world);
    stays(world);
    beds(world);
    equipment(world);
    deletions(world);
}

/// Now and then a future shift is taken off the roster or a device decommissioned:
/// the export keeps them as tombstones.
fn deletions(world: &mut World) {
    let now = world.now;
    if world.rng.random_bool(SHIFT_DELETE_RATE) {
        let future: Vec<Tyovuoro> = world
            .tyovuorot
            .live()
            .filter(|s| s.alkaa.parse::<Timestamp>().is_ok_and(|t| t > now))
            .cloned()
            .collect();
        if !future.is_empty() {
            let mut shift = future[world.rng.random_range(0..future.len())].clone();
            shift.poistettu = true;
            world.store(shift);
        }
    }
    if world.rng.random_bool(DECOMMISSION_RATE) {
        let devices: Vec<Laite> = world.laitteet.live().cloned().collect();
        if !devices.is_empty() {
            let mut device = devices[world.rng.random_range(0..devices.len())].clone();
            device.poistettu = true;
            world.store(device);
        }
    }
}

fn now_text(world: &World) -> String {
    world.now.to_string()
}

fn later(world: &World, minutes: i64) -> Timestamp {
    world
        .now
        .checked_add(Span::new().minutes(minutes))
        .unwrap_or(world.now)
}

/// At local midnight the lists of the day `days_ahead` away are published.
fn new_day(world: &mut World) {
    let midnight = local_midnight(world, world.now, 0);
    if midnight != world.now {
        return;
    }
    let wards = world.plan.wards.clone();
    let ahead = world.plan.days_ahead as i64;
    shifts(world, &wards, world.now, ahead - 1);
    operation_list(world, world.plan.theatres, &wards, world.now, ahead - 1);
    clinic_lists(world, world.plan.clinic_rooms, world.now, ahead - 1);
    bookings(world);
}

/// Each day some of today's free clinic windows get booked and some bookings are
/// cancelled (the window is free again).
fn bookings(world: &mut World) {
    let today_end = local_midnight(world, world.now, 1).to_string();
    let now = world.now.to_string();
    let windows: Vec<Vastaanottoaika> = world
        .vastaanottoajat
        .live()
        .filter(|w| w.alkaa >= now && w.alkaa < today_end)
        .cloned()
        .collect();
    for mut window in windows {
        if world.rng.random_bool(0.1) {
            window.tila = if window.tila == "vapaa" {
                "varattu"
            } else {
                "vapaa"
            }
            .into();
            world.store(window);
        }
    }
}

fn operations(world: &mut World) {
    let now = world.now;
    let codes: Vec<String> = world
        .leikkaukset
        .live()
        .filter(|o| o.tila == "varattu" || o.tila == "kaynnissa")
        .map(|o| o.koodi.clone())
        .collect();
    for code in codes {
        let Some(op) = world.leikkaukset.rows.get(&code).cloned() else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            op.alkaa.parse::<Timestamp>(),
            op.paattyy.parse::<Timestamp>(),
        ) else {
            continue;
        };
        let mut next = op.clone();
        match op.vaihe.as_str() {
            "odottaa" => {
                let until_start = start.duration_since(now).as_secs() / 60;
                if (0..120).contains(&until_start) && world.rng.random_bool(LATE_CANCEL_RATE) {
                    next.tila = "peruttu".into();
                } else if until_start <= 20 {
                    next.vaihe = "siirto_saliin".into();
                }
            }
            "siirto_saliin" if now >= start => {
                next.vaihe = "leikkaus".into();
                next.tila = "kaynnissa".into();
                next.toteutunut_alku = Some(now_text(world));
                let planned = end.duration_since(start).as_secs() / 60;
                let actual = (planned as f64 * world.rng.random_range(0.8..1.3)) as i64;
                world
                    .plan
                    .operation_ends
                    .insert(code.clone(), later(world, actual.max(15)));
            }
            "leikkaus"
                if world
                    .plan
                    .operation_ends
                    .get(&code)
                    .is_some_and(|t| now >= *t) =>
            {
                let Some(bay) = free_recovery_bay(world) else {
                    continue; // the patient waits in the theatre for a bay
                };
                next.vaihe = "heraamossa".into();
                next.toteutunut_loppu = Some(now_text(world));
                next.heraamopaikka = Some(bay);
                let stay = world.rng.random_range(60..=150);
                world
                    .plan
                    .recovery_ends
                    .insert(code.clone(), later(world, stay));
            }
            "heraamossa"
                if world
                    .plan
                    .recovery_ends
                    .get(&code)
                    .is_some_and(|t| now >= *t) =>
            {
                if next.siirtovalmis.is_none() {
                    next.siirtovalmis = Some(now_text(world));
                }
                // Otherwise ready to leave, waiting in recovery for a ward bed.
                if op.jatkohoito == "koti" || admit(world, &op.jatkohoito, false) {
                    next.vaihe = "poistunut".into();
                    next.tila = "valmis".into();
                    next.heraamosta = Some(now_text(world));
                }
            }
            _ => {}
        }
        if next != op {
            world.store(next);
        }
    }
    if world.rng.random_bool(EMERGENCY_RATE) && world.plan.theatres > 0 {
        let theatre = format!("S1-SALI{}", world.rng.random_range(1..=world.plan.theatres));
        let length = world.rng.random_range(45..=150);
        let wards = world.plan.wards.clone();
        let start = later(world, 40).to_string();
        let end = later(world, 40 + length).to_string();
        new_operation(world, &theatre, &wards, start, end, "paivystys");
    }
}

fn free_recovery_bay(world: &World) -> Option<String> {
    let taken: Vec<&str> = world
        .leikkaukset
        .live()
        .filter(|o| o.vaihe == "heraamossa")
        .filter_map(|o| o.heraamopaikka.as_deref())
        .collect();
    world
        .vuodepaikat
        .live()
        .filter(|b| b.yksikko == "S1-HER" && !b.suljettu && !taken.contains(&b.koodi.as_str()))
        .map(|b| b.koodi.clone())
        .next()
}

/// Bed places of `unit` nobody occupies, regular ones first.
fn free_beds(world: &World, unit: &str, over_capacity: bool) -> Vec<Vuodepaikka> {
    let occupied: Vec<&str> = world
        .hoitojaksot
        .values()
        .filter(|s| s.tila == "osastolla")
        .map(|s| s.paikka.as_str())
        .collect();
    world
        .vuodepaikat
        .live()
        .filter(|b| b.yksikko == unit && !b.suljettu && b.ylipaikka == over_capacity)
        .filter(|b| !occupied.contains(&b.koodi.as_str()))
        .cloned()
        .collect()
}

fn place_of(bed: &Vuodepaikka) -> Place {
    Place {
        unit: bed.yksikko.clone(),
        room: bed.huone.clone().unwrap_or_default(),
        bed: bed.koodi.clone(),
    }
}

fn place_named(world: &World, bed: &str) -> Place {
    world
        .vuodepaikat
        .rows
        .get(bed)
        .map(place_of)
        .unwrap_or(Place {
            unit: String::new(),
            room: String::new(),
            bed: bed.into(),
        })
}

/// Sends one ADT message about `visit`'s stay as it is now.
fn send(world: &mut World, trigger: &str, visit: &str, place: &Place, prior: Option<&Place>) {
    let Some(stay) = world.hoitojaksot.get(visit).cloned() else {
        return;
    };
    let control = format!("MSG{:08}", world.next("viesti"));
    let message = adt(
        trigger,
        &control,
        world.now,
        &world.zone,
        &stay,
        place,
        prior,
    );
    world.outbox.push_back(Outgoing {
        bytes: message,
        made: std::time::Instant::now(),
    });
}

/// Admits a new patient to `unit` (over-capacity places only when `overflow` and the
/// regular ones are full). False when there is no place.
fn admit(world: &mut World, unit: &str, overflow: bool) -> bool {
    let days = world.rng.random_range(1..=5);
    let now = world.now;
    admit_since(world, unit, overflow, now, days)
}

/// The patients already in the wards when the simulation starts: `share` of each
/// ward's regular beds, admitted up to three days ago, leaving within four days. The
/// feed tells of them first, as a census.
pub fn census(world: &mut World, share: f64) {
    for unit in world.plan.wards.clone() {
        let beds = free_beds(world, &unit, false).len();
        let patients = (beds as f64 * share.clamp(0.0, 1.0)).round() as usize;
        for _ in 0..patients {
            let ago = world.rng.random_range(60..=3 * 24 * 60);
            let arrived = later(world, -ago);
            let days = world.rng.random_range(0..=4);
            admit_since(world, &unit, false, arrived, days);
        }
    }
}

/// Admits a patient who arrived at `arrived` to `unit`, planned to leave `days` days
/// from today. False when there is no place.
fn admit_since(
    world: &mut World,
    unit: &str,
    overflow: bool,
    arrived: Timestamp,
    days: i64,
) -> bool {
    let mut beds = free_beds(world, unit, false);
    if beds.is_empty() && overflow {
        beds = free_beds(world, unit, true);
    }
    if beds.is_empty() {
        return false;
    }
    let bed = beds[world.rng.random_range(0..beds.len())].clone();
    let visit = format!("K{:07}", world.next("kaynti"));
    let planned = local_midnight(world, world.now, days)
        .to_zoned_datetime(world.zone.clone())
        .date()
        .to_string();
    let arrived = arrived.to_string();
    world.hoitojaksot.insert(
        visit.clone(),
        Hoitojakso {
            kaynti: visit.clone(),
            yksikko: unit.into(),
            paikka: bed.koodi.clone(),
            tulo: arrived.clone(),
            suunniteltu_lahto: Some(planned),
            lahto: None,
            tila: "osastolla".into(),
            paikat: vec![Siirto {
                yksikko: unit.into(),
                paikka: bed.koodi.clone(),
                alkaa: arrived,
                paattyy: None,
            }],
        },
    );
    world.plan.undo.insert(
        visit.clone(),
        Undo {
            trigger: "A01",
            before: None,
        },
    );
    send(world, "A01", &visit, &place_of(&bed), None);
    if world.rng.random_bool(CANCEL_ADMIT) {
        let minutes = world.rng.random_range(5..=30);
        let at = later(world, minutes);
        world.plan.cancels.push((at, visit));
    }
    true
}

fn admissions(world: &mut World) {
    for unit in world.plan.wards.clone() {
        let free = free_beds(world, &unit, false).len();
        let chance = (ADMIT_PER_FREE_BED * free as f64).min(0.5);
        if world.rng.random_bool(chance) {
            admit(world, &unit, false);
        } else if free == 0 && world.rng.random_bool(0.000_3) {
            admit(world, &unit, true); // the ward is full: an over-capacity patient
        }
    }
}

/// Discharges, transfers and corrections of open stays.
fn stays(world: &mut World) {
    let local = world.now.to_zoned_datetime(world.zone.clone());
    let today = local.date().to_string();
    let daytime = (9..16).contains(&local.hour());
    let open: Vec<String> = world
        .hoitojaksot
        .values()
        .filter(|s| s.tila == "osastolla")
        .map(|s| s.kaynti.clone())
        .collect();
    for visit in open {
        let stay = world.hoitojaksot[&visit].clone();
        let due = stay
            .suunniteltu_lahto
            .as_deref()
            .is_some_and(|d| *d <= *today.as_str());
        if due && daytime && world.rng.random_bool(0.01) {
            discharge(world, &visit);
        } else if world.rng.random_bool(TRANSFER_RATE) {
            transfer(world, &visit);
        } else if world.rng.random_bool(CORRECTION_RATE) {
            let days = world.rng.random_range(1..=4);
            let planned = local_midnight(world, world.now, days)
                .to_zoned_datetime(world.zone.clone())
                .date()
                .to_string();
            let mut next = stay.clone();
            next.suunniteltu_lahto = Some(planned);
            world.hoitojaksot.insert(visit.clone(), next);
            let place = place_named(world, &stay.paikka);
            send(world, "A08", &visit, &place, None);
        }
    }
}

fn discharge(world: &mut World, visit: &str) {
    let before = world.hoitojaksot[visit].clone();
    let now = now_text(world);
    let mut next = before.clone();
    next.tila = "kotiutettu".into();
    next.lahto = Some(now.clone());
    if let Some(last) = next.paikat.last_mut() {
        last.paattyy = Some(now);
    }
    world.hoitojaksot.insert(visit.into(), next);
    world.plan.undo.insert(
        visit.into(),
        Undo {
            trigger: "A03",
            before: Some(before.clone()),
        },
    );
    let place = place_named(world, &before.paikka);
    send(world, "A03", visit, &place, None);
    if world.rng.random_bool(CANCEL_DISCHARGE) {
        let minutes = world.rng.random_range(5..=60);
        let at = later(world, minutes);
        world.plan.cancels.push((at, visit.into()));
    }
}

fn transfer(world: &mut World, visit: &str) {
    let wards = world.plan.wards.clone();
    let unit = wards[world.rng.random_range(0..wards.len())].clone();
    let before = world.hoitojaksot[visit].clone();
    let beds = free_beds(world, &unit, false);
    if beds.is_empty() {
        return;
    }
    let bed = beds[world.rng.random_range(0..beds.len())].clone();
    let now = now_text(world);
    let mut next = before.clone();
    if let Some(last) = next.paikat.last_mut() {
        last.paattyy = Some(now.clone());
    }
    next.paikat.push(Siirto {
        yksikko: unit.clone(),
        paikka: bed.koodi.clone(),
        alkaa: now,
        paattyy: None,
    });
    next.yksikko = unit;
    next.paikka = bed.koodi.clone();
    world.hoitojaksot.insert(visit.into(), next);
    world.plan.undo.insert(
        visit.into(),
        Undo {
            trigger: "A02",
            before: Some(before.clone()),
        },
    );
    let prior = place_named(world, &before.paikka);
    send(world, "A02", visit, &place_of(&bed), Some(&prior));
    if world.rng.random_bool(CANCEL_TRANSFER) {
        let minutes = world.rng.random_range(2..=20);
        let at = later(world, minutes);
        world.plan.cancels.push((at, visit.into()));
    }
}

/// Cancels that are due: the stay goes back to what it was before its last event.
fn cancels(world: &mut World) {
    let now = world.now;
    let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut world.plan.cancels)
        .into_iter()
        .partition(|(at, _)| *at <= now);
    world.plan.cancels = rest;
    for (_, visit) in due {
        let Some(undo) = world.plan.undo.remove(&visit) else {
            continue; // a later event superseded the one to cancel
        };
        let Some(current) = world.hoitojaksot.get(&visit).cloned() else {
            continue;
        };
        match (undo.trigger, undo.before) {
            ("A01", _) if current.paikat.len() == 1 && current.tila == "osastolla" => {
                let mut next = current.clone();
                next.tila = "peruttu".into();
                world.hoitojaksot.insert(visit.clone(), next);
                let place = place_named(world, &current.paikka);
                send(world, "A11", &visit, &place, None);
            }
            ("A02", Some(before))
                if current.tila == "osastolla" && bed_is_free(world, &before.paikka, &visit) =>
            {
                let cancelled = place_named(world, &current.paikka);
                world.hoitojaksot.insert(visit.clone(), before.clone());
                let back = place_named(world, &before.paikka);
                send(world, "A12", &visit, &back, Some(&cancelled));
            }
            ("A03", Some(before))
                if current.tila == "kotiutettu" && bed_is_free(world, &before.paikka, &visit) =>
            {
                world.hoitojaksot.insert(visit.clone(), before.clone());
                let place = place_named(world, &before.paikka);
                send(world, "A13", &visit, &place, None);
            }
            _ => {}
        }
    }
}

fn bed_is_free(world: &World, bed: &str, except: &str) -> bool {
    !world
        .hoitojaksot
        .values()
        .any(|s| s.tila == "osastolla" && s.paikka == bed && s.kaynti != except)
}

/// Free beds close now and then (and reopen hours later).
fn beds(world: &mut World) {
    let now = world.now;
    let reopen: Vec<String> = world
        .plan
        .reopenings
        .iter()
        .filter(|(_, at)| **at <= now)
        .map(|(b, _)| b.clone())
        .collect();
    for bed in reopen {
        world.plan.reopenings.remove(&bed);
        if let Some(mut row) = world.vuodepaikat.rows.get(&bed).cloned() {
            row.suljettu = false;
            world.store(row);
        }
    }
    let wards = world.plan.wards.clone();
    for unit in wards {
        let free = free_beds(world, &unit, false);
        let chance = (CLOSE_RATE * free.len() as f64).min(0.5);
        if !free.is_empty() && world.rng.random_bool(chance) {
            let mut bed = free[world.rng.random_range(0..free.len())].clone();
            bed.suljettu = true;
            let hours = world.rng.random_range(2..=12);
            world
                .plan
                .reopenings
                .insert(bed.koodi.clone(), later(world, hours * 60));
            world.store(bed);
        }
    }
}

fn equipment(world: &mut World) {
    let now = world.now;
    let ended: Vec<Laite> = world
        .laitteet
        .live()
        .filter(|l| {
            l.huolto
                .as_ref()
                .is_some_and(|h| h.paattyy.parse::<Timestamp>().is_ok_and(|t| t <= now))
        })
        .cloned()
        .collect();
    for mut device in ended {
        device.huolto = None;
        world.store(device);
    }
    let count = world.laitteet.rows.len();
    if count > 0
        && world
            .rng
            .random_bool((MAINTENANCE_RATE * count as f64).min(0.5))
    {
        let code = format!("L{:04}", world.rng.random_range(1..=count));
        if let Some(mut device) = world
            .laitteet
            .rows
            .get(&code)
            .cloned()
            .filter(|d| d.huolto.is_none())
        {
            let hours = world.rng.random_range(1..=8);
            device.huolto = Some(Huolto {
                alkaa: now_text(world),
                paattyy: later(world, hours * 60).to_string(),
            });
            world.store(device);
        }
    }
}
