//! The Admin API: `/v1_1/{cloud}/…` with HTTP basic auth (api_key:api_secret).
//! Parameters come from the query string and from JSON, urlencoded or multipart bodies alike.

mod folders;
mod jobs;
mod metadata_fields;
mod misc;
mod presets;
mod resources;
mod search;
mod streaming_profiles;
mod transformations;
mod upload_mappings;
mod versions;

use axum::Router;
use axum::extract::Request;
use axum::http::header::AUTHORIZATION;

use super::ApiError;
use super::extract::{read_json_object, read_params};
use crate::catalog::Environment;
use crate::params::Params;
use crate::service::Kino;

pub fn routes() -> Router<Kino> {
    Router::new()
        .merge(resources::routes())
        .merge(folders::routes())
        .merge(presets::routes())
        .merge(transformations::routes())
        .merge(streaming_profiles::routes())
        .merge(misc::routes())
        .merge(jobs::routes())
        .merge(search::routes())
        .merge(metadata_fields::routes())
        .merge(upload_mappings::routes())
        .merge(versions::routes())
}

/// Checks basic auth for `cloud`, then reads the call's parameters.
async fn authorized(kino: &Kino, cloud: &str, request: Request) -> Result<Params, ApiError> {
    Ok(authorized_in(kino, cloud, request).await?.1)
}

/// [`authorized`], with the environment the call is in (for renderings that sign URLs).
async fn authorized_in(
    kino: &Kino,
    cloud: &str,
    request: Request,
) -> Result<(Environment, Params), ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let env = kino.authorize_admin(cloud, header.as_deref()).await?;
    Ok((env, read_params(kino, request).await?))
}

/// Checks basic auth for `cloud`, then reads a JSON object body (the Metadata API takes
/// nested objects the flat parameters cannot hold); no body is `{}`.
async fn authorized_json(
    kino: &Kino,
    cloud: &str,
    request: Request,
) -> Result<serde_json::Value, ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    kino.authorize_admin(cloud, header.as_deref()).await?;
    read_json_object(kino, request).await
}

/// Opaque cursors: base64url of a position, so clients cannot mistake them for data.
fn encode_cursor(position: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(position)
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::bad_input(format!("Invalid next_cursor {cursor:?}")))
}

/// `max_results` within 1..=500 (default `default`).
fn max_results(params: &Params, default: u32) -> Result<u32, ApiError> {
    match params.u64("max_results")? {
        None => Ok(default),
        Some(n) if (1..=500).contains(&n) => Ok(n as u32),
        Some(n) => Err(ApiError::bad_input(format!(
            "Invalid max_results {n}: must be between 1 and 500"
        ))),
    }
}
