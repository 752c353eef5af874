//! The player page at `/player/`: `player/` of the repository, embedded in the binary so that
//! one file serves everything. The page plays `sp_` streams of this server with hls.js and
//! dash.js (vendored; see `player/vendor/README.md`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::ApiError;
use crate::service::Kino;

/// The page's files: (path under `/player/`, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "player.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../player/player.js"),
    ),
    (
        "player.css",
        "text/css; charset=utf-8",
        include_bytes!("../../player/player.css"),
    ),
    (
        "vendor/hls.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../player/vendor/hls.min.js"),
    ),
    (
        "vendor/dash.mediaplayer.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../player/vendor/dash.mediaplayer.min.js"),
    ),
    (
        "vendor/hls.js-LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../player/vendor/hls.js-LICENSE"),
    ),
    (
        "vendor/dashjs-LICENSE.md",
        "text/plain; charset=utf-8",
        include_bytes!("../../player/vendor/dashjs-LICENSE.md"),
    ),
];

const INDEX: &str = include_str!("../../player/index.html");

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .route("/player", get(|| async { Redirect::permanent("/player/") }))
        .route("/player/", get(index))
        .route("/player/{*file}", get(file))
}

/// The page, told which cloud this server serves.
async fn index(State(kino): State<Kino>) -> Response {
    let cloud = html_attribute(&kino.primary.cloud);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX.replace("{{cloud}}", &cloud),
    )
        .into_response()
}

async fn file(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (_, content_type, bytes) = FILES
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or_else(|| ApiError::not_found(format!("No player file {file}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        *bytes,
    )
        .into_response())
}

/// `text` safe inside a double-quoted HTML attribute.
pub(super) fn html_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
