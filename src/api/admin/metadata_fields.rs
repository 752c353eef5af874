//! The Metadata API: `/metadata_fields` (list, create, order), `/metadata_fields/{id}` (get,
//! update, delete) and the datasource of list fields (`…/datasource` put and delete,
//! `…/datasource_restore`, `…/datasource/order`). Bodies are JSON, as the SDKs send them.

use axum::extract::{Path, Request, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::authorized_json;
use crate::api::ApiError;
use crate::metadata::{Entry, Field};
use crate::service::Kino;

pub(super) fn routes() -> Router<Kino> {
    const FIELDS: &str = "/v1_1/{cloud}/metadata_fields";
    Router::new()
        .route(FIELDS, get(list).post(create))
        .route(&format!("{FIELDS}/order"), put(order_fields))
        .route(
            &format!("{FIELDS}/{{id}}"),
            get(show).put(update).delete(remove),
        )
        .route(
            &format!("{FIELDS}/{{id}}/datasource"),
            put(put_entries).delete(delete_entries),
        )
        .route(
            &format!("{FIELDS}/{{id}}/datasource_restore"),
            post(restore_entries),
        )
        .route(
            &format!("{FIELDS}/{{id}}/datasource/order"),
            post(order_entries),
        )
}

fn render(field: &Field) -> Value {
    serde_json::to_value(field).unwrap_or(Value::Null)
}

fn datasource(field: &Field) -> Json<Value> {
    Json(json!({"values": field.datasource.as_ref().map(|d| &d.values)}))
}

/// `direction`: `asc` (the default) or `desc`.
fn descending(body: &Value) -> Result<bool, ApiError> {
    match body["direction"].as_str() {
        None | Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(other) => Err(ApiError::bad_input(format!(
            "Invalid direction {other:?}: expected asc or desc"
        ))),
    }
}

fn string_list(body: &Value, key: &str) -> Result<Vec<String>, ApiError> {
    let missing = || ApiError::bad_input(format!("Missing required parameter - {key}"));
    let items = body[key].as_array().ok_or_else(missing)?;
    let list: Vec<String> = items
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if list.is_empty() || list.len() != items.len() {
        return Err(missing());
    }
    Ok(list)
}

async fn list(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized_json(&kino, &cloud, request).await?;
    let fields = kino.catalog.metadata_fields(&cloud).await?;
    let fields: Vec<Value> = fields.iter().map(render).collect();
    Ok(Json(json!({"metadata_fields": fields})))
}

async fn show(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized_json(&kino, &cloud, request).await?;
    Ok(Json(render(
        &kino.catalog.metadata_field(&cloud, &id).await?,
    )))
}

async fn create(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let body = authorized_json(&kino, &cloud, request).await?;
    let field = Field::from_json(body).map_err(|e| ApiError::bad_input(e.0))?;
    kino.catalog.create_metadata_field(&cloud, &field).await?;
    Ok(Json(render(&field)))
}

async fn update(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let body = authorized_json(&kino, &cloud, request).await?;
    let field = kino.catalog.metadata_field(&cloud, &id).await?;
    let field = field.updated(body).map_err(|e| ApiError::bad_input(e.0))?;
    kino.catalog.update_metadata_field(&cloud, &field).await?;
    Ok(Json(render(&field)))
}

async fn remove(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized_json(&kino, &cloud, request).await?;
    kino.catalog.delete_metadata_field(&cloud, &id).await?;
    Ok(Json(json!({"message": "ok"})))
}

/// Changes a field's datasource with `change`, stores it and answers with the datasource.
async fn change_datasource(
    kino: &Kino,
    cloud: &str,
    id: &str,
    change: impl FnOnce(&mut Field) -> Result<(), crate::metadata::MetadataError>,
) -> Result<Json<Value>, ApiError> {
    let mut field = kino.catalog.metadata_field(cloud, id).await?;
    change(&mut field).map_err(|e| ApiError::bad_input(e.0))?;
    kino.catalog.update_metadata_field(cloud, &field).await?;
    Ok(datasource(&field))
}

async fn put_entries(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let body = authorized_json(&kino, &cloud, request).await?;
    let entries: Vec<Entry> = serde_json::from_value(body["values"].clone())
        .map_err(|e| ApiError::bad_input(format!("Invalid datasource values: {e}")))?;
    change_datasource(&kino, &cloud, &id, |f| f.put_entries(entries)).await
}

async fn delete_entries(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let body = authorized_json(&kino, &cloud, request).await?;
    let ids = string_list(&body, "external_ids")?;
    change_datasource(&kino, &cloud, &id, |f| f.set_entries_active(&ids, false)).await
}

async fn restore_entries(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let body = authorized_json(&kino, &cloud, request).await?;
    let ids = string_list(&body, "external_ids")?;
    change_datasource(&kino, &cloud, &id, |f| f.set_entries_active(&ids, true)).await
}

async fn order_entries(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let body = authorized_json(&kino, &cloud, request).await?;
    if body["order_by"].as_str() != Some("value") {
        return Err(ApiError::bad_input(
            "Invalid order_by: a datasource is ordered by value",
        ));
    }
    let desc = descending(&body)?;
    change_datasource(&kino, &cloud, &id, |f| f.order_entries(desc)).await
}

async fn order_fields(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let body = authorized_json(&kino, &cloud, request).await?;
    let desc = descending(&body)?;
    let mut fields = kino.catalog.metadata_fields(&cloud).await?;
    match body["order_by"].as_str() {
        Some("label") => fields.sort_by(|a, b| a.label.cmp(&b.label)),
        Some("external_id") => fields.sort_by(|a, b| a.external_id.cmp(&b.external_id)),
        other => {
            return Err(ApiError::bad_input(format!(
                "Invalid order_by {other:?}: expected label or external_id"
            )));
        }
    }
    if desc {
        fields.reverse();
    }
    let ids: Vec<String> = fields.iter().map(|f| f.external_id.clone()).collect();
    kino.catalog.order_metadata_fields(&cloud, &ids).await?;
    let fields: Vec<Value> = fields.iter().map(render).collect();
    Ok(Json(json!({"metadata_fields": fields})))
}
