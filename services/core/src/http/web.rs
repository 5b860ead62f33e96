//! The web displays (`/displays/…`): the recovery-room screen, the ward bed board and
//! their assets, compiled into the binary.
//!
//! Why embedded: hospital networks often have no route to the internet, and a wall
//! screen must come back by itself after a power cut. Everything a display needs is
//! served by the core it reads from — no CDN, no external fonts — and a deployment is
//! one binary. The pages are plain HTML and ES modules (no build step); they read
//! `/picture`, `/stream`, `/picture/beds`, `/sources` and write holds over `/fhir`,
//! with a token when the server asks for one (`/displays/signin`, http::signin).

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::base::error::ApiError;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../../web/", $name)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file the displays are made of.
const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("recovery.html", HTML),
    asset!("beds.html", HTML),
    asset!("assets/app.css", CSS),
    asset!("assets/common.js", JS),
    asset!("assets/i18n.js", JS),
    asset!("assets/recovery.js", JS),
    asset!("assets/beds.js", JS),
    asset!("assets/index.js", JS),
    asset!("assets/auth.js", JS),
    asset!("assets/sse.js", JS),
];

/// Pages run only this server's scripts and styles, talk only to it, and are framed by
/// nobody (clickjacking a coordinator into holding a bed); inline script and style
/// attributes are refused.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The version of the pages this binary serves (the package version and a digest of
/// the files): a display left open for days compares it with what it loaded and
/// reloads itself after an upgrade.
pub fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        use sha2::Digest as _;
        let mut digest = sha2::Sha256::new();
        for asset in ASSETS {
            digest.update(asset.name.as_bytes());
            digest.update(asset.body);
        }
        let hash = hex::encode(digest.finalize());
        format!("{}+{}", env!("CARGO_PKG_VERSION"), &hash[..12])
    })
}

pub fn router() -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/displays/") }))
        .route("/displays", get(|| async { Redirect::to("/displays/") }))
        .route("/displays/", get(|| async { page("index.html") }))
        .route(
            "/displays/recovery",
            get(|| async { page("recovery.html") }),
        )
        .route("/displays/beds", get(|| async { page("beds.html") }))
        .route(
            "/displays/version",
            get(|| async { axum::Json(serde_json::json!({ "version": version() })) }),
        )
        .route("/displays/assets/{name}", get(asset))
}

fn page(name: &str) -> Response {
    serve(name).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

async fn asset(Path(name): Path<String>) -> Response {
    serve(&format!("assets/{name}")).unwrap_or_else(|| {
        ApiError::NotFound(format!("/displays/assets/{name} is not a display asset"))
            .into_response()
    })
}

fn serve(name: &str) -> Option<Response> {
    let asset = ASSETS.iter().find(|a| a.name == name)?;
    Some(
        (
            [
                (header::CONTENT_TYPE, asset.content_type),
                // Always revalidate: a tab open for days must not run old code after
                // an upgrade; the files are small.
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
                (header::X_FRAME_OPTIONS, "DENY"),
                (header::REFERRER_POLICY, "same-origin"),
            ],
            asset.body,
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_there_and_not_empty() {
        for asset in ASSETS {
            assert!(!asset.body.is_empty(), "{} is empty", asset.name);
        }
    }
}
