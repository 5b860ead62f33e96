//! Operating-room and recovery-unit pictures: the figures of each operating room and
//! recovery unit, from the operation list as Appointments (phase, real times, bay,
//! destination) and the rooms' and bays' Locations. The arithmetic is
//! `ohjaamo-picture`'s; this module gathers its inputs for the units asked about.
//!
//! Which Locations are which: an operating room is a room Location (`ro`) typed
//! `operating-room`; a recovery unit a unit Location (`wa`) typed `recovery-unit`,
//! its bays the bed places (`bd`) part of it. A recovery unit serves the operating
//! rooms of the theatre suites (units typed `theatre-suite`) on its own site.

use std::collections::{BTreeSet, HashMap};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use ohjaamo_picture::recovery::ARRIVAL_HOURS;
use ohjaamo_picture::{
    Bay, Destination, LocalDay, Operation, Phase, RecoveryUnit, Room, operating_room_figures,
    recovery_figures,
};
use ohjaamo_store::{PictureUpdate, StoreError};
use serde_json::{Value, json};

use super::read::{locations, slots_of};
use super::source::Resources;
use super::{unit_picture_at, unit_picture_in};
use crate::search::json::{code_of, first_reference, instant, natural_key, references, unit_zone};

/// The kind names of these pictures (in the store, the API and routing keys).
pub const OPERATING_ROOM: &str = "operating-room";
pub const RECOVERY_UNIT: &str = "recovery-unit";

/// How far ahead an operating room's next case is looked for.
const NEXT_CASE_DAYS: i64 = 7;

/// The operations a picture at `now` reads: those planned to start from the day
/// before yesterday (a case still in the room or in recovery began at most that
/// long ago) up to `ahead` of now — not the whole list, past and future.
fn window(now: Timestamp, zone: &TimeZone, ahead: SignedDuration) -> (Timestamp, Timestamp) {
    let today = LocalDay::of(now, zone, -2).map_or(now, |d| d.start);
    (today, now.checked_add(ahead).unwrap_or(now))
}

/// Where the operation extensions the adapters write are defined.
const EXTENSIONS: &str = "https://ohjaamo.fi/fhir/StructureDefinition/";

/// The operating-room pictures of those of `candidates` (Locations already read)
/// that are operating rooms.
pub async fn operating_room_pictures(
    src: &Resources<'_>,
    candidates: &[(String, Value)],
    now: Timestamp,
    zone: &TimeZone,
) -> Result<Vec<PictureUpdate>, StoreError> {
    let rooms: Vec<&(String, Value)> = candidates
        .iter()
        .filter(|(_, l)| is(l, "physicalType", "ro") && is(l, "type", OPERATING_ROOM))
        .collect();
    let room_ids: Vec<String> = rooms.iter().map(|(id, _)| id.clone()).collect();
    let suite_ids: Vec<String> = rooms
        .iter()
        .filter_map(|(_, l)| first_reference(l, "partOf", "Location"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let site_of_suite: HashMap<String, String> = locations(src, &suite_ids, |_| true)
        .await?
        .into_iter()
        .filter_map(|(id, suite)| Some((id, first_reference(&suite, "partOf", "Location")?)))
        .collect();
    let closures = closures(src, &room_ids, now).await?;
    let room_set: BTreeSet<&str> = room_ids.iter().map(String::as_str).collect();
    let during = window(now, zone, SignedDuration::from_hours(24 * NEXT_CASE_DAYS));
    let cases = operations(
        src,
        &room_ids,
        during,
        |id| room_set.contains(id),
        |_| false,
    )
    .await?;
    Ok(rooms
        .iter()
        .map(|(id, location)| {
            let room = Room {
                closed: out_of_use(location),
                closures: closures.get(id).cloned().unwrap_or_default(),
            };
            let here: Vec<Operation> = cases.iter().filter(|c| &c.room == id).cloned().collect();
            let zone = unit_zone(Some(location), zone);
            let figures = operating_room_figures(&room, &here, now, &zone);
            // The room's site is its suite's.
            let suite = first_reference(location, "partOf", "Location");
            let site = suite
                .as_ref()
                .map(|s| site_of_suite.get(s).cloned().unwrap_or_else(|| s.clone()));
            unit_picture_at(
                OPERATING_ROOM,
                id,
                Some(location),
                site,
                Some(&zone),
                json!(figures),
            )
        })
        .collect())
}

/// The recovery-unit pictures of the recovery units `candidates` may affect: those
/// among them, those whose bays are, and those serving a theatre suite or operating
/// room among them. `read` holds the candidates' current Locations.
pub async fn recovery_pictures(
    src: &Resources<'_>,
    candidates: &[String],
    read: &[(String, Value)],
    now: Timestamp,
    zone: &TimeZone,
) -> Result<Vec<PictureUpdate>, StoreError> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let all = src.ids_by_token("Location", "type", RECOVERY_UNIT).await?;
    let units = locations(src, &all, |l| is(l, "physicalType", "wa")).await?;
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let unit_ids: Vec<String> = units.iter().map(|(id, _)| id.clone()).collect();
    let sites: Vec<String> = units
        .iter()
        .filter_map(|(_, l)| first_reference(l, "partOf", "Location"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !may_affect_recovery(candidates, read, &unit_ids, &sites) {
        // A round of ward beds only: no bays, suites or rooms to read.
        return Ok(Vec::new());
    }
    let bays = parts(src, &unit_ids, |l| is(l, "physicalType", "bd")).await?;
    let suites = parts(src, &sites, |l| is(l, "type", "theatre-suite")).await?;
    let suite_ids: Vec<String> = suites.keys().cloned().collect();
    let rooms = parts(src, &suite_ids, |l| is(l, "type", OPERATING_ROOM)).await?;
    let candidates: BTreeSet<&str> = candidates.iter().map(String::as_str).collect();
    let touched = |id: &str| candidates.contains(id);
    let mut wanted: Vec<(RecoveryUnit, &Value)> = Vec::new();
    for (id, location) in &units {
        let site = first_reference(location, "partOf", "Location");
        let site_suites: BTreeSet<&str> = suites
            .iter()
            .filter(|(_, (suite_site, _))| Some(suite_site) == site.as_ref())
            .map(|(suite, _)| suite.as_str())
            .collect();
        let mut unit_bays: Vec<(&String, &Value)> = bays
            .iter()
            .filter(|(_, (unit, _))| unit == id)
            .map(|(bay, (_, l))| (bay, l))
            .collect();
        // The bays in the order of their names, as on the wall.
        unit_bays.sort_by_key(|(bay, l)| (natural_key(&l["name"]), (*bay).clone()));
        let unit = RecoveryUnit {
            id: id.clone(),
            bays: unit_bays
                .into_iter()
                .map(|(bay, l)| Bay {
                    id: bay.clone(),
                    name: l["name"].as_str().map(str::to_owned),
                    closed: out_of_use(l),
                })
                .collect(),
            theatres: {
                let mut theatres: Vec<(&String, &Value)> = rooms
                    .iter()
                    .filter(|(_, (suite, _))| site_suites.contains(suite.as_str()))
                    .map(|(room, (_, l))| (room, l))
                    .collect();
                // A stable order, or the picture would differ every round (and be
                // announced as changed) with nothing changed.
                theatres.sort_by_key(|(room, l)| (natural_key(&l["name"]), (*room).clone()));
                theatres.into_iter().map(|(room, _)| room.clone()).collect()
            },
        };
        let affected = touched(id)
            || site.as_deref().is_some_and(touched)
            || site_suites.iter().any(|s| touched(s))
            || unit.bays.iter().any(|b| touched(&b.id))
            || unit.theatres.iter().any(|r| touched(r));
        if affected {
            wanted.push((unit, location));
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let theatres: BTreeSet<&str> = wanted
        .iter()
        .flat_map(|(u, _)| u.theatres.iter().map(String::as_str))
        .collect();
    let bay_set: BTreeSet<&str> = wanted
        .iter()
        .flat_map(|(u, _)| u.bays.iter().map(|b| b.id.as_str()))
        .collect();
    let actors: Vec<String> = theatres
        .iter()
        .chain(bay_set.iter())
        .map(|s| (*s).to_owned())
        .collect();
    let ahead = SignedDuration::from_hours(ARRIVAL_HOURS as i64 + 1);
    let cases = operations(
        src,
        &actors,
        window(now, zone, ahead),
        |id| theatres.contains(id),
        |id| bay_set.contains(id),
    )
    .await?;
    Ok(wanted
        .iter()
        .map(|(unit, location)| {
            let zone = unit_zone(Some(location), zone);
            let figures = recovery_figures(unit, &cases, now, &zone);
            unit_picture_in(RECOVERY_UNIT, &unit.id, location, &zone, json!(figures))
        })
        .collect())
}

/// Whether any candidate could be what a recovery unit's picture depends on: a
/// recovery unit or its site, a Location part of a recovery unit (a bay), a theatre
/// suite or an operating room. A cheap test on what is already read, so that rounds
/// touching only ward beds skip the reads of bays, suites and rooms.
fn may_affect_recovery(
    candidates: &[String],
    read: &[(String, Value)],
    units: &[String],
    sites: &[String],
) -> bool {
    let named = |id: &String| units.contains(id) || sites.contains(id);
    candidates.iter().any(named)
        || read.iter().any(|(_, l)| {
            first_reference(l, "partOf", "Location").is_some_and(|p| units.contains(&p))
                || is(l, "type", "theatre-suite")
                || is(l, "type", OPERATING_ROOM)
        })
}

fn is(location: &Value, element: &str, code: &str) -> bool {
    code_of(location, element).iter().any(|c| c == code)
}

/// Inactive, or operationally closed (v2-0116 `C`).
fn out_of_use(location: &Value) -> bool {
    location["status"].as_str().is_some_and(|s| s != "active")
        || is(location, "operationalStatus", "C")
}

/// The Locations part of `parents` that `keep` accepts: id → (parent, Location).
async fn parts(
    src: &Resources<'_>,
    parents: &[String],
    keep: impl Fn(&Value) -> bool,
) -> Result<HashMap<String, (String, Value)>, StoreError> {
    if parents.is_empty() {
        return Ok(HashMap::new());
    }
    let links = src
        .referring_many("Location", "partof", "Location", parents)
        .await?;
    let parent_of: HashMap<String, String> = links.into_iter().collect();
    let ids: Vec<String> = parent_of.keys().cloned().collect();
    Ok(locations(src, &ids, keep)
        .await?
        .into_iter()
        .filter_map(|(id, l)| Some((id.clone(), (parent_of.get(&id)?.clone(), l))))
        .collect())
}

/// The closure windows (`busy-unavailable` Slots of their Schedules) of `rooms` that
/// cover `now` (a room's figures say whether it is closed now).
async fn closures(
    src: &Resources<'_>,
    rooms: &[String],
    now: Timestamp,
) -> Result<HashMap<String, Vec<(Timestamp, Timestamp)>>, StoreError> {
    let mut out: HashMap<String, Vec<(Timestamp, Timestamp)>> = HashMap::new();
    for (room, slot) in slots_of(src, "Location", rooms, (now, now)).await? {
        if slot["status"] != "busy-unavailable" {
            continue;
        }
        if let (Some(start), Some(end)) = (instant(&slot["start"]), instant(&slot["end"])) {
            out.entry(room).or_default().push((start, end));
        }
    }
    Ok(out)
}

/// The operations (Appointments) with any of `actors` as a participant, planned to
/// start `during`.
async fn operations(
    src: &Resources<'_>,
    actors: &[String],
    during: (Timestamp, Timestamp),
    is_room: impl Fn(&str) -> bool,
    is_bay: impl Fn(&str) -> bool,
) -> Result<Vec<Operation>, StoreError> {
    let ids: BTreeSet<String> = src
        .referring_many_during(("Appointment", "actor", "Location"), actors, "date", during)
        .await?
        .into_iter()
        .map(|(appointment, _)| appointment)
        .collect();
    let ids: Vec<String> = ids.into_iter().collect();
    Ok(src
        .read_many("Appointment", &ids)
        .await?
        .iter()
        .filter_map(|(_, appointment)| operation_of(appointment, &is_room, &is_bay))
        .collect())
}

/// One Appointment as an operation; `None` when it is not one (no planned times,
/// entered in error).
fn operation_of(
    appointment: &Value,
    is_room: impl Fn(&str) -> bool,
    is_bay: impl Fn(&str) -> bool,
) -> Option<Operation> {
    let status = appointment["status"].as_str()?;
    if status == "entered-in-error" {
        return None;
    }
    let places: Vec<String> = appointment["participant"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| references(p, "actor", "Location"))
        .collect();
    let room = places
        .iter()
        .find(|p| is_room(p))
        .or_else(|| places.iter().find(|p| !is_bay(p)))?
        .clone();
    let extension = |name: &str| {
        appointment["extension"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["url"].as_str().and_then(|u| u.strip_prefix(EXTENSIONS)) == Some(name))
    };
    let phase = extension("operation-phase")
        .and_then(|e| e["valueCode"].as_str())
        .and_then(phase_of)
        .unwrap_or(match status {
            "arrived" | "checked-in" => Phase::InOperation,
            "fulfilled" => Phase::LeftRecovery,
            _ => Phase::Waiting,
        });
    let actual = extension("operation-actual").map(|e| &e["valuePeriod"]);
    let destination = match extension("discharge-destination") {
        Some(e) if e["valueCode"] == "home" => Destination::Home,
        Some(e) => references(e, "valueReference", "Location")
            .into_iter()
            .next()
            .map_or(Destination::Unknown, Destination::Unit),
        None => Destination::Unknown,
    };
    Some(Operation {
        case: appointment["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        room,
        cancelled: matches!(status, "cancelled" | "noshow"),
        phase,
        planned_start: instant(&appointment["start"])?,
        planned_end: instant(&appointment["end"])?,
        actual_start: actual.and_then(|p| instant(&p["start"])),
        actual_end: actual.and_then(|p| instant(&p["end"])),
        bay: places.iter().find(|p| is_bay(p)).cloned(),
        ready_at: extension("recovery-ready").and_then(|e| instant(&e["valueDateTime"])),
        left_at: extension("recovery-period").and_then(|e| instant(&e["valuePeriod"]["end"])),
        destination,
    })
}

fn phase_of(code: &str) -> Option<Phase> {
    Some(match code {
        "waiting" => Phase::Waiting,
        "to-theatre" => Phase::ToTheatre,
        "in-operation" => Phase::InOperation,
        "in-recovery" => Phase::InRecovery,
        "left-recovery" => Phase::LeftRecovery,
        _ => return None,
    })
}
