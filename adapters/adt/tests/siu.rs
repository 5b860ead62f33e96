//! SIU bookings (S12–S17, S26) over the ADT adapter's MLLP listener, in three
//! senders' shapes (`common::bookings`), to a real core with theatres as the pull
//! adapter writes them (`common::theatres`): what the sender is answered, what the
//! Appointment and its Slots become, and what the operating-room and recovery
//! pictures show of a booking.

mod common;

use std::time::{Duration, Instant};

use common::bookings::{Siu, Vendor};
use common::feed::{Sender, listening};
use common::theatres::{booking, seed_theatres, window};
use common::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap()
}

fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

struct World {
    core: Core,
    adapter: common::feed::Adapter,
    sender: Sender,
}

impl World {
    async fn new(core: Core) -> World {
        seed_theatres(&core).await;
        let adapter = listening(core.addr, |a| a).await;
        let sender = Sender::connect(adapter.addr).await;
        World {
            core,
            adapter,
            sender,
        }
    }

    /// Sends the message; answers the whole ACK.
    async fn send(&mut self, message: &Siu) -> String {
        self.sender.exchange(&message.bytes(), WAIT).await
    }

    /// Sends the message and expects `AA`.
    async fn accept(&mut self, message: &Siu) {
        let (control, trigger) = (&message.control, &message.trigger);
        self.sender
            .accepted(&message.bytes(), control, trigger, WAIT)
            .await;
    }

    async fn booking(&self, key: &str) -> Value {
        booking(&self.core, key)
            .await
            .unwrap_or_else(|| panic!("no booking {key}"))
    }

    async fn window(&self, key: &str) -> Value {
        window(&self.core, key)
            .await
            .unwrap_or_else(|| panic!("no Slot {key}"))
    }
}

/// The identifier values of the participants' actors.
fn actors(appointment: &Value) -> Vec<String> {
    appointment["participant"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            p["actor"]["identifier"]["value"]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        })
        .collect()
}

fn same(a: &Value, b: Timestamp) -> bool {
    a.as_str().and_then(|t| t.parse::<Timestamp>().ok()) == Some(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn book_reschedule_modify_and_cancel_in_three_shapes() {
    let mut w = World::new(Core::start().await).await;
    let start = now() + mins(120);
    for (n, vendor) in [Vendor::Lifecare23, Vendor::Epic251, Vendor::Oberon28]
        .into_iter()
        .enumerate()
    {
        let key = format!("B{n}");
        // S12: a new booking in SALI1 with a pump, a surgeon and an anaesthetist.
        let mut s12 = Siu::new(vendor, "S12", &format!("{key}-1"), &key);
        s12.at = now() - mins(10);
        s12.start = Some(start);
        s12.rooms = vec!["SALI1".into()];
        s12.devices = vec!["PUMPPU-1".into()];
        s12.staff = vec![
            ("1234".into(), "SURG".into()),
            ("5678".into(), "ANES".into()),
        ];
        w.accept(&s12).await;
        let a = w.booking(&key).await;
        assert_eq!(a["status"], "booked", "{vendor:?}: {a}");
        assert!(
            same(&a["start"], start) && same(&a["end"], start + mins(90)),
            "{vendor:?}: {a}"
        );
        assert_eq!(
            actors(&a),
            ["SALI1", "PUMPPU-1", "1234", "5678"],
            "{vendor:?}"
        );
        assert_eq!(a["participant"][0]["actor"]["reference"], "Location/sali1");
        assert_eq!(a["description"], key.as_str());
        assert_eq!(
            booking(&w.core, &format!("placer:P{key}")).await.unwrap()["id"],
            a["id"],
            "found by its placer id too"
        );
        let room = w.window(&key).await;
        assert_eq!(room["status"], "busy");
        assert_eq!(room["schedule"]["reference"], "Schedule/s-sali1");
        let pump = w.window(&format!("{key}/5/PUMPPU-1")).await;
        assert_eq!(
            (&pump["status"], &pump["schedule"]["reference"]),
            (&"busy".into(), &"Schedule/s-pumppu-1".into())
        );

        // S13: moved an hour later into SALI2, without the pump.
        let mut s13 = s12.clone();
        s13.trigger = "S13";
        s13.control = format!("{key}-2");
        s13.at = now() - mins(5);
        s13.start = Some(start + mins(60));
        s13.rooms = vec!["SALI2".into()];
        s13.devices.clear();
        s13.reason = Some("RESCH");
        w.accept(&s13).await;
        let a = w.booking(&key).await;
        assert!(same(&a["start"], start + mins(60)), "{vendor:?}: {a}");
        assert_eq!(actors(&a), ["SALI2", "1234", "5678"], "{vendor:?}");
        let room = w.window(&key).await;
        assert_eq!(
            room["schedule"]["reference"], "Schedule/s-sali2",
            "the window moved"
        );
        assert!(same(&room["start"], start + mins(60)));
        assert_eq!(
            w.window(&format!("{key}/5/PUMPPU-1")).await["status"],
            "free",
            "the pump is freed"
        );

        // S14 with only SCH: started; the time and the resources are kept.
        let mut s14 = Siu::new(vendor, "S14", &format!("{key}-3"), &key);
        s14.at = now() - mins(2);
        s14.status = Some("Started");
        s14.services.clear();
        w.accept(&s14).await;
        let a = w.booking(&key).await;
        assert_eq!(a["status"], "arrived");
        assert!(same(&a["start"], start + mins(60)));
        assert_eq!(actors(&a), ["SALI2", "1234", "5678"]);
        assert_eq!(w.window(&key).await["status"], "busy");

        // S15: cancelled, with its reason; the window is freed.
        let mut s15 = s13.clone();
        s15.trigger = "S15";
        s15.control = format!("{key}-4");
        s15.at = now() - mins(1);
        s15.reason = Some("PATIENT");
        s15.status = Some("Cancelled");
        w.accept(&s15).await;
        let a = w.booking(&key).await;
        assert_eq!(a["status"], "cancelled");
        assert_eq!(a["cancelationReason"]["coding"][0]["code"], "PATIENT");
        assert_eq!(w.window(&key).await["status"], "free");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discontinuation_deletion_and_no_show() {
    let mut w = World::new(Core::start().await).await;
    let start = now() + mins(30);
    let cases = [
        ("S16", Vendor::Epic251, "cancelled", "free"),
        (
            "S17",
            Vendor::Oberon28,
            "entered-in-error",
            "entered-in-error",
        ),
        ("S26", Vendor::Lifecare23, "noshow", "free"),
    ];
    for (trigger, vendor, status, slot) in cases {
        let key = format!("K-{trigger}");
        let mut s12 = Siu::new(vendor, "S12", &format!("{key}-1"), &key);
        s12.at = now() - mins(10);
        s12.start = Some(start);
        s12.rooms = vec!["SALI1".into()];
        w.accept(&s12).await;
        // The end message as senders send it: SCH only, no resources, no time.
        let mut end = Siu::new(vendor, trigger, &format!("{key}-2"), &key);
        end.at = now() - mins(1);
        end.status = None;
        end.services.clear();
        w.accept(&end).await;
        let a = w.booking(&key).await;
        assert_eq!(a["status"], status, "{trigger}: {a}");
        assert!(same(&a["start"], start), "{trigger}: the time is kept");
        assert_eq!(w.window(&key).await["status"], slot, "{trigger}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_late_messages_and_unknown_resources() {
    let mut w = World::new(Core::start().await).await;
    let start = now() + mins(60);
    let mut s12 = Siu::new(Vendor::Epic251, "S12", "R-1", "R");
    s12.at = now() - mins(10);
    s12.start = Some(start);
    s12.rooms = vec!["SALI1".into()];
    w.accept(&s12).await;
    let mut s13 = s12.clone();
    s13.trigger = "S13";
    s13.control = "R-2".into();
    s13.at = now() - mins(5);
    s13.start = Some(start + mins(30));
    w.accept(&s13).await;
    let version = w.booking("R").await["meta"]["versionId"].clone();
    // The reschedule again (a resend) and the booking late: acknowledged, no change.
    w.accept(&s13).await;
    w.accept(&s12).await;
    let a = w.booking("R").await;
    assert_eq!(a["meta"]["versionId"], version, "{a}");
    assert!(same(&a["start"], start + mins(30)));

    // A room, a bay, a device and staff the core does not know: the booking is kept
    // with their identifiers, without windows on Schedules the core does not have.
    let mut unknown = Siu::new(Vendor::Oberon28, "S12", "U-1", "U");
    unknown.at = now();
    unknown.start = Some(start);
    unknown.rooms = vec!["SALI9".into(), "SALI1".into()];
    unknown.devices = vec!["LASER-7".into()];
    unknown.staff = vec![("4321".into(), "SURG".into())];
    w.accept(&unknown).await;
    let a = w.booking("U").await;
    assert_eq!(actors(&a), ["SALI9", "SALI1", "LASER-7", "4321"]);
    let references: Vec<&Value> = a["participant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["actor"]["reference"])
        .collect();
    assert_eq!(references[1], "Location/sali1");
    assert!(
        references[0].is_null() && references[2].is_null() && references[3].is_null(),
        "{a}"
    );
    assert!(
        window(&w.core, "U").await.is_none(),
        "SALI9 has no Schedule"
    );
    assert_eq!(w.window("U/3/SALI1").await["status"], "busy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bookings_are_answered_with_their_error_and_kept() {
    let mut w = World::new(Core::start().await).await;
    let start = now() + mins(60);
    let mut no_id = Siu::new(Vendor::Lifecare23, "S12", "M-1", "M");
    no_id.filler = None;
    no_id.placer = None;
    no_id.start = Some(start);
    let ack = w.send(&no_id).await;
    assert!(ack.contains("MSA|AE|M-1") && has_code(&ack, 101), "{ack}");
    let mut no_time = Siu::new(Vendor::Epic251, "S12", "M-2", "M");
    no_time.rooms = vec!["SALI1".into()];
    let ack = w.send(&no_time).await;
    assert!(ack.contains("MSA|AE|M-2") && has_code(&ack, 101), "{ack}");
    let mut bad_time = Siu::new(Vendor::Lifecare23, "S12", "M-3", "M");
    bad_time.start = Some(start);
    let bytes = String::from_utf8_lossy(&bad_time.bytes()).replacen("^^M90^", "^^M90^2026130", 1);
    w.sender.send(bytes.as_bytes()).await;
    let ack = w.sender.ack_text(WAIT).await.unwrap();
    assert!(ack.contains("MSA|AE|M-3") && has_code(&ack, 102), "{ack}");
    let no_sch = "MSH|^~\\&|SCHED|OYS|OHJAAMO|PPSHP|202603150800||SIU^S12|M-4|P|2.5\rRGS|1\r";
    w.sender.send(no_sch.as_bytes()).await;
    let ack = w.sender.ack_text(WAIT).await.unwrap();
    assert!(ack.contains("MSA|AE|M-4") && has_code(&ack, 101), "{ack}");
    // A SIU trigger the adapter does not map: acknowledged with a note.
    let mut s18 = Siu::new(Vendor::Epic251, "S18", "M-5", "M");
    s18.start = Some(start);
    let ack = w.send(&s18).await;
    assert!(
        ack.contains("MSA|AA|M-5") && has_code(&ack, 201) && ack.contains("S18 not used"),
        "{ack}"
    );
    assert!(booking(&w.core, "M").await.is_none());
    let kept = std::fs::read_to_string(&w.adapter.quarantine).unwrap();
    assert_eq!(kept.lines().count(), 4, "{kept}");
    assert!(
        !kept.contains("Meik") && !kept.contains("Kirurgi"),
        "no names kept: {kept}"
    );
}

/// Whether the ACK's ERR carries HL7 error `code`: ERR-1's fourth component before
/// v2.5 (`^^^101&…`), ERR-3 from v2.5 on (`|101^…`).
fn has_code(ack: &str, code: u16) -> bool {
    ack.split('\r')
        .filter(|s| s.starts_with("ERR"))
        .any(|err| err.contains(&format!("^^^{code}&")) || err.contains(&format!("|{code}^")))
}

/// The figures of the unit `id` in `GET /picture?kind=<kind>` once `ready` holds of
/// them (the deriver works after the write).
async fn figures(core: &Core, kind: &str, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let picture = core.picture(&format!("?kind={kind}")).await;
        let unit = picture["units"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|u| u["id"] == id)
            .map(|u| u["figures"].clone());
        if let Some(f) = unit.filter(|f| ready(f)) {
            return f;
        }
        assert!(
            Instant::now() < deadline,
            "{kind} {id} not as expected: {picture}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booked_operation_is_the_next_case_and_an_arrival_in_recovery() {
    let mut w = World::new(Core::start().await.deriving()).await;
    let start = now() + mins(30);
    let mut s12 = Siu::new(Vendor::Epic251, "S12", "P-1", "LEIK-42");
    s12.start = Some(start);
    s12.minutes = 60;
    s12.rooms = vec!["SALI1".into()];
    s12.staff = vec![("1234".into(), "SURG".into())];
    w.accept(&s12).await;
    let sali1 = figures(&w.core, "operating-room", "sali1", |f| {
        f["nextCase"] == "LEIK-42"
    })
    .await;
    assert!(same(&sali1["nextPlannedStart"], start), "{sali1}");
    assert_eq!(sali1["state"], "free");
    // Recovery expects the patient in the hour the operation is planned to end.
    let her = figures(&w.core, "recovery-unit", "her", |f| {
        f["expectedArrivals"]
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h["count"] == 1))
    })
    .await;
    let first: Timestamp = her["expectedArrivals"][0]["hourStart"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let hour = ((start + mins(60)).duration_since(first).as_secs() / 3600) as usize;
    let counts: Vec<u64> = her["expectedArrivals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["count"].as_u64().unwrap())
        .collect();
    let mut expected = vec![0; counts.len()];
    expected[hour] = 1;
    assert_eq!(counts, expected, "{her}");
    // Cancelled: no next case, no arrival.
    let mut s15 = s12.clone();
    s15.trigger = "S15";
    s15.control = "P-2".into();
    s15.at = now() + mins(1);
    w.accept(&s15).await;
    figures(&w.core, "operating-room", "sali1", |f| {
        f["nextCase"].is_null()
    })
    .await;
    figures(&w.core, "recovery-unit", "her", |f| {
        f["expectedArrivals"]
            .as_array()
            .is_some_and(|h| h.iter().all(|h| h["count"] == 0))
    })
    .await;
}
