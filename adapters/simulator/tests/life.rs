//! The simulated hospital: deterministic for a seed, living through every kind of
//! event, never putting two patients in one bed, and its export paging and cursors.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use ohjaamo_hl7::Message;
use ohjaamo_simulator::life::advance_by;
use ohjaamo_simulator::{SimConfig, Simulator, Size};
use serde_json::Value;

fn config(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        size: Size::demo(),
        start: "2026-10-24T06:00:00Z".parse().unwrap(),
        zone: TimeZone::get("Europe/Helsinki").unwrap(),
        speed: 0.0,
        adt_target: None,
        faults: Default::default(),
    }
}

/// Lives `hours` and answers the truth and the ADT triggers sent, by count.
async fn live(seed: u64, hours: i64) -> (Value, BTreeMap<String, usize>) {
    let sim = Simulator::new(config(seed));
    let mut world = sim.world.lock().await;
    advance_by(&mut world, hours * 60);
    let mut triggers = BTreeMap::new();
    for raw in &world.outbox {
        let message = Message::parse(&raw.bytes).expect("the simulator sends parseable HL7");
        *triggers
            .entry(message.message_type().trigger.clone())
            .or_insert(0) += 1;
    }
    (world.truth(), triggers)
}

#[tokio::test]
async fn the_same_seed_lives_the_same_history() {
    let (a, _) = live(7, 12).await;
    let (b, _) = live(7, 12).await;
    let (c, _) = live(8, 12).await;
    assert_eq!(a, b);
    assert_ne!(a["hoitojaksot"], c["hoitojaksot"]);
}

#[tokio::test]
async fn two_days_bring_every_kind_of_event() {
    // Across the autumn daylight-saving change (2026-10-25 04:00 local).
    let (truth, triggers) = live(1, 48).await;
    for t in ["A01", "A02", "A03", "A08", "A11", "A12", "A13"] {
        assert!(
            triggers.get(t).copied().unwrap_or(0) > 0,
            "no {t} in {triggers:?}"
        );
    }
    let ops = truth["leikkaukset"].as_array().unwrap();
    for phase in ["poistunut", "odottaa"] {
        assert!(
            ops.iter().any(|o| o["vaihe"] == phase),
            "no operation in phase {phase}"
        );
    }
    assert!(
        ops.iter().any(|o| o["tila"] == "peruttu"),
        "no late cancellation"
    );
    assert!(
        ops.iter().any(|o| o["kiireellisyys"] == "paivystys"),
        "no emergency case"
    );
    // Never two open stays in one bed.
    let mut beds = BTreeMap::new();
    for stay in truth["hoitojaksot"].as_array().unwrap() {
        if stay["tila"] == "osastolla" {
            let bed = stay["paikka"].as_str().unwrap().to_owned();
            assert!(
                beds.insert(bed.clone(), ()).is_none(),
                "two patients in {bed}"
            );
        }
    }
    assert!(
        beds.len() > 50,
        "the wards fill up: {} occupied",
        beds.len()
    );
}

#[tokio::test]
async fn the_export_pages_by_change_number_and_keeps_tombstones() {
    let sim = Simulator::new(config(3));
    let mut world = sim.world.lock().await;
    let (first, cursor, more) = world.page("vuodepaikat", 0, 50).unwrap();
    assert_eq!(first.len(), 50);
    assert!(more);
    let cursor = cursor.unwrap();
    let (second, _, _) = world.page("vuodepaikat", cursor, 50).unwrap();
    assert!(
        second
            .iter()
            .all(|r| r["muutos"].as_u64().unwrap() > cursor)
    );
    assert!(world.page("ei-ole", 0, 10).is_none());

    let end = world.last_change();
    advance_by(&mut world, 72 * 60);
    let (shifts, _, _) = world.page("tyovuorot", end, 5_000).unwrap();
    assert!(
        shifts.iter().any(|s| s["poistettu"] == true),
        "a deleted shift comes as a tombstone"
    );
}
