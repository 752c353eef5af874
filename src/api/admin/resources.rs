//! Admin resources: list (by type, prefix, ids, tag), details, update, delete; tags listing.

use axum::extract::{Path, Request, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{authorized, authorized_in, decode_cursor, encode_cursor, max_results};
use crate::api::ApiError;
use crate::api::json::{details, list_item};
use crate::catalog::{Direction, Environment, ListQuery};
use crate::params::{Params, parse_context};
use crate::service::Kino;
use crate::service::resources::{DeleteScope, Selection, TagCommand};
use crate::url::{DeliveryType, ResourceType, parse_eager};

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .route("/v1_1/{cloud}/resources", get(resource_types))
        .route(
            "/v1_1/{cloud}/resources/{rt}",
            get(list_by_rt).delete(delete_by_rt),
        )
        .route(
            "/v1_1/{cloud}/resources/{rt}/tags/{tag}",
            get(list_by_tag).delete(delete_by_tag),
        )
        .route(
            "/v1_1/{cloud}/resources/{rt}/{dt}",
            get(list_by_type).delete(delete_by_type),
        )
        .route(
            "/v1_1/{cloud}/resources/{rt}/{dt}/{*public_id}",
            get(show).post(update),
        )
        .route("/v1_1/{cloud}/tags/{rt}", get(list_tags))
        .route(
            "/v1_1/{cloud}/derived_resources",
            axum::routing::delete(delete_derived),
        )
}

fn resource_type(raw: &str) -> Result<ResourceType, ApiError> {
    ResourceType::parse(raw).ok_or_else(|| {
        ApiError::bad_input(format!(
            "Invalid resource type {raw:?}: expected image, video or raw"
        ))
    })
}

fn delivery_type(raw: &str) -> Result<DeliveryType, ApiError> {
    DeliveryType::parse(raw).ok_or_else(|| {
        ApiError::bad_input(format!(
            "Invalid type {raw:?}: expected upload, private, authenticated or fetch"
        ))
    })
}

async fn resource_types(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    Ok(Json(json!({"resource_types": ["image", "raw", "video"]})))
}

/// Runs a listing and renders `{"resources":[…],"next_cursor":…}`.
async fn list(
    kino: &Kino,
    env: &Environment,
    mut query: ListQuery,
    params: &Params,
) -> Result<Json<Value>, ApiError> {
    query.limit = max_results(params, 10)?;
    query.direction = match params.get("direction") {
        None | Some("desc") | Some("-1") => Direction::Desc,
        Some("asc") | Some("1") => Direction::Asc,
        Some(other) => {
            return Err(ApiError::bad_input(format!(
                "Invalid direction {other:?}: expected asc or desc"
            )));
        }
    };
    if let Some(cursor) = params.get("next_cursor") {
        let position = decode_cursor(cursor)?;
        query.after_row = Some(
            position
                .parse()
                .map_err(|_| ApiError::bad_input(format!("Invalid next_cursor {cursor:?}")))?,
        );
    }
    if query.prefix.is_none() {
        query.prefix = params.get("prefix").map(str::to_string);
    }
    query.public_ids = params.values("public_ids");
    let with_tags = params.bool("tags")?.unwrap_or(false);
    let with_context = params.bool("context")?.unwrap_or(false);
    let page = kino.catalog.list_assets(&query).await?;
    let resources: Vec<Value> = page
        .items
        .iter()
        .map(|a| list_item(kino, env, a, with_tags, with_context))
        .collect();
    let mut body = json!({"resources": resources});
    if let Some(row) = page.next_row {
        body["next_cursor"] = json!(encode_cursor(&row.to_string()));
    }
    Ok(Json(body))
}

fn base_query(cloud: &str, rt: ResourceType) -> ListQuery {
    ListQuery {
        cloud: cloud.to_string(),
        resource_type: Some(rt),
        ..ListQuery::default()
    }
}

async fn list_by_rt(
    State(kino): State<Kino>,
    Path((cloud, rt)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized_in(&kino, &cloud, request).await?;
    let mut query = base_query(&cloud, resource_type(&rt)?);
    query.delivery_type = params.get("type").map(delivery_type).transpose()?;
    list(&kino, &env, query, &params).await
}

async fn list_by_type(
    State(kino): State<Kino>,
    Path((cloud, rt, dt)): Path<(String, String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized_in(&kino, &cloud, request).await?;
    let mut query = base_query(&cloud, resource_type(&rt)?);
    query.delivery_type = Some(delivery_type(&dt)?);
    list(&kino, &env, query, &params).await
}

async fn list_by_tag(
    State(kino): State<Kino>,
    Path((cloud, rt, tag)): Path<(String, String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized_in(&kino, &cloud, request).await?;
    let mut query = base_query(&cloud, resource_type(&rt)?);
    query.tag = Some(tag);
    list(&kino, &env, query, &params).await
}

async fn show(
    State(kino): State<Kino>,
    Path((cloud, rt, dt, public_id)): Path<(String, String, String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized_in(&kino, &cloud, request).await?;
    let asset = kino
        .require_asset(&cloud, resource_type(&rt)?, delivery_type(&dt)?, &public_id)
        .await?;
    let derived = kino.catalog.list_derived(&asset.asset_id).await?;
    let mut body = details(&kino, &env, &asset, &derived);
    if params.bool("versions")?.unwrap_or(false) {
        let versions = kino.catalog.versions(&cloud, &asset.asset_id).await?;
        body["versions"] = super::versions::versions_json(&asset, &versions);
    }
    Ok(Json(body))
}

async fn update(
    State(kino): State<Kino>,
    Path((cloud, rt, dt, public_id)): Path<(String, String, String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized_in(&kino, &cloud, request).await?;
    let (rt, dt) = (resource_type(&rt)?, delivery_type(&dt)?);
    let asset = kino.require_asset(&cloud, rt, dt, &public_id).await?;
    if params.contains("tags") || params.iter().any(|(k, v)| k == "tags" && v.is_empty()) {
        let tags = params.list("tags");
        let command = if tags.is_empty() {
            TagCommand::RemoveAll
        } else {
            TagCommand::Replace
        };
        kino.tag_assets(
            &cloud,
            rt,
            dt,
            std::slice::from_ref(&public_id),
            command,
            &tags,
        )
        .await?;
    }
    if let Some(raw) = params.get("context") {
        kino.catalog
            .set_context(&asset, &parse_context(raw)?)
            .await?;
    }
    if let Some(raw) = params.get("metadata") {
        kino.update_metadata(&cloud, rt, dt, std::slice::from_ref(&public_id), raw, false)
            .await?;
    }
    let asset = kino.require_asset(&cloud, rt, dt, &public_id).await?;
    let derived = kino.catalog.list_derived(&asset.asset_id).await?;
    Ok(Json(details(&kino, &env, &asset, &derived)))
}

/// Renders a bulk-delete result.
async fn delete(
    kino: &Kino,
    cloud: &str,
    rt: ResourceType,
    dt: Option<DeliveryType>,
    selection: Selection,
    params: &Params,
) -> Result<Json<Value>, ApiError> {
    let scope = DeleteScope {
        keep_original: params.bool("keep_original")?.unwrap_or(false),
        transformations: params
            .get("transformations")
            .map(parse_eager)
            .transpose()
            .map_err(|e| ApiError::bad_input(e.to_string()))?,
    };
    let result = kino
        .delete_selection(cloud, rt, dt, selection, &scope)
        .await?;
    let counts: serde_json::Map<String, Value> = result
        .counts
        .iter()
        .map(|(id, (original, derived))| {
            (
                id.clone(),
                json!({"original": original, "derived": derived}),
            )
        })
        .collect();
    Ok(Json(json!({
        "deleted": result.outcome,
        "deleted_counts": counts,
        "partial": result.partial,
    })))
}

fn selection(params: &Params) -> Result<Selection, ApiError> {
    let ids = params.values("public_ids");
    if !ids.is_empty() {
        return Ok(Selection::PublicIds(ids));
    }
    if let Some(prefix) = params.get("prefix") {
        return Ok(Selection::Prefix(prefix.to_string()));
    }
    if params.bool("all")?.unwrap_or(false) {
        return Ok(Selection::All);
    }
    Err(ApiError::bad_input(
        "Missing required parameter - public_ids, prefix or all",
    ))
}

async fn delete_by_rt(
    State(kino): State<Kino>,
    Path((cloud, rt)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let dt = params
        .get("type")
        .map(delivery_type)
        .transpose()?
        .unwrap_or(DeliveryType::Upload);
    delete(
        &kino,
        &cloud,
        resource_type(&rt)?,
        Some(dt),
        selection(&params)?,
        &params,
    )
    .await
}

async fn delete_by_type(
    State(kino): State<Kino>,
    Path((cloud, rt, dt)): Path<(String, String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    delete(
        &kino,
        &cloud,
        resource_type(&rt)?,
        Some(delivery_type(&dt)?),
        selection(&params)?,
        &params,
    )
    .await
}

async fn delete_by_tag(
    State(kino): State<Kino>,
    Path((cloud, rt, tag)): Path<(String, String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    delete(
        &kino,
        &cloud,
        resource_type(&rt)?,
        None,
        Selection::Tag(tag),
        &params,
    )
    .await
}

/// `DELETE /derived_resources`: derived files by id.
async fn delete_derived(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let ids = params.values("derived_resource_ids");
    if ids.is_empty() {
        return Err(ApiError::bad_input(
            "Missing required parameter - derived_resource_ids",
        ));
    }
    let outcome = kino.delete_derived_ids(&cloud, &ids).await?;
    Ok(Json(json!({ "deleted": outcome })))
}

async fn list_tags(
    State(kino): State<Kino>,
    Path((cloud, rt)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let limit = max_results(&params, 10)?;
    let after = params.get("next_cursor").map(decode_cursor).transpose()?;
    let (tags, more) = kino
        .catalog
        .list_tags(
            &cloud,
            resource_type(&rt)?,
            params.get("prefix"),
            after.as_deref(),
            limit,
        )
        .await?;
    let mut body = json!({"tags": tags});
    if more && let Some(last) = tags.last() {
        body["next_cursor"] = json!(encode_cursor(last));
    }
    Ok(Json(body))
}
