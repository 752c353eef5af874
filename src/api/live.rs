//! The Live Streaming API (`/v2/video/{cloud}/live_streams…`, basic auth, JSON bodies, the
//! `{"request_id":…,"data":…}` envelope) and live delivery
//! (`/{cloud}/video/live/live_stream_{id}_hls.m3u8` and its renditions, parts and segments).
//!
//! Live delivery URLs, all answered from the ingesting node's memory:
//! - `…_hls.m3u8`: the multivariant playlist;
//! - `…_hls.m3u8?r=N[&_HLS_msn=M[&_HLS_part=P]]`: rendition N's LL-HLS playlist, held until it
//!   has segment M (part P) when asked (blocking reload);
//! - `…_hls.mp4?r=N&t=T&init=1`, `?r=N&t=T&s=M` (a segment), `?r=N&t=T&s=M&p=P` (a part, held
//!   while it is being made, which is what `EXT-X-PRELOAD-HINT` promises); `T` is the
//!   session's start, so media of an earlier session is never mistaken for the current one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::header::{self, AUTHORIZATION};
use axum::http::{HeaderValue, Response};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::ApiError;
use crate::catalog::LiveOutput;
use crate::error::ErrorKind;
use crate::live::{Broadcast, Unavailable};
use crate::service::Kino;
use crate::service::live::{LiveStreamInput, LiveStreamView, OutputInput};
use crate::streaming::llhls::Uris;

pub fn routes() -> Router<Kino> {
    Router::new()
        .route("/v2/video/{cloud}/live_streams", get(list).post(create))
        .route(
            "/v2/video/{cloud}/live_streams/{id}",
            get(show).patch(update).delete(remove),
        )
        .route(
            "/v2/video/{cloud}/live_streams/{id}/activate",
            post(activate),
        )
        .route("/v2/video/{cloud}/live_streams/{id}/idle", post(idle))
        .route(
            "/v2/video/{cloud}/live_streams/{id}/outputs",
            get(outputs).post(add_output),
        )
        .route(
            "/v2/video/{cloud}/live_streams/{id}/outputs/{output_id}",
            get(show_output).patch(update_output).delete(remove_output),
        )
}

type Answer = Result<Json<Value>, ApiError>;

fn request_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

fn envelope(data: Value) -> Answer {
    let mut body = serde_json::Map::new();
    body.insert("request_id".into(), Value::String(request_id()));
    body.insert("data".into(), data);
    Ok(Json(Value::Object(body)))
}

/// Checks basic auth, then reads the JSON body (empty is `{}`) into `T`.
async fn authorized<T: DeserializeOwned + Default>(
    kino: &Kino,
    cloud: &str,
    request: Request,
) -> Result<T, ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    kino.authorize_admin(cloud, header.as_deref())
        .await
        .map_err(|e| ApiError::from(e).with_request_id(request_id()))?;
    let limit = usize::try_from(kino.limits.max_form_bytes).unwrap_or(1 << 20);
    let body = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|e| ApiError::bad_input(format!("Unreadable body: {e}")))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_input(format!("Invalid JSON body: {e}")).with_request_id(request_id())
    })
}

fn fail(e: impl Into<ApiError>) -> ApiError {
    e.into().with_request_id(request_id())
}

fn output_json(kino: &Kino, cloud: &str, o: &LiveOutput) -> Value {
    let mut v = json!({
        "id": o.id,
        "name": o.name,
        "type": o.kind,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
    });
    match o.kind.as_str() {
        "hls" => v["uri"] = json!(playback_url(kino, cloud, &o.stream_id)),
        "archive" => v["public_id"] = json!(o.public_id),
        _ => {}
    }
    v
}

/// The HLS playback URL of a stream.
pub fn playback_url(kino: &Kino, cloud: &str, stream_id: &str) -> String {
    format!(
        "{}/{cloud}/video/live/live_stream_{stream_id}_hls.m3u8",
        kino.secure_url
    )
}

fn stream_json(kino: &Kino, view: &LiveStreamView) -> Value {
    let s = &view.stream;
    let running = kino.live.session(&s.id).is_some();
    json!({
        "id": s.id,
        "name": s.name,
        "input": {
            "type": "rtmp",
            "uri": kino.live.rtmp_uri(),
            "stream_key": s.stream_key,
            "srt_uri": kino.live.srt_uri(&s.stream_key),
        },
        "status": if running { "active" } else { s.status.as_str() },
        "outputs": view.outputs.iter().map(|o| output_json(kino, &s.cloud, o)).collect::<Vec<_>>(),
        "idle_timeout_sec": s.idle_timeout_sec,
        "max_runtime_sec": s.max_runtime_sec,
        "streaming_profile": s.streaming_profile,
        "notification_url": s.notification_url,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    })
}

async fn list(State(kino): State<Kino>, Path(cloud): Path<String>, request: Request) -> Answer {
    authorized::<Value>(&kino, &cloud, request).await?;
    let streams = kino.live_streams(&cloud).await.map_err(fail)?;
    envelope(Value::Array(
        streams.iter().map(|v| stream_json(&kino, v)).collect(),
    ))
}

async fn create(State(kino): State<Kino>, Path(cloud): Path<String>, request: Request) -> Answer {
    let input: LiveStreamInput = authorized(&kino, &cloud, request).await?;
    let view = kino.create_live_stream(&cloud, input).await.map_err(fail)?;
    envelope(stream_json(&kino, &view))
}

async fn show(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Answer {
    authorized::<Value>(&kino, &cloud, request).await?;
    let view = kino.live_stream(&cloud, &id).await.map_err(fail)?;
    envelope(stream_json(&kino, &view))
}

async fn update(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Answer {
    let input: LiveStreamInput = authorized(&kino, &cloud, request).await?;
    let view = kino
        .update_live_stream(&cloud, &id, input)
        .await
        .map_err(fail)?;
    envelope(stream_json(&kino, &view))
}

async fn remove(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Answer {
    authorized::<Value>(&kino, &cloud, request).await?;
    kino.delete_live_stream(&cloud, &id).await.map_err(fail)?;
    envelope(json!({"message": "deleted"}))
}

async fn activate(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Answer {
    authorized::<Value>(&kino, &cloud, request).await?;
    kino.activate_live_stream(&cloud, &id).await.map_err(fail)?;
    envelope(json!({"message": "activated"}))
}

async fn idle(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Answer {
    authorized::<Value>(&kino, &cloud, request).await?;
    kino.idle_live_stream(&cloud, &id).await.map_err(fail)?;
    envelope(json!({"message": "idle"}))
}

async fn outputs(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Answer {
    authorized::<Value>(&kino, &cloud, request).await?;
    let view = kino.live_stream(&cloud, &id).await.map_err(fail)?;
    envelope(Value::Array(
        view.outputs
            .iter()
            .map(|o| output_json(&kino, &cloud, o))
            .collect(),
    ))
}

async fn add_output(
    State(kino): State<Kino>,
    Path((cloud, id)): Path<(String, String)>,
    request: Request,
) -> Answer {
    let input: OutputInput = authorized(&kino, &cloud, request).await?;
    let output = kino
        .add_live_stream_output(&cloud, &id, input)
        .await
        .map_err(fail)?;
    envelope(output_json(&kino, &cloud, &output))
}

async fn show_output(
    State(kino): State<Kino>,
    Path((cloud, id, output_id)): Path<(String, String, String)>,
    request: Request,
) -> Answer {
    authorized::<Value>(&kino, &cloud, request).await?;
    let output = kino
        .live_stream_output(&cloud, &id, &output_id)
        .await
        .map_err(fail)?;
    envelope(output_json(&kino, &cloud, &output))
}

async fn update_output(
    State(kino): State<Kino>,
    Path((cloud, id, output_id)): Path<(String, String, String)>,
    request: Request,
) -> Answer {
    let input: OutputInput = authorized(&kino, &cloud, request).await?;
    let output = kino
        .update_live_stream_output(&cloud, &id, &output_id, input)
        .await
        .map_err(fail)?;
    envelope(output_json(&kino, &cloud, &output))
}

async fn remove_output(
    State(kino): State<Kino>,
    Path((cloud, id, output_id)): Path<(String, String, String)>,
    request: Request,
) -> Answer {
    authorized::<Value>(&kino, &cloud, request).await?;
    kino.delete_live_stream_output(&cloud, &id, &output_id)
        .await
        .map_err(fail)?;
    envelope(json!({"message": "deleted"}))
}

/// How long a blocking playlist reload or a hinted part may be held: the draft asks servers
/// to answer within three target durations.
const HOLD: Duration = Duration::from_secs(6);
/// How long a first request waits for a just-started session to have enough to play.
const FIRST_PART: Duration = Duration::from_secs(15);

/// `GET /{cloud}/video/live/{file}` with its query.
pub async fn deliver(
    kino: &Kino,
    cloud: &str,
    file: &str,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    super::delivery::known_cloud(kino, cloud).await?;
    let (stem, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| ApiError::not_found(format!("Resource not found - {file}")))?;
    let stream_id = stem
        .strip_prefix("live_stream_")
        .and_then(|s| s.strip_suffix("_hls"))
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| ApiError::not_found(format!("Resource not found - {file}")))?;
    let broadcast = kino.live.broadcast(stream_id).ok_or_else(|| {
        ApiError::not_found(format!("Live stream {stream_id} is not live on this node"))
    })?;
    let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let number = |key: &str| -> Result<Option<u64>, ApiError> {
        q.get(key)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::bad_input(format!("{key} must be a whole number, not {v:?}"))
                })
            })
            .transpose()
    };
    let rendition = number("r")?.map(|r| usize::try_from(r).unwrap_or(usize::MAX));
    let base = format!("live_stream_{stream_id}_hls");
    match (ext, rendition) {
        ("m3u8", None) => {
            let text = broadcast
                .wait_for(FIRST_PART, |b| {
                    Ok(b.multivariant(|i| format!("{base}.m3u8?r={i}")))
                })
                .await
                .map_err(unavailable)?;
            Ok(playlist(text))
        }
        ("m3u8", Some(r)) => {
            let want = match number("_HLS_msn")? {
                Some(msn) => Some((
                    msn,
                    number("_HLS_part")?.map(|p| usize::try_from(p).unwrap_or(usize::MAX)),
                )),
                None if q.contains_key("_HLS_part") => {
                    return Err(ApiError::bad_input("_HLS_part needs _HLS_msn"));
                }
                None => None,
            };
            let uris = Names {
                base: base.clone(),
                rendition: r,
                session: broadcast.started_ms,
            };
            let wait = if want.is_some() { HOLD } else { FIRST_PART };
            let text = broadcast
                .wait_for(wait, |b| {
                    b.media_playlist(r, want, &uris, |i| format!("{base}.m3u8?r={i}"))
                })
                .await
                .map_err(unavailable)?;
            Ok(playlist(text))
        }
        ("mp4", Some(r)) => {
            if let Some(t) = q.get("t")
                && *t != broadcast.started_ms.to_string()
            {
                return Err(ApiError::not_found(
                    "this part belongs to an earlier session of the live stream",
                ));
            }
            media(&broadcast, r, &q, number("s")?, number("p")?).await
        }
        _ => Err(ApiError::not_found(format!("Resource not found - {file}"))),
    }
}

async fn media(
    broadcast: &Arc<Broadcast>,
    rendition: usize,
    q: &HashMap<String, String>,
    segment: Option<u64>,
    part: Option<u64>,
) -> Result<Response<Body>, ApiError> {
    let bytes: Bytes = if q.contains_key("init") {
        broadcast
            .wait_for(FIRST_PART, |b| b.init(rendition))
            .await
            .map_err(unavailable)?
    } else {
        let msn = segment.ok_or_else(|| ApiError::bad_input("s (the segment) is required"))?;
        let part = part.map(|p| usize::try_from(p).unwrap_or(usize::MAX));
        broadcast
            .wait_for(HOLD, |b| b.media(rendition, msn, part))
            .await
            .map_err(unavailable)?
    };
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(response)
}

fn playlist(text: String) -> Response<Body> {
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.apple.mpegurl"),
    );
    // A live playlist changes every part: never cached.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now())) {
        headers.insert(header::LAST_MODIFIED, v);
    }
    response
}

fn unavailable(u: Unavailable) -> ApiError {
    match u {
        Unavailable::Gone(m) => ApiError::not_found(m),
        Unavailable::NotYet(m) => ApiError::new(ErrorKind::Busy, m),
        Unavailable::TooFarAhead(m) => ApiError::bad_input(m),
    }
}

/// Names of a rendition's init segment, segments and parts, relative to its playlist. They
/// carry the session (`t=`), so no cache serves one session's media for the next one's.
struct Names {
    base: String,
    rendition: usize,
    session: i64,
}

impl Uris for Names {
    fn init(&self) -> String {
        format!(
            "{}.mp4?r={}&t={}&init=1",
            self.base, self.rendition, self.session
        )
    }
    fn segment(&self, msn: u64) -> String {
        format!(
            "{}.mp4?r={}&t={}&s={msn}",
            self.base, self.rendition, self.session
        )
    }
    fn part(&self, msn: u64, part: usize) -> String {
        format!(
            "{}.mp4?r={}&t={}&s={msn}&p={part}",
            self.base, self.rendition, self.session
        )
    }
}
