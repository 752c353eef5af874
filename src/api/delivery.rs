//! Delivery: `GET|HEAD /{cloud}/{rt}/{type}/[s--sig--/][transformations/][v{n}/]{public_id}.{ext}`
//! serves originals and derived files with Range (206/416), ETag/If-None-Match and
//! Last-Modified/If-Modified-Since (304), and long caching for versioned URLs. A derived file
//! still being made streams as it is written. Errors carry `X-Cld-Error`.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::io::ReaderStream;

use super::ApiError;
use crate::catalog::{Asset, AssetVersion, Derived};
use crate::derived::Follower;
use crate::service::streaming::{StreamPart, Streamed};
use crate::service::transform::{Client, Transformed};
use crate::service::{Kino, ServiceError};
use crate::streaming::ladder::Track;
use crate::url::values::Flag;
use crate::url::{DeliveryPath, DeliveryType, parse_delivery_path};

pub fn routes() -> Router<Kino> {
    Router::new().route("/{cloud}/{rt}/{dt}/{*rest}", get(deliver))
}

async fn deliver(State(kino): State<Kino>, request: Request) -> Response {
    if request.uri().path().starts_with("/v1_1/") {
        let message = format!("No route for {} {}", request.method(), request.uri().path());
        return ApiError::not_found(message).into_response();
    }
    let query = request.uri().query().unwrap_or_default().to_string();
    let result = match live_file(request.uri().path()) {
        Some((cloud, file)) => super::live::deliver(&kino, cloud, file, &query).await,
        None => serve(&kino, request.uri().path(), &query, request.headers()).await,
    };
    match result {
        Ok(response) => response,
        Err(e) => {
            // Players on other origins must see the status, not an opaque CORS failure.
            let mut r = e.delivery().into_response();
            r.headers_mut().insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            r
        }
    }
}

/// `/{cloud}/video/live/{file}`: a live playlist, part or segment.
fn live_file(path: &str) -> Option<(&str, &str)> {
    let mut parts = path.trim_start_matches('/').splitn(4, '/');
    let cloud = parts.next()?;
    (parts.next()? == "video" && parts.next()? == "live").then_some(())?;
    let file = parts.next()?;
    (!file.contains('/')).then_some((cloud, file))
}

/// Checks that `cloud` is a served product environment: an unknown one is a 404 (as an
/// unknown asset), a disabled one a 403.
pub(super) async fn known_cloud(kino: &Kino, cloud: &str) -> Result<(), ApiError> {
    match kino.environment(cloud).await {
        Ok(_) => Ok(()),
        Err(ServiceError::Unauthorized(_)) => {
            Err(ApiError::not_found(format!("Unknown customer {cloud}")))
        }
        Err(e) => Err(e.into()),
    }
}

async fn serve(
    kino: &Kino,
    raw_path: &str,
    query: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let path = parse_delivery_path(raw_path)?;
    known_cloud(kino, &path.cloud).await?;
    check_access(kino, &path).await?;
    if let Some(served) = sprite_text(kino, &path).await? {
        return respond(kino, &served, headers).await;
    }
    let asset = if path.delivery_type == DeliveryType::Fetch {
        kino.fetched(&path.cloud, path.resource_type, &path.public_id)
            .await?
    } else {
        find_or_map(kino, &path).await?
    };
    let format = path
        .transformation
        .format()
        .or(path.extension.as_deref())
        .unwrap_or(&asset.format);
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok());
    kino.check_restrictions(&path, format, referer).await?;
    let original = path.transformation.is_empty()
        && path
            .extension
            .as_ref()
            .is_none_or(|ext| same_format(ext, &asset.format));
    if original {
        let served = Served::original(&asset, &path);
        return respond(kino, &served, headers).await;
    }
    let segment = matches!(path.extension.as_deref(), Some("mp4" | "ts"))
        && crate::streaming::segment::profile_name(&path.transformation).is_some()
        && query.split('&').any(|kv| kv.starts_with("r="));
    if segment || matches!(path.extension.as_deref(), Some("m3u8" | "mpd")) {
        return serve_stream(kino, &path, &asset, query, headers).await;
    }
    serve_transformed(kino, &path, &asset, headers).await
}

/// A sprite's CSS or JSON (`/{cloud}/image/sprite/{tag}.css`), kept as a raw file beside it.
async fn sprite_text(kino: &Kino, path: &DeliveryPath) -> Result<Option<Served>, ApiError> {
    let wanted = path.delivery_type == DeliveryType::Sprite && path.transformation.is_empty();
    let Some(ext) = path
        .extension
        .as_deref()
        .filter(|e| wanted && matches!(*e, "css" | "json"))
    else {
        return Ok(None);
    };
    let id = format!("{}.{ext}", path.public_id);
    let asset = kino
        .catalog
        .find_asset(
            &path.cloud,
            crate::url::ResourceType::Raw,
            DeliveryType::Sprite,
            &id,
        )
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Resource not found - {id}")))?;
    Ok(Some(Served::original(&asset, path)))
}

/// The asset a path names; a missing upload under an auto-upload mapping is pulled in now.
async fn find_or_map(kino: &Kino, path: &DeliveryPath) -> Result<Asset, ApiError> {
    let found = kino
        .catalog
        .find_asset(
            &path.cloud,
            path.resource_type,
            path.delivery_type,
            &path.public_id,
        )
        .await?;
    let found = match found {
        Some(asset) => Some(asset),
        None if path.delivery_type == DeliveryType::Upload => {
            kino.auto_uploaded(
                &path.cloud,
                path.resource_type,
                &path.public_id,
                path.extension.as_deref(),
            )
            .await?
        }
        None => None,
    };
    found.ok_or_else(|| ApiError::not_found(format!("Resource not found - {}", path.public_id)))
}

/// A manifest, playlist or segment of an adaptive stream.
async fn serve_stream(
    kino: &Kino,
    path: &DeliveryPath,
    asset: &Asset,
    query: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    match kino
        .deliver_stream(path, asset, stream_part(query)?)
        .await?
    {
        // Manifests are made from the catalog at each request: short-lived in caches.
        Streamed::Text { body, content_type } => Ok(made_now(content_type, 60, body)),
        Streamed::File(Transformed::Stored(derived)) => {
            respond(kino, &Served::derived(&derived, path), headers).await
        }
        Streamed::File(Transformed::Live { follower, format }) => Ok(live(follower, &format)),
        Streamed::Binary { body, content_type } => Ok(made_now(content_type, 3600, body)),
    }
}

/// A stream part made for this request, cacheable for `max_age` seconds, open to players
/// on other origins.
fn made_now(content_type: &'static str, max_age: u32, body: impl IntoResponse) -> Response {
    let cache = HeaderValue::from_str(&format!("public, max-age={max_age}"))
        .unwrap_or(HeaderValue::from_static("no-cache"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, cache),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        body,
    )
        .into_response()
}

/// A transformed file: stored, or made now while it streams.
async fn serve_transformed(
    kino: &Kino,
    path: &DeliveryPath,
    asset: &Asset,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let attachment = attachment_name(path, asset);
    let mut response = match kino
        .deliver_transformed(path, asset, client(headers))
        .await?
    {
        Transformed::Stored(derived) => {
            let served = Served::derived(&derived, path);
            respond(kino, &served, headers).await?
        }
        Transformed::Live { follower, format } => live(follower, &format),
    };
    if let Some(name) = attachment
        && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    // Named transformations may hold the f_auto or dpr_auto the answer depends on.
    let expanded = if path.transformation.named_references().is_empty() {
        path.transformation.clone()
    } else {
        kino.expand_named(&path.cloud, &path.transformation).await?
    };
    if let Some(vary) = varies_by(&expanded) {
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static(vary));
    }
    Ok(response)
}

/// Which part of an adaptive stream the query asks for (`r=`, `s=`, `init=1`).
fn stream_part(query: &str) -> Result<StreamPart, ApiError> {
    let mut track = None;
    let mut s = None;
    let mut init = false;
    for (k, v) in ::url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "r" => {
                track = Some(Track::parse(&v).ok_or_else(|| {
                    ApiError::bad_input(format!(
                        "Invalid r: {v:?} is not a track (a rendition number or a)"
                    ))
                })?)
            }
            "s" => {
                s = Some(v.parse::<usize>().map_err(|_| {
                    ApiError::bad_input(format!("Invalid s: {v:?} is not a number"))
                })?)
            }
            "init" => init = v != "0",
            _ => {}
        }
    }
    Ok(match (track, s, init) {
        (None, _, _) => StreamPart::Manifest,
        (Some(track), _, true) => StreamPart::Init(track),
        (Some(track), Some(segment), false) => StreamPart::Segment { track, segment },
        (Some(track), None, false) => StreamPart::Playlist(track),
    })
}

/// What `f_auto` and `dpr_auto` read from the request.
fn client(headers: &HeaderMap) -> Client {
    let accepted: Vec<String> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter(|item| !refused(item))
        .map(|item| {
            item.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    let dpr = ["sec-ch-dpr", "dpr"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok()?.trim().parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d > 0.0);
    Client {
        avif: accepted.iter().any(|t| t == "image/avif"),
        webp: accepted.iter().any(|t| t == "image/webp"),
        dpr,
    }
}

/// An `Accept` item with `q=0`: the type is explicitly not wanted.
fn refused(item: &str) -> bool {
    item.split(';').skip(1).any(|p| {
        p.trim()
            .strip_prefix("q=")
            .and_then(|q| q.trim().parse::<f64>().ok())
            .is_some_and(|q| q <= 0.0)
    })
}

/// The request headers a response depends on, for caches.
fn varies_by(t: &crate::url::Transformation) -> Option<&'static str> {
    let auto_format = t
        .format()
        .is_some_and(|f| f == "auto" || f.starts_with("auto:"));
    match (auto_format, t.has_auto_dpr()) {
        (true, true) => Some("Accept, DPR"),
        (true, false) => Some("Accept"),
        (false, true) => Some("DPR"),
        (false, false) => None,
    }
}

/// `fl_attachment[:name]`: the download name, from the flag or the public id.
fn attachment_name(path: &DeliveryPath, asset: &Asset) -> Option<String> {
    let flag = path.transformation.flags().find_map(|f| match f {
        Flag::Attachment(name) | Flag::StreamingAttachment(name) => Some(name.clone()),
        _ => None,
    })?;
    let stem = flag.unwrap_or_else(|| {
        asset
            .public_id
            .rsplit('/')
            .next()
            .unwrap_or("download")
            .to_string()
    });
    let ext = path
        .extension
        .clone()
        .unwrap_or_else(|| asset.format.clone());
    let safe: String = stem
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect();
    Some(if ext.is_empty() {
        safe
    } else {
        format!("{safe}.{ext}")
    })
}

/// A transformation being made: streamed as it is written, without a length or validator.
fn live(follower: Follower, format: &str) -> Response {
    let mut out = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(content_type(format)) {
        out.insert(header::CONTENT_TYPE, v);
    }
    out.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    (
        StatusCode::OK,
        out,
        Body::from_stream(follower.into_stream()),
    )
        .into_response()
}

/// A stored blob to serve, with what its headers need.
#[derive(Debug)]
struct Served {
    blob_key: String,
    bytes: i64,
    etag: String,
    modified: i64,
    format: String,
    immutable: bool,
}

impl Served {
    fn original(asset: &Asset, path: &DeliveryPath) -> Served {
        let format = if asset.format.is_empty() {
            asset
                .public_id
                .rsplit_once('.')
                .map_or("", |(_, e)| e)
                .to_ascii_lowercase()
        } else {
            asset.format.clone()
        };
        Served {
            blob_key: asset.blob_key.clone(),
            bytes: asset.bytes,
            etag: asset.etag.clone(),
            modified: asset.version,
            format,
            immutable: path.version == Some(asset.version),
        }
    }

    fn derived(d: &Derived, path: &DeliveryPath) -> Served {
        Served {
            blob_key: d.blob_key.clone(),
            bytes: d.bytes,
            etag: d.etag.clone(),
            modified: d.created_at.timestamp(),
            format: d.format.clone(),
            immutable: path.version == Some(d.version),
        }
    }
}

/// A backed-up version's file as a download (`/download_backup`).
pub(crate) async fn serve_backup(
    kino: &Kino,
    version: &AssetVersion,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let served = Served {
        blob_key: version.blob_key.clone(),
        bytes: version.bytes,
        etag: version.etag.clone(),
        modified: version.created_at.timestamp(),
        format: version.format.clone(),
        immutable: true,
    };
    let mut response = respond(kino, &served, headers).await?;
    let name = version.public_id.rsplit('/').next().unwrap_or("backup");
    let file = if version.format.is_empty() {
        name.to_string()
    } else {
        format!("{name}.{}", version.format)
    };
    let disposition = format!("attachment; filename=\"{}\"", file.replace('"', ""));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `private` originals and everything `authenticated` need a valid `s--…--` signature.
async fn check_access(kino: &Kino, path: &DeliveryPath) -> Result<(), ApiError> {
    if matches!(
        path.delivery_type,
        DeliveryType::Upload
            | DeliveryType::Fetch
            | DeliveryType::Multi
            | DeliveryType::Text
            | DeliveryType::Sprite
    ) {
        return Ok(());
    }
    match &path.signature {
        Some(sig) if kino.url_signed(&path.cloud, &path.signed_text, sig).await? => Ok(()),
        Some(_) => Err(ApiError::new(
            crate::error::ErrorKind::Unauthorized,
            "Invalid signature in the URL",
        )),
        None => Err(ApiError::new(
            crate::error::ErrorKind::Unauthorized,
            format!(
                "{} resource requires a signed URL",
                capitalized(path.delivery_type.as_str())
            ),
        )),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn same_format(asked: &str, stored: &str) -> bool {
    let norm = |f: &str| match f {
        "jpeg" | "jpe" => "jpg".to_string(),
        "tif" => "tiff".to_string(),
        other => other.to_string(),
    };
    norm(asked) == norm(stored)
}

/// MIME type by extension (the player's table, reference H.3).
pub fn content_type(format: &str) -> &'static str {
    match format {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "bmp" => "image/bmp",
        "tiff" | "tif" => "image/tiff",
        "ico" => "image/x-icon",
        "svg" => "image/svg+xml",
        "mp4" | "mov" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "ogv" | "opus" => "video/ogg",
        "mkv" => "video/x-matroska",
        "ts" => "video/mp2t",
        "m3u8" => "application/vnd.apple.mpegurl",
        "m4s" => "video/iso.segment",
        "mpd" => "application/dash+xml",
        "m4a" => "audio/mp4",
        "mp3" => "audio/mpeg",
        "aac" => "audio/aac",
        "ogg" => "audio/ogg",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "vtt" => "text/vtt",
        "json" => "application/json",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// A single byte range of a `Range` header, resolved against `len`.
#[derive(Debug, PartialEq, Eq)]
enum RangeAsk {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

fn parse_range(header: Option<&str>, len: u64) -> RangeAsk {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole; // Multiple ranges: serving the whole body is allowed.
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeAsk::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), Some(end)) if start <= end => Some((start, end.min(len.saturating_sub(1)))),
        (Some(start), None) if b.is_empty() => Some((start, len.saturating_sub(1))),
        (None, Some(suffix)) if a.is_empty() && suffix > 0 => {
            Some((len.saturating_sub(suffix), len.saturating_sub(1)))
        }
        _ => return RangeAsk::Whole,
    };
    match range {
        Some((start, end)) if start < len && start <= end => RangeAsk::Part(start, end),
        _ => RangeAsk::Unsatisfiable,
    }
}

async fn respond(kino: &Kino, served: &Served, headers: &HeaderMap) -> Result<Response, ApiError> {
    let etag = format!("\"{}\"", served.etag);
    let modified =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(served.modified.max(0) as u64);
    let immutable = served.immutable;
    let mut out = HeaderMap::new();
    let format = served.format.clone();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set(&mut out, header::CONTENT_TYPE, content_type(&format));
    set(&mut out, header::ETAG, &etag);
    set(
        &mut out,
        header::LAST_MODIFIED,
        &httpdate::fmt_http_date(modified),
    );
    set(&mut out, header::ACCEPT_RANGES, "bytes");
    set(&mut out, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    set(&mut out, header::CACHE_CONTROL, cache);

    if not_modified(headers, &etag, modified) {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    let len = served.bytes.max(0) as u64;
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    // A Range with a stale If-Range validator gets the whole (new) body.
    let range_header = match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        Some(validator) if validator != etag => None,
        _ => range_header,
    };
    let (status, range) = match parse_range(range_header, len) {
        RangeAsk::Whole => (StatusCode::OK, None),
        RangeAsk::Part(start, end) => {
            set(
                &mut out,
                header::CONTENT_RANGE,
                &format!("bytes {start}-{end}/{len}"),
            );
            (StatusCode::PARTIAL_CONTENT, Some(start..end + 1))
        }
        RangeAsk::Unsatisfiable => {
            set(&mut out, header::CONTENT_RANGE, &format!("bytes */{len}"));
            let mut e = ApiError::new(
                crate::error::ErrorKind::BadInput,
                format!("Range not satisfiable: the resource has {len} bytes"),
            )
            .delivery()
            .into_response();
            *e.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            e.headers_mut().extend(out);
            return Ok(e);
        }
    };
    let body_len = range.as_ref().map_or(len, |r| r.end - r.start);
    set(&mut out, header::CONTENT_LENGTH, &body_len.to_string());
    let reader = kino.store.read(&served.blob_key, range).await?;
    let body = Body::from_stream(ReaderStream::with_capacity(reader, 256 * 1024));
    Ok((status, out, body).into_response())
}

fn not_modified(headers: &HeaderMap, etag: &str, modified: std::time::SystemTime) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return inm.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t == etag || t.strip_prefix("W/") == Some(etag)
        });
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| modified <= since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let cases = [
            (None, RangeAsk::Whole),
            (Some("bytes=0-9"), RangeAsk::Part(0, 9)),
            (Some("bytes=90-"), RangeAsk::Part(90, 99)),
            (Some("bytes=-10"), RangeAsk::Part(90, 99)),
            (Some("bytes=50-500"), RangeAsk::Part(50, 99)),
            (Some("bytes=100-"), RangeAsk::Unsatisfiable),
            (Some("bytes=200-300"), RangeAsk::Unsatisfiable),
            (Some("bytes=5-1"), RangeAsk::Whole),
            (Some("bytes=0-1,5-6"), RangeAsk::Whole),
            (Some("items=0-1"), RangeAsk::Whole),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_range(header, 100), expected, "{header:?}");
        }
    }
}
