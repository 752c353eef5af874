//! `access_keys`: `/v1_1/provisioning/accounts/{account}/sub_accounts/{environment}/
//! access_keys[/{api_key}]`, the keys of one product environment (named by its id).

use axum::extract::{Path, Request, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::api::ApiError;
use crate::api::extract::read_params;
use crate::catalog::{ApiKey, Environment, KeyChoice};
use crate::params::Params;
use crate::service::Kino;

pub(super) fn routes() -> Router<Kino> {
    const KEYS: &str =
        "/v1_1/provisioning/accounts/{account}/sub_accounts/{environment}/access_keys";
    Router::new()
        .route(KEYS, get(list).post(generate).delete(remove_by_name))
        .route(&format!("{KEYS}/{{api_key}}"), put(update).delete(remove))
}

/// Checks the account's credentials, finds the environment and reads the parameters.
async fn authorized(
    kino: &Kino,
    account: &str,
    environment: &str,
    request: Request,
) -> Result<(Environment, Params), ApiError> {
    super::authorized(kino, account, &request)?;
    let env = kino.environment_by_id(environment).await?;
    Ok((env, read_params(kino, request).await?))
}

fn render(key: &ApiKey) -> Value {
    json!({
        "name": key.name,
        "api_key": key.api_key,
        "api_secret": key.api_secret,
        "created_at": key.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "updated_at": key.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "enabled": key.enabled,
    })
}

async fn list(
    State(kino): State<Kino>,
    Path((account, environment)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized(&kino, &account, &environment, request).await?;
    let mut keys = kino.api_keys(&env).await?;
    let by = params.get("sort_by").unwrap_or("created_at");
    match by {
        "api_key" => keys.sort_by(|a, b| a.api_key.cmp(&b.api_key)),
        "created_at" => keys.sort_by_key(|k| k.created_at),
        "name" => keys.sort_by(|a, b| a.name.cmp(&b.name)),
        "enabled" => keys.sort_by_key(|k| k.enabled),
        other => return Err(ApiError::bad_input(format!("Invalid sort_by {other:?}"))),
    }
    match params.get("sort_order").unwrap_or("desc") {
        "desc" => keys.reverse(),
        "asc" => {}
        other => return Err(ApiError::bad_input(format!("Invalid sort_order {other:?}"))),
    }
    let total = keys.len();
    if let Some(size) = params.u64("page_size")? {
        let size = usize::try_from(size.clamp(1, 1000)).unwrap_or(1000);
        let page = usize::try_from(params.u64("page")?.unwrap_or(1).max(1)).unwrap_or(1);
        keys = keys
            .into_iter()
            .skip((page - 1) * size)
            .take(size)
            .collect();
    }
    Ok(Json(json!({
        "access_keys": keys.iter().map(render).collect::<Vec<_>>(),
        "total": total,
    })))
}

async fn generate(
    State(kino): State<Kino>,
    Path((account, environment)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized(&kino, &account, &environment, request).await?;
    let key = kino
        .generate_api_key(&env, params.get("name"), params.bool("enabled")?)
        .await?;
    Ok(Json(render(&key)))
}

async fn update(
    State(kino): State<Kino>,
    Path((account, environment, api_key)): Path<(String, String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized(&kino, &account, &environment, request).await?;
    let key = kino
        .update_api_key(&env, &api_key, params.get("name"), params.bool("enabled")?)
        .await?;
    Ok(Json(render(&key)))
}

async fn remove(
    State(kino): State<Kino>,
    Path((account, environment, api_key)): Path<(String, String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, _) = authorized(&kino, &account, &environment, request).await?;
    kino.delete_api_key(&env, KeyChoice::Key(&api_key)).await?;
    Ok(Json(json!({"message": "ok"})))
}

async fn remove_by_name(
    State(kino): State<Kino>,
    Path((account, environment)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (env, params) = authorized(&kino, &account, &environment, request).await?;
    let name = params
        .get("name")
        .ok_or_else(|| ApiError::bad_input("Missing required parameter - name"))?;
    kino.delete_api_key(&env, KeyChoice::Name(name)).await?;
    Ok(Json(json!({"message": "ok"})))
}
