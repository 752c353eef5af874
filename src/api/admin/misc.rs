//! Admin `ping`, `usage` and `config`.

use axum::extract::{Path, Request, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{Value, json};

use super::authorized;
use crate::api::ApiError;
use crate::service::Kino;

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .route("/v1_1/{cloud}/ping", get(ping))
        .route("/v1_1/{cloud}/usage", get(usage))
        .route("/v1_1/{cloud}/usage/{date}", get(usage_on))
        .route("/v1_1/{cloud}/config", get(config))
}

/// The product environment's configuration. Kino keeps folders in public ids (`folder/name`),
/// which is Cloudinary's "fixed" folder mode: the CLI's `upload_dir` and `sync` read this to
/// choose `folder` over `asset_folder`.
async fn config(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let with_settings = request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .any(|kv| matches!(kv, "settings=true" | "settings=1"));
    authorized(&kino, &cloud, request).await?;
    let mut body = json!({
        "cloud_name": cloud,
        "created_at": kino.catalog.created_at().await?,
    });
    if with_settings {
        body["settings"] = json!({"folder_mode": "fixed"});
    }
    Ok(Json(body))
}

async fn ping(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    Ok(Json(json!({"status": "ok"})))
}

async fn usage(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    report(&kino, &cloud).await
}

async fn usage_on(
    State(kino): State<Kino>,
    Path((cloud, date)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    let valid = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_ok()
        || chrono::NaiveDate::parse_from_str(&date, "%d-%m-%Y").is_ok();
    if !valid {
        return Err(ApiError::bad_input(format!(
            "Invalid date {date:?}: expected YYYY-MM-DD or DD-MM-YYYY"
        )));
    }
    report(&kino, &cloud).await
}

/// Kino keeps no metered history; it reports what is stored now, with no plan limits.
async fn report(kino: &Kino, cloud: &str) -> Result<Json<Value>, ApiError> {
    let usage = kino.catalog.usage(cloud).await?;
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let limits = &kino.limits;
    Ok(Json(json!({
        "plan": "Kino",
        "last_updated": today,
        "date_requested": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "transformations": {"usage": 0, "credits_usage": 0},
        "objects": {"usage": usage.assets},
        "bandwidth": {"usage": 0, "credits_usage": 0},
        "storage": {"usage": usage.bytes, "credits_usage": 0},
        "requests": 0,
        "resources": usage.assets,
        "derived_resources": 0,
        "media_limits": {
            "image_max_size_bytes": limits.max_image_bytes,
            "video_max_size_bytes": limits.max_video_bytes,
            "raw_max_size_bytes": limits.max_raw_bytes,
        },
    })))
}
