//! Admin streaming profiles: list, get, create, update, delete (`/streaming_profiles`), in the
//! `{"data": …}` envelope the SDKs read.

use axum::extract::{Path, Request, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::authorized;
use crate::api::ApiError;
use crate::params::Params;
use crate::service::Kino;

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .route("/v1_1/{cloud}/streaming_profiles", get(list).post(create))
        .route(
            "/v1_1/{cloud}/streaming_profiles/{name}",
            get(show).put(update).delete(remove),
        )
}

async fn list(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    let profiles = kino.streaming_profiles(&cloud).await?;
    let data: Vec<Value> = profiles.iter().map(|p| p.to_json(false)).collect();
    Ok(Json(json!({ "data": data })))
}

async fn show(
    State(kino): State<Kino>,
    Path((cloud, name)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    let profile = kino.streaming_profile(&cloud, &name).await?;
    Ok(Json(json!({ "data": profile.to_json(true) })))
}

async fn create(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let name = params
        .get("name")
        .ok_or_else(|| ApiError::bad_input("Missing required parameter - name"))?;
    let reps = representations(&params)?
        .ok_or_else(|| ApiError::bad_input("Missing required parameter - representations"))?;
    let display = params.get("display_name").map(str::to_string);
    let profile = kino
        .create_streaming_profile(&cloud, name, display, &reps)
        .await?;
    Ok(Json(
        json!({ "message": "created", "data": profile.to_json(true) }),
    ))
}

async fn update(
    State(kino): State<Kino>,
    Path((cloud, name)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let reps = representations(&params)?;
    let display = params.get("display_name").map(str::to_string);
    let profile = kino
        .update_streaming_profile(&cloud, &name, display, reps.as_ref())
        .await?;
    Ok(Json(
        json!({ "message": "updated", "data": profile.to_json(true) }),
    ))
}

async fn remove(
    State(kino): State<Kino>,
    Path((cloud, name)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    kino.delete_streaming_profile(&cloud, &name).await?;
    Ok(Json(json!({ "message": "deleted" })))
}

/// `representations` as sent: one JSON text (Python's JSON string, Node's form field), or a
/// JSON array the body parser split into one value per element.
fn representations(params: &Params) -> Result<Option<Value>, ApiError> {
    let values = params.values("representations");
    // JSON text, or a bare transformation string (an array element of URL syntax).
    let parse = |text: &str| {
        serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_string()))
    };
    Ok(match values.as_slice() {
        [] => None,
        [one] => Some(match parse(one) {
            Value::Array(items) => Value::Array(items),
            other => Value::Array(vec![other]),
        }),
        many => Some(Value::Array(many.iter().map(|v| parse(v)).collect())),
    })
}
