//! The HTTP faces, one module each, with their routes next to their handlers:
//! [`upload`] (`/v1_1/{cloud}/{rt}/upload|destroy|rename|explicit|tags|context`),
//! [`admin`] (`/v1_1/{cloud}/resources…|tags|folders|upload_presets|transformations|ping|usage`)
//! [`delivery`] (`/{cloud}/{rt}/{type}/…`) and the player page (`/player/`).
//!
//! Handlers are thin: parse ([`extract`]), authorize and call one service function, render
//! ([`json`]). Every failure becomes an [`ApiError`], rendered once as
//! `{"error":{"message":…}}` — including unknown routes, wrong methods and bad bodies.

pub mod admin;
mod archive;
mod console;
pub mod delivery;
mod error;
pub mod extract;
pub mod json;
pub mod live;
mod observe;
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
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .merge(archive::routes())
        .merge(upload::routes())
        .merge(admin::routes())
        .merge(player::routes())
        .merge(console::routes())
        .merge(live::routes())
        .merge(provisioning::routes())
        .merge(delivery::routes())
        .route_layer(axum::middleware::from_fn(observe::note_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Uploads stream to the staging area under their own limits; other bodies are read
        // with `limits.max_form_bytes` by the extractors.
        .layer(DefaultBodyLimit::disable())
        .layer(tower_http::compression::CompressionLayer::new().compress_when(compressible))
        .layer(axum::middleware::from_fn_with_state(
            kino.clone(),
            observe::observe,
        ))
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

/// The OpenAPI document of the Upload, Admin, Live Streaming and Provisioning APIs
/// (`tests/api/openapi.rs` checks it against the routes), with this server's cloud name as
/// the one value of `cloud` (and of the Provisioning API's account and environment ids).
async fn openapi(State(kino): State<Kino>) -> Response {
    let mut doc: serde_json::Value = match serde_json::from_str(include_str!("openapi.json")) {
        Ok(doc) => doc,
        Err(e) => {
            let message = format!("the OpenAPI document: {e}");
            return ApiError::new(crate::error::ErrorKind::Internal, message).into_response();
        }
    };
    let own = serde_json::json!({"type": "string", "enum": [kino.primary.cloud]});
    if let Some(paths) = doc["paths"].as_object_mut() {
        for operation in paths.values_mut().flat_map(|item| {
            item.as_object_mut()
                .into_iter()
                .flat_map(|methods| methods.values_mut())
        }) {
            for param in operation["parameters"].as_array_mut().into_iter().flatten() {
                let name = param["name"].as_str().unwrap_or_default();
                if matches!(name, "cloud" | "account" | "environment") {
                    param["schema"] = own.clone();
                }
            }
        }
    }
    axum::Json(doc).into_response()
}

/// Liveness: the process serves requests (whatever its catalog and store are doing).
async fn healthz() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

/// Readiness: the catalog and the blob store both answer; else 503 saying which does not.
async fn readyz(State(kino): State<Kino>) -> Result<Response, ApiError> {
    kino.catalog.ping().await.map_err(ApiError::from)?;
    kino.store.check().await.map_err(ApiError::from)?;
    Ok(
        axum::Json(serde_json::json!({"status": "ready", "catalog": "ok", "store": "ok"}))
            .into_response(),
    )
}

/// The engine's counters in the Prometheus text format.
async fn metrics(State(kino): State<Kino>) -> Response {
    use crate::metrics::External;
    let g = kino.derived.gauges();
    let body = kino.metrics.render(&[
        External {
            name: "kino_engine_runs_total",
            help: "Engine runs started (transformations, segment runs, ladders).",
            kind: "counter",
            value: g.runs_started as f64,
        },
        External {
            name: "kino_engine_workers_busy",
            help: "Engine workers running a transformation.",
            kind: "gauge",
            value: g.workers_busy as f64,
        },
        External {
            name: "kino_engine_queued",
            help: "Transformations holding a queue place (running or waiting).",
            kind: "gauge",
            value: g.queued as f64,
        },
        External {
            name: "kino_derived_flights",
            help: "Derived files being made.",
            kind: "gauge",
            value: g.flights as f64,
        },
        External {
            name: "kino_live_sessions",
            help: "Live sessions ingested by this node.",
            kind: "gauge",
            value: kino.live.running() as f64,
        },
    ]);
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
