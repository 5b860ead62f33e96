//! Writes addressed to a type (create, conditional update) and the one-entry write
//! that every single-resource write goes through.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ohjaamo_fhir::ResourceType;
use ohjaamo_store::WriteStatus;

use super::body::FhirJson;
use super::respond::{VersionResponse, if_match, path_type};
use crate::auth::scopes::Interaction;
use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::context::{Ctx, Return};
use crate::search::query::split_token;
use crate::write::entry::{WriteEntry, WriteKind};
use crate::write::pipeline;

/// `POST /fhir/{type}`.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(rtype): Path<String>,
    headers: HeaderMap,
    FhirJson(body): FhirJson,
) -> Result<Response, ApiError> {
    let rtype = path_type(&rtype)?;
    ctx.access.require(rtype, Interaction::Create)?;
    if headers.contains_key("if-none-exist") {
        return Err(no_conditional_create());
    }
    write_one(&state, &ctx, rtype, WriteKind::Create, body, None).await
}

/// Conditional create is not supported; ignoring the header would create a
/// duplicate on every retry, so it is refused instead.
pub(super) fn no_conditional_create() -> ApiError {
    ApiError::BadRequest(
        "If-None-Exist (conditional create) is not supported; use a conditional update: \
         PUT /fhir/{type}?identifier=system|value"
            .into(),
    )
}

/// `PUT /fhir/{type}?identifier=system|value`: update the one resource with that
/// identifier, or create it. How stateless adapters write.
pub async fn conditional_update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(rtype): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    FhirJson(body): FhirJson,
) -> Result<Response, ApiError> {
    let rtype = path_type(&rtype)?;
    require_conditional_update(&ctx, rtype)?;
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let kind = conditional_kind(&params)?;
    write_one(&state, &ctx, rtype, kind, body, if_match(&headers)?).await
}

/// A conditional update needs `u`, and `s` too: it finds its target by searching,
/// and its answer (created or updated) tells whether a match exists.
pub(super) fn require_conditional_update(ctx: &Ctx, rtype: ResourceType) -> Result<(), ApiError> {
    ctx.access.require(rtype, Interaction::Update)?;
    ctx.access.require(rtype, Interaction::Search)
}

/// The target of a conditional update: exactly one `identifier` parameter.
pub(super) fn conditional_kind(params: &[(String, String)]) -> Result<WriteKind, ApiError> {
    match params {
        [(name, value)] if name == "identifier" && !value.is_empty() => {
            let (system, code) = split_token(value);
            if code.is_empty() {
                return Err(ApiError::BadRequest("identifier needs a value after the |".into()));
            }
            Ok(WriteKind::ConditionalUpdate { system, code })
        }
        [] => Err(ApiError::MethodNotAllowed(
            "PUT on a type needs ?identifier=system|value (conditional update); to update by id use PUT /fhir/{type}/{id}".into(),
        )),
        _ => Err(ApiError::BadRequest(
            "conditional update supports exactly one parameter: identifier=system|value".into(),
        )),
    }
}

/// Runs one write through the pipeline and answers as R4 says: 201 with Location
/// for a create, 200 for an update (also when nothing changed).
pub(super) async fn write_one(
    state: &AppState,
    ctx: &Ctx,
    rtype: ResourceType,
    kind: WriteKind,
    body: serde_json::Value,
    if_match: Option<i64>,
) -> Result<Response, ApiError> {
    let mut entries = vec![WriteEntry {
        rtype,
        kind,
        resource: Some(body),
        if_match,
        full_url: None,
    }];
    super::hold_author::stamp(&mut entries, &ctx.access);
    let mut results = pipeline::run(state, &ctx.tenant, entries, true).await?;
    let written = results
        .pop()
        .ok_or_else(|| ApiError::Internal("the write produced no result".into()))??;
    let content = match written.content {
        Some(c) => c,
        None => {
            state
                .store
                .read(&ctx.tenant, rtype.as_str(), &written.id)
                .await?
                .ok_or_else(|| ApiError::Internal("a just-written resource is missing".into()))?
                .content
        }
    };
    let created = written.status == WriteStatus::Created;
    Ok(VersionResponse {
        status: if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        rtype,
        id: &written.id,
        version: written.version,
        last_updated: written.last_updated,
        content,
        location: created,
    }
    .into_response(ctx, Return::Representation))
}
