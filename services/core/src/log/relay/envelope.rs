//! Stored events as `ohjaamo.v1.Event` envelopes.

use ohjaamo_proto::v1::{
    EquipmentFigures, EquipmentList, Event, EventKind, Flow, HourCount, OperatingRoomState,
    PictureChange, RecoveryUnitFigures, ResourceChange, RoomState, StaffFigures, StaffList,
    TraceContext, UnitKind, event, picture_change,
};
use ohjaamo_store::{EventBody, Operation, StoredEvent};
use serde_json::Value;

/// The envelope of `stored`, an event of `organization`.
pub fn envelope(organization: &str, stored: &StoredEvent) -> Event {
    let micros = stored.occurred_at;
    let occurred_at = prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
    };
    let trace = (!stored.trace.traceparent.is_empty()).then(|| TraceContext {
        traceparent: stored.trace.traceparent.clone(),
        tracestate: stored.trace.tracestate.clone(),
    });
    let (kind, payload, previous) = match &stored.body {
        EventBody::Resource {
            rtype,
            id,
            version,
            operation,
            json,
        } => (
            EventKind::ResourceChange,
            event::Payload::ResourceChange(ResourceChange {
                resource_type: rtype.clone(),
                id: id.clone(),
                version: *version,
                operation: match operation {
                    Operation::Create => ohjaamo_proto::v1::Operation::Create,
                    Operation::Update => ohjaamo_proto::v1::Operation::Update,
                    Operation::Delete => ohjaamo_proto::v1::Operation::Delete,
                } as i32,
                resource_json: json.clone().unwrap_or_default(),
            }),
            0,
        ),
        EventBody::Picture {
            unit_kind,
            unit,
            body,
            previous,
        } => (
            EventKind::PictureChange,
            event::Payload::PictureChange(picture_change(unit_kind, unit, body, occurred_at)),
            *previous,
        ),
    };
    Event {
        sequence: stored.sequence as u64,
        occurred_at: Some(occurred_at),
        organization: organization.to_owned(),
        unit: stored.unit.clone(),
        kind: kind as i32,
        trace,
        unit_previous_sequence: previous as u64,
        payload: Some(payload),
    }
}

fn picture_change(
    unit_kind: &str,
    unit: &str,
    body: &str,
    as_of: prost_types::Timestamp,
) -> PictureChange {
    let picture: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let (kind, figures) = match unit_kind {
        "ward" => (
            UnitKind::Ward,
            Some(picture_change::Figures::Ward(
                ohjaamo_bus::ward_figures_from_json(&picture["figures"]),
            )),
        ),
        "operating-room" => (
            UnitKind::OperatingRoom,
            Some(picture_change::Figures::OperatingRoom(operating_room(
                &picture["figures"],
            ))),
        ),
        "recovery-unit" => (
            UnitKind::RecoveryUnit,
            Some(picture_change::Figures::RecoveryUnit(recovery_unit(
                &picture["figures"],
            ))),
        ),
        "equipment" => (
            UnitKind::Equipment,
            Some(picture_change::Figures::EquipmentByType(EquipmentList {
                types: list(&picture["figures"], |f| EquipmentFigures {
                    device_type: text(f, "device_type"),
                    total: count(f, "total"),
                    in_use: count(f, "in_use"),
                    free: count(f, "free"),
                    in_maintenance: count(f, "in_maintenance"),
                }),
            })),
        ),
        "staff" => (
            UnitKind::Staff,
            Some(picture_change::Figures::StaffByRole(StaffList {
                roles: list(&picture["figures"], |f| StaffFigures {
                    role: text(f, "role"),
                    on_shift_now: count(f, "on_shift_now"),
                    on_next_shift: count(f, "on_next_shift"),
                }),
            })),
        ),
        _ => (UnitKind::Unspecified, None),
    };
    PictureChange {
        unit_kind: kind as i32,
        unit: unit.to_owned(),
        unit_name: picture["name"].as_str().unwrap_or_default().to_owned(),
        site: picture["site"].as_str().unwrap_or_default().to_owned(),
        as_of: Some(as_of),
        figures,
    }
}

fn operating_room(f: &Value) -> OperatingRoomState {
    OperatingRoomState {
        state: match f["state"].as_str() {
            Some("free") => RoomState::Free,
            Some("in-use") => RoomState::InUse,
            Some("cleaning") => RoomState::Cleaning,
            Some("closed") => RoomState::Closed,
            _ => RoomState::Unspecified,
        } as i32,
        current_case: text(f, "current_case"),
        current_planned_end: timestamp(&f["current_planned_end"]),
        next_case: text(f, "next_case"),
        next_planned_start: timestamp(&f["next_planned_start"]),
        cases_left_today: count(f, "cases_left_today"),
        use_today_minutes: count(f, "use_today_minutes"),
        current_expected_end: timestamp(&f["current_expected_end"]),
        cases_done_today: count(f, "cases_done_today"),
        planned_today_minutes: count(f, "planned_today_minutes"),
    }
}

fn recovery_unit(f: &Value) -> RecoveryUnitFigures {
    RecoveryUnitFigures {
        bays_total: count(f, "bays_total"),
        bays_occupied: count(f, "bays_occupied"),
        bays_free: count(f, "bays_free"),
        bays_closed: count(f, "bays_closed"),
        patients: count(f, "patients"),
        waiting_for_ward_bed: count(f, "waiting_for_ward_bed"),
        expected_arrivals: list(&f["expected_arrivals"], |h| HourCount {
            hour_start: timestamp(&h["hour_start"]),
            count: count(h, "count"),
        }),
        flows_today: list(&f["flows_today"], |flow| Flow {
            from: text(flow, "from"),
            to: text(flow, "to"),
            count: count(flow, "count"),
        }),
    }
}

/// An RFC 3339 instant in the picture JSON as a protobuf Timestamp.
fn timestamp(value: &Value) -> Option<prost_types::Timestamp> {
    let instant: jiff::Timestamp = value.as_str()?.parse().ok()?;
    Some(prost_types::Timestamp {
        seconds: instant.as_second(),
        nanos: instant.subsec_nanosecond(),
    })
}

fn list<T>(figures: &Value, each: impl Fn(&Value) -> T) -> Vec<T> {
    figures.as_array().into_iter().flatten().map(each).collect()
}

fn count(figures: &Value, name: &str) -> u32 {
    figures[name].as_u64().unwrap_or(0) as u32
}

fn text(figures: &Value, name: &str) -> String {
    figures[name].as_str().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operating_room_and_recovery_pictures_keep_their_figures() {
        let room = json!({"id": "sali1", "name": "Sali 1", "site": "s1", "figures": {
            "state": "cleaning", "current_case": null, "next_case": "T-2",
            "next_planned_start": "2026-11-30T09:30:00Z", "cases_left_today": 2,
            "cases_done_today": 1, "use_today_minutes": 120, "planned_today_minutes": 270}});
        let change = picture_change(
            "operating-room",
            "sali1",
            &room.to_string(),
            Default::default(),
        );
        assert_eq!(change.unit_kind, UnitKind::OperatingRoom as i32);
        let Some(picture_change::Figures::OperatingRoom(f)) = change.figures else {
            panic!("{change:?}");
        };
        assert_eq!(f.state, RoomState::Cleaning as i32);
        assert_eq!(f.next_case, "T-2");
        assert_eq!(f.next_planned_start.map(|t| t.seconds), Some(1_796_031_000));
        assert_eq!(f.current_planned_end, None);
        assert_eq!(
            (
                f.cases_left_today,
                f.use_today_minutes,
                f.planned_today_minutes
            ),
            (2, 120, 270)
        );

        let unit = json!({"id": "her", "figures": {
            "bays_total": 3, "bays_closed": 1, "bays_occupied": 1, "bays_free": 1, "patients": 1,
            "waiting_for_ward_bed": 1,
            "expected_arrivals": [{"hour_start": "2026-11-30T10:00:00Z", "count": 2}],
            "flows_today": [{"from": "sali1", "to": "her", "count": 4}]}});
        let change = picture_change(
            "recovery-unit",
            "her",
            &unit.to_string(),
            Default::default(),
        );
        let Some(picture_change::Figures::RecoveryUnit(f)) = change.figures else {
            panic!("{change:?}");
        };
        assert_eq!(
            (
                f.bays_total,
                f.bays_closed,
                f.bays_free,
                f.waiting_for_ward_bed
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(f.expected_arrivals[0].count, 2);
        assert_eq!(f.flows_today[0].to, "her");
        assert_eq!(f.flows_today[0].count, 4);
    }
}
