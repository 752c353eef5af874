//! The web console at `/console/`: `src/api/console/`, embedded in the binary. A page that
//! browses, uploads and administers with the Admin and Upload APIs like any client; it holds
//! no data itself and every call it makes needs the account's credentials, typed in by the user.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::ApiError;
use super::player::html_attribute;
use crate::service::Kino;

/// The page's files: (path under `/console/`, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("console/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("console/console.css"),
    ),
];

const INDEX: &str = include_str!("console/index.html");

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(index))
        .route("/console/{*file}", get(file))
}

/// The page, told which cloud this server serves.
async fn index(State(kino): State<Kino>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX.replace("{{cloud}}", &html_attribute(&kino.primary.cloud)),
    )
        .into_response()
}

async fn file(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (_, content_type, bytes) = FILES
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or_else(|| ApiError::not_found(format!("No console file {file}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        *bytes,
    )
        .into_response())
}
