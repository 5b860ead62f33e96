//! Interactions on one resource: read, vread, update, delete.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ohjaamo_store::WriteStatus;

use super::body::FhirJson;
use super::respond::{VersionResponse, if_match, path_type};
use super::type_level::write_one;
use crate::audit::note;
use crate::auth::scopes::Interaction;
use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::context::{Ctx, Return};
use crate::search::references::is_fhir_id;
use crate::write::entry::{WriteEntry, WriteKind};
use crate::write::pipeline;

fn checked_id(id: &str) -> Result<(), ApiError> {
    if is_fhir_id(id) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "{id:?} is not a FHIR id (1-64 of A-Z a-z 0-9 - .)"
        )))
    }
}

/// `GET /fhir/{type}/{id}`: the current version; 410 once deleted.
pub async fn read(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((rtype, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let rtype = path_type(&rtype)?;
    ctx.access.require(rtype, Interaction::Read)?;
    checked_id(&id)?;
    let v = state
        .store
        .read(&ctx.tenant, rtype.as_str(), &id)
        .await?
        .filter(|v| ctx.access.sees(&v.content))
        .ok_or_else(|| ApiError::NotFound(format!("{rtype}/{id} does not exist")))?;
    if v.deleted {
        return Err(ApiError::Gone(format!(
            "{rtype}/{id} was deleted (version {})",
            v.version
        )));
    }
    note::read(rtype.as_str(), &id, Some(v.version), &v.content);
    Ok(VersionResponse {
        status: StatusCode::OK,
        rtype,
        id: &id,
        version: v.version,
        last_updated: v.last_updated,
        content: v.content,
        location: false,
    }
    .into_response(&ctx, Return::Representation))
}

/// `GET /fhir/{type}/{id}/_history/{vid}`.
pub async fn vread(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((rtype, id, vid)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let rtype = path_type(&rtype)?;
    ctx.access.require(rtype, Interaction::Read)?;
    checked_id(&id)?;
    let version: i64 = vid
        .parse()
        .map_err(|_| ApiError::NotFound(format!("{rtype}/{id} has no version {vid:?}")))?;
    let v = state
        .store
        .read_version(&ctx.tenant, rtype.as_str(), &id, version)
        .await?
        .filter(|v| ctx.access.sees(&v.content))
        .ok_or_else(|| ApiError::NotFound(format!("{rtype}/{id} has no version {version}")))?;
    if v.deleted {
        return Err(ApiError::Gone(format!(
            "version {version} of {rtype}/{id} is its deletion"
        )));
    }
    note::read(rtype.as_str(), &id, Some(v.version), &v.content);
    Ok(VersionResponse {
        status: StatusCode::OK,
        rtype,
        id: &id,
        version: v.version,
        last_updated: v.last_updated,
        content: v.content,
        location: false,
    }
    .into_response(&ctx, Return::Representation))
}

/// `PUT /fhir/{type}/{id}`: update, or create with this id; `If-Match` makes it
/// conditional on the version (412 when stale).
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
    FhirJson(body): FhirJson,
) -> Result<Response, ApiError> {
    let rtype = path_type(&rtype)?;
    ctx.access.require(rtype, Interaction::Update)?;
    checked_id(&id)?;
    write_one(
        &state,
        &ctx,
        rtype,
        WriteKind::Update { id },
        body,
        if_match(&headers)?,
    )
    .await
}

/// `DELETE /fhir/{type}/{id}`: 204; deleting again is also 204, an id that never
/// existed 404.
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let rtype = path_type(&rtype)?;
    ctx.access.require(rtype, Interaction::Delete)?;
    checked_id(&id)?;
    let entry = WriteEntry {
        rtype,
        kind: WriteKind::Delete { id: id.clone() },
        resource: None,
        if_match: if_match(&headers)?,
        full_url: None,
    };
    let written = pipeline::run(&state, &ctx.tenant, vec![entry], true)
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal("the delete produced no result".into()))??;
    if written.status == WriteStatus::AlreadyAbsent && written.version == 0 {
        return Err(ApiError::NotFound(format!("{rtype}/{id} does not exist")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
