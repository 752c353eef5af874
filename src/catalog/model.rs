//! Catalog types. They are not wire types: `api` builds its JSON from them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::engine::MediaInfo;
use crate::url::{DeliveryType, ResourceType};

/// One stored asset: the current version of a public id.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Internal row id; also the listing order.
    pub row: i64,
    pub cloud: String,
    pub asset_id: String,
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
    pub public_id: String,
    /// Extension of the original (`jpg`, `mp4`); empty for raw.
    pub format: String,
    pub version: i64,
    pub version_id: String,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub etag: String,
    pub blob_key: String,
    pub original_filename: Option<String>,
    /// Probe facts; `None` for raw files.
    pub media: Option<MediaInfo>,
    pub context: BTreeMap<String, String>,
    pub tags: Vec<String>,
    /// Structured metadata: field id → typed value.
    pub metadata: BTreeMap<String, serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Asset {
    /// The folder part of the public id (`a/b` for `a/b/c`), empty at the root.
    pub fn folder(&self) -> &str {
        self.public_id.rsplit_once('/').map_or("", |(f, _)| f)
    }

    /// The last segment of the public id.
    pub fn display_name(&self) -> &str {
        self.public_id
            .rsplit_once('/')
            .map_or(&self.public_id, |(_, n)| n)
    }
}

/// What an upload writes; the catalog fills in row ids and keeps `asset_id`/`created_at` on overwrite.
#[derive(Debug, Clone)]
pub struct NewAsset {
    pub cloud: String,
    pub asset_id: String,
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
    pub public_id: String,
    pub format: String,
    pub version: i64,
    pub version_id: String,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub etag: String,
    pub blob_key: String,
    pub original_filename: Option<String>,
    pub media: Option<MediaInfo>,
    pub context: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub now: DateTime<Utc>,
    /// Structured metadata to set and clear (checked already; other fields are kept).
    pub metadata: crate::metadata::Assignment,
    /// Keep this version when it is later overwritten or deleted (see [`AssetVersion`]).
    pub backup: bool,
}

/// A backed-up version of an asset: its file and facts as they were uploaded.
#[derive(Debug, Clone)]
pub struct AssetVersion {
    pub version_id: String,
    pub cloud: String,
    pub asset_id: String,
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
    pub public_id: String,
    pub format: String,
    pub version: i64,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub etag: String,
    pub blob_key: String,
    pub original_filename: Option<String>,
    pub media: Option<MediaInfo>,
    pub created_at: DateTime<Utc>,
}

/// An upload preset: named defaults for uploads, and the key to unsigned uploads.
#[derive(Debug, Clone)]
pub struct Preset {
    pub name: String,
    pub unsigned: bool,
    /// Upload parameters in their serialized wire form (`tags` comma string, `folder` …).
    pub settings: BTreeMap<String, String>,
}

/// A named transformation: a transformation string saved under a name, used in URLs as `t_<name>`.
#[derive(Debug, Clone)]
pub struct NamedTransformation {
    pub name: String,
    /// The definition as sent (`c_fill,w_100/e_sepia`), not parsed here.
    pub transformation: String,
    /// Whether strict-transformation accounts may still generate it on the fly.
    pub allowed_for_strict: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Totals for the usage report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub assets: i64,
    pub bytes: i64,
}

/// A cached transformation output of one asset version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// 32 hex digits: the digest of (asset_id, version, expanded transformation, format).
    pub id: String,
    pub cloud: String,
    pub asset_id: String,
    pub version: i64,
    /// The canonical transformation as requested (named transformations not expanded).
    pub transformation: String,
    pub format: String,
    pub blob_key: String,
    pub bytes: i64,
    pub etag: String,
    pub created_at: DateTime<Utc>,
}
