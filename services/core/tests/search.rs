//! Every search parameter of every type in the registry, each kind in its forms:
//! tokens (`code`, `system|code`, `|code`, `system|`, `:not`), strings (starts-with
//! ignoring case and accents, `:exact`, `:contains`), references (id, `Type/id`,
//! `:Type`), dates (simple cases here; prefixes and daylight saving in
//! `search_dates.rs`), `_id`, and OR (`,`) / AND (repeats).
//!
//! `registry_is_fully_covered` fails when the registry gains a parameter that
//! [`CHECKS`] does not exercise.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::*;
use ohjaamo_core::search::registry;
use ohjaamo_fhir::ResourceType;
use serde_json::{Value, json};

const ORG_ID: &str = "urn:oid:1.2.246.537.6.202";
const ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
const SCT: &str = "http://snomed.info/sct";

fn coding(system: &str, code: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code }] })
}

fn ident(value: &str) -> Value {
    json!([{ "system": ID_SYSTEM, "value": value }])
}

/// A small hospital: organisations, locations down to beds, schedules and slots,
/// a device of each status, staff, services, appointments and encounters.
fn world() -> Vec<Value> {
    let mut site = location("site", "Keskussairaala", "si", None);
    site["type"] = json!([coding(ROLE_CODE, "HOSP")]);
    site["managingOrganization"] = json!({ "reference": "Organization/khks" });
    site["identifier"] = ident("LOC-SITE");
    let mut ward5 = location("ward-5", "Osasto 5", "wa", Some("site"));
    ward5["alias"] = json!(["Sisätautiosasto"]);
    ward5["type"] = json!([coding(ROLE_CODE, "ICU")]);
    ward5["managingOrganization"] = json!({ "reference": "Organization/khks" });
    let mut ward6 = location("ward-6", "Härmän osasto", "wa", Some("site"));
    ward6["status"] = json!("suspended");
    let room = location("room-1", "Huone 1", "ro", Some("ward-5"));
    let mut bed1 = location("bed-1", "Vuode 1", "bd", Some("room-1"));
    bed1["operationalStatus"] = json!({ "system": BED_STATUS, "code": "O" });
    let mut bed2 = location("bed-2", "Vuode 2", "bd", Some("ward-5"));
    bed2["operationalStatus"] = json!({ "system": BED_STATUS, "code": "U" });
    bed2["status"] = json!("inactive");
    // No physical type and no status at all: what :not finds besides the others.
    let virtual_loc =
        json!({ "resourceType": "Location", "id": "virtual", "name": "Etävastaanotto" });

    let mut sch_dev = schedule("sch-dev", "Device/dev-1");
    sch_dev["active"] = json!(false);
    let mut sch_bed = schedule("sch-bed", "Location/bed-1");
    sch_bed["serviceType"] = json!([coding(SCT, "bed")]);
    let mut sch_role = schedule("sch-role", "PractitionerRole/role-1");
    sch_role["serviceType"] = json!([coding(SCT, "surgery")]);
    let mut slot_free = slot(
        "slot-b",
        "sch-bed",
        "2026-05-04T12:00:00+03:00",
        "2026-05-04T13:00:00+03:00",
    );
    slot_free["status"] = json!("free");
    slot_free["identifier"] = ident("SLOT-B");

    vec![
        json!({ "resourceType": "Organization", "id": "hva", "identifier": [{ "system": ORG_ID, "value": "1001" }],
                "name": "Kanta-Hämeen hyvinvointialue", "alias": ["Oma Häme"] }),
        json!({ "resourceType": "Organization", "id": "khks", "identifier": [{ "system": ORG_ID, "value": "1002" }],
                "name": "Kanta-Hämeen keskussairaala", "partOf": { "reference": "Organization/hva" } }),
        site,
        ward5,
        ward6,
        room,
        bed1,
        bed2,
        virtual_loc,
        json!({ "resourceType": "Device", "id": "dev-1", "status": "active", "identifier": ident("DEV-1"),
                "type": coding(SCT, "706172005"), "location": { "reference": "Location/ward-5" } }),
        json!({ "resourceType": "Device", "id": "dev-2", "status": "inactive",
                "type": coding(SCT, "13288007"), "location": { "reference": "Location/room-1" } }),
        json!({ "resourceType": "Practitioner", "id": "prac-1", "identifier": ident("PRAC-1") }),
        json!({ "resourceType": "PractitionerRole", "id": "role-1", "identifier": ident("ROLE-1"),
                "practitioner": { "reference": "Practitioner/prac-1" },
                "organization": { "reference": "Organization/khks" },
                "location": [{ "reference": "Location/ward-5" }],
                "code": [coding("urn:oid:1.2.246.537.6.1060", "nurse")],
                "specialty": [coding(SCT, "anest")] }),
        json!({ "resourceType": "HealthcareService", "id": "hs-1", "identifier": ident("HS-1"),
                "location": [{ "reference": "Location/ward-5" }],
                "providedBy": { "reference": "Organization/khks" } }),
        sch_dev,
        sch_bed,
        sch_role,
        slot(
            "slot-a",
            "sch-bed",
            "2026-05-04T08:00:00+03:00",
            "2026-05-04T12:00:00+03:00",
        ),
        slot_free,
        slot(
            "slot-c",
            "sch-role",
            "2026-05-05T08:00:00+03:00",
            "2026-05-05T09:00:00+03:00",
        ),
        json!({ "resourceType": "Appointment", "id": "appt-1", "identifier": ident("APPT-1"), "status": "booked",
                "start": "2026-05-04T08:00:00+03:00", "end": "2026-05-04T12:00:00+03:00",
                "slot": [{ "reference": "Slot/slot-a" }],
                "participant": [
                    { "actor": { "reference": "Location/room-1" }, "status": "accepted" },
                    { "actor": { "reference": "PractitionerRole/role-1" }, "status": "accepted" },
                    { "actor": { "reference": "Patient/p-1" }, "status": "accepted" }
                ] }),
        json!({ "resourceType": "Appointment", "id": "appt-2", "status": "cancelled",
                "start": "2026-05-05T08:00:00+03:00", "end": "2026-05-05T09:00:00+03:00",
                "participant": [{ "actor": { "reference": "Location/ward-6" }, "status": "declined" }] }),
        json!({ "resourceType": "Encounter", "id": "enc-1", "identifier": ident("ENC-1"), "status": "in-progress",
                "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP" },
                "period": { "start": "2026-05-04T10:00:00+03:00" },
                "location": [{ "location": { "reference": "Location/bed-1" } }] }),
        json!({ "resourceType": "Encounter", "id": "enc-2", "status": "finished",
                "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP" },
                "period": { "start": "2026-05-01T10:00:00+03:00", "end": "2026-05-03T10:00:00+03:00" },
                "location": [{ "location": { "reference": "Location/ward-5" } },
                             { "location": { "reference": "Location/bed-2" } }] }),
        // A past report about the site (the core writes current ones about wards).
        json!({ "resourceType": "MeasureReport", "id": "mr-1", "identifier": ident("MR-1"),
                "status": "pending", "type": "summary", "measure": "https://ohjaamo.fi/fhir/Measure/ward-bed-capacity",
                "subject": { "reference": "Location/site" }, "date": "2020-05-04T10:00:00+03:00",
                "period": { "start": "2020-05-04T00:00:00+03:00", "end": "2020-05-05T00:00:00+03:00" } }),
    ]
}

/// `(type, query, expected ids)`: each query's matches, exactly.
const CHECKS: &[(&str, &str, &[&str])] = &[
    // identifier, on every type; OID spellings are normalised on both sides.
    (
        "Organization",
        "identifier=urn:oid:1.2.246.537.6.202|1001",
        &["hva"],
    ),
    (
        "Organization",
        "identifier=1.2.246.537.6.202|1002",
        &["khks"],
    ),
    ("Organization", "identifier=1001,1002", &["hva", "khks"]),
    ("Location", "identifier=LOC-SITE", &["site"]),
    (
        "Device",
        "identifier=urn:oid:1.2.246.10.1234567.10.1|DEV-1",
        &["dev-1"],
    ),
    ("Practitioner", "identifier=PRAC-1", &["prac-1"]),
    ("PractitionerRole", "identifier=ROLE-1", &["role-1"]),
    ("HealthcareService", "identifier=HS-1", &["hs-1"]),
    ("Slot", "identifier=SLOT-B", &["slot-b"]),
    ("Appointment", "identifier=APPT-1", &["appt-1"]),
    ("Encounter", "identifier=ENC-1", &["enc-1"]),
    ("Schedule", "identifier=nothing", &[]),
    ("MeasureReport", "identifier=MR-1", &["mr-1"]),
    ("MeasureReport", "subject=Location/site", &["mr-1"]),
    ("MeasureReport", "date=lt2021-01-01", &["mr-1"]),
    (
        "MeasureReport",
        "period=ge2020-05-04&period=lt2020-05-06",
        &["mr-1"],
    ),
    ("MeasureReport", "status=pending", &["mr-1"]),
    ("Location", "identifier=urn:oid:9.9.9|LOC-SITE", &[]),
    // _id
    ("Location", "_id=ward-5", &["ward-5"]),
    (
        "Location",
        "_id=ward-5,room-1,missing",
        &["ward-5", "room-1"],
    ),
    // Location
    ("Location", "partof=site", &["ward-5", "ward-6"]),
    ("Location", "partof=Location/ward-5", &["room-1", "bed-2"]),
    ("Location", "partof:Location=room-1", &["bed-1"]),
    (
        "Location",
        "partof=site,room-1",
        &["ward-5", "ward-6", "bed-1"],
    ),
    ("Location", "type=ICU", &["ward-5"]),
    (
        "Location",
        "type=http://terminology.hl7.org/CodeSystem/v3-RoleCode|HOSP",
        &["site"],
    ),
    (
        "Location",
        "type=http://terminology.hl7.org/CodeSystem/v3-RoleCode|",
        &["site", "ward-5"],
    ),
    ("Location", "organization=khks", &["site", "ward-5"]),
    (
        "Location",
        "organization=Organization/khks",
        &["site", "ward-5"],
    ),
    ("Location", "organization=hva", &[]),
    ("Location", "name=osasto", &["ward-5"]),
    ("Location", "name=OSASTO 5", &["ward-5"]),
    ("Location", "name=harma", &["ward-6"]),
    ("Location", "name=Härmä", &["ward-6"]),
    ("Location", "name=HÄRMÄN OSASTO", &["ward-6"]),
    ("Location", "name=sisatauti", &["ward-5"]), // an alias
    ("Location", "name=5", &[]),                 // starts with, not contains
    ("Location", "name=vuode", &["bed-1", "bed-2"]),
    ("Location", "name=osasto,huone", &["ward-5", "room-1"]),
    ("Location", "name:contains=osasto", &["ward-5", "ward-6"]),
    ("Location", "name:contains=OSA", &["ward-5", "ward-6"]),
    ("Location", "name:contains=rmän", &["ward-6"]),
    ("Location", "name:exact=Osasto 5", &["ward-5"]),
    ("Location", "name:exact=osasto 5", &[]),
    ("Location", "name:exact=Osasto", &[]),
    ("Location", "name:exact=Härmän osasto", &["ward-6"]),
    ("Location", "name:exact=Harman osasto", &[]),
    ("Location", "name=50%", &[]), // LIKE wildcards are literal
    ("Location", "name:contains=_", &[]),
    (
        "Location",
        "status=active",
        &["site", "ward-5", "room-1", "bed-1"],
    ),
    ("Location", "status=|suspended", &["ward-6"]),
    (
        "Location",
        "status=inactive,suspended",
        &["ward-6", "bed-2"],
    ),
    (
        "Location",
        "status=http://hl7.org/fhir/location-status|active",
        &[],
    ),
    (
        "Location",
        "status:not=active",
        &["ward-6", "bed-2", "virtual"],
    ),
    ("Location", "physical-type=bd", &["bed-1", "bed-2"]),
    (
        "Location",
        "physical-type=http://terminology.hl7.org/CodeSystem/location-physical-type|wa",
        &["ward-5", "ward-6"],
    ),
    ("Location", "physical-type=|wa", &[]),
    (
        "Location",
        "physical-type=http://terminology.hl7.org/CodeSystem/location-physical-type|",
        &["site", "ward-5", "ward-6", "room-1", "bed-1", "bed-2"],
    ),
    (
        "Location",
        "physical-type:not=bd",
        &["site", "ward-5", "ward-6", "room-1", "virtual"],
    ),
    (
        "Location",
        "physical-type:not=bd,wa",
        &["site", "room-1", "virtual"],
    ),
    ("Location", "physical-type=bd&status=active", &["bed-1"]),
    ("Location", "physical-type=bd&physical-type=wa", &[]),
    ("Location", "operational-status=O", &["bed-1"]),
    (
        "Location",
        "operational-status=http://terminology.hl7.org/CodeSystem/v2-0116|U",
        &["bed-2"],
    ),
    ("Location", "operational-status=O,U", &["bed-1", "bed-2"]),
    (
        "Location",
        "operational-status:not=O&physical-type=bd",
        &["bed-2"],
    ),
    // Schedule
    ("Schedule", "actor=Location/bed-1", &["sch-bed"]),
    ("Schedule", "actor=bed-1", &["sch-bed"]),
    ("Schedule", "actor=dev-1", &["sch-dev"]),
    ("Schedule", "actor:Device=dev-1", &["sch-dev"]),
    ("Schedule", "actor:Location=dev-1", &[]),
    (
        "Schedule",
        "actor=PractitionerRole/role-1,Location/bed-1",
        &["sch-role", "sch-bed"],
    ),
    ("Schedule", "active=true", &["sch-bed", "sch-role"]),
    ("Schedule", "active=false", &["sch-dev"]),
    ("Schedule", "service-type=surgery", &["sch-role"]),
    (
        "Schedule",
        "service-type=http://snomed.info/sct|bed",
        &["sch-bed"],
    ),
    ("Schedule", "service-type:not=bed", &["sch-dev", "sch-role"]),
    // Slot
    ("Slot", "schedule=sch-bed", &["slot-a", "slot-b"]),
    ("Slot", "schedule=Schedule/sch-role", &["slot-c"]),
    ("Slot", "schedule:Schedule=sch-role", &["slot-c"]),
    ("Slot", "status=free", &["slot-b"]),
    ("Slot", "status=busy,free", &["slot-a", "slot-b", "slot-c"]),
    ("Slot", "status:not=busy", &["slot-b"]),
    ("Slot", "start=2026-05-04", &["slot-a", "slot-b"]),
    (
        "Slot",
        "schedule=sch-bed&status=busy&start=ge2026-05-04T08:00",
        &["slot-a"],
    ),
    // Appointment
    ("Appointment", "slot=slot-a", &["appt-1"]),
    ("Appointment", "slot=Slot/slot-a", &["appt-1"]),
    ("Appointment", "actor=Location/room-1", &["appt-1"]),
    ("Appointment", "actor:PractitionerRole=role-1", &["appt-1"]),
    ("Appointment", "actor=ward-6", &["appt-2"]),
    ("Appointment", "actor=Patient/p-1", &[]), // not ours: not indexed
    ("Appointment", "date=2026-05-05", &["appt-2"]),
    ("Appointment", "date=ge2026-05-04", &["appt-1", "appt-2"]),
    ("Appointment", "status=booked", &["appt-1"]),
    ("Appointment", "status:not=booked", &["appt-2"]),
    // Encounter
    ("Encounter", "location=bed-1", &["enc-1"]),
    ("Encounter", "location=Location/ward-5", &["enc-2"]),
    ("Encounter", "location=bed-1,bed-2", &["enc-1", "enc-2"]),
    ("Encounter", "status=finished", &["enc-2"]),
    ("Encounter", "date=2026-05-02", &[]), // enc-2's stay covers more than that day
    ("Encounter", "date=ge2026-05-04", &["enc-1"]),
    ("Encounter", "date=le2026-05-02", &["enc-2"]),
    // Device
    ("Device", "location=ward-5", &["dev-1"]),
    ("Device", "location=Location/room-1", &["dev-2"]),
    ("Device", "type=706172005", &["dev-1"]),
    ("Device", "type=http://snomed.info/sct|13288007", &["dev-2"]),
    ("Device", "status=inactive", &["dev-2"]),
    ("Device", "status:not=inactive", &["dev-1"]),
    // PractitionerRole
    ("PractitionerRole", "location=ward-5", &["role-1"]),
    ("PractitionerRole", "location=room-1", &[]),
    ("PractitionerRole", "practitioner=prac-1", &["role-1"]),
    (
        "PractitionerRole",
        "practitioner=Practitioner/prac-1",
        &["role-1"],
    ),
    ("PractitionerRole", "organization=khks", &["role-1"]),
    ("PractitionerRole", "role=nurse", &["role-1"]),
    (
        "PractitionerRole",
        "role=urn:oid:1.2.246.537.6.1060|nurse",
        &["role-1"],
    ),
    ("PractitionerRole", "role=doctor", &[]),
    ("PractitionerRole", "specialty=anest", &["role-1"]),
    // HealthcareService
    ("HealthcareService", "location=ward-5", &["hs-1"]),
    (
        "HealthcareService",
        "organization=Organization/khks",
        &["hs-1"],
    ),
    ("HealthcareService", "organization=hva", &[]),
    // Organization
    ("Organization", "name=kanta-hameen", &["hva", "khks"]),
    ("Organization", "name=KANTA-HÄMEEN K", &["khks"]),
    ("Organization", "name=oma hame", &["hva"]), // an alias
    (
        "Organization",
        "name:exact=Kanta-Hämeen hyvinvointialue",
        &["hva"],
    ),
    ("Organization", "name:contains=sairaala", &["khks"]),
    ("Organization", "partof=hva", &["khks"]),
    ("Organization", "partof:Organization=khks", &[]),
];

fn parse_query(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.replace('+', "%2B").as_bytes())
        .into_owned()
        .collect()
}

both_backends!(every_parameter);
async fn every_parameter(h: &Harness) {
    h.seed(&world()).await;
    for (rtype, query, expected) in CHECKS {
        let params = parse_query(query);
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        h.assert_search(rtype, &params, expected).await;
    }
}

both_backends!(post_search_matches_get);
async fn post_search_matches_get(h: &Harness) {
    h.seed(&world()).await;
    let r = h
        .send(
            h.request(reqwest::Method::POST, "Location/_search?physical-type=bd")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("status=active"),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.text);
    assert_eq!(match_ids(&r.body), ["bed-1"]);
}

both_backends!(bad_search_values_are_400);
async fn bad_search_values_are_400(h: &Harness) {
    h.seed(&world()).await;
    for (rtype, query) in [
        ("Slot", "status:fuzzy=busy"),
        ("Location", "name:below=x"),
        ("Slot", "schedule:Location=x"),
        ("Slot", "schedule=not an id"),
        ("Slot", "start=2026-02-30"),
        ("Slot", "start=ap2026-02-01"),
        ("Slot", "start:exact=2026-02-01"),
        ("Slot", "status="),
        ("Slot", "schedule.actor=Location/bed-1"),
        ("Slot", "_id=a b"),
        ("Slot", "_count=-1"),
        ("Slot", "_count=lots"),
        ("Slot", "_offset=-5"),
        ("Slot", "_sort=colour"),
        ("Slot", "_sort=schedule"),
        ("Slot", "_include=Slot:nothing"),
        ("Slot", "_include=Schedule:actor:Slot"),
        ("Slot", "_total=maybe"),
        ("Slot", "_lastUpdated=yesterday"),
    ] {
        let r = h
            .get(&format!("{rtype}?{}", query.replace(' ', "%20")))
            .await;
        let msg = r.assert_outcome(reqwest::StatusCode::BAD_REQUEST);
        let name = query.split(['=', ':', '.']).next().unwrap();
        assert!(msg.contains(name), "{query}: {msg}");
    }
}

#[test]
fn registry_is_fully_covered() {
    let mut covered: BTreeSet<(String, String)> = BTreeSet::new();
    for (rtype, query, _) in CHECKS {
        for (name, _) in parse_query(query) {
            let name = name.split(':').next().unwrap().to_owned();
            covered.insert((rtype.to_string(), name));
        }
    }
    let mut missing = Vec::new();
    for rt in ResourceType::ALL {
        for p in registry::params(rt) {
            if !covered.contains(&(rt.as_str().to_owned(), p.name.to_owned())) {
                missing.push(format!("{rt}.{}", p.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "search parameters without a check: {missing:?}"
    );

    // Every modifier of every kind appears at least once.
    let modifiers: BTreeSet<&str> = CHECKS
        .iter()
        .flat_map(|(_, q, _)| q.split('&'))
        .filter_map(|p| p.split('=').next()?.split_once(':').map(|(_, m)| m))
        .collect();
    for m in [
        "not",
        "exact",
        "contains",
        "Location",
        "Device",
        "PractitionerRole",
        "Schedule",
    ] {
        assert!(modifiers.contains(m), ":{m} is not exercised");
    }
}
