//! Backups and restore. With backup on, every uploaded version of an asset is kept (see
//! `catalog::versions`); `restore` makes a kept version current again, for an asset that was
//! overwritten or deleted, and deleting backups lets their files go.
//!
//! A restore checks every requested version before it changes anything, so a request naming
//! a version that never existed is refused whole.

use chrono::Utc;

use super::{Kino, ServiceError};
use crate::catalog::{Asset, AssetVersion, NewAsset};
use crate::url::{DeliveryType, ResourceType};

/// What a restore request names: assets by public id (of one resource type and type) or by
/// asset id.
#[derive(Debug, Clone, Copy)]
pub enum RestoreBy {
    PublicIds(ResourceType, DeliveryType),
    AssetIds,
}

/// The outcome for one requested asset.
#[derive(Debug)]
pub enum Restored {
    Done(Box<Asset>),
    /// No backed-up version other than the current one.
    NoBackup,
}

/// One requested asset: what is current under its name, and the version chosen.
struct Choice {
    key: String,
    current: Option<Asset>,
    version: Option<AssetVersion>,
}

impl Kino {
    /// Restores each of `keys` (public ids or asset ids, per `by`) to its version in
    /// `versions` at the same position (an empty or missing entry means the latest kept
    /// version that is not the current one). Answers in the order asked.
    pub async fn restore(
        &self,
        cloud: &str,
        by: RestoreBy,
        keys: &[String],
        versions: &[String],
    ) -> Result<Vec<(String, Restored)>, ServiceError> {
        if keys.is_empty() {
            return Err(ServiceError::BadInput(
                "Missing required parameter - public_ids".into(),
            ));
        }
        if versions.len() > keys.len() {
            return Err(ServiceError::BadInput(format!(
                "{} versions given for {} assets",
                versions.len(),
                keys.len()
            )));
        }
        let mut choices = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let wanted = versions
                .get(i)
                .map(String::as_str)
                .filter(|v| !v.is_empty());
            choices.push(self.choose_version(cloud, by, key, wanted).await?);
        }
        let mut out = Vec::with_capacity(choices.len());
        for choice in choices {
            let restored = match choice.version {
                Some(version) => {
                    Restored::Done(Box::new(self.make_current(choice.current, version).await?))
                }
                None => Restored::NoBackup,
            };
            out.push((choice.key, restored));
        }
        Ok(out)
    }

    async fn choose_version(
        &self,
        cloud: &str,
        by: RestoreBy,
        key: &str,
        wanted: Option<&str>,
    ) -> Result<Choice, ServiceError> {
        let (current, kept) = match by {
            RestoreBy::PublicIds(rt, dt) => (
                self.catalog.find_asset(cloud, rt, dt, key).await?,
                self.catalog.versions_at(cloud, rt, dt, key).await?,
            ),
            RestoreBy::AssetIds => {
                let current = self
                    .catalog
                    .assets_by_ids(&[key.to_string()])
                    .await?
                    .pop()
                    .filter(|a| a.cloud == cloud);
                let current = match current {
                    Some(a) => {
                        self.catalog
                            .find_asset(cloud, a.resource_type, a.delivery_type, &a.public_id)
                            .await?
                    }
                    None => None,
                };
                (current, self.catalog.versions(cloud, key).await?)
            }
        };
        let version =
            match wanted {
                Some(id) => Some(kept.into_iter().find(|v| v.version_id == id).ok_or_else(
                    || {
                        ServiceError::NotFound(format!(
                            "Version {id} of {key} not found in the backups"
                        ))
                    },
                )?),
                None => kept
                    .into_iter()
                    .find(|v| current.as_ref().is_none_or(|c| c.blob_key != v.blob_key)),
            };
        Ok(Choice {
            key: key.to_string(),
            current,
            version,
        })
    }

    /// Makes `version` the current version of its public id, as a new version number; the
    /// replaced file goes unless it is backed up too, and derived files are made again.
    async fn make_current(
        &self,
        current: Option<Asset>,
        version: AssetVersion,
    ) -> Result<Asset, ServiceError> {
        let now = Utc::now();
        let number = match &current {
            Some(c) if c.version >= now.timestamp() => c.version + 1,
            _ => now.timestamp(),
        };
        let new = NewAsset {
            cloud: version.cloud,
            asset_id: version.asset_id,
            resource_type: version.resource_type,
            delivery_type: version.delivery_type,
            public_id: version.public_id,
            format: version.format,
            version: number,
            version_id: version.version_id,
            bytes: version.bytes,
            width: version.width,
            height: version.height,
            etag: version.etag,
            blob_key: version.blob_key,
            original_filename: version.original_filename,
            media: version.media,
            context: current
                .as_ref()
                .map(|c| c.context.clone())
                .unwrap_or_default(),
            tags: current.map(|c| c.tags).unwrap_or_default(),
            now,
            metadata: crate::metadata::Assignment::default(),
            backup: false,
        };
        let (asset, replaced) = self.catalog.put_asset(&new).await?;
        if let Some(old) = replaced {
            self.discard_blob(&old).await;
        }
        self.purge_derived(&asset.asset_id, None).await?;
        Ok(asset)
    }

    /// Forgets backed-up versions of an asset; returns the ids that existed.
    pub async fn delete_backups(
        &self,
        cloud: &str,
        asset_id: &str,
        version_ids: &[String],
    ) -> Result<Vec<String>, ServiceError> {
        if version_ids.is_empty() {
            return Err(ServiceError::BadInput(
                "Missing required parameter - version_ids".into(),
            ));
        }
        let deleted = self
            .catalog
            .delete_versions(cloud, asset_id, version_ids)
            .await?;
        let mut ids = Vec::with_capacity(deleted.len());
        for (id, key) in deleted {
            self.discard_blob(&key).await;
            ids.push(id);
        }
        Ok(ids)
    }
}
