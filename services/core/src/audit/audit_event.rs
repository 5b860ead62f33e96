//! Access records as FHIR R4 AuditEvents, shaped by IHE Basic Audit Log Patterns
//! (BALP): `type` rest, the interaction as `subtype`, the action letter, the outcome,
//! the user (OAuth), the client (Source Role ID) and this server (Destination Role
//! ID) as agents, this server as the source, and what was touched as entities.
//!
//! A record that touched stays becomes one AuditEvent per stay (BALP's PatientRead,
//! PatientQuery, … patterns: one per patient), each carrying the stay's visit
//! identifier as the patient entity — this server keeps no patient identity, the
//! visit number is what the patient system resolves. What else the record touched goes
//! into one more AuditEvent of the plain pattern. A record's AuditEvents are named by
//! its number (`17`, or `17-1`, `17-2`, … for one per stay).

use base64::Engine as _;
use ohjaamo_store::{AccessEntity, StoredAccess, format_instant};
use serde_json::{Value, json};

const BALP: &str = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit";
const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
const ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";
const RESTFUL: &str = "http://hl7.org/fhir/restful-interaction";
/// The server's own interactions (`picture`, `stream`, `sources-read`, …).
pub const OHJAAMO_INTERACTION: &str = "https://ohjaamo.fi/fhir/CodeSystem/access-interaction";

/// The AuditEvents of one record, in order.
pub fn audit_events(stored: &StoredAccess) -> Vec<Value> {
    let record = &stored.record;
    let (stays, others): (Vec<&AccessEntity>, Vec<&AccessEntity>) = record
        .entities
        .iter()
        .partition(|e| e.reference.starts_with("Encounter/"));
    if stays.is_empty() {
        return vec![event(stored, stored.id.to_string(), &others, None)];
    }
    let mut out = Vec::with_capacity(stays.len() + 1);
    if !others.is_empty() {
        out.push(event(stored, stored.id.to_string(), &others, None));
    }
    for (k, stay) in stays.iter().enumerate() {
        out.push(event(
            stored,
            format!("{}-{}", stored.id, k + 1),
            std::slice::from_ref(stay),
            Some(stay),
        ));
    }
    out
}

/// The AuditEvent named `id` (`17` or `17-2`) among a record's, if it is one.
pub fn audit_event_named(stored: &StoredAccess, id: &str) -> Option<Value> {
    audit_events(stored)
        .into_iter()
        .find(|e| e["id"].as_str() == Some(id))
}

/// The record number an AuditEvent id names.
pub fn record_number(id: &str) -> Option<i64> {
    let number = id.split_once('-').map_or(id, |(n, _)| n);
    number.parse().ok().filter(|n| *n > 0)
}

fn event(
    stored: &StoredAccess,
    id: String,
    entities: &[&AccessEntity],
    stay: Option<&AccessEntity>,
) -> Value {
    let record = &stored.record;
    let (subtype, action, pattern) = interaction_codes(&record.interaction);
    let profile = match (stay, pattern) {
        (Some(_), Some(p)) => Some(format!("{BALP}.Patient{p}")),
        (None, Some(p)) => Some(format!("{BALP}.{p}")),
        (_, None) => None,
    };
    let mut event = json!({
        "resourceType": "AuditEvent",
        "id": id,
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "Restful Operation"
        },
        "subtype": [subtype],
        "action": action,
        "recorded": format_instant(record.recorded),
        "outcome": outcome_code(record.status),
        "agent": agents(record),
        "source": {
            "site": if record.tenant.is_empty() { "(none)" } else { record.tenant.as_str() },
            "observer": { "display": "Ohjaamo core" },
            "type": [{
                "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                "code": "4",
                "display": "Application Server"
            }]
        },
    });
    if let Some(profile) = profile {
        event["meta"] = json!({ "profile": [profile] });
    }
    let outcome_desc = match &record.outcome {
        Some(text) => format!("HTTP {}: {text}", record.status),
        None => format!("HTTP {}", record.status),
    };
    event["text"] = json!({
        "status": "generated",
        "div": format!(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div>",
            escaped(&format!(
                "{} {} by {}: {outcome_desc}",
                record.method,
                record.path,
                record
                    .subject
                    .as_deref()
                    .or(record.client_id.as_deref())
                    .unwrap_or("an unauthenticated client")
            ))
        ),
    });
    event["outcomeDesc"] = Value::String(outcome_desc);
    let mut entity_list = vec![request_entity(stored)];
    if let Some(visit) = stay.and_then(|s| s.visit.as_deref()) {
        entity_list.push(patient_entity(visit));
    }
    entity_list.extend(entities.iter().map(|e| resource_entity(e)));
    event["entity"] = Value::Array(entity_list);
    event
}

/// `text` as XHTML character data.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `subtype`, `action` and the BALP pattern (`Read`, `Query`, `Create`, `Update`,
/// `Delete`) of an interaction.
fn interaction_codes(interaction: &str) -> (Value, &'static str, Option<&'static str>) {
    let restful = |code: &str| json!({ "system": RESTFUL, "code": code });
    match interaction {
        "read" | "vread" => (restful(interaction), "R", Some("Read")),
        "history-instance" | "history-type" => (restful(interaction), "R", Some("Query")),
        "search-type" | "search-system" => (restful(interaction), "E", Some("Query")),
        "create" => (restful("create"), "C", Some("Create")),
        "update" => (restful("update"), "U", Some("Update")),
        "delete" => (restful("delete"), "D", Some("Delete")),
        "transaction" | "batch" => (restful(interaction), "E", None),
        own => (
            json!({ "system": OHJAAMO_INTERACTION, "code": own }),
            if own.ends_with("-write") { "U" } else { "R" },
            None,
        ),
    }
}

/// BALP's outcome codes: 0 success, 4 minor failure (the client's), 8 serious failure
/// (the server's).
fn outcome_code(status: u16) -> &'static str {
    match status {
        0..=399 => "0",
        400..=499 => "4",
        _ => "8",
    }
}

fn agents(record: &ohjaamo_store::AccessRecord) -> Value {
    let mut agents = Vec::new();
    let has_user = record.subject.is_some();
    if let Some(subject) = &record.subject {
        let mut user = json!({
            "type": { "coding": [{
                "system": "https://profiles.ihe.net/ITI/BALP/CodeSystem/UserAgentTypes",
                "code": "UserOauthAgent",
                "display": "User OAuth Agent participant"
            }]},
            "who": { "identifier": { "value": subject } },
            "requestor": true,
        });
        if let Some(name) = &record.subject_name {
            user["name"] = Value::String(name.clone());
            user["who"]["display"] = Value::String(name.clone());
        }
        if !record.scopes.is_empty() {
            user["role"] = json!([{ "text": record.scopes.join(" ") }]);
        }
        agents.push(user);
    }
    let mut client = json!({
        "type": { "coding": [{ "system": DCM, "code": "110153", "display": "Source Role ID" }]},
        "who": { "display": record.client_id.as_deref().unwrap_or("(no client id)") },
        "requestor": !has_user,
    });
    if let Some(client_id) = &record.client_id {
        client["who"]["identifier"] = json!({ "value": client_id });
    }
    if let Some(address) = &record.address {
        client["network"] = json!({ "address": address, "type": "2" });
    }
    agents.push(client);
    agents.push(json!({
        "type": { "coding": [{ "system": DCM, "code": "110152", "display": "Destination Role ID" }]},
        "who": { "display": "Ohjaamo core" },
        "requestor": false,
    }));
    Value::Array(agents)
}

/// The request itself: method and path, the query (base64, as AuditEvent carries it),
/// the request id and the trace it belongs to, and the organisation it tried to act
/// for when that was refused.
fn request_entity(stored: &StoredAccess) -> Value {
    let record = &stored.record;
    let is_query = record.interaction.starts_with("search");
    let mut entity = json!({
        "what": { "display": format!("{} {}", record.method, record.path) },
        "type": { "system": ENTITY_TYPE, "code": "2", "display": "System Object" },
        "role": if is_query {
            json!({ "system": OBJECT_ROLE, "code": "24", "display": "Query" })
        } else {
            json!({ "system": OBJECT_ROLE, "code": "3", "display": "Report" })
        },
    });
    if let Some(query) = record.query.as_deref().filter(|q| !q.is_empty()) {
        entity["query"] =
            Value::String(base64::engine::general_purpose::STANDARD.encode(query.as_bytes()));
    }
    let mut details = vec![
        json!({ "type": "access-record", "valueString": stored.id.to_string() }),
        json!({ "type": "request-id", "valueString": record.request_id }),
    ];
    if let Some(traceparent) = &record.traceparent {
        details.push(json!({ "type": "traceparent", "valueString": traceparent }));
    }
    if let Some(claimed) = &record.claimed_tenant {
        details.push(json!({ "type": "organization-claimed", "valueString": claimed }));
    }
    entity["detail"] = Value::Array(details);
    entity
}

/// The patient of a stay, known here only by the stay's visit identifier.
fn patient_entity(visit: &str) -> Value {
    let (system, value) = visit.split_once('|').unwrap_or(("", visit));
    let mut identifier = json!({ "value": value });
    if !system.is_empty() {
        identifier["system"] = Value::String(system.to_owned());
    }
    json!({
        "what": { "identifier": identifier },
        "type": { "system": ENTITY_TYPE, "code": "1", "display": "Person" },
        "role": { "system": OBJECT_ROLE, "code": "1", "display": "Patient" },
    })
}

fn resource_entity(entity: &AccessEntity) -> Value {
    // A FHIR resource is named by reference; what is not one (an adapter's source,
    // `source/adt`) by its name only, so no reference points at a type that is none.
    let is_resource = entity
        .reference
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase());
    let what = match (is_resource, entity.version) {
        (true, Some(v)) => json!({ "reference": format!("{}/_history/{v}", entity.reference) }),
        (true, None) => json!({ "reference": entity.reference }),
        (false, _) => json!({ "display": entity.reference }),
    };
    let mut out = json!({
        "what": what,
        "type": { "system": ENTITY_TYPE, "code": "2", "display": "System Object" },
        "role": { "system": OBJECT_ROLE, "code": "4", "display": "Domain Resource" },
    });
    if entity.changed {
        out["description"] = Value::String("changed".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ohjaamo_store::AccessRecord;

    fn stored(interaction: &str, entities: Vec<AccessEntity>) -> StoredAccess {
        StoredAccess {
            id: 17,
            record: AccessRecord {
                recorded: 1_700_000_000_000_000,
                tenant: "1.2.246.10.1".into(),
                subject: Some("nurse-1".into()),
                client_id: Some("bed-board".into()),
                interaction: interaction.into(),
                method: "GET".into(),
                path: "/fhir/Encounter".into(),
                query: Some("status=in-progress".into()),
                request_id: "r1".into(),
                status: 200,
                entities,
                ..AccessRecord::default()
            },
        }
    }

    fn entity(reference: &str, visit: Option<&str>) -> AccessEntity {
        AccessEntity {
            reference: reference.into(),
            version: Some(2),
            visit: visit.map(str::to_owned),
            changed: false,
        }
    }

    #[test]
    fn a_query_touching_two_stays_is_one_event_per_stay_and_one_for_the_rest() {
        let events = audit_events(&stored(
            "search-type",
            vec![
                entity("Encounter/a", Some("urn:visit|1001")),
                entity("Encounter/b", Some("urn:visit|1002")),
                entity("Location/w1", None),
            ],
        ));
        let ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["17", "17-1", "17-2"]);
        assert_eq!(events[0]["meta"]["profile"][0], format!("{BALP}.Query"));
        assert_eq!(
            events[1]["meta"]["profile"][0],
            format!("{BALP}.PatientQuery")
        );
        assert_eq!(events[1]["action"], "E");
        // The stay's event carries its patient (the visit) and the stay, not the other.
        let whats: Vec<String> = events[2]["entity"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["what"].to_string())
            .collect();
        assert!(whats.iter().any(|w| w.contains("1002")));
        assert!(whats.iter().any(|w| w.contains("Encounter/b/_history/2")));
        assert!(
            !whats
                .iter()
                .any(|w| w.contains("Encounter/a") || w.contains("Location"))
        );
        // The query is carried base64-encoded.
        assert_eq!(events[0]["entity"][0]["query"], "c3RhdHVzPWluLXByb2dyZXNz");
    }

    #[test]
    fn refusals_are_failures_of_the_client_and_server_errors_serious() {
        let mut s = stored("read", vec![]);
        s.record.status = 403;
        assert_eq!(audit_events(&s)[0]["outcome"], "4");
        s.record.status = 503;
        assert_eq!(audit_events(&s)[0]["outcome"], "8");
    }

    #[test]
    fn every_shape_is_an_r4_audit_event() {
        let mut refused = stored(
            "search-type",
            vec![
                entity("Encounter/a", Some("urn:visit|1001")),
                entity("Slot/s", None),
            ],
        );
        refused.record.status = 403;
        refused.record.outcome = Some("the token's scopes do not allow this".into());
        refused.record.address = Some("10.0.0.7".into());
        refused.record.claimed_tenant = Some("1.2.246.10.9".into());
        refused.record.traceparent =
            Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into());
        refused.record.subject_name = Some("Hoitaja Yksi".into());
        refused.record.scopes = vec!["user/Slot.rs".into()];
        let mut anonymous = stored(
            "sources-write",
            vec![entity("Location/w1", None), entity("source/adt", None)],
        );
        anonymous.record.subject = None;
        anonymous.record.client_id = None;
        anonymous.record.query = None;
        for s in [refused, anonymous, stored("create", vec![])] {
            for event in audit_events(&s) {
                assert!(
                    !event.to_string().contains("\"reference\":\"source/"),
                    "{event}"
                );
                ohjaamo_fhir::check_r4_structure(event.clone())
                    .unwrap_or_else(|e| panic!("{e}: {event:#}"));
            }
        }
    }

    #[test]
    fn ids_name_their_record() {
        assert_eq!(record_number("17"), Some(17));
        assert_eq!(record_number("17-3"), Some(17));
        assert_eq!(record_number("x"), None);
        assert_eq!(record_number("0"), None);
    }
}
