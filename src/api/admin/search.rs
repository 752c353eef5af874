//! The Search API: `POST /resources/search` with a JSON body (the SDKs), or `GET` with the
//! same fields as query parameters (`sort_by`, `aggregate`, `with_field` as JSON or
//! comma-separated). Expressions are parsed by `crate::search`; a mistake is a 400 naming it.

use axum::extract::{Path, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{decode_cursor, encode_cursor};
use crate::api::ApiError;
use crate::api::json::list_item;
use crate::catalog::SortKey;
use crate::search::{Expr, Field, parse};
use crate::service::Kino;

pub(super) fn routes() -> Router<Kino> {
    Router::new().route("/v1_1/{cloud}/resources/search", get(search).post(search))
}

/// What the request asked for, from a JSON body or the query string.
fn body_of(query: Option<&str>, bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        return match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(ApiError::bad_input("The search body must be a JSON object")),
        };
    }
    let mut map = Map::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = serde_json::from_str::<Value>(&v)
            .ok()
            .filter(|j| j.is_array() || j.is_object())
            .unwrap_or_else(|| Value::String(v.to_string()));
        map.insert(k.trim_end_matches("[]").to_string(), value);
    }
    Ok(map)
}

/// A list field: a JSON array, or a comma-separated string.
fn list(body: &Map<String, Value>, key: &str) -> Vec<Value> {
    match body.get(key) {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|x| Value::String(x.trim().to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

fn field(name: &str) -> Result<Field, ApiError> {
    Field::parse(name)
        .ok_or_else(|| ApiError::bad_input(format!("Cannot sort or aggregate by {name:?}")))
}

fn sort_keys(body: &Map<String, Value>) -> Result<Vec<SortKey>, ApiError> {
    let mut keys = Vec::new();
    for item in list(body, "sort_by") {
        let (name, direction) = match &item {
            Value::Object(o) => match o.iter().next() {
                Some((k, v)) => (k.clone(), v.as_str().unwrap_or("desc").to_string()),
                None => continue,
            },
            Value::String(s) => (s.clone(), "desc".to_string()),
            _ => continue,
        };
        let ascending = match direction.as_str() {
            "asc" => true,
            "desc" => false,
            other => {
                return Err(ApiError::bad_input(format!(
                    "Invalid sort direction {other:?}: use asc or desc"
                )));
            }
        };
        keys.push(SortKey {
            field: field(&name)?,
            ascending,
        });
    }
    Ok(keys)
}

async fn search(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let started = std::time::Instant::now();
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let env = kino.authorize_admin(&cloud, header.as_deref()).await?;
    let query = request.uri().query().map(str::to_string);
    let limit = usize::try_from(kino.limits.max_form_bytes).unwrap_or(1 << 20);
    let bytes = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|e| ApiError::bad_input(format!("Unreadable body: {e}")))?;
    let body = body_of(query.as_deref(), &bytes)?;

    let expression = body.get("expression").and_then(Value::as_str).unwrap_or("");
    let expr = parse(expression).map_err(|e| ApiError::bad_input(e.to_string()))?;
    let max_results = match body.get("max_results") {
        None => 50,
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|n| (0..=500).contains(n))
            .ok_or_else(|| ApiError::bad_input(format!("Invalid max_results {v}: 0 to 500")))?,
    };
    let offset = match body.get("next_cursor").and_then(Value::as_str) {
        Some(c) => decode_cursor(c)?
            .parse::<i64>()
            .map_err(|_| ApiError::bad_input(format!("Invalid next_cursor {c:?}")))?,
        None => 0,
    };
    let found = kino
        .catalog
        .search_assets(&cloud, &expr, &sort_keys(&body)?, max_results, offset)
        .await?;
    let with: Vec<String> = list(&body, "with_field")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let resources: Vec<Value> = found
        .assets
        .iter()
        .map(|a| {
            let mut item = list_item(
                &kino,
                &env,
                a,
                with.iter().any(|w| w == "tags"),
                with.iter().any(|w| w == "context"),
            );
            if with.iter().any(|w| w == "metadata") {
                item["metadata"] = json!(a.metadata);
            }
            item["status"] = json!("active");
            item["filename"] = json!(a.public_id.rsplit('/').next().unwrap_or_default());
            item
        })
        .collect();
    let mut answer = json!({
        "total_count": found.total,
        "resources": resources,
    });
    let next = offset + found.assets.len() as i64;
    if max_results > 0 && next < found.total {
        answer["next_cursor"] = json!(encode_cursor(&next.to_string()));
    }
    let aggregate = list(&body, "aggregate");
    if !aggregate.is_empty() {
        answer["aggregations"] = aggregations(&kino, &cloud, &expr, &aggregate).await?;
    }
    answer["time"] = json!(started.elapsed().as_millis() as u64);
    Ok(Json(answer))
}

/// Counts per value of each field in `aggregate` (`format`, `resource_type`, `type`).
async fn aggregations(
    kino: &Kino,
    cloud: &str,
    expr: &Expr,
    aggregate: &[Value],
) -> Result<Value, ApiError> {
    let mut out = Map::new();
    for a in aggregate {
        let name = a.as_str().unwrap_or_default();
        let f = field(name)
            .ok()
            .filter(|f| matches!(f, Field::Format | Field::ResourceType | Field::Type));
        let Some(f) = f else {
            return Err(ApiError::bad_input(format!(
                "Cannot aggregate by {a}: only format, resource_type and type"
            )));
        };
        let counts = kino.catalog.search_counts(cloud, expr, f).await?;
        out.insert(
            name.to_string(),
            Value::Object(counts.into_iter().map(|(k, n)| (k, json!(n))).collect()),
        );
    }
    Ok(Value::Object(out))
}
