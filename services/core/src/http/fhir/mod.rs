//! The FHIR REST API under `/fhir`, one module per kind of interaction.

mod audit;
mod body;
mod bundle;
mod bundle_out;
mod capability;
mod history;
mod hold_author;
mod instance;
mod respond;
mod search;
mod type_level;

use axum::Router;
use axum::routing::{get, post};

pub use hold_author::{HELD_BY_NAME_URL, HELD_BY_URL};

use crate::base::error::ApiError;
use crate::base::state::AppState;

/// The `/fhir` routes. Anything else under `/fhir` is a 404 OperationOutcome, a
/// known path with the wrong method a 405 one.
pub fn router(state: AppState) -> Router {
    let fhir = Router::new()
        .route("/", post(bundle::process))
        .route("/metadata", get(capability::handler))
        // The access log: read and search only, for auditors.
        .route("/AuditEvent", get(audit::search))
        .route("/AuditEvent/{id}", get(audit::read))
        .route(
            "/{rtype}",
            get(search::search_get)
                .post(type_level::create)
                .put(type_level::conditional_update),
        )
        .route("/{rtype}/_search", post(search::search_post))
        .route("/{rtype}/_history", get(history::type_history))
        .route(
            "/{rtype}/{id}",
            get(instance::read)
                .put(instance::update)
                .delete(instance::delete),
        )
        .route("/{rtype}/{id}/_history", get(history::instance_history))
        .route("/{rtype}/{id}/_history/{vid}", get(instance::vread))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(state.clone());
    // Clients differ on whether the base has a trailing slash; a Bundle posted to
    // `/fhir/` is the same request as one posted to `/fhir`.
    Router::new()
        .route(
            "/fhir/",
            post(bundle::process)
                .with_state(state)
                .fallback(method_not_allowed),
        )
        .nest("/fhir", fhir)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no FHIR interaction at {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not supported on {}", uri.path()))
}
