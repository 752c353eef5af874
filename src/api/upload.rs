//! The Upload API: `POST /v1_1/{cloud}/[{rt}/]upload`, plus `destroy`, `rename`, `explicit`,
//! `tags` and `context`. Requests are signed (or, for uploads, use an unsigned preset).

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::ApiError;
use super::extract::{FileSource, UploadBody, read_params, read_upload};
use super::json::upload_response;
use crate::catalog::Environment;
use crate::params::{Params, parse_context};
use crate::service::Kino;
use crate::service::auth::Caller;
use crate::service::chunks::{ChunkProgress, parse_content_range};
use crate::service::eager::{EagerItem, EagerJob};
use crate::service::resources::TagCommand;
use crate::service::upload::{Incoming, UploadType};
use crate::url::{DeliveryType, ResourceType};

pub fn routes() -> Router<Kino> {
    Router::new()
        .route("/v1_1/{cloud}/upload", post(upload_auto))
        .route("/v1_1/{cloud}/{resource_type}/{action}", post(action))
}

async fn upload_auto(
    State(kino): State<Kino>,
    Path(cloud): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    upload(kino, cloud, UploadType::Auto, request).await
}

async fn action(
    State(kino): State<Kino>,
    Path((cloud, resource_type, action)): Path<(String, String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    if action == "upload" {
        let upload_type = UploadType::parse(&resource_type).ok_or_else(|| {
            ApiError::bad_input(format!(
                "Invalid resource type {resource_type:?}: expected image, video, raw or auto"
            ))
        })?;
        return upload(kino, cloud, upload_type, request).await;
    }
    let rt = ResourceType::parse(&resource_type).ok_or_else(|| {
        ApiError::bad_input(format!(
            "Invalid resource type {resource_type:?}: expected image, video or raw"
        ))
    })?;
    let params = read_params(&kino, request).await?;
    let (env, _) = kino.authorize_upload(&cloud, &params, false).await?;
    let body = match action.as_str() {
        "destroy" => destroy(&kino, &cloud, rt, &params).await?,
        "rename" => rename(&kino, &env, rt, &params).await?,
        "explicit" => explicit(&kino, &env, rt, &params).await?,
        "explode" => explode(&kino, &env, rt, &params).await?,
        "multi" => multi(&kino, &env, rt, &params).await?,
        "text" => text(&kino, &env, rt, &params).await?,
        "sprite" => sprite(&kino, &cloud, rt, &params).await?,
        "tags" => tags(&kino, &cloud, rt, &params).await?,
        "context" => context(&kino, &cloud, rt, &params).await?,
        "metadata" => metadata(&kino, &cloud, rt, &params).await?,
        other => {
            return Err(ApiError::not_found(format!(
                "Unknown Upload API method {other:?}"
            )));
        }
    };
    Ok(axum::Json(body).into_response())
}

fn delivery_type(params: &Params, key: &str) -> Result<DeliveryType, ApiError> {
    match params.get(key) {
        None => Ok(DeliveryType::Upload),
        // Fetched assets can be destroyed or tagged, but nothing becomes one by a rename.
        Some(t) => DeliveryType::parse(t)
            .filter(|d| {
                key != "to_type"
                    || matches!(
                        d,
                        DeliveryType::Upload | DeliveryType::Private | DeliveryType::Authenticated
                    )
            })
            .ok_or_else(|| {
                ApiError::bad_input(format!(
                    "Invalid {key} {t:?}: expected upload, private, authenticated or fetch"
                ))
            }),
    }
}

fn required<'a>(params: &'a Params, key: &str) -> Result<&'a str, ApiError> {
    params
        .get(key)
        .ok_or_else(|| ApiError::bad_input(format!("Missing required parameter - {key}")))
}

async fn upload(
    kino: Kino,
    cloud: String,
    upload_type: UploadType,
    request: Request,
) -> Result<Response, ApiError> {
    let headers: HeaderMap = request.headers().clone();
    let UploadBody { mut params, file } = read_upload(&kino, request, true).await?;
    let (env, caller) = kino.authorize_upload(&cloud, &params, true).await?;
    apply_preset(&kino, &cloud, &caller, &mut params).await?;
    let file = file.ok_or_else(|| ApiError::bad_input("Missing required parameter - file"))?;
    let eager = eager_list(&params)?;
    let notifications = Notifications::of(&params)?;
    let (staged, filename) = match file {
        FileSource::Staged(staged, name) => (staged, name),
        FileSource::Text(text) if text.starts_with("data:") => {
            (kino.stage_data_uri(&text).await?, None)
        }
        FileSource::Text(text) => {
            let name = ::url::Url::parse(&text)
                .ok()
                .and_then(|u| {
                    u.path_segments()
                        .and_then(|mut s| s.next_back().map(str::to_string))
                })
                .filter(|s| !s.is_empty());
            (kino.fetch_remote(&text).await?, name)
        }
    };

    let chunk_id = headers
        .get("x-unique-upload-id")
        .and_then(|v| v.to_str().ok());
    let chunk_range = headers.get("content-range").and_then(|v| v.to_str().ok());
    let staged = match (chunk_id, chunk_range) {
        (Some(id), Some(range)) => {
            let range = parse_content_range(range)?;
            match kino.receive_chunk(&cloud, id, range, staged).await? {
                ChunkProgress::Partial { bytes } => {
                    let mut body = json!({"done": false, "bytes": bytes});
                    if let Some(pid) = params.get("public_id") {
                        body["public_id"] = json!(pid);
                    }
                    return Ok(axum::Json(body).into_response());
                }
                ChunkProgress::Complete(file) => file,
            }
        }
        _ => staged,
    };
    let uploaded = kino
        .ingest(
            &cloud,
            upload_type,
            &caller,
            &params,
            Incoming {
                file: staged,
                filename,
            },
        )
        .await?;
    let mut body = upload_response(
        &kino,
        &env,
        &uploaded.asset,
        uploaded.existing,
        uploaded.overwritten,
    );
    if !eager.is_empty() {
        body["eager"] = make_eager(&kino, &env, &uploaded.asset, &eager, &notifications).await?;
    }
    if let Some(url) = &notifications.upload {
        let mut notice = body.clone();
        notice["notification_type"] = json!("upload");
        notice["timestamp"] =
            json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        kino.notify(&cloud, url, &notice).await?;
    }
    Ok(axum::Json(body).into_response())
}

/// Fills parameters the request left out from its `upload_preset`.
async fn apply_preset(
    kino: &Kino,
    cloud: &str,
    caller: &Caller,
    params: &mut Params,
) -> Result<(), ApiError> {
    let Some(name) = params.get("upload_preset").map(str::to_string) else {
        return Ok(());
    };
    let preset = match caller {
        Caller::UnsignedPreset(p) => Some(p.clone()),
        Caller::Signed => kino.catalog.preset(cloud, &name).await?,
    };
    let preset =
        preset.ok_or_else(|| ApiError::bad_input(format!("Upload preset {name} not found")))?;
    let mut defaults = Params::new();
    for (k, v) in &preset.settings {
        defaults.push(k, v.clone());
    }
    params.merge_defaults(&defaults);
    Ok(())
}

/// Where the caller wants to hear about an upload and its eager transformations, and whether
/// those run in the background (`eager_async`). Checked before anything is stored.
#[derive(Debug, Default)]
struct Notifications {
    eager_async: bool,
    /// `notification_url`: the `upload` notification (and `eager`, without the next one).
    upload: Option<String>,
    /// `eager_notification_url`.
    eager: Option<String>,
}

impl Notifications {
    fn of(params: &Params) -> Result<Notifications, ApiError> {
        let url = |key: &str| -> Result<Option<String>, ApiError> {
            match params.get(key).map(str::trim).filter(|u| !u.is_empty()) {
                None => Ok(None),
                Some(u) => {
                    crate::service::notify::check_url(u).map_err(ApiError::bad_input)?;
                    Ok(Some(u.to_string()))
                }
            }
        };
        Ok(Notifications {
            eager_async: params.bool("eager_async")?.unwrap_or(false),
            upload: url("notification_url")?,
            eager: url("eager_notification_url")?,
        })
    }
}

/// The `eager` parameter (eager syntax: `c_fill,w_100|w_50/png`), checked before anything is
/// stored.
fn eager_list(params: &Params) -> Result<Vec<crate::url::Eager>, ApiError> {
    let Some(text) = params.get("eager").filter(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    crate::url::parse_eager(text)
        .map_err(|e| ApiError::bad_input(format!("Invalid eager transformation: {e}")))
}

/// Makes each eager derived file now and lists them as the response's `eager`; with
/// `eager_async`, queues them as one job instead and lists them as processing.
async fn make_eager(
    kino: &Kino,
    env: &Environment,
    asset: &crate::catalog::Asset,
    eager: &[crate::url::Eager],
    notifications: &Notifications,
) -> Result<serde_json::Value, ApiError> {
    if notifications.eager_async {
        let notify = notifications
            .eager
            .clone()
            .or_else(|| notifications.upload.clone());
        let job = queue_eager(kino, env, asset, eager, notify).await?;
        let listed = job
            .items
            .iter()
            .map(|i| {
                json!({"status": "processing", "batch_id": job.batch_id,
                       "url": i.url, "secure_url": i.secure_url})
            })
            .collect();
        return Ok(serde_json::Value::Array(listed));
    }
    let mut items = Vec::with_capacity(eager.len());
    for e in eager {
        let made = kino.make_eager(asset, e).await?;
        items.push(super::json::eager_item(kino, env, asset, &made));
    }
    Ok(serde_json::Value::Array(items))
}

/// Queues `eager` for `asset` as one background job (its id is the batch id).
async fn queue_eager(
    kino: &Kino,
    env: &Environment,
    asset: &crate::catalog::Asset,
    eager: &[crate::url::Eager],
    notification_url: Option<String>,
) -> Result<EagerJob, ApiError> {
    {
        let secret = env.api_secret.as_str();
        let items: Vec<EagerItem> = eager
            .iter()
            .map(|e| {
                let t = e.transformation.to_string();
                let format = e.format.clone().unwrap_or_else(|| asset.format.clone());
                let path = super::json::transformed_path(asset, &t, &format, secret);
                EagerItem {
                    eager: match &e.format {
                        Some(f) => format!("{t}/{f}"),
                        None => t.clone(),
                    },
                    transformation: t,
                    format,
                    url: format!("{}{path}", kino.public_url),
                    secure_url: format!("{}{path}", kino.secure_url),
                }
            })
            .collect();
        let job = EagerJob {
            cloud: asset.cloud.clone(),
            resource_type: asset.resource_type.as_str().into(),
            delivery_type: asset.delivery_type.as_str().into(),
            public_id: asset.public_id.clone(),
            asset_id: asset.asset_id.clone(),
            version: asset.version,
            batch_id: crate::service::jobs::new_id(),
            notification_url,
            items,
        };
        kino.queue_eager(&job).await?;
        Ok(job)
    }
}

/// Generated pictures are made by the image Upload API.
fn image_method(method: &str, rt: ResourceType) -> Result<(), ApiError> {
    if rt == ResourceType::Image {
        Ok(())
    } else {
        Err(ApiError::bad_input(format!(
            "{method} is called on image resources"
        )))
    }
}

/// `multi` and `sprite` take the pictures of a tag (not `urls`).
fn pictures_of_a_tag(method: &str, rt: ResourceType, params: &Params) -> Result<(), ApiError> {
    image_method(method, rt)?;
    if params.contains("urls") {
        return Err(ApiError::bad_input(format!(
            "{method} from urls is not supported: tag the pictures and give the tag"
        )));
    }
    Ok(())
}

/// `multi`: an animation or video of the pictures that carry `tag`.
async fn multi(
    kino: &Kino,
    env: &Environment,
    rt: ResourceType,
    params: &Params,
) -> Result<serde_json::Value, ApiError> {
    let cloud = env.cloud.as_str();
    pictures_of_a_tag("multi", rt, params)?;
    let request = crate::service::multi::MultiRequest {
        tag: required(params, "tag")?.to_string(),
        public_id: params.get("public_id").map(str::to_string),
        transformation: crate::url::Transformation::parse_str(
            params.get("transformation").unwrap_or_default(),
        )
        .map_err(crate::service::ServiceError::from)?,
    };
    let asset = kino.multi(cloud, &request).await?;
    Ok(upload_response(kino, env, &asset, false, false))
}

/// `text`: a picture of a text in a bundled font.
async fn text(
    kino: &Kino,
    env: &Environment,
    rt: ResourceType,
    params: &Params,
) -> Result<serde_json::Value, ApiError> {
    let cloud = env.cloud.as_str();
    image_method("text", rt)?;
    let colour = |key: &str| {
        params
            .get(key)
            .filter(|v| !v.is_empty())
            .map(|v| {
                crate::url::values::parse_color(v)
                    .map_err(|e| ApiError::bad_input(format!("Invalid {key} {v:?}: {e}")))
            })
            .transpose()
    };
    let size = match params.get("font_size").filter(|v| !v.is_empty()) {
        None => 12,
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::bad_input(format!("Invalid font_size {v:?}")))?,
    };
    let request = crate::service::text::TextRequest {
        text: required(params, "text")?.to_string(),
        public_id: params.get("public_id").map(str::to_string),
        family: params.get("font_family").unwrap_or("Arial").to_string(),
        size,
        bold: params.get("font_weight") == Some("bold"),
        italic: params.get("font_style") == Some("italic"),
        color: colour("font_color")?.unwrap_or(crate::url::values::Color {
            r: 0,
            g: 0,
            b: 0,
            a: 255,
        }),
        background: colour("background")?,
    };
    let asset = kino.text_picture(cloud, &request).await?;
    Ok(upload_response(kino, env, &asset, false, false))
}

/// `sprite`: the pictures of a tag stacked into one, with CSS and JSON.
async fn sprite(
    kino: &Kino,
    cloud: &str,
    rt: ResourceType,
    params: &Params,
) -> Result<serde_json::Value, ApiError> {
    pictures_of_a_tag("sprite", rt, params)?;
    let tag = required(params, "tag")?;
    let mut each =
        crate::url::Transformation::parse_str(params.get("transformation").unwrap_or_default())
            .map_err(crate::service::ServiceError::from)?;
    // A sprite is a PNG; an f_ from the SDK's `format` does not apply to each picture.
    for c in &mut each.components {
        c.params
            .retain(|p| !matches!(p.value, crate::url::Value::Format(_)));
    }
    each.components.retain(|c| !c.params.is_empty());
    let made = kino.sprite(cloud, tag, &each).await?;
    let base = |secure: bool| {
        let host = if secure {
            &kino.secure_url
        } else {
            &kino.public_url
        };
        format!("{host}/{cloud}/image/sprite/v{}/{tag}", made.image.version)
    };
    Ok(json!({
        "public_id": tag,
        "version": made.image.version,
        "css_url": format!("{}.css", base(false)),
        "secure_css_url": format!("{}.css", base(true)),
        "image_url": format!("{}.png", base(false)),
        "secure_image_url": format!("{}.png", base(true)),
        "json_url": format!("{}.json", base(false)),
        "secure_json_url": format!("{}.json", base(true)),
        "image_infos": crate::service::sprite::infos(&made.placed),
    }))
}

/// The most pages one `explode` makes.
const MAX_EXPLODED_PAGES: u32 = 500;

/// `explode`: one derived picture per page or frame of a multi-page or animated asset
/// (`pg_all` in the transformation stands for each page), made in the background as one job.
async fn explode(
    kino: &Kino,
    env: &Environment,
    rt: ResourceType,
    params: &Params,
) -> Result<serde_json::Value, ApiError> {
    let cloud = env.cloud.as_str();
    let public_id = required(params, "public_id")?;
    let dt = delivery_type(params, "type")?;
    let raw = required(params, "transformation")?;
    if !raw.split(['/', ',']).any(|item| item == "pg_all") {
        return Err(ApiError::bad_input(
            "explode needs pg_all in its transformation",
        ));
    }
    let asset = kino.require_asset(cloud, rt, dt, public_id).await?;
    let pages = asset
        .media
        .as_ref()
        .filter(|m| m.kind == crate::engine::MediaKind::Image)
        .map(|m| m.pages)
        .ok_or_else(|| {
            ApiError::bad_input(format!(
                "{public_id} is not a picture with pages or frames to explode"
            ))
        })?;
    if pages > MAX_EXPLODED_PAGES {
        return Err(ApiError::bad_input(format!(
            "{public_id} has {pages} pages; explode makes at most {MAX_EXPLODED_PAGES}"
        )));
    }
    let others = raw
        .split('/')
        .map(|c| {
            c.split(',')
                .filter(|item| *item != "pg_all")
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    let format = params.get("format").unwrap_or("png").to_ascii_lowercase();
    let eager = (1..=pages)
        .map(|page| {
            let text = if others.is_empty() {
                format!("pg_{page}")
            } else {
                format!("pg_{page},{others}")
            };
            Ok(crate::url::Eager {
                transformation: crate::url::Transformation::parse_str(&text)
                    .map_err(crate::service::ServiceError::from)?,
                format: Some(format.clone()),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let notify = params.get("notification_url").map(str::to_string);
    let job = queue_eager(kino, env, &asset, &eager, notify).await?;
    Ok(json!({"status": "processing", "batch_id": job.batch_id}))
}

async fn destroy(
    kino: &Kino,
    cloud: &str,
    rt: ResourceType,
    params: &Params,
) -> Result<serde_json::Value, ApiError> {
    let public_id = required(params, "public_id")?;
    let found = kino
        .destroy(cloud, rt, delivery_type(params, "type")?, public_id)
        .await?;
    Ok(json!({"result": if found { "ok" } else { "not found" }}))
}

async fn rename(
    kino: &Kino,
    env: &Environment,
    rt: ResourceType,
    params: &Params,
) -> Result<serde_json::Value, ApiError> {
    let cloud = env.cloud.as_str();
    let from = required(params, "from_public_id")?;
    let to = required(params, "to_public_id")?;
    let from_type = delivery_type(params, "type")?;
    let to_type = match params.get("to_type") {
        Some(_) => delivery_type(params, "to_type")?,
        None => from_type,
    };
    let overwrite = params.bool("overwrite")?.unwrap_or(false);
    let asset = kino
        .rename(cloud, rt, (from_type, from), (to_type, to), overwrite)
        .await?;
    Ok(upload_response(kino, env, &asset, false, false))
}

async fn explicit(
    kino: &Kino,
    env: &Environment,
    rt: ResourceType,
    params: &Params,
) -> Result<serde_json::Value, ApiError> {
    let cloud = env.cloud.as_str();
    let public_id = required(params, "public_id")?;
    let dt = delivery_type(params, "type")?;
    let eager = eager_list(params)?;
    let notifications = Notifications::of(params)?;
    let mut asset = kino.require_asset(cloud, rt, dt, public_id).await?;
    if dt == DeliveryType::Fetch {
        // Cloudinary's way to refresh a fetched asset: fetch its URL again.
        asset = kino.refetch(cloud, rt, public_id).await?;
    }
    if params.contains("tags") {
        kino.tag_assets(
            cloud,
            rt,
            dt,
            &[public_id.to_string()],
            TagCommand::Replace,
            &params.list("tags"),
        )
        .await?;
    }
    if let Some(raw) = params.get("context") {
        let context = parse_context(raw)?;
        kino.catalog.set_context(&asset, &context).await?;
    }
    if let Some(raw) = params.get("metadata") {
        kino.update_metadata(cloud, rt, dt, &[public_id.to_string()], raw, false)
            .await?;
    }
    let asset = kino.require_asset(cloud, rt, dt, public_id).await?;
    // Kino has no CDN to purge: what could be stale is its own derived files, made again on
    // their next request (or now, for `eager`).
    if params.bool("invalidate")?.unwrap_or(false) {
        kino.purge_derived(&asset.asset_id, None).await?;
    }
    let mut body = upload_response(kino, env, &asset, false, false);
    if !eager.is_empty() {
        body["eager"] = make_eager(kino, env, &asset, &eager, &notifications).await?;
    }
    Ok(body)
}

async fn tags(
    kino: &Kino,
    cloud: &str,
    rt: ResourceType,
    params: &Params,
) -> Result<serde_json::Value, ApiError> {
    let command = TagCommand::parse(params.get("command").unwrap_or("add"))?;
    let mut tags = params.list("tag");
    tags.extend(params.list("tags"));
    let ids = params.values("public_ids");
    let done = kino
        .tag_assets(
            cloud,
            rt,
            delivery_type(params, "type")?,
            &ids,
            command,
            &tags,
        )
        .await?;
    Ok(json!({"public_ids": done}))
}

/// `metadata`: sets structured metadata on assets (`clear_invalid` drops what does not fit).
async fn metadata(
    kino: &Kino,
    cloud: &str,
    rt: ResourceType,
    params: &Params,
) -> Result<serde_json::Value, ApiError> {
    let raw = required(params, "metadata")?;
    let dt = delivery_type(params, "type")?;
    let clear_invalid = params.bool("clear_invalid")?.unwrap_or(false);
    let assets = kino
        .update_metadata(
            cloud,
            rt,
            dt,
            &params.values("public_ids"),
            raw,
            clear_invalid,
        )
        .await?;
    let ids: Vec<&str> = assets.iter().map(|a| a.public_id.as_str()).collect();
    Ok(json!({"public_ids": ids}))
}

async fn context(
    kino: &Kino,
    cloud: &str,
    rt: ResourceType,
    params: &Params,
) -> Result<serde_json::Value, ApiError> {
    let ids = params.values("public_ids");
    let dt = delivery_type(params, "type")?;
    let done = match params.get("command").unwrap_or("add") {
        "add" => {
            let context = parse_context(required(params, "context")?)?;
            kino.context_assets(cloud, rt, dt, &ids, Some(&context))
                .await?
        }
        "remove_all" => kino.context_assets(cloud, rt, dt, &ids, None).await?,
        other => {
            return Err(ApiError::bad_input(format!(
                "Invalid command {other:?}: expected add or remove_all"
            )));
        }
    };
    Ok(json!({"public_ids": done}))
}
