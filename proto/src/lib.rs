//! The bus contract, generated from `proto/ohjaamo/v1/*.proto` at build time.
//!
//! Producers and consumers depend on this crate and on nothing else of Ohjaamo, so a
//! consumer written elsewhere reads exactly what the core writes. The routing keys,
//! queue arguments and versioning rules are in docs/bus-contract.md.
//!
//! The messages' figures are converted from `ohjaamo-picture`'s ([`from_picture`]):
//! the one crate this one depends on, small and free of I/O, so that what the core
//! computes reaches the bus by a path the compiler checks.

pub mod from_picture;

/// Package `ohjaamo.v1`.
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/ohjaamo.v1.rs"));
}

#[cfg(test)]
mod tests {
    use super::v1::*;
    use prost::Message as _;

    fn slot_changed() -> Event {
        Event {
            sequence: 42,
            occurred_at: Some(prost_types::Timestamp {
                seconds: 1_774_746_000,
                nanos: 0,
            }),
            organization: "1.2.246.10.1234567".into(),
            unit: "ward-5".into(),
            kind: EventKind::ResourceChange as i32,
            unit_previous_sequence: 0,
            epoch: "8d496e0c91d2e689.7716316225818740953.1".into(),
            trace: Some(TraceContext {
                traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
                tracestate: String::new(),
            }),
            payload: Some(event::Payload::ResourceChange(ResourceChange {
                resource_type: "Slot".into(),
                id: "s1".into(),
                version: 3,
                operation: Operation::Update as i32,
                resource_json: r#"{"resourceType":"Slot","id":"s1"}"#.into(),
            })),
        }
    }

    #[test]
    fn an_event_round_trips() {
        let event = slot_changed();
        let bytes = event.encode_to_vec();
        assert_eq!(Event::decode(bytes.as_slice()).unwrap(), event);
    }

    #[test]
    fn a_picture_change_carries_ward_figures() {
        let mut event = slot_changed();
        event.kind = EventKind::PictureChange as i32;
        event.payload = Some(event::Payload::PictureChange(PictureChange {
            unit_kind: UnitKind::Ward as i32,
            unit: "ward-5".into(),
            unit_name: "Osasto 5".into(),
            site: "oys".into(),
            as_of: None,
            figures: Some(picture_change::Figures::Ward(WardFigures {
                beds_total: 24,
                beds_free_now: 3,
                occupancy_per_mille: 875,
                ..WardFigures::default()
            })),
        }));
        let decoded = Event::decode(event.encode_to_vec().as_slice()).unwrap();
        let Some(event::Payload::PictureChange(p)) = decoded.payload else {
            panic!("not a picture change");
        };
        assert!(matches!(p.figures, Some(picture_change::Figures::Ward(w)) if w.beds_total == 24));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b"\xff\xff\xff"[..], b"\x0a\x05ab", b"not protobuf at all"] {
            assert!(Event::decode(bytes).is_err(), "{bytes:?}");
        }
    }
}
