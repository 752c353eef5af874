//! Admin upload mappings: `/upload_mappings` with the folder as a parameter (list, one,
//! create, update, delete), the shapes the SDKs' `upload_mapping*` calls expect.

use axum::extract::{Path, Request, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{authorized, decode_cursor, encode_cursor, max_results};
use crate::api::ApiError;
use crate::catalog::UploadMapping;
use crate::params::Params;
use crate::service::Kino;
use crate::service::mappings::check_mapping;

pub(super) fn routes() -> Router<Kino> {
    Router::new().route(
        "/v1_1/{cloud}/upload_mappings",
        get(show).post(create).put(update).delete(remove),
    )
}

fn render(mapping: &UploadMapping) -> Value {
    json!({"folder": mapping.folder, "template": mapping.template})
}

fn required<'p>(params: &'p Params, name: &str) -> Result<&'p str, ApiError> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_input(format!("Missing required parameter - {name}")))
}

fn mapping_of(params: &Params) -> Result<UploadMapping, ApiError> {
    let mapping = UploadMapping {
        folder: required(params, "folder")?.to_string(),
        template: required(params, "template")?.to_string(),
    };
    check_mapping(&mapping)?;
    Ok(mapping)
}

/// One mapping with `folder`, else a page of them.
async fn show(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    if let Some(folder) = params.get("folder") {
        let mapping = kino.catalog.mapping(&cloud, folder).await?.ok_or_else(|| {
            ApiError::not_found(format!("Upload mapping for folder {folder} not found"))
        })?;
        return Ok(Json(render(&mapping)));
    }
    let after = params.get("next_cursor").map(decode_cursor).transpose()?;
    let (mappings, more) = kino
        .catalog
        .list_mappings(&cloud, after.as_deref(), max_results(&params, 10)?)
        .await?;
    let next = more
        .then(|| mappings.last().map(|m| encode_cursor(&m.folder)))
        .flatten();
    let mappings: Vec<Value> = mappings.iter().map(render).collect();
    Ok(Json(json!({"mappings": mappings, "next_cursor": next})))
}

async fn create(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let mapping = mapping_of(&params)?;
    kino.catalog.create_mapping(&cloud, &mapping).await?;
    Ok(Json(
        json!({"message": "created", "folder": mapping.folder}),
    ))
}

async fn update(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let mapping = mapping_of(&params)?;
    kino.catalog.update_mapping(&cloud, &mapping).await?;
    Ok(Json(json!({"message": "updated"})))
}

async fn remove(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let folder = required(&params, "folder")?;
    kino.catalog.delete_mapping(&cloud, folder).await?;
    Ok(Json(json!({"message": "deleted"})))
}
