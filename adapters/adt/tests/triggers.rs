//! Each trigger event of the conformance table (docs/adapters.md), sent over MLLP in
//! the three senders' shapes of `common::shapes` to the adapter and through it to a
//! real core: what the sender is answered, what the stay (Encounter) becomes, and
//! what `/picture/beds` shows of ward K2's beds (from the Slots the core derives).

mod common;

use std::time::Duration;

use common::feed::{Sender, listening};
use common::shapes::{Adt, Patient, Shape};
use common::*;
use jiff::{SignedDuration, Timestamp};
use ohjaamo_adapter_adt::{NotUsed, PENDING_DISCHARGE_URL, Reading};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

/// Now, to the second (HL7 times here carry seconds).
fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).unwrap()
}

fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

/// A patient of visit `visit` (PV1-19) in bed `bed` (`K2-1-n`), inpatient.
fn patient(visit: &str, bed: &str) -> Patient {
    Patient {
        visit: Some(visit.into()),
        id: "010190-900P".into(),
        class: "I".into(),
        bed: (!bed.is_empty()).then(|| bed.into()),
        ..Patient::default()
    }
}

struct World {
    core: Core,
    _adapter: common::feed::Adapter,
    sender: Sender,
}

impl World {
    async fn new(
        configure: impl FnOnce(ohjaamo_adapter_adt::AdtAdapter) -> ohjaamo_adapter_adt::AdtAdapter,
    ) -> World {
        let core = Core::start().await;
        seed_ward(&core).await;
        let adapter = listening(core.addr, configure).await;
        let sender = Sender::connect(adapter.addr).await;
        World {
            core,
            _adapter: adapter,
            sender,
        }
    }

    /// Sends the message; answers the whole ACK.
    async fn send(&mut self, message: &Adt) -> String {
        self.sender.exchange(&message.bytes(), WAIT).await
    }

    /// Sends the message and expects `AA`.
    async fn accept(&mut self, message: &Adt) {
        let (control, trigger) = (&message.control, &message.trigger);
        self.sender
            .accepted(&message.bytes(), control, trigger, WAIT)
            .await;
    }

    async fn stay(&self, key: &str) -> Value {
        stay(&self.core, key)
            .await
            .unwrap_or_else(|| panic!("no stay {key}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admit_transfer_discharge_and_their_cancels() {
    let mut w = World::new(|a| a).await;
    let t0 = now() - mins(120);
    // A01 in v2.3.
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A01",
        "L1",
        t0,
        patient("V-1", "K2-1-1"),
    ))
    .await;
    assert_eq!(
        bed_states(&w.core).await,
        ["occupied", "free", "free", "free"]
    );
    // A02 in v2.5.1, with PV1-6 and optional segments.
    let mut moved = patient("V-1", "K2-1-2");
    moved.prior = Some("K2-1-1".into());
    w.accept(&Adt::new(
        Shape::Epic251,
        "A02",
        "E2",
        t0 + mins(30),
        moved.clone(),
    ))
    .await;
    assert_eq!(
        bed_states(&w.core).await,
        ["free", "occupied", "free", "free"]
    );
    // A12 in v2.8: PV1-3 where the patient stays, PV1-6 the cancelled move.
    let mut back = patient("V-1", "K2-1-1");
    back.prior = Some("K2-1-2".into());
    w.accept(&Adt::new(Shape::Esko28, "A12", "S3", t0 + mins(35), back))
        .await;
    assert_eq!(
        bed_states(&w.core).await,
        ["occupied", "free", "free", "free"]
    );
    assert_eq!(
        places(&w.stay("V-1").await),
        [("K2-1-1".into(), "active".into())]
    );
    // A03, then A13 cancelling it.
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A03",
        "L4",
        t0 + mins(60),
        patient("V-1", "K2-1-1"),
    ))
    .await;
    let stay = w.stay("V-1").await;
    assert_eq!(stay["status"], "finished");
    assert_eq!(bed_states(&w.core).await, ["free", "free", "free", "free"]);
    w.accept(&Adt::new(
        Shape::Epic251,
        "A13",
        "E5",
        t0 + mins(65),
        patient("V-1", "K2-1-1"),
    ))
    .await;
    let stay = w.stay("V-1").await;
    assert_eq!(stay["status"], "in-progress");
    assert!(stay["period"].get("end").is_none(), "{stay}");
    assert_eq!(
        bed_states(&w.core).await,
        ["occupied", "free", "free", "free"]
    );
    // A11 cancels the admission: nothing of it holds.
    w.accept(&Adt::new(
        Shape::Esko28,
        "A11",
        "S6",
        t0 + mins(70),
        patient("V-1", "K2-1-1"),
    ))
    .await;
    assert_eq!(w.stay("V-1").await["status"], "entered-in-error");
    assert_eq!(bed_states(&w.core).await, ["free", "free", "free", "free"]);
    let text = w.stay("V-1").await.to_string();
    assert!(!text.contains("010190") && !text.contains("Meik"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_admits_and_pre_admits_reserve_a_bed_until_admitted_or_cancelled() {
    // This sender leaves PV1-19 empty: the stay is keyed by PID-18.
    let mut w = World::new(|a| {
        a.with_reading(Reading::new("pv1-19,pid-18".parse().unwrap(), None).unwrap())
    })
    .await;
    let t0 = now() - mins(30);
    let mut expected = patient("", "K2-1-3");
    expected.visit = None;
    expected.account = Some("T-14".into());
    expected.expected_admit = Some(t0 + mins(10));
    w.accept(&Adt::new(Shape::Epic251, "A14", "E1", t0, expected.clone()))
        .await;
    let stay = w.stay("account:T-14").await;
    assert_eq!(stay["status"], "planned");
    assert_eq!(places(&stay), [("K2-1-3".into(), "planned".into())]);
    assert_eq!(
        stay["period"]["start"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()
            .unwrap(),
        t0 + mins(10),
        "PV2-8, the expected admission"
    );
    assert_eq!(
        bed_states(&w.core).await,
        ["free", "free", "reserved", "free"]
    );
    // The admission: the reserved bed is now occupied, the plan is gone.
    let mut admitted = expected.clone();
    admitted.expected_admit = None;
    w.accept(&Adt::new(
        Shape::Epic251,
        "A01",
        "E2",
        t0 + mins(15),
        admitted,
    ))
    .await;
    let stay = w.stay("account:T-14").await;
    assert_eq!(stay["status"], "in-progress");
    assert_eq!(places(&stay), [("K2-1-3".into(), "active".into())]);
    assert_eq!(
        bed_states(&w.core).await,
        ["free", "free", "occupied", "free"]
    );

    // A pre-admit in v2.8 reserves K2-1-4; A38 cancels it.
    let mut pre = patient("V-5", "K2-1-4");
    pre.class = "P".into();
    pre.expected_admit = Some(t0);
    w.accept(&Adt::new(
        Shape::Esko28,
        "A05",
        "S3",
        t0 - mins(60),
        pre.clone(),
    ))
    .await;
    let stay = w.stay("V-5").await;
    assert_eq!(
        (stay["status"].as_str(), stay["class"]["code"].as_str()),
        (Some("planned"), Some("PRENC"))
    );
    assert_eq!(
        bed_states(&w.core).await,
        ["free", "free", "occupied", "reserved"]
    );
    w.accept(&Adt::new(Shape::Esko28, "A38", "S4", t0 - mins(50), pre))
        .await;
    assert_eq!(w.stay("V-5").await["status"], "cancelled");
    assert_eq!(
        bed_states(&w.core).await,
        ["free", "free", "occupied", "free"]
    );

    // A pending admit in v2.3 (EVN-3: the planned time), cancelled by A27.
    let mut pending = Adt::new(Shape::Lifecare23, "A14", "L5", t0, patient("V-6", "K2-1-1"));
    pending.planned = Some(t0 + mins(5));
    w.accept(&pending).await;
    assert_eq!(
        bed_states(&w.core).await,
        ["reserved", "free", "occupied", "free"]
    );
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A27",
        "L6",
        t0 + mins(6),
        patient("V-6", "K2-1-1"),
    ))
    .await;
    assert_eq!(w.stay("V-6").await["status"], "cancelled");
    assert_eq!(
        bed_states(&w.core).await,
        ["free", "free", "occupied", "free"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_transfers_and_discharges_and_their_cancels() {
    let mut w = World::new(|a| a).await;
    let t0 = now() - mins(60);
    let mut admitted = patient("V-2", "K2-1-1");
    admitted.expected_discharge = Some(t0 + mins(2 * 24 * 60));
    w.accept(&Adt::new(Shape::Epic251, "A01", "E1", t0, admitted))
        .await;
    let until = |beds: &std::collections::BTreeMap<String, (String, Option<String>)>| {
        beds["k2-1"].1.clone().unwrap()
    };
    assert_eq!(
        until(&beds(&w.core).await),
        (t0 + mins(2 * 24 * 60)).to_string()
    );
    // A15: the pending location in PV1-42 is reserved; the patient stays.
    let mut pending = patient("V-2", "K2-1-1");
    pending.pending = Some("K2-1-2".into());
    w.accept(&Adt::new(
        Shape::Esko28,
        "A15",
        "S2",
        t0 + mins(10),
        pending.clone(),
    ))
    .await;
    assert_eq!(
        bed_states(&w.core).await,
        ["occupied", "reserved", "free", "free"]
    );
    assert_eq!(
        places(&w.stay("V-2").await),
        [
            ("K2-1-1".into(), "active".into()),
            ("K2-1-2".into(), "planned".into())
        ]
    );
    // A25 cancels it.
    w.accept(&Adt::new(
        Shape::Esko28,
        "A25",
        "S3",
        t0 + mins(12),
        pending,
    ))
    .await;
    assert_eq!(
        bed_states(&w.core).await,
        ["occupied", "free", "free", "free"]
    );
    // A16: the discharge is pending for this afternoon: the bed frees then.
    let mut leaving = patient("V-2", "K2-1-1");
    leaving.expected_discharge = Some(t0 + mins(240));
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A16",
        "L4",
        t0 + mins(20),
        leaving,
    ))
    .await;
    assert_eq!(until(&beds(&w.core).await), (t0 + mins(240)).to_string());
    let stay = w.stay("V-2").await;
    assert!(stay.to_string().contains(PENDING_DISCHARGE_URL), "{stay}");
    // A26: the planned discharge is what it was before the A16.
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A26",
        "L5",
        t0 + mins(25),
        patient("V-2", "K2-1-1"),
    ))
    .await;
    assert_eq!(
        until(&beds(&w.core).await),
        (t0 + mins(2 * 24 * 60)).to_string()
    );
    assert!(
        !w.stay("V-2")
            .await
            .to_string()
            .contains(PENDING_DISCHARGE_URL)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_moves_both_patients_in_one_transaction() {
    let mut w = World::new(|a| a).await;
    let t0 = now() - mins(60);
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A01",
        "L1",
        t0,
        patient("V-1", "K2-1-1"),
    ))
    .await;
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A01",
        "L2",
        t0,
        patient("V-2", "K2-1-2"),
    ))
    .await;
    // v2.5.1: each PV1-3 is the patient's new bed.
    let mut swap = Adt::new(
        Shape::Epic251,
        "A17",
        "E3",
        t0 + mins(10),
        patient("V-1", "K2-1-2"),
    );
    swap.patients.push(patient("V-2", "K2-1-1"));
    w.accept(&swap).await;
    let now_in = |stay: &Value| places(stay).last().unwrap().clone();
    assert_eq!(
        now_in(&w.stay("V-1").await),
        ("K2-1-2".into(), "active".into())
    );
    assert_eq!(
        now_in(&w.stay("V-2").await),
        ("K2-1-1".into(), "active".into())
    );
    assert_eq!(
        bed_states(&w.core).await,
        ["occupied", "occupied", "free", "free"]
    );
    // v2.3 from a sender that writes each patient's bed before the swap: swapped back.
    let mut swap = Adt::new(
        Shape::Lifecare23,
        "A17",
        "L4",
        t0 + mins(20),
        patient("V-1", "K2-1-2"),
    );
    swap.patients.push(patient("V-2", "K2-1-1"));
    w.accept(&swap).await;
    assert_eq!(
        now_in(&w.stay("V-1").await),
        ("K2-1-1".into(), "active".into())
    );
    assert_eq!(
        now_in(&w.stay("V-2").await),
        ("K2-1-2".into(), "active".into())
    );
    assert_eq!(places(&w.stay("V-1").await).len(), 3);
    // A resend changes neither.
    let before = (
        w.stay("V-1").await["meta"]["versionId"].clone(),
        w.stay("V-2").await["meta"]["versionId"].clone(),
    );
    w.accept(&swap).await;
    let after = (
        w.stay("V-1").await["meta"]["versionId"].clone(),
        w.stay("V-2").await["meta"]["versionId"].clone(),
    );
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leave_of_absence_holds_the_bed_empty() {
    let mut w = World::new(|a| a).await;
    let t0 = now() - mins(120);
    w.accept(&Adt::new(
        Shape::Esko28,
        "A01",
        "S1",
        t0,
        patient("V-3", "K2-1-2"),
    ))
    .await;
    w.accept(&Adt::new(
        Shape::Esko28,
        "A21",
        "S2",
        t0 + mins(30),
        patient("V-3", "K2-1-2"),
    ))
    .await;
    assert_eq!(
        bed_states(&w.core).await,
        ["free", "reserved", "free", "free"]
    );
    assert_eq!(
        places(&w.stay("V-3").await),
        [
            ("K2-1-2".into(), "completed".into()),
            ("K2-1-2".into(), "reserved".into())
        ]
    );
    // A22: back in the bed.
    w.accept(&Adt::new(
        Shape::Epic251,
        "A22",
        "E3",
        t0 + mins(60),
        patient("V-3", "K2-1-2"),
    ))
    .await;
    assert_eq!(
        bed_states(&w.core).await,
        ["free", "occupied", "free", "free"]
    );
    // A53: the return did not happen — on leave again; A52: nor did the leave.
    w.accept(&Adt::new(
        Shape::Epic251,
        "A53",
        "E4",
        t0 + mins(61),
        patient("V-3", "K2-1-2"),
    ))
    .await;
    assert_eq!(
        bed_states(&w.core).await,
        ["free", "reserved", "free", "free"]
    );
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A52",
        "L5",
        t0 + mins(62),
        patient("V-3", "K2-1-2"),
    ))
    .await;
    assert_eq!(
        bed_states(&w.core).await,
        ["free", "occupied", "free", "free"]
    );
    assert_eq!(
        places(&w.stay("V-3").await),
        [("K2-1-2".into(), "active".into())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_changes_updates_and_events_that_store_nothing() {
    let mut w = World::new(|a| a).await;
    let t0 = now() - mins(60);
    let mut outpatient = patient("V-4", "K2-1-1");
    outpatient.class = "O".into();
    w.accept(&Adt::new(Shape::Esko28, "A04", "S1", t0, outpatient))
        .await;
    assert_eq!(w.stay("V-4").await["class"]["code"], "AMB");
    // A06 with an empty PV1-2: the trigger says inpatient.
    let mut unsaid = patient("V-4", "K2-1-1");
    unsaid.class = String::new();
    w.accept(&Adt::new(
        Shape::Epic251,
        "A06",
        "E2",
        t0 + mins(5),
        unsaid.clone(),
    ))
    .await;
    assert_eq!(w.stay("V-4").await["class"]["code"], "IMP");
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A07",
        "L3",
        t0 + mins(10),
        unsaid,
    ))
    .await;
    assert_eq!(w.stay("V-4").await["class"]["code"], "AMB");
    // A08 with a planned discharge.
    let mut update = patient("V-4", "K2-1-1");
    update.class = "O".into();
    update.expected_discharge = Some(t0 + mins(300));
    w.accept(&Adt::new(
        Shape::Epic251,
        "A08",
        "E4",
        t0 + mins(15),
        update,
    ))
    .await;
    assert_eq!(
        beds(&w.core).await["k2-1"].1.as_deref(),
        Some((t0 + mins(300)).to_string().as_str())
    );
    let version = w.stay("V-4").await["meta"]["versionId"].clone();
    // Tracking and person data: acknowledged, nothing stored.
    for (trigger, control) in [("A09", "T1"), ("A10", "T2"), ("A28", "T3"), ("A31", "T4")] {
        w.accept(&Adt::new(
            Shape::Epic251,
            trigger,
            control,
            t0 + mins(20),
            patient("V-4", "K2-1-3"),
        ))
        .await;
    }
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A28",
        "T5",
        t0,
        patient("V-NEW", ""),
    ))
    .await;
    assert_eq!(w.stay("V-4").await["meta"]["versionId"], version);
    assert!(
        stay(&w.core, "V-NEW").await.is_none(),
        "person data makes no stay"
    );
    assert_eq!(
        bed_states(&w.core).await,
        ["occupied", "free", "free", "free"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merges_re_key_stays_and_duplicate_nothing() {
    let mut w = World::new(|a| {
        a.with_reading(Reading::new("pv1-19,pid-18".parse().unwrap(), None).unwrap())
    })
    .await;
    let t0 = now() - mins(60);
    let mut by_account = patient("", "K2-1-1");
    by_account.visit = None;
    by_account.account = Some("A-OLD".into());
    w.accept(&Adt::new(
        Shape::Epic251,
        "A01",
        "E1",
        t0,
        by_account.clone(),
    ))
    .await;
    // A40 (v2.5.1): account A-OLD merged into A-NEW.
    let mut survivor = by_account.clone();
    survivor.account = Some("A-NEW".into());
    let mut merge = Adt::new(Shape::Epic251, "A40", "E2", t0 + mins(5), survivor.clone());
    merge.mrg = Some(("020290-900P".into(), "A-OLD".into(), String::new()));
    w.accept(&merge).await;
    assert!(stay(&w.core, "account:A-OLD").await.is_none());
    let stay_new = w.stay("account:A-NEW").await;
    // The next message by the new account finds the same stay.
    w.accept(&Adt::new(
        Shape::Epic251,
        "A03",
        "E3",
        t0 + mins(30),
        survivor,
    ))
    .await;
    let all = w.core.search("Encounter", "").await;
    assert_eq!(all.len(), 1, "nothing duplicated: {all:?}");
    assert_eq!(all[0]["id"], stay_new["id"]);
    assert_eq!(all[0]["status"], "finished");
    // A34 (v2.3) of a visit number: MRG-5 → PV1-19.
    w.accept(&Adt::new(
        Shape::Lifecare23,
        "A01",
        "L4",
        t0,
        patient("V-OLD", "K2-1-2"),
    ))
    .await;
    let mut merge = Adt::new(
        Shape::Lifecare23,
        "A34",
        "L5",
        t0 + mins(5),
        patient("V-NEW", "K2-1-2"),
    );
    merge.mrg = Some(("010190-900P".into(), String::new(), "V-OLD".into()));
    w.accept(&merge).await;
    assert!(stay(&w.core, "V-OLD").await.is_none());
    assert_eq!(
        places(&w.stay("V-NEW").await),
        [("K2-1-2".into(), "active".into())]
    );
    assert!(
        !w.core
            .search("Encounter", "")
            .await
            .iter()
            .any(|e| e.to_string().contains("020290"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unused_types_are_accepted_or_rejected_as_configured_and_a_missing_key_is_101() {
    let mut w = World::new(|a| a).await;
    let t0 = now();
    let mut unused = Adt::new(Shape::Esko28, "A60", "S1", t0, patient("V-9", "K2-1-1"));
    let ack = w.send(&unused).await;
    assert!(ack.contains("MSA|AA|S1"), "{ack}");
    assert!(
        ack.contains("|I||||ADT\\S\\A60 not used"),
        "v2.8: ERR of severity I: {ack}"
    );
    // An order message (SIU bookings are used: tests/siu.rs).
    unused.trigger = "O01".into();
    let order = String::from_utf8(unused.bytes())
        .unwrap()
        .replace("ADT^O01", "ORM^O01");
    w.sender.send(order.as_bytes()).await;
    let ack = w.sender.ack_text(WAIT).await.unwrap();
    assert!(
        ack.contains("MSA|AA|S1") && ack.contains("200^Unsupported message type"),
        "{ack}"
    );
    assert!(stay(&w.core, "V-9").await.is_none());
    // PV1-19 empty and no other key the rule allows: AE, 101, at PV1-19.
    let mut keyless = patient("", "K2-1-1");
    keyless.visit = None;
    keyless.account = Some("T-1".into());
    let ack = w
        .send(&Adt::new(Shape::Epic251, "A01", "E3", t0, keyless))
        .await;
    assert!(ack.contains("MSA|AE|E3"), "{ack}");
    assert!(ack.contains("ERR||PV1^"), "{ack}");
    assert!(
        ack.contains("^19|101^Required field missing^HL70357|E"),
        "{ack}"
    );

    // A source configured to reject: AR.
    let mut strict = World::new(|a| a.with_not_used(NotUsed::Reject)).await;
    let ack = strict
        .send(&Adt::new(
            Shape::Lifecare23,
            "A60",
            "L1",
            t0,
            patient("V-9", "K2-1-1"),
        ))
        .await;
    assert!(ack.contains("MSA|AR|L1"), "{ack}");
}
