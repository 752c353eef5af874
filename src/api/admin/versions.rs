//! Backups: `restore` by public ids or asset ids, deleting backed-up versions, and the signed
//! `download_backup` URL the SDKs' `download_backedup_asset` builds. The versions themselves
//! show in resource details with `versions=true`.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{authorized, authorized_in};
use crate::api::ApiError;
use crate::api::extract::read_params;
use crate::api::json::{details, iso};
use crate::catalog::{Asset, AssetVersion, Environment};
use crate::service::Kino;
use crate::service::versions::{RestoreBy, Restored};
use crate::url::{DeliveryType, ResourceType};

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .route(
            "/v1_1/{cloud}/resources/{rt}/{dt}/restore",
            post(restore_public_ids),
        )
        .route("/v1_1/{cloud}/resources/restore", post(restore_asset_ids))
        .route(
            "/v1_1/{cloud}/resources/backup/{asset_id}",
            delete(delete_backups),
        )
        .route("/v1_1/{cloud}/download_backup", get(download_backup))
}

/// The `versions` array of resource details: every kept version, newest first; the current
/// one is not restorable (it is what is served).
pub(super) fn versions_json(asset: &Asset, versions: &[AssetVersion]) -> Value {
    let items: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({
                "version_id": v.version_id,
                "version": v.version,
                "format": v.format,
                "size": v.bytes,
                "time": iso(&v.created_at),
                "restorable": v.blob_key != asset.blob_key,
            })
        })
        .collect();
    Value::Array(items)
}

fn render(kino: &Kino, env: &Environment, restored: Vec<(String, Restored)>) -> Json<Value> {
    let mut out = Map::new();
    for (key, outcome) in restored {
        let value = match outcome {
            Restored::Done(asset) => details(kino, env, &asset, &[]),
            Restored::NoBackup => json!({"error": "no_backup"}),
        };
        out.insert(key, value);
    }
    Json(Value::Object(out))
}

async fn restore_public_ids(
    State(kino): State<Kino>,
    Path((cloud, rt, dt)): Path<(String, String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized_in(&kino, &cloud, request).await?;
    let rt = ResourceType::parse(&rt)
        .ok_or_else(|| ApiError::bad_input(format!("Invalid resource type {rt:?}")))?;
    let dt = DeliveryType::parse(&dt)
        .ok_or_else(|| ApiError::bad_input(format!("Invalid type {dt:?}")))?;
    let restored = kino
        .restore(
            &cloud,
            RestoreBy::PublicIds(rt, dt),
            &params.values("public_ids"),
            &params.values("versions"),
        )
        .await?;
    Ok(render(&kino, &env, restored))
}

async fn restore_asset_ids(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized_in(&kino, &cloud, request).await?;
    let asset_ids = params.values("asset_ids");
    if asset_ids.is_empty() {
        return Err(ApiError::bad_input(
            "Missing required parameter - asset_ids",
        ));
    }
    let restored = kino
        .restore(
            &cloud,
            RestoreBy::AssetIds,
            &asset_ids,
            &params.values("versions"),
        )
        .await?;
    Ok(render(&kino, &env, restored))
}

/// Deletes backed-up versions: 200 when all existed, 207 when some did not, 404 when none did.
async fn delete_backups(
    State(kino): State<Kino>,
    Path((cloud, asset_id)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let asked = params.values("version_ids");
    let deleted = kino.delete_backups(&cloud, &asset_id, &asked).await?;
    if deleted.is_empty() {
        return Err(ApiError::not_found(format!(
            "No backed-up version {} of asset {asset_id}",
            asked.join(", ")
        )));
    }
    let status = if deleted.len() == asked.len() {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    let body = json!({"asset_id": asset_id, "deleted_version_ids": deleted});
    Ok((status, Json(body)).into_response())
}

/// A backed-up version's file, for a URL signed like an Upload-API call.
async fn download_backup(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    let params = read_params(&kino, request).await?;
    kino.authorize_upload(&cloud, &params, false).await?;
    let (Some(asset_id), Some(version_id)) = (params.get("asset_id"), params.get("version_id"))
    else {
        return Err(ApiError::bad_input(
            "Missing required parameter - asset_id and version_id",
        ));
    };
    let version = kino
        .catalog
        .versions(&cloud, asset_id)
        .await?
        .into_iter()
        .find(|v| v.version_id == version_id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Version {version_id} of asset {asset_id} not found in the backups"
            ))
        })?;
    crate::api::delivery::serve_backup(&kino, &version, &headers).await
}
