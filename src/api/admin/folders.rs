//! Admin folders: root, sub-folders, create, delete (empty folders only).

use axum::extract::{Path, Request, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{authorized, decode_cursor, encode_cursor, max_results};
use crate::api::ApiError;
use crate::params::Params;
use crate::service::Kino;
use crate::url::validate_public_id;

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .route("/v1_1/{cloud}/folders", get(root))
        .route(
            "/v1_1/{cloud}/folders/{*path}",
            get(sub).post(create).delete(remove),
        )
}

fn clean_path(raw: &str) -> Result<String, ApiError> {
    let path = raw.trim_matches('/').to_string();
    validate_public_id(&path)
        .map_err(|e| ApiError::bad_input(format!("Invalid folder path: {e}")))?;
    Ok(path)
}

fn render(folders: &[String], params: &Params) -> Result<Json<Value>, ApiError> {
    let limit = max_results(params, 50)? as usize;
    let total = folders.len();
    let start = match params.get("next_cursor") {
        Some(c) => decode_cursor(c)?
            .parse::<usize>()
            .map_err(|_| ApiError::bad_input(format!("Invalid next_cursor {c:?}")))?,
        None => 0,
    };
    let page: Vec<Value> = folders
        .iter()
        .skip(start)
        .take(limit)
        .map(|path| {
            let name = path.rsplit('/').next().unwrap_or(path);
            json!({"name": name, "path": path, "external_id": path})
        })
        .collect();
    let end = start + page.len();
    let next = (end < total).then(|| encode_cursor(&end.to_string()));
    Ok(Json(
        json!({"folders": page, "next_cursor": next, "total_count": total}),
    ))
}

async fn root(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let folders = kino.catalog.subfolders(&cloud, "").await?;
    render(&folders, &params)
}

async fn sub(
    State(kino): State<Kino>,
    Path((cloud, path)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let path = clean_path(&path)?;
    if !kino.catalog.folder_exists(&cloud, &path).await? {
        return Err(ApiError::not_found(format!(
            "Can't find folder with path {path}"
        )));
    }
    let folders = kino.catalog.subfolders(&cloud, &path).await?;
    render(&folders, &params)
}

async fn create(
    State(kino): State<Kino>,
    Path((cloud, path)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    let path = clean_path(&path)?;
    kino.catalog.create_folder(&cloud, &path).await?;
    let name = path.rsplit('/').next().unwrap_or(&path).to_string();
    Ok(Json(
        json!({"success": true, "path": path, "name": name, "external_id": path}),
    ))
}

async fn remove(
    State(kino): State<Kino>,
    Path((cloud, path)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    let path = clean_path(&path)?;
    kino.catalog.delete_folder(&cloud, &path).await?;
    Ok(Json(json!({"deleted": [path]})))
}
