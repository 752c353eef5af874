//! `generate_archive` (`/v1_1/{cloud}/{image|video|raw|all}/generate_archive`), signed like
//! the Upload API: `POST` makes a ZIP and keeps it as a raw asset (`mode=create`, the
//! default); `GET` with `mode=download` — the URL the SDKs' `download_zip_url` and
//! `download_folder` sign — sends the ZIP back.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio_util::io::ReaderStream;

use super::ApiError;
use super::extract::read_params;
use super::json::upload_response;
use crate::params::Params;
use crate::service::Kino;
use crate::service::archive::ArchiveRequest;
use crate::url::{DeliveryType, ResourceType, parse_eager};

pub(super) fn routes() -> Router<Kino> {
    Router::new().route(
        "/v1_1/{cloud}/{resource_type}/generate_archive",
        get(generate).post(generate),
    )
}

fn archive_request(resource_type: &str, params: &Params) -> Result<ArchiveRequest, ApiError> {
    let resource_types = match resource_type {
        "all" => vec![ResourceType::Image, ResourceType::Video, ResourceType::Raw],
        other => vec![ResourceType::parse(other).ok_or_else(|| {
            ApiError::bad_input(format!(
                "Invalid resource type {other:?}: expected image, video, raw or all"
            ))
        })?],
    };
    let delivery_type = params
        .get("type")
        .map(|t| {
            DeliveryType::parse(t).ok_or_else(|| ApiError::bad_input(format!("Invalid type {t:?}")))
        })
        .transpose()?;
    match params.get("target_format").unwrap_or("zip") {
        "zip" => {}
        other => {
            return Err(ApiError::bad_input(format!(
                "Unsupported target_format {other:?}: Kino makes zip archives"
            )));
        }
    }
    let flag = |key: &str| params.bool(key).map(|b| b.unwrap_or(false));
    Ok(ArchiveRequest {
        resource_types,
        delivery_type,
        public_ids: params.values("public_ids"),
        prefixes: params.values("prefixes"),
        tags: params.values("tags"),
        transformations: parse_eager(params.get("transformations").unwrap_or_default())
            .map_err(crate::service::ServiceError::from)?,
        flatten_folders: flag("flatten_folders")?,
        flatten_transformations: flag("flatten_transformations")?,
        use_original_filename: flag("use_original_filename")?,
        allow_missing: flag("allow_missing")?,
    })
}

async fn generate(
    State(kino): State<Kino>,
    Path((cloud, resource_type)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let params = read_params(&kino, request).await?;
    let (env, _) = kino.authorize_upload(&cloud, &params, false).await?;
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    if params
        .u64("expires_at")?
        .is_some_and(|expires| expires < now)
    {
        return Err(ApiError::bad_input("This archive URL has expired"));
    }
    let mode = params.get("mode").unwrap_or("create").to_string();
    if !matches!(mode.as_str(), "create" | "download" | "create_and_download") {
        return Err(ApiError::bad_input(format!(
            "Invalid mode {mode:?}: expected create, download or create_and_download"
        )));
    }
    let asked = archive_request(&resource_type, &params)?;
    let archive = kino.build_archive(&cloud, &asked).await?;
    if mode == "download" {
        return download(archive.file).await;
    }
    let asset = kino
        .keep_archive(
            &cloud,
            archive.file,
            params.get("target_public_id"),
            &params.values("target_tags"),
        )
        .await?;
    if mode == "create_and_download" {
        let reader = kino.store.read(&asset.blob_key, None).await?;
        return Ok(zip_response(
            asset.bytes,
            Body::from_stream(ReaderStream::new(reader)),
        ));
    }
    let mut body = upload_response(&kino, &env, &asset, false, false);
    body["resource_count"] = json!(archive.resource_count);
    body["file_count"] = json!(archive.file_count);
    if asked.allow_missing {
        body["missing_public_ids"] = json!(archive.missing_public_ids);
    }
    Ok(axum::Json(body).into_response())
}

/// Streams a staged archive; the staging file goes when the response is done (it stays
/// readable through the open handle after its name is removed).
async fn download(file: crate::store::StagedFile) -> Result<Response, ApiError> {
    let len = file.len();
    let handle = tokio::fs::File::open(file.path()).await.map_err(|e| {
        ApiError::new(
            crate::error::ErrorKind::Internal,
            format!("opening the archive: {e}"),
        )
    })?;
    drop(file);
    Ok(zip_response(
        i64::try_from(len).unwrap_or(i64::MAX),
        Body::from_stream(ReaderStream::new(handle)),
    ))
}

fn zip_response(len: i64, body: Body) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"archive.zip\""),
    );
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        headers.insert(header::CONTENT_LENGTH, v);
    }
    response
}
