//! Turning request bodies into [`Params`] (and, for uploads, a staged file).
//!
//! The SDKs send the same call as multipart, urlencoded, JSON or a query string; all of them
//! end up as one `Params`. Upload file parts stream straight into the staging area.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use futures::TryStreamExt;

use super::ApiError;
use crate::params::Params;
use crate::service::Kino;
use crate::store::StagedFile;

/// What the `file` parameter of an upload was.
#[derive(Debug)]
pub enum FileSource {
    /// Bytes of a file part, already staged; with the client's filename.
    Staged(StagedFile, Option<String>),
    /// A remote `http(s)://` URL or a `data:` URI, to be fetched or decoded.
    Text(String),
}

/// An upload request: its parameters and its file, if any.
#[derive(Debug)]
pub struct UploadBody {
    pub params: Params,
    pub file: Option<FileSource>,
}

fn content_type(request: &Request) -> String {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn query_params(request: &Request) -> Params {
    let mut params = Params::new();
    if let Some(q) = request.uri().query() {
        params.extend_urlencoded(q.as_bytes());
    }
    params
}

async fn read_limited(body: Body, limit: u64) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| {
            ApiError::new(
                crate::error::ErrorKind::TooLarge,
                format!("Request body is larger than {limit} bytes"),
            )
        })
}

/// Adds a urlencoded or JSON body to `params`.
fn extend_from_bytes(
    params: &mut Params,
    content_type: &str,
    bytes: &[u8],
) -> Result<(), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    if content_type.starts_with("application/json") || bytes.first() == Some(&b'{') {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_input(format!("Malformed JSON body: {e}")))?;
        let object = value
            .as_object()
            .ok_or_else(|| ApiError::bad_input("JSON body must be an object"))?;
        params.extend_json(object);
    } else if content_type.is_empty()
        || content_type.starts_with("application/x-www-form-urlencoded")
        || content_type.starts_with("text/plain")
    {
        params.extend_urlencoded(bytes);
    } else {
        return Err(ApiError::bad_input(format!(
            "Unsupported content type {content_type:?}"
        )));
    }
    Ok(())
}

/// Reads query + body parameters of an Admin or non-upload call; file parts are refused.
pub async fn read_params(kino: &Kino, request: Request) -> Result<Params, ApiError> {
    let UploadBody { params, file } = read_upload(kino, request, false).await?;
    if file.is_some() {
        return Err(ApiError::bad_input("This call takes no file"));
    }
    Ok(params)
}

/// Reads a JSON object body (for calls whose parameters nest, which flat parameters cannot
/// hold); no body is `{}`.
pub async fn read_json_object(
    kino: &Kino,
    request: Request,
) -> Result<serde_json::Value, ApiError> {
    let limit = usize::try_from(kino.limits.max_form_bytes).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| ApiError::bad_input("The body is too large or was cut short"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::json!({}));
    }
    let body: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_input(format!("Malformed JSON body: {e}")))?;
    if !body.is_object() {
        return Err(ApiError::bad_input("The body must be a JSON object"));
    }
    Ok(body)
}

/// Reads an upload: parameters from query and body, the `file` part streamed to staging.
pub async fn read_upload(
    kino: &Kino,
    request: Request,
    accept_file: bool,
) -> Result<UploadBody, ApiError> {
    let mut params = query_params(&request);
    let ctype = content_type(&request);
    let mut file = None;
    if ctype.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| {
            ApiError::bad_input(format!("Malformed multipart body: {}", e.body_text()))
        })?;
        while let Some(field) = multipart.next_field().await.map_err(|e| {
            ApiError::bad_input(format!("Malformed multipart body: {}", e.body_text()))
        })? {
            let name = field.name().unwrap_or_default().to_string();
            if name == "file" && accept_file {
                file = Some(read_file_field(kino, field).await?);
            } else {
                let text = read_text_field(field, kino.limits.max_form_bytes).await?;
                params.push(&name, text);
            }
        }
    } else {
        let bytes = read_limited(request.into_body(), kino.limits.max_form_bytes).await?;
        extend_from_bytes(&mut params, &ctype, &bytes)?;
        if accept_file && let Some(values) = params.remove("file") {
            file = values
                .into_iter()
                .find(|v| !v.is_empty())
                .map(FileSource::Text);
        }
    }
    Ok(UploadBody { params, file })
}

async fn read_text_field(
    field: axum::extract::multipart::Field<'_>,
    limit: u64,
) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    let mut stream = field
        .map_err(|e| ApiError::bad_input(format!("Malformed multipart body: {}", e.body_text())));
    while let Some(chunk) = stream.try_next().await? {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(ApiError::new(
                crate::error::ErrorKind::TooLarge,
                format!("A form field is larger than {limit} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ApiError::bad_input("A form field is not valid UTF-8"))
}

/// A file part streams to staging. A part without a filename that holds a URL or data URI
/// is that text; any other part is file bytes.
async fn read_file_field(
    kino: &Kino,
    field: axum::extract::multipart::Field<'_>,
) -> Result<FileSource, ApiError> {
    let filename = field.file_name().map(str::to_string);
    let mut staged = kino.staging.create(kino.max_upload_bytes()).await?;
    let mut stream =
        field.map_err(|e| ApiError::bad_input(format!("Upload interrupted: {}", e.body_text())));
    while let Some(chunk) = stream.try_next().await? {
        staged
            .write(&chunk)
            .await
            .map_err(crate::service::ServiceError::from_store_limit)?;
    }
    if filename.is_none() && staged.len() <= kino.limits.max_form_bytes {
        staged.flush().await?;
        let bytes = tokio::fs::read(staged.path())
            .await
            .map_err(|e| ApiError::from(crate::store::StoreError::WriteStaging(e)))?;
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let t = text.trim();
            if t.starts_with("http://") || t.starts_with("https://") || t.starts_with("data:") {
                return Ok(FileSource::Text(t.to_string()));
            }
        }
    }
    Ok(FileSource::Staged(staged, filename))
}
