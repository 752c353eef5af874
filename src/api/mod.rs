//! The HTTP faces, one module each, with their routes next to their handlers:
//! [`upload`] (`/v1_1/{cloud}/{rt}/upload|destroy|rename|explicit|tags|context`),
//! [`admin`] (`/v1_1/{cloud}/resources…|tags|folders|upload_presets|transformations|ping|usage`)
//! [`delivery`] (`/{cloud}/{rt}/{type}/…`) and the player page (`/player/`).
//!
//! Handlers are thin: parse ([`extract`]), authorize and call one service function, render
//! ([`json`]). Every failure becomes an [`ApiError`], rendered once as
//! `{"error":{"message":…}}` — including unknown routes, wrong methods and bad bodies.

pub mod admin;
pub mod delivery;
mod error;
pub mod extract;
pub mod json;
pub mod live;
mod player;
mod provisioning;
pub mod upload;

pub use error::ApiError;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::service::Kino;

/// The whole HTTP application.
pub fn router(kino: Kino) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(upload::routes())
        .merge(admin::routes())
        .merge(player::routes())
        .merge(live::routes())
        .merge(provisioning::routes())
        .merge(delivery::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Uploads stream to the staging area under their own limits; other bodies are read
        // with `limits.max_form_bytes` by the extractors.
        .layer(DefaultBodyLimit::disable())
        .layer(tower_http::compression::CompressionLayer::new().compress_when(compressible))
        .with_state(kino)
}

/// Node's SDK percent-encodes `/` inside API paths (`/resources%2Fsearch`); decode it before
/// routing so both SDKs reach the same routes. Delivery paths are left untouched.
pub fn normalize_api_path(mut request: Request) -> Request {
    let path = request.uri().path();
    if path.starts_with("/v1_1/") && (path.contains("%2F") || path.contains("%2f")) {
        let fixed_path = path.replace("%2F", "/").replace("%2f", "/");
        let fixed = match request.uri().query() {
            Some(q) => format!("{fixed_path}?{q}"),
            None => fixed_path,
        };
        if let Ok(uri) = fixed.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// Text worth compressing when the client accepts gzip: playlists, MPDs (players and
/// validators expect them gzipped) and API JSON. Media is already compressed.
fn compressible(
    _: axum::http::StatusCode,
    _: axum::http::Version,
    headers: &axum::http::HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.starts_with("application/vnd.apple.mpegurl")
                || t.starts_with("application/dash+xml")
                || t.starts_with("application/json")
        })
}

async fn healthz(State(kino): State<Kino>) -> Result<Response, ApiError> {
    kino.catalog.ping().await.map_err(ApiError::from)?;
    Ok(axum::Json(serde_json::json!({"status": "ok"})).into_response())
}

/// The engine's counters in the Prometheus text format.
async fn metrics(State(kino): State<Kino>) -> Response {
    let g = kino.derived.gauges();
    let body = format!(
        "# HELP kino_engine_runs_total Engine runs started (transformations, segment runs, ladders).\n\
         # TYPE kino_engine_runs_total counter\n\
         kino_engine_runs_total {}\n\
         # HELP kino_engine_workers_busy Engine workers running a transformation.\n\
         # TYPE kino_engine_workers_busy gauge\n\
         kino_engine_workers_busy {}\n\
         # HELP kino_engine_queued Transformations holding a queue place (running or waiting).\n\
         # TYPE kino_engine_queued gauge\n\
         kino_engine_queued {}\n\
         # HELP kino_derived_flights Derived files being made.\n\
         # TYPE kino_derived_flights gauge\n\
         kino_derived_flights {}\n\
         # HELP kino_live_sessions Live sessions ingested by this node.\n\
         # TYPE kino_live_sessions gauge\n\
         kino_live_sessions {}\n",
        g.runs_started,
        g.workers_busy,
        g.queued,
        g.flights,
        kino.live.running()
    );
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("No route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::method_not_allowed(format!("Method {method} is not allowed on {}", uri.path()))
}
