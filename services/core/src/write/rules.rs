//! Business rules a structurally valid resource must still meet (422 when broken):
//! a Slot ends after it starts; references to the resources the capacity picture is
//! built from resolve; a `partOf` chain has no cycle; a bed sits in a ward or room.

use std::collections::{HashMap, HashSet};

use jiff::tz::TimeZone;
use ohjaamo_fhir::ResourceType;
use ohjaamo_store::Store;
use serde_json::Value;

use crate::base::error::ApiError;
use crate::search::extract::values_at;
use crate::search::fhir_time::parse_range;
use crate::write::ingest::Prepared;

/// Reference targets that must exist: the picture cannot place a Slot on a Schedule,
/// or a bed in a ward, that is not there.
const MUST_RESOLVE: [ResourceType; 4] = [
    ResourceType::Schedule,
    ResourceType::Location,
    ResourceType::Device,
    ResourceType::PractitionerRole,
];

/// Physical types (v2 location-physical-type) a bed may be part of.
const BED_PARENTS: [&str; 2] = ["wa", "ro"];

/// Longest `partOf` chain followed before giving up (site → building → ward → room
/// → bed is five).
const MAX_PARTOF_DEPTH: usize = 32;

/// Checks every resource of one request. `pending` are all resources the request
/// writes (they count as existing); the result is per resource, in order.
pub async fn check(
    store: &Store,
    tenant: &str,
    items: &[&Prepared],
    tz: &TimeZone,
) -> Result<Vec<Result<(), ApiError>>, ApiError> {
    // A resource refused here does not count as existing for the others: check
    // again without it until no new refusal appears (a chain of n refusals takes
    // n + 1 rounds; a request without refusals takes one).
    let mut results: Vec<Result<(), ApiError>> = items.iter().map(|_| Ok(())).collect();
    loop {
        let standing: Vec<&Prepared> = items
            .iter()
            .zip(&results)
            .filter(|(_, r)| r.is_ok())
            .map(|(p, _)| *p)
            .collect();
        let round = check_round(store, tenant, &standing, tz).await?;
        let mut verdicts = round.into_iter();
        let mut refused_more = false;
        for result in results.iter_mut().filter(|r| r.is_ok()) {
            if let Some(verdict @ Err(_)) = verdicts.next() {
                *result = verdict;
                refused_more = true;
            }
        }
        if !refused_more {
            return Ok(results);
        }
    }
}

/// One round of [`check`], with `items` all counting as existing.
async fn check_round(
    store: &Store,
    tenant: &str,
    items: &[&Prepared],
    tz: &TimeZone,
) -> Result<Vec<Result<(), ApiError>>, ApiError> {
    let pending: HashMap<(&str, &str), &Prepared> = items
        .iter()
        .map(|p| ((p.rtype.as_str(), p.id.as_str()), *p))
        .collect();

    // Which referenced resources exist in the store, in one query per type.
    let mut wanted: HashMap<&str, HashSet<String>> = HashMap::new();
    for p in items {
        for r in &p.references {
            let must = MUST_RESOLVE.iter().any(|t| t.as_str() == r.target.rtype);
            if must && !pending.contains_key(&(r.target.rtype.as_str(), r.target.id.as_str())) {
                wanted
                    .entry(r.target.rtype.as_str())
                    .or_default()
                    .insert(r.target.id.clone());
            }
        }
    }
    let mut existing: HashSet<(String, String)> = HashSet::new();
    for (rtype, ids) in wanted {
        let ids: Vec<String> = ids.into_iter().collect();
        for id in store.existing_ids(tenant, rtype, &ids).await? {
            existing.insert((rtype.to_owned(), id));
        }
    }

    let mut results = Vec::with_capacity(items.len());
    for p in items {
        let mut result = slot_times(p, tz);
        if result.is_ok() {
            result = references_resolve(p, &pending, &existing);
        }
        if result.is_ok() && p.rtype == ResourceType::Location {
            result = location_hierarchy(store, tenant, p, &pending).await;
        }
        results.push(result);
    }
    Ok(results)
}

/// Slot.end after Slot.start (both required); an Appointment, whose times are
/// optional while it is proposed, ends after it starts when it has both (R4 app-2/3
/// leave the order to the server; a booking ending before it begins is nonsense to
/// every display that draws it).
fn slot_times(p: &Prepared, tz: &TimeZone) -> Result<(), ApiError> {
    let kind = match p.rtype {
        ResourceType::Slot => "Slot",
        ResourceType::Appointment => "Appointment",
        _ => return Ok(()),
    };
    let json = p.json();
    let (Some(start), Some(end)) = (
        json.get("start").and_then(Value::as_str),
        json.get("end").and_then(Value::as_str),
    ) else {
        if p.rtype == ResourceType::Appointment {
            return Ok(());
        }
        return Err(ApiError::Unprocessable(
            "Slot.start and Slot.end are both required".into(),
        ));
    };
    let parse = |element: &str, value: &str| {
        parse_range(value, tz).map_err(|e| ApiError::BadRequest(format!("{element}: {e}")))
    };
    let (s, e) = (
        parse(&format!("{kind}.start"), start)?,
        parse(&format!("{kind}.end"), end)?,
    );
    if e.lo <= s.lo {
        return Err(ApiError::Unprocessable(format!(
            "{kind}.end ({end}) must be after {kind}.start ({start})"
        )));
    }
    Ok(())
}

fn references_resolve(
    p: &Prepared,
    pending: &HashMap<(&str, &str), &Prepared>,
    existing: &HashSet<(String, String)>,
) -> Result<(), ApiError> {
    for r in &p.references {
        let t = &r.target;
        let must = MUST_RESOLVE.iter().any(|m| m.as_str() == t.rtype);
        let found = pending.contains_key(&(t.rtype.as_str(), t.id.as_str()))
            || existing.contains(&(t.rtype.clone(), t.id.clone()));
        if must && !found {
            return Err(ApiError::Unprocessable(format!(
                "{}: {t} does not exist",
                r.element
            )));
        }
    }
    Ok(())
}

/// The `partOf` parent of a Location and its physical type, from the request if it
/// writes that Location, else from the store.
async fn parent_of(
    store: &Store,
    tenant: &str,
    id: &str,
    pending: &HashMap<(&str, &str), &Prepared>,
) -> Result<Option<String>, ApiError> {
    if let Some(p) = pending.get(&("Location", id)) {
        return Ok(p
            .references
            .iter()
            .find(|r| r.element == "Location.partOf")
            .map(|r| r.target.id.clone()));
    }
    let refs = store
        .references_from(tenant, "Location", &[id.to_owned()], "partof")
        .await?;
    Ok(refs.into_iter().next().map(|(_, _, target)| target))
}

async fn physical_types(
    store: &Store,
    tenant: &str,
    id: &str,
    pending: &HashMap<(&str, &str), &Prepared>,
) -> Result<Vec<String>, ApiError> {
    if let Some(p) = pending.get(&("Location", id)) {
        return Ok(codes_of(p.json(), &["physicalType", "coding", "code"]));
    }
    let tokens = store
        .tokens_of(tenant, "Location", id, "physical-type")
        .await?;
    Ok(tokens.into_iter().map(|(_, code)| code).collect())
}

fn codes_of(json: &Value, path: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    values_at(json, path, &mut values);
    values
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

async fn location_hierarchy(
    store: &Store,
    tenant: &str,
    p: &Prepared,
    pending: &HashMap<(&str, &str), &Prepared>,
) -> Result<(), ApiError> {
    let parent = parent_of(store, tenant, &p.id, pending).await?;

    let is_bed = codes_of(p.json(), &["physicalType", "coding", "code"])
        .iter()
        .any(|c| c == "bd");
    if is_bed {
        let Some(parent) = &parent else {
            return Err(ApiError::Unprocessable(
                "Location.partOf: a bed (physicalType bd) must be part of a ward (wa) or room (ro)"
                    .into(),
            ));
        };
        let types = physical_types(store, tenant, parent, pending).await?;
        if !types.iter().any(|t| BED_PARENTS.contains(&t.as_str())) {
            return Err(ApiError::Unprocessable(format!(
                "Location.partOf: a bed (physicalType bd) must be part of a ward (wa) or room (ro), \
                 but Location/{parent} has physical type {}",
                if types.is_empty() {
                    "none".to_owned()
                } else {
                    types.join(", ")
                }
            )));
        }
    }

    let mut seen = HashSet::from([p.id.clone()]);
    let mut next = parent;
    for _ in 0..MAX_PARTOF_DEPTH {
        let Some(current) = next else {
            return Ok(());
        };
        if !seen.insert(current.clone()) {
            return Err(ApiError::Unprocessable(format!(
                "Location.partOf: Location/{} would be part of itself (a cycle through Location/{current})",
                p.id
            )));
        }
        next = parent_of(store, tenant, &current, pending).await?;
    }
    Err(ApiError::Unprocessable(format!(
        "Location.partOf: the chain above Location/{} is deeper than {MAX_PARTOF_DEPTH} levels",
        p.id
    )))
}
