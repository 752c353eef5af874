//! Background jobs and how far they have got (a Kino addition to the Admin API): eager
//! transformations queued with `eager_async`, whole streaming ladders among them, and
//! notifications. An eager job's id is the `batch_id` its upload answered with.

use axum::extract::{Path, Request, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use super::{authorized, max_results};
use crate::api::ApiError;
use crate::service::Kino;
use crate::service::progress::JobView;

pub(super) fn routes() -> Router<Kino> {
    Router::new()
        .route("/v1_1/{cloud}/jobs", get(list))
        .route("/v1_1/{cloud}/jobs/{id}", get(show))
}

async fn list(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let params = authorized(&kino, &cloud, request).await?;
    let limit = i64::from(max_results(&params, 20)?);
    let jobs: Vec<Value> = kino.jobs(&cloud, limit).await?.iter().map(render).collect();
    Ok(Json(json!({ "jobs": jobs })))
}

async fn show(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    authorized(&kino, &cloud, request).await?;
    Ok(Json(render(&kino.job(&cloud, &id).await?)))
}

fn render(view: &JobView) -> Value {
    let time = |ms: i64| {
        Utc.timestamp_millis_opt(ms)
            .single()
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    let row = &view.row;
    json!({
        "id": row.id,
        "kind": row.kind,
        "state": row.state,
        "progress": (view.progress * 1000.0).round() / 1000.0,
        "attempts": row.attempts,
        "public_id": view.public_id,
        "batch_id": view.batch_id,
        "last_error": row.last_error,
        "created_at": time(row.created_at),
        "updated_at": time(row.updated_at),
    })
}
