//! `GET /fhir/AuditEvent` and `GET /fhir/AuditEvent/{id}`: the access log of the
//! organisation the request acts for, as BALP-shaped AuditEvents, for auditors only
//! (`system/ohjaamo.audit.read`). No other method exists on these paths: a record
//! cannot be changed or deleted through any API (405).
//!
//! Search parameters: `date` (prefixes eq, gt, ge, lt, le, sa, eb; repeatable),
//! `agent` (the token subject or client id), `entity` (`Type/id`), `entity-identifier`
//! (a stay's visit identifier, `system|value` or a bare value), `_count`, and the
//! `_before` cursor the `next` link carries. Newest first. Reading the log is itself
//! logged.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use ohjaamo_store::AccessFilter;

use super::bundle_out::{BundleOut, EntryOut, Link, SearchOut, raw};
use super::respond::json_response;
use super::search::query_pairs;
use crate::audit::audit_event::{audit_event_named, audit_events, record_number};
use crate::auth::scopes::Permission;
use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::context::Ctx;
use crate::search::fhir_time::{Prefix, parse_range};

/// Records per page unless `_count` says otherwise, and the most it may say.
const DEFAULT_COUNT: usize = 50;
const MAX_COUNT: usize = 1_000;

/// `GET /fhir/AuditEvent/{id}`.
pub async fn read(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    ctx.access.require_permission(Permission::AuditRead)?;
    let not_found = || ApiError::NotFound(format!("AuditEvent/{id} does not exist"));
    let number = record_number(&id).ok_or_else(not_found)?;
    let filter = AccessFilter {
        tenant: Some(ctx.tenant.clone()),
        after_id: Some(number - 1),
        oldest_first: true,
        limit: 1,
        ..AccessFilter::default()
    };
    let stored = state
        .store
        .access_records(&filter)
        .await?
        .into_iter()
        .find(|s| s.id == number)
        .ok_or_else(not_found)?;
    let event = audit_event_named(&stored, &id).ok_or_else(not_found)?;
    Ok(json_response(StatusCode::OK, event.to_string()))
}

/// `GET /fhir/AuditEvent?…`.
pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    ctx.access.require_permission(Permission::AuditRead)?;
    let params = query_pairs(query.as_deref().unwrap_or(""));
    let (mut filter, count) = filter_of(&params, &state)?;
    filter.tenant = Some(ctx.tenant.clone());
    filter.limit = count + 1;
    let mut records = state.store.access_records(&filter).await?;
    let has_next = records.len() > count;
    records.truncate(count);

    let mut bundle = BundleOut::new("searchset");
    let own: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "_before")
        .cloned()
        .collect();
    let link = |before: Option<i64>| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &own {
            url.append_pair(k, v);
        }
        if let Some(before) = before {
            url.append_pair("_before", &before.to_string());
        }
        format!("{}/AuditEvent?{}", ctx.base, url.finish())
    };
    bundle.link.push(Link {
        relation: "self",
        url: link(filter.after_id),
    });
    if has_next && let Some(last) = records.last() {
        bundle.link.push(Link {
            relation: "next",
            url: link(Some(last.id)),
        });
    }
    for stored in &records {
        for event in audit_events(stored) {
            let id = event["id"].as_str().unwrap_or_default().to_owned();
            bundle.entry.push(EntryOut {
                full_url: Some(format!("{}/AuditEvent/{id}", ctx.base)),
                resource: Some(raw(event.to_string())?),
                search: Some(SearchOut { mode: "match" }),
                ..EntryOut::default()
            });
        }
    }
    Ok(json_response(StatusCode::OK, bundle.to_json()?))
}

/// The filter and page size a query asks for; 400 for anything not understood (an
/// auditor must not get a wider answer than asked because a parameter was ignored).
fn filter_of(
    params: &[(String, String)],
    state: &AppState,
) -> Result<(AccessFilter, usize), ApiError> {
    let mut filter = AccessFilter::default();
    let mut count = DEFAULT_COUNT;
    let bad = |k: &str, why: &str| ApiError::BadRequest(format!("AuditEvent search: {k}: {why}"));
    for (k, v) in params {
        match k.as_str() {
            "date" => narrow_by_date(&mut filter, v, state).map_err(|why| bad(k, &why))?,
            "agent" => filter.agent = Some(v.clone()),
            "entity" => {
                filter.entity = Some(entity_reference(v).ok_or_else(|| bad(k, "expected Type/id"))?)
            }
            "entity-identifier" => filter.visit = Some(v.clone()),
            "_count" => {
                count = v
                    .parse::<usize>()
                    .map_err(|_| bad(k, "expected a whole number"))?
                    .clamp(1, MAX_COUNT);
            }
            "_before" => {
                filter.after_id = Some(v.parse().map_err(|_| bad(k, "expected a record number"))?);
            }
            "_format" => {}
            _ => {
                return Err(bad(
                    k,
                    "not a search parameter of AuditEvent here (date, agent, entity, \
                     entity-identifier, _count)",
                ));
            }
        }
    }
    Ok((filter, count))
}

/// `Type/id` of an entity value, also when given as an absolute URL.
fn entity_reference(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.trim_end_matches('/').rsplitn(3, '/').collect();
    match parts.as_slice() {
        [id, rtype, ..]
            if !id.is_empty() && rtype.chars().next().is_some_and(char::is_uppercase) =>
        {
            Some(format!("{rtype}/{id}"))
        }
        _ => None,
    }
}

/// Narrows the time window by one `date` value: `recorded` is an instant, so each
/// prefix is a bound on it.
fn narrow_by_date(filter: &mut AccessFilter, value: &str, state: &AppState) -> Result<(), String> {
    let (prefix, date) = Prefix::split(value).map_err(|e| e.0)?;
    let range = parse_range(date, &state.config.time_zone).map_err(|e| e.0)?;
    let (from, until) = match prefix {
        Prefix::Eq => (Some(range.lo), Some(range.hi)),
        Prefix::Ge => (Some(range.lo), None),
        Prefix::Gt | Prefix::Sa => (Some(range.hi), None),
        Prefix::Le => (None, Some(range.hi)),
        Prefix::Lt | Prefix::Eb => (None, Some(range.lo)),
        Prefix::Ne => return Err("the prefix ne is not supported here".into()),
    };
    if let Some(from) = from {
        filter.from = Some(filter.from.map_or(from, |f| f.max(from)));
    }
    if let Some(until) = until {
        filter.until = Some(filter.until.map_or(until, |u| u.min(until)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::entity_reference;

    #[test]
    fn entities_are_named_by_type_and_id() {
        assert_eq!(
            entity_reference("Encounter/e1").as_deref(),
            Some("Encounter/e1")
        );
        assert_eq!(
            entity_reference("https://x.example/fhir/Slot/s-1").as_deref(),
            Some("Slot/s-1")
        );
        assert_eq!(entity_reference("e1"), None);
        assert_eq!(entity_reference("encounter/e1"), None);
    }
}
