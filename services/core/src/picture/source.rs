//! Where the picture's inputs come from: the current resources in the store (the
//! deriver), or every resource as it was at a past instant (`GET /picture?at=`).
//!
//! The gatherers of every kind ask the same few questions — these resources by id,
//! those referring to these, those with this code — so one implementation of each
//! kind serves both, and a picture as of 03:00 last night is computed exactly as the
//! live one was.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{Store, StoreError};
use serde_json::Value;

use crate::search::extract::values_at;
use crate::search::json::{instant, parse};
use crate::search::references::parse_reference;
use crate::search::registry;

/// The types the pictures are computed from.
const PICTURE_TYPES: [&str; 6] = [
    "Location",
    "Schedule",
    "Slot",
    "Device",
    "PractitionerRole",
    "Appointment",
];

pub enum Resources<'a> {
    /// The organisation's current resources.
    Current { store: &'a Store, tenant: &'a str },
    /// The organisation's resources as they were at some instant.
    AsOf(&'a Snapshot),
}

/// Every resource of the picture types as it was at an instant, by type and id.
pub struct Snapshot {
    by_type: HashMap<&'static str, HashMap<String, Value>>,
}

impl Snapshot {
    /// Reads each picture type's versions as of `at` (microseconds). Costs what the
    /// types' history holds up to then: for after-the-fact questions.
    pub async fn read(store: &Store, tenant: &str, at: i64) -> Result<Snapshot, StoreError> {
        let mut by_type = HashMap::new();
        for rtype in PICTURE_TYPES {
            let resources = store
                .versions_as_of(tenant, rtype, at)
                .await?
                .into_iter()
                .filter_map(|v| Some((v.id, parse(&v.content)?)))
                .collect();
            by_type.insert(rtype, resources);
        }
        Ok(Snapshot { by_type })
    }

    fn of_type(&self, rtype: &str) -> impl Iterator<Item = (&String, &Value)> {
        self.by_type.get(rtype).into_iter().flatten()
    }
}

impl Resources<'_> {
    /// The resources of `rtype` among `ids` that exist, with their ids.
    pub async fn read_many(
        &self,
        rtype: &str,
        ids: &[String],
    ) -> Result<Vec<(String, Value)>, StoreError> {
        match self {
            Resources::Current { store, tenant } => Ok(store
                .read_many(tenant, rtype, ids)
                .await?
                .into_iter()
                .filter_map(|v| Some((v.id, parse(&v.content)?)))
                .collect()),
            Resources::AsOf(snapshot) => {
                let Some(all) = snapshot.by_type.get(rtype) else {
                    return Ok(Vec::new());
                };
                Ok(ids
                    .iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .filter_map(|id| Some((id.clone(), all.get(id)?.clone())))
                    .collect())
            }
        }
    }

    /// `(id, target id)` of the `rtype` resources whose reference parameter `param`
    /// points at one of `targets` (of `target_type`), sorted.
    pub async fn referring_many(
        &self,
        rtype: &str,
        param: &str,
        target_type: &str,
        targets: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        match self {
            Resources::Current { store, tenant } => {
                store
                    .referring_many(tenant, rtype, param, target_type, targets)
                    .await
            }
            Resources::AsOf(snapshot) => {
                let wanted: BTreeSet<&str> = targets.iter().map(String::as_str).collect();
                let mut out: Vec<(String, String)> = snapshot
                    .of_type(rtype)
                    .flat_map(|(id, resource)| {
                        param_references(rtype, param, resource)
                            .into_iter()
                            .filter(|(t, target)| {
                                t == target_type && wanted.contains(target.as_str())
                            })
                            .map(move |(_, target)| (id.clone(), target))
                    })
                    .collect();
                out.sort();
                out.dedup();
                Ok(out)
            }
        }
    }

    /// [`Resources::referring_many`] of the resources whose date parameter
    /// `date_param` (an instant or a period) overlaps `during`.
    pub async fn referring_many_during(
        &self,
        (rtype, param, target_type): (&str, &str, &str),
        targets: &[String],
        date_param: &str,
        during: (Timestamp, Timestamp),
    ) -> Result<Vec<(String, String)>, StoreError> {
        match self {
            Resources::Current { store, tenant } => {
                let micros = (during.0.as_microsecond(), during.1.as_microsecond());
                store
                    .referring_many_during(
                        tenant,
                        rtype,
                        param,
                        target_type,
                        targets,
                        date_param,
                        micros,
                    )
                    .await
            }
            Resources::AsOf(snapshot) => {
                let links = self
                    .referring_many(rtype, param, target_type, targets)
                    .await?;
                let within = |id: &str| {
                    snapshot
                        .by_type
                        .get(rtype)
                        .and_then(|all| all.get(id))
                        .is_some_and(|r| {
                            param_values(rtype, date_param, r).iter().any(|v| {
                                let (lo, hi) = match v {
                                    Value::String(_) => (instant(v), instant(v)),
                                    _ => (instant(&v["start"]), instant(&v["end"])),
                                };
                                lo.is_none_or(|lo| lo <= during.1)
                                    && hi.is_none_or(|hi| hi >= during.0)
                            })
                        })
                };
                Ok(links.into_iter().filter(|(id, _)| within(id)).collect())
            }
        }
    }

    /// The ids of the Slots on `schedules` (Schedule ids) that may overlap `during`:
    /// from the scoped index rows of the Slots that start by its end and last past its
    /// start, not every Slot the Schedules ever had. A superset: a caller that needs
    /// the exact overlap checks each Slot's times.
    pub async fn slots_during(
        &self,
        schedules: &[String],
        during: (Timestamp, Timestamp),
    ) -> Result<Vec<String>, StoreError> {
        match self {
            Resources::Current { store, tenant } => {
                // A Slot's `start` row is scoped by its Schedule (composite.rs).
                let scopes: Vec<String> = schedules
                    .iter()
                    .map(|id| crate::search::composite::scope("Schedule", id))
                    .collect();
                let micros = (during.0.as_microsecond(), during.1.as_microsecond());
                store
                    .scoped_during(tenant, ("Slot", "start"), &scopes, micros)
                    .await
            }
            Resources::AsOf(_) => Ok(self
                .referring_many("Slot", "schedule", "Schedule", schedules)
                .await?
                .into_iter()
                .map(|(slot, _)| slot)
                .collect()),
        }
    }

    /// The ids of the `rtype` resources whose token parameter `param` holds `code`
    /// (any system), sorted.
    pub async fn ids_by_token(
        &self,
        rtype: &str,
        param: &str,
        code: &str,
    ) -> Result<Vec<String>, StoreError> {
        match self {
            Resources::Current { store, tenant } => {
                store.ids_by_token(tenant, rtype, param, None, code).await
            }
            Resources::AsOf(snapshot) => {
                let mut out: Vec<String> = snapshot
                    .of_type(rtype)
                    .filter(|(_, resource)| {
                        param_codes(rtype, param, resource)
                            .iter()
                            .any(|c| c == code)
                    })
                    .map(|(id, _)| id.clone())
                    .collect();
                out.sort();
                Ok(out)
            }
        }
    }

    /// Every `target_type` id that `rtype` resources' reference parameter `param`
    /// points at, sorted.
    pub async fn reference_targets(
        &self,
        rtype: &str,
        param: &str,
        target_type: &str,
    ) -> Result<Vec<String>, StoreError> {
        match self {
            Resources::Current { store, tenant } => {
                store
                    .reference_targets(tenant, rtype, param, target_type)
                    .await
            }
            Resources::AsOf(snapshot) => {
                let targets: BTreeSet<String> = snapshot
                    .of_type(rtype)
                    .flat_map(|(_, resource)| param_references(rtype, param, resource))
                    .filter(|(t, _)| t == target_type)
                    .map(|(_, id)| id)
                    .collect();
                Ok(targets.into_iter().collect())
            }
        }
    }
}

/// The values of `rtype`'s search parameter `param` in `resource`, at the paths the
/// registry declares for it (what the store indexes).
fn param_values<'a>(rtype: &str, param: &str, resource: &'a Value) -> Vec<&'a Value> {
    let mut values = Vec::new();
    let Some(param) = rtype
        .parse::<ResourceType>()
        .ok()
        .and_then(|t| registry::param(t, param))
    else {
        return values;
    };
    for path in param.paths {
        values_at(resource, path, &mut values);
    }
    values
}

/// `(type, id)` of each local reference of parameter `param`.
fn param_references(rtype: &str, param: &str, resource: &Value) -> Vec<(String, String)> {
    param_values(rtype, param, resource)
        .into_iter()
        .filter_map(|v| v["reference"].as_str())
        .filter_map(|text| parse_reference(text).ok().flatten())
        .map(|r| (r.rtype, r.id))
        .collect()
}

/// The codes of token parameter `param` (of Codings, CodeableConcepts or codes).
fn param_codes(rtype: &str, param: &str, resource: &Value) -> Vec<String> {
    let mut codes = Vec::new();
    for value in param_values(rtype, param, resource) {
        match value {
            Value::String(code) => codes.push(code.clone()),
            _ => {
                codes.extend(value["code"].as_str().map(str::to_owned));
                for coding in value["coding"].as_array().into_iter().flatten() {
                    codes.extend(coding["code"].as_str().map(str::to_owned));
                }
            }
        }
    }
    codes
}
