//! Live streams as the Live Streaming API sees them: rows with a stream key, settings and
//! outputs, plus what happens around a session — admitting a publisher by key, the status,
//! webhooks, and turning the recording into an ordinary video asset when the session ends.
//!
//! Webhooks go to the stream's `notification_url` (a Kino extension: Cloudinary documents no
//! live-stream events): `{"notification_type":"live_stream","event":…}` with the events
//! `stream_started`, `stream_ended` and `recording_ready` (the last one carries the asset).

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use super::auth::Caller;
use super::upload::{Incoming, UploadType};
use super::{Kino, ServiceError};
use crate::catalog::{LiveOutput, LiveStream};
use crate::live::{self, Admission, Ended, Session};
use crate::params::Params;
use crate::url::{DeliveryType, ResourceType};

/// A stream with its outputs, as the API shows it.
#[derive(Debug, Clone)]
pub struct LiveStreamView {
    pub stream: LiveStream,
    pub outputs: Vec<LiveOutput>,
}

/// The body of a create or update (unknown fields are refused, by name).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveStreamInput {
    pub name: Option<String>,
    pub input: Option<InputSpec>,
    pub idle_timeout_sec: Option<i64>,
    pub max_runtime_sec: Option<i64>,
    /// Kino: the streaming profile of the renditions (default `hd`).
    pub streaming_profile: Option<String>,
    /// Kino: where the stream's webhooks go.
    pub notification_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// The body of an output create or update.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputInput {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub uri: Option<String>,
    pub stream_key: Option<String>,
    pub vendor: Option<String>,
    pub public_id: Option<String>,
}

pub const IDLE: &str = "idle";
pub const ACTIVE: &str = "active";
const DEFAULT_IDLE_TIMEOUT: i64 = 120;
const DEFAULT_MAX_RUNTIME: i64 = 10_800;
const MAX_SECONDS: i64 = 7 * 24 * 3600;

/// A stream key: 20 lowercase letters and digits, like Cloudinary's.
fn new_stream_key() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

fn check_seconds(name: &str, value: Option<i64>) -> Result<Option<i64>, ServiceError> {
    match value {
        Some(v) if !(1..=MAX_SECONDS).contains(&v) => Err(ServiceError::BadInput(format!(
            "{name} must be between 1 and {MAX_SECONDS} seconds, not {v}"
        ))),
        other => Ok(other),
    }
}

fn check_name(name: Option<&String>) -> Result<(), ServiceError> {
    if name.is_some_and(|n| n.chars().count() > 255) {
        return Err(ServiceError::BadInput(
            "name must be at most 255 characters".into(),
        ));
    }
    Ok(())
}

/// The archive output's public id by default.
pub fn archive_public_id(stream_id: &str) -> String {
    format!("live_stream_{stream_id}_archive")
}

impl Kino {
    async fn checked_profile(&self, cloud: &str, name: &str) -> Result<(), ServiceError> {
        self.streaming_profile(cloud, name).await.map(|_| ())
    }

    pub async fn create_live_stream(
        &self,
        cloud: &str,
        input: LiveStreamInput,
    ) -> Result<LiveStreamView, ServiceError> {
        check_name(input.name.as_ref())?;
        if let Some(kind) = input.input.as_ref().and_then(|i| i.kind.as_deref())
            && kind != "rtmp"
            && kind != "srt"
        {
            return Err(ServiceError::BadInput(format!(
                "input.type {kind:?} is not supported: use rtmp (SRT is offered with every stream)"
            )));
        }
        let profile = input.streaming_profile.unwrap_or_else(|| "hd".into());
        self.checked_profile(cloud, &profile).await?;
        if let Some(url) = &input.notification_url {
            super::notify::check_url(url).map_err(ServiceError::BadInput)?;
        }
        let now = live::session::now_ms();
        let id = crate::ids::hex32();
        let stream = LiveStream {
            id: id.clone(),
            cloud: cloud.to_string(),
            name: input.name,
            stream_key: new_stream_key(),
            status: IDLE.into(),
            idle_timeout_sec: check_seconds("idle_timeout_sec", input.idle_timeout_sec)?
                .unwrap_or(DEFAULT_IDLE_TIMEOUT),
            max_runtime_sec: check_seconds("max_runtime_sec", input.max_runtime_sec)?
                .unwrap_or(DEFAULT_MAX_RUNTIME),
            streaming_profile: profile,
            notification_url: input.notification_url,
            created_at: now,
            updated_at: now,
        };
        let output = |kind: &str, name: &str, public_id: Option<String>| LiveOutput {
            id: crate::ids::hex32(),
            stream_id: id.clone(),
            kind: kind.into(),
            name: Some(name.into()),
            uri: None,
            stream_key: None,
            vendor: None,
            public_id,
            created_at: now,
            updated_at: now,
        };
        let outputs = vec![
            output("hls", "default hls", None),
            output("archive", "default archive", Some(archive_public_id(&id))),
        ];
        self.catalog.create_live_stream(&stream, &outputs).await?;
        Ok(LiveStreamView { stream, outputs })
    }

    pub async fn live_streams(&self, cloud: &str) -> Result<Vec<LiveStreamView>, ServiceError> {
        let mut out = Vec::new();
        for stream in self.catalog.list_live_streams(cloud).await? {
            let outputs = self.catalog.live_stream_outputs(&stream.id).await?;
            out.push(LiveStreamView { stream, outputs });
        }
        Ok(out)
    }

    pub async fn live_stream(&self, cloud: &str, id: &str) -> Result<LiveStreamView, ServiceError> {
        let stream = self
            .catalog
            .find_live_stream(cloud, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("Live stream {id} not found")))?;
        let outputs = self.catalog.live_stream_outputs(&stream.id).await?;
        Ok(LiveStreamView { stream, outputs })
    }

    pub async fn update_live_stream(
        &self,
        cloud: &str,
        id: &str,
        input: LiveStreamInput,
    ) -> Result<LiveStreamView, ServiceError> {
        let mut view = self.live_stream(cloud, id).await?;
        if input.input.is_some() {
            return Err(ServiceError::BadInput(
                "input cannot be changed; create another live stream".into(),
            ));
        }
        check_name(input.name.as_ref())?;
        let s = &mut view.stream;
        if let Some(name) = input.name {
            s.name = Some(name);
        }
        if let Some(v) = check_seconds("idle_timeout_sec", input.idle_timeout_sec)? {
            s.idle_timeout_sec = v;
        }
        if let Some(v) = check_seconds("max_runtime_sec", input.max_runtime_sec)? {
            s.max_runtime_sec = v;
        }
        if let Some(profile) = input.streaming_profile {
            self.checked_profile(cloud, &profile).await?;
            s.streaming_profile = profile;
        }
        if let Some(url) = input.notification_url {
            if url.is_empty() {
                s.notification_url = None;
            } else {
                super::notify::check_url(&url).map_err(ServiceError::BadInput)?;
                s.notification_url = Some(url);
            }
        }
        s.updated_at = live::session::now_ms();
        self.catalog.update_live_stream(s).await?;
        Ok(view)
    }

    /// Deletes a stream, ending its session first. Its recordings stay as assets.
    pub async fn delete_live_stream(&self, cloud: &str, id: &str) -> Result<(), ServiceError> {
        self.live_stream(cloud, id).await?;
        self.live.stop(id, "the live stream was deleted");
        self.catalog.delete_live_stream(cloud, id).await?;
        self.live.forget(id);
        Ok(())
    }

    /// `activate`: the stream is expected to go live (publishing activates it too).
    pub async fn activate_live_stream(&self, cloud: &str, id: &str) -> Result<(), ServiceError> {
        self.live_stream(cloud, id).await?;
        self.catalog
            .set_live_stream_status(id, ACTIVE, live::session::now_ms())
            .await?;
        Ok(())
    }

    /// `idle`: ends the running session, if any.
    pub async fn idle_live_stream(&self, cloud: &str, id: &str) -> Result<(), ServiceError> {
        self.live_stream(cloud, id).await?;
        self.live.stop(id, "the live stream was set idle");
        self.catalog
            .set_live_stream_status(id, IDLE, live::session::now_ms())
            .await?;
        Ok(())
    }

    pub async fn add_live_stream_output(
        &self,
        cloud: &str,
        id: &str,
        input: OutputInput,
    ) -> Result<LiveOutput, ServiceError> {
        self.live_stream(cloud, id).await?;
        let kind = input.kind.clone().unwrap_or_default();
        match kind.as_str() {
            "archive" => {}
            "hls" => {
                return Err(ServiceError::BadInput(
                    "a live stream has one hls output, made with it".into(),
                ));
            }
            "simulcast" => {
                return Err(ServiceError::BadInput(
                    "simulcast outputs are not supported by Kino".into(),
                ));
            }
            other => {
                return Err(ServiceError::BadInput(format!(
                    "output type {other:?} is unknown: use archive"
                )));
            }
        }
        let public_id = input
            .public_id
            .clone()
            .unwrap_or_else(|| archive_public_id(id));
        crate::url::validate_public_id(&public_id)?;
        let now = live::session::now_ms();
        let output = LiveOutput {
            id: crate::ids::hex32(),
            stream_id: id.to_string(),
            kind,
            name: input.name,
            uri: None,
            stream_key: None,
            vendor: None,
            public_id: Some(public_id),
            created_at: now,
            updated_at: now,
        };
        self.catalog.add_live_stream_output(&output).await?;
        Ok(output)
    }

    pub async fn live_stream_output(
        &self,
        cloud: &str,
        id: &str,
        output_id: &str,
    ) -> Result<LiveOutput, ServiceError> {
        self.live_stream(cloud, id)
            .await?
            .outputs
            .into_iter()
            .find(|o| o.id == output_id)
            .ok_or_else(|| ServiceError::NotFound(format!("Output {output_id} not found")))
    }

    pub async fn update_live_stream_output(
        &self,
        cloud: &str,
        id: &str,
        output_id: &str,
        input: OutputInput,
    ) -> Result<LiveOutput, ServiceError> {
        let mut output = self.live_stream_output(cloud, id, output_id).await?;
        if input.kind.as_ref().is_some_and(|k| *k != output.kind) {
            return Err(ServiceError::BadInput(
                "an output's type cannot change".into(),
            ));
        }
        if input.uri.is_some() || input.stream_key.is_some() || input.vendor.is_some() {
            return Err(ServiceError::BadInput(
                "uri, stream_key and vendor belong to simulcast outputs, which Kino does not offer"
                    .into(),
            ));
        }
        if let Some(name) = input.name {
            output.name = Some(name);
        }
        if let Some(public_id) = input.public_id {
            if output.kind != "archive" {
                return Err(ServiceError::BadInput(
                    "only an archive output has a public_id".into(),
                ));
            }
            crate::url::validate_public_id(&public_id)?;
            output.public_id = Some(public_id);
        }
        output.updated_at = live::session::now_ms();
        self.catalog.update_live_stream_output(&output).await?;
        Ok(output)
    }

    pub async fn delete_live_stream_output(
        &self,
        cloud: &str,
        id: &str,
        output_id: &str,
    ) -> Result<(), ServiceError> {
        let output = self.live_stream_output(cloud, id, output_id).await?;
        if output.kind == "hls" {
            return Err(ServiceError::BadInput(
                "the hls output cannot be deleted".into(),
            ));
        }
        self.catalog
            .delete_live_stream_output(id, output_id)
            .await?;
        Ok(())
    }

    /// Queues a live-stream webhook, when the stream has a URL for them.
    async fn live_event(&self, stream: &LiveStream, event: &str, extra: Value) {
        let Some(url) = &stream.notification_url else {
            return;
        };
        let mut body = json!({
            "notification_type": "live_stream",
            "event": event,
            "live_stream_id": stream.id,
            "name": stream.name,
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
            b.extend(extra);
        }
        if let Err(e) = self.notify(&stream.cloud, url, &body).await {
            tracing::warn!(error = %e, stream = stream.id, event, "live webhook not queued");
        }
    }

    /// Stores a finished session's recording as a video asset under each archive output's
    /// public id (a free one: an earlier recording is never replaced).
    async fn store_recording(
        &self,
        stream: &LiveStream,
        deleted: bool,
        recording: &std::path::Path,
    ) -> Result<Vec<crate::catalog::Asset>, ServiceError> {
        let archives: Vec<String> = if deleted {
            // The stream went while it was live: its recording is kept under the default id.
            vec![archive_public_id(&stream.id)]
        } else {
            self.catalog
                .live_stream_outputs(&stream.id)
                .await?
                .into_iter()
                .filter(|o| o.kind == "archive")
                .filter_map(|o| o.public_id)
                .collect()
        };
        if archives.is_empty() {
            return Ok(Vec::new());
        }
        // The recording is fragmented; the asset is a classic MP4 with its index first.
        let seekable = recording.with_extension("seekable.mp4");
        let (src, dst) = (recording.to_path_buf(), seekable.clone());
        tokio::task::spawn_blocking(move || crate::engine::remux_seekable(&src, &dst, "mp4"))
            .await
            .map_err(|e| ServiceError::BadInput(format!("remuxing the recording: {e}")))?
            .map_err(|e| ServiceError::BadInput(format!("remuxing the recording: {e}")))?;
        let mut assets = Vec::new();
        for public_id in archives {
            let public_id = self.free_public_id(&stream.cloud, &public_id).await?;
            let mut file = self.staging.create(self.limits.max_video_bytes).await?;
            let mut reader = tokio::fs::File::open(&seekable)
                .await
                .map_err(|e| ServiceError::BadInput(format!("reading the recording: {e}")))?;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = reader
                    .read(&mut buf)
                    .await
                    .map_err(|e| ServiceError::BadInput(format!("reading the recording: {e}")))?;
                if n == 0 {
                    break;
                }
                file.write(&buf[..n]).await?;
            }
            let mut params = Params::new();
            params.set("public_id", public_id);
            params.set("overwrite", "false");
            let uploaded = self
                .ingest(
                    &stream.cloud,
                    UploadType::Video,
                    &Caller::Signed,
                    &params,
                    Incoming {
                        file,
                        filename: Some(format!("{}.mp4", stream.id)),
                    },
                )
                .await?;
            assets.push(uploaded.asset);
        }
        let _ = tokio::fs::remove_file(&seekable).await;
        Ok(assets)
    }

    /// `public_id`, or `public_id_2`, `_3`… when taken.
    async fn free_public_id(&self, cloud: &str, public_id: &str) -> Result<String, ServiceError> {
        let mut candidate = public_id.to_string();
        for n in 2.. {
            let taken = self
                .catalog
                .find_asset(cloud, ResourceType::Video, DeliveryType::Upload, &candidate)
                .await?
                .is_some();
            if !taken {
                break;
            }
            candidate = format!("{public_id}_{n}");
        }
        Ok(candidate)
    }

    /// The row of the stream a session was for, and whether it was deleted meanwhile (then a
    /// stand-in under its id, so the recording is still kept).
    async fn stream_ended(&self, ended: &Ended) -> Option<(LiveStream, bool)> {
        let found = match &ended.cloud {
            Some(cloud) => self.catalog.find_live_stream(cloud, &ended.stream_id).await,
            None => self.catalog.find_live_stream_by_id(&ended.stream_id).await,
        };
        match found {
            Ok(Some(s)) => Some((s, false)),
            Ok(None) => Some((
                LiveStream {
                    id: ended.stream_id.clone(),
                    cloud: ended
                        .cloud
                        .clone()
                        .unwrap_or_else(|| self.primary.cloud.clone()),
                    name: None,
                    stream_key: String::new(),
                    status: IDLE.into(),
                    idle_timeout_sec: 0,
                    max_runtime_sec: 0,
                    streaming_profile: String::new(),
                    notification_url: None,
                    created_at: 0,
                    updated_at: 0,
                },
                true,
            )),
            Err(e) => {
                tracing::warn!(error = %e, "live stream row unreadable after its session");
                None
            }
        }
    }

    async fn after_session(&self, ended: Ended) {
        let Some((stream, deleted)) = self.stream_ended(&ended).await else {
            return;
        };
        let _ = self
            .catalog
            .set_live_stream_status(&stream.id, IDLE, live::session::now_ms())
            .await;
        self.live_event(
            &stream,
            "stream_ended",
            json!({"reason": ended.reason, "duration": ended.seconds}),
        )
        .await;
        let Some(recording) = ended.recording else {
            return;
        };
        match self.store_recording(&stream, deleted, &recording).await {
            Ok(assets) => {
                for asset in assets {
                    tracing::info!(
                        stream = stream.id,
                        public_id = asset.public_id,
                        "live recording stored"
                    );
                    let url = format!(
                        "{}/{}/video/upload/v{}/{}.{}",
                        self.secure_url, asset.cloud, asset.version, asset.public_id, asset.format
                    );
                    self.live_event(
                        &stream,
                        "recording_ready",
                        json!({
                            "public_id": asset.public_id,
                            "asset_id": asset.asset_id,
                            "version": asset.version,
                            "resource_type": "video",
                            "type": "upload",
                            "format": asset.format,
                            "bytes": asset.bytes,
                            "duration": asset.media.as_ref().map(|m| m.duration),
                            "secure_url": url,
                        }),
                    )
                    .await;
                }
            }
            Err(e) => {
                // Kept beside the others for a person to look at; not retried at start-up.
                let kept = recording.with_extension("failed");
                tracing::warn!(error = %e, stream = stream.id, kept = %kept.display(), "live recording not stored");
                let _ = tokio::fs::rename(&recording, &kept).await;
                return;
            }
        }
        let _ = tokio::fs::remove_file(&recording).await;
    }
}

#[async_trait::async_trait]
impl live::Gate for Kino {
    async fn admit(&self, stream_key: &str) -> Result<Admission, String> {
        let unknown = || "unknown stream key".to_string();
        if stream_key.is_empty() || stream_key.len() > 128 {
            return Err(unknown());
        }
        let stream = self
            .catalog
            .find_live_stream_by_key(stream_key)
            .await
            .map_err(|e| format!("the catalog is unavailable: {e}"))?
            .ok_or_else(unknown)?;
        // A disabled product environment takes no new sessions.
        self.environment(&stream.cloud)
            .await
            .map_err(|e| e.to_string())?;
        let profile = self
            .streaming_profile(&stream.cloud, &stream.streaming_profile)
            .await
            .map_err(|e| format!("streaming profile {}: {e}", stream.streaming_profile))?;
        let seconds = |s: i64| Duration::from_secs(u64::try_from(s.max(1)).unwrap_or(1));
        Ok(Admission {
            stream_id: stream.id,
            cloud: stream.cloud,
            representations: profile.representations,
            idle_timeout: seconds(stream.idle_timeout_sec),
            max_runtime: seconds(stream.max_runtime_sec),
        })
    }

    async fn started(&self, session: &Session) {
        let _ = self
            .catalog
            .set_live_stream_status(&session.stream_id, ACTIVE, live::session::now_ms())
            .await;
        if let Ok(Some(stream)) = self
            .catalog
            .find_live_stream(&session.cloud, &session.stream_id)
            .await
        {
            self.live_event(&stream, "stream_started", json!({})).await;
        }
    }

    async fn ended(&self, ended: Ended) {
        self.after_session(ended).await;
    }
}

/// The gate as the ingest servers hold it.
pub fn gate(kino: &Kino) -> Arc<dyn live::Gate> {
    Arc::new(kino.clone())
}
