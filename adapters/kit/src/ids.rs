//! The identifier systems of one source.
//!
//! Every record a source has keeps the source's own key as its FHIR identifier:
//! `system` = `urn:oid:<source root>.<arc>`, one arc per kind of key, and `value` =
//! the key as the source writes it. An adapter needs no state to find "its" resource
//! again: a conditional update by that identifier lands on the same resource every
//! time, and references between records are conditional references by identifier.
//! The arcs are a table of ours (docs/adapters.md), the same for every source.

/// The kinds of key a source has, each with its arc under the source's OID root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Hospital or building (Location `si` / `bu`).
    Site,
    /// Ward, recovery unit, theatre suite (Location `wa`).
    Unit,
    /// Room or operating room (Location `ro`).
    Room,
    /// Bed place or recovery bay (Location `bd`).
    BedPlace,
    /// Piece of equipment (Device).
    Equipment,
    /// Staff member in a role (PractitionerRole).
    StaffRole,
    /// Booking or operation (Appointment).
    Booking,
    /// Visit number of a stay (Encounter).
    Visit,
    /// Schedule of a bookable resource: the value is `<kind arc>/<key>` of its actor.
    Schedule,
    /// A time window on a Schedule (Slot).
    Slot,
}

impl Kind {
    pub fn arc(self) -> u32 {
        match self {
            Kind::Site => 1,
            Kind::Unit => 2,
            Kind::Room => 3,
            Kind::BedPlace => 4,
            Kind::Equipment => 5,
            Kind::StaffRole => 6,
            Kind::Booking => 7,
            Kind::Visit => 8,
            Kind::Schedule => 9,
            Kind::Slot => 10,
        }
    }

    /// The FHIR resource type that carries keys of this kind.
    pub fn resource_type(self) -> &'static str {
        match self {
            Kind::Site | Kind::Unit | Kind::Room | Kind::BedPlace => "Location",
            Kind::Equipment => "Device",
            Kind::StaffRole => "PractitionerRole",
            Kind::Booking => "Appointment",
            Kind::Visit => "Encounter",
            Kind::Schedule => "Schedule",
            Kind::Slot => "Slot",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceIds {
    /// The source's OID root, e.g. `1.2.246.10.1234567.10`.
    pub root: String,
}

impl SourceIds {
    pub fn new(root: &str) -> SourceIds {
        SourceIds {
            root: root.trim_start_matches("urn:oid:").to_owned(),
        }
    }

    /// `urn:oid:<root>.<arc>`.
    pub fn system(&self, kind: Kind) -> String {
        format!("urn:oid:{}.{}", self.root, kind.arc())
    }

    /// The FHIR Identifier of `key`.
    pub fn identifier(&self, kind: Kind, key: &str) -> serde_json::Value {
        serde_json::json!({ "system": self.system(kind), "value": key })
    }

    /// `Type?identifier=system|key`, the key percent-encoded: the conditional URL of
    /// an update, and the text of a conditional reference.
    pub fn conditional(&self, kind: Kind, key: &str) -> String {
        format!(
            "{}?identifier={}|{}",
            kind.resource_type(),
            self.system(kind),
            encode(key)
        )
    }

    /// A Reference to the resource with `key`: the conditional reference the core
    /// resolves, and the identifier itself, which the core keeps.
    pub fn reference(&self, kind: Kind, key: &str) -> serde_json::Value {
        serde_json::json!({
            "reference": self.conditional(kind, key),
            "identifier": self.identifier(kind, key),
        })
    }

    /// The Schedule key of the resource of `kind` with `key`.
    pub fn schedule_key(kind: Kind, key: &str) -> String {
        format!("{}/{key}", kind.arc())
    }
}

/// Percent-encodes what would break a query string; keys are mostly plain.
fn encode(key: &str) -> String {
    url::form_urlencoded::byte_serialize(key.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_and_conditional_urls() {
        let ids = SourceIds::new("urn:oid:1.2.246.10.1234567.10");
        assert_eq!(
            ids.system(Kind::BedPlace),
            "urn:oid:1.2.246.10.1234567.10.4"
        );
        assert_eq!(
            ids.conditional(Kind::BedPlace, "OS5 101/1"),
            "Location?identifier=urn:oid:1.2.246.10.1234567.10.4|OS5%20101%2F1"
        );
        assert_eq!(SourceIds::schedule_key(Kind::Room, "SAL3"), "3/SAL3");
    }
}
