//! Admin upload presets: list, get, create, update, delete.

use std::collections::BTreeMap;

use axum::extract::{Path, Request, State};
use axum::routing::get;
use axum::{Json, Router};
use rand::Rng;
use serde_json::{Map, Value, json};

use super::{authorized, decode_cursor, encode_cursor, max_results};
use crate::api::ApiError;
use crate::catalog::Preset;
use crate::params::{Params, parse_context};
use crate::service::Kino;

/// Keys of a create/update body that are not upload settings.
const NOT_SETTINGS: &[&str] = &["name", "unsigned", "timestamp", "api_key", "signature"];

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .route("/v1_1/{cloud}/upload_presets", get(list).post(create))
        .route(
            "/v1_1/{cloud}/upload_presets/{name}",
            get(show).put(update).delete(remove),
        )
}

fn settings_of(params: &Params) -> BTreeMap<String, String> {
    params
        .iter()
        .filter(|(k, _)| !NOT_SETTINGS.contains(k))
        .map(|(k, v)| (k.to_string(), v.join(",")))
        .collect()
}

/// Settings as the detail view returns them: tags as an array, context as an object,
/// `1/0` strings as booleans.
fn settings_json(settings: &BTreeMap<String, String>) -> Value {
    let mut out = Map::new();
    for (key, value) in settings {
        let v = match key.as_str() {
            "tags" | "allowed_formats" => json!(
                value
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            ),
            "context" => {
                parse_context(value).map_or_else(|_| json!(value), |c| json!({"custom": c}))
            }
            _ if value == "true" || value == "1" => json!(true),
            _ if value == "false" || value == "0" => json!(false),
            _ => json!(value),
        };
        out.insert(key.clone(), v);
    }
    Value::Object(out)
}

fn render(preset: &Preset) -> Value {
    json!({
        "name": preset.name,
        "unsigned": preset.unsigned,
        "settings": settings_json(&preset.settings),
        "external_id": preset.name,
    })
}

async fn list(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let after = params.get("next_cursor").map(decode_cursor).transpose()?;
    let (presets, more) = kino
        .catalog
        .list_presets(&cloud, after.as_deref(), max_results(&params, 10)?)
        .await?;
    let next = if more {
        presets.last().map(|p| encode_cursor(&p.name))
    } else {
        None
    };
    let presets: Vec<Value> = presets.iter().map(render).collect();
    Ok(Json(json!({"presets": presets, "next_cursor": next})))
}

async fn show(
    State(kino): State<Kino>,
    Path((cloud, name)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    let preset = kino
        .catalog
        .preset(&cloud, &name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Upload preset {name} not found")))?;
    Ok(Json(render(&preset)))
}

async fn create(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let name = match params.get("name") {
        Some(n) => n.to_string(),
        None => {
            let mut rng = rand::thread_rng();
            (0..8)
                .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
                .collect()
        }
    };
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || "-_.".contains(c))
    {
        return Err(ApiError::bad_input(format!(
            "Invalid preset name {name:?}: use letters, digits, '-', '_' and '.'"
        )));
    }
    let preset = Preset {
        name: name.clone(),
        unsigned: params.bool("unsigned")?.unwrap_or(false),
        settings: settings_of(&params),
    };
    kino.catalog.create_preset(&cloud, &preset).await?;
    Ok(Json(
        json!({"message": "created", "name": name, "external_id": name}),
    ))
}

async fn update(
    State(kino): State<Kino>,
    Path((cloud, name)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    kino.catalog
        .update_preset(
            &cloud,
            &name,
            params.bool("unsigned")?,
            &settings_of(&params),
        )
        .await?;
    Ok(Json(json!({"message": "updated", "external_id": name})))
}

async fn remove(
    State(kino): State<Kino>,
    Path((cloud, name)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    kino.catalog.delete_preset(&cloud, &name).await?;
    Ok(Json(json!({"message": "deleted"})))
}
