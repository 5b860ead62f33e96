//! Routing keys: `v1.<organization>.<kind>.<unit kind or resource type>.<unit>`.
//!
//! The dot separates a topic key's words, so no part may contain one: an OID's dots
//! become underscores and anything outside `[A-Za-z0-9_-]` becomes `_`. A raw OID
//! never appears in a key.

use ohjaamo_proto::v1::{Event, UnitKind, event::Payload};

/// One word of a routing key made safe; an empty part is `_`.
pub fn key_part(text: &str) -> String {
    if text.is_empty() {
        return "_".into();
    }
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The routing key of `event`.
pub fn routing_key(event: &Event) -> String {
    let organization = key_part(&event.organization);
    let unit = key_part(&event.unit);
    match &event.payload {
        Some(Payload::ResourceChange(change)) => format!(
            "v1.{organization}.resource.{}.{unit}",
            key_part(&change.resource_type)
        ),
        Some(Payload::PictureChange(change)) => {
            let kind = match UnitKind::try_from(change.unit_kind) {
                Ok(UnitKind::Ward) => "ward",
                Ok(UnitKind::OperatingRoom) => "operating_room",
                Ok(UnitKind::RecoveryUnit) => "recovery_unit",
                Ok(UnitKind::Equipment) => "equipment",
                Ok(UnitKind::Staff) => "staff",
                _ => "unknown",
            };
            format!("v1.{organization}.picture.{kind}.{unit}")
        }
        None => format!("v1.{organization}.unknown._.{unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ohjaamo_proto::v1::{PictureChange, ResourceChange};

    #[test]
    fn oids_and_odd_characters_never_reach_a_key() {
        assert_eq!(key_part("1.2.246.10.1234567"), "1_2_246_10_1234567");
        assert_eq!(key_part("osasto 5/ä#*"), "osasto_5____");
        assert_eq!(key_part(""), "_");
    }

    #[test]
    fn keys_follow_the_contract() {
        let mut event = Event {
            organization: "1.2.246.10.1234567".into(),
            unit: "ward-5".into(),
            payload: Some(Payload::PictureChange(PictureChange {
                unit_kind: UnitKind::Ward as i32,
                ..Default::default()
            })),
            ..Default::default()
        };
        assert_eq!(
            routing_key(&event),
            "v1.1_2_246_10_1234567.picture.ward.ward-5"
        );
        event.unit = String::new();
        event.payload = Some(Payload::ResourceChange(ResourceChange {
            resource_type: "Slot".into(),
            ..Default::default()
        }));
        assert_eq!(routing_key(&event), "v1.1_2_246_10_1234567.resource.Slot._");
    }
}
