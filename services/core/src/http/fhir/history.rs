//! `_history` of one resource or of a whole type, newest first, paged.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use ohjaamo_store::HistoryScope;

use super::bundle_out::{BundleOut, EntryOut, Link, RequestOut, ResponseOut, raw};
use super::respond::{etag, json_response, path_type};
use super::search::query_pairs;
use crate::audit::note;
use crate::auth::scopes::Interaction;
use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::context::Ctx;
use crate::search::fhir_time::parse_range;

pub async fn instance_history(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((rtype, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let rtype = path_type(&rtype)?;
    ctx.access.require(rtype, Interaction::Read)?;
    let scope = HistoryScope::Instance {
        rtype: rtype.as_str(),
        id: &id,
    };
    let path = format!("{rtype}/{id}/_history");
    history(&state, &ctx, scope, &path, query.as_deref().unwrap_or("")).await
}

pub async fn type_history(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(rtype): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let rtype = path_type(&rtype)?;
    ctx.access.require(rtype, Interaction::Search)?;
    let scope = HistoryScope::Type {
        rtype: rtype.as_str(),
    };
    let path = format!("{rtype}/_history");
    history(&state, &ctx, scope, &path, query.as_deref().unwrap_or("")).await
}

async fn history(
    state: &AppState,
    ctx: &Ctx,
    scope: HistoryScope<'_>,
    path: &str,
    query: &str,
) -> Result<Response, ApiError> {
    let paging = state.config.paging;
    let (mut count, mut offset, mut since) = (paging.default_count, 0usize, None);
    let mut since_text = None;
    for (k, v) in query_pairs(query) {
        let bad = || ApiError::BadRequest(format!("_history parameter {k}={v:?} is not valid"));
        match k.as_str() {
            "_count" => count = v.parse::<usize>().map_err(|_| bad())?.min(paging.max_count),
            "_offset" => offset = v.parse().map_err(|_| bad())?,
            "_since" => {
                since = Some(parse_range(&v, &state.config.time_zone)?.lo);
                since_text = Some(v.clone());
            }
            "_format" => {}
            _ if ctx.strict => return Err(bad()),
            _ => {}
        }
    }
    let (versions, total) = state
        .store
        .history(&ctx.tenant, scope, since, count, offset)
        .await?;
    if let HistoryScope::Instance { rtype, id } = scope
        && total == 0
    {
        return Err(ApiError::NotFound(format!("{rtype}/{id} does not exist")));
    }
    let mut bundle = BundleOut::new("history");
    bundle.total = Some(total);
    let link = |offset: usize| {
        let mut url = format!("{}/{path}?_count={count}", ctx.base);
        if let Some(since) = &since_text {
            let encoded: String = url::form_urlencoded::byte_serialize(since.as_bytes()).collect();
            url.push_str(&format!("&_since={encoded}"));
        }
        if offset > 0 {
            url.push_str(&format!("&_offset={offset}"));
        }
        url
    };
    bundle.link.push(Link {
        relation: "self",
        url: link(offset),
    });
    if offset > 0 && count > 0 {
        bundle.link.push(Link {
            relation: "previous",
            url: link(offset.saturating_sub(count)),
        });
    }
    if count > 0 && (offset + versions.len()) < usize::try_from(total).unwrap_or(usize::MAX) {
        bundle.link.push(Link {
            relation: "next",
            url: link(offset + count),
        });
    }
    for v in versions {
        if !v.deleted && !ctx.access.sees(&v.content) {
            continue; // restricted, and the token may not see it
        }
        note::read(&v.rtype, &v.id, Some(v.version), &v.content);
        let (method, url, status) = if v.deleted {
            ("DELETE", format!("{}/{}", v.rtype, v.id), "204 No Content")
        } else if v.version == 1 {
            ("POST", v.rtype.clone(), "201 Created")
        } else {
            ("PUT", format!("{}/{}", v.rtype, v.id), "200 OK")
        };
        bundle.entry.push(EntryOut {
            full_url: Some(format!("{}/{}/{}", ctx.base, v.rtype, v.id)),
            resource: if v.deleted {
                None
            } else {
                Some(raw(v.content)?)
            },
            request: Some(RequestOut { method, url }),
            response: Some(ResponseOut {
                status: status.to_owned(),
                etag: Some(etag(v.version)),
                last_modified: Some(crate::search::fhir_time::format_instant(v.last_updated)),
                ..ResponseOut::default()
            }),
            ..EntryOut::default()
        });
    }
    Ok(json_response(StatusCode::OK, bundle.to_json()?))
}
