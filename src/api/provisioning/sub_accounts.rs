//! `sub_accounts`: list, create, show, update and delete product environments.

use axum::extract::{Path, Request, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::authorized;
use crate::api::ApiError;
use crate::api::extract::{read_json_object, read_params};
use crate::api::json::iso;
use crate::catalog::Environment;
use crate::service::Kino;
use crate::service::environments::{EnvironmentChange, EnvironmentFilter};

pub(super) fn routes() -> Router<Kino> {
    const ALL: &str = "/v1_1/provisioning/accounts/{account}/sub_accounts";
    Router::new().route(ALL, get(list).post(create)).route(
        &format!("{ALL}/{{id}}"),
        get(show).put(update).delete(remove),
    )
}

/// An environment as the Provisioning API shows it, with its enabled keys, oldest first.
async fn render(kino: &Kino, env: &Environment) -> Result<Value, ApiError> {
    let keys: Vec<Value> = kino
        .api_keys(env)
        .await?
        .iter()
        .filter(|k| k.enabled)
        .map(|k| json!({"key": k.api_key, "secret": k.api_secret, "enabled": k.enabled}))
        .collect();
    Ok(json!({
        "id": env.id,
        "name": env.name,
        "cloud_name": env.cloud,
        "enabled": env.enabled,
        "created_at": iso(&env.created_at),
        "custom_attributes": env.custom_attributes,
        "api_access_keys": keys,
    }))
}

async fn list(
    State(kino): State<Kino>,
    Path(account): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &account, &request)?;
    let params = read_params(&kino, request).await?;
    let filter = EnvironmentFilter {
        enabled: params.bool("enabled")?,
        ids: params.list("ids"),
        prefix: params.get("prefix").map(str::to_string),
    };
    let mut shown = Vec::new();
    for env in kino.environments(&filter).await? {
        shown.push(render(&kino, &env).await?);
    }
    Ok(Json(json!({ "sub_accounts": shown })))
}

async fn create(
    State(kino): State<Kino>,
    Path(account): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &account, &request)?;
    let body = read_json_object(&kino, request).await?;
    let base = text(&body, "base_sub_account_id")?;
    let env = kino.create_environment(change(&body)?, base).await?;
    Ok(Json(render(&kino, &env).await?))
}

async fn show(
    State(kino): State<Kino>,
    Path((account, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &account, &request)?;
    let env = kino.environment_by_id(&id).await?;
    Ok(Json(render(&kino, &env).await?))
}

async fn update(
    State(kino): State<Kino>,
    Path((account, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &account, &request)?;
    let body = read_json_object(&kino, request).await?;
    let env = kino.update_environment(&id, change(&body)?).await?;
    Ok(Json(render(&kino, &env).await?))
}

async fn remove(
    State(kino): State<Kino>,
    Path((account, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &account, &request)?;
    kino.delete_environment(&id).await?;
    Ok(Json(json!({"message": "ok"})))
}

/// The fields a creation or an update sets, from a JSON body. The SDKs send booleans as
/// `"true"`/`"false"` and may send the attributes as JSON text.
fn change(body: &Value) -> Result<EnvironmentChange, ApiError> {
    let enabled = match body.get("enabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") || s == "1" => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s == "0" => Some(false),
        Some(other) => {
            return Err(ApiError::bad_input(format!(
                "Invalid enabled {other}: expected true or false"
            )));
        }
    };
    let custom_attributes = match body.get("custom_attributes") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(Value::String(s)) => {
            Some(serde_json::from_str::<Map<String, Value>>(s).map_err(|_| {
                ApiError::bad_input("Invalid custom_attributes: expected a JSON object")
            })?)
        }
        Some(_) => {
            return Err(ApiError::bad_input(
                "Invalid custom_attributes: expected a JSON object",
            ));
        }
    };
    Ok(EnvironmentChange {
        name: text(body, "name")?.map(str::to_string),
        cloud_name: text(body, "cloud_name")?.map(str::to_string),
        custom_attributes,
        enabled,
    })
}

/// A string field; absent, null and empty are `None`, anything but a string is a 400.
fn text<'a>(body: &'a Value, key: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::bad_input(format!(
            "Invalid {key} {other}: expected a string"
        ))),
    }
}
