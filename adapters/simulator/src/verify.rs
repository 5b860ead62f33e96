//! Compares a core with the simulator's `/truth` (feature `verify`, for tests).
//!
//! What is compared is what the adapters promise: every unit, bed place, device, shift
//! and operation of the export is in the core once, with its state; every stay the
//! ADT feed told of is one Encounter with the stay's status, places in order and
//! planned discharge; and each open stay's bed shows busy now.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;

/// Reads FHIR resources from the core as one organisation.
pub struct CoreReader {
    http: reqwest::Client,
    base: String,
    tenant: String,
    root: String,
}

impl CoreReader {
    pub fn new(base: &str, tenant: &str, source_oid_root: &str) -> CoreReader {
        CoreReader {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            tenant: tenant.to_owned(),
            root: source_oid_root.to_owned(),
        }
    }

    /// Every current resource of `rtype`, following `next` links.
    pub async fn all(&self, rtype: &str) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        let mut url = format!("{}/{rtype}?_count=1000", self.base);
        loop {
            let bundle: Value = self
                .http
                .get(&url)
                .header("x-ohjaamo-organization", &self.tenant)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            for entry in bundle["entry"].as_array().into_iter().flatten() {
                out.push(entry["resource"].clone());
            }
            let next = bundle["link"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|l| l["relation"] == "next")
                .and_then(|l| l["url"].as_str());
            match next {
                Some(n) => url = n.to_owned(),
                None => return Ok(out),
            }
        }
    }

    /// Resources of `rtype` by the source key under arc `arc`; a key found twice is a
    /// duplicate and reported.
    async fn by_key(
        &self,
        rtype: &str,
        arc: u32,
        problems: &mut Vec<String>,
    ) -> Result<BTreeMap<String, Value>, String> {
        let system = format!("urn:oid:{}.{arc}", self.root);
        let mut out = BTreeMap::new();
        for resource in self.all(rtype).await? {
            for identifier in resource["identifier"].as_array().into_iter().flatten() {
                if identifier["system"] == system.as_str() {
                    let key = identifier["value"].as_str().unwrap_or_default().to_owned();
                    if out.insert(key.clone(), resource.clone()).is_some() {
                        problems.push(format!("{rtype} {key} is in the core twice"));
                    }
                }
            }
        }
        Ok(out)
    }
}

fn same_instant(a: &str, b: &str) -> bool {
    match (a.parse::<Timestamp>(), b.parse::<Timestamp>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn rows<'a>(truth: &'a Value, table: &str) -> impl Iterator<Item = &'a Value> {
    truth[table].as_array().into_iter().flatten()
}

fn key(row: &Value) -> &str {
    row["koodi"].as_str().unwrap_or_default()
}

/// What to compare: the export's records always, the ADT feed's stays when it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Export,
    ExportAndStays,
}

/// Every difference between the truth and the core, as text; empty when they agree.
pub async fn differences(
    core: &CoreReader,
    truth: &Value,
    scope: Scope,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let units = core.by_key("Location", 2, &mut problems).await?;
    for unit in rows(truth, "yksikot") {
        if !units.contains_key(key(unit)) {
            problems.push(format!("unit {} missing", key(unit)));
        }
    }
    let beds = core.by_key("Location", 4, &mut problems).await?;
    for bed in rows(truth, "vuodepaikat") {
        match beds.get(key(bed)) {
            None => problems.push(format!("bed place {} missing", key(bed))),
            Some(l) => {
                let closed = l["operationalStatus"]["code"] == "C";
                if closed != (bed["suljettu"] == true) || l["status"] != "active" {
                    problems.push(format!(
                        "bed place {}: {} closed={closed} in the core, closed={} in the truth",
                        key(bed),
                        l["status"],
                        bed["suljettu"]
                    ));
                }
            }
        }
    }
    let devices = core.by_key("Device", 5, &mut problems).await?;
    let live_devices: Vec<&str> = rows(truth, "laitteet").map(key).collect();
    for (k, device) in &devices {
        let live = live_devices.contains(&k.as_str());
        if (device["status"] == "active") != live {
            problems.push(format!(
                "device {k}: {} in the core, live={live} in the truth",
                device["status"]
            ));
        }
    }
    for k in &live_devices {
        if !devices.contains_key(*k) {
            problems.push(format!("device {k} missing"));
        }
    }
    let roles = core.by_key("PractitionerRole", 6, &mut problems).await?;
    let live_shifts: Vec<&str> = rows(truth, "tyovuorot").map(key).collect();
    for (k, role) in &roles {
        let live = live_shifts.contains(&k.as_str());
        if role["active"] != live {
            problems.push(format!(
                "shift {k}: active={} in the core, live={live} in the truth",
                role["active"]
            ));
        }
    }
    for k in &live_shifts {
        if !roles.contains_key(*k) {
            problems.push(format!("shift {k} missing"));
        }
    }
    let appointments = core.by_key("Appointment", 7, &mut problems).await?;
    for op in rows(truth, "leikkaukset") {
        let expected = match op["tila"].as_str() {
            Some("varattu") => "booked",
            Some("kaynnissa") => "arrived",
            Some("valmis") => "fulfilled",
            _ => "cancelled",
        };
        match appointments.get(key(op)) {
            None => problems.push(format!("operation {} missing", key(op))),
            Some(a) if a["status"] != expected => {
                problems.push(format!(
                    "operation {}: {} in the core, {expected} in the truth",
                    key(op),
                    a["status"]
                ));
            }
            Some(_) => {}
        }
    }
    let windows = core.by_key("Slot", 10, &mut problems).await?;
    for window in rows(truth, "vastaanottoajat") {
        let expected = if window["tila"] == "varattu" {
            "busy"
        } else {
            "free"
        };
        match windows.get(key(window)) {
            None => problems.push(format!("clinic window {} missing", key(window))),
            Some(slot) if slot["status"] != expected => {
                problems.push(format!(
                    "clinic window {}: {} in the core, {expected} in the truth",
                    key(window),
                    slot["status"]
                ));
            }
            Some(_) => {}
        }
    }
    if scope == Scope::ExportAndStays {
        stays(core, truth, &beds, &mut problems).await?;
    }
    Ok(problems)
}

async fn stays(
    core: &CoreReader,
    truth: &Value,
    beds: &BTreeMap<String, Value>,
    problems: &mut Vec<String>,
) -> Result<(), String> {
    let encounters = core.by_key("Encounter", 8, problems).await?;
    let slots = core.all("Slot").await?;
    let schedules = core.all("Schedule").await?;
    let now = truth["aika"]
        .as_str()
        .and_then(|t| t.parse::<Timestamp>().ok());
    for stay in truth["hoitojaksot"].as_array().into_iter().flatten() {
        let visit = stay["kaynti"].as_str().unwrap_or_default();
        let Some(encounter) = encounters.get(visit) else {
            problems.push(format!("stay {visit} missing"));
            continue;
        };
        let expected = match stay["tila"].as_str() {
            Some("osastolla") => "in-progress",
            Some("kotiutettu") => "finished",
            _ => "entered-in-error",
        };
        if encounter["status"] != expected {
            problems.push(format!(
                "stay {visit}: {} in the core, {expected} in the truth",
                encounter["status"]
            ));
            continue;
        }
        if expected == "entered-in-error" {
            continue;
        }
        let places = encounter["location"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let truth_places = stay["paikat"].as_array().cloned().unwrap_or_default();
        let core_beds: Vec<&str> = places
            .iter()
            .map(|p| p["location"]["identifier"]["value"].as_str().unwrap_or("?"))
            .collect();
        let truth_beds: Vec<&str> = truth_places
            .iter()
            .map(|p| p["paikka"].as_str().unwrap_or("?"))
            .collect();
        if core_beds != truth_beds {
            problems.push(format!(
                "stay {visit}: places {core_beds:?} in the core, {truth_beds:?} in the truth"
            ));
            continue;
        }
        for (p, t) in places.iter().zip(&truth_places) {
            let start_ok = same_instant(
                p["period"]["start"].as_str().unwrap_or(""),
                t["alkaa"].as_str().unwrap_or("-"),
            );
            let end_ok = match (p["period"]["end"].as_str(), t["paattyy"].as_str()) {
                (None, None) => true,
                (Some(a), Some(b)) => same_instant(a, b),
                _ => false,
            };
            if !start_ok || !end_ok {
                problems.push(format!(
                    "stay {visit}: the period of {} differs: {} vs {t}",
                    t["paikka"], p["period"]
                ));
            }
        }
        let planned = encounter["extension"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| {
                e["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("plannedEndDate"))
            })
            .and_then(|e| e["valueDateTime"].as_str());
        if planned != stay["suunniteltu_lahto"].as_str() {
            problems.push(format!(
                "stay {visit}: planned discharge {planned:?} in the core, {} in the truth",
                stay["suunniteltu_lahto"]
            ));
        }
        // The open stay's bed is busy now on its Schedule.
        if let (Some(now), "in-progress") = (now, expected) {
            let bed = stay["paikka"].as_str().unwrap_or_default();
            let Some(location_id) = beds.get(bed).and_then(|l| l["id"].as_str()) else {
                continue;
            };
            let actor = format!("Location/{location_id}");
            let Some(schedule) = schedules
                .iter()
                .find(|s| {
                    s["actor"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|a| a["reference"] == actor.as_str())
                })
                .and_then(|s| s["id"].as_str())
            else {
                problems.push(format!("bed {bed} has no Schedule"));
                continue;
            };
            let reference = format!("Schedule/{schedule}");
            let busy = slots.iter().any(|s| {
                s["schedule"]["reference"] == reference.as_str()
                    && s["status"] == "busy"
                    && s["start"]
                        .as_str()
                        .and_then(|t| t.parse::<Timestamp>().ok())
                        .is_some_and(|t| t <= now)
                    && s["end"]
                        .as_str()
                        .and_then(|t| t.parse::<Timestamp>().ok())
                        .is_some_and(|t| t > now)
            });
            if !busy {
                problems.push(format!(
                    "bed {bed} of stay {visit} is not busy now in the core"
                ));
            }
        }
    }
    let told: usize = truth["hoitojaksot"].as_array().map_or(0, Vec::len);
    if encounters.len() != told {
        problems.push(format!(
            "{} stays in the core, {told} in the truth",
            encounters.len()
        ));
    }
    Ok(())
}
