//! Fuzz targets (`proptest`, stable Rust) for what the adapter does with a sender's
//! bytes before the core sees them: reading the event and minimising a message for
//! the quarantine. Cases come from `PROPTEST_CASES` (256 without it; CI sets 1000).
//!
//! The second property holds `minimise.rs` and `event.rs` together: whatever ADT
//! message comes, the event read from what the quarantine keeps is the event read
//! from the whole message, so a replay applies what the listener would have; and
//! nothing of the segments and fields it drops is kept.

use jiff::tz::TimeZone;
use ohjaamo_adapter_adt::AdtEvent;
use ohjaamo_adapter_adt::minimise::{Kept, for_quarantine};
use ohjaamo_hl7::Message;
use proptest::prelude::*;

/// Marks data the quarantine must never keep.
const SECRET: &str = "SALAINEN";

/// A field value: empty, an HL7 null, plausible text or timestamps, or bytes that
/// matter to a parser within a field (field and segment separators are left to the
/// arbitrary-bytes target: they move values between fields, secrets included).
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\"\"".to_owned()),
        prop::sample::select(vec![
            "Y", "N", "y", "K2", "K2-1-1", "V-1", "I", "O", "E", "P"
        ])
        .prop_map(str::to_owned),
        prop::sample::select(vec![
            "202603150800",
            "20260315",
            "202603150800+0300",
            "2026031508",
            "20261340",
            "K2^1^K2-1-1^OYS",
            "^^K2-1-2",
            "A^B~C^D",
            "\\F\\",
            "\\X41\\",
            "ä€",
        ])
        .prop_map(str::to_owned),
        prop::collection::vec(prop::sample::select(b"^~\\&A9 -+.".to_vec()), 0..12)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// `n` fields of a segment.
fn fields(n: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(value(), n)
}

/// An ADT message: MSH, EVN, PD1, PV1, PV2 with random values where the mapping reads
/// (and beside it), identity segments full of [`SECRET`], in a random order after MSH.
fn adt_message() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![
            "A01", "A02", "A03", "A04", "A08", "A11", "A12", "A13", "A05",
        ]),
        fields(7),
        fields(13),
        fields(46),
        fields(10),
        any::<bool>(),
        prop::collection::vec(
            prop::sample::select(vec!["PID", "NK1", "MRG", "GT1", "IN1", "DG1", "ZBE"]),
            0..5,
        ),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(trigger, evn, pd1, pv1, pv2, lf, identity, shuffle)| {
            let mut segments = vec![
                segment("EVN", &evn, &[5]),
                segment("PD1", &pd1, &[3, 4]),
                segment("PV1", &pv1, &[7, 8, 17]),
                segment("PV2", &pv2, &[3]),
            ];
            for id in identity {
                segments.push(format!("{id}|1||{SECRET}^{SECRET}||{SECRET}"));
            }
            let n = segments.len();
            segments.rotate_left(shuffle.index(n));
            let end = if lf { "\n" } else { "\r" };
            let mut text = format!(
                "MSH|^~\\&|LIFECARE|OYS|OHJAAMO|PPSHP|202603150800||ADT^{trigger}|M1|P|2.3{end}"
            );
            for s in segments {
                text.push_str(&s);
                text.push_str(end);
            }
            text.into_bytes()
        })
}

/// A segment of `values`, with [`SECRET`] in the fields the mapping never reads.
fn segment(id: &str, values: &[String], secret_fields: &[usize]) -> String {
    let mut fields = vec![id.to_owned()];
    for (n, v) in values.iter().enumerate() {
        let n = n + 1;
        fields.push(if secret_fields.contains(&n) {
            SECRET.to_owned()
        } else {
            v.clone()
        });
    }
    fields.join("|")
}

fn helsinki() -> TimeZone {
    TimeZone::get("Europe/Helsinki").unwrap()
}

proptest! {
    #[test]
    fn any_bytes_are_minimised_without_panic_and_bounded(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        match for_quarantine(&bytes) {
            Kept::Message(kept) => prop_assert!(kept.len() <= bytes.len() + 1),
            Kept::Diagnostic(text) => prop_assert!(text.len() < 400, "{}", text),
        }
        if let Ok(message) = Message::parse(&bytes) {
            let _ = AdtEvent::read(&message, &helsinki());
        }
    }

    #[test]
    fn the_kept_fields_read_as_the_same_event_and_nothing_else_is_kept(
        raw in adt_message(),
    ) {
        let Kept::Message(kept) = for_quarantine(&raw) else {
            return Err(TestCaseError::fail("an ADT message is kept as a message"));
        };
        prop_assert!(
            !String::from_utf8_lossy(&kept).contains(SECRET),
            "kept: {:?}", String::from_utf8_lossy(&kept)
        );
        let zone = helsinki();
        if let Ok(whole) = Message::parse(&raw) {
            let minimised = Message::parse(&kept);
            prop_assert!(minimised.is_ok(), "{:?}", minimised);
            if let Ok(minimised) = minimised {
                prop_assert_eq!(
                    AdtEvent::read(&minimised, &zone),
                    AdtEvent::read(&whole, &zone)
                );
            }
        }
    }
}
