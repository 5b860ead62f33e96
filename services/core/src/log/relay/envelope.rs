//! Stored events as `ohjaamo.v1.Event` envelopes.
//!
//! A stored picture's figures are read into `ohjaamo-picture`'s types and converted
//! by the contract's `From` impls: a figure the JSON lacks is an error, never a 0.

use ohjaamo_picture as picture;
use ohjaamo_proto::v1::{
    EquipmentList, Event, EventKind, PictureChange, ResourceChange, StaffList, TraceContext,
    UnitKind, event, picture_change,
};
use ohjaamo_store::{EventBody, Operation, StoredEvent};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::redact;

/// The envelope of `stored`, an event of `organization` read in `epoch`.
pub fn envelope(organization: &str, epoch: &str, stored: &StoredEvent) -> Event {
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
                resource_json: json.clone().map(redact::for_the_bus).unwrap_or_default(),
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
        epoch: epoch.to_owned(),
        payload: Some(payload),
    }
}

fn picture_change(
    unit_kind: &str,
    unit: &str,
    body: &str,
    as_of: prost_types::Timestamp,
) -> PictureChange {
    use picture_change::Figures;
    let read = match unit_kind {
        "ward" => read::<picture::WardFigures>(body, UnitKind::Ward, |f| Figures::Ward(f.into())),
        "operating-room" => {
            read::<picture::OperatingRoomFigures>(body, UnitKind::OperatingRoom, |f| {
                Figures::OperatingRoom(f.into())
            })
        }
        "recovery-unit" => read::<picture::RecoveryFigures>(body, UnitKind::RecoveryUnit, |f| {
            Figures::RecoveryUnit(f.into())
        }),
        "equipment" => read::<Vec<picture::EquipmentFigures>>(body, UnitKind::Equipment, |f| {
            Figures::EquipmentByType(EquipmentList {
                types: f.into_iter().map(Into::into).collect(),
            })
        }),
        "staff" => read::<Vec<picture::StaffFigures>>(body, UnitKind::Staff, |f| {
            Figures::StaffByRole(StaffList {
                roles: f.into_iter().map(Into::into).collect(),
            })
        }),
        _ => Ok(Read::without_figures(UnitKind::Unspecified, body)),
    };
    let read = read.unwrap_or_else(|e| {
        // Our own stored picture that does not read as its kind's figures is a bug:
        // said loudly and counted, and the change still goes out (without figures)
        // so that consumers' per-unit sequence chain stays whole.
        tracing::error!(unit, unit_kind, error = %e, "a stored picture does not read as its figures");
        metrics::counter!("ohjaamo_relay_unreadable_pictures_total").increment(1);
        Read::without_figures(kind_of(unit_kind), body)
    });
    PictureChange {
        unit_kind: read.kind as i32,
        unit: unit.to_owned(),
        unit_name: read.name.unwrap_or_default(),
        site: read.site.unwrap_or_default(),
        as_of: Some(as_of),
        figures: read.figures,
    }
}

/// What the envelope takes of a stored unit picture (the JSON the deriver stores).
#[derive(Deserialize)]
struct Stored<F> {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    site: Option<String>,
    figures: F,
}

/// A stored picture read for its message.
struct Read {
    kind: UnitKind,
    name: Option<String>,
    site: Option<String>,
    figures: Option<picture_change::Figures>,
}

/// The name and site of a unit picture, whatever its figures.
#[derive(Deserialize, Default)]
struct Header {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    site: Option<String>,
}

impl Read {
    fn without_figures(kind: UnitKind, body: &str) -> Read {
        let header: Header = serde_json::from_str(body).unwrap_or_default();
        Read {
            kind,
            name: header.name,
            site: header.site,
            figures: None,
        }
    }
}

/// Reads `body` with its figures typed as `F`, and makes them the message's figures.
fn read<F: DeserializeOwned>(
    body: &str,
    kind: UnitKind,
    message: impl FnOnce(F) -> picture_change::Figures,
) -> Result<Read, serde_json::Error> {
    let stored: Stored<F> = serde_json::from_str(body)?;
    Ok(Read {
        kind,
        name: stored.name,
        site: stored.site,
        figures: Some(message(stored.figures)),
    })
}

fn kind_of(unit_kind: &str) -> UnitKind {
    match unit_kind {
        "ward" => UnitKind::Ward,
        "operating-room" => UnitKind::OperatingRoom,
        "recovery-unit" => UnitKind::RecoveryUnit,
        "equipment" => UnitKind::Equipment,
        "staff" => UnitKind::Staff,
        _ => UnitKind::Unspecified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operating_room_and_recovery_pictures_keep_their_figures() {
        let room = json!({"id": "sali1", "name": "Sali 1", "site": "s1", "figures": {
            "state": "cleaning", "currentCase": null, "currentPlannedEnd": null,
            "currentExpectedEnd": null, "nextCase": "T-2",
            "nextPlannedStart": "2026-11-30T09:30:00Z", "casesLeftToday": 2,
            "casesDoneToday": 1, "useTodayMinutes": 120, "plannedTodayMinutes": 270}});
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
        assert_eq!(f.state, ohjaamo_proto::v1::RoomState::Cleaning as i32);
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
            "baysTotal": 3, "baysClosed": 1, "baysOccupied": 1, "baysFree": 1, "patients": 1,
            "waitingForWardBed": 1,
            "expectedArrivals": [{"hourStart": "2026-11-30T10:00:00Z", "count": 2}],
            "flowsToday": [{"from": "sali1", "to": "her", "count": 4}],
            "theatres": ["sali1"], "bays": []}});
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

    fn ward(figures: serde_json::Value) -> PictureChange {
        let body = json!({"id": "w1", "name": "Osasto 1", "site": "s1", "figures": figures});
        picture_change("ward", "w1", &body.to_string(), Default::default())
    }

    #[test]
    fn a_ward_picture_carries_its_figures_stored_in_either_casing() {
        let camel = ward(json!({
            "bedsTotal": 5, "bedsClosed": 1, "bedsOpen": 4, "occupied": 2, "reserved": 1,
            "freeNow": 1, "freeingToday": 1, "freeingTomorrow": 0,
            "overCapacityPatients": 0, "patients": 2, "occupancyPercent": 50.0}));
        // As the previous version stored it.
        let snake = ward(json!({
            "beds_total": 5, "beds_closed": 1, "beds_open": 4, "occupied": 2, "reserved": 1,
            "free_now": 1, "freeing_today": 1, "freeing_tomorrow": 0,
            "over_capacity_patients": 0, "patients": 2, "occupancy_percent": 50.0}));
        assert_eq!(camel, snake);
        assert_eq!(
            (camel.unit_name.as_str(), camel.site.as_str()),
            ("Osasto 1", "s1")
        );
        let Some(picture_change::Figures::Ward(f)) = camel.figures else {
            panic!("{camel:?}");
        };
        assert_eq!(
            (
                f.beds_total,
                f.beds_occupied,
                f.beds_free_now,
                f.occupancy_per_mille
            ),
            (5, 2, 1, 500)
        );
    }

    #[test]
    fn a_picture_missing_a_figure_goes_out_without_figures_not_with_zeros() {
        // `freeNow` renamed: an error (logged and counted), not a ward with 0 free.
        let change = ward(json!({
            "bedsTotal": 5, "bedsClosed": 1, "bedsOpen": 4, "occupied": 2, "reserved": 1,
            "free": 1, "freeingToday": 1, "freeingTomorrow": 0,
            "overCapacityPatients": 0, "patients": 2, "occupancyPercent": 50.0}));
        assert_eq!(change.figures, None);
        assert_eq!(change.unit_kind, UnitKind::Ward as i32);
        assert_eq!(change.unit_name, "Osasto 1");
    }
}
