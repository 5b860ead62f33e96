//! `POST /fhir` with a `batch` or `transaction` Bundle.
//!
//! A transaction is all or nothing: the first failing entry fails the request with
//! its status and a message naming the entry. A batch answers every entry on its
//! own. Writes of both go through one pipeline run (one database transaction);
//! GET entries (read, search) are answered after the writes.
//!
//! GETs are bounded: at most `max_bundle_reads` of them in one Bundle (413 before
//! anything runs), and their answers together at most `max_bundle_response_bytes`
//! (an entry past it answers 413 on its own): eighteen kilobytes of GET entries once
//! built a 142 MB response. A transaction's GETs are checked before its writes (they
//! must parse and what they read must exist); one that still fails after the writes
//! committed answers in its entry, because failing the request would tell the client
//! that writes which did commit did not.
//!
//! Every entry is checked against the token's scopes on its own, before anything
//! runs: in a batch a refused entry answers 403 in its place and the others go on; a
//! transaction with one refused entry is refused whole (403) and writes nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{WriteStatus, Written};
use serde_json::Value;

use super::body::FhirJson;
use super::bundle_out::{BundleOut, EntryOut, ResponseOut, raw};
use super::respond::{etag, json_response};
use super::search::{query_pairs, search_bundle};
use super::type_level::conditional_kind;
use crate::auth::scopes::Interaction;
use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::context::{Ctx, Return};
use crate::search::fhir_time::format_instant;
use crate::search::references::is_fhir_id;
use crate::write::entry::{WriteEntry, WriteKind};
use crate::write::pipeline;

/// What one entry asked for, once its request was understood.
enum Parsed {
    Write(WriteEntry),
    Get(GetRequest),
}

/// A GET entry: answered after the writes, so it sees them.
enum GetRequest {
    Read { rtype: ResourceType, id: String },
    Search { rtype: ResourceType, query: String },
}

pub async fn process(
    State(state): State<AppState>,
    ctx: Ctx,
    FhirJson(mut body): FhirJson,
) -> Result<Response, ApiError> {
    let kind = match (
        body.get("resourceType").and_then(Value::as_str),
        body.get("type").and_then(Value::as_str),
    ) {
        (Some("Bundle"), Some("batch")) => "batch",
        (Some("Bundle"), Some("transaction")) => "transaction",
        (Some("Bundle"), other) => {
            return Err(ApiError::BadRequest(format!(
                "Bundle.type must be batch or transaction, not {}",
                other.unwrap_or("missing")
            )));
        }
        (other, _) => {
            return Err(ApiError::BadRequest(format!(
                "POST to the base takes a Bundle, not {}",
                other.unwrap_or("a JSON value without resourceType")
            )));
        }
    };
    crate::audit::note::interaction(kind);
    let atomic = kind == "transaction";
    // Taken, not copied: a 1,000-entry Bundle is megabytes of JSON.
    let entries = match body.get_mut("entry").map(Value::take) {
        None => Vec::new(),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err(ApiError::BadRequest("Bundle.entry must be an array".into())),
    };
    let max = state.config.max_bundle_entries;
    if entries.len() > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "the Bundle has {} entries; at most {max} are accepted in one request",
            entries.len()
        )));
    }

    let gets = entries
        .iter()
        .filter(|e| e.pointer("/request/method").and_then(Value::as_str) == Some("GET"))
        .count();
    let max_reads = state.config.max_bundle_reads;
    if gets > max_reads {
        return Err(ApiError::PayloadTooLarge(format!(
            "the Bundle has {gets} GET entries; the limit is {max_reads} \
             (OHJAAMO_MAX_BUNDLE_READS); search once with a wider query instead"
        )));
    }

    let n = entries.len();
    let mut answers: Vec<Option<Result<EntryOut, ApiError>>> = (0..n).map(|_| None).collect();
    let mut writes = Vec::new();
    let mut write_positions = Vec::new();
    let mut reads = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let parsed = parse_entry(entry).and_then(|p| permit(&ctx, &p).map(|()| p));
        match parsed {
            Ok(Parsed::Write(w)) => {
                write_positions.push(i);
                writes.push(w);
            }
            Ok(Parsed::Get(get)) => reads.push((i, get)),
            Err(e) if atomic => return Err(e.within(&format!("Bundle.entry[{i}]"))),
            Err(e) => answers[i] = Some(Err(e)),
        }
    }

    // A transaction is all or nothing, but its GETs run after its writes: check
    // beforehand what can be checked, so a bad GET does not follow committed writes.
    if atomic {
        for (i, get) in &reads {
            precheck_get(&state, &ctx, get, &writes)
                .await
                .map_err(|e| e.within(&format!("Bundle.entry[{i}]")))?;
        }
        for (i, write) in write_positions.iter().zip(&writes) {
            precheck_delete(&state, &ctx, write)
                .await
                .map_err(|e| e.within(&format!("Bundle.entry[{i}]")))?;
        }
    }

    // Written resources go back only when asked for: a 1,000-entry answer with
    // every resource in it helps no adapter.
    let representation = ctx.prefer_return == Some(Return::Representation);
    let committed = !writes.is_empty();
    let mut writes = writes;
    super::hold_author::stamp(&mut writes, &ctx.access);
    let results = pipeline::run(&state, &ctx.tenant, writes, atomic).await?;
    for (i, result) in write_positions.into_iter().zip(results) {
        answers[i] = Some(result.and_then(|w| written_entry(&ctx, w, representation)));
    }
    let mut response_budget = state.config.max_bundle_response_bytes;
    for (i, read) in reads {
        if response_budget == 0 {
            answers[i] = Some(Err(response_too_large(
                state.config.max_bundle_response_bytes,
            )));
            continue;
        }
        let answer = match read {
            GetRequest::Read { rtype, id } => read_entry(&state, &ctx, rtype, &id).await,
            GetRequest::Search { rtype, query } => {
                let params = query_pairs(&query);
                match search_bundle(&state, &ctx, rtype, &params).await {
                    Ok(text) => raw(text).map(|b| EntryOut {
                        resource: Some(b),
                        response: Some(ResponseOut {
                            status: "200 OK".into(),
                            ..ResponseOut::default()
                        }),
                        ..EntryOut::default()
                    }),
                    Err(e) => Err(e),
                }
            }
        };
        let answer = answer.and_then(|entry| {
            let size = entry.resource.as_ref().map_or(0, |r| r.get().len());
            match response_budget.checked_sub(size) {
                Some(left) => {
                    response_budget = left;
                    Ok(entry)
                }
                None => {
                    response_budget = 0;
                    Err(response_too_large(state.config.max_bundle_response_bytes))
                }
            }
        });
        if atomic
            && !committed
            && let Err(e) = &answer
        {
            return Err(e.clone().within(&format!("Bundle.entry[{i}]")));
        }
        answers[i] = Some(answer);
    }

    let mut out = BundleOut::new(if atomic {
        "transaction-response"
    } else {
        "batch-response"
    });
    log_failed_entries(kind, &answers);
    for answer in answers {
        let entry = match answer {
            Some(Ok(e)) => e,
            Some(Err(e)) => EntryOut {
                response: Some(ResponseOut {
                    status: status_line(e.status()),
                    outcome: Some(raw(e.outcome().to_string())?),
                    ..ResponseOut::default()
                }),
                ..EntryOut::default()
            },
            None => return Err(ApiError::Internal("a Bundle entry was not answered".into())),
        };
        out.entry.push(entry);
    }
    Ok(json_response(StatusCode::OK, out.to_json()?))
}

/// A batch answers 200 even when entries fail, so the failures would otherwise be
/// visible only to the client: one warning per request says how many failed and
/// why the first did, and each failure is logged at debug.
fn log_failed_entries(kind: &str, answers: &[Option<Result<EntryOut, ApiError>>]) {
    let failed: Vec<(usize, &ApiError)> = answers
        .iter()
        .enumerate()
        .filter_map(|(i, a)| match a {
            Some(Err(e)) => Some((i, e)),
            _ => None,
        })
        .collect();
    let Some((first_index, first)) = failed.first() else {
        return;
    };
    for (i, e) in &failed {
        tracing::debug!(entry = i, status = e.status().as_u16(), error = %e, "{kind} entry refused");
    }
    tracing::warn!(
        failed = failed.len(),
        entries = answers.len(),
        first_entry = first_index,
        first_status = first.status().as_u16(),
        first_error = %first,
        "{kind} Bundle had refused entries"
    );
}

fn response_too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the answers to this Bundle's GET entries passed {limit} bytes \
         (OHJAAMO_MAX_BUNDLE_RESPONSE_BYTES); this entry was not answered, ask for it \
         on its own or with a smaller _count"
    ))
}

fn status_line(status: StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
}

fn parse_entry(mut entry: Value) -> Result<Parsed, ApiError> {
    let resource = entry
        .as_object_mut()
        .and_then(|fields| fields.swap_remove("resource"));
    let request = entry.get("request").ok_or_else(|| {
        ApiError::BadRequest("entry.request is required in a batch or transaction".into())
    })?;
    let method = request.get("method").and_then(Value::as_str).unwrap_or("");
    let url = request
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::BadRequest("entry.request.url is required".into()))?;
    let if_match = match request.get("ifMatch").and_then(Value::as_str) {
        Some(text) => {
            let mut headers = axum::http::HeaderMap::new();
            let value = text
                .parse()
                .map_err(|_| ApiError::BadRequest(format!("ifMatch {text:?} is not valid")))?;
            headers.insert(axum::http::header::IF_MATCH, value);
            super::respond::if_match(&headers)?
        }
        None => None,
    };
    if request.get("ifNoneExist").is_some() {
        return Err(super::type_level::no_conditional_create());
    }
    let full_url = entry
        .get("fullUrl")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let segments: Vec<&str> = relative_path(path).split('/').collect();
    let rtype: ResourceType = segments[0]
        .parse()
        .map_err(|e: ohjaamo_fhir::UnsupportedType| ApiError::NotFound(e.to_string()))?;
    let id = segments.get(1).map(|s| s.to_string());
    if let Some(id) = &id
        && (!is_fhir_id(id) || segments.len() > 2)
    {
        return Err(ApiError::BadRequest(format!(
            "entry.request.url {url:?} is not Type or Type/id"
        )));
    }
    let write = |kind, resource: Option<Value>| {
        Ok(Parsed::Write(WriteEntry {
            rtype,
            kind,
            resource,
            if_match,
            full_url: full_url.clone(),
        }))
    };
    let need_resource = |r: Option<Value>| {
        r.ok_or_else(|| ApiError::BadRequest(format!("{method} {url} needs entry.resource")))
    };
    match (method, id, query) {
        ("GET", Some(id), None) => Ok(Parsed::Get(GetRequest::Read { rtype, id })),
        ("GET", None, q) => Ok(Parsed::Get(GetRequest::Search {
            rtype,
            query: q.unwrap_or("").to_owned(),
        })),
        ("POST", None, None) => write(WriteKind::Create, Some(need_resource(resource)?)),
        ("PUT", Some(id), None) => write(WriteKind::Update { id }, Some(need_resource(resource)?)),
        ("PUT", None, Some(q)) => write(
            conditional_kind(&query_pairs(q))?,
            Some(need_resource(resource)?),
        ),
        ("DELETE", Some(id), None) => write(WriteKind::Delete { id }, None),
        (m @ ("GET" | "POST" | "PUT" | "DELETE"), _, _) => Err(ApiError::BadRequest(format!(
            "{m} {url} is not supported in a Bundle (conditional delete and create-with-query are not)"
        ))),
        (m, _, _) => Err(ApiError::MethodNotAllowed(format!(
            "entry.request.method {m:?} is not supported (GET, POST, PUT, DELETE)"
        ))),
    }
}

/// 403 unless the token may do what the entry asks.
fn permit(ctx: &Ctx, parsed: &Parsed) -> Result<(), ApiError> {
    match parsed {
        Parsed::Write(w) => match w.kind {
            WriteKind::Create => ctx.access.require(w.rtype, Interaction::Create),
            WriteKind::Update { .. } => ctx.access.require(w.rtype, Interaction::Update),
            WriteKind::ConditionalUpdate { .. } => {
                super::type_level::require_conditional_update(ctx, w.rtype)
            }
            WriteKind::Delete { .. } => ctx.access.require(w.rtype, Interaction::Delete),
        },
        Parsed::Get(GetRequest::Read { rtype, .. }) => {
            ctx.access.require(*rtype, Interaction::Read)
        }
        Parsed::Get(GetRequest::Search { rtype, .. }) => {
            ctx.access.require(*rtype, Interaction::Search)
        }
    }
}

/// Fails when a GET of a transaction would fail: search parameters that do not
/// parse, or a read of a resource that does not exist and is not written by the
/// same transaction.
async fn precheck_get(
    state: &AppState,
    ctx: &Ctx,
    get: &GetRequest,
    writes: &[WriteEntry],
) -> Result<(), ApiError> {
    match get {
        GetRequest::Search { rtype, query } => {
            let params = query_pairs(query);
            crate::search::query::parse(
                *rtype,
                &params,
                ctx.strict,
                &state.config.time_zone,
                state.config.paging,
                &state.config.search_limits,
            )
            .map(|_| ())
        }
        GetRequest::Read { rtype, id } => {
            let here = |delete: bool| {
                writes.iter().any(|w| {
                    w.rtype == *rtype
                        && match &w.kind {
                            WriteKind::Update { id: wid } => !delete && wid == id,
                            WriteKind::Delete { id: wid } => delete && wid == id,
                            _ => false,
                        }
                })
            };
            // Deletes run before updates, so a resource both deleted and written
            // here exists afterwards.
            if here(false) {
                return Ok(());
            }
            if here(true) {
                return Err(ApiError::Gone(format!(
                    "{rtype}/{id} is deleted by this transaction"
                )));
            }
            match state.store.read(&ctx.tenant, rtype.as_str(), id).await? {
                Some(v) if !v.deleted => Ok(()),
                Some(_) => Err(ApiError::Gone(format!("{rtype}/{id} was deleted"))),
                None => Err(ApiError::NotFound(format!("{rtype}/{id} does not exist"))),
            }
        }
    }
}

/// Fails when a transaction deletes a resource that never existed: that entry
/// answers 404, and a transaction with a failing entry must write nothing. Checked
/// before the write; a resource created concurrently in between is simply deleted,
/// and one deleted in between answers 204 as any repeated delete does.
async fn precheck_delete(state: &AppState, ctx: &Ctx, write: &WriteEntry) -> Result<(), ApiError> {
    let WriteKind::Delete { id } = &write.kind else {
        return Ok(());
    };
    match state
        .store
        .read(&ctx.tenant, write.rtype.as_str(), id)
        .await?
    {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(format!(
            "{}/{id} does not exist",
            write.rtype
        ))),
    }
}

/// `Slot/1` from `Slot/1`, `/Slot/1` or an absolute `https://host/fhir/Slot/1`.
fn relative_path(path: &str) -> &str {
    let path = path.trim_matches('/');
    let Some(scheme_end) = path.find("://") else {
        return path;
    };
    let mut offset = scheme_end + 3;
    for segment in path[offset..].split('/') {
        if segment.parse::<ResourceType>().is_ok() {
            return &path[offset..];
        }
        offset += segment.len() + 1;
    }
    path
}

fn written_entry(ctx: &Ctx, w: Written, with_resource: bool) -> Result<EntryOut, ApiError> {
    let status = match w.status {
        WriteStatus::Created => "201 Created",
        WriteStatus::Updated | WriteStatus::Unchanged => "200 OK",
        WriteStatus::Deleted | WriteStatus::AlreadyAbsent => "204 No Content",
    };
    if w.status == WriteStatus::AlreadyAbsent && w.version == 0 {
        return Err(ApiError::NotFound(format!(
            "{}/{} does not exist",
            w.rtype, w.id
        )));
    }
    let live = !matches!(w.status, WriteStatus::Deleted | WriteStatus::AlreadyAbsent);
    Ok(EntryOut {
        full_url: live.then(|| format!("{}/{}/{}", ctx.base, w.rtype, w.id)),
        resource: match w.content {
            Some(c) if with_resource => Some(raw(c)?),
            _ => None,
        },
        response: Some(ResponseOut {
            status: status.to_owned(),
            location: live.then(|| format!("{}/{}/_history/{}", w.rtype, w.id, w.version)),
            etag: live.then(|| etag(w.version)),
            last_modified: Some(format_instant(w.last_updated)),
            outcome: None,
        }),
        ..EntryOut::default()
    })
}

async fn read_entry(
    state: &AppState,
    ctx: &Ctx,
    rtype: ResourceType,
    id: &str,
) -> Result<EntryOut, ApiError> {
    let v = state
        .store
        .read(&ctx.tenant, rtype.as_str(), id)
        .await?
        .filter(|v| ctx.access.sees(&v.content))
        .ok_or_else(|| ApiError::NotFound(format!("{rtype}/{id} does not exist")))?;
    if v.deleted {
        return Err(ApiError::Gone(format!("{rtype}/{id} was deleted")));
    }
    crate::audit::note::read(rtype.as_str(), id, Some(v.version), &v.content);
    Ok(EntryOut {
        full_url: Some(format!("{}/{rtype}/{id}", ctx.base)),
        resource: Some(raw(v.content)?),
        response: Some(ResponseOut {
            status: "200 OK".into(),
            etag: Some(etag(v.version)),
            last_modified: Some(format_instant(v.last_updated)),
            ..ResponseOut::default()
        }),
        ..EntryOut::default()
    })
}

#[cfg(test)]
mod tests {
    use super::relative_path;

    #[test]
    fn entry_urls_may_be_absolute() {
        assert_eq!(relative_path("Slot/1"), "Slot/1");
        assert_eq!(relative_path("/Slot"), "Slot");
        assert_eq!(relative_path("https://h.example/fhir/Slot/1"), "Slot/1");
        assert_eq!(
            relative_path("https://h.example/fhir/Nope/1"),
            "https://h.example/fhir/Nope/1"
        );
    }
}
