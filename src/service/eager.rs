//! Eager transformations: derived files made when an asset is uploaded (or `explicit` asks for
//! them), not at their first request. Without `eager_async` the response waits and lists them;
//! with it they become a queued job (see [`super::jobs`]) that posts an `eager` notification
//! when done. A streaming eager (`sp_hd/m3u8`, `sp_hd/mpd`) makes the initialization segment
//! and every segment of every track of the ladder, so players never wait for the engine.

use serde::{Deserialize, Serialize};

use super::jobs::{JobFailure, NOTIFY};
use super::transform::{Client, Transformed};
use super::{Kino, ServiceError};
use crate::catalog::{Asset, Derived, NewJob};
use crate::error::ErrorKind;
use crate::service::streaming::StreamPart;
use crate::url::{DeliveryPath, DeliveryType, Eager, ResourceType};

/// A derived file made eagerly: what responses and notifications list.
#[derive(Debug, Clone, PartialEq)]
pub struct EagerMade {
    /// The transformation as the request gave it (canonical form).
    pub transformation: String,
    pub format: String,
    /// The file's size; for a stream, its manifest's.
    pub bytes: i64,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// One eager transformation of a queued job, with the URLs the API gave for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EagerItem {
    /// Eager syntax: the transformation and its format (`c_scale,w_100/png`).
    pub eager: String,
    pub transformation: String,
    pub format: String,
    pub url: String,
    pub secure_url: String,
}

/// The job `eager_async` queues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EagerJob {
    pub cloud: String,
    pub resource_type: String,
    pub delivery_type: String,
    pub public_id: String,
    pub asset_id: String,
    pub version: i64,
    pub batch_id: String,
    /// Where the `eager` notification goes (`eager_notification_url`, else
    /// `notification_url`).
    pub notification_url: Option<String>,
    pub items: Vec<EagerItem>,
}

/// The job kind of [`EagerJob`].
pub const EAGER: &str = "eager";

impl Kino {
    /// Makes the derived file of an eager transformation now and waits for it to be stored.
    pub async fn make_eager(
        &self,
        asset: &Asset,
        eager: &Eager,
    ) -> Result<EagerMade, ServiceError> {
        let (path, streaming) = eager_path(asset, eager);
        if streaming {
            return self.make_eager_stream(&path, asset, eager).await;
        }
        let derived = self.stored_derived(asset, eager).await?;
        let (width, height) = match self.store.local_copy(&derived.blob_key).await {
            Ok(p) => {
                let probed =
                    tokio::task::spawn_blocking(move || crate::engine::probe(&p, None, u64::MAX));
                match probed.await {
                    Ok(Ok(info)) => (info.width, info.height),
                    _ => (None, None),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "an eager output could not be read back");
                (None, None)
            }
        };
        Ok(EagerMade {
            transformation: eager.transformation.to_string(),
            format: derived.format,
            bytes: derived.bytes,
            width,
            height,
        })
    }

    /// The derived file of a (non-streaming) eager transformation, made now if it is not
    /// stored yet, once it is in the store.
    pub(super) async fn stored_derived(
        &self,
        asset: &Asset,
        eager: &Eager,
    ) -> Result<Derived, ServiceError> {
        let (path, _) = eager_path(asset, eager);
        // A flight started by this call (or joined) is read to its end, then the row exists.
        let mut stored = None;
        for _ in 0..2 {
            match self.transformed(&path, asset, Client::default()).await? {
                Transformed::Stored(d) => {
                    stored = Some(d);
                    break;
                }
                live @ Transformed::Live { .. } => drain(live).await?,
            }
        }
        stored.ok_or_else(|| ServiceError::Failed {
            kind: ErrorKind::Internal,
            message: "the eager output was not stored".into(),
        })
    }

    /// Makes every segment of an adaptive stream (HLS and DASH share them).
    async fn make_eager_stream(
        &self,
        path: &DeliveryPath,
        asset: &Asset,
        eager: &Eager,
    ) -> Result<EagerMade, ServiceError> {
        let stream = self.stream_of(path, asset).await?;
        self.make_ladder(asset, &stream).await?;
        let manifest = match self.stream(path, asset, StreamPart::Manifest).await? {
            super::streaming::Streamed::Text { body, .. } => body.len(),
            super::streaming::Streamed::File(_) | super::streaming::Streamed::Binary { .. } => 0,
        };
        let top = stream.video.first();
        Ok(EagerMade {
            transformation: eager.transformation.to_string(),
            format: path.extension.clone().unwrap_or_default(),
            bytes: i64::try_from(manifest).unwrap_or(i64::MAX),
            width: top.map(|r| r.width),
            height: top.map(|r| r.height),
        })
    }

    /// Queues `job` to run in the background.
    pub async fn queue_eager(&self, job: &EagerJob) -> Result<(), ServiceError> {
        self.enqueue(&job.cloud, EAGER, &job.batch_id, job, 0).await
    }

    /// Runs a queued eager job; what follows is its notification, if it has a URL.
    pub(super) async fn run_eager(&self, job: &EagerJob) -> Result<Vec<NewJob>, JobFailure> {
        let rt = ResourceType::parse(&job.resource_type).ok_or_else(|| {
            JobFailure::GiveUp(format!("bad resource type {}", job.resource_type))
        })?;
        let dt = DeliveryType::parse(&job.delivery_type)
            .ok_or_else(|| JobFailure::GiveUp(format!("bad type {}", job.delivery_type)))?;
        let asset = self
            .catalog
            .find_asset(&job.cloud, rt, dt, &job.public_id)
            .await
            .map_err(|e| JobFailure::Retry(e.to_string()))?
            .filter(|a| a.asset_id == job.asset_id && a.version == job.version)
            .ok_or_else(|| {
                JobFailure::GiveUp(format!(
                    "{} was deleted or replaced before its eager transformations ran",
                    job.public_id
                ))
            })?;
        let mut results = Vec::with_capacity(job.items.len());
        for item in &job.items {
            let made = match crate::url::parse_eager(&item.eager) {
                Ok(list) => match list.first() {
                    Some(eager) => self.make_eager(&asset, eager).await,
                    None => Err(ServiceError::BadInput("empty eager transformation".into())),
                },
                Err(e) => Err(e.into()),
            };
            match made {
                Ok(made) => results.push(processed(item, &made)),
                // The engine is busy or something broke on our side: try the job again later
                // (what is already made is cached, so a retry resumes).
                Err(e) if matches!(e.kind(), ErrorKind::Busy | ErrorKind::Internal) => {
                    return Err(JobFailure::Retry(e.to_string()));
                }
                Err(e) => results.push(failed(item, &e.to_string())),
            }
        }
        let Some(url) = &job.notification_url else {
            return Ok(Vec::new());
        };
        let body = serde_json::json!({
            "notification_type": "eager",
            "eager": results,
            "public_id": job.public_id,
            "batch_id": job.batch_id,
        });
        Ok(vec![self.notification_job(&job.cloud, url, &body)])
    }

    /// A queued notification of `body` to `url`.
    pub fn notification_job(&self, cloud: &str, url: &str, body: &serde_json::Value) -> NewJob {
        let notification = super::notify::Notification {
            url: url.to_string(),
            body: body.to_string(),
        };
        NewJob {
            id: super::jobs::new_id(),
            cloud: cloud.to_string(),
            kind: NOTIFY.into(),
            payload: serde_json::to_string(&notification).unwrap_or_default(),
            run_after: super::jobs::now_ms(),
        }
    }
}

/// The delivery path an eager transformation of `asset` stands for, and whether it is an
/// adaptive stream (`sp_…` as `m3u8` or `mpd`: a whole ladder).
pub(super) fn eager_path(asset: &Asset, eager: &Eager) -> (DeliveryPath, bool) {
    let format = eager.format.clone().unwrap_or_else(|| asset.format.clone());
    let streaming = crate::streaming::segment::profile_name(&eager.transformation).is_some()
        && matches!(format.as_str(), "m3u8" | "mpd");
    let path = DeliveryPath {
        cloud: asset.cloud.clone(),
        resource_type: asset.resource_type,
        delivery_type: asset.delivery_type,
        signature: None,
        transformation: eager.transformation.clone(),
        version: Some(asset.version),
        public_id: asset.public_id.clone(),
        extension: Some(format),
        signed_text: String::new(),
    };
    (path, streaming)
}

/// Reads a flight to its end (the file is then stored), or does nothing for a stored one.
pub(super) async fn drain(made: Transformed) -> Result<(), ServiceError> {
    if let Transformed::Live { follower, .. } = made {
        let mut bytes = std::pin::pin!(follower.into_stream());
        while let Some(chunk) = futures::StreamExt::next(&mut bytes).await {
            chunk.map_err(|e| ServiceError::Failed {
                kind: ErrorKind::BadInput,
                message: format!("Eager transformation failed: {e}"),
            })?;
        }
    }
    Ok(())
}

fn processed(item: &EagerItem, made: &EagerMade) -> serde_json::Value {
    let mut v = serde_json::json!({
        "transformation": item.transformation,
        "bytes": made.bytes,
        "format": made.format,
        "url": item.url,
        "secure_url": item.secure_url,
        "status": "processed",
    });
    if let (Some(w), Some(h)) = (made.width, made.height) {
        v["width"] = w.into();
        v["height"] = h.into();
    }
    v
}

fn failed(item: &EagerItem, message: &str) -> serde_json::Value {
    serde_json::json!({
        "transformation": item.transformation,
        "format": item.format,
        "url": item.url,
        "secure_url": item.secure_url,
        "status": "failed",
        "error": {"message": message},
    })
}
