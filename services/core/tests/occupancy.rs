//! Bed occupancy Slots derived from Encounter locations: busy from arrival to
//! leaving (to the planned discharge while the stay is open), busy-tentative for a
//! reserved place, gone when the stay or the move is cancelled, and no Slot for a
//! place without a Schedule; derived from the event log when the request that wrote
//! the stay did not get to it.

#[macro_use]
mod common;

use common::*;
use serde_json::{Value, json};

const PLANNED_END: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate";

async fn seed(h: &Harness) {
    h.seed(&[
        location("ward", "Osasto 1", "wa", None),
        location("bed-1", "Vuode 1", "bd", Some("ward")),
        location("bed-2", "Vuode 2", "bd", Some("ward")),
        location("bed-3", "Vuode 3", "bd", Some("ward")),
        schedule("sch-1", "Location/bed-1"),
        schedule("sch-2", "Location/bed-2"),
    ])
    .await;
}

/// The derived Slots of a Schedule as (status, start, end).
async fn occupancy(h: &Harness, schedule: &str) -> Vec<(String, String, String)> {
    let bundle = h
        .search(
            "Slot",
            &[
                ("schedule", &format!("Schedule/{schedule}")),
                ("_sort", "start"),
            ],
        )
        .await;
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let s = &e["resource"];
            (
                s["status"].as_str().unwrap().to_owned(),
                s["start"].as_str().unwrap().to_owned(),
                s["end"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn place(bed: &str, status: &str, start: &str, end: Option<&str>) -> Value {
    let mut p = json!({"location": {"reference": format!("Location/{bed}")}, "status": status, "period": {"start": start}});
    if let Some(end) = end {
        p["period"]["end"] = json!(end);
    }
    p
}

fn stay(status: &str, places: Vec<Value>, planned_end: Option<&str>) -> Value {
    let mut e = json!({
        "resourceType": "Encounter",
        "id": "stay",
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "period": {"start": "2026-03-28T10:00:00+02:00"},
        "location": places,
    });
    if let Some(end) = planned_end {
        e["extension"] = json!([{"url": PLANNED_END, "valueDateTime": end}]);
    }
    e
}

both_backends!(a_stay_shows_its_beds_busy_and_cancels_take_it_back);
async fn a_stay_shows_its_beds_busy_and_cancels_take_it_back(h: &Harness) {
    seed(h).await;
    // Admitted to bed 1 with a planned discharge on the day of the spring DST change:
    // busy to the end of that day in Helsinki (local midnight, +03:00 by then).
    h.put_resource(&stay(
        "in-progress",
        vec![place("bed-1", "active", "2026-03-28T10:00:00+02:00", None)],
        Some("2026-03-29"),
    ))
    .await;
    assert_eq!(
        occupancy(h, "sch-1").await,
        [(
            "busy".into(),
            "2026-03-28T08:00:00Z".into(),
            "2026-03-29T21:00:00Z".into()
        )]
    );

    // Moved to bed 2; bed 1 is busy until the move, bed 2 from it. Bed 3 has no
    // Schedule, so a reservation there shows nowhere.
    let moved = stay(
        "in-progress",
        vec![
            place(
                "bed-1",
                "completed",
                "2026-03-28T10:00:00+02:00",
                Some("2026-03-28T15:30:00+02:00"),
            ),
            place("bed-2", "active", "2026-03-28T15:30:00+02:00", None),
            place("bed-3", "reserved", "2026-03-29T09:00:00+03:00", None),
        ],
        Some("2026-03-29"),
    );
    h.put_resource(&moved).await;
    assert_eq!(
        occupancy(h, "sch-1").await,
        [(
            "busy".into(),
            "2026-03-28T08:00:00Z".into(),
            "2026-03-28T13:30:00Z".into()
        )]
    );
    assert_eq!(
        occupancy(h, "sch-2").await,
        [(
            "busy".into(),
            "2026-03-28T13:30:00Z".into(),
            "2026-03-29T21:00:00Z".into()
        )]
    );
    // Writing the same stay again derives nothing new.
    let before = h.read("Slot/occ-stay-1").await["meta"]["versionId"].clone();
    h.put_resource(&moved).await;
    assert_eq!(h.read("Slot/occ-stay-1").await["meta"]["versionId"], before);
    // A derivation lost (as when the core dies between the write and it) is made
    // again by the adapter's replay of the same stay.
    h.delete("Slot/occ-stay-1").await;
    h.put_resource(&moved).await;
    assert_eq!(
        occupancy(h, "sch-2").await.len(),
        1,
        "the replay derived bed 2 again"
    );

    // The transfer is cancelled (A12): bed 2's Slot goes, bed 1 is busy again.
    h.put_resource(&stay(
        "in-progress",
        vec![place("bed-1", "active", "2026-03-28T10:00:00+02:00", None)],
        None,
    ))
    .await;
    assert!(occupancy(h, "sch-2").await.is_empty());
    let open = occupancy(h, "sch-1").await;
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].2, "2026-04-27T08:00:00Z",
        "an open stay with no plan: 30 days ahead"
    );

    // A reservation of bed 2 for a planned stay: busy-tentative.
    let mut planned = stay(
        "planned",
        vec![place(
            "bed-2",
            "planned",
            "2026-03-30T08:00:00+03:00",
            Some("2026-03-31T12:00:00+03:00"),
        )],
        None,
    );
    planned["id"] = json!("next");
    h.put_resource(&planned).await;
    assert_eq!(
        occupancy(h, "sch-2").await,
        [(
            "busy-tentative".into(),
            "2026-03-30T05:00:00Z".into(),
            "2026-03-31T09:00:00Z".into()
        )]
    );

    // The admission is cancelled (A11): the stay is entered-in-error, its Slots go.
    h.put_resource(&stay(
        "entered-in-error",
        vec![place("bed-1", "active", "2026-03-28T10:00:00+02:00", None)],
        None,
    ))
    .await;
    assert!(occupancy(h, "sch-1").await.is_empty());
    // Deleting the planned stay removes its reservation.
    h.delete("Encounter/next").await;
    assert!(occupancy(h, "sch-2").await.is_empty());
}

both_backends!(a_place_named_by_identifier_is_found);
async fn a_place_named_by_identifier_is_found(h: &Harness) {
    let mut bed = location("bed-9", "Vuode 9", "bd", Some("ward"));
    bed["identifier"] = json!([{"system": "urn:oid:1.2.246.10.1234567.10.4", "value": "OS1-9"}]);
    h.seed(&[
        location("ward", "Osasto 1", "wa", None),
        bed,
        schedule("sch-9", "Location/bed-9"),
    ])
    .await;
    let mut e = stay("in-progress", vec![], Some("2026-03-30"));
    e["location"] = json!([{
        "location": {"identifier": {"system": "urn:oid:1.2.246.10.1234567.10.4", "value": "OS1-9"}},
        "status": "active",
        "period": {"start": "2026-03-28T10:00:00+02:00"}
    }]);
    h.put_resource(&e).await;
    assert_eq!(occupancy(h, "sch-9").await.len(), 1);
}

both_backends!(a_stay_told_before_its_bed_was_known_shows_once_the_bed_arrives);
async fn a_stay_told_before_its_bed_was_known_shows_once_the_bed_arrives(h: &Harness) {
    h.seed(&[
        location("ward", "Osasto 1", "wa", None),
        location("bed-1", "Vuode 1", "bd", Some("ward")),
    ])
    .await;
    // Bed 1 is known but has no Schedule yet; bed 7 is not known at all.
    let mut e = stay(
        "in-progress",
        vec![place(
            "bed-1",
            "completed",
            "2026-03-28T10:00:00+02:00",
            Some("2026-03-28T12:00:00+02:00"),
        )],
        Some("2026-03-30"),
    );
    e["location"].as_array_mut().unwrap().push(json!({
        "location": {"identifier": {"system": "urn:oid:1.2.246.10.1234567.10.4", "value": "OS1-7"}},
        "status": "active",
        "period": {"start": "2026-03-28T12:00:00+02:00"}
    }));
    h.put_resource(&e).await;
    assert_eq!(h.count("Slot").await, 0);

    h.seed(&[schedule("sch-1", "Location/bed-1")]).await;
    assert_eq!(
        occupancy(h, "sch-1").await.len(),
        1,
        "the Schedule's arrival derives the stay"
    );

    let mut bed = location("bed-7", "Vuode 7", "bd", Some("ward"));
    bed["identifier"] = json!([{"system": "urn:oid:1.2.246.10.1234567.10.4", "value": "OS1-7"}]);
    h.seed(&[bed, schedule("sch-7", "Location/bed-7")]).await;
    assert_eq!(
        occupancy(h, "sch-7").await,
        [(
            "busy".into(),
            "2026-03-28T10:00:00Z".into(),
            "2026-03-30T21:00:00Z".into()
        )]
    );
}

both_backends!(a_stay_committed_without_its_derivation_is_derived_from_the_log);
async fn a_stay_committed_without_its_derivation_is_derived_from_the_log(h: &Harness) {
    use ohjaamo_core::write::apply::run_writes;
    use ohjaamo_core::write::entry::{WriteEntry, WriteKind};
    seed(h).await;
    // What a core that died between a stay's commit and its derivation leaves behind:
    // the stay stored, no Slot (`run_writes` is the write path without the derivation
    // the request runs after it).
    let entry = WriteEntry {
        rtype: ohjaamo_fhir::ResourceType::Encounter,
        kind: WriteKind::Update { id: "stay".into() },
        resource: Some(stay(
            "in-progress",
            vec![place("bed-1", "active", "2026-03-28T10:00:00+02:00", None)],
            Some("2026-03-29"),
        )),
        if_match: None,
        full_url: None,
    };
    let written = run_writes(h.state(), "default", vec![entry], true)
        .await
        .expect("the stay is written");
    assert!(written[0].is_ok(), "{written:?}");
    // The occupancy follower of the event log derives it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let slots = occupancy(h, "sch-1").await;
        if !slots.is_empty() {
            assert_eq!(
                slots,
                [(
                    "busy".into(),
                    "2026-03-28T08:00:00Z".into(),
                    "2026-03-29T21:00:00Z".into()
                )]
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the follower never derived the stay's occupancy"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
