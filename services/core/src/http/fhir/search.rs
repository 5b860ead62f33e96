//! Search: `GET /fhir/{type}?…` and `POST /fhir/{type}/_search`, answered with a
//! searchset Bundle with paging links, `_include`d resources and, under lenient
//! handling, a warning listing the parameters that were ignored.

use std::collections::{BTreeMap, HashSet};

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use ohjaamo_fhir::ResourceType;
use url::form_urlencoded;

use super::bundle_out::{BundleOut, EntryOut, Link, SearchOut, raw};
use super::respond::{json_response, path_type};
use crate::audit::note;
use crate::auth::scopes::Interaction;
use crate::base::error::{ApiError, operation_outcome};
use crate::base::state::AppState;
use crate::http::context::Ctx;
use crate::search::query::parse;

pub async fn search_get(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(rtype): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let rtype = path_type(&rtype)?;
    let params = query_pairs(query.as_deref().unwrap_or(""));
    let body = search_bundle(&state, &ctx, rtype, &params).await?;
    Ok(json_response(StatusCode::OK, body))
}

/// `POST /fhir/{type}/_search` with an `application/x-www-form-urlencoded` body
/// (and possibly a query string too): the same search.
pub async fn search_post(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(rtype): Path<String>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let rtype = path_type(&rtype)?;
    let mut params = query_pairs(query.as_deref().unwrap_or(""));
    params.extend(form_urlencoded::parse(&body).into_owned());
    let body = search_bundle(&state, &ctx, rtype, &params).await?;
    Ok(json_response(StatusCode::OK, body))
}

/// Whether resources of `target_type` may be returned as `_include`s: when the token
/// may read or search that type (either would show it the same resources).
fn may_include(ctx: &Ctx, target_type: &str) -> bool {
    target_type.parse::<ResourceType>().is_ok_and(|rt| {
        ctx.access.allows(rt, Interaction::Read) || ctx.access.allows(rt, Interaction::Search)
    })
}

pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Runs a search and returns the searchset Bundle's JSON text. `_include`d
/// resources of a type the token may not read are left out (a warning says so).
pub async fn search_bundle(
    state: &AppState,
    ctx: &Ctx,
    rtype: ResourceType,
    params: &[(String, String)],
) -> Result<String, ApiError> {
    ctx.access.require(rtype, Interaction::Search)?;
    let parsed = parse(
        rtype,
        params,
        ctx.strict,
        &state.config.time_zone,
        state.config.paging,
        &state.config.search_limits,
    )?;
    let mut query = parsed.query.clone();
    crate::search::composite::rewrite_filters(rtype, &mut query.filters);
    let count = query.count;
    // One extra row tells whether there is a next page without counting.
    query.count = count + 1;
    let slot = state.admission.search_slot(&ctx.tenant).await?;
    let mut page = state.store.search(&ctx.tenant, &query).await?;
    let has_next = page.matches.len() > count;
    page.matches.truncate(count);

    let mut bundle = BundleOut::new("searchset");
    bundle.total = page.total;
    let link = |offset: usize| {
        let mut url = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &parsed.applied {
            url.append_pair(k, v);
        }
        url.append_pair("_count", &count.to_string());
        if offset > 0 {
            url.append_pair("_offset", &offset.to_string());
        }
        format!("{}/{rtype}?{}", ctx.base, url.finish())
    };
    let offset = query.offset;
    bundle.link.push(Link {
        relation: "self",
        url: link(offset),
    });
    // `_count=0` asks for no resources: there are no pages to move between.
    if !query.count_only && count > 0 {
        bundle.link.push(Link {
            relation: "first",
            url: link(0),
        });
        if offset > 0 {
            bundle.link.push(Link {
                relation: "previous",
                url: link(offset.saturating_sub(count)),
            });
        }
        if has_next {
            bundle.link.push(Link {
                relation: "next",
                url: link(offset + count),
            });
        }
    }

    let mut withheld: Vec<String> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    // Restricted matches the token may not see are not there — nor what they include.
    page.matches.retain(|m| ctx.access.sees(&m.content));
    let ids: Vec<String> = page.matches.iter().map(|m| m.id.clone()).collect();
    for m in page.matches {
        note::read(&m.rtype, &m.id, Some(m.version), &m.content);
        seen.insert((m.rtype.clone(), m.id.clone()));
        bundle.entry.push(EntryOut {
            full_url: Some(format!("{}/{}/{}", ctx.base, m.rtype, m.id)),
            resource: Some(raw(m.content)?),
            search: Some(SearchOut { mode: "match" }),
            ..EntryOut::default()
        });
    }

    for include in parsed.includes.iter().filter(|i| i.source == rtype) {
        let refs = state
            .store
            .references_from(&ctx.tenant, include.source.as_str(), &ids, include.param)
            .await?;
        let mut by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (_, target_type, target_id) in refs {
            let wanted = include.target.is_none_or(|t| t.as_str() == target_type);
            if wanted && !may_include(ctx, &target_type) {
                if !withheld.contains(&target_type) {
                    withheld.push(target_type);
                }
                continue;
            }
            if wanted && seen.insert((target_type.clone(), target_id.clone())) {
                by_type.entry(target_type).or_default().push(target_id);
            }
        }
        for (target_type, target_ids) in by_type {
            for v in state
                .store
                .read_many(&ctx.tenant, &target_type, &target_ids)
                .await?
                .into_iter()
                .filter(|v| ctx.access.sees(&v.content))
            {
                note::read(&v.rtype, &v.id, Some(v.version), &v.content);
                bundle.entry.push(EntryOut {
                    full_url: Some(format!("{}/{}/{}", ctx.base, v.rtype, v.id)),
                    resource: Some(raw(v.content)?),
                    search: Some(SearchOut { mode: "include" }),
                    ..EntryOut::default()
                });
            }
        }
    }

    drop(slot);

    if !withheld.is_empty() {
        let warning = operation_outcome(
            "warning",
            "suppressed",
            &format!(
                "_include: resources of {} were left out; the token may not read them",
                withheld.join(", ")
            ),
        );
        bundle.entry.push(EntryOut {
            resource: Some(raw(warning.to_string())?),
            search: Some(SearchOut { mode: "outcome" }),
            ..EntryOut::default()
        });
    }

    if !parsed.ignored.is_empty() {
        let warning = operation_outcome(
            "warning",
            "not-supported",
            &format!(
                "ignored search parameters (unknown for {rtype}): {}",
                parsed.ignored.join(", ")
            ),
        );
        bundle.entry.push(EntryOut {
            resource: Some(raw(warning.to_string())?),
            search: Some(SearchOut { mode: "outcome" }),
            ..EntryOut::default()
        });
    }
    bundle.to_json()
}
