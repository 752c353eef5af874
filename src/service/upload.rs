//! Upload ingestion: from a staged file to a visible asset.
//!
//! Order matters and is the atomicity argument: stage (temp file) → probe → decide the public
//! id → note the blob key in the trash → move the blob into place → write the catalog row
//! (which takes the key out of the trash) → delete the blob it replaced. A crash at any step
//! leaves either the old asset or the new one, and at worst a trash entry swept at start-up.

use std::collections::BTreeMap;

use chrono::Utc;
use rand::Rng;

use super::auth::Caller;
use super::incoming::IncomingTransformation;
use super::{Kino, ServiceError};
use crate::catalog::{Asset, NewAsset};
use crate::engine::{self, MediaInfo, MediaKind};
use crate::params::{Params, parse_context};
use crate::store::StagedFile;
use crate::url::{DeliveryType, ResourceType, validate_public_id};

/// The resource type named in the upload path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadType {
    Image,
    Video,
    Raw,
    Auto,
}

impl UploadType {
    pub fn parse(s: &str) -> Option<UploadType> {
        match s {
            "image" => Some(UploadType::Image),
            "video" => Some(UploadType::Video),
            "raw" => Some(UploadType::Raw),
            "auto" => Some(UploadType::Auto),
            _ => None,
        }
    }
}

/// A file to ingest, already in the staging area.
#[derive(Debug)]
pub struct Incoming {
    pub file: StagedFile,
    /// The name the client gave the file (full path from Python), if any.
    pub filename: Option<String>,
}

/// What an upload produced.
#[derive(Debug)]
pub struct Uploaded {
    pub asset: Asset,
    /// `overwrite=false` met an existing asset, which is returned unchanged.
    pub existing: bool,
    /// An earlier version was replaced.
    pub overwritten: bool,
}

/// Where a probed file goes.
#[derive(Debug)]
pub(super) struct Placing<'a> {
    pub cloud: &'a str,
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
    pub public_id: String,
    /// Replace an existing asset (else the existing one is the answer).
    pub overwrite: bool,
    pub media: Option<MediaInfo>,
    /// The file's name and extension, when known.
    pub original_name: Option<(String, Option<String>)>,
    /// The `format` of a file without media facts (a generated PDF); else the probe's.
    pub format: Option<String>,
}

impl Kino {
    /// Ingests `incoming` as an asset of `cloud`, with upload parameters `params`.
    pub async fn ingest(
        &self,
        cloud: &str,
        upload_type: UploadType,
        caller: &Caller,
        params: &Params,
        mut incoming: Incoming,
    ) -> Result<Uploaded, ServiceError> {
        if incoming.file.is_empty() {
            return Err(ServiceError::BadInput("Empty file".into()));
        }
        incoming.file.finish().await?;
        let original_name = incoming.filename.as_deref().and_then(base_name);
        let ext_hint = original_name.as_ref().and_then(|n| n.1.clone());
        let (resource_type, media) = self
            .classify(upload_type, &incoming.file, ext_hint.as_deref())
            .await?;
        self.check_limits(resource_type, incoming.file.len(), media.as_ref())?;
        let asked = IncomingTransformation {
            cloud,
            transformation: params.get("transformation").unwrap_or_default(),
            format: params.get("format").filter(|f| !f.is_empty()),
            tags: params.list("tags"),
        };
        let (file, media) = match self
            .transform_incoming(&asked, resource_type, &incoming.file, media.as_ref())
            .await?
        {
            Some((made, made_media)) => {
                self.check_limits(resource_type, made.len(), Some(&made_media))?;
                (made, Some(made_media))
            }
            None => (incoming.file, media),
        };

        let delivery_type = match params.get("type") {
            None => DeliveryType::Upload,
            Some(t) => DeliveryType::parse(t)
                .filter(|d| {
                    matches!(
                        d,
                        DeliveryType::Upload | DeliveryType::Private | DeliveryType::Authenticated
                    )
                })
                .ok_or_else(|| {
                    ServiceError::BadInput(format!(
                        "Invalid type {t:?}: expected upload, private or authenticated"
                    ))
                })?,
        };
        let public_id = choose_public_id(params, resource_type, original_name.as_ref())?;
        let signed = matches!(caller, Caller::Signed);
        let placing = Placing {
            cloud,
            resource_type,
            delivery_type,
            public_id,
            overwrite: signed && params.bool("overwrite")?.unwrap_or(true),
            media,
            original_name,
            format: None,
        };
        self.place(placing, file, params).await
    }

    /// Stores a probed file as the asset `p` describes (a new version when one exists and may
    /// be overwritten), with the tags and context of `params`.
    pub(super) async fn place(
        &self,
        p: Placing<'_>,
        file: StagedFile,
        params: &Params,
    ) -> Result<Uploaded, ServiceError> {
        let existing = self
            .catalog
            .find_asset(p.cloud, p.resource_type, p.delivery_type, &p.public_id)
            .await?;
        if let Some(asset) = existing.as_ref().filter(|_| !p.overwrite) {
            return Ok(Uploaded {
                asset: asset.clone(),
                existing: true,
                overwritten: false,
            });
        }

        let metadata = self
            .metadata_assignment(p.cloud, params.get("metadata"), existing.is_none(), false)
            .await?;
        let now = Utc::now();
        let version = match &existing {
            Some(old) if old.version >= now.timestamp() => old.version + 1,
            _ => now.timestamp(),
        };
        let asset_id = existing
            .as_ref()
            .map_or_else(crate::ids::hex32, |a| a.asset_id.clone());
        let version_id = crate::ids::hex32();
        let format = p
            .media
            .as_ref()
            .map(|m| m.format.clone())
            .or_else(|| p.format.clone())
            .unwrap_or_default();
        let context = match params.get("context") {
            Some(raw) => parse_context(raw)?,
            None => BTreeMap::new(),
        };
        let new = NewAsset {
            cloud: p.cloud.to_string(),
            blob_key: format!(
                "{}/{}/{asset_id}/{version_id}",
                p.cloud,
                p.resource_type.as_str()
            ),
            asset_id,
            resource_type: p.resource_type,
            delivery_type: p.delivery_type,
            public_id: p.public_id,
            format,
            version,
            version_id,
            bytes: file.len() as i64,
            width: p.media.as_ref().and_then(|m| m.width).map(i64::from),
            height: p.media.as_ref().and_then(|m| m.height).map(i64::from),
            etag: file.md5_hex(),
            original_filename: p.original_name.map(|n| n.0),
            media: p.media,
            context,
            tags: params.list("tags"),
            now,
            metadata,
            backup: params.bool("backup")?.unwrap_or(self.backup),
        };
        let asset = self.commit(new, file).await?;
        Ok(Uploaded {
            asset,
            existing: false,
            overwritten: existing.is_some(),
        })
    }

    /// Moves the blob into place and writes the row; on failure nothing becomes visible.
    async fn commit(&self, new: NewAsset, file: StagedFile) -> Result<Asset, ServiceError> {
        self.catalog.expect_blob(&new.blob_key).await?;
        if let Err(e) = self.store.put(&new.blob_key, file).await {
            self.discard_blob(&new.blob_key).await;
            return Err(e.into());
        }
        match self.catalog.put_asset(&new).await {
            Ok((asset, replaced)) => {
                if let Some(old) = replaced {
                    self.discard_blob(&old).await;
                    // Outputs of the previous version are stale now.
                    self.purge_derived(&asset.asset_id, None).await?;
                }
                Ok(asset)
            }
            Err(e) => {
                self.discard_blob(&new.blob_key).await;
                Err(e.into())
            }
        }
    }

    /// Decides the resource type by probing, refusing files that are not what was declared.
    pub(super) async fn classify(
        &self,
        upload_type: UploadType,
        file: &StagedFile,
        ext_hint: Option<&str>,
    ) -> Result<(ResourceType, Option<MediaInfo>), ServiceError> {
        if upload_type == UploadType::Raw {
            return Ok((ResourceType::Raw, None));
        }
        let path = file.path().to_path_buf();
        let max_pixels = self.limits.max_image_pixels;
        let probed = match &self.isolation {
            Some(isolation) => isolation.probe(&path, ext_hint, max_pixels).await,
            None => {
                let hint = ext_hint.map(str::to_string);
                tokio::task::spawn_blocking(move || {
                    engine::probe(&path, hint.as_deref(), max_pixels)
                })
                .await
                .map_err(|e| ServiceError::Media {
                    what: "Probing the upload".into(),
                    source: engine::EngineError::Task(e.to_string()),
                })?
            }
        };
        match (upload_type, probed) {
            (UploadType::Image | UploadType::Auto, Ok(m)) if m.kind == MediaKind::Image => {
                Ok((ResourceType::Image, Some(m)))
            }
            (UploadType::Video | UploadType::Auto, Ok(m)) if m.kind != MediaKind::Image => {
                Ok((ResourceType::Video, Some(m)))
            }
            (_, Err(e @ engine::EngineError::TooManyPixels { .. })) => Err(ServiceError::Media {
                what: "Invalid file".into(),
                source: e,
            }),
            // The server could not probe (no worker): not the file's fault, and not raw.
            (_, Err(e)) if e.kind() == crate::error::ErrorKind::Internal => {
                Err(ServiceError::Media {
                    what: "Probing the upload".into(),
                    source: e,
                })
            }
            (UploadType::Auto, Err(_)) => Ok((ResourceType::Raw, None)),
            (UploadType::Image, Ok(m)) => Err(ServiceError::BadInput(format!(
                "Invalid image file: it is {} ({}); upload it with resource_type video",
                kind_name(m.kind),
                m.container
            ))),
            (UploadType::Video, Ok(_)) => Err(ServiceError::BadInput(
                "Invalid video file: it is a still image; upload it with resource_type image"
                    .into(),
            )),
            (UploadType::Image, Err(e)) => Err(ServiceError::Media {
                what: "Invalid image file".into(),
                source: e,
            }),
            (_, Err(e)) => Err(ServiceError::Media {
                what: "Invalid video file".into(),
                source: e,
            }),
            (UploadType::Raw, Ok(_)) | (UploadType::Auto, Ok(_)) => Ok((ResourceType::Raw, None)),
        }
    }

    /// The upload's size, and a video's length and frame size, against the limits.
    pub(super) fn check_limits(
        &self,
        resource_type: ResourceType,
        bytes: u64,
        media: Option<&MediaInfo>,
    ) -> Result<(), ServiceError> {
        self.check_size(resource_type, bytes)?;
        match media {
            Some(m) if resource_type == ResourceType::Video => self.check_video(m),
            _ => Ok(()),
        }
    }

    /// A video's length and frame size against the limits.
    fn check_video(&self, media: &MediaInfo) -> Result<(), ServiceError> {
        let seconds = media.duration.unwrap_or(0.0);
        let max_seconds = self.limits.max_video_seconds;
        if seconds > max_seconds as f64 {
            return Err(ServiceError::TooLarge(format!(
                "Video is too long: {seconds:.1} s is more than the maximum of {max_seconds} s"
            )));
        }
        let (width, height) = (media.width.unwrap_or(0), media.height.unwrap_or(0));
        let max_pixels = self.limits.max_video_pixels;
        if u64::from(width) * u64::from(height) > max_pixels {
            return Err(ServiceError::TooLarge(format!(
                "Video resolution too large: {width}x{height} is more than the maximum of \
                 {max_pixels} pixels"
            )));
        }
        Ok(())
    }

    fn check_size(&self, resource_type: ResourceType, bytes: u64) -> Result<(), ServiceError> {
        let limit = match resource_type {
            ResourceType::Image => self.limits.max_image_bytes,
            ResourceType::Video => self.limits.max_video_bytes,
            ResourceType::Raw => self.limits.max_raw_bytes,
        };
        if bytes > limit {
            return Err(ServiceError::TooLarge(format!(
                "File size too large. Got {bytes}. Maximum is {limit}."
            )));
        }
        Ok(())
    }
}

fn kind_name(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "an image",
        MediaKind::Video => "a video",
        MediaKind::Audio => "audio",
    }
}

/// `/tmp/x/My Photo.JPG` → (`My Photo`, `jpg`): the basename without extension, and the extension.
pub(super) fn base_name(filename: &str) -> Option<(String, Option<String>)> {
    let base = filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(filename)
        .trim();
    if base.is_empty() {
        return None;
    }
    Some(match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => {
            (stem.to_string(), Some(ext.to_ascii_lowercase()))
        }
        _ => (base.to_string(), None),
    })
}

fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// `folder` + (`public_id` | the filename | a random id), checked for path tricks.
fn choose_public_id(
    params: &Params,
    resource_type: ResourceType,
    original: Option<&(String, Option<String>)>,
) -> Result<String, ServiceError> {
    let folder = params
        .get("folder")
        .map(|f| f.trim_matches('/'))
        .unwrap_or("");
    if !folder.is_empty() {
        validate_public_id(folder)?;
    }
    let raw_ext = || match (resource_type, original.and_then(|o| o.1.as_ref())) {
        (ResourceType::Raw, Some(ext)) => format!(".{ext}"),
        _ => String::new(),
    };
    let name = if let Some(id) = params.get("public_id") {
        id.to_string()
    } else if params.bool("use_filename")?.unwrap_or(false) && original.is_some() {
        let stem: String = original
            .map(|o| o.0.as_str())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let unique = params.bool("unique_filename")?.unwrap_or(true);
        let suffix = if unique {
            format!("_{}", random_id(6))
        } else {
            String::new()
        };
        format!("{stem}{suffix}{}", raw_ext())
    } else {
        format!("{}{}", random_id(20), raw_ext())
    };
    let id = if folder.is_empty() {
        name
    } else {
        format!("{folder}/{name}")
    };
    validate_public_id(&id)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut p = Params::new();
        for (k, v) in pairs {
            p.push(k, *v);
        }
        p
    }

    #[test]
    fn public_id_rules() {
        let photo = (String::from("My Photo"), Some(String::from("jpg")));
        let id = |pairs: &[(&str, &str)], rt| choose_public_id(&params(pairs), rt, Some(&photo));
        assert_eq!(
            id(&[("public_id", "a/b")], ResourceType::Image).unwrap(),
            "a/b"
        );
        assert_eq!(
            id(
                &[("public_id", "b"), ("folder", "/f/")],
                ResourceType::Image
            )
            .unwrap(),
            "f/b"
        );
        assert_eq!(
            id(
                &[("use_filename", "1"), ("unique_filename", "0")],
                ResourceType::Image
            )
            .unwrap(),
            "My_Photo"
        );
        assert_eq!(
            id(
                &[("use_filename", "true"), ("unique_filename", "false")],
                ResourceType::Raw
            )
            .unwrap(),
            "My_Photo.jpg"
        );
        let unique = id(&[("use_filename", "1")], ResourceType::Image).unwrap();
        assert!(
            unique.starts_with("My_Photo_") && unique.len() == "My_Photo_".len() + 6,
            "{unique}"
        );
        assert_eq!(id(&[], ResourceType::Video).unwrap().len(), 20);
        assert!(id(&[("public_id", "../etc/passwd")], ResourceType::Raw).is_err());
        assert!(id(&[("public_id", "/abs")], ResourceType::Raw).is_err());
        assert!(
            id(
                &[("public_id", "x"), ("folder", "a/../..")],
                ResourceType::Raw
            )
            .is_err()
        );
    }

    #[test]
    fn base_names_from_sdk_filenames() {
        assert_eq!(
            base_name("/tmp/dir/clip.MP4"),
            Some(("clip".into(), Some("mp4".into())))
        );
        assert_eq!(base_name("stream"), Some(("stream".into(), None)));
        assert_eq!(base_name(".hidden"), Some((".hidden".into(), None)));
        assert_eq!(base_name(""), None);
    }
}
