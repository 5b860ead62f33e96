//! Stored events as `ohjaamo.v1.Event` envelopes.

use ohjaamo_proto::v1::{
    EquipmentFigures, EquipmentList, Event, EventKind, PictureChange, ResourceChange, StaffFigures,
    StaffList, TraceContext, UnitKind, event, picture_change,
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

fn list<T>(figures: &Value, each: impl Fn(&Value) -> T) -> Vec<T> {
    figures.as_array().into_iter().flatten().map(each).collect()
}

fn count(figures: &Value, name: &str) -> u32 {
    figures[name].as_u64().unwrap_or(0) as u32
}

fn text(figures: &Value, name: &str) -> String {
    figures[name].as_str().unwrap_or_default().to_owned()
}
