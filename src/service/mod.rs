//! What the API calls mean, independent of HTTP: upload ingestion, chunked uploads, remote
//! fetch, authorization of signed and unsigned requests, operations on resources,
//! transformations and streams, and the background jobs (eager work, notifications).
//!
//! Handlers in `api` parse a request into plain values and call one function here.

pub mod analysis;
pub mod archive;
pub mod auth;
pub mod chunks;
mod claims;
pub mod eager;
pub mod environments;
mod error;
mod fetch;
mod hlsv3;
mod incoming;
pub mod jobs;
mod keys;
mod ladder;
pub mod live;
pub mod mappings;
mod metadata;
pub mod multi;
pub mod notify;
pub mod profiles;
pub mod progress;
pub mod remote;
pub mod resources;
mod restrictions;
pub mod segments;
pub mod sprite;
pub mod streaming;
mod strict;
pub mod text;
pub mod transform;
pub mod upload;
pub mod versions;

pub use error::ServiceError;

use std::sync::Arc;

use crate::account::AccountKey;
use crate::catalog::{Catalog, Environment};
use crate::config::Limits;
use crate::store::{BlobStore, Staging};

/// Everything the services need, built once by `startup` and shared by every request.
#[derive(Debug, Clone)]
pub struct Kino {
    /// The product environment of `CLOUDINARY_URL` (the others are in the catalog).
    pub primary: Arc<Environment>,
    /// The Provisioning API's account-level key.
    pub account_key: Arc<AccountKey>,
    pub catalog: Catalog,
    pub store: Arc<dyn BlobStore>,
    pub staging: Staging,
    pub chunks: chunks::ChunkArea,
    /// Derived files being made, and the engine's worker and queue limits.
    pub derived: crate::derived::Cache,
    /// What `/metrics` counts.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// For webhooks (operators' own endpoints, private addresses allowed).
    pub http: reqwest::Client,
    /// For media at users' URLs: only addresses `guard` allows.
    pub fetcher: reqwest::Client,
    pub guard: Arc<crate::netguard::Guard>,
    pub limits: Limits,
    pub security: crate::config::Security,
    /// Keep every uploaded version for `restore` (an upload's `backup` parameter overrides it).
    pub backup: bool,
    /// Where untrusted uploads are probed (`None`: in this process).
    pub isolation: Option<Arc<crate::isolation::Isolation>>,
    /// Base of `url` in responses, without a trailing slash (`http://127.0.0.1:8080`).
    pub public_url: String,
    /// Base of `secure_url` in responses.
    pub secure_url: String,
    /// The background job queue's settings and wake-up signal.
    pub jobs: jobs::JobQueue,
    /// Runs of the engine making streaming segments, by track.
    pub runs: segments::Runs,
    /// Live sessions ingested by this node.
    pub live: crate::live::Live,
    /// This process's name in claims on shared work (random, new at each start).
    pub node: String,
}

impl Kino {
    /// The largest upload of any resource type (the cap while the type is still unknown).
    pub fn max_upload_bytes(&self) -> u64 {
        self.limits
            .max_image_bytes
            .max(self.limits.max_video_bytes)
            .max(self.limits.max_raw_bytes)
    }

    /// Deletes blobs left in the trash by a crash or a failed delete. Called at start-up.
    pub async fn sweep_trash(&self) -> Result<usize, ServiceError> {
        let keys = self.catalog.trash().await?;
        for key in &keys {
            self.store.delete(key).await?;
            self.catalog.forget_trash(key).await?;
        }
        Ok(keys.len())
    }

    /// Deletes a blob that no row references any more (best effort; the trash remembers it).
    pub async fn discard_blob(&self, key: &str) {
        // Only trash is deleted: a backed-up version may still need a replaced blob.
        match self.catalog.in_trash(key).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, key, "could not check the trash; the blob stays");
                return;
            }
        }
        match self.store.delete(key).await {
            Ok(()) => {
                if let Err(e) = self.catalog.forget_trash(key).await {
                    tracing::warn!(error = %e, key, "could not forget a deleted blob");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, key, "could not delete a blob; it stays in the trash")
            }
        }
    }
}
