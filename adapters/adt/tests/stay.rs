//! A stay lived through its ADT messages: each event applied to the Encounter the
//! previous ones produced, as the adapter does against the core.

use jiff::tz::TimeZone;
use ohjaamo_adapter_adt::{
    AdtEvent, MappingError, PLANNED_END_URL, SourceIds, Trigger, apply, apply_event,
};
use ohjaamo_hl7::Message;
use serde_json::{Value, json};

const ROOT: &str = "1.2.246.10.1234567.10";
/// A test-series personal identity code and a name: they must never reach the output.
const HETU: &str = "010190-900P";

fn ids() -> SourceIds {
    SourceIds::new(ROOT)
}

fn helsinki() -> TimeZone {
    TimeZone::get("Europe/Helsinki").unwrap()
}

/// An ADT message; `pv1_3` and `pv1_6` are `unit^room^bed^site`.
fn message(trigger: &str, at: &str, pv1_3: &str, pv1_6: &str, extra: &str) -> Vec<u8> {
    format!(
        "MSH|^~\\&|LIFECARE|OYS|OHJAAMO|PPSHP|{at}||ADT^{trigger}|MSG-{trigger}-{at}|P|2.3||||||8859/1\r\
         EVN|{trigger}|{at}||||{at}\r\
         PID|1||{HETU}^^^^NNFIN||Meikäläinen^Matti\r\
         PV1|1|I|{pv1_3}|||{pv1_6}|||||||||||||V-1001|||||||||||||||||||||||||{at}\r\
         {extra}"
    )
    .into_bytes()
}

fn event(bytes: &[u8]) -> AdtEvent {
    AdtEvent::read(&Message::parse(bytes).unwrap(), &helsinki()).unwrap()
}

fn step(current: Option<&Value>, bytes: &[u8]) -> Value {
    apply(current, &event(bytes), &ids()).unwrap()
}

fn bed(key: &str) -> String {
    format!("urn:oid:{ROOT}.4|{key}")
}

/// `(place, status, start, end)` of each location entry.
fn history(encounter: &Value) -> Vec<(String, String, String, String)> {
    encounter["location"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| {
                    let id = &e["location"]["identifier"];
                    (
                        format!(
                            "{}|{}",
                            id["system"].as_str().unwrap(),
                            id["value"].as_str().unwrap()
                        ),
                        e["status"].as_str().unwrap().to_owned(),
                        e["period"]["start"].as_str().unwrap_or("").to_owned(),
                        e["period"]["end"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_whole_stay_with_a_cancelled_transfer_and_a_cancelled_discharge() {
    let admit = message("A01", "202603281000", "K2^201^K2-201-1^OYS", "", "");
    let to_icu = message(
        "A02",
        "202603290330",
        "TEHO^1^TEHO-1^OYS",
        "K2^201^K2-201-1^OYS",
        "",
    );
    let to_ward = message(
        "A02",
        "202603301200",
        "K3^301^K3-301-2^OYS",
        "TEHO^1^TEHO-1^OYS",
        "",
    );
    let cancel = message(
        "A12",
        "202603301215",
        "TEHO^1^TEHO-1^OYS",
        "K3^301^K3-301-2^OYS",
        "",
    );
    let discharge = message("A03", "202604011400", "TEHO^1^TEHO-1^OYS", "", "");
    let undo = message("A13", "202604011405", "TEHO^1^TEHO-1^OYS", "", "");

    let e = step(None, &admit);
    assert_eq!(e["resourceType"], "Encounter");
    assert_eq!(e["status"], "in-progress");
    assert_eq!(
        e["identifier"],
        json!([{ "system": format!("urn:oid:{ROOT}.8"), "value": "V-1001" }])
    );
    assert_eq!(e["class"]["code"], "IMP");
    assert_eq!(e["period"]["start"], "2026-03-28T10:00:00+02:00");
    assert_eq!(
        e["location"][0]["location"]["reference"],
        format!("Location?identifier={}", bed("K2-201-1"))
    );

    // 03:30 on the spring-forward night does not exist; it is 04:30 summer time.
    let e = step(Some(&e), &to_icu);
    let e = step(Some(&e), &to_ward);
    assert_eq!(
        history(&e),
        [
            (
                bed("K2-201-1"),
                "completed".into(),
                "2026-03-28T10:00:00+02:00".into(),
                "2026-03-29T04:30:00+03:00".into()
            ),
            (
                bed("TEHO-1"),
                "completed".into(),
                "2026-03-29T04:30:00+03:00".into(),
                "2026-03-30T12:00:00+03:00".into()
            ),
            (
                bed("K3-301-2"),
                "active".into(),
                "2026-03-30T12:00:00+03:00".into(),
                "".into()
            ),
        ]
    );

    let e = step(Some(&e), &cancel);
    assert_eq!(history(&e).len(), 2);
    assert_eq!(
        history(&e)[1],
        (
            bed("TEHO-1"),
            "active".into(),
            "2026-03-29T04:30:00+03:00".into(),
            "".into()
        )
    );
    // A replayed cancel changes nothing.
    assert_eq!(step(Some(&e), &cancel), e);

    let e = step(Some(&e), &discharge);
    assert_eq!(e["status"], "finished");
    assert_eq!(e["period"]["end"], "2026-04-01T14:00:00+03:00");
    assert_eq!(history(&e)[1].1, "completed");

    let e = step(Some(&e), &undo);
    assert_eq!(e["status"], "in-progress");
    assert!(e["period"].get("end").is_none());
    assert_eq!(
        history(&e)[1],
        (
            bed("TEHO-1"),
            "active".into(),
            "2026-03-29T04:30:00+03:00".into(),
            "".into()
        )
    );

    let text = e.to_string();
    assert!(
        !text.contains(HETU) && !text.contains("Meik"),
        "no personal data: {text}"
    );
}

#[test]
fn replays_are_idempotent() {
    let admit = message("A01", "202601151000", "K2^201^K2-201-1^OYS", "", "");
    let transfer = message(
        "A02",
        "202601161000",
        "K3^301^K3-301-2^OYS",
        "K2^201^K2-201-1^OYS",
        "",
    );
    let once = step(None, &admit);
    assert_eq!(step(Some(&once), &admit), once);
    let moved = step(Some(&once), &transfer);
    assert_eq!(step(Some(&moved), &transfer), moved);
}

#[test]
fn a_cancelled_admission_is_entered_in_error() {
    let e = step(
        None,
        &message("A01", "202601151000", "K2^201^K2-201-1^OYS", "", ""),
    );
    let e = step(
        Some(&e),
        &message("A11", "202601151010", "K2^201^K2-201-1^OYS", "", ""),
    );
    assert_eq!(e["status"], "entered-in-error");
}

#[test]
fn updates_carry_planned_discharge_and_protection() {
    let e = step(
        None,
        &message("A01", "202601151000", "K2^201^K2-201-1^OYS", "", ""),
    );
    let update = message(
        "A08",
        "202601151100",
        "K2^201^K2-201-1^OYS",
        "",
        "PD1||||||||||||Y\rPV2|||||||||20260120\r",
    );
    let e = step(Some(&e), &update);
    assert_eq!(
        e["extension"][0],
        json!({ "url": PLANNED_END_URL, "valueDateTime": "2026-01-20" })
    );
    assert_eq!(e["meta"]["security"][0]["code"], "R");
    assert_eq!(history(&e).len(), 1, "an update is not a move");
}

#[test]
fn the_server_meta_is_not_sent_back() {
    let mut stored = step(
        None,
        &message("A01", "202601151000", "K2^201^K2-201-1^OYS", "", ""),
    );
    stored["id"] = json!("e1");
    stored["meta"] = json!({ "versionId": "3", "lastUpdated": "2026-01-15T10:00:01Z" });
    let e = step(
        Some(&stored),
        &message("A03", "202601181000", "K2^201^K2-201-1^OYS", "", ""),
    );
    assert_eq!(e["id"], "e1");
    assert!(e.get("meta").is_none());
}

#[test]
fn messages_that_cannot_be_mapped_say_why() {
    let tz = helsinki();
    let read = |bytes: Vec<u8>| AdtEvent::read(&Message::parse(&bytes).unwrap(), &tz);
    assert!(matches!(
        read(message("A60", "202601151000", "K2^201^K2-201-1^OYS", "", "")),
        Err(MappingError::UnsupportedTrigger(t)) if t == "ADT^A60"
    ));
    let no_visit = String::from_utf8(message(
        "A01",
        "202601151000",
        "K2^201^K2-201-1^OYS",
        "",
        "",
    ))
    .unwrap()
    .replace("V-1001", "");
    assert!(matches!(
        read(no_visit.into_bytes()).unwrap_err(),
        MappingError::NoVisitKey(why) if why.contains("PV1-19 (visit number)")
    ));
    assert!(matches!(
        read(message(
            "A01",
            "202602301000",
            "K2^201^K2-201-1^OYS",
            "",
            ""
        )),
        Err(MappingError::BadTime { .. })
    ));
    assert_eq!(
        read(message("A01", "202601151000", "", "", "")).unwrap_err(),
        MappingError::Missing("PV1-3 (assigned location)")
    );
    // A12 for a move the stay does not have, saying the patient is somewhere else:
    // nothing is undone, and the stay is marked (not refused: see stay_order.rs).
    let e = step(
        None,
        &message("A01", "202601151000", "K2^201^K2-201-1^OYS", "", ""),
    );
    let wrong = event(&message(
        "A12",
        "202601151100",
        "K5^1^K5-1-1^OYS",
        "K9^1^K9-1-1^OYS",
        "",
    ));
    let applied = apply_event(Some(&e), &wrong, &ids()).unwrap();
    assert_eq!(history(&applied.encounter), history(&e));
    assert_eq!(applied.marks.len(), 1, "{:?}", applied.marks);
    assert!(
        applied.marks[0].contains("not applied"),
        "{:?}",
        applied.marks
    );
}

#[test]
fn latin1_messages_are_read() {
    // Ä in a unit key, sent as ISO-8859-1 as MSH-18 says.
    let utf8 =
        String::from_utf8(message("A01", "202601151000", "KÄ1^1^KÄ1-1-1^OYS", "", "")).unwrap();
    let latin1: Vec<u8> = utf8.chars().map(|c| c as u32 as u8).collect();
    let e = event(&latin1);
    assert_eq!(e.trigger, Trigger::A01);
    assert_eq!(e.location.unwrap().bed, "KÄ1-1-1");
}
